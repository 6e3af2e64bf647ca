"""Sources a connector keeps in sync (GitHub, Confluence, Notion, a web site): added with their
settings, credentials (sealed, never sent back) and schedule; synced now on request. The
knowledge blueprint (hub/web/knowledge.py) routes to these."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from flask import jsonify, url_for

from core import workspaces
from hub.web import common
from memory import connectors, credentials, store

MIN_SCHEDULE, MAX_SCHEDULE = 5, 10080  # minutes: as the sources table allows


def add(body: dict[str, Any]):
    """POST /api/knowledge/sources with {"kind", "settings", "credentials", "schedule_minutes"}:
    the source is checked, stored and its first sync queued (202 with the job to poll)."""
    rt = common.runtime()
    kind, settings = body["kind"], body.get("settings", {})
    secrets, schedule = body.get("credentials", {}), body.get("schedule_minutes")
    workspace = body.get("workspace", "default")
    if not isinstance(settings, dict) or not isinstance(secrets, dict):
        return common.error("settings, credentials: JSON objects, e.g. {\"repository\": \"acme/handbook\"}")
    if schedule is not None and (not isinstance(schedule, int) or isinstance(schedule, bool)
                                 or not MIN_SCHEDULE <= schedule <= MAX_SCHEDULE):
        return common.error(f"schedule_minutes: a whole number of minutes from {MIN_SCHEDULE} to "
                            f"{MAX_SCHEDULE}, or null to sync only when asked")
    if not isinstance(workspace, str) or not workspaces.NAME.match(workspace):
        return common.error(f"workspace: {workspace!r} is not a valid name (lower-case letters, digits, - and _)")
    try:
        connector = connectors.build(kind, settings, secrets)
    except connectors.SettingsError as exc:
        return common.error(str(exc))
    space, _ = workspaces.ensure(rt.db, workspace)
    try:
        with rt.db.workspace(space.id) as conn:
            row = store.add_source(conn, space.id, kind, connector.location, connector.name, settings,
                                   credentials.seal(rt.settings, secrets), schedule)
    except psycopg.errors.UniqueViolation:
        return common.error(f"workspace {space.name} already has a source at {connector.location}: "
                            "sync it, or remove it first", 409)
    return sync_now(space, row)


def sync_now(space: workspaces.Workspace, row: dict[str, Any]):
    """202 with the sync job to poll, as an ingest's, and the source as it stands."""
    job = common.runtime().queue.enqueue_sync(space.name, row["id"])
    location = url_for("knowledge.job_status", job_id=job.id)
    return jsonify(job=job.id, status=job.get_status(), url=location, source=source_json(row)), 202, {"Location": location}


def source_json(row: dict[str, Any]) -> dict[str, Any]:
    """A source as the API shows it: the credentials only as whether there are any, and not the
    connector's cursor (a crawl's holds the site's link table, hundreds of KB)."""
    shown = {key: (value.isoformat() if hasattr(value, "isoformat") else
                   str(value) if isinstance(value, uuid.UUID) else value)
             for key, value in row.items() if key not in ("credentials", "cursor")}
    shown["has_credentials"] = row.get("credentials") is not None
    return shown
