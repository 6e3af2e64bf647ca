"""Settings an admin changes in the dashboard, kept in the `settings` table (which this module
owns). They take precedence over the environment; each process applies them, and the secrets
set in the dashboard (hub/admin/secrets.py), when it starts and again within seconds of a
change (hub/admin/live.py).

Only settings that are safe to change while data exists are editable: the embedder is not
(switching it needs a re-embed). Secrets have their own write-only table and API.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from core.config import Settings, field_adapter, said
from core.db import Database
from hub.admin import secrets as admin_secrets

log = logging.getLogger(__name__)

EDITABLE = ("chat_model", "openai_base_url", "llm_timeout", "daily_token_budget", "user_rate_limit", "public_url")


class SettingError(ValueError):
    pass


def stored(db: Database) -> dict[str, Any]:
    with db.connection() as conn:
        return {row["name"]: row["value"] for row in conn.execute("SELECT name, value FROM settings")
                if row["name"] in EDITABLE}


def save(db: Database, changes: dict[str, Any], user_id: uuid.UUID | None) -> None:
    """Store the changes in one transaction; a None value goes back to the environment's."""
    checked = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise SettingError(f"{name}: not a setting the dashboard can change "
                               f"(editable: {', '.join(EDITABLE)})")
        if isinstance(value, str) and not value.strip():
            raise SettingError(f"{name}: must not be blank (null puts back the environment's value)")
        if value is not None:
            try:
                value = field_adapter(name).validate_python(value, strict=True)
            except ValidationError as exc:
                raise SettingError(f"{name}: {said(exc.errors()[0])}") from None
        checked[name] = value
    with db.connection() as conn, conn.transaction():
        for name, value in checked.items():
            if value is None:
                conn.execute("DELETE FROM settings WHERE name = %s", (name,))
            else:
                conn.execute(
                    "INSERT INTO settings (name, value, updated_by) VALUES (%s, %s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                    "updated_by = excluded.updated_by, updated_at = now()",
                    (name, Jsonb(value), user_id))


def applied(db: Database, settings: Settings) -> Settings:
    """The settings with the dashboard's changes and secrets on top. Before the migrations that
    make their tables have run (a first start) there are none; with the database down the
    process still starts, on the environment's settings, so that /readyz can say what is wrong."""
    try:
        return overlaid(db, settings)
    except psycopg.errors.UndefinedTable:
        return settings
    except psycopg.OperationalError as exc:
        log.warning("dashboard settings not applied: cannot reach PostgreSQL (%s)", exc)
        return settings


def overlaid(db: Database, settings: Settings) -> Settings:
    """`applied`, raising what PostgreSQL raises: a process that already runs on the dashboard's
    settings keeps them through an outage rather than fall back to the environment's. A secret
    that no longer opens (MORNINGAI_SECRET_KEY changed without a rotation) is left to the
    environment, with a warning."""
    changes = stored(db)
    secrets, unreadable = admin_secrets.opened(db, settings)
    if unreadable:
        log.warning("secrets set in the dashboard do not decrypt with MORNINGAI_SECRET_KEY, using the environment's "
                    "instead: %s (was the key changed without `morningai rotate-secret-key`? set them again in "
                    "Settings)", ", ".join(unreadable))
    changes.update(secrets)
    return settings.model_copy(update=changes) if changes else settings
