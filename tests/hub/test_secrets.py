"""Secrets set in the dashboard: write-only through the API, sealed at rest, used in place of
the environment's by the processes running and started afterwards, and never a reason not to
start."""

import hashlib
import hmac
import json
import logging
import time

import pytest
from conftest import log_in
from fakes.slack_server import FakeSlack
from support import wait_for

from hub.admin.live import LIVE_WITHIN

SECRET = "sk-dashboard-" + "q7Zp" * 10


def _secret(body: dict, variable: str) -> dict:
    return next(secret for secret in body["secrets"] if secret["variable"] == variable)


def test_a_secret_set_in_the_dashboard_is_never_returned(client, owner):
    saved = client.put("/api/secrets/OPENAI_API_KEY", json={"value": f"  {SECRET}\n"})
    assert saved.status_code == 200
    assert {key: _secret(saved.get_json(), "OPENAI_API_KEY")[key] for key in ("set", "source", "editable")} == {
        "set": True, "source": "dashboard", "editable": True}
    assert saved.get_json()["provider"] == "openai"
    bodies = [saved.get_data(as_text=True)] + [
        client.get(path).get_data(as_text=True)
        for path in ("/api/settings", "/api/integrations", "/api/health", "/api/auth/session", "/api/openapi.json")]
    for body in bodies:
        assert SECRET not in body and SECRET[:8] not in body and SECRET[-8:] not in body
    (sealed,) = owner.execute("SELECT sealed FROM secrets WHERE name = 'openai_api_key'").fetchone()
    assert SECRET.encode() not in bytes(sealed)
    key = _secret(saved.get_json(), "MORNINGAI_SECRET_KEY")
    assert (key["editable"], key["source"]) == (False, "generated")


