"""The task lifecycle: one row per platform event, received -> queued -> running -> posted | failed.

This module owns the `tasks` table; every status change is one conditional UPDATE, so two
processes racing on a task can never both move it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from psycopg.types.json import Jsonb
from redis.exceptions import RedisError

from core import logs
from core.db import Database
from core.models import FINISHED, ChatTask, Reply, Submitted
from core.queue import TaskQueue

log = logging.getLogger(__name__)


class UnknownWorkspace(LookupError):
    pass


def submit(db: Database, queue: TaskQueue, task: ChatTask) -> Submitted:
    """Store the task and queue it. A redelivered event returns the existing task.

    If Redis is unreachable the task stays `received`, and a worker's dispatcher queues it once
    Redis is back: the message is accepted either way.
    """
    with db.connection() as conn:
        submitted = _store(conn, task)
        if not submitted.created:
            return submitted
        # The insert's connection is reused: each checkout from the pool can cost a round trip.
        try:
            _dispatch(conn, queue, "SELECT %s::uuid", (submitted.task_id,))
        except RedisError as exc:
            log.warning("task %s stays received: could not reach Redis (%s)", submitted.task_id, exc)
            return submitted
        # Queued, here or by a dispatcher that took it first.
        return replace(submitted, status="queued")


def store(db: Database, task: ChatTask) -> Submitted:
    """Store the task, `received`, for a worker's dispatcher to queue (tasks/dispatcher.py): for a
    platform that waits on our acknowledgement, which then waits on one INSERT, never on Redis."""
    with db.connection() as conn:
        return _store(conn, task)


def _store(conn, task: ChatTask) -> Submitted:
    # A request that bound a trace id (hub/web/app.py) gives it to the task, so its log lines and the
    # task's share one id.
    task = replace(task, trace_id=logs.trace_id() or task.trace_id)
    logs.bind(platform=task.platform, workspace=task.workspace)
    row = conn.execute(
        """
        INSERT INTO tasks (id, platform, platform_event_id, workspace_id, channel, thread,
                           user_id, text, kind, reply_target, trace_id)
        SELECT %s, %s, %s, w.id, %s, %s, %s, %s, %s, %s, %s FROM workspaces w WHERE w.name = %s
        ON CONFLICT (platform, platform_event_id) DO NOTHING
        RETURNING id
        """,
        (task.id, task.platform, task.platform_event_id, task.channel, task.thread, task.user,
         task.text, task.kind, Jsonb(task.reply_target), task.trace_id, task.workspace),
    ).fetchone()
    if row is not None:
        logs.bind(task_id=task.id)
        log.info("received %s task from %s", task.kind, task.platform)
        return Submitted(task.id, created=True, status="received")
    existing = conn.execute(
        "SELECT id, status FROM tasks WHERE platform = %s AND platform_event_id = %s",
        (task.platform, task.platform_event_id),
    ).fetchone()
    if existing is None:
        raise UnknownWorkspace(task.workspace)
    logs.bind(task_id=existing["id"])
    log.info("redelivered event %s: task %s exists (%s)", task.platform_event_id, existing["id"], existing["status"])
    return Submitted(existing["id"], created=False, status=existing["status"])


def dispatch_waiting(db: Database, queue: TaskQueue, limit: int = 100) -> list[ChatTask]:
    """Queue up to `limit` tasks waiting `received`, oldest first; returns them. Raises
    RedisError, with the tasks left `received`, when Redis is unreachable."""
    with db.connection() as conn:
        claimed = _dispatch(conn, queue, "SELECT id FROM tasks WHERE status = 'received' "
                                         "ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,))
    return [to_task(row) for row in claimed]


def _dispatch(conn, queue: TaskQueue, candidates: str, params: tuple) -> list[dict[str, Any]]:
    # Each row turns `queued` before its job exists: of two processes dispatching one task, the
    # one whose UPDATE takes the row queues it, and no worker can start it early.
    claimed = conn.execute(
        "UPDATE tasks t SET status = 'queued', queued_at = now(), updated_at = now() FROM workspaces w "
        f"WHERE t.id IN ({candidates}) AND t.status = 'received' AND w.id = t.workspace_id "
        "RETURNING t.*, w.name AS workspace", params).fetchall()
    _enqueue_claimed(conn, queue, claimed)
    return claimed


def _enqueue_claimed(conn, queue: TaskQueue, claimed: list[dict[str, Any]]) -> None:
    """Make the jobs of tasks just marked `queued`. Should Redis fail, the ones still without a
    job go back to `received`, for a dispatcher to try again, and the error is raised. (Should
    the process die in between, the reconciler finds them queued with no job.)"""
    for n, row in enumerate(claimed):
        try:
            queue.enqueue(row["id"], row["attempts"])
        except RedisError:
            conn.execute("UPDATE tasks SET status = 'received', updated_at = now() "
                         "WHERE id = ANY(%s) AND status = 'queued'", ([left["id"] for left in claimed[n:]],))
            raise


def start(db: Database, task_id: uuid.UUID, worker: str) -> ChatTask | None:
    """Claim a task for one run. None when it is not runnable: already running elsewhere,
    posted or failed. That check is what keeps a job that runs twice from posting twice.

    A task `running` on this same worker is claimable: that earlier run ended without finishing
    the task (a fork worker's work-horse died; RQ retries such a job). The threads engine never
    runs one task twice at once (worker/jobs.py keeps its tasks in flight)."""
    with db.connection() as conn:
        row = conn.execute(
            """
            UPDATE tasks t SET status = 'running', attempts = attempts + 1, worker = %s,
                   started_at = now(), updated_at = now()
            FROM workspaces w
            WHERE t.id = %s AND w.id = t.workspace_id
              AND (t.status IN ('received', 'queued') OR (t.status = 'running' AND t.worker = %s))
            RETURNING t.*, w.name AS workspace
            """,
            (worker, task_id, worker),
        ).fetchone()
    return to_task(row) if row else None


def stored_reply(db: Database, task_id: uuid.UUID) -> Reply | None:
    """The reply of an earlier run that answered but did not post; reused instead of re-asking."""
    with db.connection() as conn:
        row = conn.execute("SELECT reply FROM tasks WHERE id = %s", (task_id,)).fetchone()
    return Reply.from_dict(row["reply"]) if row and row["reply"] else None


def record_reply(db: Database, task_id: uuid.UUID, reply: Reply) -> None:
    with db.connection() as conn:
        conn.execute("UPDATE tasks SET reply = %s, updated_at = now() WHERE id = %s",
                     (Jsonb(reply.to_dict()), task_id))


def record_steps(db: Database, task_id: uuid.UUID, steps: list[dict[str, Any]]) -> None:
    """The run's trace (graph node, milliseconds), replacing an earlier run's."""
    with db.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM task_steps WHERE task_id = %s", (task_id,))
        conn.cursor().executemany(
            "INSERT INTO task_steps (task_id, position, node, ms) VALUES (%s, %s, %s, %s)",
            [(task_id, n, step["node"], step["ms"]) for n, step in enumerate(steps)])


def steps(db: Database, task_id: uuid.UUID) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute("SELECT node, ms FROM task_steps WHERE task_id = %s ORDER BY position",
                            (task_id,)).fetchall()


def record_usage(db: Database, task_id: uuid.UUID, prompt_tokens: int, completion_tokens: int,
                 cost_usd: float | None) -> None:
    with db.connection() as conn:
        conn.execute("UPDATE tasks SET prompt_tokens = %s, completion_tokens = %s, cost_usd = %s WHERE id = %s",
                     (prompt_tokens, completion_tokens, cost_usd, task_id))


def tokens_today(db: Database, workspace: str) -> int:
    """Model tokens the workspace's tasks spent since midnight UTC."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT coalesce(sum(t.prompt_tokens + t.completion_tokens), 0) AS n
               FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
               WHERE w.name = %s AND t.received_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'""",
            (workspace,)).fetchone()["n"]


