"""The serving engine with real worker processes: many conversations in flight in one process,
each posted exactly once when the worker holding them is killed, and a Redis outage waited out
rather than fatal."""

import time
import uuid

import pytest
from fakes import FakeOpenAI
from fakes.slack_server import FakeSlack
from support import wait_for

from core.config import load_settings
from core.models import ChatTask
from hub import wiring
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from tasks import lifecycle, reconciler

RUNBOOK = "# On-call\n\nThe on-call engineer is paged through PagerDuty and hands over on Mondays.\n"


@pytest.fixture
def runbook(rt, tmp_path):
    """Knowledge to search, so every question costs a model call."""
    (tmp_path / "oncall.md").write_text(RUNBOOK)
    ingest(rt.db, HashEmbedder(), [str(tmp_path / "oncall.md")])


def _model_env(model) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url, "MORNINGAI_EMBEDDINGS": "hash"}


def _ask_many(rt, n: int) -> list:
    return [lifecycle.submit(rt.db, rt.queue, ChatTask(
        platform="web", workspace="default", platform_event_id=uuid.uuid4().hex, text=f"Who is on call, question {i}?",
        channel="playground", thread=f"t{i}")).task_id for i in range(n)]


def _posted(rt, task_ids) -> bool:
    return all(lifecycle.get(rt.db, task_id)["status"] == "posted" for task_id in task_ids)


def _messages_per_task(owner, task_ids) -> dict:
    rows = owner.execute("SELECT task_id, count(*) FROM web_messages WHERE task_id = ANY(%s) GROUP BY task_id",
                         (list(task_ids),)).fetchall()
    return {task_id: count for task_id, count in rows}


def test_one_worker_process_keeps_many_conversations_in_flight(rt, runbook, processes, owner):
    with FakeOpenAI(dims=8) as model:
        worker = processes.worker(**_model_env(model), MORNINGAI_WORKER_CONCURRENCY="32")
        model.hold()
        task_ids = _ask_many(rt, 40)
        # A worker holding one question at a time would never have a second call open.
        wait_for(lambda: model.answering == 32, timeout=60, what="the worker to fill its 32 slots")
        model.release()
        wait_for(lambda: _posted(rt, task_ids), timeout=60, what="every question answered")
    assert model.peak_concurrency == 32  # and never more than its slots
    assert _messages_per_task(owner, task_ids) == {task_id: 1 for task_id in task_ids}
    assert rt.queue.rq.finished_job_registry.count == 40  # RQ's registries tell the truth
    assert worker.poll() is None


def test_killing_a_worker_with_dozens_in_flight_posts_each_exactly_once(rt, runbook, processes, owner):
    with FakeOpenAI(dims=8) as model:
        doomed = processes.worker(**_model_env(model))
        model.hold()
        task_ids = _ask_many(rt, 30)
        wait_for(lambda: model.answering == 30, timeout=60, what="the worker to hold every call at once")
        processes.kill(doomed)
        held = [t for t in task_ids if lifecycle.get(rt.db, t)["status"] == "running"]
        assert held == task_ids

        model.release()  # the dead worker's calls are answered to nobody
        processes.worker(**_model_env(model))  # its reconciler finds the dead worker's tasks
        wait_for(lambda: _posted(rt, task_ids), timeout=60, what="every task posted after the kill")
    assert _messages_per_task(owner, task_ids) == {task_id: 1 for task_id in task_ids}
    assert {lifecycle.get(rt.db, t)["attempts"] for t in task_ids} == {2}


def test_a_worker_killed_mid_stream_leaves_one_answer_in_the_message_it_streamed(rt, runbook, processes):
    with FakeSlack() as slack, FakeOpenAI(dims=8, token_delay=0.2) as model:
        slack.add_team("T1", "xoxb-t1")
        env = {**_model_env(model), "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-t1",
               "SLACK_API_URL": slack.api_url}
        doomed = processes.worker(**env)
        ts = f"{time.time():.6f}"
        task_id = lifecycle.submit(rt.db, rt.queue, ChatTask(
            platform="slack", workspace="default", platform_event_id=uuid.uuid4().hex, text="Who is on call?",
            channel="C0KILLED", thread=ts, user="U0ASKER",
            reply_target={"channel": "C0KILLED", "thread_ts": ts, "message_ts": ts, "team": "T1"})).task_id
        wait_for(lambda: len(slack.calls("chat.appendStream")) >= 3, timeout=30, what="the answer half written")
        processes.kill(doomed)

        model.token_delay = 0.01
        processes.worker(**env)
        wait_for(lambda: _posted(rt, [task_id]), timeout=60, what="the task posted after the kill")
        [message] = slack.messages["C0KILLED"]
    task = lifecycle.get(rt.db, task_id)
    assert task["attempts"] == 2 and task["posted_id"] == f"C0KILLED:{message['ts']}"
    assert "This is a fake answer to" in str(message["blocks"]) and message["blocks"][-1]["block_id"] == "feedback"
    assert not slack.calls("chat.postMessage") and len(slack.calls("chat.startStream")) == 1


def test_a_worker_waits_out_a_redis_outage_with_tasks_in_flight(hub_env, own_redis, runbook, processes, owner):
    redis_url = own_redis.start()
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], redis_url)
    with FakeOpenAI(dims=8) as model:
        worker = processes.worker(REDIS_URL=redis_url, **_model_env(model))
        model.hold()
        task_ids = _ask_many(rt, 5)
        wait_for(lambda: model.answering == 5, timeout=60, what="the questions to reach the model")

        own_redis.stop()
        model.release()
        time.sleep(4)  # the model answers meanwhile; RQ cannot record anything
        assert worker.poll() is None
        assert own_redis.start() == redis_url

        wait_for(lambda: _posted(rt, task_ids), timeout=60, what="the questions asked before the outage")
        after = _ask_many(rt, 1)
        wait_for(lambda: _posted(rt, after), what="a question asked after it")
    assert _messages_per_task(owner, task_ids + after) == {task_id: 1 for task_id in task_ids + after}
    assert worker.poll() is None
    rt.close()


def test_running_tasks_are_not_judged_while_redis_is_younger_than_a_heartbeat(hub_env, own_redis, owner,
                                                                            monkeypatch):
    """A Redis that restarted empty has forgotten workers that are alive; they beat again
    within a heartbeat, and until then their tasks are theirs."""
    # Heartbeats of 2 s, so the first sweep comes well within one on a busy machine.
    monkeypatch.setenv("MORNINGAI_RECONCILE_INTERVAL", "2")
    redis_url = own_redis.start()
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], redis_url)
    task_id = _ask_many(rt, 1)[0]
    lifecycle.start(rt.db, task_id, "alive-but-not-yet-beating.1.abc")
    owner.execute("UPDATE tasks SET updated_at = now() - interval '1 minute' WHERE id = %s", (task_id,))
    own_redis.stop()
    own_redis.start()

    nothing = reconciler.sweep(rt, lambda task: None)
    time.sleep(reconciler.HEARTBEAT_TTLS * rt.settings.reconcile_interval + 1)
    assert (nothing, reconciler.sweep(rt, lambda task: None)) == ({}, {"re-queued from dead worker": 1})
    assert lifecycle.get(rt.db, task_id)["status"] == "received"
    rt.close()
