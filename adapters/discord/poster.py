"""Posting a Reply to Discord, from the worker. An answer is one Components V2 message
(layout.py) where it fits one, else plain messages (render.py). A slash command's answer edits
the deferred response (@original), plain ones overflowing into follow-ups; a mention's answer
replies to the user's message, and the 🤔 the bot put on it goes. A plain answer too long for
one message, to a question in a text channel, goes on in a thread started from the question, so
the channel keeps one message of it. An answer streamed as it was written (stream.py) settles in
the message it grew in. What the support desk posts is desk.py's."""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.discord import layout, render
from adapters.discord.desk import SupportDesk
from adapters.discord.rest import UNKNOWN_WEBHOOK, DiscordError, DiscordREST
from adapters.discord.stream import DiscordStream
from core.models import ChatTask, Reply

log = logging.getLogger(__name__)

THINKING = "🤔"
CONTINUED = "\n\n*(continued in the thread)*"
_THREAD_EXISTS = 160004  # "A thread has already been created for this message"
_THREAD_NAME_LIMIT = 100
_ARCHIVE_AFTER_MINUTES = 1440  # a day without messages; people come back to an answer


class DiscordPoster(SupportDesk):
    """Answers, and the support desk's messages (desk.py)."""

    def __init__(self, rest: DiscordREST):
        self.rest = rest

    def post(self, task: ChatTask, reply: Reply) -> str:
        # A run that died after streaming into a message left it behind: it becomes the answer.
        return self.deliver(task, reply, task.streamed_id)

    def stream(self, task: ChatTask, started: Callable[[str], None]) -> DiscordStream:
        return DiscordStream(self.rest, self.deliver, task, started)

    def deliver(self, task: ChatTask, reply: Reply, into: str | None) -> str:
        """Post `reply`; a mention's answer replaces the message `into` (the one it was streamed
        into) while that message is there. A slash command's answer is its @original anyway."""
        target = task.reply_target
        if target.get("via") != "interaction":
            posted = self._settled(task, reply,
                                   lambda final: self._put(task, final, into),
                                   lambda: self._plain_reply(task, reply, into))
            if target.get("message_id") and not target.get("unasked"):  # an unasked question got no 🤔
                self._unreact(target["channel_id"], target["message_id"])
            return posted
        try:
            return self._settled(task, reply, lambda final: self._edit_original(target, [final]),
                                 lambda: self._edit_original(target, render.messages(reply, task.id)))
        except DiscordError as exc:
            # A late answer (the token lasts 15 minutes) still reaches the channel, as a message,
            # when the hub has a bot token to send one with and the bot is there: an app only a
            # user installed is not, and reaches the channel through the interaction alone.
            if (exc.code != UNKNOWN_WEBHOOK or not self.rest.bot_token or not target.get("channel_id")
                    or target.get("user_install")):
                raise
            log.warning("interaction token of task %s expired; posting in the channel instead", task.id)
            channel = target["channel_id"]
            return self._settled(task, reply, lambda final: self._send(task, channel, [final], reply_to=None),
                                 lambda: self._send(task, channel, render.messages(reply, task.id), reply_to=None))

    def _settled(self, task: ChatTask, reply: Reply, send_final: Callable[[dict], str],
                 send_plain: Callable[[], str]) -> str:
        """The answer as one Components V2 message, or plain where it does not fit one or
        Discord refuses that form (a 400: the payload, not the message, is what it refuses)."""
        final = layout.message(reply, task.id)
        if final is not None:
            try:
                return send_final(final)
            except DiscordError as exc:
                if exc.status != 400:
                    raise
                log.warning("Discord refused the Components V2 answer of task %s (%s); posting it plain",
                            task.id, exc)
        return send_plain()

    def _plain_reply(self, task: ChatTask, reply: Reply, into: str | None) -> str:
        target = task.reply_target
        channel, question = target["channel_id"], target.get("message_id")
        parts = render.messages(reply, task.id)
        thread = (self._open_thread(task, channel, question)
                  if len(parts) > 1 and question and target.get("can_open_thread") else None)
        if thread:
            parts = render.messages(reply, task.id, limit=render.LIMIT - len(CONTINUED))
            parts[0]["content"] += CONTINUED
        posted = self._put(task, parts[0], into)
        self._send(task, thread or channel, parts[1:], reply_to=None, first=1)
        return posted

    def _put(self, task: ChatTask, payload: dict, into: str | None) -> str:
        """The answer's first message: `into` edited into it while that message is there, else
        a new reply to the question."""
        target = task.reply_target
        if into:
            try:
                message = self.rest.request("PATCH", "/channels/{channel_id}/messages/{message_id}",
                                            json=layout.as_edit(payload), channel_id=target["channel_id"],
                                            message_id=into)
                return f"discord:{message['id']}"
            except DiscordError as exc:
                if exc.status not in (403, 404):  # deleted, or the bot may no longer see it
                    raise
                log.info("the message task %s was streamed into is gone (%s); answering anew", task.id, exc)
        return self._send(task, target["channel_id"], [payload], reply_to=target.get("message_id"))

    def clear_progress(self, task: ChatTask) -> None:
        """No answer is coming (the channel is disabled): the "thinking…" of a slash command, or the
        🤔 the bot put on a message, goes."""
        target = task.reply_target
        if target.get("via") == "interaction":  # the deferred "thinking…" would wait 15 minutes
            try:
                self.rest.request("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False,
                                  webhook_id=target["application_id"], webhook_token=target["token"])
            except DiscordError as exc:
                log.info("could not withdraw the deferred response of task %s: %s", task.id, exc)
        elif target.get("message_id"):
            self._unreact(target["channel_id"], target["message_id"])

    def _open_thread(self, task: ChatTask, channel_id: str, message_id: str) -> str | None:
        """The id of a thread on the question (Discord gives it the message's id), opening it
        if need be; None when Discord will not have one there, and the answer stays in the channel."""
        name = " ".join(task.text.split())[:_THREAD_NAME_LIMIT] or "MorningAI"
        try:
            thread = self.rest.request("POST", "/channels/{channel_id}/messages/{message_id}/threads",
                                       json={"name": name, "auto_archive_duration": _ARCHIVE_AFTER_MINUTES},
                                       channel_id=channel_id, message_id=message_id)
        except DiscordError as exc:
            if exc.code == _THREAD_EXISTS:  # someone opened one, or an earlier run of this task did
                return message_id
            if exc.status == 429 or exc.status >= 500:
                raise  # the post fails and RQ tries the task again later
            # No "Create Public Threads" permission, the question deleted, …: answering matters more.
            log.info("could not open a thread on message %s: %s", message_id, exc)
            return None
        return thread["id"]

    def _edit_original(self, target: dict, parts: list[dict]) -> str:
        hook = {"webhook_id": target["application_id"], "webhook_token": target["token"]}
        first = self.rest.request("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                                  json=layout.as_edit(parts[0]), auth=False, **hook)
        for part in parts[1:]:
            self.rest.request("POST", "/webhooks/{webhook_id}/{webhook_token}", json=part,
                              params={"wait": "true"}, auth=False, **hook)
        return f"discord:{first['id']}"

    def _send(self, task: ChatTask, channel_id: str, parts: list[dict], reply_to: str | None, first: int = 0) -> str:
        """Post `parts`, the answer's parts from number `first` on, in the channel (or thread)."""
        first_id = None
        for n, part in enumerate(parts, first):
            # Discord drops a second message with the same nonce from us for a few minutes, so a
            # run that crashed mid-post and is retried does not post its parts twice.
            payload = {**part, "nonce": f"{task.id.hex[:22]}{n:03d}", "enforce_nonce": True}
            if n == first and reply_to:
                payload["message_reference"] = {"message_id": reply_to, "fail_if_not_exists": False}
            message = self.rest.request("POST", "/channels/{channel_id}/messages", json=payload,
                                        channel_id=channel_id)
            first_id = first_id or message["id"]
        return f"discord:{first_id}"

    def _unreact(self, channel_id: str, message_id: str) -> None:
        try:
            self.rest.request("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                              channel_id=channel_id, message_id=message_id, emoji=THINKING)
        except DiscordError as exc:  # the answer is posted; a reaction left behind is cosmetic
            log.info("could not remove %s from message %s: %s", THINKING, message_id, exc)