def requests_last_minute(db: Database, task: ChatTask) -> int:
    """How many tasks the task's user sent in the minute before it (itself not counted)."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT count(*) AS n FROM tasks
               WHERE platform = %s AND user_id = %s AND id <> %s
                 AND received_at > (SELECT received_at FROM tasks WHERE id = %s) - interval '1 minute'
                 AND received_at <= (SELECT received_at FROM tasks WHERE id = %s)""",
            (task.platform, task.user, task.id, task.id, task.id)).fetchone()["n"]


def asked_questions(db: Database, workspace: str, limit: int) -> list[dict[str, Any]]:
    """The `limit` latest questions answered in the workspace, for FAQ generation: tasks of kind
    ask that the agent took for questions (not greetings or code requests), each as it was
    searched (a follow-up rewritten as a standalone question), with who asked it and how
    confident its answer was (null for answers from before confidence was recorded)."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT t.id, t.platform || ':' || t.user_id AS asker,
                      coalesce(nullif(t.reply->'metadata'->>'query', ''), t.text) AS text,
                      (t.reply->'metadata'->>'confidence')::real AS confidence
               FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
               WHERE w.name = %s AND t.kind = 'ask' AND t.status = 'posted'
                 AND t.reply->'metadata'->>'route' = 'ask'
               ORDER BY t.received_at DESC LIMIT %s""",
            (workspace, limit)).fetchall()


