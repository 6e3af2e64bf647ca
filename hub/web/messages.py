"""The message API: the `web` platform's way in (`POST /api/messages`, through
adapters/web/inbound.py), and the tasks: a
filterable list, one task with its trace, and a retry of a failed one."""

from __future__ import annotations

import uuid

from flask import Blueprint, g, jsonify, request, url_for

from adapters.web import inbound
from core.models import KINDS, PLATFORMS, STATUSES
from hub.web import common
from tasks import lifecycle, stats

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/messages")
def post_message():
    rt = common.runtime()
    try:
        message = inbound.parse(request.get_json(silent=True), rt.settings.max_message_chars)
    except inbound.BadMessage as exc:
        return jsonify(error=str(exc)), 400
    # Clients that retry may send Idempotency-Key: the same key finds the same task.
    task = inbound.to_task(message, request.headers.get("Idempotency-Key") or str(uuid.uuid4()), g.user.email)
    try:
        submitted = lifecycle.submit(rt.db, rt.queue, task)
    except lifecycle.UnknownWorkspace:
        return jsonify(error=f"workspace: no workspace named {message.workspace!r}"), 400
    location = url_for("api.get_task", task_id=submitted.task_id)
    body = {"id": str(submitted.task_id), "status": submitted.status, "url": location}
    return jsonify(body), (202 if submitted.created else 200), {"Location": location}


@bp.get("/tasks/<uuid:task_id>")
def get_task(task_id: uuid.UUID):
    """The task with its reply, citations and trace (steps with timings, tokens and cost)."""
    row = lifecycle.get(common.runtime().db, task_id)
    if row is None:
        return jsonify(error=f"no task with id {task_id}"), 404
    db = common.runtime().db
    return jsonify(
        id=str(row["id"]), status=row["status"], kind=row["kind"], text=row["text"],
        platform=row["platform"], workspace=row["workspace"], thread=row["thread"],
        channel=row["channel"], user=row["user_id"], worker=row["worker"],
        trace_id=str(row["trace_id"]), attempts=row["attempts"], error=row["error"],
        reply=row["reply"] if row["status"] in ("posted", "failed") else None,
        times={k: row[k].isoformat() if row[k] else None
               for k in ("received_at", "queued_at", "started_at", "posted_at", "failed_at")},
        # The trace: each graph node the last run went through, with its milliseconds.
        steps=lifecycle.steps(db, task_id),
        tokens={"prompt": row["prompt_tokens"], "completion": row["completion_tokens"]},
        cost_usd=float(row["cost_usd"]) if row["cost_usd"] is not None else None,
    )


@bp.get("/tasks")
def list_tasks():
    """Tasks newest first; filter by status, platform, kind, workspace and words in the text."""
    try:
        filters = {"status": common.choice("status", STATUSES), "platform": common.choice("platform", PLATFORMS),
                   "kind": common.choice("kind", KINDS), "limit": common.whole("limit", 50, 1, 200),
                   "offset": common.whole("offset", 0, 0, 10_000_000)}
    except common.BadQuery as exc:
        return jsonify(error=str(exc)), 400
    rows, total = stats.listing(common.runtime().db, **filters,
                                workspace=request.args.get("workspace") or None,
                                text=request.args.get("q", "").strip() or None)
    return jsonify(total=total, tasks=[common.row_json(row) for row in rows])


@bp.post("/tasks/<uuid:task_id>/retry")
def retry_task(task_id: uuid.UUID):
    rt = common.runtime()
    status = lifecycle.retry(rt.db, rt.queue, task_id)
    if status is None:
        row = lifecycle.get(rt.db, task_id)
        if row is None:
            return jsonify(error=f"no task with id {task_id}"), 404
        return jsonify(error=f"only a failed task can be retried; this one is {row['status']}"), 409
    location = url_for("api.get_task", task_id=task_id)
    return jsonify(id=str(task_id), status=status, url=location), 202, {"Location": location}

