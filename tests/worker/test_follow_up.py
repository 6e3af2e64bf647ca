"""A support channel's follow-up: a while after an answer nobody reacted to, the bot asks once
in its thread whether it helped (worker/jobs.py: follow_up), never where someone already voted,
resolved it or asked for a person, and not in a direct conversation unless the channel says so."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from rq.registry import ScheduledJobRegistry

from core.config import load_settings
from core.models import ChatTask
from hub import wiring
from tasks import feedback, lifecycle, support
from worker import channels, desk, jobs, process


@pytest.fixture
def slack_rt(slack, monkeypatch, hub_env, hash_embeddings):
    for name, value in {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-one-team",
                        "SLACK_API_URL": slack.api_url}.items():
        monkeypatch.setenv(name, value)
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    yield runtime
    runtime.close()


def _answered(rt, channel: str, **target) -> ChatTask:
    ts = f"{time.time():.6f}"
    task = ChatTask(platform="slack", workspace="default", platform_event_id=str(uuid.uuid4()), text="how do we deploy?",
                    channel=channel, thread=ts, user="U0ASKER",
                    reply_target={"channel": channel, "thread_ts": ts, "message_ts": ts, "team": "T1", **target})
    lifecycle.submit(rt.db, rt.queue, task)
    process.run_in_process(wiring.for_worker(rt))
    assert lifecycle.get(rt.db, task.id)["status"] == "posted"
    return task


def _planned(rt, task: ChatTask) -> float | None:
    """When the follow-up of `task` is planned for (seconds from now), if it is."""
    registry = ScheduledJobRegistry(queue=rt.queue.rq)
    if f"follow-up-{task.id}" not in registry.get_job_ids():
        return None
    return (registry.get_scheduled_time(f"follow-up-{task.id}") - datetime.now(UTC)).total_seconds()


def test_the_bot_asks_once_whether_an_answer_helped_when_nobody_said(slack_rt, slack):
    rt = slack_rt
    channels.update(rt.db, "slack", "C0FOLLOW", {"follow_up_minutes": 30})
    task = _answered(rt, "C0FOLLOW")
    assert 29 * 60 < _planned(rt, task) <= 30 * 60

    jobs.install(wiring.for_worker(rt))
    desk.follow_up(str(task.id))
    [asked] = [m for m in slack.posted("C0FOLLOW") if m["blocks"][-1].get("block_id") == "follow_up"]
    assert asked["thread_ts"] == task.thread and asked["text"] == "<@U0ASKER>, did this answer your question?"
    assert [e["action_id"] for e in asked["blocks"][-1]["elements"]] == ["follow_up_resolve", "escalate"]
    assert desk.follow_up(str(task.id)).startswith("no follow-up")  # once
    assert support.of_task(rt.db, task.id)["followed_up_at"]


def test_no_follow_up_where_someone_said_or_in_a_direct_conversation(slack_rt, slack):
    rt = slack_rt
    channels.update(rt.db, "slack", "C0SAID", {"follow_up_minutes": 5})
    jobs.install(wiring.for_worker(rt))
    voted, resolved, escalated = (_answered(rt, "C0SAID") for _ in range(3))
    feedback.record(rt.db, "slack", voted.id, "U0ASKER", 1)
    support.resolve(rt.db, resolved.id, "slack:U0ASKER", "button")
    support.escalate(rt.db, escalated.id, "slack:U0ASKER")
    assert [desk.follow_up(str(t.id))[:12] for t in (voted, resolved, escalated)] == ["no follow-up"] * 3
    assert not [m for m in slack.posted("C0SAID") if "did this answer" in m["text"]]

    channels.update(rt.db, "slack", "D0DIRECT", {"follow_up_minutes": 5})
    assert _planned(rt, _answered(rt, "D0DIRECT", direct=True)) is None
    channels.update(rt.db, "slack", "D0DIRECT", {"follow_up_dms": True})
    assert _planned(rt, _answered(rt, "D0DIRECT", direct=True)) is not None
    assert _planned(rt, _answered(rt, "C0NOSETTINGS")) is None  # a channel that did not ask for it
