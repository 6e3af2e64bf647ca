"""The reconciler: no accepted message is silently dropped.

A sweep finds tasks that stopped moving and sets them going again:
- `queued` but its job is gone from Redis (Redis lost its data, or the process that queued it
  died before making the job) -> back to `received`, for a dispatcher to queue again;
- `running` but no live worker is running its job (the worker died) -> the same, or,
  once max_attempts runs are spent, mark it failed;
- `failed` and the user not told yet -> tell them in the chat.
Each action first claims the row it read, so any number of reconcilers can sweep at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from redis.exceptions import RedisError

from core.models import ChatTask
from core.runtime import Runtime
from tasks import lifecycle

log = logging.getLogger(__name__)


def sweep(rt: Runtime, announce_failure: Callable[[ChatTask], None]) -> Counter:
    """One pass over stuck tasks; returns what it did, by action."""
    done: Counter = Counter()
    grace = rt.settings.reconcile_interval
    for row in lifecycle.unfinished(rt.db, idle_seconds=grace):
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
        if not rt.queue.has_job(row["id"]) and lifecycle.claim(rt.db, row):
            return "re-queued lost job" if _queue_again(rt, row) else None
    elif status == "running":
        if rt.queue.job_running_on(row["worker"] or "") == str(row["id"]):
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


def _queue_again(rt: Runtime, row: dict) -> bool:
    """Hand a task this reconciler claimed back to the dispatchers. What RQ remembers of the
    earlier run is dropped first, so that it is never taken for the new run's."""
    rt.queue.forget(row["id"])
    return lifecycle.requeue(rt.db, row["id"], row["status"])
