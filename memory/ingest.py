"""Ingest: sources -> documents -> chunks -> embeddings -> the store, for one workspace.

Re-ingesting is cheap: a file whose bytes hash the same as last time is not parsed or
embedded again. A changed file's chunks are swapped in one transaction; a file that left the
source loses its document. A bad file is skipped with its reason; it never stops the rest.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core import workspaces
from core.db import Database
from memory import store
from memory.chunking import chunk
from memory.documents import Unreadable
from memory.embedders import Embedder
from memory.loaders import parse
from memory.sources import Source, open_source


@dataclass
class Progress:
    """Running totals, handed to the caller's callback after every file."""

    files_total: int = 0
    files_done: int = 0
    chunks: int = 0
    embedded: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def embeddings_per_second(self) -> float:
        return self.embedded / max(time.monotonic() - self.started, 1e-9)


@dataclass
class Report:
    workspace: str
    created_workspace: bool
    sources: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks: int = 0
    embedded: int = 0
    reembedded: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{self.sources} source(s)", f"{self.added} added", f"{self.updated} updated",
                 f"{self.unchanged} unchanged", f"{self.deleted} removed", f"{self.chunks} chunks",
                 f"{self.embedded} embedded"]
        if self.reembedded:
            parts.append(f"{self.reembedded} re-embedded")
        parts.append(f"{len(self.skipped)} skipped")
        return f"workspace {self.workspace}: " + ", ".join(parts) + f" in {self.seconds:.1f}s"


def ingest(db: Database, embedder: Embedder, targets: Sequence[str], workspace: str = "default", *,
           reembed: bool = False, include: Sequence[str] = (), exclude: Sequence[str] = (),
           max_bytes: int = 10_000_000, fetch_timeout: float = 20.0,
           on_progress: Callable[[Progress], None] = lambda progress: None) -> Report:
    began = time.monotonic()
    space, created = workspaces.ensure(db, workspace)
    report = Report(workspace=space.name, created_workspace=created)
    if reembed and space.embedder is not None:
        report.reembedded = _reembed(db, space, embedder)
    else:
        workspaces.check_embedder(space, embedder.name, embedder.dims)
    space = workspaces.record_embedder(db, space, embedder.name, embedder.dims)

    # Listing first (cheap) gives the progress bar its total before the slow part starts.
    opened = [open_source(t, include=include, exclude=exclude, max_bytes=max_bytes,
                          fetch_timeout=fetch_timeout) for t in targets]
    listed = [(source, list(source.entries())) for source in opened]
    progress = Progress(files_total=sum(len(entries) for _, entries in listed))
    for source, entries in listed:
        _ingest_source(db, embedder, space, source, entries, report, progress, on_progress,
                       force=reembed, options={"include": list(include), "exclude": list(exclude)})
        report.sources += 1
    progress.current = "building the search index"
    on_progress(progress)
    with db.workspace(space.id) as conn:
        store.index_workspace(conn, embedder.dims)
    report.seconds = time.monotonic() - began
    return report


def _ingest_source(db, embedder, space, source: Source, entries, report: Report, progress: Progress,
                   on_progress, *, force: bool, options: dict) -> None:
    with db.workspace(space.id) as conn:
        row = store.upsert_source(conn, space.id, source.kind, source.location, source.name, options)
        previous = store.document_hashes(conn, row["id"])
    skipped: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in entries:
        progress.current = entry.location
        try:
            data = entry.read()
            seen.add(entry.location)
            content_hash = hashlib.sha256(data).hexdigest()
            known = previous.get(entry.location)
            if known and known[1] == content_hash and not force:
                report.unchanged += 1
            else:
                document = parse(entry.location, data, content_type=entry.content_type)
                chunks = chunk(document)
                vectors = embedder.embed([store.embedding_text(c.heading, c.text) for c in chunks])
                with db.workspace(space.id) as conn:
                    store.replace_document(conn, space.id, row["id"], document, content_hash, chunks, vectors)
                report.updated += bool(known)
                report.added += not known
                report.chunks += len(chunks)
                report.embedded += len(chunks)
                progress.chunks += len(chunks)
                progress.embedded += len(chunks)
        except Unreadable as exc:
            seen.discard(entry.location)
            skipped.append({"location": entry.location, "reason": str(exc)})
        progress.files_done += 1
        on_progress(progress)

    gone = [doc_id for location, (doc_id, _) in previous.items() if location not in seen]
    status = "error" if skipped and not seen else "ready"
    error = "; ".join(f"{s['location']}: {s['reason']}" for s in skipped[:5]) if status == "error" else None
    with db.workspace(space.id) as conn:
        store.delete_documents(conn, gone)
        store.finish_source(conn, row["id"], status=status, skipped=skipped,
                            commit=source.metadata.get("commit"), error=error)
    report.deleted += len(gone)
    report.skipped += [{"location": f"{source.location}: {s['location']}" if source.kind != "url"
                        else s["location"], "reason": s["reason"]} for s in skipped]


def _reembed(db: Database, space: workspaces.Workspace, embedder: Embedder) -> int:
    """Re-embed every chunk of the workspace with `embedder`, in one transaction."""
    count = 0
    with db.workspace(space.id) as conn:
        for ids, texts in store.chunk_batches(conn):
            store.set_embeddings(conn, ids, embedder.embed(texts))
            count += len(ids)
    return count
