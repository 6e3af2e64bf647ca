"""`morningai discord` (the real discord.py client, in a subprocess) on the fake gateway, with
a real worker answering: slash commands, mentions, the bot's own messages, a 429, thread
follow-ups, a long answer that goes on in a thread, and a dropped websocket that is resumed
without losing what was said meanwhile."""

import subprocess
import sys
import uuid

import pytest
from conftest import ROOT
from discord_support import discord, env  # noqa: F401
from fakes import FakeOpenAI, message_text
from fakes.discord_server import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    USER_ID,
    buttons_of,
    settled,
    text_of,
)
from support import wait_for

from agents import prompts
from worker import channels

CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
MESSAGES = "POST /channels/{channel_id}/messages"
THREADS = "POST /channels/{channel_id}/messages/{message_id}/threads"


@pytest.fixture
def gateway(processes, env, discord):
    """`morningai discord`, connected; the test starts the worker it needs."""
    process = processes.start("-m", "hub", "discord", env=env, name="discord")
    discord.wait_for_session()
    return process


@pytest.fixture
def bot(processes, env, gateway):
    """The gateway bot with an offline worker."""
    processes.worker(**env)
    return gateway


def _task(owner, event_id):
    return owner.execute("SELECT status, kind, text, thread, posted_id FROM tasks WHERE platform_event_id = %s",
                         (event_id,)).fetchone()


def _in(discord, channel_id):
    return [m for m in discord.messages.values() if m["channel_id"] == channel_id]


def _conversation(owner, event_id):
    return owner.execute("SELECT channel, thread FROM tasks WHERE platform_event_id = %s", (event_id,)).fetchone()


def _morningai(processes, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], env=env or processes.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _reply_to(discord, message_id):
    """The bot's answer to the message, once it is one (it grows in that reply as it is written)."""
    return next((m for m in discord.messages.values()
                 if (m["message_reference"] or {}).get("message_id") == message_id and settled(m)), None)


def _original(discord, command):
    return wait_for(lambda: settled(discord.originals.get(command["token"])), what="the command's answer")


def test_slash_command_is_deferred_then_answered_and_mentions_get_replies(bot, processes, discord, owner):
    identify = next(frame for frame in discord.gateway_log if frame["op"] == 2)
    assert identify["d"]["token"] == "test-bot-token"
    assert identify["d"]["intents"] & (1 << 15)  # MESSAGE_CONTENT, to read mentions and !ask
    wait_for(lambda: discord.commands.get(GUILD_ID), what="the commands to be registered in the guild")

    command = discord.command_interaction("ask", "question", "How do we deploy?")
    discord.dispatch("INTERACTION_CREATE", command)
    callback = wait_for(lambda: discord.calls(CALLBACK), what="the deferral")[0]
    assert callback.body == {"type": 5} and callback.path.endswith(f"/{command['token']}/callback")
    original = _original(discord, command)
    assert "No knowledge base yet" in text_of(original)
    wait_for(lambda: _task(owner, command["id"])[0] == "posted", what="the command's task to be posted")
    asked = discord.message_command_interaction(discord.user_message("where are the runbooks?"))
    discord.dispatch("INTERACTION_CREATE", asked)  # "Ask MorningAI" on that message
    assert "where are the runbooks?" in text_of(_original(discord, asked))
    assert _task(owner, asked["id"])[1:3] == ("ask", "where are the runbooks?")

    mention = discord.user_message(f"<@{discord.bot_author()['id']}> what is the on-call rota? @everyone",
                                   mention_bot=True)
    discord.fail_next(MESSAGES, 429, retry_after=0.3)  # the answer's first try is rate limited
    discord.dispatch("MESSAGE_CREATE", mention)
    reply = wait_for(lambda: _reply_to(discord, mention["id"]), what="the reply to the mention")
    assert len(discord.calls(MESSAGES)) == 2  # the 429, then the retry
    assert not reply["mention_everyone"] and reply["allowed_mentions"]["parse"] == []
    status, kind, text, thread, posted_id = wait_for(lambda: _task(owner, mention["id"]), what="the task")
    assert (kind, text, thread) == ("ask", "what is the on-call rota? @everyone", mention["id"])
    wait_for(lambda: (CHANNEL_ID, mention["id"], "🤔") not in discord.reactions and
             any(c.route.startswith("PUT") and "reactions" in c.path for c in discord.requests),
             what="🤔 to be added, then removed by the answer")

    ours = discord.user_message("!ask are you there?", author=discord.bot_author())
    prefixed = discord.user_message("!ask where are the runbooks?")
    chatter = discord.user_message("lunch anyone?")
    for message in (ours, prefixed, chatter):
        discord.dispatch("MESSAGE_CREATE", message)
    wait_for(lambda: _reply_to(discord, prefixed["id"]), what="the reply to !ask")
    assert _task(owner, ours["id"]) is None and _task(owner, chatter["id"]) is None
    assert bot.poll() is None


