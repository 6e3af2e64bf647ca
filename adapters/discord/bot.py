"""The gateway bot (`morningai discord`): a discord.py client that turns slash commands, "Ask
MorningAI" on a message, mentions, `!ask` and thread follow-ups into tasks, and, in support
channels, questions nobody addressed to it (new forum posts among them); it keeps what people
reply in its threads there, and takes a ✅ on a question or its answer as "resolved". It never
answers itself: the worker does, over REST, so answers survive this process restarting or its
websocket dropping."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord.http import Route

from adapters.discord import interactions, render
from adapters.discord.commands import sync_commands
from adapters.discord.interactions import BadInteraction, Command, Hub, Replayed
from adapters.discord.poster import THINKING
from adapters.discord.rest import DiscordREST
from core.models import ChatTask, Listening
from core.questions import is_question

log = logging.getLogger(__name__)

PREFIX = "!ask"
# A ✅ on a question or its answer resolves it, as the "Resolved" button does.
RESOLVING = {"✅", "✔️", "☑️"}


def point_at(api_url: str, gateway_url: str | None) -> None:
    """Send discord.py's REST calls to `api_url`, and its websocket to `gateway_url` when set.
    Both are class attributes in discord.py: the gateway one is also where it goes back to
    after Discord invalidates a session."""
    Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class Bot(discord.Client):
    def __init__(self, hub: Hub, rest: DiscordREST, application_id: str, guild_ids: list[int]):
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: switched on in the Developer Portal, see README
        super().__init__(intents=intents, application_id=int(application_id),
                         allowed_mentions=discord.AllowedMentions.none())
        self.hub, self.rest, self.guild_ids = hub, rest, guild_ids
        self.app_id = application_id
        # discord.py reads each dispatch in its receive loop, before any handler of ours, and an
        # exception there ends the loop: one malformed event would end the connection and this
        # process. Each reading is guarded, so such an event is logged and skipped. (What our
        # handlers raise, discord.py itself logs and goes on from.)
        self._connection.parsers = {event: _skipping_malformed(event, parse)
                                    for event, parse in self._connection.parsers.items()}

    async def setup_hook(self) -> None:
        for line in await asyncio.to_thread(sync_commands, self.rest, self.app_id, self.guild_ids):
            log.info("%s", line)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s (%s)", self.user, self.user.id)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        try:
            parsed = interactions.parse(_wire(interaction))
        except BadInteraction as exc:
            log.info("ignoring interaction %s: %s", interaction.id, exc)
            return
        if not isinstance(parsed, Command):
            await self._callback(interaction, await asyncio.to_thread(interactions.accept, self.hub, parsed))
            return
        await self._callback(interaction, interactions.DEFERRED)  # first: the 3 s clock is running
        try:
            await asyncio.to_thread(interactions.accept, self.hub, parsed)
        except Replayed:
            log.info("interaction %s was already received", interaction.id)
        except Exception as exc:  # the user sees why, instead of "thinking…" forever
            log.exception("could not take interaction %s", interaction.id)
            notice = ({"content": f"Sorry: {exc}", "allowed_mentions": {"parse": []}}
                      if isinstance(exc, BadInteraction) else interactions.failed_to_accept(str(interaction.id)))
            await self.http.request(Route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                                          webhook_id=interaction.application_id, webhook_token=interaction.token),
                                    json=notice)

    async def _callback(self, interaction: discord.Interaction, response: dict[str, Any]) -> None:
        await self.http.request(Route("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
                                      interaction_id=interaction.id, interaction_token=interaction.token),
                                json=response)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.author.id == self.user.id:
            return  # our own answers (and other bots') are never questions
        channel = message.channel
        in_thread = isinstance(channel, discord.Thread)
        # A forum post is a thread whose first message has the thread's id.
        post = in_thread and message.id == channel.id
        # A thread goes on with the conversation the bot had there: the thread's own, or the one
        # of the answer it was opened on.
        conversation = (await asyncio.to_thread(self.hub.thread_conversation, str(channel.parent_id), str(channel.id))
                        if in_thread and not post else None)
        # A thread may have settings of its own, else its channel's (the forum's, for a post) apply.
        listening = await asyncio.to_thread(self._listening, channel)
        asked_us = self._asked_text(message)
        # A follow-up in a thread we answered in, whose channel answers follow-ups, is for us too.
        follow_up = message.content.strip() if conversation and listening.follow_ups else None
        text = asked_us if asked_us is not None else follow_up or None
        if text is not None:
            await self._take(message, text, conversation)
        elif not in_thread or post:
            asked = _question(message, channel) if listening.unasked else ""
            if is_question(asked):
                # A support channel: a question nobody tagged the bot in (answered or drafted per
                # the channel's mode, by the worker).
                await self._take(message, asked, conversation, unasked=True)
        if conversation is not None and listening.support and asked_us is None:
            # What people answer in the bot's threads is kept, to learn from once resolved.
            await asyncio.to_thread(
                self.hub.record_reply, str(channel.parent_id), conversation, str(message.id), str(message.author.id),
                message.content.strip(), render.link(_guild_id(message), str(channel.id), str(message.id)))

    def _listening(self, channel: Any) -> Listening:
        if not isinstance(channel, discord.Thread):
            return self.hub.listening(str(channel.id))
        own, parent = self.hub.listening(str(channel.id)), self.hub.listening(str(channel.parent_id))
        return Listening(*(a or b for a, b in zip(dataclasses.astuple(own), dataclasses.astuple(parent), strict=True)))

    async def _take(self, message: discord.Message, text: str, conversation: str | None, *,
                    unasked: bool = False) -> None:
        channel = message.channel
        in_thread = isinstance(channel, discord.Thread)
        guild_id = _guild_id(message)
        if not unasked:  # an unasked question may get no answer: nothing promises one
            try:
                await message.add_reaction(THINKING)  # "working on it", removed by the worker's answer
            except discord.HTTPException as exc:
                log.info("cannot react in channel %s: %s", channel.id, exc)
        try:
            workspace = await asyncio.to_thread(self.hub.workspace_for_guild, guild_id)
            task = ChatTask(
                platform="discord", workspace=workspace, platform_event_id=str(message.id),
                text=text or "help", kind="ask" if text else "help",
                # A conversation is (channel, thread), named as before any thread exists: a
                # message in a channel is a thread of its own, and a thread opened on it later
                # has the message's id. So a question and its follow-ups in that thread share
                # one conversation (and the agent's memory of it). A forum post is a thread
                # whose first message has its id: the same holds.
                channel=str(channel.parent_id) if in_thread else str(channel.id),
                thread=(conversation or str(channel.id)) if in_thread else str(message.id),
                user=str(message.author.id),
                reply_target={"via": "message", "channel_id": str(channel.id), "message_id": str(message.id),
                              "guild_id": guild_id,
                              # A thread may have settings of its own, else its channel's apply.
                              "parent_channel": str(channel.parent_id) if in_thread else None,
                              # Where a long answer may go on in a thread of the question's own.
                              "can_open_thread": isinstance(channel, discord.TextChannel),
                              **({"unasked": True} if unasked else {})})
            if len(task.text) > self.hub.max_chars:
                raise BadInteraction(f"the message is longer than the {self.hub.max_chars} characters allowed")
            await asyncio.to_thread(self.hub.submit, task)
        except Exception as exc:
            log.exception("could not take message %s", message.id)
            if unasked:
                return  # nobody asked us: a failure here is ours to log, not theirs to read
            reason = str(exc) if isinstance(exc, BadInteraction) else "I couldn't take this request right now"
            await message.reply(f"Sorry: {reason}. Please try again.", mention_author=False)

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        """A ✅ on a question or on the bot's answer to it resolves it. Raw: the message need
        not be in discord.py's cache."""
        if str(event.emoji) not in RESOLVING or event.user_id == self.user.id or (event.member and event.member.bot):
            return
        # A question in a thread (a forum post) is kept under the thread's channel.
        thread = self.get_channel(event.channel_id)
        channel = thread.parent_id if isinstance(thread, discord.Thread) else event.channel_id
        task_id = await asyncio.to_thread(self.hub.answered_at, str(channel), str(event.message_id))
        if task_id is not None:
            log.info("%s", await asyncio.to_thread(self.hub.resolve, task_id, str(event.user_id), "reaction"))

    def _asked_text(self, message: discord.Message) -> str | None:
        """The question, when the message asks us by name: `!ask …` or a mention; else None."""
        content = message.content.strip()
        if content == PREFIX or content.startswith(PREFIX + " "):
            return content[len(PREFIX):].strip()
        if self.user in message.mentions:
            return re.sub(rf"<@!?{self.user.id}>", "", content).strip()
        return None


