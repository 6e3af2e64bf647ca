"""The RQ queue that carries task ids from the web side to the workers, and worker heartbeats."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.utils import utcparse

# A retry waits a little longer each time; RQ's scheduler (run by the workers) requeues it.
RETRY_BACKOFF = [5, 30, 120]


@dataclass(frozen=True)
class Whereabouts:
    """Where RQ holds a task's job: `queued` (in the queue's list), `scheduled` (a retry, due
    at `due`, a Unix time), `started` (on `worker`), or `nowhere`."""
    place: str
    due: float | None = None
    worker: str | None = None
    started: float | None = None  # when the worker took it, a Unix time


# A beat this soon after a job started may have been written before the worker's thread took it.
BEAT_SKEW = 1.0


class TaskQueue:
    def __init__(self, redis_url: str, name: str, *, job_timeout: int, max_attempts: int):
        # Short socket timeouts: a dead Redis must not hold up a chat platform's request.
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.rq = Queue(name, connection=self.redis)
        # Ingest runs on its own queue, which workers serve after the chat queue: a question
        # waiting behind a long ingest would miss the platform's patience.
        self.ingest = Queue(f"{name}-ingest", connection=self.redis)
        self.job_timeout = job_timeout
        self.max_attempts = max_attempts

    def enqueue(self, task_id: uuid.UUID, attempts_so_far: int = 0) -> Job:
        """Queue one run of the task; RQ retries a failing run until max_attempts runs are spent."""
        job_id = str(task_id)
        retries = self.max_attempts - attempts_so_far - 1
        return self.rq.enqueue(
            "worker.jobs.run_task",
            job_id,
            job_id=job_id,
            job_timeout=self.job_timeout,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            # RQ takes intervals from the end of the list, so hand it only as many as retries.
            retry=Retry(max=retries, interval=RETRY_BACKOFF[:retries]) if retries > 0 else None,
        )

    def enqueue_hand_over(self, task_id: uuid.UUID, by: str) -> Job:
        """Call the task's channel's people to its thread ("Ask a person"): once per task (the
        job id), retried like a run, since someone is waiting for a person."""
        return self.rq.enqueue("worker.desk.hand_over", str(task_id), by, job_id=f"hand-over-{task_id}",
                               job_timeout=60, result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600,
                               retry=Retry(max=len(RETRY_BACKOFF), interval=RETRY_BACKOFF))

    def enqueue_follow_up(self, task_id: uuid.UUID, minutes: int) -> Job:
        """Ask in the task's thread, `minutes` from now, whether its answer helped (once: the job id)."""
        return self.rq.enqueue_in(timedelta(minutes=minutes), "worker.desk.follow_up", str(task_id),
                                  job_id=f"follow-up-{task_id}", job_timeout=60, result_ttl=24 * 3600,
                                  failure_ttl=7 * 24 * 3600)

    def enqueue_resolved(self, task_id: uuid.UUID) -> Job:
        """What follows a thread marked resolved: the platform told (a forum post's Solved tag),
        and an FAQ drafted from the answer a person gave there (on the ingest queue: it embeds,
        and nobody waits on it)."""
        return self.ingest.enqueue("worker.desk.resolved", str(task_id), job_id=f"resolved-{task_id}",
                                   job_timeout=300, result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)

    def enqueue_ingest(self, workspace: str, targets: list[str], **options) -> Job:
        return self.ingest.enqueue("worker.jobs.ingest_sources", workspace, targets, **options,
                                   job_timeout=6 * 3600, result_ttl=7 * 24 * 3600,
                                   failure_ttl=7 * 24 * 3600)

    def enqueue_sync(self, workspace: str, source_id: uuid.UUID, changed: dict | None = None, *,
                     due: datetime | None = None) -> Job | None:
        """Sync a source: now (the dashboard, the CLI, a webhook's push), or at its schedule's
        `due` time through RQ's scheduler. A scheduled run has one job id per due time, so the
        sweep that heals a job Redis lost adds nothing while the job waits or runs (None)."""
        options = {"job_timeout": 6 * 3600, "result_ttl": 7 * 24 * 3600, "failure_ttl": 7 * 24 * 3600}
        args = ("worker.sync.sync_source", workspace, str(source_id), changed)
        if due is None:
            return self.ingest.enqueue(*args, job_id=f"sync-{source_id}-{uuid.uuid4().hex[:12]}", **options)
        job_id = f"sync-{source_id}-at-{int(due.timestamp())}"
        if self.redis.hget(Job.key_for(job_id), "status") in (b"queued", b"started", b"scheduled", b"deferred"):
            return None
        if due.timestamp() <= time.time():
            return self.ingest.enqueue(*args, job_id=job_id, **options)
        return self.ingest.enqueue_at(due, *args, job_id=job_id, **options)

    def enqueue_faqs(self, workspace: str) -> Job:
        # On the ingest queue: like an ingest it may take minutes, and no chat user waits on it.
        return self.ingest.enqueue("worker.jobs.generate_faqs", workspace, job_timeout=3600,
                                   result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)

    def enqueue_proposal(self, workspace: str, proposal_id: uuid.UUID) -> Job:
        """Write a doc proposal to GitHub (worker/proposals.py): on the ingest queue, since it
        waits on GitHub and no chat user waits on it."""
        return self.ingest.enqueue("worker.proposals.propose", workspace, str(proposal_id), job_timeout=600,
                                   result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)

    def forget(self, task_id: uuid.UUID) -> None:
        """Drop what RQ remembers of an earlier run before the task is queued again under the
        same job id, so an expired entry of the dead run is never taken for the new one."""
        self.redis.delete(_missing(str(task_id)))
        try:
            job = Job.fetch(str(task_id), connection=self.redis)
        except NoSuchJobError:
            return
        StartedJobRegistry(queue=self.rq).remove_executions(job)
        FailedJobRegistry(queue=self.rq).remove(job)
        ScheduledJobRegistry(queue=self.rq).remove(job)

    def whereabouts(self, task_id: uuid.UUID) -> Whereabouts:
        """Where the task's job is now. A job whose hash survived while its place in the queue
        or the scheduled registry did not (Redis restarted from an append-only file a second
        behind) is `nowhere`: nothing will run it."""
        job_id = str(task_id)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpos(self.rq.key, job_id)
            pipe.zscore(ScheduledJobRegistry(queue=self.rq).key, job_id)
            pipe.hmget(Job.key_for(job_id), "status", "worker_name", "started_at")
            position, due, (status, worker, started) = pipe.execute()
        if position is not None:
            return Whereabouts("queued")
        if due is not None:
            return Whereabouts("scheduled", due=due)
        if status == b"started" and worker:
            return Whereabouts("started", worker=worker.decode(),
                               started=utcparse(started.decode()).replace(tzinfo=timezone.utc).timestamp()
                               if started else None)
        # A worker serving several queues pops the job off its list and records the run it took
        # before the thread that runs it marks the job started: a moment in which nothing else
        # says where the job is.
        if taken := self._latest_execution(job_id):
            return Whereabouts("started", worker=taken.worker_name, started=taken.created_at.timestamp())
        return Whereabouts("nowhere")

    def missing_since(self, task_id: uuid.UUID, lapse_after: float) -> float:
        """When a reconciler first found the task's job nowhere (a Unix time), marking it now if
        none has. A worker pops a job off the queue's list and records the run it took a moment
        later; nothing in Redis names the job in between, so one look cannot tell a job being
        taken from a lost one. The mark lapses after `lapse_after` seconds: a job found nowhere
        again much later is a new case."""
        key = _missing(str(task_id))
        self.redis.set(key, time.time(), nx=True, px=int(lapse_after * 1000))
        return float(self.redis.get(key) or time.time())

    def _latest_execution(self, job_id: str) -> Execution | None:
        try:
            executions = ExecutionRegistry(job_id, connection=self.redis).get_executions()
        except ValueError:  # a run's record expired before its place in the registry did
            return None
        return max(executions, key=lambda execution: execution.created_at, default=None)

    def uptime(self) -> float:
        """Seconds since Redis started: younger than a heartbeat's interval, it may have
        forgotten workers that are alive."""
        return float(self.redis.info("server")["uptime_in_seconds"])

    # Our own heartbeat, kept by each worker process next to RQ's: RQ keeps a dead worker's
    # key for a minute or more, and a task stuck on a dead worker should be rescued sooner. It
    # names the tasks the worker holds: RQ's own record of a job in flight outlives the run when
    # Redis comes back from its append-only file after the run gave up on it.
    def beat(self, worker_name: str, ttl: float, holding: Iterable[str] = ()) -> None:
        self.redis.set(_heartbeat(worker_name), json.dumps({"at": time.time(), "tasks": sorted(holding)}),
                       px=int(ttl * 1000))

    def is_alive(self, worker_name: str) -> bool:
        return bool(self.redis.exists(_heartbeat(worker_name)))

    def holds(self, worker_name: str, task_id: uuid.UUID, since: float | None) -> bool:
        """Whether `worker_name` is alive and still holds the task it took at `since`: its last
        beat names the task, or came too soon after `since` to know of it."""
        beat = self.redis.get(_heartbeat(worker_name))
        if beat is None:
            return False
        beat = json.loads(beat)
        return since is None or beat["at"] < since + BEAT_SKEW or str(task_id) in beat["tasks"]

    def stats(self) -> dict:
        """What /readyz reports: live RQ workers, queue depth and failed jobs."""
        return {
            "workers": len(Worker.all(queue=self.rq)),  # all() skips workers whose key expired
            "queued": self.rq.count,
            "failed": FailedJobRegistry(queue=self.rq).count,
        }

    def workers(self) -> list[dict]:
        """The live RQ workers, with RQ's last heartbeat and whether our own heartbeat is fresh."""
        return [{"name": w.name, "state": _state(w), "queues": w.queue_names(),
                 "in_flight": w.current_execution_count,
                 "last_heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
                 "started_at": w.birth_date.isoformat() if w.birth_date else None,
                 "jobs_done": w.successful_job_count, "jobs_failed": w.failed_job_count,
                 "alive": self.is_alive(w.name)}
                for w in Worker.all(connection=self.redis)]

    def queues(self) -> dict:
        return {q.name: {"queued": q.count, "running": StartedJobRegistry(queue=q).count,
                         "failed": FailedJobRegistry(queue=q).count} for q in (self.rq, self.ingest)}

    def failed_jobs(self, limit: int = 100) -> list[dict]:
        """Jobs in the failed registries, newest first: what ran, when, and the last line of why."""
        jobs = []
        for queue in (self.rq, self.ingest):
            registry = FailedJobRegistry(queue=queue)
            for job in Job.fetch_many(registry.get_job_ids(0, limit - 1), connection=self.redis):
                if job is None:  # expired between listing and fetching
                    continue
                result = job.latest_result()
                jobs.append({"id": job.id, "queue": queue.name, "function": job.func_name,
                             "args": [str(a) for a in job.args],
                             "failed_at": job.ended_at.isoformat() if job.ended_at else None,
                             "error": result.exc_string.strip().splitlines()[-1]
                             if result and result.exc_string else None})
        return sorted(jobs, key=lambda j: j["failed_at"] or "", reverse=True)[:limit]

    def requeue_failed(self, job_id: str) -> bool:
        """Put a failed job back on its queue; False when no failed job has that id."""
        for queue in (self.rq, self.ingest):
            registry = FailedJobRegistry(queue=queue)
            if job_id in registry.get_job_ids():
                registry.requeue(job_id)
                return True
        return False


def _heartbeat(worker_name: str) -> str:
    return f"morningai:heartbeat:{worker_name}"


def _missing(job_id: str) -> str:
    return f"morningai:missing:{job_id}"


def _state(worker: Worker) -> str:
    # RQ says "?" of a worker registered a moment before it records its first state.
    state = worker.get_state()
    return "starting" if state == "?" else state