def _votes(owner) -> dict[tuple[str, str], int]:
    """Every vote kept, by answer and user (the one place that knows where they are kept)."""
    rows = owner.execute("SELECT task_id::text, user_id, vote FROM feedback").fetchall()
    return {(task, user): vote for task, user, vote in rows}


def test_feedback_buttons_clicked_over_the_gateway_are_acknowledged_and_kept(bot, discord, owner):
    command = discord.command_interaction("help")
    discord.dispatch("INTERACTION_CREATE", command)
    up, down = (button["custom_id"] for button in buttons_of(_original(discord, command))[:2])
    task_id = up.rsplit(":", 1)[1]

    def click(custom_id: str, user_id: str = USER_ID) -> dict:
        """Click, and wait for the acknowledgement: a second click then lands after the first."""
        interaction = discord.button_interaction(custom_id, user_id=user_id)
        discord.dispatch("INTERACTION_CREATE", interaction)
        return wait_for(lambda: next((c.body for c in discord.calls(CALLBACK)
                                      if c.path.endswith(f"/{interaction['token']}/callback")), None),
                        what="the click to be acknowledged")

    thanks = click(up)
    assert thanks["type"] == 4 and thanks["data"]["flags"] == 64  # a message only the clicker sees
    assert thanks["data"]["content"] == "Thanks for the feedback."
    assert _votes(owner) == {(task_id, USER_ID): 1}
    click(down)  # changed their mind: the vote is replaced
    click(up, user_id="900000000000000042")
    votes = {(task_id, USER_ID): -1, (task_id, "900000000000000042"): 1}
    assert _votes(owner) == votes

    forged = click(f"feedback:up:{uuid.uuid4()}")
    assert forged["data"]["content"] == "That answer is no longer known here."
    assert _votes(owner) == votes


def test_a_dropped_gateway_is_resumed_and_nothing_said_meanwhile_is_lost(bot, discord, owner):
    command = discord.command_interaction("help")
    discord.dispatch("INTERACTION_CREATE", command)
    wait_for(lambda: discord.calls(CALLBACK), what="the deferral")
    session = discord.wait_for_session()
    discord.drop_gateway()  # while the worker is still answering the command

    mention = discord.user_message(f"<@{discord.bot_author()['id']}> are backups encrypted?", mention_bot=True)
    discord.dispatch("MESSAGE_CREATE", mention)  # sent while the bot is away: replayed on RESUME
    resume = wait_for(lambda: [f for f in discord.gateway_log if f["op"] == 6], what="the client to resume")[0]
    assert resume["d"]["session_id"] == session and resume["d"]["token"] == "test-bot-token"
    assert "`code <request>`" in text_of(_original(discord, command))  # /help
    wait_for(lambda: _reply_to(discord, mention["id"]), what="the reply to the mention made while away")
    assert [f["op"] for f in discord.gateway_log].count(2) == 1  # resumed, not identified anew
    assert bot.poll() is None


