"""Interactions, as both the gateway and the HTTP endpoint receive them: an interaction
payload as a ChatTask, a vote or a press of one of the support desk's buttons, acting on it, and
the responses Discord expects.

Both ways in share this translation, so a slash command means the same thing whether it came
over the websocket or as a signed POST."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from adapters.discord import render
from adapters.discord.commands import ASK_MESSAGE, KINDS, MESSAGE
from core.models import ChatTask, Listening, Submitted

# Interaction and callback types (Discord's "Receiving and Responding" docs).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT = 1, 2, 3
PONG = {"type": 1}
DEFERRED = {"type": 5}  # "thinking…", until the worker edits @original
REPLY, UPDATE_MESSAGE = 4, 7  # callback types: a new message; an edit of the one the button is on
EPHEMERAL = 64
THREAD_CHANNEL_TYPES = {10, 11, 12}
GUILD_INSTALL, USER_INSTALL = "0", "1"  # keys of authorizing_integration_owners


class BadInteraction(ValueError):
    """A payload that is not an interaction we understand; the endpoint answers 400."""


@dataclass(frozen=True)
class Command:
    """A slash command, or "Ask MorningAI" on a message, waiting only for the workspace its
    guild is answered from."""

    payload: dict[str, Any]

    @property
    def guild_id(self) -> str | None:
        return self.payload.get("guild_id")

    def task(self, workspace: str) -> ChatTask:
        p = self.payload
        data = p["data"]
        if data.get("type") == MESSAGE:  # asked about the message it was used on, as /ask is
            kind = "ask"
            target = ((data.get("resolved") or {}).get("messages") or {}).get(str(data.get("target_id"))) or {}
            text = str(target.get("content") or "").strip()
            if not text:
                raise BadInteraction("that message has no text to ask about")
        else:
            kind = data["name"]
            options = {o.get("name"): o.get("value") for o in data.get("options") or () if isinstance(o, dict)}
            text = next((str(v) for v in options.values() if isinstance(v, str) and v.strip()), "")
        if kind == "help":
            text = "help"
        elif not text and kind != "faq":
            raise BadInteraction(f"/{kind} needs its text")
        owners = p.get("authorizing_integration_owners") or {}
        channel = p.get("channel") or {}
        in_thread = channel.get("type") in THREAD_CHANNEL_TYPES
        return ChatTask(
            platform="discord", workspace=workspace, platform_event_id=str(p["id"]), text=text,
            kind=kind,
            # A command inside a thread continues that thread's conversation, which is named
            # by its parent channel and the thread, as the gateway bot names it.
            channel=str(channel.get("parent_id") or p.get("channel_id", "")) if in_thread
            else str(p.get("channel_id", "")),
            thread=str(p["channel_id"]) if in_thread else None, user=user_id(p),
            reply_target={"via": "interaction", "application_id": str(p["application_id"]),
                          "token": p["token"], "channel_id": str(p.get("channel_id", "")),
                          "guild_id": p.get("guild_id"),
                          # Installed by the user only: the bot is not in this channel, and can
                          # answer through the interaction alone.
                          "user_install": USER_INSTALL in owners and GUILD_INSTALL not in owners,
                          # A thread is a channel of its own; its channel's settings apply to it.
                          "parent_channel": str(channel["parent_id"]) if in_thread and channel.get("parent_id")
                          else None})


@dataclass(frozen=True)
class Vote:
    task_id: uuid.UUID
    user: str
    vote: int


@dataclass(frozen=True)
class Press:
    """A support desk button pressed: render.DESK_ACTIONS, on a task's answer, follow-up or draft.
    `shown`: what the message it is on says, for a review message to say what became of it."""
    action: str
    task_id: uuid.UUID
    user: str
    shown: str = ""


def parse(payload: Any) -> str | Command | Vote | Press:
    """"ping", a Command, a Vote or a Press; BadInteraction for anything else."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), int):
        raise BadInteraction("send an interaction object with a numeric type")
    kind = payload["type"]
    if kind == PING:
        return "ping"
    for field in ("id", "application_id", "token"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            raise BadInteraction(f"{field}: missing")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadInteraction("data: missing")
    if kind == APPLICATION_COMMAND:
        if data.get("type") == MESSAGE and data.get("name") == ASK_MESSAGE:
            return Command(payload)
        if data.get("name") not in KINDS:
            raise BadInteraction(f"data.name: {data.get('name')!r} is not one of our commands")
        return Command(payload)
    if kind == MESSAGE_COMPONENT:
        return _button(payload, str(data.get("custom_id", "")))
    raise BadInteraction(f"type: interactions of type {kind} are not handled")


def _button(payload: dict[str, Any], custom_id: str) -> Vote | Press:
    prefix, _, rest = custom_id.partition(":")
    try:
        if prefix == render.FEEDBACK_PREFIX:
            vote, _, task_id = rest.partition(":")
            if vote in render.VOTES:
                return Vote(uuid.UUID(task_id), user_id(payload), render.VOTES[vote])
        elif prefix in render.DESK_ACTIONS:
            return Press(prefix, uuid.UUID(rest), user_id(payload),
                         str((payload.get("message") or {}).get("content") or ""))
    except ValueError:
        pass
    raise BadInteraction("data.custom_id: not one of our buttons")


def user_id(payload: dict[str, Any]) -> str:
    """Who acted: `member.user` in a guild, `user` in a direct message."""
    user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    return str(user.get("id", ""))


def thanks(recorded: bool) -> dict[str, Any]:
    """The answer to a feedback click, seen only by the one who clicked."""
    return privately("Thanks for the feedback." if recorded else "That answer is no longer known here.")


def privately(words: str) -> dict[str, Any]:
    """A message only whoever pressed the button sees."""
    return {"type": REPLY, "data": {"content": words, "flags": EPHEMERAL, "allowed_mentions": render.NO_MENTIONS}}


def failed_to_accept(trace: str) -> dict[str, Any]:
    """What replaces "thinking…" when the hub could not take the command."""
    return {"content": f"Sorry, I couldn't take this request right now; please try again. (trace `{trace}`)",
            "allowed_mentions": render.NO_MENTIONS}


class Replayed(BadInteraction):
    """An interaction id we already took: Discord sends each once, so this is a replay."""


@dataclass(frozen=True)
class Hub:
    """What the adapter needs of the hub, wired by a composition root."""

    submit: Callable[[ChatTask], Submitted]
    workspace_for_guild: Callable[[str | None], str]
    record_feedback: Callable[[uuid.UUID, str, int], bool]
    review_draft: Callable[[uuid.UUID, str, str], str]  # (task id, user, publish|dismiss) -> what became of it
    escalate: Callable[[uuid.UUID, str], str]  # (task id, user) "Ask a person" -> what happens now
    resolve: Callable[[uuid.UUID, str, str], str]  # (task id, user, button|reaction|follow_up) -> what became of it
    listening: Callable[[str], Listening]  # channel -> what it answers there beyond what is addressed to the bot
    # (channel, message) -> the task asked or answered there; a thread's message is asked by its channel
    answered_at: Callable[[str, str], uuid.UUID | None]
    record_reply: Callable[[str, str, str, str, str, str], None]  # (channel, thread, message, user, text, link)
    # (channel, thread) -> the conversation a message in that thread goes on with; None when the
    # bot has not answered there
    thread_conversation: Callable[[str, str], str | None]
    max_chars: int


def accept(hub: Hub, interaction: str | Command | Vote | Press) -> dict[str, Any]:
    """Act on a parsed interaction (submit the task, store the vote, do what a button says) and
    return the callback."""
    if interaction == "ping":
        return PONG
    if isinstance(interaction, Vote):
        return thanks(hub.record_feedback(interaction.task_id, interaction.user, interaction.vote))
    if isinstance(interaction, Press):
        return _pressed(hub, interaction)
    task = interaction.task(hub.workspace_for_guild(interaction.guild_id))
    if task.reply_target.get("parent_channel"):  # in a thread: on with the conversation had there
        task = replace(task, thread=hub.thread_conversation(task.channel, task.thread) or task.thread)
    if len(task.text) > hub.max_chars:
        raise BadInteraction(f"the text is longer than the {hub.max_chars} characters allowed")
    if not hub.submit(task).created:
        raise Replayed(f"interaction {task.platform_event_id} was already received")
    return DEFERRED


def _pressed(hub: Hub, press: Press) -> dict[str, Any]:
    """Only whoever pressed "Ask a person" or "Resolved" is told (the people called are told in
    the thread); a review message says to everyone what became of its draft, and by whom, and
    loses its buttons."""
    if press.action == render.ESCALATE:
        return privately(hub.escalate(press.task_id, press.user))
    if press.action in (render.RESOLVE, render.FOLLOW_UP_RESOLVE):
        how = "follow_up" if press.action == render.FOLLOW_UP_RESOLVE else "button"
        return privately(hub.resolve(press.task_id, press.user, how))
    words = hub.review_draft(press.task_id, press.user, press.action.removeprefix("draft_"))
    said = f"\n\n<@{press.user}>: {words}"
    shown = press.shown[:render.LIMIT - len(said)]  # the message's 2,000 characters hold both
    return {"type": UPDATE_MESSAGE, "data": {"content": (shown + said).strip(), "components": [],
                                             "allowed_mentions": render.NO_MENTIONS}}
