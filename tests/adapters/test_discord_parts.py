"""Discord's outbound side against the fake's REST API: splitting, mentions, embeds, buttons,
rate limits, expired tokens and command sync; and the translation of interaction payloads."""

import re
import time
import uuid

import pytest
from fakes import FakeDiscord
from fakes.discord_server import APP_ID, CHANNEL_ID, FORUM_ID, GUILD_ID, IS_COMPONENTS_V2, text_of

from adapters.discord import interactions, layout, render
from adapters.discord.commands import command_definitions, sync_commands
from adapters.discord.poster import DiscordPoster
from adapters.discord.rest import DiscordError, DiscordREST
from core.models import ChatTask, Citation, CodeBlock, Reply

FENCE = re.compile(r"^```", re.MULTILINE)


@pytest.fixture
def discord():
    with FakeDiscord() as server:
        yield server


def _long_answer() -> str:
    prose = "\n\n".join(f"Paragraph {n}: " + "the deploy pipeline runs tests first. " * 12 for n in range(12))
    code = "```python\n" + "\n".join(f"step_{n} = deploy({n})  # with a comment" for n in range(120)) + "\n```"
    return f"@everyone look: {prose}\n\n{code}\n\nAsk <@123456789012345678> or @here for more."


def test_split_keeps_every_piece_within_the_limit_with_fences_balanced():
    text = _long_answer()
    pieces = render.split(text)
    assert len(pieces) > 3 and all(len(piece) <= render.LIMIT for piece in pieces)
    assert all(len(FENCE.findall(piece)) % 2 == 0 for piece in pieces)
    code_lines = [line for piece in pieces for line in piece.splitlines() if line.startswith("step_")]
    assert code_lines == [f"step_{n} = deploy({n})  # with a comment" for n in range(120)]
    paragraphs = [p for piece in pieces for p in piece.split("\n\n") if "Paragraph" in p]
    assert len(paragraphs) == 12  # cut between paragraphs, never inside one that fits


def test_split_cuts_a_line_longer_than_a_message_and_closes_an_unclosed_fence():
    pieces = render.split("x" * 4500)
    assert [len(p) for p in pieces] == [2000, 2000, 500]
    (piece,) = render.split("```sh\nmake deploy")
    assert piece == "```sh\nmake deploy\n```"


def _task(**target) -> ChatTask:
    return ChatTask(platform="discord", workspace="default", platform_event_id=str(uuid.uuid4()), text="q",
                    channel=CHANNEL_ID, reply_target=target)


def test_a_long_answer_edits_original_then_follows_up_and_pings_nobody(discord):
    task = _task(via="interaction", application_id=APP_ID, token="tok-1", channel_id=CHANNEL_ID)
    reply = Reply(text=_long_answer(), code=(CodeBlock("print('hi')", "python"),),
                  citations=(Citation("Runbook", "https://wiki.example/runbook"), Citation("Deploy", "docs/deploy.md")))

    posted = DiscordPoster(DiscordREST(discord.api_url)).post(task, reply)

    original = discord.originals["tok-1"]
    assert posted == f"discord:{original['id']}"
    follow_ups = discord.calls("POST /webhooks/{application_id}/{token}")
    sent = [original] + [discord.messages[m] for m in discord.messages if m != original["id"]]
    assert len(follow_ups) == len(sent) - 1 >= 3
    assert all(call.params == {"wait": "true"} and "Authorization" not in call.headers for call in follow_ups)
    for message in sent:
        assert len(message["content"]) <= 2000 and len(FENCE.findall(message["content"])) % 2 == 0
        assert message["allowed_mentions"] == {"parse": [], "replied_user": False}
        assert not message["mention_everyone"] and message["mentions"] == []
    assert "@\u200beveryone" in original["content"]
    last = sent[-1]
    assert "```python\nprint('hi')\n```" in last["content"]
    assert last["embeds"][0]["description"] == ("1. [Runbook](https://wiki.example/runbook)\n"
                                               "2. Deploy — `docs/deploy.md`")
    buttons = last["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"feedback:up:{task.id}", f"feedback:down:{task.id}",
        f"escalate:{task.id}", f"resolve:{task.id}"]
    assert all(not m["components"] and not m["embeds"] for m in sent[:-1])


