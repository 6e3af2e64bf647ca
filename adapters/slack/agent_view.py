"""Slack's agent messaging experience (the manifest's `agent_view`): the app's Messages tab is a
conversation in which each question starts a thread.

Opening the tab (`app_home_opened`, tab `messages`) gets suggested prompts: the workspace's
approved FAQs, most asked first, then the questions most people asked, or a few generic ones
while the workspace has neither. Their title is the greeting: a message posted on every opening
would fill the conversation with hellos. They are set after the acknowledgement, by a Bolt lazy
listener: they cost two queries and a Slack call, and the tab is opened far more often than
questions are asked, so the acknowledgement waits on none of it (bench/slack_ack.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext
from slack_bolt.context.set_suggested_prompts import SetSuggestedPrompts
from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:
    from adapters.slack.inbound import Hub

log = logging.getLogger(__name__)

GREETING = "Hi! I answer from your team's knowledge, with sources. You could ask:"
GENERIC_PROMPTS = ("What can you help me with?", "What do people here ask most often?",
                   "How do I get started with our team's tools?")
MAX_PROMPTS = 4  # Slack shows four at most
TITLE_CHARS = 60  # a prompt's title: one line in Slack's side panel


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
