"""Interactions, as both the gateway and the HTTP endpoint receive them: an interaction
payload as a ChatTask or a vote, acting on it, and the responses Discord expects.

Both ways in share this translation, so a slash command means the same thing whether it came
over the websocket or as a signed POST."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from adapters.discord import render
from adapters.discord.commands import ASK_MESSAGE, KINDS, MESSAGE
from core.models import ChatTask, Submitted

# Interaction and callback types (Discord's "Receiving and Responding" docs).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT = 1, 2, 3
PONG = {"type": 1}
DEFERRED = {"type": 5}  # "thinking…", until the worker edits @original
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


def parse(payload: Any) -> str | Command | Vote:
    """"ping", a Command or a Vote; BadInteraction for anything else."""
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
        prefix, _, rest = str(data.get("custom_id", "")).partition(":")
        vote, _, task_id = rest.partition(":")
        if prefix != render.FEEDBACK_PREFIX or vote not in render.VOTES:
            raise BadInteraction("data.custom_id: not one of our buttons")
        try:
            return Vote(uuid.UUID(task_id), user_id(payload), render.VOTES[vote])
        except ValueError:
            raise BadInteraction("data.custom_id: not one of our buttons") from None
    raise BadInteraction(f"type: interactions of type {kind} are not handled")


def user_id(payload: dict[str, Any]) -> str:
    """Who acted: `member.user` in a guild, `user` in a direct message."""
    user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    return str(user.get("id", ""))


def thanks(recorded: bool) -> dict[str, Any]:
    """The answer to a feedback click, seen only by the one who clicked."""
    content = "Thanks for the feedback." if recorded else "That answer is no longer known here."
    return {"type": 4, "data": {"content": content, "flags": EPHEMERAL, "allowed_mentions": render.NO_MENTIONS}}


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
    follow_ups: Callable[[str], bool]
    # (channel, thread) -> the conversation a message in that thread goes on with; None when the
    # bot has not answered there
    thread_conversation: Callable[[str, str], str | None]
    max_chars: int


def accept(hub: Hub, interaction: str | Command | Vote) -> dict[str, Any]:
    """Act on a parsed interaction (submit the task, store the vote) and return the callback."""
    if interaction == "ping":
        return PONG
    if isinstance(interaction, Vote):
        return thanks(hub.record_feedback(interaction.task_id, interaction.user, interaction.vote))
    task = interaction.task(hub.workspace_for_guild(interaction.guild_id))
    if task.reply_target.get("parent_channel"):  # in a thread: on with the conversation had there
        task = replace(task, thread=hub.thread_conversation(task.channel, task.thread) or task.thread)
    if len(task.text) > hub.max_chars:
        raise BadInteraction(f"the text is longer than the {hub.max_chars} characters allowed")
    if not hub.submit(task).created:
        raise Replayed(f"interaction {task.platform_event_id} was already received")
    return DEFERRED
