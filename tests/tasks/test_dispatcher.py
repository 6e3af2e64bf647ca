"""A task a chat platform's request only stored (`lifecycle.store`) is queued by the workers'
dispatchers, once however many of them run, and once when a submit races them."""

import threading
import uuid
from collections.abc import Iterator

import pytest
from support import wait_for

from core.models import ChatTask
from tasks import dispatcher, lifecycle


def _slack_task() -> ChatTask:
    return ChatTask(platform="slack", workspace="default", platform_event_id=f"Ev{uuid.uuid4().hex[:12]}",
                    text="how do we rotate credentials?", channel="C0DISPATCH", thread="1700000000.000100")


def _queued(rt, task_id: uuid.UUID) -> bool:
    # The row turns `queued` just before its job is made: wait for both.
    return lifecycle.get(rt.db, task_id)["status"] == "queued" and rt.queue.whereabouts(task_id).place == "queued"


@pytest.fixture
def start_dispatchers(rt) -> Iterator:
    """Start n dispatchers, as n workers would run them."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(n: int = 1) -> None:
        for _ in range(n):
            threads.append(threading.Thread(target=dispatcher.run, args=(rt, stop), daemon=True))
            threads[-1].start()

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def test_a_stored_task_stays_received_until_a_dispatcher_queues_it(rt, start_dispatchers):
    stored = lifecycle.store(rt.db, _slack_task())
    assert stored.created and stored.status == "received"
    assert lifecycle.get(rt.db, stored.task_id)["status"] == "received"
    assert rt.queue.whereabouts(stored.task_id).place == "nowhere"

    start_dispatchers()
    wait_for(lambda: _queued(rt, stored.task_id), what="the stored task queued")
    assert rt.queue.rq.job_ids == [str(stored.task_id)]


def test_dispatchers_and_submits_racing_queue_each_task_once(rt, start_dispatchers):
    start_dispatchers(2)
    stored = [lifecycle.store(rt.db, _slack_task()).task_id for _ in range(30)]
    submitted = [lifecycle.submit(rt.db, rt.queue, _slack_task()) for _ in range(30)]
    assert {s.status for s in submitted} == {"queued"}
    every = stored + [s.task_id for s in submitted]
    wait_for(lambda: all(_queued(rt, task_id) for task_id in every), what="every task queued")
    assert sorted(rt.queue.rq.job_ids) == sorted(map(str, every))


def test_a_redelivered_event_is_queued_once(rt, start_dispatchers):
    start_dispatchers()
    task = _slack_task()
    first = lifecycle.store(rt.db, task)
    wait_for(lambda: _queued(rt, first.task_id), what="the task queued")
    again = lifecycle.store(rt.db, task)
    assert (again.task_id, again.created, again.status) == (first.task_id, False, "queued")
    assert rt.queue.rq.job_ids == [str(first.task_id)]
