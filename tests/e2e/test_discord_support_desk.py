"""Discord support channels through the whole hub: `morningai discord` (the real discord.py
client, in a subprocess) on the fake gateway, a real worker answering offline from the deploy
guide. `auto` mode answers questions nobody tagged the bot in only when sure enough and leaves
chatter and bots alone; a forum post is answered in its thread and tagged Solved once resolved
(by the button or a ✅); `draft` mode holds the answer for a reviewer, whose Publish posts it in
the question's place once; "Ask a person" calls the channel's role; settings Discord would refuse
are refused up front."""

import faq_support
import pytest
from discord_support import discord, env  # noqa: F401
from fakes.discord_server import (
    BOT_ID,
    BUG_TAG,
    CHANNEL_ID,
    FORUM_ID,
    GUILD_ID,
    SOLVED_TAG,
    USER_ID,
    buttons_of,
    settled,
    text_of,
)
from support import wait_for

from core.config import load_settings
from hub import wiring
from worker import channels

CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
REVIEW_CHANNEL, HIDDEN_CHANNEL = "900000000000000010", "900000000000000011"
HELPERS, LEAD, STRANGER = "900000000000000020", "900000000000000021", "900000000000000022"
SURE = "How do I roll back a bad release?"
UNSURE = "What is the parental leave policy for contractors in Lisbon?"


