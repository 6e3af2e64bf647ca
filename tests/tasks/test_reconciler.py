"""The reconciler calls a task lost when nothing will run it, whatever Redis kept of its job,
and hands it back to the dispatchers; a task something will run is left alone."""

import time
import uuid
from datetime import datetime, timezone

import pytest
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry

from core.models import ChatTask
from tasks import lifecycle, reconciler


def _queued_task(rt) -> uuid.UUID:
    task = ChatTask(platform="web", workspace="default", platform_event_id=uuid.uuid4().hex,
                    text="where is the runbook?", channel="playground")
    return lifecycle.submit(rt.db, rt.queue, task).task_id


def _idle(owner, task_id, seconds=60):
    """As if the task had not moved for `seconds` (the reconciler waits out a grace period)."""
    owner.execute("UPDATE tasks SET updated_at = now() - make_interval(secs => %s) WHERE id = %s",
                  (seconds, task_id))


def _sweep(rt):
    return reconciler.sweep(rt, lambda task: pytest.fail(f"no failure to announce, got {task.id}"))


def test_a_queued_task_whose_job_lost_its_place_in_the_queue_is_queued_again(rt, owner):
    task_id = _queued_task(rt)
    rt.queue.redis.lrem(rt.queue.rq.key, 0, str(task_id))  # the job's hash survived, its place did not
    assert rt.queue.redis.exists(f"rq:job:{task_id}")
    _idle(owner, task_id)
    assert _sweep(rt) == {}  # it may be a job a worker is taking this moment

    time.sleep(reconciler.TAKING)
    _idle(owner, task_id)
    assert _sweep(rt) == {"re-queued lost job": 1}
    assert lifecycle.get(rt.db, task_id)["status"] == "received"  # the dispatchers queue it again
    assert not rt.queue.redis.exists(f"morningai:missing:{task_id}")  # the next run's look starts afresh


def test_a_retry_the_scheduler_never_ran_is_lost_once_overdue_and_not_before(rt, owner):
    task_id = _queued_task(rt)
    scheduled = ScheduledJobRegistry(queue=rt.queue.rq)
    rt.queue.redis.lrem(rt.queue.rq.key, 0, str(task_id))
    rt.queue.redis.zadd(scheduled.key, {str(task_id): time.time() + 30})  # a retry due in 30 s
    _idle(owner, task_id)
    assert _sweep(rt) == {}
    assert lifecycle.get(rt.db, task_id)["status"] == "queued"

    rt.queue.redis.zadd(scheduled.key, {str(task_id): time.time() - 5 * rt.settings.reconcile_interval})
    assert _sweep(rt) == {"re-queued lost job": 1}
    assert lifecycle.get(rt.db, task_id)["status"] == "received"
    assert rt.queue.redis.zscore(scheduled.key, str(task_id)) is None  # the stale retry cannot fire later


def test_a_job_started_on_a_dead_worker_before_its_task_started_is_lost(rt, owner):
    task_id = _queued_task(rt)
    rt.queue.redis.lrem(rt.queue.rq.key, 0, str(task_id))
    rt.queue.redis.hset(f"rq:job:{task_id}", mapping={"status": "started", "worker_name": "gone.1.abc"})
    _idle(owner, task_id)
    assert _sweep(rt) == {"re-queued lost job": 1}


def test_queued_and_started_on_a_live_worker_are_left_alone(rt, owner):
    waiting, started = _queued_task(rt), _queued_task(rt)
    rt.queue.redis.lrem(rt.queue.rq.key, 0, str(started))
    rt.queue.redis.hset(f"rq:job:{started}", mapping={"status": "started", "worker_name": "alive.1.abc"})
    rt.queue.beat("alive.1.abc", ttl=60)
    for task_id in (waiting, started):
        _idle(owner, task_id)
    assert _sweep(rt) == {}
    assert {lifecycle.get(rt.db, t)["status"] for t in (waiting, started)} == {"queued"}


def test_a_job_that_redis_says_started_on_a_live_worker_which_no_longer_holds_it_is_lost(rt, owner):
    """Redis came back from its append-only file with the job still `started` on a worker that
    is alive, but whose run gave up on it while Redis was down: its beat no longer names it."""
    held, dropped = _queued_task(rt), _queued_task(rt)
    took_them = time.time() - 30
    for task_id in (held, dropped):
        rt.queue.redis.lrem(rt.queue.rq.key, 0, str(task_id))
        rt.queue.redis.hset(f"rq:job:{task_id}", mapping={
            "status": "started", "worker_name": "alive.1.abc",
            "started_at": datetime.fromtimestamp(took_them, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
        _idle(owner, task_id)
    rt.queue.beat("alive.1.abc", ttl=60, holding=[str(held)])
    assert _sweep(rt) == {"re-queued lost job": 1}
    assert lifecycle.get(rt.db, held)["status"] == "queued"
    assert lifecycle.get(rt.db, dropped)["status"] == "received"  # for a dispatcher to queue again



def test_a_job_a_worker_took_but_has_not_marked_started_is_on_that_worker(rt, owner):
    """A worker serving the chat and ingest queues pops the job, records its run, and only then
    does the run's thread mark the job started. A sweep in that moment must not queue the task
    a second time; if the worker died in it, the task is lost like any other on a dead worker."""
    took, died = _queued_task(rt), _queued_task(rt)
    queues = [rt.queue.rq, rt.queue.ingest]
    alive = Worker(queues, connection=rt.queue.redis, name="alive.1.abc")
    dead = Worker(queues, connection=rt.queue.redis, name="dead.1.abc")
    for worker in (alive, dead):
        job, _ = Queue.dequeue_any(queues, timeout=None, connection=rt.queue.redis)
        worker.prepare_execution(job)  # as RQ's worker does before handing the job to a thread
        assert rt.queue.redis.hget(f"rq:job:{job.id}", "status") == b"queued"
    rt.queue.beat("alive.1.abc", ttl=60)
    for task_id in (took, died):
        _idle(owner, task_id)

    assert _sweep(rt) == {"re-queued lost job": 1}
    assert lifecycle.get(rt.db, took)["status"] == "queued"
    assert lifecycle.get(rt.db, died)["status"] == "received"