def test_a_429_is_waited_out_and_retried_once(discord):
    discord.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=0.4)
    task = _task(via="message", channel_id=CHANNEL_ID, message_id="900000000000000777")
    began = time.monotonic()
    DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, Reply(text="Deploy with make."))
    assert time.monotonic() - began >= 0.4
    calls = discord.calls("POST /channels/{channel_id}/messages")
    assert len(calls) == 2 and calls[0].body == calls[1].body
    assert calls[1].headers["Authorization"] == "Bot bot-token"
    (message,) = discord.messages.values()
    assert message["message_reference"]["message_id"] == "900000000000000777"


def test_a_bucket_with_nothing_remaining_is_waited_for_before_the_next_request(discord):
    rest = DiscordREST(discord.api_url, "bot-token")
    discord.exhaust_bucket(1.0)  # long enough that a request made without waiting is far inside it
    send = lambda channel: rest.request("POST", "/channels/{channel_id}/messages", json={"content": "a"},
                                        channel_id=channel)
    send(CHANNEL_ID)
    began = time.monotonic()
    send("900000000000000099")  # another channel is another bucket: no wait
    assert time.monotonic() - began < 0.8
    with pytest.raises(DiscordError, match="429"):  # a request that may be skipped gives up instead
        rest.request("POST", "/channels/{channel_id}/messages", json={"content": "b"}, max_wait=0.1,
                     channel_id=CHANNEL_ID)
    send(CHANNEL_ID)
    assert time.monotonic() - began >= 0.95
    assert len(discord.calls("POST /channels/{channel_id}/messages")) == 3  # no 429 was needed


def test_a_rate_limit_longer_than_the_worker_waits_fails_the_post_for_a_retry(discord):
    discord.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=120)
    with pytest.raises(DiscordError, match="429"):
        DiscordREST(discord.api_url, "t").request("POST", "/channels/{channel_id}/messages",
                                                 json={"content": "x"}, channel_id=CHANNEL_ID)


THREADS = "POST /channels/{channel_id}/messages/{message_id}/threads"
QUESTION = "900000000000000777"  # the id of the message the bot answers


def _sent_well(messages: list[dict]) -> bool:
    return all(len(m["content"]) <= 2000 and len(FENCE.findall(m["content"])) % 2 == 0
               and not m["mention_everyone"] and m["mentions"] == [] for m in messages)


def test_a_long_answer_to_a_mention_goes_on_in_a_thread_started_from_the_question(discord):
    task = _task(via="message", channel_id=CHANNEL_ID, message_id=QUESTION, can_open_thread=True)
    reply = Reply(text=_long_answer(), citations=(Citation("Runbook", "https://wiki.example/runbook"),))
    discord.fail_next(THREADS, 429, retry_after=0.2)

    posted = DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, reply)

    assert len(discord.calls(THREADS)) == 2  # the 429, then the retry
    thread = discord.threads[QUESTION]  # a thread started from a message has the message's id
    assert thread["parent_id"] == CHANNEL_ID and thread["name"] == task.text
    first, *rest = discord.messages.values()
    assert posted == f"discord:{first['id']}"
    assert first["channel_id"] == CHANNEL_ID and first["message_reference"]["message_id"] == QUESTION
    assert first["content"].endswith("*(continued in the thread)*") and not first["components"]
    assert len(rest) >= 2 and all(m["channel_id"] == QUESTION and not m["message_reference"] for m in rest)
    assert _sent_well([first, *rest])
    assert rest[-1]["embeds"] and rest[-1]["components"]  # sources and 👍/👎 end the answer

    # A run retried after a crash finds the thread it opened, and Discord drops the parts it
    # posted already (same nonces).
    DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, reply)
    assert len(discord.messages) == 1 + len(rest) and list(discord.threads) == [QUESTION]