@pytest.fixture
def rt(monkeypatch, env, hub_env, tmp_path):
    """A Runtime on the children's settings, for this process: the deploy guide ingested."""
    for name, value in env.items():
        if name.startswith("DISCORD_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    faq_support.ingest_docs(runtime, tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def bot(rt, processes, env, discord):
    """`morningai discord` and a worker, answering offline."""
    env = {name: value for name, value in env.items() if not name.startswith("OPENAI_")}
    for name, args in (("discord", ("discord",)), ("worker", ("worker",))):
        processes.start("-m", "hub", *args, env={**env, "MORNINGAI_EMBEDDINGS": "hash"}, name=name)
    discord.wait_for_session()


def _task(rt, event_id: str) -> dict | None:
    with rt.db.connection() as conn:
        return conn.execute("SELECT t.*, s.resolved_how, s.resolved_by FROM tasks t "
                            "LEFT JOIN task_support s ON s.task_id = t.id WHERE platform_event_id = %s",
                            (event_id,)).fetchone()


def _settled(rt, event_id: str) -> dict:
    return wait_for(lambda: (row := _task(rt, event_id)) and row["status"] not in ("received", "queued", "running")
                    and row, what=f"the task of message {event_id} to settle")


def _answers_to(discord, message_id: str) -> list[dict]:
    """The bot's replies to a message, once they are whole (an answer grows in its message)."""
    return [m for m in discord.messages.values() if (m["message_reference"] or {}).get("message_id") == message_id
            and m["author"]["id"] == BOT_ID and settled(m)]


def _answer(discord, message_id: str) -> dict:
    return wait_for(lambda: next((m for m in _answers_to(discord, message_id) if buttons_of(m)), None),
                    what=f"the answer to message {message_id}")


def _replies(rt) -> list[tuple[str, str]]:
    with rt.db.connection() as conn:
        return [(row["text"], row["link"].removeprefix(f"https://discord.com/channels/{GUILD_ID}"))
                for row in conn.execute("SELECT text, link FROM thread_replies").fetchall()]


def _click(discord, custom_id: str, message: dict | None = None, user: str = USER_ID) -> dict:
    """Press a button over the gateway; the hub's callback."""
    pressed = discord.button_interaction(custom_id, user_id=user, message=message)
    discord.dispatch("INTERACTION_CREATE", pressed)
    return wait_for(lambda: next((c.body for c in discord.calls(CALLBACK)
                                  if c.path.endswith(f"/{pressed['token']}/callback")), None),
                    what=f"the answer to {custom_id}")


def _button(message: dict, prefix: str) -> str:
    return next(b["custom_id"] for b in buttons_of(message) if b["custom_id"].startswith(prefix))


def test_auto_mode_answers_questions_nobody_asked_it_only_when_sure(rt, bot, discord):
    channels.update(rt.db, "discord", CHANNEL_ID, {"mode": "auto", "unsure_reaction": "🤷"})
    sure, unsure = discord.user_message(SURE), discord.user_message(UNSURE)
    ignored = [discord.user_message("thanks everyone!"), discord.user_message("lol same"),
               discord.user_message(SURE, author={**discord.bot_author(), "id": "900000000000000099"})]
    for message in (sure, unsure, *ignored):
        discord.dispatch("MESSAGE_CREATE", message)

    answered = _settled(rt, sure["id"])
    assert answered["status"] == "posted" and answered["reply_target"]["unasked"] is True
    answer = _answer(discord, sure["id"])
    assert answer["channel_id"] == CHANNEL_ID and "make rollback" in text_of(answer)
    withheld = _settled(rt, unsure["id"])
    assert withheld["status"] == "withheld" and withheld["error"].startswith("withheld: confidence")
    wait_for(lambda: (CHANNEL_ID, unsure["id"], "🤷") in discord.reactions, what="the unsure sign")
    assert _answers_to(discord, unsure["id"]) == []
    # No 🤔 promised an answer to a question nobody asked the bot.
    assert not [c for c in discord.requests if "🤔" in c.path]
    assert [_task(rt, m["id"]) for m in ignored] == [None] * 3


def test_a_forum_post_is_answered_in_its_thread_and_tagged_solved_once_resolved(rt, bot, discord):
    channels.update(rt.db, "discord", FORUM_ID, {"mode": "auto", "threshold": 0.0})
    post = discord.forum_post("Rolling back", "How do I roll back a bad release when the error rate climbs?")
    chatter = discord.forum_post("Hello", "hi all")
    for message in (post, chatter):
        discord.dispatch("MESSAGE_CREATE", message)
    assert _settled(rt, post["id"])["status"] == "posted"
    answer = _answer(discord, post["id"])
    assert answer["channel_id"] == post["id"] and "make rollback" in text_of(answer)  # in the post's thread

    # What people reply in the post is kept (a support channel), to learn from once resolved.
    reply = discord.user_message("`make rollback` did it", channel_id=post["id"])
    discord.dispatch("MESSAGE_CREATE", reply)
    wait_for(lambda: _replies(rt) == [("`make rollback` did it", f"/{post['id']}/{reply['id']}")],
             what="the reply kept")
    words = _click(discord, _button(answer, "resolve:"))
    assert words == {"type": 4, "data": {"content": "Marked resolved. Thanks!", "flags": 64,
                                         "allowed_mentions": {"parse": [], "replied_user": False}}}
    wait_for(lambda: discord.threads[post["id"]]["applied_tags"] == [BUG_TAG, SOLVED_TAG], what="the Solved tag")
    assert _task(rt, post["id"])["resolved_how"] == "button"
    assert _click(discord, _button(answer, "resolve:"))["data"]["content"] == "This was already marked resolved."
    assert _task(rt, chatter["id"]) is None

    # A ✅ on the bot's answer in another post resolves that one.
    second = discord.forum_post("Staging", "When is the staging environment refreshed?", tags=())
    discord.dispatch("MESSAGE_CREATE", second)
    answer = _answer(discord, second["id"])
    discord.react(answer, "✅")
    wait_for(lambda: discord.threads[second["id"]]["applied_tags"] == [SOLVED_TAG], what="the second Solved tag")
    assert (_task(rt, second["id"])["resolved_how"], _task(rt, second["id"])["resolved_by"]) == (
        "reaction", f"discord:{USER_ID}")


def test_draft_mode_holds_the_answer_until_a_reviewer_publishes_it_once(rt, bot, discord):
    discord.add_channel(REVIEW_CHANNEL, "support-review")
    channels.update(rt.db, "discord", CHANNEL_ID, {"mode": "draft", "review_channel": REVIEW_CHANNEL})
    asked = discord.user_message(SURE)
    discord.dispatch("MESSAGE_CREATE", asked)
    assert _settled(rt, asked["id"])["status"] == "drafted"
    [review] = wait_for(lambda: [m for m in discord.messages.values() if m["channel_id"] == REVIEW_CHANNEL],
                        what="the draft in the review channel")
    assert "make rollback" in review["embeds"][0]["description"]
    assert f"/{CHANNEL_ID}/{asked['id']})" in review["content"] and _answers_to(discord, asked["id"]) == []

    published = _click(discord, _button(review, "draft_publish:"), message=review, user="900000000000000040")
    assert published["type"] == 7 and published["data"]["components"] == []  # the buttons go
    assert published["data"]["content"].endswith(
        "<@900000000000000040>: published: it is being posted in the question's thread")
    [answer] = wait_for(lambda: _answers_to(discord, asked["id"]), what="the published answer")
    assert answer["channel_id"] == CHANNEL_ID and "make rollback" in text_of(answer)
    assert _click(discord, _button(review, "draft_publish:"), message=review)["data"]["content"].endswith(
        "nothing done: the draft was already published by discord:900000000000000040")
    wait_for(lambda: _task(rt, asked["id"])["status"] == "posted", what="the task posted")
    assert len(_answers_to(discord, asked["id"])) == 1


def test_ask_a_person_calls_the_channels_role_and_settings_discord_would_refuse_are_refused(rt, bot, discord):
    discord.roles.append({"id": HELPERS, "name": "helpers"})
    discord.add_channel(HIDDEN_CHANNEL, "mods-only", hidden=True)
    discord.members.add(LEAD)
    asked = discord.user_message(f"<@{BOT_ID}> how do I roll back a bad release?", mention_bot=True)
    discord.dispatch("MESSAGE_CREATE", asked)
    answer = _answer(discord, asked["id"])

    checks = wiring.PlatformChecks(rt)

    def refused(**changes) -> str:
        with pytest.raises(channels.SettingsError) as error:
            channels.validate(rt.db, "discord", CHANNEL_ID, changes, checks)
        return str(error.value)

    assert refused(people=[f"role:{LEAD}"]).startswith(f"people: role:{LEAD} is not a role of this Discord server")
    assert refused(people=[f"user:{STRANGER}"]) == f"people: user:{STRANGER} is not a member of this Discord server"
    assert refused(review_channel=HIDDEN_CHANNEL).startswith(
        f"review_channel: MorningAI may not see channel {HIDDEN_CHANNEL}")
    assert refused(review_channel="900000000000000012").startswith(
        "review_channel: MorningAI cannot see channel 900000000000000012")
    kept = channels.validate(rt.db, "discord", CHANNEL_ID, {"people": [f"role:{HELPERS}", f"user:{LEAD}"]},
                             checks)
    channels.update(rt.db, "discord", CHANNEL_ID, kept)

    words = _click(discord, _button(answer, "escalate:"))
    assert words["data"]["content"].startswith("Asked for a person") and words["data"]["flags"] == 64
    [called] = wait_for(lambda: [m for m in _answers_to(discord, asked["id"]) if "asked for a person" in m["content"]],
                        what="the people called")
    assert called["content"] == f"<@&{HELPERS}> <@{LEAD}> <@{USER_ID}> asked for a person to help with this."
    # Pinged: the role and the lead; the asker is named, not pinged again.
    assert (called["mention_roles"], called["mentions"]) == ([HELPERS], [LEAD])
    assert _click(discord, _button(answer, "escalate:"))["data"]["content"].startswith(
        "Someone already asked for a person")
