"""A worker process: one RQ worker (with RQ's scheduler, for retries with intervals) running
the jobs of worker/jobs.py, many at once (worker/engine.py) unless the fork engine is chosen,
and three threads beside it: the dispatcher, which queues the tasks stored `received` and has
their sign of work put up (worker/progress.py), the heartbeat, which says which tasks this
worker holds, and the watch, which runs the reconciler."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from rq import Worker

from core.runtime import Runtime
from memory.embedders import load_before_fork
from tasks import dispatcher, reconciler
from worker import jobs, sync
from worker.engine import ThreadedWorker
from worker.progress import EarlyProgress

log = logging.getLogger(__name__)


def serve(wiring: jobs.Wiring, *, burst: bool = False) -> None:
    """Work the queues until stopped (or, with burst, until they are empty)."""
    rt = wiring.runtime
    jobs.install(wiring)
    load_before_fork(rt.embedder)
    name = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    queues = [rt.queue.rq, rt.queue.ingest]
    if rt.settings.worker_engine == "threads":
        # A task holds a connection only for a query at a time, never across the model call:
        # a quarter of the threads (and the dispatcher's and reconciler's) is plenty.
        rt.db.grow(4 + rt.settings.worker_concurrency // 4)
        worker = ThreadedWorker(queues, connection=rt.queue.redis, name=name,
                                concurrency=rt.settings.worker_concurrency)
    else:
        worker = Worker(queues, connection=rt.queue.redis, name=name)
    stop = threading.Event()

    def holding() -> set[str]:  # the jobs this worker has in flight, for its heartbeat
        return {execution.job_id for execution in list(worker.executions.values())}

    early = EarlyProgress(rt.db, wiring.posters)
    helpers = [threading.Thread(target=_beat, args=(rt, name, holding, stop), name="heartbeat", daemon=True),
               threading.Thread(target=_keep_watch, args=(wiring, stop), name="reconciler", daemon=True),
               threading.Thread(target=dispatcher.run, args=(rt, stop, early.queued), name="dispatcher",
                                daemon=True)]
    for helper in helpers:
        helper.start()
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level=rt.settings.log_level)
    finally:
        stop.set()
        for helper in helpers:
            helper.join(timeout=5)


def run_in_process(wiring: jobs.Wiring) -> None:
    """Work the queues until they are empty, here (`morningai ask` when no hub is running)."""
    rt = wiring.runtime
    jobs.install(wiring)
    Worker([rt.queue.rq, rt.queue.ingest], connection=rt.queue.redis).work(burst=True, logging_level="WARNING")


def _beat(rt: Runtime, worker_name: str, holding: Callable[[], set[str]], stop: threading.Event) -> None:
    """Beat every reconcile interval, on a thread of its own: a sweep that takes longer than a
    heartbeat lives (hundreds of stuck tasks, a slow database) must not let this worker's beat
    lapse, or reconcilers, its own included, take its tasks for a dead worker's."""
    interval = rt.settings.reconcile_interval
    while not stop.is_set():
        try:
            rt.queue.beat(worker_name, ttl=reconciler.HEARTBEAT_TTLS * interval, holding=holding())
        except Exception:
            log.exception("heartbeat failed; next one in %ss", interval)
        stop.wait(interval)


def _keep_watch(wiring: jobs.Wiring, stop: threading.Event) -> None:
    rt = wiring.runtime
    interval = rt.settings.reconcile_interval
    while not stop.is_set():
        try:
            reconciler.sweep(rt, lambda task: jobs.announce_failure(rt, wiring.posters, task))
            sync.enqueue_due(rt)
        except Exception:
            log.exception("reconciler sweep failed; next one in %ss", interval)
        stop.wait(interval)
