"""Answers streamed into Slack as the model writes them, through the real worker, the real
slack_sdk and the fake Slack: natively (chat.startStream -> appendStream -> stopStream), or one
message edited in place where Slack will not stream; one message per answer either way, also
when a run dies mid-stream or Slack ends the stream mid-way."""

import itertools
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fakes import FakeOpenAI
from support import wait_for

from adapters.slack.stream import APPEND_EVERY
from core.config import load_settings
from core.models import ChatTask, Reply
from hub import wiring
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from tasks import lifecycle
from worker import process

ANSWER = ("Deploys run with `make deploy` once the checks pass [1]. The on-call engineer watches "
          "the dashboard for ten minutes afterwards and rolls back with `make rollback` if needed [1].")


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(dims=8) as server:
        server.token_delay = 0.04  # a model writing: ~30 pieces over a second and a bit
        yield server


@pytest.fixture
def rt(slack, model, monkeypatch, hub_env, tmp_path):
    """A hub in Slack's single-workspace mode with a model, and a deploy guide to answer from."""
    for name, value in {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-one-team",
                        "SLACK_API_URL": slack.api_url, "MORNINGAI_EMBEDDINGS": "hash",
                        "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "deploy.md").write_text("# Deploying\n\nDeploys run with `make deploy` after the checks pass.\n")
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    ingest(runtime.db, HashEmbedder(), [str(tmp_path / "deploy.md")])
    yield runtime
    runtime.close()


def _ask(rt, model, channel: str, answer: str = ANSWER) -> ChatTask:
    """A mention in `channel`, stored and queued as the Slack adapter does."""
    model.reply_with(answer)
    ts = f"{time.time():.6f}"
    task = ChatTask(platform="slack", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text="how do we deploy?", channel=channel, thread=ts, user="U0ASKER",
                    reply_target={"channel": channel, "thread_ts": ts, "message_ts": ts, "team": "T1"})
    lifecycle.submit(rt.db, rt.queue, task)
    return task


def _thread(slack, task: ChatTask) -> list[dict]:
    """The bot's messages in the task's thread, as they stand now."""
    return [m for m in slack.messages.get(task.channel, []) if m.get("thread_ts") == task.thread]


def _visible(text: str) -> str:
    return text.replace("\u2060", "")


def test_an_answer_streams_into_one_message_that_closes_with_its_sources_and_buttons(rt, slack, model):
    task = _ask(rt, model, "C0STREAM")
    process.run_in_process(wiring.for_worker(rt))

    row = lifecycle.get(rt.db, task.id)
    [message] = _thread(slack, task)
    assert row["status"] == "posted" and row["posted_id"] == f"C0STREAM:{message['ts']}" == f"C0STREAM:{row['streamed_id']}"
    assert not slack.calls("chat.postMessage") and not slack.calls("chat.update")

    start = slack.calls("chat.startStream")[0].body
    assert (start["recipient_user_id"], start["recipient_team_id"], start["thread_ts"]) == ("U0ASKER", "T1", task.thread)
    # The steps first, each card closed as the next begins; then the text, in several appends.
    cards = [c for c in message["chunks"] if c["type"] == "task_update"]
    assert [c["title"] for c in cards if c["status"] == "in_progress"][:3] == [
        "Searching your docs…", "Found 1 passage", "Writing the answer"]
    assert cards[-1]["status"] == "complete" and cards[-1]["title"] == "Checking citations"
    found = next(c for c in cards if c["title"] == "Found 1 passage")
    assert found["details"] == "Deploying"  # the guide's title; a source with a URL would be a link
    texts = [c["text"] for c in message["chunks"] if c["type"] == "markdown_text"]
    assert len(texts) >= 2 and len(slack.calls("chat.appendStream")) >= 3
    assert _visible(message["text"]) == row["reply"]["text"] == ANSWER

    # Stopped with what ends every answer, and the metadata a re-run reads back.
    assert not message["streaming"]
    blocks = message["blocks"]
    assert "Sources" in str(blocks) and "deploy.md" in str(blocks)
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["feedback_up", "feedback_down", "escalate", "resolve"]
    assert message["metadata"]["event_payload"] == {"task_id": str(task.id), "kind": "answer", "part": 0}


def test_where_slack_will_not_stream_one_message_is_edited_at_most_once_a_second(rt, slack, model):
    model.token_delay = 0.1  # ~3 s of writing
    slack.refuse("chat.startStream", "team_not_allowed")
    task = _ask(rt, model, "C0EDITED")
    process.run_in_process(wiring.for_worker(rt))

    [message] = _thread(slack, task)
    row = lifecycle.get(rt.db, task.id)
    assert row["status"] == "posted" and row["posted_id"] == f"C0EDITED:{message['ts']}"
    assert len(slack.calls("chat.postMessage")) == 1  # the first sign of work; edits from then on
    updates = [r.at for r in slack.calls("chat.update")]
    assert len(updates) >= 3
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(updates[:-1]))  # the last one settles it at once
    assert "make deploy" in str(message["blocks"]) and message["blocks"][-1]["block_id"] == "feedback"
    assert message["metadata"]["event_payload"]["part"] == 0


def test_a_team_that_refused_streaming_is_not_asked_again_for_a_while(rt, slack, model):
    slack.refuse("chat.startStream", "team_not_allowed")
    poster = wiring.build_posters(rt).for_task(_ask(rt, model, "C0ONCE"))
    first = poster.stream(_ask(rt, model, "C0ONCE"), started=lambda ts: None)
    first.step("Searching your docs…", [])
    then = poster.stream(_ask(rt, model, "C0ONCE"), started=lambda ts: None)
    then.step("Searching your docs…", [])
    assert len(slack.calls("chat.startStream")) == 1 and len(slack.calls("chat.postMessage")) == 2