@pytest.mark.parametrize("can_open_thread, refusal", [
    (True, {"status": 403, "code": 50013, "message": "Missing Permissions"}),  # no Create Public Threads
    (False, None),  # the question was in a thread or a direct message already
])
def test_a_long_answer_stays_in_the_channel_where_no_thread_can_be_opened(discord, can_open_thread, refusal):
    if refusal:
        discord.fail_next(THREADS, **refusal)
    task = _task(via="message", channel_id=CHANNEL_ID, message_id=QUESTION, can_open_thread=can_open_thread)
    DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, Reply(text=_long_answer()))
    sent = list(discord.messages.values())
    assert len(sent) >= 3 and all(m["channel_id"] == CHANNEL_ID for m in sent) and _sent_well(sent)
    assert "continued in the thread" not in sent[0]["content"] and discord.threads == {}
    assert len(discord.calls(THREADS)) == (1 if refusal else 0)


def test_a_short_answer_opens_no_thread(discord):
    task = _task(via="message", channel_id=CHANNEL_ID, message_id=QUESTION, can_open_thread=True)
    DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, Reply(text="Deploy with make."))
    (message,) = discord.messages.values()
    assert message["channel_id"] == CHANNEL_ID and discord.calls(THREADS) == []


def test_defusing_mass_mentions_never_pushes_a_message_past_the_limit():
    parts = render.messages(Reply(text="@everyone " * 600), uuid.uuid4())
    assert len(parts) > 1 and all(len(p["content"]) <= render.LIMIT for p in parts)
    assert "@everyone" not in "".join(p["content"] for p in parts)


def test_an_expired_interaction_token_falls_back_to_a_channel_message(discord):
    discord.expired_tokens.add("tok-old")
    task = _task(via="interaction", application_id=APP_ID, token="tok-old", channel_id=CHANNEL_ID)
    posted = DiscordPoster(DiscordREST(discord.api_url, "bot-token")).post(task, Reply(text="Late answer."))
    (message,) = discord.messages.values()
    assert posted == f"discord:{message['id']}" and text_of(message) == "Late answer."
    assert message["flags"] == IS_COMPONENTS_V2
    with pytest.raises(DiscordError, match="Unknown Webhook"):  # without a bot token: RQ retries, then fails
        DiscordPoster(DiscordREST(discord.api_url)).post(task, Reply(text="Late answer."))


def test_commands_are_overwritten_only_when_they_changed(discord):
    rest = DiscordREST(discord.api_url, "bot-token")
    assert sync_commands(rest, APP_ID, [int(GUILD_ID)]) == [f"guild {GUILD_ID}: commands updated"]
    assert sync_commands(rest, APP_ID, [int(GUILD_ID)]) == [f"guild {GUILD_ID}: commands already current"]
    assert len(discord.calls("PUT /applications/{application_id}/commands")) == 1
    assert [c["name"] for c in discord.commands[GUILD_ID]] == ["ask", "code", "docs", "faq", "help", "Ask MorningAI"]
    assert discord.commands[GUILD_ID] == command_definitions(everywhere=False) and "global" not in discord.commands
    # Global commands say where they may be used: installed by a guild or a user, in guilds and DMs.
    assert sync_commands(rest, APP_ID, []) == ["global: commands updated"]
    ask_message = discord.commands["global"][-1]
    assert (ask_message["type"], ask_message["description"]) == (3, "")  # on a message's menu
    assert all(c["integration_types"] == [0, 1] and c["contexts"] == [0, 1, 2] for c in discord.commands["global"])
    assert sync_commands(rest, APP_ID, []) == ["global: commands already current"]


@pytest.mark.parametrize("payload, error", [
    ([], "interaction object"),
    ({"type": 2, "id": "1", "application_id": "2", "token": "t", "data": {"name": "rm"}}, "not one of our commands"),
    ({"type": 2, "id": "1", "application_id": "2", "data": {"name": "ask"}}, "token: missing"),
    ({"type": 3, "id": "1", "application_id": "2", "token": "t", "data": {"custom_id": "feedback:up:nope"}},
     "not one of our buttons"),
    ({"type": 5, "id": "1", "application_id": "2", "token": "t", "data": {}}, "type 5"),
])
def test_payloads_we_do_not_handle_are_refused(payload, error):
    with pytest.raises(interactions.BadInteraction, match=error):
        interactions.parse(payload)