def test_a_disabled_channel_is_not_answered_and_its_progress_is_taken_back(bot, discord, owner, rt):
    channels.update(rt.db, "discord", CHANNEL_ID, {"enabled": False})
    command = discord.command_interaction("ask", "question", "How do we deploy?")
    mention = discord.user_message(f"<@{discord.bot_author()['id']}> how do we deploy?", mention_bot=True)
    discord.dispatch("INTERACTION_CREATE", command)
    discord.dispatch("MESSAGE_CREATE", mention)
    for event in (command, mention):
        wait_for(lambda event=event: (_task(owner, event["id"]) or [None])[0] == "skipped", what="a skipped task")
    # The deferred "thinking…" is withdrawn and the 🤔 comes off; nothing is said.
    wait_for(lambda: discord.calls("DELETE /webhooks/{application_id}/{token}/messages/@original"),
             what="the deferral to be withdrawn")
    wait_for(lambda: (CHANNEL_ID, mention["id"], "🤔") not in discord.reactions and
             any(c.route.startswith("PUT") and "reactions" in c.path for c in discord.requests),
             what="🤔 to be added, then removed")
    assert discord.calls(MESSAGES) == [] and command["token"] not in discord.originals


def test_follow_ups_in_a_thread_are_answered_only_where_the_bot_answered_and_the_channel_allows(
        bot, processes, discord, owner):
    mention = discord.user_message(f"<@{discord.bot_author()['id']}> how do we deploy?", mention_bot=True)
    discord.dispatch("MESSAGE_CREATE", mention)
    wait_for(lambda: _reply_to(discord, mention["id"]), what="the reply to the mention")
    answered = discord.start_thread(mention)  # a person opens a thread on the question
    chatter = discord.user_message("anyone seen the new dashboard?")
    discord.dispatch("MESSAGE_CREATE", chatter)
    elsewhere = discord.start_thread(chatter)  # a thread the bot never answered in

    too_early = discord.user_message("and in staging?", channel_id=answered)
    discord.dispatch("MESSAGE_CREATE", too_early)  # follow-ups are off until the channel opts in
    switched = _morningai(processes, "discord", "follow-ups", CHANNEL_ID, "on")
    assert switched.returncode == 0, switched.stderr

    follow_up = discord.user_message("and in staging?", channel_id=answered)
    discord.dispatch("MESSAGE_CREATE", follow_up)
    reply = wait_for(lambda: _reply_to(discord, follow_up["id"]), what="the reply to the follow-up")
    assert reply["channel_id"] == answered  # in the thread, not the channel
    # The follow-up is in the question's conversation (so the agent reads it with the question).
    assert _conversation(owner, follow_up["id"]) == _conversation(owner, mention["id"]) == (CHANNEL_ID, answered)

    stranger = discord.user_message("does this work?", channel_id=elsewhere)
    second = discord.user_message("and in production?", channel_id=answered)
    for message in (stranger, second):
        discord.dispatch("MESSAGE_CREATE", message)
    wait_for(lambda: _reply_to(discord, second["id"]), what="the reply to the second follow-up")

    switched = _morningai(processes, "discord", "follow-ups", CHANNEL_ID, "off")
    assert switched.returncode == 0, switched.stderr
    after = discord.user_message("and on Fridays?", channel_id=answered)
    mentioned = discord.user_message(f"<@{discord.bot_author()['id']}> and on Fridays?", channel_id=answered,
                                     mention_bot=True)
    for message in (after, mentioned):
        discord.dispatch("MESSAGE_CREATE", message)
    wait_for(lambda: _reply_to(discord, mentioned["id"]), what="the reply to a mention in the thread")
    assert [_task(owner, m["id"]) for m in (too_early, stranger, after, chatter)] == [None] * 4
    assert bot.poll() is None


