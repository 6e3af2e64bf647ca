"""Slack's agent messaging experience (the manifest's `agent_view`): the app's Messages tab is a
conversation in which each question starts a thread, shown with a status while it is answered.

Opening the tab (`app_home_opened`, tab `messages`) gets suggested prompts: the workspace's
approved FAQs, most asked first, then the questions most people asked, or a few generic ones
while the workspace has neither. Their title is the greeting: a message posted on every opening
would fill the conversation with hellos. They are set after the acknowledgement, by a Bolt lazy
listener: they cost two queries and a Slack call, and the tab is opened far more often than
questions are asked, so the acknowledgement waits on none of it (bench/slack_ack.py).

What the person is looking at comes as `app_context_changed` and, folded into each message, as
its `app_context`; the channel among it is kept with their question's task (inbound.py) for
whatever answers about "this channel".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from redis import Redis
from redis.exceptions import RedisError
from slack_bolt import App, BoltContext
from slack_bolt.context.set_suggested_prompts import SetSuggestedPrompts
from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:  # inbound imports this module for what a message carries
    from adapters.slack.inbound import Hub

log = logging.getLogger(__name__)

GREETING = "Hi! I answer from your team's knowledge, with sources. You could ask:"
GENERIC_PROMPTS = ("What can you help me with?", "What do people here ask most often?",
                   "How do I get started with our team's tools?")
MAX_PROMPTS = 4  # Slack shows four at most
# While a question is worked on, Slack shows the status beside the bot's name, cycling through
# the loading messages (poster.py: SlackPoster.working).
STATUS = "is looking through your team's knowledge…"
LOADING_MESSAGES = ["Searching your team's documents…", "Reading the closest passages…",
                    "Writing an answer with its sources…"]
TITLE_CHARS = 60  # a prompt's or a thread's title: one line in Slack's side panel
_CHANNEL = "slack#/types/channel_id"
_MESSAGE = "slack#/types/message_context"  # a message the person has open: its channel counts


def short(text: str, limit: int = TITLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def prompts(questions: Iterable[str]) -> list[dict[str, str]]:
    """Up to four suggested prompts from `questions` (most useful first), each question once."""
    chosen: dict[str, dict[str, str]] = {}
    for question in questions:
        question = " ".join(question.split())
        if question and question.lower() not in chosen:
            chosen[question.lower()] = {"title": short(question), "message": question}
        if len(chosen) == MAX_PROMPTS:
            break
    return list(chosen.values()) or [{"title": q, "message": q} for q in GENERIC_PROMPTS]


def viewed_channel(context: dict | None) -> str | None:
    """The channel the person is looking at, from Slack's active-view context (its entities
    come most relevant first), or None when it is a canvas, a list or nothing."""
    for entity in (context or {}).get("entities") or []:
        value = entity.get("value")
        if entity.get("type") == _CHANNEL and isinstance(value, str):
            return value
        if entity.get("type") == _MESSAGE and isinstance(value, dict) and value.get("channel_id"):
            return value["channel_id"]
    return None


class ViewedChannels:
    """The channel each person was last seen looking at, shared by the web processes through
    Redis. It expires: where someone looked hours ago says nothing about their next question.
    A courtesy: while Redis is away, questions go without it."""

    def __init__(self, redis: Redis, ttl: int = 4 * 3600):
        self.redis = redis
        self.ttl = ttl

    @staticmethod
    def _key(team: str, user: str) -> str:
        return f"morningai:slack:viewing:{team}:{user}"

    def remember(self, team: str, user: str, channel: str | None) -> None:
        try:
            if channel:
                self.redis.set(self._key(team, user), channel, ex=self.ttl)
            else:
                self.redis.delete(self._key(team, user))
        except RedisError as exc:
            log.info("could not keep the channel %s of team %s is viewing: %s", user, team, exc)

    def viewed(self, team: str, user: str) -> str | None:
        try:
            channel = self.redis.get(self._key(team, user))
        except RedisError as exc:
            log.info("could not read the channel %s of team %s is viewing: %s", user, team, exc)
            return None
        return channel.decode() if channel else None


def register(app: App, hub: Hub) -> None:
    def acknowledge() -> None:
        """Bolt acknowledges the event once this returns; the prompts follow in `suggest`."""

    def suggest(context: BoltContext, set_suggested_prompts: SetSuggestedPrompts) -> None:
        try:
            set_suggested_prompts(prompts=prompts(hub.suggested_questions(context["workspace"])), title=GREETING)
        except SlackApiError as exc:  # a courtesy: Slack keeps the prompts it showed before
            log.info("no suggested prompts for %s: %s", context.channel_id, exc.response.get("error"))

    app.event("app_home_opened", matchers=[lambda event: event.get("tab") == "messages"])(
        ack=acknowledge, lazy=[suggest])

    @app.event("app_context_changed")
    def on_context(context: BoltContext, event: dict) -> None:
        if event.get("user"):
            hub.remember_view(context.team_id or context.enterprise_id, event["user"],
                              viewed_channel(event.get("context")))
