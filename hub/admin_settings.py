"""Settings an admin changes in the dashboard, kept in the `settings` table (which this module
owns). They take precedence over the environment; each process applies them when it starts.

Only settings that are safe to change while data exists are editable: the embedder is not
(switching it needs a re-embed), nor are secrets, which stay in the environment.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter, ValidationError

from hub.config import Settings
from hub.db import Database

log = logging.getLogger(__name__)

EDITABLE = ("chat_model", "openai_base_url", "llm_timeout", "daily_token_budget", "user_rate_limit")


class SettingError(ValueError):
    pass


def _validator(name: str) -> TypeAdapter:
    # The same type and bounds the environment variable is checked against.
    field = Settings.model_fields[name]
    return TypeAdapter(Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation)


def variable(name: str) -> str:
    return Settings.model_fields[name].validation_alias.choices[0]


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
                value = _validator(name).validate_python(value, strict=True)
            except ValidationError as exc:
                raise SettingError(f"{name}: {exc.errors()[0]['msg']}") from None
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
    """The settings with the dashboard's changes on top. Before the migration that makes the
    table has run (a first start) there are none; with the database down the process still
    starts, on the environment's settings, so that /readyz can say what is wrong."""
    try:
        changes = stored(db)
    except psycopg.errors.UndefinedTable:
        return settings
    except psycopg.OperationalError as exc:
        log.warning("dashboard settings not applied: cannot reach PostgreSQL (%s)", exc)
        return settings
    return settings.model_copy(update=changes) if changes else settings