def test_a_thread_opened_on_the_bots_answer_goes_on_with_that_question(bot, processes, discord, owner):
    switched = _morningai(processes, "discord", "follow-ups", CHANNEL_ID, "on")
    assert switched.returncode == 0, switched.stderr
    mention = discord.user_message(f"<@{BOT_ID}> how do we deploy?", mention_bot=True)
    discord.dispatch("MESSAGE_CREATE", mention)
    answer = wait_for(lambda: _reply_to(discord, mention["id"]), what="the answer")
    # The worker records the answer's message id just after Discord took it; a person opening a
    # thread on it is slower than that, and the test must be too.
    wait_for(lambda: _task(owner, mention["id"])[4] == f"discord:{answer['id']}", what="the answer recorded")
    on_answer = discord.start_thread(answer)  # "Create Thread" on the bot's answer, not the question

    follow_up = discord.user_message("and in staging?", channel_id=on_answer)
    mentioned = discord.user_message(f"<@{BOT_ID}> and on Fridays?", channel_id=on_answer, mention_bot=True)
    for message in (follow_up, mentioned):
        discord.dispatch("MESSAGE_CREATE", message)
        reply = wait_for(lambda message=message: _reply_to(discord, message["id"]), what="the reply in the thread")
        assert reply["channel_id"] == on_answer
        # One conversation with the question: the agent reads them together.
        assert _conversation(owner, message["id"]) == _conversation(owner, mention["id"]) == (CHANNEL_ID,
                                                                                            mention["id"])
    command = discord.command_interaction("ask", "question", "and on Mondays?", channel_id=on_answer,
                                          channel=discord.threads[on_answer])
    discord.dispatch("INTERACTION_CREATE", command)
    _original(discord, command)
    assert _conversation(owner, command["id"]) == (CHANNEL_ID, mention["id"])
    assert bot.poll() is None


# Long enough for three messages; cited, as the model is asked to.
LONG_ANSWER = "\n\n".join(f"Step {n}: " + "the pipeline builds, tests and ships the release [1]. " * 9
                           for n in range(1, 11))


