"""Slack -> hub: Bolt listeners that turn mentions, DMs, thread follow-ups, the `/morningai`
command and the message shortcut into ChatTasks, submit them and acknowledge. The Messages tab's
agent experience (prompts, what the person is looking at) is agent_view.py's.

Bolt runs each listener before answering Slack (process_before_response): a listener does only
`submit` (one row; the hub queues it once the response is out), so the acknowledgement follows
in milliseconds and an event is never acknowledged before it is stored. (A direct message that
does not say which channel its author is looking at adds one Redis read, given up after 0.25 s:
agent_view.py.) Redelivered events carry the same event_id, which the
task table deduplicates; nothing here drops a retry.
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import Ack, App, BoltContext

from adapters.slack.agent_view import short, viewed_channel
from adapters.slack.render import permalink
from core.models import KINDS, ChatTask, Listening
from core.questions import is_question

log = logging.getLogger(__name__)

SHORTCUT_ID = "ask_morningai"  # the message shortcut's callback_id, as in manifest.yml
COMMAND = "/morningai"
FEEDBACK_ACTION = re.compile(r"^feedback_(up|down)$")
REVIEW_ACTION = re.compile(r"^draft_(publish|dismiss)$")  # a drafted answer's buttons (render.review)
# "Ask a person" and "Resolved" under an answer, and the follow-up's "Yes, resolved".
SUPPORT_ACTION = re.compile(r"^(escalate|resolve|follow_up_resolve)$")
# A ✅ on a question or its answer resolves it, as the "Resolved" button does.
RESOLVING = {"white_check_mark", "heavy_check_mark", "ballot_box_with_check"}

HELP = (f"*MorningAI* answers from your team's knowledge.\n"
        f"• `{COMMAND} your question` (or `{COMMAND} ask …`): an answer with its sources\n"
        f"• `{COMMAND} code …`: code grounded in your repositories\n"
        f"• `{COMMAND} docs …`: a structured document\n"
        f"• `{COMMAND} faq …`: frequently asked questions\n"
        "• Mention me in a channel, or write to me directly; answers come in the thread.")

# Message subtypes that are still someone asking something; every other subtype (edits,
# deletions, joins, bot messages, ...) is not a question.
_ASKING_SUBTYPES = {None, "thread_broadcast", "file_share"}
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Hub:
    """What the adapter needs of the hub, handed in by the composition root."""

    submit: Callable[[ChatTask], Any]
    listening: Callable[[str], Listening]  # channel -> what it answers there beyond mentions
    answered_in_thread: Callable[[str, str], bool]  # (channel, thread ts) -> the bot answered there
    record_feedback: Callable[[uuid.UUID, str, int], bool]  # (task id, user, +1 / -1)
    review_draft: Callable[[uuid.UUID, str, str], str]  # (task id, user, publish|dismiss) -> what became of it
    escalate: Callable[[uuid.UUID, str], str]  # (task id, user) "Ask a person" -> what happens now
    resolve: Callable[[uuid.UUID, str, str], str]  # (task id, user, button|reaction) -> what became of it
    answered_at: Callable[[str, str], uuid.UUID | None]  # (channel, message ts) -> the task asked or answered there
    record_reply: Callable[[str, str, str, str, str, str], None]  # (channel, thread, ts, user, text, link)
    suggested_questions: Callable[[str], list[str]]  # workspace -> questions to suggest, best first
    remember_view: Callable[[str, str, str | None], None]  # (team, user, channel they look at or None)
    viewed: Callable[[str, str], str | None]  # (team, user) -> the channel they were last looking at
    max_chars: int


def question_text(text: str, bot_user_id: str | None) -> str:
    """Slack's markup as a person would read it: our own mention dropped, links spelled out,
    &amp; &lt; &gt; decoded."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = _LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] and m[2] != m[1] else m[1], text)
    return html.unescape(" ".join(text.split()))


def _from_bot(event: dict) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile")) or event.get("subtype") == "bot_message"


