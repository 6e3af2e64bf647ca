"""The guided connection: Slack's app manifest filled in with the hub's public URL, the link that
creates the app from it, Discord's invite and interactions URLs; and what is said while the
public URL is missing or one Slack cannot reach."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from conftest import log_in

from adapters.slack import bolt_app
from hub.web.app import create_app

PUBLIC = "https://hub.example.org/morningai"
APPLICATION_ID = "123456789012345678"


@pytest.fixture
def public_url(hub_env, monkeypatch):
    monkeypatch.setenv("MORNINGAI_PUBLIC_URL", PUBLIC + "/")  # the trailing slash is dropped


@pytest.fixture
def no_public_url(hub_env, monkeypatch):
    monkeypatch.delenv("MORNINGAI_PUBLIC_URL", raising=False)


def _urls(manifest: dict) -> list[str]:
    return [manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"],
            *[command["url"] for command in manifest["features"]["slash_commands"]],
            *manifest["oauth_config"]["redirect_urls"]]


def test_the_slack_manifest_calls_the_hub_at_its_public_url(public_url, client):
    answer = client.get("/api/integrations/slack/manifest")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["public_url"] == PUBLIC
    assert _urls(body["json"]) == [f"{PUBLIC}/slack/events"] * 3 + [f"{PUBLIC}/slack/oauth_redirect"]
    assert "YOUR-HUB" not in body["yaml"] and "YOUR-HUB" not in json.dumps(body["json"])
    # The YAML is the same manifest, with the file's comments saying why each scope is asked for.
    assert yaml.safe_load(body["yaml"]) == body["json"]
    assert "# :eyes: while a question is worked on" in body["yaml"]
    assert body["json"]["oauth_config"]["scopes"]["bot"] == bolt_app.SCOPES

    link = urlsplit(body["create_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "api.slack.com", "/apps")
    query = parse_qs(link.query)
    assert query["new_app"] == ["1"]
    assert json.loads(query["manifest_json"][0]) == body["json"]


@pytest.mark.parametrize(("value", "says"), [
    (None, "Set this hub's public URL first (MORNINGAI_PUBLIC_URL, in Settings or the hub's environment)"),
    ("http://hub.example.org", "The public URL http://hub.example.org is not https"),
    ("https://localhost:8000", "The public URL https://localhost:8000 is this machine's own name, which Slack cannot reach"),
])
def test_without_a_public_url_slack_can_reach_it_says_what_to_set(no_public_url, monkeypatch, value, says):
    if value:
        monkeypatch.setenv("MORNINGAI_PUBLIC_URL", value)
    app = create_app()
    try:
        answer = log_in(app).get("/api/integrations/slack/manifest")
    finally:
        app.config["MORNINGAI"].close()
    assert answer.status_code == 409
    message = answer.get_json()["error"]
    assert message.startswith(says)
    assert "an https address that reaches this hub from the internet" in message


def test_discord_gets_the_invite_url_and_the_interactions_url_the_hub_answers_at(public_url, monkeypatch):
    monkeypatch.setenv("DISCORD_APPLICATION_ID", APPLICATION_ID)
    monkeypatch.setenv("DISCORD_PUBLIC_KEY", "ab" * 32)
    app = create_app()  # started with the application and its key
    try:
        body = log_in(app).get("/api/integrations/discord/setup").get_json()
        assert body["interactions_url"] == f"{PUBLIC}/discord/interactions"
        assert body["interactions_url_problem"] is None and body["invite_url_problem"] is None
        # The hub answers there: an unsigned request is refused, as Discord's probes must be.
        path = urlsplit(body["interactions_url"]).path.removeprefix(urlsplit(PUBLIC).path)
        assert app.test_client().post(path, json={"type": 1}).status_code == 401
    finally:
        app.config["MORNINGAI"].close()
    invite = urlsplit(body["invite_url"])
    assert (invite.netloc, invite.path) == ("discord.com", "/oauth2/authorize")
    query = parse_qs(invite.query)
    assert query["client_id"] == [APPLICATION_ID]
    assert query["scope"] == ["bot applications.commands"]
    assert int(query["permissions"][0]) & (1 << 11)  # Send Messages
    assert body["scopes"] == ["bot", "applications.commands"] and "Send Messages" in body["permissions"]


def test_discord_without_its_settings_says_which_is_missing(no_public_url, client):
    body = client.get("/api/integrations/discord/setup").get_json()
    assert body["interactions_url"] is None and body["invite_url"] is None
    assert "MORNINGAI_PUBLIC_URL" in body["interactions_url_problem"]
    assert "Discord sends its requests there" in body["interactions_url_problem"]
    assert body["invite_url_problem"].startswith("Set DISCORD_APPLICATION_ID")


def test_the_public_url_is_set_in_settings_checked_and_used_by_the_manifest(no_public_url, client):
    refused = client.put("/api/settings", json={"public_url": "ftp://hub.example.org"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "public_url: must be an http(s) URL, e.g. https://morningai.example.com"

    saved = client.put("/api/settings", json={"public_url": PUBLIC + "/"})
    assert saved.status_code == 200
    setting = next(s for s in saved.get_json()["settings"] if s["name"] == "public_url")
    assert (setting["value"], setting["source"], setting["variable"]) == (PUBLIC, "dashboard", "MORNINGAI_PUBLIC_URL")
    app = create_app()  # a process that applies the dashboard's settings
    try:
        body = log_in(app).get("/api/integrations/slack/manifest").get_json()
    finally:
        app.config["MORNINGAI"].close()
    assert body["public_url"] == PUBLIC
