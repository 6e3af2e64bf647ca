"""Rotating MORNINGAI_SECRET_KEY: stored Slack tokens stay readable throughout and end sealed
with the new key."""

import subprocess
import sys
import time

from slack_sdk.oauth.installation_store import Bot

from conftest import ROOT
from hub.installations import SlackInstallations

OLD, NEW = "old-" + "o" * 44, "new-" + "n" * 44


def _install(rt, team: str) -> None:
    SlackInstallations(rt.db, OLD).save_bot(Bot(
        app_id="A1", enterprise_id=None, team_id=team, team_name=team, bot_token=f"xoxb-{team}",
        bot_id="B1", bot_user_id="U1", bot_scopes=["chat:write"], installed_at=time.time()))


def _token(rt, team: str, *keys: str) -> str:
    return SlackInstallations(rt.db, *keys).find_bot(enterprise_id=None, team_id=team).bot_token


def _rotate(hub_env, **keys) -> subprocess.CompletedProcess:
    env = {**hub_env, **keys}
    return subprocess.run([sys.executable, "-m", "hub", "rotate-secret-key"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_tokens_are_resealed_with_the_new_key(rt, hub_env):
    _install(rt, "T1")
    _install(rt, "T2")
    assert _token(rt, "T1", NEW, OLD) == "xoxb-T1"  # both keys set: readable before the command

    done = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY=OLD)
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 2 Slack token(s)" in done.stdout
    assert _token(rt, "T1", NEW) == "xoxb-T1" and _token(rt, "T2", NEW) == "xoxb-T2"

    again = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY=OLD)
    assert again.returncode == 0 and _token(rt, "T2", NEW) == "xoxb-T2"


def test_a_wrong_previous_key_changes_nothing(rt, hub_env):
    _install(rt, "T1")
    failed = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY="not-the-old-key")
    assert failed.returncode == 1
    assert failed.stderr.strip() == ("error: a stored Slack token opens with neither key: is "
                                     "MORNINGAI_PREVIOUS_SECRET_KEY the key the hub ran with? Nothing was changed")
    assert _token(rt, "T1", OLD) == "xoxb-T1"


def test_both_keys_are_required(hub_env):
    refused = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: set MORNINGAI_SECRET_KEY to the new key and MORNINGAI_PREVIOUS")