@pytest.fixture
def key_in_environment(hub_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")


def test_processes_started_afterwards_use_the_dashboard_value(key_in_environment, client, started):
    assert client.put("/api/secrets/OPENAI_API_KEY", json={"value": SECRET}).status_code == 200
    assert started().config["MORNINGAI"].settings.openai_api_key.get_secret_value() == SECRET

    cleared = client.delete("/api/secrets/OPENAI_API_KEY")
    assert cleared.status_code == 200 and _secret(cleared.get_json(), "OPENAI_API_KEY")["source"] == "environment"
    assert started().config["MORNINGAI"].settings.openai_api_key.get_secret_value() == "sk-from-the-environment"
    assert client.delete("/api/secrets/OPENAI_API_KEY").status_code == 404  # nothing left to clear
    assert client.delete("/api/secrets/MORNINGAI_SECRET_KEY").status_code == 400


def test_slack_set_up_from_the_dashboard_answers_slack_without_a_restart(client, started, monkeypatch):
    with FakeSlack() as slack:
        slack.add_team("T1", "xoxb-from-the-dashboard")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"})

        def verify(app, secret=slack.signing_secret):
            stamp = str(int(time.time()))
            signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(),
                                         hashlib.sha256).hexdigest()
            return app.test_client().post("/slack/events", data=body, headers={
                "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature})

        running = started()
        assert verify(running).status_code == 404  # not configured yet
        for variable, value in (("SLACK_SIGNING_SECRET", slack.signing_secret),
                                ("SLACK_BOT_TOKEN", "xoxb-from-the-dashboard")):
            assert client.put(f"/api/secrets/{variable}", json={"value": value}).status_code == 200
        answered = wait_for(lambda: (r := verify(running)).status_code == 200 and r, timeout=LIVE_WITHIN,
                            what="the running app to take the saved secrets")
        assert answered.get_json() == {"challenge": "c-123"}

        # A new signing secret: requests signed with the old one are refused from then on.
        assert client.put("/api/secrets/SLACK_SIGNING_SECRET", json={"value": "rotated-signing-secret"}
                          ).status_code == 200
        wait_for(lambda: verify(running).status_code == 401, timeout=LIVE_WITHIN, what="the old secret refused")
        assert verify(running, "rotated-signing-secret").status_code == 200


def test_a_setting_saved_in_the_dashboard_reaches_a_running_process(client, started):
    running = started().config["MORNINGAI"]
    assert running.settings.chat_model != "gpt-live-test"
    assert client.put("/api/settings", json={"chat_model": "gpt-live-test"}).get_json()["note"].startswith(
        f"Changes apply within {LIVE_WITHIN} seconds")
    wait_for(lambda: running.settings.chat_model == "gpt-live-test", timeout=LIVE_WITHIN, what="the setting")
    assert client.put("/api/settings", json={"chat_model": None}).status_code == 200
    wait_for(lambda: running.settings.chat_model == running.environment.chat_model, timeout=LIVE_WITHIN,
             what="the environment's value back")


@pytest.mark.parametrize(("name", "body", "complaint"), [
    ("OPENAI_API_KEY", {"value": "   "}, 'OPENAI_API_KEY: send JSON {"value": "..."} with the secret, not blank'),
    ("OPENAI_API_KEY", {}, "OPENAI_API_KEY: send JSON"),
    ("OPENAI_API_KEY", {"value": 42}, "OPENAI_API_KEY: send JSON"),
    ("OPENAI_API_KEY", {"value": "x" * 5000}, "longer than 4096 characters"),
    ("DISCORD_PUBLIC_KEY", {"value": "not-a-key"}, "DISCORD_PUBLIC_KEY: String should match pattern"),
    ("MORNINGAI_SECRET_KEY", {"value": "new"}, "MORNINGAI_SECRET_KEY: not a secret the dashboard can set"),
    ("PATH", {"value": "/bin"}, "PATH: not a secret the dashboard can set (these are: OPENAI_API_KEY,"),
])
def test_bad_secrets_are_400_and_store_nothing(client, owner, name, body, complaint):
    response = client.put(f"/api/secrets/{name}", json=body)
    assert response.status_code == 400 and complaint in response.get_json()["error"]
    assert owner.execute("SELECT count(*) FROM secrets").fetchone()[0] == 0


def test_only_a_logged_in_admin_with_the_csrf_token_sets_secrets(app, client, anonymous_client, owner):
    viewer = log_in(app, "viewer@example.com", "just looking around", role="viewer")
    token = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    for method in ("PUT", "DELETE"):
        path = "/api/secrets/OPENAI_API_KEY"
        assert anonymous_client.open(path, method=method, json={"value": SECRET}).status_code == 401
        assert viewer.open(path, method=method, json={"value": SECRET}).status_code == 403
        assert client.open(path, method=method, json={"value": SECRET}).status_code == 403
    assert owner.execute("SELECT count(*) FROM secrets").fetchone()[0] == 0
    assert _secret(viewer.get("/api/settings").get_json(), "OPENAI_API_KEY")["set"] is False  # viewers see the list
    assert client.put("/api/secrets/OPENAI_API_KEY", json={"value": SECRET},
                      headers={"X-CSRF-Token": token}).status_code == 200


def test_a_secret_that_no_longer_opens_falls_back_to_the_environment(client, started, monkeypatch, caplog):
    assert client.put("/api/secrets/OPENAI_API_KEY", json={"value": SECRET}).status_code == 200
    # The key changed (not rotated): the stored secret cannot be opened any more.
    monkeypatch.setenv("MORNINGAI_SECRET_KEY", "an-entirely-different-key-" + "k" * 20)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    with caplog.at_level(logging.WARNING):
        app = started()
    assert app.config["MORNINGAI"].settings.openai_api_key.get_secret_value() == "sk-from-the-environment"
    (warning,) = [record.getMessage() for record in caplog.records if "do not decrypt" in record.getMessage()]
    assert "OPENAI_API_KEY" in warning and "\n" not in warning and SECRET not in warning
    reported = _secret(log_in(app).get("/api/settings").get_json(), "OPENAI_API_KEY")
    assert (reported["unreadable"], reported["source"]) == (True, "environment")
