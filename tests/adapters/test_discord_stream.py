"""Answers streamed into Discord, through the real worker job path against the fake Discord:
one message that grows, paced to one edit per 1.5 s, then settles into a Components V2 answer;
a re-run that finishes the message its dead run streamed into; an edit refused mid-way; V2
refused; and "Ask MorningAI" on a message, answered through the interaction alone."""

from collections.abc import Iterator
from itertools import pairwise

import faq_support
import pytest
from fakes import FakeDiscord, FakeOpenAI
from fakes.discord_server import (
    CHANNEL_ID,
    GUILD_ID,
    IS_COMPONENTS_V2,
    USER_ID,
    buttons_of,
    text_of,
)

from adapters.discord import interactions
from adapters.discord.rest import DiscordError
from adapters.discord.stream import PACE
from core.config import load_settings
from core.models import ChatTask, Reply
from hub import wiring
from tasks import lifecycle
from worker import process

CREATE = "POST /channels/{channel_id}/messages"
EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
EDIT_ORIGINAL = "PATCH /webhooks/{application_id}/{token}/messages/@original"
QUESTION = "How do I roll back a bad release?"
# About 100 words, written one each 0.045 s: over four seconds, so at least two paced edits show
# it growing before the final one.
ANSWER = "Roll back with `make rollback VERSION=previous` [1]. " + "The on-call engineer decides when [1]. " * 14


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


def _runtime(monkeypatch, hub_env, discord):
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "bot-token")
    monkeypatch.setenv("DISCORD_API_URL", discord.api_url)
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")
    return wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])


@pytest.fixture
def offline_rt(monkeypatch, hub_env, discord, tmp_path):
    """A hub answering Discord offline, from the deploy guide."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runtime = _runtime(monkeypatch, hub_env, discord)
    faq_support.ingest_docs(runtime, tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def model_rt(monkeypatch, hub_env, discord, tmp_path):
    """A hub answering Discord with a model that writes ANSWER over a few seconds."""
    with FakeOpenAI(chat_hook=lambda request: ANSWER, token_delay=0.045) as model:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        runtime = _runtime(monkeypatch, hub_env, discord)
        faq_support.ingest_docs(runtime, tmp_path)
        yield runtime
        runtime.close()


def _mention(discord: FakeDiscord) -> ChatTask:
    """A question mentioning the bot in the guild's channel, as the gateway bot stores it."""
    question = discord.user_message(QUESTION, mention_bot=True)["id"]
    return ChatTask(platform="discord", workspace="default", platform_event_id=question, text=QUESTION,
                    channel=CHANNEL_ID, thread=question, user=USER_ID,
                    reply_target={"via": "message", "channel_id": CHANNEL_ID, "message_id": question,
                                  "guild_id": GUILD_ID, "parent_channel": None, "can_open_thread": True})


def _answered(rt, task: ChatTask) -> dict:
    lifecycle.submit(rt.db, rt.queue, task)
    process.run_in_process(wiring.for_worker(rt))
    row = lifecycle.get(rt.db, task.id)
    assert row["status"] == "posted", row["error"]
    return row


def _paced(calls) -> None:
    gaps = [later.at - earlier.at for earlier, later in pairwise(calls)]
    assert all(gap >= PACE for gap in gaps), gaps


def _settled(message: dict, task: ChatTask) -> None:
    """The final answer: one Components V2 message with the answer, its sources and 👍/👎."""
    assert message["flags"] == IS_COMPONENTS_V2 and message["content"] == "" and not message["embeds"]
    (container,) = message["components"]
    assert container["type"] == 17 and "make rollback" in text_of(message)
    assert any(c["type"] == 10 and c["content"].startswith("**1.**") for c in container["components"])
    assert [b["custom_id"] for b in buttons_of(message)] == [f"feedback:up:{task.id}", f"feedback:down:{task.id}",
        f"escalate:{task.id}", f"resolve:{task.id}"]


