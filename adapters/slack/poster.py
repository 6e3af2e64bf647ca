"""Hub -> Slack: the worker's poster for the `slack` platform.

`working` puts :eyes: on the message being answered as soon as the task is queued, and `done`
takes it off once the answer is recorded (a slash command already said "Working on it" in its
acknowledgement). `post` sends the rendered
Reply into the thread of that message, one message per second per channel at most; an answer
for a channel the bot is not in (a slash command there) goes through the command's
response_url instead. slack_sdk's retry handler waits out a 429's Retry-After.

`stream` shows an answer as it is written (adapters/slack/stream.py), wherever it answers a
message; a slash command's answer comes whole.

Slack has no idempotency key, so every message carries its task and part in Slack's message
metadata: a re-run of a task whose worker died after Slack accepted some parts, before the task
was marked posted, reads the thread back and posts only the parts missing. A task whose answer
was being streamed when its worker died (task.streamed_id) gets that message replaced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from adapters.slack.agent_view import LOADING_MESSAGES, STATUS
from adapters.slack.bolt_app import web_client
from adapters.slack.render import Message, follow_up, render, review
from adapters.slack.stream import POSTED_EVENT, SlackStream, posted_metadata
from core.models import ChatTask, Reply

log = logging.getLogger(__name__)

PROGRESS_EMOJI = "eyes"
ASK_AGAIN = 600  # seconds before streaming is tried again in a team whose Slack refused it
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
        # Teams whose Slack refused to start a stream -> until when their answers are edited in
        # place without asking again (a workspace's settings can change).
        self._not_streaming: dict[str, float] = {}

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

    def stream(self, task: ChatTask, started: Callable[[str], None]) -> SlackStream | None:
        target = task.reply_target
        if not target.get("message_ts") and not task.streamed_id:
            return None  # a slash command: its acknowledgement said "Working on it", the answer comes whole
        team = target.get("team") or ""
        return SlackStream(self._resumed(task), task, started, self._post_parts,
                           native=self._not_streaming.get(team, 0) < time.monotonic(),
                           on_refused=lambda error: self._not_streaming.update({team: time.monotonic() + ASK_AGAIN}))

    def post(self, task: ChatTask, reply: Reply) -> str:
        if task.streamed_id:  # an earlier run streamed into a message: that one becomes the answer
            return SlackStream(self._resumed(task), task, lambda ts: None, self._post_parts, native=False).finish(reply)
        target = task.reply_target
        messages = render(reply, task_id=str(task.id), trace_id=str(task.trace_id),
                          asked_by=target.get("asked_by", ""), question=target.get("question", ""))
        return self._post_parts(task, messages, 0, kind="error" if reply.is_error else "answer")

    def _resumed(self, task: ChatTask):
        """The client for a task's answer; a stream its earlier run left open is closed first, so
        the message can be edited (Slack would end it on its own, later)."""
        client = self._client(task)
        if task.streamed_id:
            try:
                client.chat_stopStream(channel=task.reply_target["channel"], ts=task.streamed_id)
            except SlackApiError:
                pass  # not streaming any more (or never was: an edited message)
        return client

    def _post_parts(self, task: ChatTask, messages: list[Message], first: int, kind: str) -> str:
        """Post the answer's parts from number `first` on; the id of the first one posted."""
        target = task.reply_target
        client = self._client(task)
        channel = target["channel"]
        already = self._posted_before(client, task, kind) if task.attempts > 1 else {}
        posted: list[str] = []
        try:
            for part, message in enumerate(messages[first:], first):
                if part in already:
                    posted.append(already[part])
                    continue
                self.pace(f"slack:{channel}")
                response = client.chat_postMessage(
                    channel=channel, thread_ts=target.get("thread_ts"), text=message.text, blocks=message.blocks,
                    unfurl_links=False, unfurl_media=False, metadata=posted_metadata(task, kind, part))
                posted.append(response["ts"])
        except SlackApiError as exc:
            if posted or exc.response.get("error") not in _NOT_HERE or not target.get("response_url"):
                raise
            return self._respond(channel, target["response_url"], messages[first:])
        return f"{channel}:{posted[0]}" if posted else ""

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

    def hand_over(self, task: ChatTask, people: Sequence[str], asked_by: str) -> str:
        """Call `people` (user groups S…, users U…) to the question's thread, as a mention."""
        target = task.reply_target
        called = " ".join(f"<!subteam^{person}>" if person.startswith("S") else f"<@{person}>" for person in people)
        text = (f"{called} <@{asked_by}> asked for a person to help with this." if called else
                f"<@{asked_by}> asked for a person, but nobody is set up to be called in this channel yet: an admin "
                "can name people for it on the MorningAI dashboard's Integrations page.")
        self.pace(f"slack:{target['channel']}")
        response = self._client(task).chat_postMessage(channel=target["channel"], thread_ts=target.get("thread_ts"),
                                                       text=text, unfurl_links=False, unfurl_media=False)
        return f"{target['channel']}:{response['ts']}"

    def follow_up(self, task: ChatTask) -> str:
        """Ask in the thread whether the answer helped: "Yes, resolved" or "No, ask a person"."""
        target = task.reply_target
        message = follow_up(task_id=str(task.id), asked_by=task.user)
        self.pace(f"slack:{target['channel']}")
        response = self._client(task).chat_postMessage(channel=target["channel"], thread_ts=target.get("thread_ts"),
                                                       text=message.text, blocks=message.blocks)
        return f"{target['channel']}:{response['ts']}"

    def react(self, task: ChatTask, emoji: str) -> None:
        """An emoji on the question (a support channel's "seen, not sure": worker/modes.py)."""
        if task.reply_target.get("message_ts"):
            self._react(task, "reactions_add", task.reply_target["message_ts"], emoji)

    def review(self, task: ChatTask, reply: Reply, channel: str) -> str:
        """Put a drafted answer before the reviewers in `channel`."""
        target = task.reply_target
        message = review(reply, task_id=str(task.id), trace_id=str(task.trace_id), asked_by=task.user,
                         channel=target["channel"], message_ts=target.get("message_ts") or "", question=task.text)
        self.pace(f"slack:{channel}")
        response = self._client(task).chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                                       unfurl_links=False, unfurl_media=False)
        return f"{channel}:{response['ts']}"

    # --- what only Slack can tell about a channel's settings (worker/channels.py: Platforms) ---

    def cannot_post(self, channel: str, near: dict[str, Any]) -> str | None:
        """Why the bot could not post in `channel`, asked with the token of `near`'s team."""
        try:
            found = web_client(self.api_url, self.token_for(near)).conversations_info(channel=channel)["channel"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "channel_not_found":
                return f"MorningAI cannot see channel {channel}: invite it there (/invite @MorningAI), or check the id"
            return f"Slack would not say whether MorningAI can post in {channel}: {error}"
        if not found.get("is_member") and not found.get("is_im"):
            return f"MorningAI is not in #{found.get('name', channel)}: /invite @MorningAI there first"
        return None

    def unknown_people(self, people: list[str], near: dict[str, Any]) -> str | None:
        """Which of `people` (user group ids S…, user ids U… / W…) Slack does not know in `near`'s team."""
        client = web_client(self.api_url, self.token_for(near))
        person = "user groups"
        try:
            groups = ({group["id"] for group in client.usergroups_list()["usergroups"]}
                      if any(person.startswith("S") for person in people) else set())
            for person in people:
                if person.startswith("S") and person not in groups:
                    return f"{person} is not a user group of this Slack workspace (see People → User groups)"
                if not person.startswith("S"):
                    client.users_info(user=person)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "user_not_found":
                return f"{person} is not a member of this Slack workspace"
            return f"Slack would not tell about {person}: {error}"
        return None

    def _thread(self, task: ChatTask, method: str, **arguments) -> None:
        # Like the reaction, a courtesy: an app without the agent experience refuses it.
        try:
            getattr(self._client(task), method)(channel_id=task.reply_target["channel"],
                                                thread_ts=task.reply_target["thread_ts"], **arguments)
        except SlackApiError as exc:
            log.info("no %s for task %s: %s", method, task.id, exc.response.get("error"))

    def _react(self, task: ChatTask, method: str, message_ts: str, emoji: str = PROGRESS_EMOJI) -> None:
        # A courtesy: a missing scope or a deleted message must not fail the answer.
        try:
            getattr(self._client(task), method)(channel=task.reply_target["channel"], timestamp=message_ts,
                                                name=emoji)
        except SlackApiError as exc:
            log.info("no :%s: on %s for task %s: %s", emoji, message_ts, task.id, exc.response.get("error"))
