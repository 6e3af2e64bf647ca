"""SIGTERM (a deploy, a scale-down): a worker finishes its task, posted exactly once, and the
web service finishes the requests in flight; both exit cleanly."""

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from conftest import ADMIN
from support import admin_session, answers, free_port, wait_for

from core.models import ChatTask
from tasks import lifecycle


def test_sigterm_during_a_running_task_finishes_it_and_posts_once(rt, processes, owner):
    with psycopg.connect(owner.info.dsn) as locker:
        # The post blocks on this lock, so the task is surely mid-run when SIGTERM comes.
        locker.execute("LOCK TABLE web_messages IN SHARE ROW EXCLUSIVE MODE")
        worker = processes.worker()
        task = ChatTask(platform="web", workspace="default", platform_event_id="e1", text="hello", thread="t")
        task_id = lifecycle.submit(rt.db, rt.queue, task).task_id
        wait_for(lambda: owner.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'web_messages' AND NOT l.granted").fetchone(),
            what="the worker to block posting")
        worker.send_signal(signal.SIGTERM)
        wait_for(lambda: "warm shut down requested" in processes.output(worker).lower(),
                 what="the worker to take the signal")
        assert lifecycle.get(rt.db, task_id)["status"] == "running"
        locker.rollback()  # the post goes through

    assert worker.wait(timeout=30) == 0
    row = lifecycle.get(rt.db, task_id)
    assert row["status"] == "posted" and row["attempts"] == 1
    assert owner.execute("SELECT count(*) FROM web_messages WHERE task_id = %s", (task_id,)).fetchone()[0] == 1


def test_sigterm_lets_the_web_service_finish_a_request_in_flight(rt, processes, owner, hub_env):
    metrics = Path(hub_env["MORNINGAI_HOME"]) / "metrics"
    (metrics / "999999999").mkdir(parents=True)  # the counts of a master killed long ago
    port = free_port()
    web = processes.start("-m", "hub", "web", "--port", str(port), "--workers", "1",
                          env={**hub_env, "MORNINGAI_ENV": "production", "MORNINGAI_SECRET_KEY": "k" * 48,
                               "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]},
                          name="web")
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{url}/healthz"), what="the web service to listen")
    assert [folder.name for folder in metrics.iterdir()] == [str(web.pid)]  # `hub web` became gunicorn's master
    admin = admin_session(url, *ADMIN)
    with psycopg.connect(owner.info.dsn) as locker, ThreadPoolExecutor(1) as pool:
        locker.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")  # the request's INSERT waits
        answer = pool.submit(admin.post, f"{url}/api/messages", json={"text": "hello"}, timeout=30)
        wait_for(lambda: owner.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'tasks' AND NOT l.granted").fetchone(), what="the request to block")
        web.send_signal(signal.SIGTERM)
        wait_for(lambda: "Handling signal: term" in processes.output(web), what="gunicorn to take the signal")
        locker.rollback()
        assert answer.result().status_code == 202
    assert web.wait(timeout=30) == 0
    assert lifecycle.get(rt.db, answer.result().json()["id"])["status"] == "queued"
    assert list(metrics.iterdir()) == []  # nothing left behind
