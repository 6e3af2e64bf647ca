"""Test connection on the Integrations page: Slack's auth.test, Discord's /users/@me and the
model's /models, asked of fake platforms over HTTP with the secrets just saved in the dashboard
(no restart), answering with the platform's own words."""

import pytest
from conftest import log_in
from fakes import FakeDiscord, FakeOpenAI
from fakes.slack_server import FakeSlack


ME = "GET /users/@me"


@pytest.fixture
def platforms(hub_env, monkeypatch):
    with FakeSlack() as slack, FakeDiscord() as discord, FakeOpenAI(api_key="sk-the-right-one") as model:
        slack.add_team("T1", "xoxb-good", name="Acme")
        for name, value in (("SLACK_API_URL", slack.api_url), ("DISCORD_API_URL", discord.api_url),
                            ("OPENAI_BASE_URL", model.base_url), ("MORNINGAI_CHAT_MODEL", "gpt-4o-mini")):
            monkeypatch.setenv(name, value)
        yield slack, discord, model


@pytest.fixture
def admin(platforms, started):
    """An admin on a running app that follows the dashboard's secrets."""
    return log_in(started())


def _save(admin, variable: str, value: str) -> None:
    assert admin.put(f"/api/secrets/{variable}", json={"value": value}).status_code == 200


def _tested(admin, platform: str, ok: bool) -> dict:
    """The test's answer at once after the secret is saved: the test reads the saved settings
    first, not within the second the app otherwise allows itself."""
    body = admin.post(f"/api/integrations/{platform}/test").get_json()
    assert body["ok"] is ok, body
    return body


def test_slack_says_invalid_auth_then_who_the_bot_is(admin, platforms):
    slack, _, _ = platforms
    _save(admin, "SLACK_BOT_TOKEN", "xoxb-revoked")
    refused = _tested(admin, "slack", False)
    assert refused["answer"]["error"] == "invalid_auth" and "invalid_auth" in refused["message"]

    _save(admin, "SLACK_BOT_TOKEN", "xoxb-good")
    connected = _tested(admin, "slack", True)
    assert connected["answer"]["team_id"] == "T1" and connected["answer"]["ok"] is True
    assert [call.headers["authorization"] for call in slack.calls("auth.test")][-1] == "Bearer xoxb-good"


def test_discord_reports_its_own_refusal_then_the_bot_user(admin, platforms):
    _, discord, _ = platforms
    discord.fail_next(ME, 401, code=0, message="401: Unauthorized")
    _save(admin, "DISCORD_BOT_TOKEN", "a-bot-token")
    refused = _tested(admin, "discord", False)
    assert refused["answer"] == {"message": "401: Unauthorized", "code": 0}
    assert "401: Unauthorized" in refused["message"]

    connected = admin.post("/api/integrations/discord/test").get_json()
    assert connected["ok"] is True and connected["answer"]["bot"] is True
    assert discord.calls(ME)[-1].headers["Authorization"] == "Bot a-bot-token"


def test_the_model_server_says_the_key_is_wrong_then_lists_its_models(admin, platforms):
    _save(admin, "OPENAI_API_KEY", "sk-a-wrong-one")
    refused = _tested(admin, "model", False)
    assert "Incorrect API key provided." in refused["message"] and "(401)" in refused["message"]

    _save(admin, "OPENAI_API_KEY", "sk-the-right-one")
    connected = _tested(admin, "model", True)
    assert "gpt-4o-mini" in connected["answer"] and "offers gpt-4o-mini" in connected["message"]


def test_a_platform_that_does_not_answer_is_the_answer(admin, hub_env, monkeypatch, started):
    with FakeOpenAI() as gone:
        url = gone.base_url
    monkeypatch.setenv("OPENAI_BASE_URL", url)  # nothing listens there any more
    running = log_in(started())
    _save(running, "OPENAI_API_KEY", "sk-anything")
    refused = _tested(running, "model", False)
    assert refused["message"].startswith(f"no answer from {url.rstrip('/')}")


def test_nothing_to_test_with_is_409_and_an_unknown_platform_404(admin, anonymous_client):
    missing = admin.post("/api/integrations/slack/test")
    assert missing.status_code == 409 and missing.get_json()["error"].startswith("SLACK_BOT_TOKEN is not set")
    assert admin.post("/api/integrations/model/test").get_json()["error"].startswith("OPENAI_API_KEY is not set")
    unknown = admin.post("/api/integrations/teams/test")
    assert unknown.status_code == 404 and "slack, discord, model" in unknown.get_json()["error"]
    assert anonymous_client.post("/api/integrations/slack/test").status_code == 401
