"""The serving engine: one RQ worker that keeps many jobs in flight in a pool of threads.

A chat task spends its life waiting (on the model, PostgreSQL, Slack), so a worker that forks a
work-horse per task and waits for it holds one conversation per process. Here the main thread
dequeues as RQ's own workers do, and hands each job to a thread while a slot is free; RQ's
bookkeeping stays RQ's (one Execution per job, the started/finished/failed registries, retries,
job ids = task ids), so `rq info` and the dashboard read the truth. Threads, not asyncio: the
agent, the database pool and the platform clients are synchronous libraries, and what a thread
waits on releases the GIL.

The engine rides out a Redis outage instead of exiting: it waits with back-off and reconnects,
and its jobs in flight carry on (what they could not record, the reconciler puts right).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import redis
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_never,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

# Jobs that may take minutes and hold a model or many connections (ingest, FAQ drafting): one
# at a time per process, so a burst of them never crowds out the chat.
LONG_JOBS = {"worker.jobs.ingest_sources", "worker.jobs.generate_faqs", "worker.sync.sync_source"}

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ThreadedWorker(SimpleWorker):
    # RQ's default death penalty is SIGALRM, which only the main thread can receive.
    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args, concurrency: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._long_job = threading.Lock()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="task")

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Start the job on a thread (a slot was taken before it was dequeued) and return."""
        execution = self.prepare_execution(job)
        self._pool.submit(self._perform, job, queue, execution)

    def _perform(self, job: Job, queue: Queue, execution) -> None:
        try:
            if job.func_name in LONG_JOBS:
                with self._long_job:
                    self.perform_job(job, queue, execution)
            else:
                self.perform_job(job, queue, execution)
        except Exception:
            # perform_job records a job's own failure; what reaches here is RQ's bookkeeping
            # failing (Redis went away). The task's row says where it got to, and the
            # reconciler finds it once this worker no longer holds it.
            log.exception("job %s: RQ could not record its outcome", job.id)
        finally:
            self.executions.pop(execution.id, None)
            self._slots.release()
            if not self.executions:
                self._quietly(self.set_state, WorkerStatus.IDLE)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Wait for a free slot (keeping the worker's heartbeat), then for a job; while Redis is
        unreachable, wait for it with back-off rather than exit."""
        while not self._slots.acquire(timeout=min(self.worker_ttl / 3, 5)):
            self._quietly(self.heartbeat)
            if self._stop_requested:
                raise StopRequested()
        try:
            result = self._patiently(super().dequeue_job_and_maintain_ttl, timeout, max_idle_time)
        except BaseException:
            self._slots.release()
            raise
        if result is None:
            self._slots.release()
        return result

    def prepare_execution(self, job: Job):
        return self._patiently(super().prepare_execution, job)

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        return self._patiently(super().heartbeat, timeout)

    def check_for_suspension(self, burst: bool) -> None:
        self._patiently(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        self._quietly(super().run_maintenance_tasks)

    def set_state(self, state: str, pipeline=None) -> None:
        # RQ sets IDLE before each dequeue; with jobs still in flight the worker is busy.
        if state == WorkerStatus.IDLE and self.executions:
            state = WorkerStatus.BUSY
        super().set_state(state, pipeline=pipeline)

    def _shutdown(self) -> None:
        """The first Ctrl-C or SIGTERM: take no more jobs; teardown lets those in flight finish.
        (RQ's own waits for "the current horse", and would go on dequeuing meanwhile.)"""
        self._stop_requested = True
        raise StopRequested()

    def request_force_stop(self, signum, frame) -> None:
        """The second: stop now. The jobs in flight are cut short; their tasks are still
        `running` on a worker that no longer beats, and the reconciler runs them again."""
        log.warning("worker %s: cold shutdown, %d jobs in flight left to the reconciler",
                    self.name, len(self.executions))
        self._quietly(super().teardown)
        logging.shutdown()
        os._exit(1)

    def teardown(self) -> None:
        if self.executions:
            log.info("worker %s: finishing %d jobs in flight", self.name, len(self.executions))
        self._pool.shutdown(wait=True)
        self._quietly(super().teardown)

    def bootstrap(self, *args) -> None:
        # A worker (re)started while Redis is away waits for it here rather than exit.
        self._patiently(self.connection.ping, reregister=False)
        super().bootstrap(*args)

    def _patiently(self, call, *args, reregister: bool = True):
        """call(*args), waiting out a Redis outage with back-off; a stop request ends the wait.
        With reregister, a worker Redis forgot meanwhile registers again before the call."""
        for attempt in Retrying(retry=retry_if_exception_type(REDIS_DOWN), stop=stop_never,
                                wait=wait_exponential_jitter(initial=0.5, max=10), reraise=True,
                                before_sleep=self._log_outage):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    if self._stop_requested:
                        raise StopRequested()
                    if reregister:
                        self._reregister()
                return call(*args)

    def _quietly(self, call, *args) -> None:
        try:
            call(*args)
        except REDIS_DOWN as exc:
            log.warning("worker %s: Redis unreachable (%s); carrying on", self.name, exc)

    def _log_outage(self, state) -> None:
        log.warning("worker %s: Redis unreachable (%s); trying again in %.1fs, %d jobs in flight",
                    self.name, state.outcome.exception(), state.next_action.sleep, len(self.executions))

    def _reregister(self) -> None:
        """A Redis that restarted without its data has forgotten this worker: register again, so
        `rq info`, /readyz and the reconciler see it."""
        if not self.connection.exists(self.key):
            self.register_birth()