def _skipping_malformed(event: str, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def guarded(data: Any) -> Any:
        try:
            return parse(data)
        except Exception:
            log.warning("skipped a malformed %s event from the gateway", event, exc_info=True)
            return None
    return guarded


def _question(message: discord.Message, channel: Any) -> str:
    """What a message asks as a person reads it: a forum post's title goes before its text."""
    content = message.content.strip()
    if isinstance(channel, discord.Thread) and message.id == channel.id and channel.name not in content:
        return f"{channel.name}\n\n{content}".strip()
    return content


def _guild_id(message: discord.Message) -> str | None:
    # An uncached guild's channel is a PartialMessageable that still knows its guild.
    guild = getattr(message.guild, "id", None) or getattr(message.channel, "guild_id", None)
    return str(guild) if guild else None


def _wire(interaction: discord.Interaction) -> dict[str, Any]:
    """The interaction back in Discord's wire format, which the shared translation reads."""
    channel_type = getattr(interaction.channel, "type", None)
    parent = getattr(interaction.channel, "parent_id", None)  # a thread's channel
    return {
        "id": str(interaction.id), "application_id": str(interaction.application_id),
        "type": interaction.type.value, "token": interaction.token, "data": interaction.data,
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
        "channel_id": str(interaction.channel_id) if interaction.channel_id else "",
        "channel": {"type": channel_type.value, "parent_id": str(parent) if parent else None}
                   if channel_type is not None else {},
        "user": {"id": str(interaction.user.id)},
        # The message a button is on: a review message says what became of its draft below it.
        **({"message": {"id": str(interaction.message.id), "content": interaction.message.content}}
           if interaction.message else {}),
        # Who installed the app for this use (discord.py keeps only these two readings of it).
        "authorizing_integration_owners": {
            **({interactions.GUILD_INSTALL: str(interaction.guild_id)} if interaction.is_guild_integration() else {}),
            **({interactions.USER_INSTALL: str(interaction.user.id)} if interaction.is_user_integration() else {})},
    }


def run(hub: Hub, *, token: Callable[[], str | None], rest: Callable[[str], DiscordREST], application_id: str,
        guild_ids: list[int], api_url: str, gateway_url: str | None, check_every: float = 2.0) -> None:
    """Connect with the bot token `token()` gives and serve until stopped; discord.py reconnects
    (resuming when it can) by itself. `token()` is asked again every `check_every` seconds: a
    new token (saved in the dashboard) closes the connection and identifies anew with it, none
    closes it until one comes."""
    point_at(api_url, gateway_url)
    asyncio.run(_serve(hub, token, rest, application_id, guild_ids, check_every))


async def _serve(hub: Hub, token: Callable[[], str | None], rest: Callable[[str], DiscordREST],
                 application_id: str, guild_ids: list[int], check_every: float) -> None:
    current = await asyncio.to_thread(token)
    refused = None  # a token Discord refused: not tried again until it changes
    while True:
        if current is None or current == refused:
            log.info("waiting for %s (set it in the dashboard: Integrations)",
                     "another DISCORD_BOT_TOKEN" if current else "DISCORD_BOT_TOKEN")
            while (latest := await asyncio.to_thread(token)) == current:
                await asyncio.sleep(check_every)
            current = latest
            continue
        latest = current
        async with Bot(hub, rest(current), application_id, guild_ids) as client:
            running = asyncio.create_task(client.start(current))
            while latest == current and not (await asyncio.wait({running}, timeout=check_every))[0]:
                latest = await asyncio.to_thread(token)
            if latest != current:
                log.info("DISCORD_BOT_TOKEN %s: closing the connection", "changed" if latest else "removed")
        # Leaving the block closed the client, which ends `running` if it was not over.
        try:
            await running
        except discord.LoginFailure as exc:
            log.error("Discord refused DISCORD_BOT_TOKEN: %s", exc)
            refused = current
            continue
        if latest == current:
            return  # the client stopped by itself; `morningai up` starts the gateway again
        current = latest
