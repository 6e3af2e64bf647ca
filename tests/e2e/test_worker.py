"""Tasks run through real forked `morningai worker` processes."""

import psycopg
from fakes import FakeOpenAI
from support import wait_for

from core.config import load_settings
from core.models import ChatTask
from core.runtime import Runtime
from hub import wiring
from tasks import lifecycle


def _ask(rt, text="What is our on-call rota?", **fields):
    task = ChatTask(platform="web", workspace="default", platform_event_id=text + str(fields),
                    text=text, thread="t-1", **fields)
    return lifecycle.submit(rt.db, rt.queue, task).task_id


def _runtime(hub_env, monkeypatch, **env) -> Runtime:
    """A runtime whose settings match a worker started with `env` (retries are set at submit)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])


def _status(rt, task_id):
    return lifecycle.get(rt.db, task_id)["status"]


def test_a_task_is_answered_and_posted_by_a_real_worker(rt, processes, owner):
    worker = processes.worker()
    task_id = _ask(rt)

    wait_for(lambda: _status(rt, task_id) == "posted", what="the task to be posted")
    row = lifecycle.get(rt.db, task_id)
    assert row["attempts"] == 1 and row["error"] is None
    assert "No knowledge base yet" in row["reply"]["text"]
    assert row["reply"]["metadata"]["trace_id"] == str(row["trace_id"])
    message = owner.execute("SELECT id, thread, reply FROM web_messages WHERE task_id = %s",
                            (task_id,)).fetchone()
    assert row["posted_id"] == f"web:{message[0]}" and message[1] == "t-1"
    assert message[2] == row["reply"]
    assert [step["node"] for step in lifecycle.steps(rt.db, task_id)] == ["route", "retrieve"]  # no knowledge yet
    assert worker.poll() is None


def test_help_is_answered_with_what_the_bot_can_do(rt, processes):
    processes.worker()
    task_id = _ask(rt, "help", kind="help")
    wait_for(lambda: _status(rt, task_id) == "posted", what="the help task to be posted")
    assert "`code <request>`" in lifecycle.get(rt.db, task_id)["reply"]["text"]


def _killed_while_posting(rt, owner, processes, post_lands=False):
    """kill -9 a worker (with its work-horse and scheduler) that has answered a task and is
    posting it. Its post lands after its death, or never."""
    with psycopg.connect(owner.info.dsn) as locker:
        locker.execute("LOCK TABLE web_messages IN SHARE ROW EXCLUSIVE MODE")
        worker = processes.worker()
        task_id = _ask(rt)
        wait_for(lambda: _status(rt, task_id) == "running", what="the task to start")
        backend = wait_for(lambda: owner.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'web_messages' AND NOT l.granted").fetchone(),
            what="the worker to block on the locked table")[0]
        processes.kill(worker)
        if not post_lands:
            owner.execute("SELECT pg_terminate_backend(%s)", (backend,))
        locker.rollback()
    return task_id


def test_a_task_whose_worker_is_killed_is_rerun_and_posted_exactly_once(rt, processes, owner):
    task_id = _killed_while_posting(rt, owner, processes)

    processes.worker()  # its reconciler finds the task on a dead worker and queues it again
    wait_for(lambda: _status(rt, task_id) == "posted", what="the rescued task to be posted")
    row = lifecycle.get(rt.db, task_id)
    assert row["attempts"] == 2
    assert owner.execute("SELECT count(*) FROM web_messages WHERE task_id = %s",
                         (task_id,)).fetchone()[0] == 1


def test_a_worker_killed_after_its_post_landed_is_rerun_without_a_second_post(rt, processes, owner):
    task_id = _killed_while_posting(rt, owner, processes, post_lands=True)
    wait_for(lambda: owner.execute("SELECT 1 FROM web_messages WHERE task_id = %s", (task_id,)).fetchone(),
             what="the dead worker's post to land")
    assert _status(rt, task_id) == "running"
    answered = lifecycle.get(rt.db, task_id)["reply"]

    processes.worker()
    wait_for(lambda: _status(rt, task_id) == "posted", what="the rescued task to be posted")
    row = lifecycle.get(rt.db, task_id)
    assert row["attempts"] == 2 and row["reply"] == answered  # the stored reply, not a new answer
    assert owner.execute("SELECT count(*) FROM web_messages").fetchone()[0] == 1


def test_after_max_attempts_the_task_fails_and_the_user_is_told(rt, processes, owner):
    processes.env["MORNINGAI_MAX_ATTEMPTS"] = "1"
    task_id = _killed_while_posting(rt, owner, processes)

    processes.worker()
    wait_for(lambda: lifecycle.get(rt.db, task_id)["posted_id"], what="the failure to be announced")
    row = lifecycle.get(rt.db, task_id)
    assert row["status"] == "failed"
    assert "worker stopped while answering, 1 times" in row["error"]
    told = owner.execute("SELECT reply FROM web_messages WHERE task_id = %s", (task_id,)).fetchall()
    assert len(told) == 1
    assert told[0][0]["is_error"] and str(row["trace_id"]) in told[0][0]["text"]


def test_a_job_that_runs_again_after_posting_does_not_post_twice(rt, processes, owner):
    processes.worker()
    task_id = _ask(rt)
    wait_for(lambda: _status(rt, task_id) == "posted", what="the task to be posted")
    rt.queue.enqueue(task_id)  # the same job delivered a second time
    wait_for(lambda: rt.queue.rq.fetch_job(str(task_id)).get_status() == "finished",
             what="the repeated job to finish")
    assert lifecycle.get(rt.db, task_id)["attempts"] == 1
    assert owner.execute("SELECT count(*) FROM web_messages").fetchone()[0] == 1


def test_a_run_that_raises_is_retried_by_rq_then_fails_with_its_error(hub_env, monkeypatch, processes, client):
    rt = _runtime(hub_env, monkeypatch, MORNINGAI_MAX_ATTEMPTS="2")
    processes.worker(MORNINGAI_MAX_ATTEMPTS="2")
    # No Slack integration is configured in this hub, so posting a Slack task raises.
    task = ChatTask(platform="slack", workspace="default", platform_event_id="Ev1", text="hi", channel="C1")
    task_id = lifecycle.submit(rt.db, rt.queue, task).task_id

    wait_for(lambda: lifecycle.get(rt.db, task_id)["error"], what="the first run to fail")
    assert lifecycle.get(rt.db, task_id)["status"] == "queued"  # RQ retries it in 5 s
    wait_for(lambda: _status(rt, task_id) == "failed", what="the retry to fail too")
    row = lifecycle.get(rt.db, task_id)
    assert row["attempts"] == 2 and row["reply"]["text"]  # it answered; only posting failed
    assert row["error"].startswith("NoPoster: no poster for platform 'slack'")
    assert client.get("/readyz").get_json()["failed"] == 1
    rt.close()


def test_a_model_that_does_not_answer_fails_the_task_and_the_user_is_told(hub_env, monkeypatch, processes, owner):
    rt = _runtime(hub_env, monkeypatch, MORNINGAI_MAX_ATTEMPTS="1")
    with FakeOpenAI(delay=5) as chat:
        processes.worker(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=chat.base_url, MORNINGAI_LLM_TIMEOUT="0.3",
                         MORNINGAI_MAX_ATTEMPTS="1")
        task_id = _ask(rt, "the on-call rota, please")  # routing it takes the model
        wait_for(lambda: lifecycle.get(rt.db, task_id)["posted_id"], what="the failure to be announced")
    row = lifecycle.get(rt.db, task_id)
    assert row["status"] == "failed" and "did not answer within" in row["error"]
    told = owner.execute("SELECT reply FROM web_messages WHERE task_id = %s", (task_id,)).fetchone()[0]
    assert told["is_error"] and str(row["trace_id"]) in told["text"]
    rt.close()
