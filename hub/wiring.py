"""The composition root's one place for wiring: which infrastructure a process opens, which
poster answers each platform, which agent the worker calls, and what each adapter may ask of
the hub. Everything else is handed these parts; nothing below `hub` picks its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import requests
from redis import Redis
from redis.exceptions import RedisError
from slack_sdk.errors import SlackClientError

from adapters.discord import guilds
from adapters.discord.commands import invite_url
from adapters.discord.interactions import Hub as DiscordHub
from adapters.discord.poster import DiscordPoster
from adapters.discord.rest import DiscordError, DiscordREST
from adapters.slack.agent_view import MAX_PROMPTS, ViewedChannels
from adapters.slack.bolt_app import revoke as revoke_slack_token
from adapters.slack.inbound import Hub as SlackHub
from adapters.slack.installations import SlackInstallations
from adapters.slack.pacing import Pacer
from adapters.slack.poster import SlackPoster
from adapters.web.poster import WebPoster
from agents import threads
from agents.graph import Agent
from agents.llm import choose_chat_model
from core import workspaces
from core.config import Settings
from core.db import Database
from core.models import ChatTask
from core.runtime import Runtime
from hub.admin import connections
from hub.admin.live import LiveSettings
from hub.embedded import EmbeddedServices
from hub.web.integrations import Connectors
from memory import faqs
from memory.embedders import Embedder, choose_embedder
from memory.search import search
from tasks import feedback, lifecycle, stats, support
from worker import channels
from worker.jobs import Wiring
from worker.posters import NoPoster, PosterRegistry

log = logging.getLogger(__name__)

T = TypeVar("T")


def runtime(settings: Settings, database_url: str, redis_url: str, services: EmbeddedServices | None = None,
            embedded: tuple[str, ...] = ()) -> Runtime:
    """A Runtime on these servers, with the embedder the settings choose."""
    return Runtime(settings, database_url, redis_url, services, embedder=choose_embedder, embedded=embedded)


def open_runtime(settings: Settings, *, dashboard_settings: bool = False) -> Runtime:
    """The Runtime of a process, with embedded servers started for what the settings leave
    unset. With dashboard_settings (the web app and the workers, started once the database is
    migrated), the settings changed in the dashboard apply on top of `settings`, and keep
    applying as they change (hub/admin/live.py)."""
    services = EmbeddedServices(settings.home)
    database_url, redis_url = services.start(settings.database_url, settings.redis_url)
    started = tuple(name for name, service in (("PostgreSQL", services.postgres), ("Redis", services.redis))
                    if service.started)
    rt = runtime(settings, database_url, redis_url, services, started)
    if dashboard_settings:
        follow_dashboard(rt)
    return rt


def follow_dashboard(rt: Runtime) -> None:
    """From now on `rt.settings` are the environment's with the dashboard's settings and
    secrets on top, as they are saved."""
    live = LiveSettings(rt.db, rt.environment)
    live.current()  # now: a process says at start what it cannot apply
    rt.follow(live)


def for_worker(rt: Runtime) -> Wiring:
    """What a worker process runs its jobs with."""
    return Wiring(runtime=rt, posters=build_posters(rt),
                  make_agent=lambda: build_agent(rt.db, rt.embedder, rt.settings,
                                                 threads.checkpointer(rt.db.pool())))


def build_posters(rt: Runtime) -> PosterRegistry:
    """The platforms' posters, made again for the settings in force whenever they change (a
    token saved in the dashboard)."""
    return LivePosters(rt)


class Rebuilt(Generic[T]):
    """`make(settings)` for the settings in force, made again when they change (a secret saved
    in the dashboard: hub/admin/live.py); between changes a call costs a lock and a comparison."""

    def __init__(self, rt: Runtime, make: Callable[[Settings], T]):
        self.rt, self.make = rt, make
        self._made_for: Settings | None = None
        self._lock = threading.Lock()  # one rebuild when many threads see the change at once

    def __call__(self) -> T:
        settings = self.rt.settings
        with self._lock:
            if settings is not self._made_for:
                self._made, self._made_for = self.make(settings), settings
            return self._made


class LivePosters(PosterRegistry):
    def __init__(self, rt: Runtime):
        super().__init__()
        self.current = Rebuilt(rt, lambda settings: _posters_for(rt, settings))

    def for_task(self, task: ChatTask):
        return self.current().for_task(task)


def _posters_for(rt: Runtime, settings: Settings) -> PosterRegistry:
    posters = PosterRegistry()
    posters.register("web", WebPoster(rt.db))
    if settings.slack_bot_token or settings.slack_oauth_enabled:
        posters.register("slack", _slack_poster(rt, settings))
    if settings.discord_bot_token or settings.discord_public_key:
        token = settings.discord_bot_token.get_secret_value() if settings.discord_bot_token else None
        posters.register("discord", DiscordPoster(DiscordREST(settings.discord_api_url, token)))
    return posters


def build_agent(db: Database, embedder: Embedder, settings: Settings, checkpointer=None) -> Agent:
    """The agent wired to memory, the workspace's approved FAQs and the configured model."""
    return Agent(
        search=lambda workspace, query, k, sources: search(db, embedder, workspace, query, k=k, sources=sources),
        has_knowledge=lambda workspace: _has_knowledge(db, workspace),
        embed=embedder.embed, embedder_name=embedder.name, model=choose_chat_model(settings), checkpointer=checkpointer,
        faq_answer=lambda workspace, question: faqs.serving(db, embedder, workspace, question),
        faq_topic=lambda workspace, topic: faqs.about(db, embedder, workspace, topic))


