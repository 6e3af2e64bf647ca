import pytest
from rq import Queue

from core.models import ChatTask
from tasks import lifecycle


def _event(event_id: str = "Ev0001", **fields) -> ChatTask:
    return ChatTask(platform="slack", workspace="default", platform_event_id=event_id,
                    text="how do we deploy?", channel="C1", thread="1700000000.000100", user="U1",
                    reply_target={"channel": "C1", "thread_ts": "1700000000.000100"}, **fields)


def test_a_redelivered_event_makes_one_row_and_one_job(rt, owner):
    first = lifecycle.submit(rt.db, rt.queue, _event())
    again = [lifecycle.submit(rt.db, rt.queue, _event()) for _ in range(2)]  # new ChatTask ids each time

    assert first.created and first.status == "queued"
    assert [(s.task_id, s.created) for s in again] == [(first.task_id, False)] * 2
    assert owner.execute("SELECT count(*) FROM tasks").fetchone()[0] == 1
    queue = Queue(rt.settings.queue_name, connection=rt.queue.redis)
    assert queue.job_ids == [str(first.task_id)]


def test_the_stored_task_keeps_everything_the_poster_needs(rt):
    submitted = lifecycle.submit(rt.db, rt.queue, _event(kind="code"))
    task = lifecycle.load(rt.db, submitted.task_id)
    assert (task.platform, task.workspace, task.kind, task.channel, task.thread, task.user) == \
        ("slack", "default", "code", "C1", "1700000000.000100", "U1")
    assert task.reply_target == {"channel": "C1", "thread_ts": "1700000000.000100"}
    assert task.times["received_at"] <= task.times["queued_at"]


def test_an_unknown_workspace_is_refused_and_nothing_is_stored(rt, owner):
    with pytest.raises(lifecycle.UnknownWorkspace):
        lifecycle.submit(rt.db, rt.queue, ChatTask(platform="web", workspace="nope",
                                               platform_event_id="e1", text="hi"))
    assert owner.execute("SELECT count(*) FROM tasks").fetchone()[0] == 0
