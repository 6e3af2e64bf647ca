"""The message API: the `web` platform's way in (`POST /api/messages`), and the tasks: a
filterable list, one task with its trace, and a retry of a failed one."""

from __future__ import annotations

import uuid
from typing import Literal

from flask import Blueprint, g, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub import task_stats, tasks, web
from hub.models import KINDS, PLATFORMS, STATUSES, ChatTask

bp = Blueprint("api", __name__, url_prefix="/api")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str
    kind: Literal["ask", "code", "docs", "faq", "help"] = "ask"
    workspace: str = "default"
    thread: str | None = Field(default=None, max_length=200)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class BadRequest(Exception):
    pass


def _parse_message() -> MessageIn:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest('send a JSON object, e.g. {"text": "How do I deploy?"} '
                         "with Content-Type: application/json")
    try:
        message = MessageIn.model_validate(data)
    except ValidationError as exc:
        raise BadRequest("; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors())) from None
    limit = web.runtime().settings.max_message_chars
    if len(message.text) > limit:
        raise BadRequest(f"text: {len(message.text)} characters is longer than the {limit} allowed")
    return message


@bp.post("/messages")
def post_message():
    rt = web.runtime()
    try:
        message = _parse_message()
    except BadRequest as exc:
        return jsonify(error=str(exc)), 400
    # Clients that retry may send Idempotency-Key: the same key finds the same task.
    event_id = request.headers.get("Idempotency-Key") or str(uuid.uuid4())
    task = ChatTask(platform="web", workspace=message.workspace, platform_event_id=event_id[:200],
                    text=message.text, kind=message.kind, thread=message.thread,
                    channel="playground", user=g.user.email)
    try:
        submitted = tasks.submit(rt.db, rt.queue, task)
    except tasks.UnknownWorkspace:
        return jsonify(error=f"workspace: no workspace named {message.workspace!r}"), 400
    location = url_for("api.get_task", task_id=submitted.task_id)
    body = {"id": str(submitted.task_id), "status": submitted.status, "url": location}
    return jsonify(body), (202 if submitted.created else 200), {"Location": location}


@bp.get("/tasks/<uuid:task_id>")
def get_task(task_id: uuid.UUID):
    """The task with its reply, citations and trace (steps with timings, tokens and cost)."""
    row = tasks.get(web.runtime().db, task_id)
    if row is None:
        return jsonify(error=f"no task with id {task_id}"), 404
    db = web.runtime().db
    return jsonify(
        id=str(row["id"]), status=row["status"], kind=row["kind"], text=row["text"],
        platform=row["platform"], workspace=row["workspace"], thread=row["thread"],
        channel=row["channel"], user=row["user_id"], worker=row["worker"],
        trace_id=str(row["trace_id"]), attempts=row["attempts"], error=row["error"],
        reply=row["reply"] if row["status"] in ("posted", "failed") else None,
        times={k: row[k].isoformat() if row[k] else None
               for k in ("received_at", "queued_at", "started_at", "posted_at", "failed_at")},
        # The trace: each graph node the last run went through, with its milliseconds.
        steps=tasks.steps(db, task_id),
        tokens={"prompt": row["prompt_tokens"], "completion": row["completion_tokens"]},
        cost_usd=float(row["cost_usd"]) if row["cost_usd"] is not None else None,
    )


@bp.get("/tasks")
def list_tasks():
    """Tasks newest first; filter by status, platform, kind, workspace and words in the text."""
    try:
        filters = {"status": web.choice("status", STATUSES), "platform": web.choice("platform", PLATFORMS),
                   "kind": web.choice("kind", KINDS), "limit": web.whole("limit", 50, 1, 200),
                   "offset": web.whole("offset", 0, 0, 10_000_000)}
    except web.BadQuery as exc:
        return jsonify(error=str(exc)), 400
    rows, total = task_stats.listing(web.runtime().db, **filters,
                                workspace=request.args.get("workspace") or None,
                                text=request.args.get("q", "").strip() or None)
    return jsonify(total=total, tasks=[web.row_json(row) for row in rows])


@bp.post("/tasks/<uuid:task_id>/retry")
def retry_task(task_id: uuid.UUID):
    rt = web.runtime()
    status = tasks.retry(rt.db, rt.queue, task_id)
    if status is None:
        row = tasks.get(rt.db, task_id)
        if row is None:
            return jsonify(error=f"no task with id {task_id}"), 404
        return jsonify(error=f"only a failed task can be retried; this one is {row['status']}"), 409
    location = url_for("api.get_task", task_id=task_id)
    return jsonify(id=str(task_id), status=status, url=location), 202, {"Location": location}

