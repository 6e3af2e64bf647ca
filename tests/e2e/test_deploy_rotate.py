"""Rotating MORNINGAI_SECRET_KEY: stored Slack tokens, the secrets set in the dashboard, sources'
credentials and docs repositories' tokens stay readable throughout and end sealed with the new key, all in one transaction."""

import subprocess
import sys
import time

from conftest import ROOT
from slack_sdk.oauth.installation_store import Bot

from adapters.slack.installations import SlackInstallations
from core import workspaces
from core.config import load_settings
from hub.admin import secrets as admin_secrets
from memory import credentials, store
from worker import docs_repository

OLD, NEW = "old-" + "o" * 44, "new-" + "n" * 44


def _install(rt, team: str) -> None:
    SlackInstallations(rt.db, OLD).save_bot(Bot(
        app_id="A1", enterprise_id=None, team_id=team, team_name=team, bot_token=f"xoxb-{team}",
        bot_id="B1", bot_user_id="U1", bot_scopes=["chat:write"], installed_at=time.time()))


def _token(rt, team: str, *keys: str) -> str:
    return SlackInstallations(rt.db, *keys).find_bot(enterprise_id=None, team_id=team).bot_token


def _set_in_dashboard(rt, field: str, value: str, key: str) -> None:
    admin_secrets.save(rt.db, load_settings(MORNINGAI_SECRET_KEY=key), field, value, None)


def _dashboard_secrets(rt, *keys: str) -> dict[str, str]:
    settings = load_settings(MORNINGAI_SECRET_KEY=keys[0], MORNINGAI_PREVIOUS_SECRET_KEY=keys[1] if keys[1:] else None)
    values, unreadable = admin_secrets.opened(rt.db, settings)
    return {**{field: value.get_secret_value() for field, value in values.items()},
            **{variable: "(unreadable)" for variable in unreadable}}


def _add_source(rt, key: str):
    space, _ = workspaces.ensure(rt.db, "synced")
    sealed = credentials.seal(load_settings(MORNINGAI_SECRET_KEY=key), {"token": "ghp-source"})
    with rt.db.workspace(space.id) as conn:
        return space, store.add_source(conn, space.id, "web", "https://docs.example", "docs", {}, sealed, None)["id"]


def _source_credentials(rt, space, source_id, *keys: str) -> dict:
    settings = load_settings(MORNINGAI_SECRET_KEY=keys[0], MORNINGAI_PREVIOUS_SECRET_KEY=keys[1] if keys[1:] else None)
    with rt.db.workspace(space.id) as conn:
        return credentials.open_sealed(settings, store.source(conn, source_id)["credentials"])


def _rotate(hub_env, **keys) -> subprocess.CompletedProcess:
    env = {**hub_env, **keys}
    return subprocess.run([sys.executable, "-m", "hub", "rotate-secret-key"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_tokens_are_resealed_with_the_new_key(rt, hub_env):
    _install(rt, "T1")
    _install(rt, "T2")
    _set_in_dashboard(rt, "openai_api_key", "sk-dashboard", OLD)
    space, source_id = _add_source(rt, OLD)
    docs_repository.save(rt.db, load_settings(MORNINGAI_SECRET_KEY=OLD), space,
                         {"repository": "acme/handbook", "token": "ghp-writes"})
    assert _token(rt, "T1", NEW, OLD) == "xoxb-T1"  # both keys set: readable before the command
    assert _dashboard_secrets(rt, NEW, OLD) == {"openai_api_key": "sk-dashboard"}

    done = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY=OLD)
    assert done.returncode == 0, done.stderr
    assert ("re-encrypted 2 Slack token(s), 1 dashboard secret(s), 1 source credential(s) and 1 docs repository "
            "token(s)") in done.stdout
    assert _token(rt, "T1", NEW) == "xoxb-T1" and _token(rt, "T2", NEW) == "xoxb-T2"
    assert _dashboard_secrets(rt, NEW) == {"openai_api_key": "sk-dashboard"}
    assert _source_credentials(rt, space, source_id, NEW) == {"token": "ghp-source"}
    assert docs_repository.get(rt.db, load_settings(MORNINGAI_SECRET_KEY=NEW), space, with_token=True).token == "ghp-writes"

    again = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY=OLD)
    assert again.returncode == 0 and _token(rt, "T2", NEW) == "xoxb-T2"


def test_a_wrong_previous_key_changes_nothing(rt, hub_env):
    _install(rt, "T1")
    failed = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY="not-the-old-key")
    assert failed.returncode == 1
    assert failed.stderr.strip() == ("error: a stored Slack token opens with neither key: is "
                                     "MORNINGAI_PREVIOUS_SECRET_KEY the key the hub ran with? Nothing was changed")
    assert _token(rt, "T1", OLD) == "xoxb-T1"


def test_a_dashboard_secret_neither_key_opens_leaves_the_slack_tokens_as_they_were(rt, hub_env):
    _install(rt, "T1")
    _set_in_dashboard(rt, "slack_bot_token", "xoxb-dashboard", "a-third-key-" + "t" * 40)
    failed = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW, MORNINGAI_PREVIOUS_SECRET_KEY=OLD)
    assert failed.returncode == 1
    assert failed.stderr.strip() == ("error: a secret set in the dashboard opens with neither key: is "
                                     "MORNINGAI_PREVIOUS_SECRET_KEY the key the hub ran with? Nothing was changed")
    assert _token(rt, "T1", OLD) == "xoxb-T1"  # the token resealed before the failure was rolled back


def test_both_keys_are_required(hub_env):
    refused = _rotate(hub_env, MORNINGAI_SECRET_KEY=NEW)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: set MORNINGAI_SECRET_KEY to the new key and MORNINGAI_PREVIOUS")
