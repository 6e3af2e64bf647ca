"""The RQ queue that carries task ids from the web side to the workers, and worker heartbeats."""

from __future__ import annotations

import uuid

from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

# A retry waits a little longer each time; RQ's scheduler (run by the workers) requeues it.
RETRY_BACKOFF = [5, 30, 120]


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
            "hub.worker.run_task",
            job_id,
            job_id=job_id,
            job_timeout=self.job_timeout,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            # RQ takes intervals from the end of the list, so hand it only as many as retries.
            retry=Retry(max=retries, interval=RETRY_BACKOFF[:retries]) if retries > 0 else None,
        )

    def enqueue_ingest(self, workspace: str, targets: list[str], **options) -> Job:
        return self.ingest.enqueue("hub.worker.ingest_sources", workspace, targets, **options,
                                   job_timeout=6 * 3600, result_ttl=7 * 24 * 3600,
                                   failure_ttl=7 * 24 * 3600)

    def enqueue_faqs(self, workspace: str) -> Job:
        # On the ingest queue: like an ingest it may take minutes, and no chat user waits on it.
        return self.ingest.enqueue("hub.worker.generate_faqs", workspace, job_timeout=3600,
                                   result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)

    def forget(self, task_id: uuid.UUID) -> None:
        """Drop what RQ remembers of an earlier run before the task is queued again under the
        same job id, so an expired entry of the dead run is never taken for the new one."""
        try:
            job = Job.fetch(str(task_id), connection=self.redis)
        except NoSuchJobError:
            return
        StartedJobRegistry(queue=self.rq).remove_executions(job)
        FailedJobRegistry(queue=self.rq).remove(job)

    def has_job(self, task_id: uuid.UUID) -> bool:
        return Job.exists(str(task_id), connection=self.redis)

    # Our own heartbeat, kept by each worker process next to RQ's: RQ keeps a dead worker's
    # key for a minute or more, and a task stuck on a dead worker should be rescued sooner.
    def beat(self, worker_name: str, ttl: float) -> None:
        self.redis.set(f"morningai:heartbeat:{worker_name}", "1", px=int(ttl * 1000))

    def is_alive(self, worker_name: str) -> bool:
        return bool(self.redis.exists(f"morningai:heartbeat:{worker_name}"))

    def stats(self) -> dict:
        """What /readyz reports: live RQ workers, queue depth and failed jobs."""
        return {
            "workers": len(Worker.all(queue=self.rq)),  # all() skips workers whose key expired
            "queued": self.rq.count,
            "failed": FailedJobRegistry(queue=self.rq).count,
        }

    def job_running_on(self, worker_name: str) -> str | None:
        """The id of the job `worker_name` is running now; None if it is idle or dead."""
        if not self.is_alive(worker_name):
            return None
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name,
                                    connection=self.redis)
        return worker.get_current_job_id() if worker else None
