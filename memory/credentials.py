"""A source's credentials (a token, an email and API token), sealed at rest with a key derived
from MORNINGAI_SECRET_KEY; opened only by the worker that syncs the source."""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg import Connection

from core.config import Settings
from core.crypto import SecretBox
from memory import store

PURPOSE = "source credentials"


def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_key, PURPOSE, settings.previous_secret_key)


def seal(settings: Settings, credentials: dict[str, Any]) -> bytes | None:
    return box(settings).seal(json.dumps(credentials)) if credentials else None


def open_sealed(settings: Settings, sealed: bytes | None) -> dict[str, Any]:
    return json.loads(box(settings).open(sealed)) if sealed else {}


def reseal(conn: Connection, settings: Settings, workspace_ids: list[uuid.UUID]) -> int:
    """Seal every source's credentials again with the current key (`morningai rotate-secret-key`),
    inside the caller's transaction; UnreadableSecret when one opens with neither key."""
    sealer, count = box(settings), 0
    for workspace_id in workspace_ids:
        conn.execute("SELECT set_config('app.workspace_id', %s, true)", (str(workspace_id),))
        for source_id, sealed in store.sealed_credentials(conn):
            store.set_credentials(conn, source_id, sealer.reseal(sealed))
            count += 1
    return count
