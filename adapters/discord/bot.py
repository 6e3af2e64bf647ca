"""The gateway bot (`morningai discord`): a discord.py client that turns slash commands, "Ask
MorningAI" on a message, mentions, `!ask` and thread follow-ups into tasks. It never answers itself: the worker does,
over REST, so answers survive this process restarting or its websocket dropping."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
import yarl
from discord.http import Route

from adapters.discord import interactions
from adapters.discord.commands import sync_commands
from adapters.discord.interactions import BadInteraction, Command, Hub, Replayed
from adapters.discord.poster import THINKING
from adapters.discord.rest import DiscordREST
from core.models import ChatTask

log = logging.getLogger(__name__)

PREFIX = "!ask"


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
        # A thread goes on with the conversation the bot had there: the thread's own, or the one
        # of the answer it was opened on.
        conversation = (await asyncio.to_thread(self.hub.thread_conversation, str(channel.parent_id), str(channel.id))
                        if in_thread else None)
        text = await self._addressed_text(message, conversation)
        if text is None:
            return
        # An uncached guild's channel is a PartialMessageable that still knows its guild.
        guild = getattr(message.guild, "id", None) or getattr(channel, "guild_id", None)
        guild_id = str(guild) if guild else None
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
                # one conversation (and the agent's memory of it).
                channel=str(channel.parent_id) if in_thread else str(channel.id),
                thread=(conversation or str(channel.id)) if in_thread else str(message.id),
                user=str(message.author.id),
                reply_target={"via": "message", "channel_id": str(channel.id), "message_id": str(message.id),
                              "guild_id": guild_id,
                              # A thread may have settings of its own, else its channel's apply.
                              "parent_channel": str(channel.parent_id) if in_thread else None,
                              # Where a long answer may go on in a thread of the question's own.
                              "can_open_thread": isinstance(channel, discord.TextChannel)})
            if len(task.text) > self.hub.max_chars:
                raise BadInteraction(f"the message is longer than the {self.hub.max_chars} characters allowed")
            await asyncio.to_thread(self.hub.submit, task)
        except Exception as exc:
            log.exception("could not take message %s", message.id)
            reason = str(exc) if isinstance(exc, BadInteraction) else "I couldn't take this request right now"
            await message.reply(f"Sorry: {reason}. Please try again.", mention_author=False)

    async def _addressed_text(self, message: discord.Message, conversation: str | None) -> str | None:
        """The question, when the message is for us: `!ask …`, a mention, or a follow-up in a
        thread we answered in (`conversation`) whose channel answers follow-ups; None when it is
        not for us."""
        content = message.content.strip()
        if content == PREFIX or content.startswith(PREFIX + " "):
            return content[len(PREFIX):].strip()
        if self.user in message.mentions:
            return re.sub(rf"<@!?{self.user.id}>", "", content).strip()
        channel = message.channel
        if conversation is None or not content:
            return None
        thread, parent = str(channel.id), str(channel.parent_id)
        follows = await asyncio.to_thread(lambda: self.hub.follow_ups(parent) or self.hub.follow_ups(thread))
        return content if follows else None


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
        # Who installed the app for this use (discord.py keeps only these two readings of it).
        "authorizing_integration_owners": {
            **({interactions.GUILD_INSTALL: str(interaction.guild_id)} if interaction.is_guild_integration() else {}),
            **({interactions.USER_INSTALL: str(interaction.user.id)} if interaction.is_user_integration() else {})},
    }


def run(hub: Hub, rest: DiscordREST, *, token: str, application_id: str, guild_ids: list[int],
        api_url: str, gateway_url: str | None) -> None:
    """Connect and serve until stopped; discord.py reconnects (resuming when it can) by itself."""
    point_at(api_url, gateway_url)
    Bot(hub, rest, application_id, guild_ids).run(token, log_handler=None)
