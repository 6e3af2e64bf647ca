"""`morningai discord invite-url`, `sync-commands`, `map`, `guilds` and `follow-ups`, run as a user runs them,
against the test's database. (What follow-ups change in the bot's behaviour is in
test_discord_gateway.py.)"""

import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT
from fakes.discord_server import FakeDiscord

from core import workspaces
from hub.admin import secrets as admin_secrets

APP = "900000000000000002"
GUILD = "900000000000000003"
CHANNEL = "900000000000000004"


@pytest.fixture
def morningai(hub_env):
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hub", "discord", *args], env={**hub_env, **env}, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    return run


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip()


def test_sync_commands_uses_a_bot_token_set_in_the_dashboard(morningai, rt):
    with FakeDiscord() as discord:
        env = {"DISCORD_APPLICATION_ID": APP, "DISCORD_API_URL": discord.api_url, "DISCORD_GUILD_IDS": GUILD}
        missing = morningai("sync-commands", **env)
        assert missing.returncode == 1 and _one_line(missing).startswith("error: set DISCORD_BOT_TOKEN")
        admin_secrets.save(rt.db, rt.settings, "discord_bot_token", "dashboard-token", None)
        synced = morningai("sync-commands", **env)
        assert synced.returncode == 0, synced.stderr
        assert f"guild {GUILD}: commands updated" in synced.stdout
        (put,) = discord.calls("PUT /applications/{application_id}/commands")
        assert put.headers["Authorization"] == "Bot dashboard-token"


def test_invite_url_asks_for_the_scopes_and_permissions_the_bot_uses(morningai):
    result = morningai("invite-url", DISCORD_APPLICATION_ID=APP, COLUMNS="300")
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.splitlines()[0])
    query = {key: value for key, (value,) in parse_qs(url.query).items()}
    assert (url.netloc, url.path) == ("discord.com", "/oauth2/authorize")
    assert query["client_id"] == APP and query["scope"] == "bot applications.commands"
    permissions = int(query["permissions"])
    # View Channel, Send Messages, Read Message History, Add Reactions, Embed Links, Create
    # Public Threads (a long answer's thread), Send Messages in Threads, Manage Threads (a
    # resolved forum post's Solved tag).
    for bit in (10, 11, 16, 6, 14, 35, 38, 34):
        assert permissions & (1 << bit), bit
    assert not permissions & (1 << 3)  # never Administrator

    missing = morningai("invite-url", DISCORD_APPLICATION_ID="")
    assert missing.returncode == 2 and "DISCORD_APPLICATION_ID" in _one_line(missing)


def test_guilds_are_mapped_to_workspaces_and_listed(morningai, rt):
    workspaces.ensure(rt.db, "ops")
    empty = morningai("guilds")
    assert empty.returncode == 0 and "every guild is answered from workspace 'default'" in empty.stdout

    mapped = morningai("map", GUILD, "ops")
    assert mapped.returncode == 0, mapped.stderr
    assert f"guild {GUILD} is answered from workspace 'ops'" in mapped.stdout
    listed = morningai("guilds", COLUMNS="200")
    assert listed.returncode == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()[1:]] == [[GUILD, "ops"]]


def test_bad_input_is_one_line_naming_it_and_exit_code_2(morningai):
    for args, complaint in [
        (("map", "my-server", "ops"), "GUILD: 'my-server' is not a Discord id"),
        (("map", "12345", "default"), "GUILD: '12345' is not a Discord id"),
        (("map", GUILD, "nowhere"), "WORKSPACE: no workspace named 'nowhere'"),
        (("follow-ups", "#general", "on"), "channel: '#general' is not a Discord channel id"),
    ]:
        result = morningai(*args)
        assert result.returncode == 2 and _one_line(result).startswith(f"error: {complaint}"), args
    assert morningai("guilds").stdout.startswith("no guild is mapped")  # nothing was stored


def test_follow_ups_are_switched_on_and_off(morningai):
    on = morningai("follow-ups", CHANNEL, "on")
    assert on.returncode == 0 and f"thread follow-ups in {CHANNEL}: on" in on.stdout
    off = morningai("follow-ups", CHANNEL, "off")
    assert off.returncode == 0 and f"thread follow-ups in {CHANNEL}: off" in off.stdout
