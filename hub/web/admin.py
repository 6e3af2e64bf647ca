"""The rest of the admin API the dashboard uses: health with workers and queues, failed jobs
and their requeue, workspaces, settings
and secrets."""

from __future__ import annotations

import uuid

from flask import Blueprint, g, jsonify, request
from redis.exceptions import RedisError

from core import workspaces
from core.config import variable
from hub.admin import secrets as admin_secrets
from hub.admin import settings as admin_settings
from hub.admin.live import LIVE_WITHIN
from hub.web import common, health
from tasks import lifecycle

bp = Blueprint("admin", __name__, url_prefix="/api")

@bp.get("/health")
def health_report():
    """/readyz's checks, plus each worker with its last heartbeat and each queue's depth."""
    rt = common.runtime()
    ready, report = health.readiness(rt)
    try:
        report.update(workers=rt.queue.workers(), queues=rt.queue.queues())
    except RedisError:  # readiness already says so, in words
        report.update(workers=[], queues={})
    return jsonify(status="ready" if ready else "not ready", **report)


@bp.get("/queue/failed")
def failed_jobs():
    return jsonify(jobs=common.runtime().queue.failed_jobs())


@bp.post("/queue/failed/<job_id>/requeue")
def requeue(job_id: str):
    """Run a failed job again. A task's job goes through the task's retry, so the task's
    status and attempts start afresh; an ingest or FAQ job is requeued as it was."""
    rt = common.runtime()
    try:
        task_id = uuid.UUID(job_id)
    except ValueError:
        task_id = None
    if task_id is not None and lifecycle.get(rt.db, task_id) is not None:
        status = lifecycle.retry(rt.db, rt.queue, task_id)
        if status is None:
            return jsonify(error=f"task {task_id} is not failed: nothing to requeue"), 409
        return jsonify(id=job_id, status=status), 202
    if not rt.queue.requeue_failed(job_id):
        return jsonify(error=f"no failed job {job_id}"), 404
    return jsonify(id=job_id, status="queued"), 202


@bp.get("/workspaces")
def list_workspaces():
    db = common.runtime().db
    return jsonify(workspaces=[{"name": space.name, "embedder": space.embedder}
                               for space in map(lambda name: workspaces.get(db, name),
                                                workspaces.all_names(db))])


@bp.post("/workspaces")
def add_workspace():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return jsonify(error='send JSON {"name": "support"}'), 400
    try:
        space, created = workspaces.ensure(common.runtime().db, body["name"])
    except ValueError as exc:
        return jsonify(error=f"name: {exc}"), 400
    if not created:
        return jsonify(error=f"name: a workspace named {space.name!r} exists"), 409
    return jsonify(name=space.name, embedder=space.embedder), 201


@bp.get("/settings")
def get_settings():
    """The effective settings the dashboard can change, where each value comes from, and the
    ones it only shows. Secrets are reported as set or not and where from, never returned."""
    rt = common.runtime()
    changed = admin_settings.stored(rt.db)
    secrets, unreadable = admin_secrets.opened(rt.db, rt.environment)
    # On top of the environment's, as saved this instant: this process's catch up within seconds.
    settings = rt.environment.model_copy(update={**changed, **secrets})
    editable = [{"name": name, "variable": variable(name), "value": getattr(settings, name),
                 "source": "dashboard" if name in changed else "environment",
                 "description": type(settings).model_fields[name].description}
                for name in admin_settings.EDITABLE]
    return jsonify(
        settings=editable,
        provider="openai" if settings.openai_api_key else "offline",
        embedder=settings.embeddings or "automatic",
        secrets=admin_secrets.report(rt.environment, secrets, unreadable),
        note=f"Changes apply within {LIVE_WITHIN} seconds to the web app, the workers and the Discord bot, "
             "with no restart.")


@bp.put("/settings")
def put_settings():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return jsonify(error='send a JSON object of settings, e.g. {"chat_model": "gpt-4.1"}; '
                             "null puts one back to the environment's value"), 400
    try:
        admin_settings.save(common.runtime().db, body, g.user.id)
    except admin_settings.SettingError as exc:
        return jsonify(error=str(exc)), 400
    return get_settings()


@bp.put("/secrets/<name>")
def put_secret(name: str):
    """Set a secret (write-only: the answer says it is set, never what it is)."""
    body = request.get_json(silent=True)
    rt = common.runtime()
    try:
        field = admin_secrets.by_variable(name)
        admin_secrets.save(rt.db, rt.environment, field, body.get("value") if isinstance(body, dict) else None,
                           g.user.id)
    except admin_secrets.SecretError as exc:
        return common.error(str(exc))
    return get_settings()


@bp.delete("/secrets/<name>")
def delete_secret(name: str):
    """Forget the dashboard's value: the processes go back to the environment's within seconds."""
    try:
        field = admin_secrets.by_variable(name)
    except admin_secrets.SecretError as exc:
        return common.error(str(exc))
    if not admin_secrets.delete(common.runtime().db, field):
        return common.error(f"{name}: no value set in the dashboard", 404)
    return get_settings()
