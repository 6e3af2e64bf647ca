"""The knowledge store: sources, documents and chunks in PostgreSQL + pgvector.

Every function takes a connection already inside `Database.workspace(...)`, so Row Level
Security limits it to that one workspace; this module owns all SQL on these three tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from memory.documents import Chunk, Document

HEADING_SEPARATOR = " › "


# A source's totals, set when a run ends. The chunks are counted by document ids in one array:
# right after a load the planner's statistics are stale (a table "of one row"), and a join
# walked the workspace's chunk index once per document, 1.3 s for 5,000 documents.
_COUNTS = """documents = (SELECT count(*) FROM documents d WHERE d.source_id = s.id),
               chunks = (SELECT count(*) FROM chunks
                         WHERE document_id = ANY(ARRAY(SELECT id FROM documents d WHERE d.source_id = s.id)))"""


def upsert_source(conn: psycopg.Connection, workspace_id: uuid.UUID, kind: str, location: str, name: str,
                  options: dict[str, Any]) -> dict[str, Any]:
    """The source row for `location`, created if new, marked as being ingested."""
    return conn.execute(
        """
        INSERT INTO sources (workspace_id, kind, location, name, options, status, last_run_at)
        VALUES (%s, %s, %s, %s, %s, 'ingesting', now())
        ON CONFLICT (workspace_id, location) DO UPDATE
            SET kind = EXCLUDED.kind, name = EXCLUDED.name, options = EXCLUDED.options, status = 'ingesting',
                last_run_at = now(), last_error = NULL
        RETURNING *
        """,
        (workspace_id, kind, location, name, Jsonb(options)),
    ).fetchone()


def finish_source(conn: psycopg.Connection, source_id: uuid.UUID, *, status: str,
                  skipped: list[dict[str, str]], commit: str | None, error: str | None) -> None:
    conn.execute(
        """
        UPDATE sources s SET status = %s, skipped = %s, commit = %s, last_error = %s,
               """ + _COUNTS + """
        WHERE id = %s
        """,
        (status, Jsonb(skipped), commit, error, source_id),
    )


def document_hashes(conn: psycopg.Connection, source_id: uuid.UUID) -> dict[str, tuple[uuid.UUID, str]]:
    """location -> (document id, content hash) of what the source held after its last run."""
    rows = conn.execute("SELECT id, location, content_hash FROM documents WHERE source_id = %s",
                        (source_id,))
    return {row["location"]: (row["id"], row["content_hash"]) for row in rows}


def replace_document(conn: psycopg.Connection, workspace_id: uuid.UUID, source_id: uuid.UUID,
                     document: Document, content_hash: str, chunks: Sequence[Chunk],
                     vectors: np.ndarray, version: str | None = None) -> uuid.UUID:
    """Store a document and its chunks, replacing the previous version's chunks. The caller's
    transaction makes the swap atomic: a search sees the old chunks or the new ones."""
    row = conn.execute(
        """
        INSERT INTO documents (workspace_id, source_id, location, title, format, content_hash, metadata,
                               version)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (source_id, location) DO UPDATE
            SET title = EXCLUDED.title, format = EXCLUDED.format, content_hash = EXCLUDED.content_hash,
                metadata = EXCLUDED.metadata, version = EXCLUDED.version, updated_at = now()
        RETURNING id, xmax = 0 AS inserted
        """,
        (workspace_id, source_id, document.location, document.title, document.format, content_hash,
         Jsonb({**document.metadata, "language": document.language} if document.language else document.metadata),
         version),
    ).fetchone()
    # A new document has no chunks to delete (xmax = 0: the row was inserted, not updated), and
    # the delete is not free: right after a load, stale statistics plan it over the workspace.
    if not row["inserted"]:
        conn.execute("DELETE FROM chunks WHERE document_id = %s", (row["id"],))
    write_chunks(conn, workspace_id, row["id"], chunks, vectors)
    return row["id"]


def write_chunks(conn: psycopg.Connection, workspace_id: uuid.UUID, document_id: uuid.UUID,
                 chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
    # One statement for all of a document's chunks (not COPY: PostgreSQL refuses COPY FROM into a
    # table with Row Level Security), so the word-count trigger runs once per document. Binary
    # parameters: writing vectors as text costs more than the rest of the insert.
    conn.execute(
        """
        INSERT INTO chunks (workspace_id, document_id, position, heading, text, tokens, dims, embedding)
        SELECT %b, %b, position, heading, text, tokens, %b, embedding
        FROM unnest(%b::integer[], %b::text[], %b::text[], %b::integer[], %b::vector[])
            AS c (position, heading, text, tokens, embedding)
        """,
        (workspace_id, document_id, vectors.shape[1], [c.position for c in chunks],
         [HEADING_SEPARATOR.join(c.heading) for c in chunks], [c.text for c in chunks],
         [c.tokens for c in chunks], list(vectors)))


def index_workspace(conn: psycopg.Connection, dims: int) -> bool:
    """Build the workspace's HNSW index unless it has one; True when this call built it. Run after
    a load: one bulk build is several times faster than updating the index row by row."""
    return conn.execute("SELECT index_workspace_chunks(%s) AS built", (dims,)).fetchone()["built"]


def delete_documents(conn: psycopg.Connection, document_ids: Sequence[uuid.UUID]) -> None:
    conn.execute("DELETE FROM documents WHERE id = ANY(%s)", (list(document_ids),))


def sources(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM sources ORDER BY created_at").fetchall()


def source(conn: psycopg.Connection, source_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM sources WHERE id = %s", (source_id,)).fetchone()


def delete_source(conn: psycopg.Connection, source_id: uuid.UUID) -> None:
    """Remove a source with its documents and chunks."""
    conn.execute("DELETE FROM sources WHERE id = %s", (source_id,))


def chunk_batches(conn: psycopg.Connection, size: int = 512):
    """(ids, texts) of every chunk of the workspace, `size` at a time, for re-embedding."""
    last = 0
    while True:
        rows = conn.execute(
            "SELECT id, heading, text FROM chunks WHERE id > %s ORDER BY id LIMIT %s", (last, size)).fetchall()
        if not rows:
            return
        yield [r["id"] for r in rows], [embedding_text(r["heading"], r["text"]) for r in rows]
        last = rows[-1]["id"]


def set_embeddings(conn: psycopg.Connection, ids: Sequence[int], vectors: np.ndarray) -> None:
    conn.execute(
        """
        UPDATE chunks c SET dims = %b, embedding = v.embedding
        FROM unnest(%b::bigint[], %b::vector[]) AS v (id, embedding) WHERE c.id = v.id
        """,
        (vectors.shape[1], list(ids), list(vectors)))


def embedding_text(heading: str | Sequence[str], text: str) -> str:
    """What gets embedded for a chunk: its title path gives the passage its context."""
    heading = heading if isinstance(heading, str) else HEADING_SEPARATOR.join(heading)
    return f"{heading}\n\n{text}" if heading else text


def document(conn: psycopg.Connection, document_id: uuid.UUID) -> dict[str, Any] | None:
    """A document with its source's location, and its chunks in order as (heading, text); None
    when the workspace has no such document."""
    return conn.execute(
        """SELECT d.id, d.title, d.location, d.format, d.updated_at, s.location AS source,
                  array(SELECT ARRAY[c.heading, c.text] FROM chunks c WHERE c.document_id = d.id
                        ORDER BY c.position) AS chunks
           FROM documents d JOIN sources s ON s.id = d.source_id WHERE d.id = %s""",
        (document_id,)).fetchone()


# Sources that sync (memory/sync.py): a connector's source, its documents' versions, its runs.

def add_source(conn: psycopg.Connection, workspace_id: uuid.UUID, kind: str, location: str, name: str,
               options: dict[str, Any], credentials: bytes | None,
               schedule_minutes: int | None) -> dict[str, Any]:
    """A new connector source; UniqueViolation when the workspace has one at `location`. Its
    first sync is the caller's to start; the schedule's first run is a schedule after it."""
    return conn.execute(
        """
        INSERT INTO sources (workspace_id, kind, location, name, options, credentials, schedule_minutes,
                             next_sync_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, now() + make_interval(mins => %s)) RETURNING *
        """,
        (workspace_id, kind, location, name, Jsonb(options), credentials, schedule_minutes, schedule_minutes),
    ).fetchone()


def document_versions(conn: psycopg.Connection, source_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """location -> {id, version, content_hash} of the source's documents."""
    rows = conn.execute("SELECT id, location, version, content_hash FROM documents WHERE source_id = %s",
                        (source_id,))
    return {row["location"]: row for row in rows}


