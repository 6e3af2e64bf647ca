"""Hub -> Slack: the worker's poster for the `slack` platform.

`working` puts :eyes: on the message being answered as soon as the task is queued, and `done`
takes it off once the answer is recorded (a slash command already said "Working on it" in its
acknowledgement). `post` sends the rendered
Reply into the thread of that message, one message per second per channel at most; an answer
for a channel the bot is not in (a slash command there) goes through the command's
response_url instead. slack_sdk's retry handler waits out a 429's Retry-After.

Slack has no idempotency key, so every message carries its task and part in Slack's message
metadata: a re-run of a task whose worker died after Slack accepted some parts, before the task
was marked posted, reads the thread back and posts only the parts missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from adapters.slack.agent_view import LOADING_MESSAGES, STATUS
from adapters.slack.bolt_app import web_client
from adapters.slack.render import Message, render
from core.models import ChatTask, Reply

log = logging.getLogger(__name__)

PROGRESS_EMOJI = "eyes"
POSTED_EVENT = "morningai_reply"  # the metadata event_type of every message the hub posts
# chat.postMessage errors that mean "the bot cannot write here", where response_url still can.
_NOT_HERE = {"not_in_channel", "channel_not_found", "is_archived"}

TokenFor = Callable[[dict[str, Any]], str]  # reply_target -> the bot token of its team


class ResponseUrlError(Exception):
    pass


class SlackPoster:
    def __init__(self, api_url: str, token_for: TokenFor, pace: Callable[[str], Any]):
        self.api_url = api_url
        self.token_for = token_for
        self.pace = pace

    def _client(self, task: ChatTask):
        return web_client(self.api_url, self.token_for(task.reply_target))

    def working(self, task: ChatTask) -> None:
        """:eyes: on the question; in the app's agent conversation (agent_view.py), Slack's status
        on its thread instead, and a new thread named after its question."""
        target = task.reply_target
        if target.get("agent"):
            self._thread(task, "assistant_threads_setStatus", status=STATUS, loading_messages=LOADING_MESSAGES)
            if target.get("title"):
                self._thread(task, "assistant_threads_setTitle", title=target["title"])
        elif target.get("message_ts"):
            self._react(task, "reactions_add", target["message_ts"])

    def done(self, task: ChatTask) -> None:
        target = task.reply_target
        if target.get("agent"):
            # Slack clears the status when the answer lands in the thread; not when the task ends
            # without one, or when the status went up after the answer (worker/posters.py).
            self._thread(task, "assistant_threads_setStatus", status="")
        elif target.get("message_ts"):
            self._react(task, "reactions_remove", target["message_ts"])

    def post(self, task: ChatTask, reply: Reply) -> str:
        target = task.reply_target
        messages = render(reply, task_id=str(task.id), trace_id=str(task.trace_id),
                          asked_by=target.get("asked_by", ""), question=target.get("question", ""))
        client = self._client(task)
        channel = target["channel"]
        kind = "error" if reply.is_error else "answer"
        already = self._posted_before(client, task, kind) if task.attempts > 1 else {}
        posted: list[str] = []
        try:
            for part, message in enumerate(messages):
                if part in already:
                    posted.append(already[part])
                    continue
                self.pace(f"slack:{channel}")
                response = client.chat_postMessage(
                    channel=channel, thread_ts=target.get("thread_ts"), text=message.text, blocks=message.blocks,
                    unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": POSTED_EVENT,
                              "event_payload": {"task_id": str(task.id), "kind": kind, "part": part}})
                posted.append(response["ts"])
        except SlackApiError as exc:
            if posted or exc.response.get("error") not in _NOT_HERE or not target.get("response_url"):
                raise
            return self._respond(channel, target["response_url"], messages)
        return f"{channel}:{posted[0]}"

    def _posted_before(self, client, task: ChatTask, kind: str) -> dict[int, str]:
        """The parts of this task's reply an earlier run posted: part -> ts."""
        target = task.reply_target
        try:
            if target.get("thread_ts"):
                response = client.conversations_replies(channel=target["channel"], ts=target["thread_ts"],
                                                        include_all_metadata=True, limit=200)
            elif target.get("message_ts"):  # a DM answered beside the question
                response = client.conversations_history(channel=target["channel"], oldest=target["message_ts"],
                                                        include_all_metadata=True, limit=200)
            else:
                return {}
        except SlackApiError as exc:
            # Answering twice beats not answering: post it all.
            log.warning("could not read back what an earlier run of task %s posted (%s): posting every part",
                        task.id, exc.response.get("error"))
            return {}
        found: dict[int, str] = {}
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (metadata.get("event_type") == POSTED_EVENT and payload.get("task_id") == str(task.id)
                    and payload.get("kind") == kind):
                found.setdefault(int(payload["part"]), message["ts"])
        return found

    def _respond(self, channel: str, response_url: str, messages: list[Message]) -> str:
        webhook = WebhookClient(response_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)])
        for message in messages:
            self.pace(f"slack:{channel}")
            response = webhook.send(text=message.text, blocks=message.blocks, response_type="in_channel",
                                    replace_original=False)
            if response.status_code != 200:
                raise ResponseUrlError(f"response_url answered {response.status_code}: {response.body[:200]}")
        return f"{channel}:response_url"

    def _thread(self, task: ChatTask, method: str, **arguments) -> None:
        # Like the reaction, a courtesy: an app without the agent experience refuses it.
        try:
            getattr(self._client(task), method)(channel_id=task.reply_target["channel"],
                                                thread_ts=task.reply_target["thread_ts"], **arguments)
        except SlackApiError as exc:
            log.info("no %s for task %s: %s", method, task.id, exc.response.get("error"))

    def _react(self, task: ChatTask, method: str, message_ts: str) -> None:
        # Progress is a courtesy: a missing scope or a deleted message must not fail the answer.
        try:
            getattr(self._client(task), method)(channel=task.reply_target["channel"], timestamp=message_ts,
                                                name=PROGRESS_EMOJI)
        except SlackApiError as exc:
            log.info("no :%s: on %s for task %s: %s", PROGRESS_EMOJI, message_ts, task.id,
                     exc.response.get("error"))