def test_an_answer_grows_in_one_message_paced_then_settles_into_components(model_rt, discord):
    task = _mention(discord)
    row = _answered(model_rt, task)

    (create,) = discord.calls(CREATE)  # the one message, sent with the first text: quick steps show none
    message = discord.messages[row["streamed_id"]]
    first_text, note = create.body["content"].split("\n\n-# ", 1)
    assert ANSWER.startswith(first_text) and note.startswith("⏳ Writing the answer")
    assert create.body["message_reference"]["message_id"] == task.platform_event_id
    edits = discord.calls(EDIT)
    assert len(edits) >= 3 and {e.path for e in edits} == {f"/channels/{CHANNEL_ID}/messages/{message['id']}"}
    _paced([create, *edits])
    # While written: the answer so far, each edit showing more of it, what the agent does below.
    shown = [e.body["content"].split("\n\n-# ")[0] for e in edits[:-1]]
    assert len([text for text in shown if 0 < len(text) < len(ANSWER.strip())]) >= 2
    assert all(ANSWER.startswith(text) for text in shown) and shown == sorted(shown, key=len)
    assert edits[-1].body["content"] is None and edits[-1].body["embeds"] == []  # into V2, as Discord requires
    _settled(message, task)
    assert row["posted_id"] == f"discord:{message['id']}"
    assert (CHANNEL_ID, task.platform_event_id, "🤔") not in discord.reactions
    assert any(c.route.startswith("DELETE") and "reactions" in c.path for c in discord.requests)


@pytest.mark.parametrize("reply_recorded", [False, True])
def test_a_rerun_finishes_the_message_its_dead_run_streamed_into(offline_rt, discord, reply_recorded):
    """The dead run sent its progress message and recorded it (and, in one case, its reply)."""
    task = _mention(discord)
    lifecycle.submit(offline_rt.db, offline_rt.queue, task)
    wiring.build_posters(offline_rt).for_task(task).rest.request(
        "POST", "/channels/{channel_id}/messages", json={"content": "⏳ Searching your docs…"}, channel_id=CHANNEL_ID)
    (streamed,) = discord.messages
    lifecycle.record_streamed(offline_rt.db, task.id, streamed)
    if reply_recorded:
        lifecycle.record_reply(offline_rt.db, task.id, Reply(text="Run `make rollback VERSION=previous`."))

    row = _answered(offline_rt, task)

    assert len(discord.calls(CREATE)) == 1 and list(discord.messages) == [streamed]  # no second answer
    assert row["posted_id"] == f"discord:{streamed}"
    assert "make rollback" in text_of(discord.messages[streamed]) and discord.messages[streamed]["flags"]


def test_an_edit_refused_mid_stream_silences_it_and_the_answer_is_posted_once(model_rt, discord):
    task = _mention(discord)
    discord.fail_next(EDIT, 404, code=10008, message="Unknown Message")  # someone deleted it

    row = _answered(model_rt, task)

    assert len(discord.calls(EDIT)) == 1  # refused, and never tried again
    _progress, answer = discord.messages.values()
    assert len(discord.calls(CREATE)) == 2 and row["posted_id"] == f"discord:{answer['id']}"
    assert answer["message_reference"]["message_id"] == task.platform_event_id
    _settled(answer, task)


def test_components_v2_refused_falls_back_to_the_plain_answer_once(offline_rt, discord):
    discord.refuse_v2 = True
    task = _mention(discord)

    row = _answered(offline_rt, task)

    # A quick offline answer streams nothing: the answer is sent whole, V2 refused, then plain.
    creates = discord.calls(CREATE)
    assert [bool(c.body.get("flags")) for c in creates] == [True, False] and row["streamed_id"] is None
    (message,) = discord.messages.values()
    assert row["posted_id"] == f"discord:{message['id']}"
    assert "rollback" in message["content"] and message["embeds"][0]["title"] == "Sources"
    assert [b["custom_id"] for b in buttons_of(message)] == [f"feedback:up:{task.id}", f"feedback:down:{task.id}",
        f"escalate:{task.id}", f"resolve:{task.id}"]


def test_ask_morningai_on_a_message_streams_into_the_interaction_response(model_rt, discord):
    """Used from a user's install, where the bot is not in the guild: the answer goes through the
    interaction's response alone, even once its token expired."""
    asked = discord.user_message(QUESTION)
    payload = discord.message_command_interaction(asked, authorizing_integration_owners={"1": USER_ID})
    task = interactions.parse(payload).task("default")
    assert (task.kind, task.text, task.reply_target["user_install"]) == ("ask", QUESTION, True)

    row = _answered(model_rt, task)

    edits = discord.calls(EDIT_ORIGINAL)
    assert len(edits) >= 3 and ANSWER.startswith(edits[0].body["content"].split("\n\n-# ")[0])
    _paced(edits)
    original = discord.originals[payload["token"]]
    _settled(original, task)
    assert row["streamed_id"] == original["id"] and row["posted_id"] == f"discord:{original['id']}"
    assert discord.calls(CREATE) == []

    discord.expired_tokens.add(payload["token"])
    late = lifecycle.load(model_rt.db, task.id)
    with pytest.raises(DiscordError, match="Unknown Webhook"):
        wiring.build_posters(model_rt).for_task(late).post(late, Reply(text="Late."))
    assert discord.calls(CREATE) == []  # no bot-token post where the bot is not