def set_document_version(conn: psycopg.Connection, document_id: uuid.UUID, version: str | None) -> None:
    conn.execute("UPDATE documents SET version = %s WHERE id = %s", (version, document_id))


def delete_locations(conn: psycopg.Connection, source_id: uuid.UUID, locations: Sequence[str]) -> int:
    return conn.execute("DELETE FROM documents WHERE source_id = %s AND location = ANY(%s)",
                        (source_id, list(locations))).rowcount


def start_sync(conn: psycopg.Connection, source_id: uuid.UUID) -> None:
    conn.execute("UPDATE sources SET status = 'syncing', last_run_at = now(), progress = NULL WHERE id = %s",
                 (source_id,))


def sync_progress(conn: psycopg.Connection, source_id: uuid.UUID, progress: dict[str, Any]) -> None:
    conn.execute("UPDATE sources SET progress = %s WHERE id = %s", (Jsonb(progress), source_id))


def finish_sync(conn: psycopg.Connection, source_id: uuid.UUID, *, counts: dict[str, Any],
                skipped: list[dict[str, str]], cursor: dict[str, Any] | None, error: str | None) -> None:
    """Record a run. A failed one (`error`) keeps the cursor, so the next run starts from the
    last good one; either way the next scheduled run is due a schedule from now."""
    conn.execute(
        """
        UPDATE sources s SET
            status = CASE WHEN %(error)s::text IS NULL THEN 'ready' ELSE 'failing' END,
            last_error = %(error)s, skipped = %(skipped)s, last_sync = %(counts)s, progress = NULL,
            cursor = coalesce(%(cursor)s, s.cursor),
            last_synced_at = CASE WHEN %(error)s::text IS NULL THEN now() ELSE s.last_synced_at END,
            next_sync_at = now() + make_interval(mins => s.schedule_minutes),
            """ + _COUNTS + """
        WHERE id = %(id)s
        """,
        {"error": error, "skipped": Jsonb(skipped), "counts": Jsonb(counts),
         "cursor": Jsonb(cursor) if cursor is not None else None, "id": source_id},
    )


