"""API tokens: what an MCP client (hub/mcp/) sends as `Authorization: Bearer mai_…`. Each is
made in the dashboard for one workspace, shown once, kept only as its SHA-256, and revocable.
This module owns the `api_tokens` table.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import workspaces
from core.db import Database

# Secret scanners (GitHub's push protection, gitleaks) find a token by a fixed prefix.
PREFIX = "mai_"
SHOWN = len(PREFIX) + 6  # the characters a list shows to tell tokens apart
MAX_NAME = 80
# last_used_at is written at most this often per token: a client's every call is not a write.
TOUCH_SECONDS = 60

_COLUMNS = """t.id, t.name, t.prefix, w.name AS workspace, t.workspace_id, u.email AS created_by,
              t.created_at, t.last_used_at, t.revoked_at"""
_FROM = ("api_tokens t JOIN workspaces w ON w.id = t.workspace_id "
         "LEFT JOIN users u ON u.id = t.created_by")


class TokenError(ValueError):
    """Bad input for a token (the message names the field)."""


@dataclass(frozen=True)
class Token:
    id: uuid.UUID
    name: str
    prefix: str
    workspace: str
    workspace_id: uuid.UUID
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """Everything but the token itself, which is never stored."""
        return {"id": str(self.id), "name": self.name, "prefix": self.prefix, "workspace": self.workspace,
                "created_by": self.created_by,
                **{key: value.isoformat() if value else None for key, value in
                   (("created_at", self.created_at), ("last_used_at", self.last_used_at),
                    ("revoked_at", self.revoked_at))}}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Database, workspace: str, name: str, user_id: uuid.UUID | None) -> tuple[str, Token]:
    """A new token for `workspace`: (the token, to show once; its record)."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise TokenError("name: say who or what will use the token, e.g. \"Claude Code, Ana's laptop\"")
    if len(name) > MAX_NAME:
        raise TokenError(f"name: at most {MAX_NAME} characters")
    space = workspaces.find(db, workspace) if isinstance(workspace, str) else None
    if space is None:
        raise TokenError(f"workspace: no workspace named {workspace!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.connection() as conn:
        token_id = conn.execute(
            "INSERT INTO api_tokens (workspace_id, name, prefix, hash, created_by) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (space.id, name, token[:SHOWN], _digest(token), user_id)).fetchone()["id"]
    return token, get(db, token_id)


def get(db: Database, token_id: uuid.UUID) -> Token | None:
    with db.connection() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE t.id = %s", (token_id,)).fetchone()
    return Token(**row) if row else None


def listing(db: Database, workspace: str | None = None) -> list[Token]:
    """Tokens newest first, revoked ones included; of one workspace when named."""
    with db.connection() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE %(workspace)s::text IS NULL "
                            "OR w.name = %(workspace)s ORDER BY t.created_at DESC",
                            {"workspace": workspace}).fetchall()
    return [Token(**row) for row in rows]


def revoke(db: Database, token_id: uuid.UUID) -> bool:
    """Revoke a live token: from now on it is refused. False when there is no live one."""
    with db.connection() as conn:
        return conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
                            (token_id,)).rowcount == 1


def authenticate(db: Database, token: str) -> Token | None:
    """The live token `token` is, noting its use; None for an unknown or revoked one."""
    if not token.startswith(PREFIX):
        return None  # not one of ours: no query
    with db.connection() as conn:
        row = conn.execute(
            f"""WITH found AS (SELECT {_COLUMNS} FROM {_FROM} WHERE t.hash = %(hash)s AND t.revoked_at IS NULL),
                     touched AS (UPDATE api_tokens SET last_used_at = now()
                                 WHERE id = (SELECT id FROM found) AND (last_used_at IS NULL OR
                                       last_used_at < now() - make_interval(secs => %(every)s)))
                SELECT * FROM found""",
            {"hash": _digest(token), "every": TOUCH_SECONDS}).fetchone()
    return Token(**row) if row else None
