"""SIGTERM (a deploy, a scale-down) while a worker runs a task: the task still ends posted,
exactly once, and the worker exits cleanly."""

import signal

import psycopg

from hub import tasks
from hub.models import ChatTask
from support import wait_for


def test_sigterm_during_a_running_task_finishes_it_and_posts_once(rt, processes, owner):
    with psycopg.connect(owner.info.dsn) as locker:
        # The post blocks on this lock, so the task is surely mid-run when SIGTERM comes.
        locker.execute("LOCK TABLE web_messages IN SHARE ROW EXCLUSIVE MODE")
        worker = processes.worker()
        task = ChatTask(platform="web", workspace="default", platform_event_id="e1", text="hello", thread="t")
        task_id = tasks.submit(rt.db, rt.queue, task).task_id
        wait_for(lambda: owner.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'web_messages' AND NOT l.granted").fetchone(),
            what="the worker to block posting")
        worker.send_signal(signal.SIGTERM)
        wait_for(lambda: "warm shut down requested" in processes.output(worker).lower(),
                 what="the worker to take the signal")
        assert tasks.get(rt.db, task_id)["status"] == "running"
        locker.rollback()  # the post goes through

    assert worker.wait(timeout=30) == 0
    row = tasks.get(rt.db, task_id)
    assert row["status"] == "posted" and row["attempts"] == 1
    assert owner.execute("SELECT count(*) FROM web_messages WHERE task_id = %s", (task_id,)).fetchone()[0] == 1