def due_sources(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Scheduled sources whose next sync is due; one that never ran is due since it was added."""
    return conn.execute(
        """
        SELECT id, kind, location, coalesce(next_sync_at, created_at) AS due FROM sources
        WHERE schedule_minutes IS NOT NULL AND coalesce(next_sync_at, created_at) <= now()
        """).fetchall()


def sealed_credentials(conn: psycopg.Connection) -> list[tuple[uuid.UUID, bytes]]:
    rows = conn.execute("SELECT id, credentials FROM sources WHERE credentials IS NOT NULL").fetchall()
    return [(row["id"], bytes(row["credentials"])) for row in rows]


def set_credentials(conn: psycopg.Connection, source_id: uuid.UUID, sealed: bytes | None) -> None:
    conn.execute("UPDATE sources SET credentials = %s WHERE id = %s", (sealed, source_id))


# The GitHub push webhook (hub/web/webhooks.py): which of the workspace's sources a delivery is for.

def github_sources(conn: psycopg.Connection, repository: str) -> list[dict[str, Any]]:
    """The workspace's GitHub sources of `repository` ("owner/name"; GitHub ignores its case)."""
    return conn.execute(
        "SELECT id, options, credentials FROM sources WHERE kind = 'github' "
        "AND lower(options->>'repository') = lower(%s)", (repository,)).fetchall()