def test_a_long_answer_goes_on_in_a_thread_where_replies_are_follow_ups(gateway, processes, env, discord, owner,
                                                                        tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploy.md").write_text("# Deploying\n\nThe pipeline builds, tests and ships every release.\n")
    env = {**env, "MORNINGAI_EMBEDDINGS": "hash"}
    ingested = _morningai(processes, "ingest", str(docs), env=env)
    assert ingested.returncode == 0, ingested.stderr
    switched = _morningai(processes, "discord", "follow-ups", CHANNEL_ID, "on")
    assert switched.returncode == 0, switched.stderr
    answers = iter([LONG_ANSWER])

    def model(request):  # the first answer is long, the next short; routing gets the default
        if request.body["messages"][0]["content"] == prompts.JUDGE:
            return "yes"  # the follow-up's rewording is the fake's, whose words retrieval cannot place
        if request.body["max_tokens"] < 100:
            return None
        return next(answers, "Staging ships the same way, one stage earlier [1].")

    with FakeOpenAI(chat_hook=model) as chat:
        processes.start("-m", "hub", "worker", name="worker",
                        env={**env, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": chat.base_url})
        mention = discord.user_message(f"<@{BOT_ID}> how do we deploy?", mention_bot=True)
        discord.fail_next(THREADS, 429, retry_after=0.3)
        discord.dispatch("MESSAGE_CREATE", mention)
        first = wait_for(lambda: _reply_to(discord, mention["id"]), what="the answer's first part")
        thread = mention["id"]  # started from the question, so it has the question's id
        rest = wait_for(lambda: (sent := _in(discord, thread)) and sent[-1]["components"] and sent,
                        what="the rest of the answer, buttons last, in the thread")
        assert len(discord.calls(THREADS)) == 2  # the 429, then the retry
        assert (discord.threads[thread]["parent_id"], discord.threads[thread]["name"]) == (CHANNEL_ID,
                                                                                           "how do we deploy?")
        assert first["channel_id"] == CHANNEL_ID and first["content"].endswith("*(continued in the thread)*")
        assert len(rest) >= 2 and rest[-1]["embeds"] and "Step 10" in rest[-1]["content"]
        assert all(len(m["content"]) <= 2000 for m in (first, *rest))

        follow_up = discord.user_message("and in staging?", channel_id=thread)
        discord.dispatch("MESSAGE_CREATE", follow_up)
        reply = wait_for(lambda: _reply_to(discord, follow_up["id"]), what="the answer to the reply in the thread")
        asked = chat.requests_to("/v1/chat/completions")[-1].body["messages"]
    # The model read the follow-up after the question and answer before it in the thread.
    assert [message_text(m["content"]) for m in asked if m["role"] != "system"][:2] == ["how do we deploy?",
                                                                                        LONG_ANSWER]
    assert reply["channel_id"] == thread and "Staging ships the same way" in text_of(reply)
    assert _conversation(owner, follow_up["id"]) == _conversation(owner, mention["id"]) == (CHANNEL_ID, thread)
    assert len(discord.threads) == 1  # an answer in a thread goes on in that thread


def test_a_session_that_cannot_be_resumed_is_identified_anew_and_the_pending_answer_still_arrives(
        bot, discord, owner):
    command = discord.command_interaction("help")
    discord.dispatch("INTERACTION_CREATE", command)
    wait_for(lambda: discord.calls(CALLBACK), what="the deferral")
    first = discord.wait_for_session()
    discord.drop_gateway(resumable=False)  # while the worker is still answering the command

    wait_for(lambda: [f for f in discord.gateway_log if f["op"] == 6], what="the client to try resuming")
    assert discord.wait_for_session() != first  # refused (INVALID_SESSION), so it identified anew
    assert [f["op"] for f in discord.gateway_log].count(2) == 2
    # the worker answers over REST, gateway or not
    assert "`code <request>`" in text_of(_original(discord, command))

    mention = discord.user_message(f"<@{BOT_ID}> are backups encrypted?", mention_bot=True)
    discord.dispatch("MESSAGE_CREATE", mention)
    wait_for(lambda: _reply_to(discord, mention["id"]), what="the reply on the new session")
    assert bot.poll() is None


def test_malformed_dispatches_are_skipped_and_the_connection_stays(bot, discord, owner):
    """A platform with a bug sends events discord.py cannot read, or that our handlers cannot:
    each is logged and skipped, and the same connection goes on taking what comes next."""
    mention = discord.user_message(f"<@{discord.bot_author()['id']}> how do we deploy?", mention_bot=True)
    command = discord.command_interaction("ask", "question", "How do we deploy?")
    broken = [
        ("MESSAGE_CREATE", {k: v for k, v in mention.items() if k != "author"}),  # a field removed
        ("MESSAGE_CREATE", {**mention, "id": "not-a-snowflake"}),
        ("MESSAGE_CREATE", {**mention, "author": 0, "id": "1"}),
        ("MESSAGE_CREATE", {**mention, "content": "\x00" + "x" * 70_000, "id": "2"}),
        ("MESSAGE_CREATE", {**mention, "channel_id": None, "id": "4"}),
        ("INTERACTION_CREATE", {**command, "data": 0}),
        ("INTERACTION_CREATE", {k: v for k, v in command.items() if k != "type"}),
        ("INTERACTION_CREATE", {**command, "member": "alice", "id": "3"}),
        ("GUILD_CREATE", "not an object"),
    ]
    for event, data in broken:
        discord.dispatch(event, data)
    discord.dispatch("MESSAGE_CREATE", mention)
    assert wait_for(lambda: _reply_to(discord, mention["id"]), what="the reply to the mention after them")
    discord.dispatch("INTERACTION_CREATE", command)
    assert "No knowledge base yet" in text_of(_original(discord, command))
    assert bot.poll() is None and discord.connected
    assert len(discord.identified_with()) == 1  # never reconnected: the first connection took all
    assert owner.execute("SELECT count(*) FROM tasks").fetchone()[0] == 2
