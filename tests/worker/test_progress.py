"""The sign of work (Slack's :eyes:) goes up as a dispatcher queues the task, not when a worker
gets to it, and never outlives the answer, whichever of the dispatcher's helper and the worker
comes last."""

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from support import wait_for

from adapters.slack.poster import SlackPoster
from core.config import load_settings
from core.models import ChatTask
from hub import wiring
from tasks import dispatcher, lifecycle
from worker import channels, process
from worker.posters import PosterRegistry
from worker.progress import EarlyProgress


@pytest.fixture
def slack_rt(slack, monkeypatch, hub_env, hash_embeddings):
    """A hub in Slack's single-workspace mode."""
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-one-team")
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    yield runtime
    runtime.close()


def _mention(channel: str) -> ChatTask:
    ts = f"{time.time():.6f}"
    return ChatTask(platform="slack", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text="how do we deploy?", channel=channel, thread=ts,
                    reply_target={"channel": channel, "thread_ts": ts, "message_ts": ts, "team": "T1"})


def _slack_posters(rt, poster_class=SlackPoster) -> PosterRegistry:
    """The hub's Slack poster, as a `poster_class`."""
    hubs = wiring.build_posters(rt).for_task(_mention("C0"))
    posters = PosterRegistry()
    posters.register("slack", poster_class(hubs.api_url, hubs.token_for, hubs.pace))
    return posters


@pytest.fixture
def dispatching(slack_rt) -> Iterator[EarlyProgress]:
    """A dispatcher and its progress helper, as a worker process runs them."""
    early, stop = EarlyProgress(slack_rt.db, wiring.build_posters(slack_rt)), threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(slack_rt, stop, early.queued), daemon=True)
    thread.start()
    yield early
    stop.set()
    thread.join(timeout=10)


def test_the_sign_goes_up_as_the_task_is_queued_and_comes_off_with_the_answer(slack_rt, slack, dispatching):
    task = _mention("C0WAITING")
    ts = task.reply_target["message_ts"]
    assert wiring.slack_hub(slack_rt).submit(task).created  # what the Slack adapter calls

    # No worker runs yet: the task waits in the queue, and the asker already sees :eyes:.
    wait_for(lambda: slack.reactions_on("C0WAITING", ts) == {"eyes"}, what=":eyes: on the waiting question")
    assert lifecycle.get(slack_rt.db, task.id)["status"] == "queued"

    process.run_in_process(wiring.for_worker(slack_rt))
    assert lifecycle.get(slack_rt.db, task.id)["status"] == "posted"
    assert slack.posted("C0WAITING")
    assert slack.reactions_on("C0WAITING", ts) == set()
    assert len(slack.calls("reactions.add")) == 1  # the worker's first run puts up no second one


def test_an_answer_recorded_while_the_sign_went_up_still_takes_it_down(slack_rt, slack):
    """The worker posted and took down a sign that was not there yet; the helper, whose sign went
    up after that, sees the task posted and takes it down itself."""

    class WorkerFirst(SlackPoster):
        def working(self, task: ChatTask) -> None:
            lifecycle.start(slack_rt.db, task.id, "racing-worker")
            lifecycle.mark_posted(slack_rt.db, task.id, "C0RACE:1")
            self.done(task)  # what the worker does once the answer is recorded: nothing to take down yet
            super().working(task)

    task = _mention("C0RACE")
    lifecycle.store(slack_rt.db, task)
    EarlyProgress(slack_rt.db, _slack_posters(slack_rt, WorkerFirst)).queued(task)

    wait_for(lambda: len(slack.calls("reactions.remove")) == 2, what="the helper to take its sign down")
    assert [r.body["name"] for r in slack.calls("reactions.add")] == ["eyes"]
    assert slack.reactions_on("C0RACE", task.reply_target["message_ts"]) == set()


def test_no_sign_goes_up_in_a_channel_that_is_off(slack_rt, slack):
    channels.update(slack_rt.db, "slack", "C0OFF", {"enabled": False})
    early = EarlyProgress(slack_rt.db, _slack_posters(slack_rt), threads=1)  # the one that is off goes first
    off, on = _mention("C0OFF"), _mention("C0ON")
    for task in (off, on):
        lifecycle.store(slack_rt.db, task)
        early.queued(task)

    wait_for(lambda: slack.reactions_on("C0ON", on.reply_target["message_ts"]) == {"eyes"},
             what=":eyes: in the channel that is on")
    assert not [r for r in slack.requests if r.body.get("channel") == "C0OFF"]


def test_which_channels_are_on_is_decided_as_the_worker_decides(slack_rt):
    """A Discord thread takes its own settings, else its channel's; a channel without settings is on."""
    parent, own_on, inheriting = "900000000000000101", "900000000000000102", "900000000000000103"
    channels.update(slack_rt.db, "discord", parent, {"enabled": False})
    channels.update(slack_rt.db, "discord", own_on, {"enabled": True})

    def in_thread(thread: str) -> ChatTask:
        return ChatTask(platform="discord", workspace="default", platform_event_id=thread, text="hi",
                        channel=parent, thread=thread, reply_target={"parent_channel": parent})

    tasks = [in_thread(own_on), in_thread(inheriting), _mention("C0NOSETTINGS")]
    assert channels.switched_on(slack_rt.db, tasks) == [tasks[0], tasks[2]]
    assert [channels.of_task(slack_rt.db, task).enabled for task in tasks] == [True, False, True]
