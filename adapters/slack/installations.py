"""Slack teams that installed the app through OAuth, and the OAuth flow's one-time states.

This module owns `slack_installations` and `slack_oauth_states`. It implements slack_sdk's
InstallationStore and OAuthStateStore interfaces, so Bolt's OAuth flow stores installs here and
the composition root hands `find_bot` to the adapter. Bot tokens are stored encrypted; each team
is answered from a hub workspace of its own, `slack-<team id>`, made on its first install.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from core import workspaces
from core.crypto import SecretBox, UnreadableSecret
from core.db import Database

log = logging.getLogger(__name__)


def _install_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool) -> str | None:
    # An org-wide install answers every team of the organisation with one token.
    return enterprise_id if is_enterprise_install else team_id


class SlackInstallations(InstallationStore):
    def __init__(self, db: Database, secret_key: str, previous_key: str | None = None):
        self.db = db
        self.box = SecretBox(secret_key, "slack bot tokens", previous_key)

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        installation.set_custom_value("installer_user_id", installation.user_id)
        self.save_bot(installation.to_bot())
        log.info("Slack team %s (%s) installed the app", installation.team_id, installation.team_name)

    def save_bot(self, bot: Bot) -> None:
        key = _install_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        with self.db.connection() as conn:
            row = conn.execute("SELECT workspace_id FROM slack_installations WHERE install_key = %s",
                               (key,)).fetchone()
        # A reinstall (new scopes, new token) keeps the team's workspace.
        workspace_id = row["workspace_id"] if row else workspaces.ensure(self.db, f"slack-{key.lower()}")[0].id
        installed_at = datetime.fromtimestamp(bot.installed_at, UTC)
        with self.db.connection() as conn:
            conn.execute(
                """
                INSERT INTO slack_installations (install_key, enterprise_id, team_id, team_name, app_id,
                    is_enterprise_install, workspace_id, bot_id, bot_user_id, bot_scopes, bot_token,
                    installer_user_id, installed_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (install_key) DO UPDATE SET
                    team_name = excluded.team_name, app_id = excluded.app_id, bot_id = excluded.bot_id,
                    bot_user_id = excluded.bot_user_id, bot_scopes = excluded.bot_scopes,
                    bot_token = excluded.bot_token, installer_user_id = excluded.installer_user_id,
                    installed_at = excluded.installed_at
                """,
                (key, bot.enterprise_id, bot.team_id, bot.team_name, bot.app_id, bot.is_enterprise_install,
                 workspace_id, bot.bot_id, bot.bot_user_id, ",".join(bot.bot_scopes),
                 self.box.seal(bot.bot_token), bot.custom_values.get("installer_user_id"), installed_at))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        """The team's bot, with the hub workspace it answers from in custom_values["workspace"].
        A team of an organisation that installed org-wide is found through the organisation."""
        keys = [key for key in (_install_key(enterprise_id, team_id, bool(is_enterprise_install)),
                                enterprise_id) if key]
        if not keys:
            return None
        with self.db.connection() as conn:
            row = conn.execute(
                """SELECT i.*, w.name AS workspace FROM slack_installations i
                   JOIN workspaces w ON w.id = i.workspace_id
                   WHERE i.install_key = %s OR (i.install_key = %s AND i.is_enterprise_install)
                   ORDER BY i.is_enterprise_install LIMIT 1""",
                (keys[0], keys[-1])).fetchone()
        return _bot(row, self.box.open(row["bot_token"])) if row else None

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                            is_enterprise_install=is_enterprise_install)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id, enterprise_id=bot.enterprise_id, team_id=bot.team_id, team_name=bot.team_name,
            bot_token=bot.bot_token, bot_id=bot.bot_id, bot_user_id=bot.bot_user_id, bot_scopes=bot.bot_scopes,
            user_id=bot.custom_values.get("installer_user_id") or "", is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at, custom_values=bot.custom_values)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The app was uninstalled or its tokens revoked: forget the token (the workspace stays)."""
        with self.db.connection() as conn:
            conn.execute("DELETE FROM slack_installations WHERE install_key = %s OR install_key = %s",
                         (team_id, enterprise_id))

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        if user_id is None:  # a user's own token is never stored, so only the bot's goes
            self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def reseal_tokens(self, conn: Connection) -> int:
        """Seal every stored token with the current key, inside the caller's transaction (the
        rotation reseals the dashboard's secrets in the same one); UnreadableSecret if a token
        opens with neither key."""
        rows = conn.execute("SELECT install_key, bot_token FROM slack_installations FOR UPDATE").fetchall()
        for row in rows:
            conn.execute("UPDATE slack_installations SET bot_token = %s WHERE install_key = %s",
                         (self.box.reseal(row["bot_token"]), row["install_key"]))
        return len(rows)

    def teams(self) -> list[dict[str, Any]]:
        """Every installed team, its workspace and the scopes it granted (never its token), for
        `morningai slack teams` and the dashboard."""
        with self.db.connection() as conn:
            return conn.execute(
                """SELECT i.install_key, i.team_id, i.enterprise_id, i.team_name, i.is_enterprise_install,
                          w.name AS workspace, i.bot_scopes, i.installed_at
                   FROM slack_installations i JOIN workspaces w ON w.id = i.workspace_id ORDER BY i.installed_at"""
            ).fetchall()

    def answer_from(self, install_key: str, workspace: str) -> bool | None:
        """Answer the team from `workspace`: None when no team is installed under that key,
        False when no workspace has that name."""
        with self.db.connection() as conn:
            row = conn.execute(
                """UPDATE slack_installations i SET workspace_id = coalesce(w.id, i.workspace_id)
                   FROM (SELECT %s::text AS install_key) k LEFT JOIN workspaces w ON w.name = %s
                   WHERE i.install_key = k.install_key RETURNING w.id IS NOT NULL AS found""",
                (install_key, workspace)).fetchone()
        return None if row is None else row["found"]

    def remove(self, install_key: str) -> tuple[bool, str | None]:
        """Forget the team's install (its workspace stays): whether there was one, and its bot
        token for revoking it at Slack (None when no key we hold opens it)."""
        with self.db.connection() as conn:
            row = conn.execute("DELETE FROM slack_installations WHERE install_key = %s RETURNING bot_token",
                               (install_key,)).fetchone()
        if row is None:
            return False, None
        try:
            return True, self.box.open(row["bot_token"])
        except UnreadableSecret:
            log.warning("the token of Slack team %s opens with no key we hold: not revoked", install_key)
            return True, None


def _bot(row: dict[str, Any], token: str) -> Bot:
    return Bot(app_id=row["app_id"], enterprise_id=row["enterprise_id"], team_id=row["team_id"],
               team_name=row["team_name"], bot_token=token, bot_id=row["bot_id"], bot_user_id=row["bot_user_id"],
               bot_scopes=row["bot_scopes"], is_enterprise_install=row["is_enterprise_install"],
               installed_at=row["installed_at"].timestamp(),
               custom_values={"workspace": row["workspace"], "installer_user_id": row["installer_user_id"]})


class SlackOAuthStates(OAuthStateStore):
    """States in PostgreSQL, so any web process can finish an install another one started."""

    def __init__(self, db: Database, expiration_seconds: int = 600):
        self.db = db
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(24)
        with self.db.connection() as conn:
            conn.execute("DELETE FROM slack_oauth_states WHERE expires_at < now()")
            conn.execute("INSERT INTO slack_oauth_states (state, expires_at) "
                         "VALUES (%s, now() + make_interval(secs => %s))", (state, self.expiration_seconds))
        return state

    def consume(self, state: str) -> bool:
        with self.db.connection() as conn:
            row = conn.execute("DELETE FROM slack_oauth_states WHERE state = %s RETURNING expires_at > now() AS fresh",
                               (state,)).fetchone()
        return bool(row and row["fresh"])
