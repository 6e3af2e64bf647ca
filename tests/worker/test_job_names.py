"""Jobs queued by the release before the rooms, under `hub.worker.*`, still run after the upgrade."""

import uuid

from core.models import ChatTask
from hub import wiring
from tasks import lifecycle
from worker import process


def test_a_task_queued_under_the_old_job_name_is_answered_and_posted(rt):
    task = ChatTask(platform="web", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text="help", channel="playground", user="ada@example.com")
    stored = lifecycle.store(rt.db, task)
    # What the previous release's TaskQueue.enqueue put in Redis: the function by dotted name.
    rt.queue.rq.enqueue("hub.worker.run_task", str(stored.task_id), job_id=str(stored.task_id))

    process.run_in_process(wiring.for_worker(rt))

    row = lifecycle.get(rt.db, stored.task_id)
    assert row["status"] == "posted", row["error"]
    assert row["reply"]["text"]


def test_new_tasks_are_queued_under_the_new_name(rt):
    task = ChatTask(platform="web", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text="help", channel="playground", user="ada@example.com")
    job = rt.queue.enqueue(lifecycle.store(rt.db, task).task_id)
    assert job.func_name == "worker.jobs.run_task"
