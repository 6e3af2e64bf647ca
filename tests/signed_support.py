"""A web app in this process with Slack (on a fake Slack Web API) and Discord's HTTP interactions
configured, and the key Discord interactions are signed with: for tests that send requests as
each platform signs them, through the real adapters."""

from __future__ import annotations

import pytest
from fakes.slack_server import FakeSlack
from nacl.signing import SigningKey

from core.config import load_settings
from hub import wiring
from hub.web.app import create_app

TEAM, TOKEN = "T1", "xoxb-signed-team"
KEY = SigningKey.generate()


@pytest.fixture
def slack():
    with FakeSlack() as server:
        server.add_team(TEAM, TOKEN)
        yield server


@pytest.fixture
def app(hub_env, slack, monkeypatch):
    """A web app with Slack and Discord's HTTP interactions configured."""
    for name, value in {"SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_BOT_TOKEN": TOKEN,
                        "SLACK_API_URL": slack.api_url, "DISCORD_PUBLIC_KEY": KEY.verify_key.encode().hex()}.items():
        monkeypatch.setenv(name, value)
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    yield create_app(rt)
    rt.close()
