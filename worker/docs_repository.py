"""A workspace's docs repository: the GitHub repository doc changes are proposed to as pull
requests (worker/proposals.py), with its base branch, the folder new pages go to, the FAQ file,
and a token with contents:write and pull_requests:write. This module owns the
`docs_repositories` table; the token is sealed with a key derived from MORNINGAI_SECRET_KEY and
opened only to propose.

Not a GitHub sync source's settings: a sync needs a read-only token, a proposal a writing one,
and a workspace may sync several repositories but proposes to one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from psycopg import Connection

from core.config import Settings
from core.crypto import SecretBox
from core.db import Database
from core.workspaces import Workspace

PURPOSE = "docs repository token"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# What git allows in a branch name, less the odd corners (no "..", no leading "-" or "/").
_BRANCH = re.compile(r"^(?!-|/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![/.])$")
FIELDS = ("repository", "base_branch", "docs_path", "faq_path", "api_url")
DEFAULTS = {"base_branch": "main", "docs_path": "docs/", "faq_path": "FAQ.md", "api_url": "https://api.github.com"}


class RepositoryError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class DocsRepository:
    repository: str  # owner/name
    base_branch: str
    docs_path: str  # "" (the repository's root) or a folder ending in "/"
    faq_path: str
    api_url: str
    token: str | None  # opened; None when listed for the API
    updated_at: datetime | None = None

    @property
    def owner(self) -> str:
        return self.repository.split("/")[0]

    def shown(self) -> dict[str, Any]:
        """As the API answers it: every setting but the token, which is only said to be set."""
        return {**{name: getattr(self, name) for name in FIELDS}, "token_set": True,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


def checked(raw: dict[str, Any]) -> dict[str, str]:
    """The settings as stored, defaults filled in; RepositoryError naming the first bad one."""
    unknown = sorted(set(raw) - set(FIELDS) - {"token"})
    if unknown:
        raise RepositoryError(f"{unknown[0]}: not a docs repository setting (these are: {', '.join(FIELDS)}, token)")
    values = {}
    for name in FIELDS:
        value = raw.get(name)
        if value is None or (name != "repository" and isinstance(value, str) and not value.strip()):
            value = DEFAULTS.get(name)
        if not isinstance(value, str):
            raise RepositoryError(f'{name}: give it as text (e.g. {_EXAMPLES[name]})')
        values[name] = value.strip()
    if not _REPOSITORY.match(values["repository"]):
        raise RepositoryError(f'repository: give it as "owner/name" (e.g. {_EXAMPLES["repository"]})')
    if not _BRANCH.match(values["base_branch"]):
        raise RepositoryError(f"base_branch: {values['base_branch']!r} is not a branch name (e.g. main)")
    values["docs_path"] = _folder(values["docs_path"])
    values["faq_path"] = _file(values["faq_path"])
    if urlsplit(values["api_url"]).scheme not in ("http", "https"):
        raise RepositoryError("api_url: give GitHub's API address (https://api.github.com, or "
                              "https://HOST/api/v3 for GitHub Enterprise)")
    values["api_url"] = values["api_url"].rstrip("/")
    return values


_EXAMPLES = {"repository": '"acme/handbook"', "base_branch": '"main"', "docs_path": '"docs/"',
             "faq_path": '"FAQ.md"', "api_url": '"https://api.github.com"'}


def _parts(path: str, name: str) -> list[str]:
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise RepositoryError(f"{name}: {path!r} leaves the repository; give a path inside it")
    return parts


def _folder(path: str) -> str:
    parts = _parts(path, "docs_path")
    return "/".join(parts) + "/" if parts else ""


def _file(path: str) -> str:
    parts = _parts(path, "faq_path")
    if not parts or PurePosixPath(parts[-1]).suffix.lower() not in (".md", ".markdown"):
        raise RepositoryError(f"faq_path: {path!r} is not a Markdown file's path (e.g. FAQ.md or docs/faq.md)")
    return "/".join(parts)


def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_key, PURPOSE, settings.previous_secret_key)


_COLUMNS = "repository, base_branch, docs_path, faq_path, api_url, token, updated_at"


def get(db: Database, settings: Settings, space: Workspace, *, with_token: bool = False) -> DocsRepository | None:
    with db.workspace(space.id) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM docs_repositories").fetchone()
    if row is None:
        return None
    sealed = row.pop("token")
    return DocsRepository(**row, token=box(settings).open(sealed) if with_token else None)


def save(db: Database, settings: Settings, space: Workspace, raw: dict[str, Any]) -> DocsRepository:
    """Set the workspace's docs repository. The token may be left out to keep the stored one."""
    values = checked(raw)
    token = raw.get("token")
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise RepositoryError("token: give the token as text, or leave it out to keep the stored one")
    sealed = box(settings).seal(token.strip()) if token else None
    params = {**values, "workspace": space.id, "token": sealed}
    with db.workspace(space.id) as conn:
        if sealed is None:
            if conn.execute(
                    """UPDATE docs_repositories SET repository = %(repository)s, base_branch = %(base_branch)s,
                           docs_path = %(docs_path)s, faq_path = %(faq_path)s, api_url = %(api_url)s,
                           updated_at = now()""", params).rowcount == 0:
                raise RepositoryError("token: a GitHub token with contents:write and pull_requests:write is "
                                      "needed to propose pull requests")
        else:
            conn.execute(
                """INSERT INTO docs_repositories (workspace_id, repository, base_branch, docs_path, faq_path,
                                                  api_url, token)
                   VALUES (%(workspace)s, %(repository)s, %(base_branch)s, %(docs_path)s, %(faq_path)s,
                           %(api_url)s, %(token)s)
                   ON CONFLICT (workspace_id) DO UPDATE SET
                       repository = excluded.repository, base_branch = excluded.base_branch,
                       docs_path = excluded.docs_path, faq_path = excluded.faq_path, api_url = excluded.api_url,
                       token = excluded.token, updated_at = now()""", params)
    return get(db, settings, space)


def delete(db: Database, space: Workspace) -> bool:
    with db.workspace(space.id) as conn:
        return conn.execute("DELETE FROM docs_repositories").rowcount == 1


def reseal(conn: Connection, settings: Settings, workspace_ids: list[uuid.UUID]) -> int:
    """Seal every workspace's token again with the current key (`morningai rotate-secret-key`),
    inside the caller's transaction; UnreadableSecret when one opens with neither key."""
    sealer, count = box(settings), 0
    for workspace_id in workspace_ids:
        conn.execute("SELECT set_config('app.workspace_id', %s, true)", (str(workspace_id),))
        row = conn.execute("SELECT token FROM docs_repositories").fetchone()
        if row is not None:
            conn.execute("UPDATE docs_repositories SET token = %s", (sealer.reseal(row["token"]),))
            count += 1
    return count


def how_to_set(workspace: str) -> str:
    return (f"no docs repository is set for workspace {workspace!r}: set one in the dashboard (Settings, "
            "Docs repository), with PUT /api/proposals/repository {\"repository\": \"owner/name\", \"token\": "
            f"\"...\"}}, or with `morningai docs repository OWNER/NAME --workspace {workspace}`")