def register(app: App, hub: Hub) -> None:
    """Attach the listeners to a Bolt app whose authorize puts the hub workspace in context."""

    def task(context: BoltContext, event_key: str, text: str, reply_target: dict, **fields) -> ChatTask:
        # The team goes with the reply target: the worker answers with that team's token.
        team = {"team": context.team_id, "enterprise": context.enterprise_id,
                "enterprise_install": context.is_enterprise_install}
        return ChatTask(platform="slack", workspace=context["workspace"],
                        platform_event_id=f"{context.team_id or context.enterprise_id}:{event_key}",
                        text=text[:hub.max_chars], reply_target={**reply_target, **team}, **fields)

    def from_message(context: BoltContext, body: dict, event: dict) -> ChatTask | None:
        text = question_text(event.get("text") or "", context.bot_user_id)
        if not text:
            return None
        # Reply in the thread the message is in, or start one under it.
        thread = event.get("thread_ts") or event["ts"]
        return task(context, body["event_id"], text, channel=event["channel"], thread=thread,
                    user=event.get("user", ""),
                    reply_target={"channel": event["channel"], "thread_ts": thread, "message_ts": event["ts"]})

    def from_conversation(context: BoltContext, body: dict, event: dict) -> ChatTask | None:
        """A message in the app's Messages tab, the agent conversation: each question is answered
        in its own thread, with Slack's status while it is worked on, and a new thread is named
        after its question. The channel the person is looking at goes with it; Slack folds it
        into the message, or said it before (app_context_changed)."""
        new = from_message(context, body, event)
        if new is None:
            return None
        target = {**new.reply_target, "agent": True, "direct": True}
        viewing = (viewed_channel(event.get("app_context"))
                   or hub.viewed(context.team_id or context.enterprise_id, new.user))
        if viewing:
            target["context_channel"] = viewing
        if "thread_ts" not in event:
            target["title"] = short(new.text)
        return replace(new, reply_target=target)

    @app.event("app_mention")
    def on_mention(context: BoltContext, body: dict, event: dict) -> None:
        # A mention in a DM also arrives as message.im, answered there.
        if _from_bot(event) or "edited" in event or event.get("channel", "").startswith("D"):
            return
        new = from_message(context, body, event)
        if new is not None:
            hub.submit(new)

    @app.event("message")
    def on_message(context: BoltContext, body: dict, event: dict) -> None:
        if event.get("subtype") not in _ASKING_SUBTYPES or _from_bot(event):
            return
        if event.get("channel_type") == "im":
            direct = from_conversation(context, body, event)
            if direct is not None:
                hub.submit(direct)
        elif event.get("channel_type") in ("channel", "group") and not _mentions(event, context.bot_user_id):
            # A mention comes as app_mention too, and is answered from there.
            on_channel_message(context, body, event)

    def on_channel_message(context: BoltContext, body: dict, event: dict) -> None:
        thread = event.get("thread_ts")
        if thread and thread != event.get("ts"):
            listening = hub.listening(event["channel"])
            if not (listening.follow_ups or listening.support) or not hub.answered_in_thread(event["channel"], thread):
                return
            if listening.follow_ups:  # the channel wants replies in the bot's threads answered
                follow_up = from_message(context, body, event)
                if follow_up is not None:
                    hub.submit(follow_up)
            if listening.support and event.get("user") and event.get("text"):
                # A support channel: what people answer there is kept, to learn from once resolved.
                hub.record_reply(event["channel"], thread, event["ts"], event["user"],
                                 question_text(event["text"], context.bot_user_id),
                                 permalink(event["channel"], event["ts"], thread))
        elif hub.listening(event["channel"]).unasked:
            # A support channel: a question nobody tagged the bot in (answered or drafted per the
            # channel's mode, by the worker).
            unasked = from_message(context, body, event)
            if unasked is not None and is_question(unasked.text):
                hub.submit(replace(unasked, reply_target={**unasked.reply_target, "unasked": True}))

    @app.command(COMMAND)
    def on_command(ack: Ack, context: BoltContext, command: dict) -> None:
        words = (command.get("text") or "").strip().split(maxsplit=1)
        first = words[0].lower() if words else ""
        kind, rest = (first, words[1] if len(words) > 1 else "") if first in KINDS else ("ask", " ".join(words))
        text = question_text(rest, context.bot_user_id)
        if kind == "help" or not text:
            ack(text=HELP)  # ephemeral, at once: nothing to look up
            return
        hub.submit(task(context, command["trigger_id"], text, kind=kind, channel=command["channel_id"],
                        user=command["user_id"],
                        reply_target={"channel": command["channel_id"], "response_url": command["response_url"],
                                      "asked_by": command["user_id"], "question": text}))
        ack(text=f"Working on it: “{_quote(text)}”")

    @app.shortcut(SHORTCUT_ID)
    def on_shortcut(ack: Ack, context: BoltContext, shortcut: dict) -> None:
        message, channel = shortcut.get("message") or {}, shortcut["channel"]["id"]
        text = question_text(message.get("text") or "", context.bot_user_id)
        if text:
            thread = message.get("thread_ts") or message["ts"]
            hub.submit(task(context, shortcut["trigger_id"], text, channel=channel, thread=thread,
                            user=shortcut["user"]["id"],
                            reply_target={"channel": channel, "thread_ts": thread, "message_ts": message["ts"],
                                          "response_url": shortcut.get("response_url")}))
        ack()

    @app.action(FEEDBACK_ACTION)
    def on_feedback(ack: Ack, body: dict, action: dict) -> None:
        ack()
        task_id = _task_of(action, "feedback")
        if task_id is None:
            return
        vote = 1 if action["action_id"] == "feedback_up" else -1
        if not hub.record_feedback(task_id, body["user"]["id"], vote):
            log.warning("feedback on unknown task %s", task_id)

    @app.action(SUPPORT_ACTION)
    def on_support(ack: Ack, body: dict, action: dict, respond) -> None:
        """"Ask a person" or "Resolved" under an answer."""
        ack()
        task_id = _task_of(action, action["action_id"])
        if task_id is None:
            return
        user = body["user"]["id"]
        pressed = action["action_id"]
        words = (hub.escalate(task_id, user) if pressed == "escalate" else
                 hub.resolve(task_id, user, "follow_up" if pressed == "follow_up_resolve" else "button"))
        # Only whoever pressed it sees this; people called are told in the thread.
        respond(response_type="ephemeral", replace_original=False, text=words)

    @app.event("reaction_added")
    def on_reaction(event: dict) -> None:
        item = event.get("item") or {}
        if event.get("reaction") not in RESOLVING or item.get("type") != "message" or not event.get("user"):
            return
        task_id = hub.answered_at(item.get("channel", ""), item.get("ts", ""))
        if task_id is not None:
            hub.resolve(task_id, event["user"], "reaction")

    @app.action(REVIEW_ACTION)
    def on_review(ack: Ack, body: dict, action: dict, respond) -> None:
        ack()
        task_id = _task_of(action, "review")
        if task_id is None:
            return
        user = body["user"]["id"]
        words = hub.review_draft(task_id, user, action["action_id"].removeprefix("draft_"))
        # The buttons go: the draft message now says what became of it, and by whom.
        message = body.get("message") or {}
        blocks = [b for b in message.get("blocks", []) if b.get("block_id") != "draft_review"]
        respond(replace_original=True, text=words, blocks=blocks + _review_result(user, words))


def _task_of(action: dict, what: str) -> uuid.UUID | None:
    """The task a button acts on (its value), or None, logged, for a malformed one."""
    try:
        return uuid.UUID(action.get("value", ""))
    except ValueError:
        log.warning("%s click with a malformed task id %r", what, action.get("value"))
        return None


def _review_result(user: str, words: str) -> list[dict]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"<@{user}>: {words}"}]}]


def _mentions(event: dict, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}>" in (event.get("text") or "")


def _quote(text: str, limit: int = 150) -> str:
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return html.escape(text, quote=False)
