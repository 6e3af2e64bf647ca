"""Workspaces: the unit of isolation. Memory creates them (ingesting into a new name) and
records which embedder made a workspace's vectors, so two never mix."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from core.db import Database

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class UnknownWorkspace(LookupError):
    pass


class EmbedderMismatch(Exception):
    """The workspace was embedded with another embedder; searching or adding would mix spaces."""


@dataclass(frozen=True)
class Workspace:
    id: uuid.UUID
    name: str
    embedder: str | None
    embedding_dims: int | None


def find(db: Database, name: str) -> Workspace | None:
    with db.connection() as conn:
        row = conn.execute("SELECT id, name, embedder, embedding_dims FROM workspaces WHERE name = %s",
                           (name,)).fetchone()
    return Workspace(**row) if row else None


def get(db: Database, name: str) -> Workspace:
    workspace = find(db, name)
    if workspace is None:
        raise UnknownWorkspace(f"no workspace named {name!r}: ingest into it to create it "
                               f"(morningai ingest PATH --workspace {name})")
    return workspace


def ensure(db: Database, name: str) -> tuple[Workspace, bool]:
    """The workspace called `name`, created if needed; True when this call created it."""
    if not NAME.match(name):
        raise ValueError(f"workspace name {name!r}: use 1-63 lower-case letters, digits, '-' or '_', "
                         "starting with a letter or digit")
    with db.connection() as conn:
        created = conn.execute("INSERT INTO workspaces (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                               (name,)).rowcount == 1
    return get(db, name), created


def every(db: Database) -> list[Workspace]:
    """All workspaces, by name: for what is done across them (each under its own Row Level Security)."""
    with db.connection() as conn:
        return [Workspace(**row) for row in conn.execute(
            "SELECT id, name, embedder, embedding_dims FROM workspaces ORDER BY name")]


def all_names(db: Database) -> list[str]:
    with db.connection() as conn:
        return [row["name"] for row in conn.execute("SELECT name FROM workspaces ORDER BY name")]


def check_embedder(workspace: Workspace, name: str, dims: int) -> None:
    """Raise unless vectors from embedder `name` belong with the workspace's existing ones."""
    if workspace.embedder not in (None, name) or workspace.embedding_dims not in (None, dims):
        raise EmbedderMismatch(
            f"workspace {workspace.name!r} was embedded with {workspace.embedder} "
            f"({workspace.embedding_dims} dims) but the configured embedder is {name} ({dims} dims): "
            f"run `morningai ingest --reembed --workspace {workspace.name} …` to re-embed it, "
            "or set MORNINGAI_EMBEDDINGS back")


def record_embedder(db: Database, workspace: Workspace, name: str, dims: int) -> Workspace:
    with db.connection() as conn:
        conn.execute("UPDATE workspaces SET embedder = %s, embedding_dims = %s WHERE id = %s",
                     (name, dims, workspace.id))
    return Workspace(workspace.id, workspace.name, name, dims)
