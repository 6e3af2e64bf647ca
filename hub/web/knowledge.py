"""The knowledge API the dashboard uses: search, and a workspace's sources — list, add (a path,
a repository, a URL or an uploaded file), re-ingest, delete — with ingest jobs to poll."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Blueprint, abort, jsonify, request, url_for
from rq.exceptions import NoSuchJobError
from rq.job import Job
from werkzeug.utils import secure_filename

from core import workspaces
from hub.web import common, connected
from memory import connectors, store
from memory.embedders import EmbeddingError, explain_choice
from memory.search import search

bp = Blueprint("knowledge", __name__, url_prefix="/api/knowledge")


@bp.errorhandler(workspaces.UnknownWorkspace)
def _unknown_workspace(exc):
    return common.error(str(exc), 404)


@bp.errorhandler(workspaces.EmbedderMismatch)
@bp.errorhandler(EmbeddingError)
def _embedder_problem(exc):
    return common.error(str(exc), 409)


@bp.get("/search")
def search_knowledge():
    query = request.args.get("q", "").strip()
    if not query:
        return common.error("q: give a search query, e.g. /api/knowledge/search?q=deploy")
    try:
        k = int(request.args.get("k", 8))
    except ValueError:
        return common.error("k: must be a whole number")
    if not 1 <= k <= 50:
        return common.error("k: must be between 1 and 50")
    rt = common.runtime()
    hits = search(rt.db, rt.embedder, request.args.get("workspace", "default"), query, k=k)
    return jsonify(query=query, hits=[hit.__dict__ for hit in hits])


@bp.get("/sources")
def list_sources():
    rt = common.runtime()
    space = workspaces.get(rt.db, request.args.get("workspace", "default"))
    with rt.db.workspace(space.id) as conn:
        rows = store.sources(conn)
    # The workspace's embedder is the one its vectors were made with; the hub's is the one it
    # would take for a new workspace, and why (the Knowledge page shows both).
    kind, why = explain_choice(rt.settings)
    return jsonify(workspace=space.name, embedder=space.embedder, hub_embedder={"kind": kind, "reason": why},
                   sources=[connected.source_json(r) for r in rows])


@bp.post("/sources")
def add_source():
    """Start ingesting a path, repository or URL (JSON), or an uploaded file (multipart)."""
    rt = common.runtime()
    # Room for the largest file ingest would read (the app's limit is sized for messages).
    request.max_content_length = rt.settings.max_file_bytes + 65536
    if request.files:
        upload = request.files.get("file")
        name = secure_filename(upload.filename or "") if upload else ""
        if not name:
            return common.error("file: send one file in a multipart field named 'file'")
        workspace = request.form.get("workspace", "default")
        if not workspaces.NAME.match(workspace):  # before it names a folder
            return _bad_workspace(workspace)
        folder = rt.settings.home.absolute() / "uploads" / workspace
        folder.mkdir(parents=True, exist_ok=True)
        upload.save(folder / name)
        targets, options = [str(folder / name)], {}
    else:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "kind" in body:
            return connected.add(body)
        if not isinstance(body, dict) or not isinstance(body.get("location"), str) or not body["location"].strip():
            return common.error('send {"location": "<path, repository or URL>"} or {"kind": "github", "settings": '
                                '{...}, "credentials": {...}} as JSON, or a file as multipart')
        workspace = body.get("workspace", "default")
        options = {key: body.get(key, []) for key in ("include", "exclude")}
        if not all(isinstance(v, list) and all(isinstance(g, str) for g in v) for v in options.values()):
            return common.error("include, exclude: lists of glob patterns, e.g. [\"docs/**\", \"*.md\"]")
        location = body["location"].strip()
        if not location.startswith(("http://", "https://")) and not Path(location).exists():
            return common.error(f"location: {location} does not exist on the hub's machine")
        targets = [location]
    if not isinstance(workspace, str) or not workspaces.NAME.match(workspace):
        return _bad_workspace(workspace)
    return _started(rt.queue.enqueue_ingest(workspace, targets, **options))


def _bad_workspace(workspace: object):
    return common.error(f"workspace: {workspace!r} is not a valid name (lower-case letters, digits, - and _)")


def _source(source_id: uuid.UUID) -> tuple[workspaces.Workspace, dict]:
    rt = common.runtime()
    space = workspaces.get(rt.db, request.args.get("workspace", "default"))
    with rt.db.workspace(space.id) as conn:
        row = store.source(conn, source_id)
    if row is None:
        abort(404, f"no source {source_id} in workspace {space.name}")
    return space, row


@bp.post("/sources/<uuid:source_id>/reingest")
def reingest(source_id: uuid.UUID):
    space, row = _source(source_id)
    if row["kind"] in connectors.kinds():
        return connected.sync_now(space, row)
    force = request.args.get("force") in ("1", "true")
    queue = common.runtime().queue
    return _started(queue.enqueue_ingest(space.name, [row["location"]], reembed=force, **row["options"]))


@bp.post("/sources/<uuid:source_id>/sync")
def sync(source_id: uuid.UUID):
    space, row = _source(source_id)
    if row["kind"] not in connectors.kinds():
        return common.error(f"source {source_id} is a {row['kind']}, which is ingested, not synced: "
                            f"POST /api/knowledge/sources/{source_id}/reingest", 409)
    return connected.sync_now(space, row)


@bp.delete("/sources/<uuid:source_id>")
def delete(source_id: uuid.UUID):
    space, _ = _source(source_id)
    with common.runtime().db.workspace(space.id) as conn:
        store.delete_source(conn, source_id)
    return "", 204


@bp.get("/jobs/<job_id>")
def job_status(job_id: str):
    try:
        job = Job.fetch(job_id, connection=common.runtime().queue.redis)
    except (NoSuchJobError, ValueError):  # ValueError: not even a valid job id
        return common.error(f"no ingest job {job_id}", 404)
    return jsonify(id=job.id, status=job.get_status(), progress=job.meta.get("progress"),
                   result=job.return_value() if job.is_finished else None,
                   error=(job.latest_result().exc_string.strip().splitlines()[-1]
                          if job.is_failed and job.latest_result() else None))


def _started(job: Job):
    location = url_for("knowledge.job_status", job_id=job.id)
    return jsonify(job=job.id, status=job.get_status(), url=location), 202, {"Location": location}
