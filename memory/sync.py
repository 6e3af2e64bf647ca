"""Sync: a connector's source brought up to date in one workspace.

The connector lists items with a version each; an item whose version matches the stored one is
neither fetched nor embedded, and one whose fetched bytes hash as before is not embedded either.
Changed items are embedded a batch at a time and each batch is stored in one transaction. A
complete listing removes the documents the service no longer has; a listing that fails part way
removes nothing, and the source is marked failing with the service's reason. Two syncs of one
source never overlap: the second waits for the first (a webhook's push behind a scheduled run).

Items are fetched one at a time, on purpose: the services' limits are the bound, not our waiting
(GitHub counts 900 points a minute against concurrent clients and asks for serial requests;
Notion allows about three requests a second; a web site deserves politeness).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core import workspaces
from core.db import Database
from memory import store
from memory.chunking import chunk
from memory.connectors import Connector, ConnectorError, Fetched, Item
from memory.documents import Chunk, Document, Unreadable
from memory.embedders import Embedder
from memory.loaders import parse

log = logging.getLogger(__name__)

# Chunks embedded in one call: large enough for a model to batch well, small enough that a
# crash loses little and progress moves.
BATCH_CHUNKS = 256


@dataclass
class SyncReport:
    listed: int = 0
    fetched: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    embedded: int = 0  # chunks embedded
    embedding_calls: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, Any]:
        counts = asdict(self)
        counts.pop("skipped")
        counts["skipped"] = len(self.skipped)
        return counts

    def summary(self) -> str:
        text = (f"{self.listed} listed, {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.deleted} removed, {self.embedded} chunks embedded, {len(self.skipped)} skipped "
                f"in {self.seconds:.1f}s")
        return f"failed: {self.error} ({text})" if self.error else text


@dataclass
class _Changed:
    item: Item
    known: dict[str, Any] | None
    document: Document
    chunks: list[Chunk]
    content_hash: str
    version: str | None


def sync(db: Database, embedder: Embedder, space: workspaces.Workspace, source_id: uuid.UUID,
         connector: Connector, *, changed: dict[str, Any] | None = None,
         on_progress: Callable[[dict[str, Any]], None] | None = None) -> SyncReport:
    """Bring the source up to date; `changed` narrows the run to what a webhook reported."""
    began = time.monotonic()
    workspaces.check_embedder(space, embedder.name, embedder.dims)
    space = workspaces.record_embedder(db, space, embedder.name, embedder.dims)
    with db.connection() as lock:
        # A session lock, released when the run ends or its connection dies with the worker.
        lock.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"sync:{source_id}",))
        try:
            report = _Run(db, embedder, space.id, source_id, on_progress).run(connector, changed)
        finally:
            lock.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (f"sync:{source_id}",))
    report.seconds = time.monotonic() - began
    log.info("sync of %s (%s): %s", connector.name, connector.kind, report.summary())
    return report


class _Run:
    def __init__(self, db: Database, embedder: Embedder, workspace_id: uuid.UUID, source_id: uuid.UUID,
                 on_progress: Callable[[dict[str, Any]], None] | None) -> None:
        self.db, self.embedder, self.workspace_id, self.source_id = db, embedder, workspace_id, source_id
        self.on_progress = on_progress
        self.report = SyncReport()
        self.pending: list[_Changed] = []
        self.last_progress = 0.0

    def run(self, connector: Connector, changed: dict[str, Any] | None) -> SyncReport:
        with self.db.workspace(self.workspace_id) as conn:
            row = store.source(conn, self.source_id)
            if row is None:
                raise LookupError(f"no source {self.source_id}")
            stored = store.document_versions(conn, self.source_id)
            store.start_sync(conn, self.source_id)
        cursor = None
        try:
            listing = connector.listing(row["cursor"], changed=changed)
            # Listing is cheap (names and versions); holding it all gives the progress its total
            # and lets the answered discussions go before the open ones.
            items = sorted(listing.items, key=lambda item: item.priority)
            self.report.listed = len(items)
            for done, item in enumerate(items):
                self._take(item, stored.get(item.location))
                self._progress(done + 1, len(items), item.location)
            self._flush()
            gone = set(listing.removed)
            if listing.complete:
                gone |= stored.keys() - {item.location for item in items}
            if gone:
                with self.db.workspace(self.workspace_id) as conn:
                    self.report.deleted = store.delete_locations(conn, self.source_id, sorted(gone))
            cursor = listing.cursor
        except ConnectorError as error:
            self.report.error = str(error)
        except Exception as error:
            # Recorded for the dashboard, then raised for the job's own failure record.
            self.report.error = f"{type(error).__name__}: {error}"
            self._finish(None)
            raise
        self._finish(cursor)
        return self.report

    def _take(self, item: Item, known: dict[str, Any] | None) -> None:
        if known is not None and item.version is not None and known["version"] == item.version:
            self.report.unchanged += 1
            return
        try:
            fetched = item.fetch(known["version"] if known else None)
            if fetched is None:  # the service says the stored version is current
                self.report.unchanged += 1
                return
            self.report.fetched += 1
            version = fetched.version or item.version
            content_hash = hashlib.sha256(fetched.data).hexdigest()
            if known is not None and known["content_hash"] == content_hash:
                with self.db.workspace(self.workspace_id) as conn:
                    store.set_document_version(conn, known["id"], version)
                self.report.unchanged += 1
                return
            document = _document(item, fetched)
            self.pending.append(_Changed(item, known, document, chunk(document), content_hash, version))
        except Unreadable as error:
            self.report.skipped.append({"location": item.location, "reason": str(error)})
            return
        if sum(len(c.chunks) for c in self.pending) >= BATCH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        texts = [store.embedding_text(c.heading, c.text) for p in self.pending for c in p.chunks]
        vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dims), np.float32)
        self.report.embedding_calls += bool(texts)
        self.report.embedded += len(texts)
        start = 0
        with self.db.workspace(self.workspace_id) as conn:
            for changed in self.pending:
                end = start + len(changed.chunks)
                store.replace_document(conn, self.workspace_id, self.source_id, changed.document,
                                       changed.content_hash, changed.chunks,
                                       vectors[start:end],
                                       version=changed.version)
                start = end
                if changed.known is None:
                    self.report.added += 1
                else:
                    self.report.updated += 1
        self.pending = []

    def _progress(self, done: int, total: int, current: str) -> None:
        if time.monotonic() - self.last_progress < 0.5 and done < total:
            return
        self.last_progress = time.monotonic()
        progress = {"done": done, "total": total, "current": current, "embedded": self.report.embedded}
        with self.db.workspace(self.workspace_id) as conn:
            store.sync_progress(conn, self.source_id, progress)
        if self.on_progress:
            self.on_progress(progress)

    def _finish(self, cursor: dict[str, Any] | None) -> None:
        with self.db.workspace(self.workspace_id) as conn:
            store.finish_sync(conn, self.source_id, counts=self.report.counts(), skipped=self.report.skipped,
                              cursor=cursor, error=self.report.error)
            store.index_workspace(conn, self.embedder.dims)


def _document(item: Item, fetched: Fetched) -> Document:
    document = parse(item.location, fetched.data, content_type=fetched.content_type)
    title = fetched.title or item.title
    return Document(item.location, title or document.title, document.text, document.format,
                    document.language, {**document.metadata, **fetched.metadata})
