"""Secrets an admin sets in the dashboard, kept sealed in the `secrets` table (which this module
owns). Write-only: an admin can set or clear one, the API says whether each is set and where
from, and only a process starting up opens them, to lay them over the environment's.

They are sealed with a key derived from MORNINGAI_SECRET_KEY, which is therefore not among
them; nor is MORNINGAI_PREVIOUS_SECRET_KEY (rotation), or MORNINGAI_ADMIN_PASSWORD, which only
makes the first account and is read by `morningai ask` from the environment.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from psycopg import Connection
from pydantic import ValidationError

from core.config import Settings, field_adapter, variable
from core.crypto import SecretBox, UnreadableSecret
from core.db import Database

log = logging.getLogger(__name__)

EDITABLE = ("openai_api_key", "slack_signing_secret", "slack_bot_token", "slack_client_secret",
            "discord_bot_token", "discord_public_key")
PURPOSE = "dashboard secrets"
# Far above any token or key these are, far below what a careless paste of a file would be.
MAX_CHARS = 4096


class SecretError(ValueError):
    pass


def by_variable(name: str) -> str:
    """The Settings field of an editable secret's environment variable."""
    for field in EDITABLE:
        if variable(field) == name:
            return field
    raise SecretError(f"{name}: not a secret the dashboard can set "
                      f"(these are: {', '.join(map(variable, EDITABLE))})")


def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_key, PURPOSE, settings.previous_secret_key)


def _checked(field: str, value: Any) -> Any:
    """The value as the Settings field holds it (a SecretStr, or a checked string)."""
    try:
        return field_adapter(field).validate_python(value)
    except ValidationError as exc:
        raise SecretError(f"{variable(field)}: {exc.errors()[0]['msg']}") from None


def save(db: Database, settings: Settings, field: str, value: Any, user_id: uuid.UUID | None) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SecretError(f'{variable(field)}: send JSON {{"value": "..."}} with the secret, not blank '
                          "(DELETE puts back the environment's value)")
    value = value.strip()  # a pasted token often brings a newline along
    if len(value) > MAX_CHARS:
        raise SecretError(f"{variable(field)}: longer than {MAX_CHARS} characters")
    _checked(field, value)
    with db.connection() as conn:
        conn.execute("INSERT INTO secrets (name, sealed, updated_by) VALUES (%s, %s, %s) "
                     "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, "
                     "updated_by = excluded.updated_by, updated_at = now()",
                     (field, box(settings).seal(value), user_id))


def delete(db: Database, field: str) -> bool:
    with db.connection() as conn:
        return conn.execute("DELETE FROM secrets WHERE name = %s", (field,)).rowcount == 1


def opened(db: Database, settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """The dashboard's secrets, opened and typed as Settings holds them; and the variables of
    those that no longer open (MORNINGAI_SECRET_KEY changed without a rotation)."""
    sealer, values, unreadable = box(settings), {}, []
    with db.connection() as conn:
        rows = conn.execute("SELECT name, sealed FROM secrets ORDER BY name").fetchall()
    for row in rows:
        if row["name"] not in EDITABLE:
            continue
        try:
            values[row["name"]] = _checked(row["name"], sealer.open(row["sealed"]))
        except (UnreadableSecret, SecretError):
            unreadable.append(variable(row["name"]))
    return values, unreadable


def report(environment: Settings, values: dict[str, Any], unreadable: list[str]) -> list[dict[str, Any]]:
    """Each secret: whether it is set, where from (`values`, `unreadable`: what `opened`
    found), and whether the dashboard can set it. Never a value, nor a part of one."""
    rows = []
    for field in EDITABLE:
        source = "dashboard" if field in values else "environment" if getattr(environment, field) else None
        rows.append({"variable": variable(field), "set": source is not None, "source": source, "editable": True,
                     "unreadable": variable(field) in unreadable,
                     "description": Settings.model_fields[field].description})
    rows.append({"variable": "MORNINGAI_SECRET_KEY", "set": True,
                 "source": "environment" if environment.secret_key_value else "generated", "editable": False,
                 "unreadable": False, "description": Settings.model_fields["secret_key_value"].description})
    return rows


def reseal(conn: Connection, sealer: SecretBox) -> int:
    """Seal every stored secret with the current key, inside the caller's transaction (the
    rotation reseals Slack's tokens in the same one); UnreadableSecret if one opens with
    neither key."""
    rows = conn.execute("SELECT name, sealed FROM secrets FOR UPDATE").fetchall()
    for row in rows:
        conn.execute("UPDATE secrets SET sealed = %s WHERE name = %s", (sealer.reseal(row["sealed"]), row["name"]))
    return len(rows)