def asked(db: Database, workspace: str, task_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Those of `task_ids` asked in the workspace, in the order given: id, the question as it
    was searched (a follow-up as its standalone rewording), trace id and kind."""
    with db.connection() as conn:
        rows = conn.execute(
            """SELECT t.id, coalesce(nullif(t.reply->'metadata'->>'query', ''), t.text) AS text,
                      t.trace_id, t.kind
               FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
               WHERE w.name = %s AND t.id = ANY(%s)""", (workspace, task_ids)).fetchall()
    found = {row["id"]: row for row in rows}
    return [found[task_id] for task_id in dict.fromkeys(task_ids) if task_id in found]


def mark_posted(db: Database, task_id: uuid.UUID, posted_id: str) -> None:
    with db.connection() as conn:
        conn.execute(
            "UPDATE tasks SET status = 'posted', posted_id = %s, posted_at = now(), error = NULL, "
            "updated_at = now() WHERE id = %s AND status = 'running'",
            (posted_id, task_id),
        )


def mark_skipped(db: Database, task_id: uuid.UUID, reason: str) -> bool:
    """The run ends without a reply (the channel is disabled): done, with the reason shown in
    the task list, and nothing for the reconciler to announce."""
    with db.connection() as conn:
        cur = conn.execute(
            "UPDATE tasks SET status = 'skipped', error = %s, updated_at = now() WHERE id = %s AND status = 'running'",
            (reason, task_id))
    return cur.rowcount == 1


def mark_withheld(db: Database, task_id: uuid.UUID, reason: str) -> bool:
    """An unasked question answered below its channel's threshold: done, nothing posted."""
    with db.connection() as conn:
        cur = conn.execute("UPDATE tasks SET status = 'withheld', error = %s, updated_at = now() "
                           "WHERE id = %s AND status = 'running'", (reason, task_id))
    return cur.rowcount == 1


def mark_drafted(db: Database, task_id: uuid.UUID) -> bool:
    """Answered and held for a person to publish or dismiss (its reply is recorded)."""
    with db.connection() as conn:
        cur = conn.execute("UPDATE tasks SET status = 'drafted', error = NULL, updated_at = now() "
                           "WHERE id = %s AND status = 'running'", (task_id,))
    return cur.rowcount == 1


def publish(db: Database, queue: TaskQueue, task_id: uuid.UUID, by: str, text: str | None = None) -> bool:
    """A person publishes a drafted answer (edited to `text`, if given): the task is queued again
    and its run posts the recorded reply in the question's thread. False: it is not drafted (any
    more: published or dismissed by someone else)."""
    with db.connection() as conn:
        claimed = conn.execute(
            """UPDATE tasks SET status = 'queued', queued_at = now(), updated_at = now(),
                      reply_target = reply_target || jsonb_build_object('published_by', %s::text),
                      reply = CASE WHEN %s::text IS NULL THEN reply ELSE jsonb_set(reply, '{text}', to_jsonb(%s::text)) END
               WHERE id = %s AND status = 'drafted' RETURNING id, attempts""",
            (by, text, text, task_id)).fetchall()
        if not claimed:
            return False
        try:
            _enqueue_claimed(conn, queue, claimed)
        except RedisError as exc:
            log.warning("published task %s waits for the dispatcher: could not reach Redis (%s)", task_id, exc)
    return True


def dismiss(db: Database, task_id: uuid.UUID, by: str) -> bool:
    """A person dismisses a drafted answer: done, nothing posted. False: it is not drafted."""
    with db.connection() as conn:
        cur = conn.execute("UPDATE tasks SET status = 'skipped', error = %s, updated_at = now() "
                           "WHERE id = %s AND status = 'drafted'", (f"draft dismissed by {by}", task_id))
    return cur.rowcount == 1


def mark_retrying(db: Database, task_id: uuid.UUID, error: str) -> None:
    """A run failed and RQ will run it again: back to `queued`, keeping the error for the trace."""
    with db.connection() as conn:
        conn.execute(
            "UPDATE tasks SET status = 'queued', error = %s, queued_at = now(), updated_at = now() "
            "WHERE id = %s AND status = 'running'",
            (error, task_id),
        )


def mark_failed(db: Database, task_id: uuid.UUID, error: str, *, from_status: str = "running") -> bool:
    with db.connection() as conn:
        cur = conn.execute(
            "UPDATE tasks SET status = 'failed', error = %s, failed_at = now(), updated_at = now() "
            "WHERE id = %s AND status = %s",
            (error, task_id, from_status),
        )
    return cur.rowcount == 1


def record_streamed(db: Database, task_id: uuid.UUID, message_id: str) -> None:
    """The message the task's answer is being streamed into: a re-run finishes that one."""
    with db.connection() as conn:
        conn.execute("UPDATE tasks SET streamed_id = %s, updated_at = now() WHERE id = %s", (message_id, task_id))


def record_failure_posted(db: Database, task_id: uuid.UUID, posted_id: str) -> None:
    with db.connection() as conn:
        conn.execute("UPDATE tasks SET posted_id = %s, updated_at = now() WHERE id = %s",
                     (posted_id, task_id))


def get(db: Database, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The task as the API shows it."""
    with db.connection() as conn:
        row = conn.execute(
            "SELECT t.*, w.name AS workspace FROM tasks t JOIN workspaces w ON w.id = t.workspace_id "
            "WHERE t.id = %s",
            (task_id,),
        ).fetchone()
    return row


def load(db: Database, task_id: uuid.UUID) -> ChatTask | None:
    row = get(db, task_id)
    return to_task(row) if row else None


def finished_among(db: Database, task_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `task_ids` whose outcome is recorded: posted, failed or skipped."""
    with db.connection() as conn:
        rows = conn.execute("SELECT id FROM tasks WHERE id = ANY(%s) AND status = ANY(%s)",
                            (task_ids, list(FINISHED))).fetchall()
    return {row["id"] for row in rows}


def to_task(row: dict[str, Any]) -> ChatTask:
    """A tasks row (joined with its workspace's name) as the shared noun."""
    return ChatTask(
        id=row["id"], platform=row["platform"], workspace=row["workspace"],
        platform_event_id=row["platform_event_id"], channel=row["channel"], thread=row["thread"],
        user=row["user_id"], text=row["text"], kind=row["kind"], reply_target=row["reply_target"],
        trace_id=row["trace_id"], status=row["status"], attempts=row["attempts"],
        posted_id=row["posted_id"], streamed_id=row["streamed_id"], error=row["error"],
        times={k: row[k] for k in ("received_at", "queued_at", "started_at", "posted_at", "failed_at")},
    )


# --- what the reconciler reads and changes -------------------------------------------------

def unfinished(db: Database, idle_seconds: float, limit: int = 500) -> list[dict[str, Any]]:
    """Tasks untouched for idle_seconds that are queued or running, and failures nobody was told
    about. (A `received` task is the dispatchers' to queue.)"""
    with db.connection() as conn:
        return conn.execute(
            """
            SELECT t.*, w.name AS workspace,
                   extract(epoch FROM now() - coalesce(t.started_at, t.received_at)) AS age
            FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
            WHERE (t.status IN ('queued', 'running')
                   OR (t.status = 'failed' AND t.posted_id IS NULL
                       AND t.failed_at > now() - interval '1 hour'))
              AND t.updated_at < now() - make_interval(secs => %s)
            ORDER BY t.updated_at
            LIMIT %s
            """,
            (idle_seconds, limit),
        ).fetchall()


def requeue(db: Database, task_id: uuid.UUID, from_status: str) -> bool:
    """Send a stuck task back to `received`, where a dispatcher queues it again."""
    with db.connection() as conn:
        cur = conn.execute("UPDATE tasks SET status = 'received', updated_at = now() WHERE id = %s AND status = %s",
                           (task_id, from_status))
    return cur.rowcount == 1


def claim(db: Database, row: dict[str, Any]) -> bool:
    """Touch the task if nobody changed it since `row` was read, so one reconciler acts on it."""
    with db.connection() as conn:
        cur = conn.execute(
            "UPDATE tasks SET updated_at = now() WHERE id = %s AND status = %s AND updated_at = %s",
            (row["id"], row["status"], row["updated_at"]),
        )
    return cur.rowcount == 1


def answered_in_thread(db: Database, platform: str, channel: str, thread: str) -> bool:
    """Whether a task of this thread exists: a reply there is then a follow-up to the bot."""
    with db.connection() as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM tasks WHERE platform = %s AND channel = %s AND thread = %s)"
                            " AS found", (platform, channel, thread)).fetchone()["found"]


