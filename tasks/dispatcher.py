"""The dispatcher: a thread in each worker that queues the tasks waiting `received`.

A chat platform's request only stores its task (`lifecycle.store`), so its acknowledgement waits on
one INSERT and never on Redis; the dispatchers queue it a moment later. They poll, as
solid_queue and good_job do, rather than wait on NOTIFY: PostgreSQL serialises the commits of
every transaction that notifies, which would have undone the gain at a burst of events.
Several dispatchers share the work through `FOR UPDATE SKIP LOCKED`, and each task is queued
once (`lifecycle.dispatch_waiting`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from redis.exceptions import RedisError

from core.models import ChatTask
from core.runtime import Runtime
from tasks import lifecycle

log = logging.getLogger(__name__)

# Between polls while nothing waits: the most a stored task waits to be queued.
POLL = 0.1
BATCH = 100


def run(rt: Runtime, stop: threading.Event, on_queued: Callable[[ChatTask], None] = lambda task: None) -> None:
    """Queue waiting tasks until `stop` is set, handing each to `on_queued` (which must return at
    once). While Redis or PostgreSQL is unreachable the tasks stay `received`, and the
    dispatcher tries again every reconcile_interval."""
    while not stop.is_set():
        try:
            queued = lifecycle.dispatch_waiting(rt.db, rt.queue, BATCH)
        except (RedisError, psycopg.OperationalError) as exc:
            log.warning("dispatcher: %s (%s); trying again in %ss", _what(exc), exc, rt.settings.reconcile_interval)
            stop.wait(rt.settings.reconcile_interval)
            continue
        if queued:
            log.debug("dispatcher: queued %d tasks", len(queued))
        for task in queued:
            on_queued(task)
        if len(queued) < BATCH:
            stop.wait(POLL)


def _what(exc: Exception) -> str:
    return "could not reach Redis" if isinstance(exc, RedisError) else "could not reach PostgreSQL"
