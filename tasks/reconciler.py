"""The reconciler: no accepted message is silently dropped.

A task is healthy only while something will run it. A sweep finds those nothing will, past a
grace period, and sets them going again:
- `queued` but its job is neither in the queue, nor a retry in the scheduled registry that is
  not yet overdue, nor started on a live worker, and was not a moment ago either (Redis lost its
  data or part of it, a retry's scheduler never ran it, a worker died between taking the job and
  starting the task) -> back to `received`, for a dispatcher to queue again;
- `running` but no live worker has its job in flight (the worker died) -> the same, or, once
  max_attempts runs are spent, mark it failed. Not while Redis is younger than a worker's
  heartbeat: a Redis that restarted empty has forgotten workers that are alive;
- `failed` and the user not told yet -> tell them in the chat.
Each action first claims the row it read, so any number of reconcilers can sweep at once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from redis.exceptions import RedisError

from core.models import ChatTask
from core.queue import Whereabouts
from core.runtime import Runtime
from tasks import lifecycle

log = logging.getLogger(__name__)

# A worker's heartbeat lives this many reconcile intervals (worker/process.py keeps it).
HEARTBEAT_TTLS = 3
# Seconds a queued task's job may be nowhere in Redis before it is lost: a worker that popped it
# records the run it took within moments (core/queue.py: missing_since).
TAKING = 1.0


def sweep(rt: Runtime, announce_failure: Callable[[ChatTask], None]) -> Counter:
    """One pass over stuck tasks; returns what it did, by action."""
    done: Counter = Counter()
    grace = rt.settings.reconcile_interval
    rows = lifecycle.unfinished(rt.db, idle_seconds=grace)
    try:
        judge_running = bool(rows) and rt.queue.uptime() > HEARTBEAT_TTLS * grace
    except RedisError as exc:
        log.warning("reconciler: Redis unreachable (%s); will try again", exc)
        return done
    for row in rows:
        if row["status"] == "running" and not judge_running:
            continue
        try:
            action = _reconcile(rt, row, announce_failure)
        except RedisError as exc:
            log.warning("reconciler: Redis unreachable (%s); will try again", exc)
            break
        if action:
            log.info("reconciler: task %s (%s): %s", row["id"], row["status"], action)
            done[action] += 1
    return done


def _reconcile(rt: Runtime, row: dict, announce_failure: Callable[[ChatTask], None]) -> str | None:
    status = row["status"]
    if status == "queued":
        where = rt.queue.whereabouts(row["id"])
        if not _will_run(rt, row["id"], where) and lifecycle.claim(rt.db, row):
            log.warning("reconciler: task %s is queued but its job is %s", row["id"], _describe(where))
            return "re-queued lost job" if _queue_again(rt, row) else None
    elif status == "running":
        started = row["started_at"].timestamp() if row["started_at"] else None
        if rt.queue.holds(row["worker"] or "", row["id"], since=started):
            return None  # still being worked on
        if row["attempts"] >= rt.settings.max_attempts:
            reason = f"the worker stopped while answering, {row['attempts']} times"
            if lifecycle.mark_failed(rt.db, row["id"], reason):
                announce_failure(lifecycle.load(rt.db, row["id"]))
                return "failed"
        elif lifecycle.claim(rt.db, row):
            return "re-queued from dead worker" if _queue_again(rt, row) else None
    elif status == "failed":
        if lifecycle.claim(rt.db, row):
            announce_failure(lifecycle.to_task(row))
            return "announced failure"
    return None


def _will_run(rt: Runtime, task_id, where: Whereabouts) -> bool:
    if where.place == "queued":
        return True
    if where.place == "scheduled":  # a retry RQ's scheduler should have queued by now is lost
        return where.due > time.time() - rt.settings.reconcile_interval
    if where.place == "started":
        return rt.queue.holds(where.worker, task_id, since=where.started)
    lapse = HEARTBEAT_TTLS * rt.settings.reconcile_interval + TAKING  # outlives the sweeps between two looks
    return rt.queue.missing_since(task_id, lapse_after=lapse) > time.time() - TAKING


def _describe(where: Whereabouts) -> str:
    if where.place == "scheduled":
        return f"a retry overdue by {time.time() - where.due:.0f}s"
    if where.place == "started":
        return f"started on {where.worker}, which is dead or no longer holds it"
    return "nowhere in Redis"


def _queue_again(rt: Runtime, row: dict) -> bool:
    """Hand a task this reconciler claimed back to the dispatchers. What RQ remembers of the
    earlier run is dropped first, so that it is never taken for the new run's."""
    rt.queue.forget(row["id"])
    return lifecycle.requeue(rt.db, row["id"], row["status"])
