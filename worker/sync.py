"""The sync job: one source brought up to date by its connector (memory/sync.py), its progress
in the job's meta and on the source's row, and its next run put on RQ's scheduler. `enqueue_due`
heals a schedule Redis forgot: the worker's watch loop calls it every reconcile interval."""

from __future__ import annotations

import dataclasses
import logging
import uuid

from rq import get_current_job

from core import workspaces
from core.runtime import Runtime
from memory import connectors, credentials, store
from memory.sync import sync
from worker.jobs import context

log = logging.getLogger(__name__)


def sync_source(workspace: str, source_id: str, changed: dict | None = None) -> dict:
    rt, _ = context()
    space = workspaces.get(rt.db, workspace)
    with rt.db.workspace(space.id) as conn:
        row = store.source(conn, uuid.UUID(source_id))
    if row is None:  # removed since the job was queued
        return {"summary": f"no source {source_id} in workspace {workspace}: nothing to sync"}
    connector = connectors.build(row["kind"], row["options"], credentials.open_sealed(rt.settings, row["credentials"]))
    job = get_current_job()

    def save_progress(progress: dict) -> None:
        if job is not None:
            job.meta["progress"] = progress
            job.save_meta()

    report = sync(rt.db, rt.embedder, space, row["id"], connector, changed=changed, on_progress=save_progress)
    _schedule_next(rt, space, row["id"])
    return {**dataclasses.asdict(report), "summary": report.summary()}


def _schedule_next(rt: Runtime, space: workspaces.Workspace, source_id: uuid.UUID) -> None:
    with rt.db.workspace(space.id) as conn:
        row = store.source(conn, source_id)
    if row is not None and row["schedule_minutes"] is not None:
        rt.queue.enqueue_sync(space.name, source_id, due=row["next_sync_at"])


def enqueue_due(rt: Runtime) -> int:
    """Queue the scheduled syncs that are due and have no job waiting or running."""
    queued = 0
    for space in workspaces.every(rt.db):
        with rt.db.workspace(space.id) as conn:
            due = store.due_sources(conn)
        for row in due:
            queued += rt.queue.enqueue_sync(space.name, row["id"], due=row["due"]) is not None
    if queued:
        log.info("queued %d scheduled source sync(s)", queued)
    return queued