def _slack_poster(rt: Runtime, settings: Settings) -> SlackPoster:
    installations = SlackInstallations(rt.db, settings.secret_key, settings.previous_secret_key)
    single = settings.slack_bot_token

    def token_for(target: dict) -> str:
        bot = installations.find_bot(enterprise_id=target.get("enterprise"), team_id=target.get("team"),
                                     is_enterprise_install=target.get("enterprise_install", False))
        if bot is not None:
            return bot.bot_token
        if single is not None:
            return single.get_secret_value()
        raise NoPoster(f"Slack team {target.get('team')} is not installed any more: no token to answer with")

    return SlackPoster(settings.slack_api_url, token_for, Pacer(rt.queue.redis).wait)


def _has_knowledge(db: Database, workspace: str) -> bool:
    space = workspaces.find(db, workspace)
    return bool(space and space.embedder)  # an embedder is recorded by the first ingest


def slack_hub(rt: Runtime) -> SlackHub:
    """What the Slack adapter may do with the hub. It only stores the task: Slack waits on the
    acknowledgement, which then waits on one INSERT, never on the task queue's Redis
    (tasks/dispatcher.py). Where someone is looking in Slack is kept in Redis on a client of its
    own, whose short timeouts bound what an acknowledgement can wait on it."""
    views = ViewedChannels(Redis.from_url(rt.redis_url, socket_connect_timeout=0.25, socket_timeout=0.25))
    return SlackHub(
        submit=lambda task: lifecycle.store(rt.db, task),
        listening=lambda channel: channels.listening(rt.db, "slack", channel),
        answered_in_thread=lambda channel, thread: lifecycle.answered_in_thread(rt.db, "slack", channel, thread),
        record_feedback=lambda task_id, user, vote: feedback.record(rt.db, "slack", task_id, user, vote),
        review_draft=lambda task_id, user, action: _review_draft(rt, "slack", task_id, f"slack:{user}", action),
        escalate=lambda task_id, user: escalate(rt, "slack", task_id, f"slack:{user}"),
        resolve=lambda task_id, user, how: resolve(rt, "slack", task_id, f"slack:{user}", how),
        answered_at=lambda channel, ts: lifecycle.answered_at(rt.db, "slack", channel, ts),
        record_reply=lambda channel, thread, ts, user, text, link: _record_reply(
            rt, "slack", channel, thread, ts, f"slack:{user}", text, link),
        suggested_questions=lambda workspace: _suggested_questions(rt.db, workspace),
        remember_view=views.remember, viewed=views.viewed,
        max_chars=rt.settings.max_message_chars)


