"""Integrations with per-channel settings: the API for Slack teams, Discord guilds and channel
settings (with the fake Slack and Discord as the platforms), the CLI, and the worker honouring
a channel's settings."""

import time
import uuid

import pytest
from conftest import log_in
from fakes import FakeDiscord
from fakes.discord_server import APP_ID, GUILD_ID
from slack_sdk.oauth.installation_store import Bot
from typer.testing import CliRunner

from adapters.slack.installations import SlackInstallations
from core import workspaces
from core.config import load_settings
from core.models import ChatTask
from hub import wiring
from hub.cli import main
from hub.web.app import create_app
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from tasks import lifecycle, stats
from worker import channels, process

SLACK_CHANNEL, DISCORD_CHANNEL = "C0CHANNEL1", "900000000000000077"
OTHER_GUILD = "900000000000000099"


@pytest.fixture
def hash_embeddings(monkeypatch):
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")


@pytest.fixture
def two_sources(rt, tmp_path, hash_embeddings) -> dict[str, str]:
    """Two sources in `default`: location -> source id."""
    for name, text in (("deploy", "# Deploying\n\nDeploys run with `make deploy` after the checks pass.\n"),
                       ("oncall", "# On call\n\nThe on-call engineer deploys hotfixes with `make deploy`.\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.md").write_text(text)
        ingest(rt.db, HashEmbedder(), [str(tmp_path / name)])
    return {row["location"]: str(row["id"]) for row in _sources(rt)}


def _sources(rt) -> list[dict]:
    from memory import store
    with rt.db.workspace(workspaces.get(rt.db, "default").id) as conn:
        return store.sources(conn)


def _app_with(monkeypatch, hub_env, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    return runtime, create_app(runtime)


# --- who may do what -------------------------------------------------------------------------

ROUTES = [
    ("get", "/api/integrations/slack/teams", None),
    ("put", "/api/integrations/slack/teams/T1", {"workspace": "default"}),
    ("delete", "/api/integrations/slack/teams/T1", None),
    ("get", "/api/integrations/discord/guilds", None),
    ("put", f"/api/integrations/discord/guilds/{GUILD_ID}", {"workspace": "default"}),
    ("delete", f"/api/integrations/discord/guilds/{GUILD_ID}", None),
    ("get", "/api/channels/slack", None),
    ("put", f"/api/channels/slack/{SLACK_CHANNEL}", {"enabled": False}),
    ("delete", f"/api/channels/slack/{SLACK_CHANNEL}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_session_and_viewers_only_look(app, anonymous_client, method, path, body):
    assert getattr(anonymous_client, method)(path, json=body).status_code == 401
    viewer = log_in(app, "viewer@example.com", "a viewer's passphrase", role="viewer")
    response = getattr(viewer, method)(path, json=body)
    assert response.status_code == (200 if method == "get" else 403)
    if method != "get":  # and a change without the CSRF token is refused too
        admin = log_in(app)
        admin.environ_base.pop("HTTP_X_CSRF_TOKEN")
        assert getattr(admin, method)(path, json=body).status_code == 403


# --- channel settings ------------------------------------------------------------------------

def test_a_channels_settings_are_set_listed_changed_in_part_and_reset(client, two_sources):
    assert client.get("/api/channels/slack").get_json() == {"platform": "slack", "channels": []}
    deploy = next(id_ for location, id_ in two_sources.items() if location.endswith("deploy"))
    response = client.put(f"/api/channels/slack/{SLACK_CHANNEL}",
                          json={"enabled": False, "sources": [deploy], "kinds": ["docs", "ask", "ask"]})
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("platform", "channel", "enabled", "follow_ups", "sources", "kinds", "custom")} == {
        "platform": "slack", "channel": SLACK_CHANNEL, "enabled": False, "follow_ups": False,
        "sources": [deploy], "kinds": ["ask", "docs"], "custom": True}

    # Only what is sent changes.
    client.put(f"/api/channels/slack/{SLACK_CHANNEL}", json={"follow_ups": True, "kinds": None})
    (listed,) = client.get("/api/channels/slack").get_json()["channels"]
    assert (listed["enabled"], listed["follow_ups"], listed["sources"], listed["kinds"]) == (False, True, [deploy], None)
    assert client.get("/api/channels/discord").get_json()["channels"] == []

    assert client.delete(f"/api/channels/slack/{SLACK_CHANNEL}").status_code == 204
    assert client.get("/api/channels/slack").get_json()["channels"] == []
    assert client.delete(f"/api/channels/slack/{SLACK_CHANNEL}").status_code == 404


@pytest.mark.parametrize(("path", "body", "status", "complaint"), [
    ("/api/channels/irc/C0CHANNEL1", {"enabled": True}, 404, "platform: 'irc' is not one of slack, discord"),
    ("/api/channels/slack/general", {"enabled": True}, 400, "channel: 'general' is not a Slack channel id"),
    ("/api/channels/discord/C0CHANNEL1", {"enabled": True}, 400, "is not a Discord channel id"),
    ("/api/channels/slack/C0CHANNEL1", None, 400, "send a JSON object with any of enabled, follow_ups"),
    ("/api/channels/slack/C0CHANNEL1", {"workspace": "default"}, 400, "send a JSON object with any of"),
    ("/api/channels/slack/C0CHANNEL1", {"enabled": True, "colour": "red"}, 400, "colour: not a channel setting"),
    ("/api/channels/slack/C0CHANNEL1", {"enabled": "yes"}, 400, "enabled: must be true or false"),
    ("/api/channels/slack/C0CHANNEL1", {"kinds": ["ask", "chat"]}, 400,
     "kinds: 'chat' is not a kind; the kinds are ask, code, docs, faq, help"),
    ("/api/channels/slack/C0CHANNEL1", {"kinds": []}, 400, "to answer nothing, set enabled to false"),
    ("/api/channels/slack/C0CHANNEL1", {"sources": ["not-a-source"]}, 400,
     "sources: 'not-a-source' is not a source of workspace 'default'; workspace 'default' has: "),
    ("/api/channels/slack/C0CHANNEL1", {"sources": []}, 400, "sources: a non-empty list of source ids"),
    ("/api/channels/slack/C0CHANNEL1", {"sources": None, "workspace": "nope"}, 400, "workspace: no workspace named"),
])
def test_bad_channel_settings_are_refused_and_nothing_is_stored(client, two_sources, path, body, status, complaint):
    # Valid settings next to the bad one: nothing of the request is stored.
    valid_too = isinstance(body, dict) and set(body) & {"follow_ups", "sources", "kinds"}
    payload = {"enabled": False, **body} if valid_too else body
    response = client.put(path, json=payload)
    assert response.status_code == status and complaint in response.get_json()["error"]
    assert client.get("/api/channels/slack").get_json()["channels"] == []


def test_the_error_for_an_unknown_source_lists_the_valid_ones(client, two_sources):
    error = client.put(f"/api/channels/slack/{SLACK_CHANNEL}", json={"sources": [str(uuid.uuid4())]}).get_json()
    assert all(f"{id_} ({location})" in error["error"] for location, id_ in two_sources.items())


def test_channels_the_bot_was_asked_in_are_listed_with_their_workspace(rt, client):
    workspaces.ensure(rt.db, "support")
    lifecycle.store(rt.db, ChatTask(platform="slack", workspace="support", platform_event_id="Ev1", text="hi",
                                channel=SLACK_CHANNEL))
    (seen,) = client.get("/api/channels/slack").get_json()["channels"]
    assert (seen["channel"], seen["workspace"], seen["custom"], seen["enabled"]) == (SLACK_CHANNEL, "support", False, True)
    assert seen["last_task_at"] and seen["updated_at"] is None
    # A source list is checked against the workspace the channel is answered from.
    refused = client.put(f"/api/channels/slack/{SLACK_CHANNEL}", json={"sources": [str(uuid.uuid4())]}).get_json()
    assert "workspace 'support' has no sources yet" in refused["error"]


# --- the worker honours a channel's settings --------------------------------------------------

@pytest.fixture
def answering(slack, monkeypatch, hub_env, hash_embeddings):
    """A hub in Slack's single-workspace mode, whose worker runs here."""
    runtime, _ = _app_with(monkeypatch, hub_env, SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-one-team",
                           SLACK_API_URL=slack.api_url)
    yield runtime
    runtime.close()


def _run(rt, text: str, channel: str, kind: str = "ask") -> dict:
    """A mention in `channel`, answered by a real worker through the fake Slack."""
    ts = f"{time.time():.6f}"
    task = ChatTask(platform="slack", workspace="default", platform_event_id=str(uuid.uuid4()), text=text,
                    kind=kind, channel=channel, reply_target={"channel": channel, "thread_ts": ts, "message_ts": ts,
                                                              "team": "T1"})
    lifecycle.submit(rt.db, rt.queue, task)
    process.run_in_process(wiring.for_worker(rt))
    return lifecycle.get(rt.db, task.id)


def _cited(task: dict) -> set[str]:
    return {citation["location"].rsplit("/", 1)[-1] for citation in task["reply"]["citations"]}


def test_the_worker_skips_a_disabled_channel_refuses_other_kinds_and_searches_only_its_sources(
        answering, slack, two_sources):
    rt = answering
    channels.update(rt.db, "slack", "C0OFF", {"enabled": False})
    skipped = _run(rt, "how do we deploy?", "C0OFF")
    assert (skipped["status"], skipped["reply"], skipped["posted_id"]) == ("skipped", None, None)
    assert skipped["error"].startswith("channel disabled")
    assert not [r for r in slack.requests if r.body.get("channel") == "C0OFF"]  # no answer, not even :eyes:
    assert client_statuses(rt) == {"skipped"}

    channels.update(rt.db, "slack", "C0DOCS", {"kinds": ["docs", "help"]})
    refused = _run(rt, "how do we deploy?", "C0DOCS")
    assert refused["status"] == "posted"
    assert refused["reply"]["text"].startswith("This channel doesn't take `ask` requests; it takes `docs`, `help`.")
    assert slack.posted("C0DOCS")

    oncall = next(id_ for location, id_ in two_sources.items() if location.endswith("oncall"))
    assert _cited(_run(rt, "how do we deploy with make deploy?", "C0ALL")) == {"deploy.md", "oncall.md"}
    channels.update(rt.db, "slack", "C0ONE", {"sources": [uuid.UUID(oncall)]})
    assert _cited(_run(rt, "how do we deploy with make deploy?", "C0ONE")) == {"oncall.md"}


def client_statuses(rt) -> set[str]:
    rows, _ = stats.listing(rt.db, platform="slack")
    return {row["status"] for row in rows}


# --- Slack teams ---------------------------------------------------------------------------------

@pytest.fixture
def slack_hub(slack, monkeypatch, hub_env):
    runtime, app = _app_with(monkeypatch, hub_env, SLACK_SIGNING_SECRET=slack.signing_secret,
                             SLACK_CLIENT_ID=slack.client_id, SLACK_CLIENT_SECRET=slack.client_secret,
                             SLACK_API_URL=slack.api_url, MORNINGAI_SECRET_KEY="k" * 48)
    yield runtime, log_in(app)
    runtime.close()


def _install(runtime, slack, team: str) -> str:
    token = f"xoxb-{team}-secret"
    slack.add_team(team, token)
    SlackInstallations(runtime.db, runtime.settings.secret_key).save_bot(Bot(
        app_id="A1", enterprise_id=None, team_id=team, team_name=f"Team {team}", bot_token=token,
        bot_id="B1", bot_user_id="U1", bot_scopes=["chat:write", "commands"], installed_at=time.time()))
    return token


def test_slack_teams_are_listed_without_tokens_mapped_and_disconnected_with_a_revoke(slack_hub, slack):
    runtime, client = slack_hub
    token = _install(runtime, slack, "T0TEAM1")
    workspaces.ensure(runtime.db, "support")
    response = client.get("/api/integrations/slack/teams")
    assert token not in response.get_data(as_text=True)
    body = response.get_json()
    (team,) = body["teams"]
    assert (team["install_key"], team["team_name"], team["workspace"], team["scopes"]) == (
        "T0TEAM1", "Team T0TEAM1", "slack-t0team1", ["chat:write", "commands"])
    assert body["connect_url"] == "/slack/install" and body["single_workspace"] is None

    assert client.put("/api/integrations/slack/teams/T0TEAM1", json={"workspace": "support"}).status_code == 200
    assert client.get("/api/integrations/slack/teams").get_json()["teams"][0]["workspace"] == "support"
    unknown = client.put("/api/integrations/slack/teams/T0TEAM1", json={"workspace": "nope"})
    assert unknown.status_code == 400 and "the workspaces are default, slack-t0team1, support" in unknown.get_json()["error"]
    assert client.put("/api/integrations/slack/teams/T0TEAM1", json={"space": "x"}).status_code == 400
    assert client.put("/api/integrations/slack/teams/T0NOBODY", json={"workspace": "support"}).status_code == 404

    done = client.delete("/api/integrations/slack/teams/T0TEAM1").get_json()
    assert (done["disconnected"], done["revoked"], done["warning"]) == (True, True, None)
    (revoke,) = slack.calls("auth.revoke")
    assert revoke.headers["authorization"] == f"Bearer {token}"
    assert client.get("/api/integrations/slack/teams").get_json()["teams"] == []
    assert client.delete("/api/integrations/slack/teams/T0TEAM1").status_code == 404


def test_a_failed_revoke_still_disconnects_and_says_so(slack_hub, slack):
    runtime, client = slack_hub
    _install(runtime, slack, "T0TEAM2")
    slack.fail_next("auth.revoke", status=500)
    done = client.delete("/api/integrations/slack/teams/T0TEAM2").get_json()
    assert (done["disconnected"], done["revoked"]) == (True, False)
    assert "Slack did not revoke the token" in done["warning"] and "Manage apps" in done["warning"]
    assert client.get("/api/integrations/slack/teams").get_json()["teams"] == []


def test_single_workspace_mode_shows_its_team_as_connected(monkeypatch, hub_env):
    runtime, app = _app_with(monkeypatch, hub_env, SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-one-team")
    try:
        client = log_in(app)
        body = client.get("/api/integrations/slack/teams").get_json()
        assert body == {"teams": [], "single_workspace": {"workspace": "default", "configured_by": "SLACK_BOT_TOKEN"},
                        "connect_url": None}
        slack = next(i for i in client.get("/api/integrations").get_json()["integrations"] if i["platform"] == "slack")
        assert slack["configured"] and slack["connect_url"] is None and "xoxb-one-team" not in str(slack)
    finally:
        runtime.close()


# --- Discord guilds ------------------------------------------------------------------------------

@pytest.fixture
def discord():
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def discord_hub(discord, monkeypatch, hub_env):
    runtime, app = _app_with(monkeypatch, hub_env, DISCORD_BOT_TOKEN="test-bot-token",
                             DISCORD_APPLICATION_ID=APP_ID, DISCORD_API_URL=discord.api_url)
    yield runtime, log_in(app)
    runtime.close()


def test_discord_guilds_are_listed_mapped_and_left(discord_hub, discord):
    runtime, client = discord_hub
    lifecycle.store(runtime.db, ChatTask(platform="discord", workspace="default", platform_event_id="1", text="hi",
                                     channel=DISCORD_CHANNEL, reply_target={"guild_id": GUILD_ID}))
    body = client.get("/api/integrations/discord/guilds").get_json()
    assert [(g["guild_id"], g["workspace"], g["mapped"]) for g in body["guilds"]] == [(GUILD_ID, "default", False)]
    assert body["connect_url"].startswith(f"https://discord.com/oauth2/authorize?client_id={APP_ID}&scope=bot")
    assert body["can_leave"] is True
    integration = next(i for i in client.get("/api/integrations").get_json()["integrations"]
                       if i["platform"] == "discord")
    assert integration["connect_url"] == body["connect_url"]

    workspaces.ensure(runtime.db, "support")
    assert client.put(f"/api/integrations/discord/guilds/{GUILD_ID}", json={"workspace": "support"}).status_code == 200
    assert client.put("/api/integrations/discord/guilds/general", json={"workspace": "support"}).status_code == 400
    assert client.get("/api/integrations/discord/guilds").get_json()["guilds"][0]["workspace"] == "support"

    done = client.delete(f"/api/integrations/discord/guilds/{GUILD_ID}").get_json()
    assert (done["disconnected"], done["left"], done["warning"]) == (True, True, None)
    (leave,) = discord.calls("DELETE /users/@me/guilds/{guild_id}")
    assert leave.path == f"/users/@me/guilds/{GUILD_ID}" and leave.headers["Authorization"] == "Bot test-bot-token"
    assert GUILD_ID not in discord.guilds
    assert client.get("/api/integrations/discord/guilds").get_json()["guilds"][0]["mapped"] is False


def test_leaving_a_guild_the_bot_is_not_in_drops_the_mapping_and_says_so(discord_hub, discord):
    runtime, client = discord_hub
    client.put(f"/api/integrations/discord/guilds/{OTHER_GUILD}", json={"workspace": "default"})
    done = client.delete(f"/api/integrations/discord/guilds/{OTHER_GUILD}").get_json()
    assert (done["left"], done["disconnected"]) == (False, True) and "Unknown Guild" in done["warning"]
    missing = client.delete(f"/api/integrations/discord/guilds/{OTHER_GUILD}")
    assert missing.status_code == 404 and "is not mapped here" in missing.get_json()["error"]


# --- the command line ----------------------------------------------------------------------------

def test_channels_are_set_listed_and_reset_from_the_command_line(rt, hub_env, two_sources):
    runner = CliRunner()
    oncall = next(id_ for location, id_ in two_sources.items() if location.endswith("oncall"))
    done = runner.invoke(main.app, ["channels", "set", "slack", SLACK_CHANNEL, "--disable", "--kinds", "ask,docs",
                                   "--sources", oncall])
    assert done.exit_code == 0, done.output
    assert channels.for_task(rt.db, "slack", SLACK_CHANNEL) == channels.ChannelSettings(
        enabled=False, sources=(uuid.UUID(oncall),), kinds=("ask", "docs"))
    assert runner.invoke(main.app, ["channels", "set", "slack", SLACK_CHANNEL, "--kinds", "all"]).exit_code == 0
    assert channels.for_task(rt.db, "slack", SLACK_CHANNEL).kinds is None
    listed = runner.invoke(main.app, ["channels", "list", "slack"]).stdout
    assert f"{SLACK_CHANNEL}  no " in listed

    refused = runner.invoke(main.app, ["channels", "set", "slack", SLACK_CHANNEL, "--kinds", "chat"])
    assert isinstance(refused.exception, main.InputError) and "'chat' is not a kind" in str(refused.exception)
    assert runner.invoke(main.app, ["channels", "reset", "slack", SLACK_CHANNEL]).stdout.strip() == \
        f"{SLACK_CHANNEL}: back to the defaults"
    assert channels.for_task(rt.db, "slack", SLACK_CHANNEL) == channels.ChannelSettings()

    assert runner.invoke(main.app, ["discord", "follow-ups", DISCORD_CHANNEL, "on"]).exit_code == 0
    assert channels.listening(rt.db, "discord", DISCORD_CHANNEL).follow_ups
    refused = runner.invoke(main.app, ["discord", "follow-ups", "general", "on"])
    assert "is not a Discord channel id" in str(refused.exception)


def test_a_threads_own_settings_win_over_its_channels(rt):
    thread = "900000000000000078"
    channels.update(rt.db, "discord", DISCORD_CHANNEL, {"enabled": False})
    assert not channels.for_task(rt.db, "discord", thread, parent=DISCORD_CHANNEL).enabled
    channels.update(rt.db, "discord", thread, {"kinds": ["ask"]})
    assert channels.for_task(rt.db, "discord", thread, parent=DISCORD_CHANNEL) == channels.ChannelSettings(kinds=("ask",))