def answered_at(db: Database, platform: str, channel: str, ts: str) -> uuid.UUID | None:
    """The latest task whose question is the message `ts` (a thread's first message) or whose
    answer it is: what a ✅ on either resolves. `ts` is Slack's message ts or a Discord message
    id; a posted answer is kept as `<channel>:<ts>` by Slack's poster and as `discord:<id>` by
    Discord's (its message ids are unique across channels)."""
    with db.connection() as conn:
        row = conn.execute(
            """SELECT id FROM tasks WHERE (platform = %s AND channel = %s AND thread = %s) OR posted_id = %s
               ORDER BY received_at DESC LIMIT 1""",
            (platform, channel, ts, f"{channel}:{ts}" if platform == "slack" else f"{platform}:{ts}")).fetchone()
    return row["id"] if row else None


def thread_conversation(db: Database, platform: str, channel: str, thread: str) -> str | None:
    """The conversation a message in `thread` goes on with, when the bot took part in the thread:
    the thread's own, where the bot answered, or, for a thread opened on one of the bot's answers
    (Discord gives such a thread the message's id), the conversation of that answer's question.
    None when the bot has not answered there."""
    with db.connection() as conn:
        row = conn.execute(
            "(SELECT thread FROM tasks WHERE platform = %s AND channel = %s AND thread = %s LIMIT 1) UNION ALL "
            "(SELECT thread FROM tasks WHERE posted_id = %s AND platform = %s AND channel = %s LIMIT 1) LIMIT 1",
            (platform, channel, thread, f"{platform}:{thread}", platform, channel)).fetchone()
    return row["thread"] if row else None


def retry(db: Database, queue: TaskQueue, task_id: uuid.UUID) -> str | None:
    """Run a failed task again with a fresh count of attempts; its status afterwards, or None
    when it is not failed. A stored reply that only failed to post is posted, not re-asked."""
    with db.connection() as conn:
        if not conn.execute("SELECT 1 FROM tasks WHERE id = %s AND status = 'failed'", (task_id,)).fetchone():
            return None
        try:
            # The failed run's entries go first, so they are never taken for the new run's. (A
            # failed task has no run going on that this could disturb.)
            queue.forget(task_id)
        except RedisError:
            pass  # then the enqueue below fails too, and says so
        claimed = conn.execute(
            "UPDATE tasks SET status = 'queued', queued_at = now(), attempts = 0, error = NULL, failed_at = NULL, "
            "posted_id = NULL, worker = NULL, updated_at = now() WHERE id = %s AND status = 'failed' "
            "RETURNING id, attempts", (task_id,)).fetchall()
        if not claimed:
            return None  # retried by someone else meanwhile
        try:
            _enqueue_claimed(conn, queue, claimed)
        except RedisError as exc:
            log.warning("task %s stays received: could not reach Redis (%s)", task_id, exc)
            return "received"
    return "queued"
