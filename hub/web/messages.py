"""The message API: the `web` platform's way in (`POST /api/messages`, through
adapters/web/inbound.py), and the tasks: a filterable list, one task with its trace, its live
events as it runs, a retry of a failed one, and the review of a drafted answer."""

from __future__ import annotations

import json
import threading
import time
import uuid

from flask import Blueprint, Response, g, jsonify, request, url_for
from redis.exceptions import RedisError

from adapters.web import inbound
from core.models import FINISHED, KINDS, PLATFORMS, STATUSES
from hub.web import common
from tasks import events, lifecycle, stats, support

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
        reply=row["reply"] if row["status"] in ("posted", "failed", "drafted", "withheld") else None,
        times={k: row[k].isoformat() if row[k] else None
               for k in ("received_at", "queued_at", "started_at", "posted_at", "failed_at")},
        # The trace: each graph node the last run went through, with its milliseconds.
        steps=lifecycle.steps(db, task_id),
        tokens={"prompt": row["prompt_tokens"], "completion": row["completion_tokens"]},
        cost_usd=float(row["cost_usd"]) if row["cost_usd"] is not None else None,
        # Reviewed, handed over to a person, resolved: what happened after the answer.
        support=support.of_task(db, task_id),
    )


@bp.get("/tasks/<uuid:task_id>/events")
def task_events(task_id: uuid.UUID):
    """Server-Sent Events of a task as it runs: `task` when its status changes, `status` (what the
    agent is doing, with its sources) and `text` (the answer's checked text, as the model writes
    it) from the worker, and once the task is finished its `reply`, after which the stream ends.
    Each event's id is its place in the task's stream: a client that reconnects (Last-Event-ID)
    resumes after it. A stream stays open at most LIVE_SECONDS, then asks the client to
    reconnect, so a forgotten tab does not hold one of the web process's threads for ever."""
    rt = common.runtime()
    row = lifecycle.get(rt.db, task_id)
    if row is None:
        return jsonify(error=f"no task with id {task_id}"), 404
    after = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    if not events.ID.match(after):
        return jsonify(error=f"after: {after[:40]!r} is not an event id (like 1700000000000-0)"), 400
    slots = waiting_slots(rt.settings)
    if not slots.acquire(blocking=False):
        return jsonify(error="too many live task views on this web process: close some, or reload the "
                             "task to see it without live updates"), 503
    # Nothing in the stream needs the request: it is read with what it was handed.
    response = Response(_task_events(rt, task_id, after), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(slots.release)  # however the stream ends, the client gone included
    return response


LIVE_SECONDS = 30
_waiting: list[threading.BoundedSemaphore] = []
_waiting_made = threading.Lock()


def waiting_slots(settings) -> threading.BoundedSemaphore:
    """The requests a web process lets wait on a worker at once (live views, the MCP server's
    `ask`): half its threads, since each holds one and Slack's acknowledgements need the others."""
    with _waiting_made:
        if not _waiting:
            _waiting.append(threading.BoundedSemaphore(max(1, settings.web_threads // 2)))
        return _waiting[0]


def _task_events(rt, task_id: uuid.UUID, after: str):
    try:
        yield "retry: 1000\n\n"
        ends, status = time.monotonic() + LIVE_SECONDS, None
        while True:
            row = lifecycle.get(rt.db, task_id)
            # A draft waits for a person: its run said all it will.
            finished = row["status"] in FINISHED or row["status"] == "drafted"
            if row["status"] != status:
                status = row["status"]
                yield _sse("task", {"status": status})
            # Once the task is finished everything its run said is in the stream: read it all.
            for entry_id, event in events.read(rt.queue.redis, task_id, after, None if finished else 1000):
                after = entry_id
                yield _sse(event["type"], event, entry_id)
            if finished:
                yield _sse("reply", {"status": status, "reply": row["reply"], "error": row["error"]})
                return
            if time.monotonic() > ends:
                return  # the client reconnects, from `after`
    except RedisError as exc:
        yield _sse("error", {"error": f"live updates stopped: Redis is unreachable ({exc}); reload the task"})


def _sse(kind: str, data: dict, entry_id: str | None = None) -> str:
    head = f"id: {entry_id}\n" if entry_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


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



@bp.post("/tasks/<uuid:task_id>/publish")
def publish_draft(task_id: uuid.UUID):
    """Post a drafted answer in the question's thread, as the bot; `text` replaces the draft's."""
    body = request.get_json(silent=True)
    if body is not None and not isinstance(body, dict):
        return jsonify(error='send a JSON object, {"text": "…"} to post an edited answer, or nothing to post the draft'), 400
    text = (body or {}).get("text")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        return jsonify(error="text: the answer to post, a non-empty string (or leave it out to post the draft as it is)"), 400
    return _review(task_id, "publish", text=text)


@bp.post("/tasks/<uuid:task_id>/dismiss")
def dismiss_draft(task_id: uuid.UUID):
    """Drop a drafted answer: nothing is posted."""
    return _review(task_id, "dismiss")


def _review(task_id: uuid.UUID, action: str, text: str | None = None):
    rt = common.runtime()
    if lifecycle.get(rt.db, task_id) is None:
        return jsonify(error=f"no task with id {task_id}"), 404
    try:
        words = support.review(rt, task_id, g.user.email, action, text=text)
    except support.NotReviewable as exc:
        return jsonify(error=f"only a drafted answer can be reviewed: {exc}"), 409
    row = lifecycle.get(rt.db, task_id)
    return jsonify(id=str(task_id), status=row["status"], result=words), 202 if action == "publish" else 200


@bp.post("/tasks/<uuid:task_id>/resolve")
def resolve_task(task_id: uuid.UUID):
    """Mark the task's thread resolved (the support desk's state; nothing is posted)."""
    rt = common.runtime()
    if lifecycle.get(rt.db, task_id) is None:
        return jsonify(error=f"no task with id {task_id}"), 404
    first = support.resolve(rt.db, task_id, g.user.email, "dashboard")
    return jsonify(id=str(task_id), resolved=True, already=not first, support=support.of_task(rt.db, task_id))


@bp.get("/escalations")
def list_escalations():
    """Questions handed over to a person and not resolved yet, oldest first, with their wait."""
    rows = support.escalations(common.runtime().db, request.args.get("workspace") or None)
    return jsonify(escalations=[common.row_json(row) for row in rows])