def test_a_command_in_a_thread_continues_the_thread():
    payload = FakeDiscord.command_interaction("ask", "question", "and in staging?")
    payload["channel"] = {"id": "42", "type": 11, "parent_id": CHANNEL_ID}
    payload["channel_id"] = "42"
    task = interactions.parse(payload).task("default")
    assert (task.kind, task.text, task.user) == ("ask", "and in staging?", "900000000000000005")
    # The conversation a mention of the bot in that thread (or the message it started from) is in.
    assert (task.channel, task.thread) == (CHANNEL_ID, "42")
    assert task.reply_target["via"] == "interaction" and task.platform_event_id == payload["id"]


def test_ask_morningai_asks_about_the_messages_text_and_knows_who_installed_it():
    asked = FakeDiscord.user_message("Is staging refreshed on Mondays?")
    task = interactions.parse(FakeDiscord.message_command_interaction(asked)).task("default")
    assert (task.kind, task.text, task.reply_target["via"]) == ("ask", "Is staging refreshed on Mondays?", "interaction")
    assert task.reply_target["user_install"] is False  # the guild installed it: the bot is there
    both = FakeDiscord.message_command_interaction(asked, authorizing_integration_owners={"0": GUILD_ID, "1": "5"})
    assert interactions.parse(both).task("default").reply_target["user_install"] is False
    image_only = FakeDiscord.message_command_interaction({**asked, "content": ""})
    with pytest.raises(interactions.BadInteraction, match="no text to ask about"):
        interactions.parse(image_only).task("default")


def test_a_url_source_gets_a_link_button_and_an_answer_past_the_limits_goes_plain():
    task_id = uuid.uuid4()
    final = layout.message(Reply(text="Deploy with make.", citations=(
        Citation("Runbook", "https://wiki.example/runbook"), Citation("Deploy", "docs/deploy.md"))), task_id)
    runbook, deploy = final["components"][0]["components"][2:4]
    assert runbook["type"] == 9 and runbook["accessory"]["url"] == "https://wiki.example/runbook"
    assert deploy == {"type": 10, "content": "**2.** Deploy — `docs/deploy.md`"}
    assert layout.message(Reply(text="x" * 4001), task_id) is None  # 4,000 characters of text at most
    many = tuple(Citation(f"Page {n}", f"https://wiki.example/{n}") for n in range(13))
    assert layout.message(Reply(text="x", citations=many), task_id) is None  # 40 components at most


def test_the_desks_follow_up_reaction_and_solved_tag_go_where_the_question_is(discord):
    poster = DiscordPoster(DiscordREST(discord.api_url, "bot-token"))
    question = discord.user_message("how do we deploy?")["id"]
    task = _task(via="message", channel_id=CHANNEL_ID, message_id=question, guild_id=GUILD_ID, parent_channel=None)
    poster.follow_up(task)
    (asked,) = discord.messages.values()
    assert asked["message_reference"]["message_id"] == question and asked["mentions"] == []
    yes, no = (b["custom_id"] for b in asked["components"][0]["components"])
    assert (yes, no) == (f"follow_up_resolve:{task.id}", f"escalate:{task.id}")
    pressed = interactions.parse(FakeDiscord.button_interaction(yes))
    assert (pressed.action, pressed.task_id) == ("follow_up_resolve", task.id)

    poster.react(task, "<:hmm:900000000000000050>")  # a server's own emoji, as Discord's client copies it
    assert (CHANNEL_ID, question, "hmm:900000000000000050") in discord.reactions
    poster.mark_resolved(task)  # not a forum post: nothing to tag
    assert discord.calls("PATCH /channels/{channel_id}") == []


def test_an_app_only_a_user_installed_never_posts_with_the_bot_token(discord):
    discord.expired_tokens.add("tok-user")
    task = _task(via="interaction", application_id=APP_ID, token="tok-user", channel_id="900000000000000060",
                 parent_channel=FORUM_ID, user_install=True)
    poster = DiscordPoster(DiscordREST(discord.api_url, "bot-token"))
    with pytest.raises(DiscordError, match="Unknown Webhook"):
        poster.hand_over(task, ["role:900000000000000020"], "900000000000000005")
    poster.mark_resolved(task)
    assert discord.calls("POST /channels/{channel_id}/messages") == [] and discord.messages == {}
    assert not [call for call in discord.requests if call.route.startswith("GET")]