class PlatformChecks:
    """What only the platforms can tell about a channel's settings (worker/channels.py:
    Platforms), asked with the token of the team or guild the channel's tasks came from."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.posters = build_posters(rt)

    def cannot_post(self, platform: str, channel: str, near: str) -> str | None:
        return self._ask(platform, near, lambda poster, target: poster.cannot_post(channel, target))

    def unknown_people(self, platform: str, channel: str, people: list[str]) -> str | None:
        return self._ask(platform, channel, lambda poster, target: poster.unknown_people(people, target))

    def _ask(self, platform: str, near: str, question) -> str | None:
        latest = stats.latest_in_channel(self.rt.db, platform, near)
        target = (latest or {}).get("reply_target") or {}
        try:
            return question(self.posters.for_task(ChatTask(platform=platform, workspace="", platform_event_id="",
                                                           text="", reply_target=target)), target)
        except NoPoster as exc:
            if latest is None:
                return (f"the hub cannot tell yet which {platform} team or server {near} belongs to: "
                        "ask the bot something there first")
            return str(exc)


def escalate(rt: Runtime, platform: str | None, task_id, by: str) -> str:
    """"Ask a person" on an answer: recorded, and the channel's people called to the thread by a
    worker (once); in words for whoever asked."""
    if not support.escalate(rt.db, task_id, by, platform):
        return "Someone already asked for a person here; they have been called."
    try:
        rt.queue.enqueue_hand_over(task_id, by)
    except RedisError:
        # Recorded: the dashboard lists it with the other escalations, whoever calls the people.
        log.warning("could not queue the hand-over of task %s; it waits in the dashboard's escalations", task_id)
        return "Asked for a person: they will see it on the MorningAI dashboard."
    return "Asked for a person: the people who help in this channel are called to the thread."


def resolve(rt: Runtime, platform: str | None, task_id, by: str, how: str) -> str:
    """Someone marked an answer's thread resolved; in words for them. A worker then tells the
    platform (where it shows resolution) and drafts an FAQ from an answer a person gave there."""
    if not support.resolve(rt.db, task_id, by, how, platform):
        return "This was already marked resolved."
    try:
        rt.queue.enqueue_resolved(task_id)
    except RedisError as exc:  # the resolution is recorded; only what follows it is missed
        log.warning("could not queue what follows the resolution of task %s: %s", task_id, exc)
    return "Marked resolved. Thanks!"


def _record_reply(rt: Runtime, platform: str, channel: str, thread: str, ts: str, user: str, text: str,
                  link: str) -> None:
    task_id = lifecycle.answered_at(rt.db, platform, channel, thread)
    if task_id is not None:
        support.record_reply(rt.db, task_id, ts, user, text, link)


def _review_draft(rt: Runtime, platform: str, task_id, by: str, action: str) -> str:
    """A reviewer's Publish or Dismiss from a platform's buttons, in words for them."""
    try:
        return support.review(rt, task_id, by, action, platform=platform)
    except support.NotReviewable as exc:
        return f"nothing done: {exc}"


def _suggested_questions(db: Database, workspace: str) -> list[str]:
    """The approved FAQs, most asked first, then what two people or more asked this month: a
    question only one person asked is theirs, not the team's to be shown."""
    approved = [faq.question for faq in faqs.listing(db, workspace, "approved", limit=MAX_PROMPTS)]
    asked = stats.top_questions(db, hours=30 * 24, limit=2 * MAX_PROMPTS, workspace=workspace)
    return approved + [question["text"] for question in asked if question["askers"] >= 2]


def discord_hub(rt: Runtime) -> DiscordHub:
    """What the Discord adapter (endpoint and gateway bot) may do with the hub."""
    return DiscordHub(
        submit=lambda task: lifecycle.submit(rt.db, rt.queue, task),
        workspace_for_guild=lambda guild_id: guilds.workspace_for_guild(rt.db, guild_id),
        record_feedback=lambda task_id, user, vote: feedback.record(rt.db, "discord", task_id, user, vote),
        review_draft=lambda task_id, user, action: _review_draft(rt, "discord", task_id, f"discord:{user}", action),
        escalate=lambda task_id, user: escalate(rt, "discord", task_id, f"discord:{user}"),
        resolve=lambda task_id, user, how: resolve(rt, "discord", task_id, f"discord:{user}", how),
        listening=lambda channel: channels.listening(rt.db, "discord", channel),
        answered_at=lambda channel, message: lifecycle.answered_at(rt.db, "discord", channel, message),
        record_reply=lambda channel, thread, message, user, text, link: _record_reply(
            rt, "discord", channel, thread, message, f"discord:{user}", text, link),
        thread_conversation=lambda channel, thread: lifecycle.thread_conversation(rt.db, "discord", channel, thread),
        max_chars=rt.settings.max_message_chars)


def connectors(rt: Runtime) -> Callable[[], Connectors]:
    """What the integrations API may ask of Slack and Discord, through the adapters' clients,
    for the settings in force; each says what went wrong instead of raising, since the admin's
    request goes on."""
    return Rebuilt(rt, lambda settings: _connectors(rt, settings))


def _connectors(rt: Runtime, settings: Settings) -> Connectors:
    token = settings.discord_bot_token.get_secret_value() if settings.discord_bot_token else None

    def revoke(bot_token: str) -> str | None:
        try:
            revoke_slack_token(settings.slack_api_url, bot_token)
        except (SlackClientError, OSError) as exc:  # Slack's refusal, or no answer
            return str(exc)
        return None

    def leave_guild(guild_id: str) -> str | None:
        try:
            # A request's client: a long rate limit fails the disconnect rather than hold the page.
            DiscordREST(settings.discord_api_url, token, max_wait=5).request(
                "DELETE", "/users/@me/guilds/{guild_id}", guild_id=guild_id)
        except (DiscordError, requests.RequestException) as exc:
            return str(exc)
        return None

    return Connectors(
        revoke_slack_token=revoke, leave_discord_guild=leave_guild if token else None,
        discord_invite_url=invite_url(settings.discord_application_id) if settings.discord_application_id else None,
        channel_checks=PlatformChecks(rt), test_connection=lambda platform: connections.test(settings, platform))