def test_steps_in_a_burst_ride_one_call_and_a_held_step_is_shown_soon_after(rt, slack, model):
    task = _ask(rt, model, "C0BURST")
    stream = wiring.build_posters(rt).for_task(task).stream(task, started=lambda ts: None)
    stream.step("Searching your docs…", [])  # starts the stream at once
    stream.step("Found 2 passages", [])
    stream.step("Writing the answer", [])
    assert len(slack.calls("chat.startStream")) == 1 and not slack.calls("chat.appendStream")
    # Nothing follows: the timer shows the held cards a moment later, in one call.
    [append] = wait_for(lambda: slack.calls("chat.appendStream"), timeout=5, what="the held steps")
    cards = [(c["title"], c["status"]) for c in append.body["chunks"]]
    assert cards == [("Searching your docs…", "complete"), ("Found 2 passages", "in_progress"),
                     ("Found 2 passages", "complete"), ("Writing the answer", "in_progress")]
    stream.step("Checking citations", [])
    stream.finish(Reply(text="Deploy with make deploy."))
    time.sleep(APPEND_EVERY + 0.2)  # a timer left behind would append to the closed stream
    assert len(slack.calls("chat.appendStream")) == 1
    stop = slack.calls("chat.stopStream")[0].body
    assert [(c["title"], c["status"]) for c in stop["chunks"] if c["type"] == "task_update"] == [
        ("Writing the answer", "complete"), ("Checking citations", "in_progress"), ("Checking citations", "complete")]


def test_a_stream_slack_ends_mid_way_is_settled_in_the_same_message(rt, slack, model):
    model.token_delay = 0.08
    task = _ask(rt, model, "C0EXPIRED")
    ended = threading.Thread(target=lambda: (
        wait_for(lambda: slack.calls("chat.appendStream"), what="the stream's text"), slack.expire_streams()))
    ended.start()
    process.run_in_process(wiring.for_worker(rt))
    ended.join()

    [message] = _thread(slack, task)
    assert [r.headers["x-fake-ok"] for r in slack.calls("chat.appendStream")][-1] == "false"
    assert lifecycle.get(rt.db, task.id)["posted_id"] == f"C0EXPIRED:{message['ts']}"
    assert message.get("edited") and "make rollback" in str(message["blocks"])
    assert not slack.calls("chat.postMessage")


def test_a_re_run_of_a_task_that_died_mid_stream_finishes_the_same_message(rt, slack, model):
    """The first run's worker died after its stream began: the message is there, open, with
    part of an answer. The re-run ends that stream and writes the answer into it."""
    task = _ask(rt, model, "C0RERUN")
    opened = slack_stream_left_open(slack, task)
    lifecycle.record_streamed(rt.db, task.id, opened)

    process.run_in_process(wiring.for_worker(rt))
    [message] = _thread(slack, task)
    assert message["ts"] == opened and not message["streaming"]
    assert lifecycle.get(rt.db, task.id)["posted_id"] == f"C0RERUN:{opened}"
    assert "make rollback" in str(message["blocks"]) and message["blocks"][-1]["block_id"] == "feedback"
    assert not slack.calls("chat.postMessage") and len(slack.calls("chat.startStream")) == 1


def slack_stream_left_open(slack, task: ChatTask) -> str:
    from slack_sdk import WebClient
    client = WebClient(token="xoxb-one-team", base_url=slack.api_url)
    stream = client.chat_stream(channel=task.channel, thread_ts=task.thread, recipient_team_id="T1",
                                recipient_user_id="U0ASKER", buffer_size=1)
    stream.append(markdown_text="Deploys run with")
    return stream.ts


def test_an_answer_longer_than_a_stream_settles_into_the_streamed_message_and_continues_after_it(
        rt, slack, model, monkeypatch):
    """A document longer than one message: the stream shows its first 12,000 characters, then
    the streamed message becomes the first part and the rest follows it in the thread."""
    monkeypatch.setattr("adapters.slack.stream.APPEND_EVERY", 0)  # every piece appended as it comes
    task = _ask(rt, model, "C0LONG")
    long = "\n\n".join(f"Section {n}: " + "the deploy pipeline runs the checks then ships " * 12 for n in range(40))
    poster = wiring.build_posters(rt).for_task(task)
    stream = poster.stream(task, started=lambda ts: None)
    stream.step("Writing the document", [])
    for start in range(0, len(long), 500):
        stream.write(long[start:start + 500])
    posted = stream.finish(Reply(text=long))

    first, *rest = _thread(slack, task)
    streamed = sum(len(chunk["text"]) for chunk in first["chunks"] if chunk["type"] == "markdown_text")
    assert posted == f"C0LONG:{first['ts']}" and rest and 10_000 < streamed <= 12_000
    assert [m["metadata"]["event_payload"]["part"] for m in [first, *rest]] == list(range(1 + len(rest)))
    shown = "\n\n".join(block["text"]["text"] for m in [first, *rest] for block in m["blocks"] if block["type"] == "section")
    assert [line.split(":")[0] for line in shown.split("\n\n")] == [f"Section {n}" for n in range(40)]
    assert rest[-1]["blocks"][-1]["block_id"] == "feedback" and first["blocks"][-1].get("block_id") != "feedback"
