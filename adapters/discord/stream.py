"""An answer shown in Discord as it is written, in the one message that will carry it: a slash
command's deferred response (@original), or, for a mention, a reply to the question sent at the
agent's first step. That message is edited at most once per PACE seconds; what comes between
two edits is kept, and only the latest shown. `finish` settles it into the final answer.

A platform that refuses an edit (the message deleted, access lost) makes the stream go quiet:
nothing more is tried on it, and `finish` posts the answer the normal way, once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from adapters.discord import render
from adapters.discord.rest import DiscordError, DiscordREST
from core.models import ChatTask, Citation, Reply

log = logging.getLogger(__name__)

# Discord limits edits per channel without publishing the numbers (bots see about 5 in 5 s);
# one edit of a message per 1.5 s stays well inside them with room for the channel's other
# answers, and reads as steady growth.
PACE = 1.5
# A step is shown only once the answer has taken this long: Discord already says "thinking…" (or
# the 🤔 is on the question), and an edit spent on a quick step would hold the first text back
# a whole PACE (bench/first_token.py: 1.46 s at p50 when every step was shown).
STEPS_AFTER = 1.0

Deliver = Callable[[ChatTask, Reply, str | None], str]  # (task, reply, message to replace) -> posted id


class DiscordStream:
    def __init__(self, rest: DiscordREST, deliver: Deliver, task: ChatTask, started: Callable[[str], None]):
        self.rest, self.deliver, self.task, self.started = rest, deliver, task, started
        target = task.reply_target
        self._interaction = target.get("via") == "interaction"
        # A re-run goes on in the message its earlier run streamed into.
        self.message_id = task.streamed_id
        self._words, self._sources, self._text = "", (), ""
        self._last_edit = 0.0
        self._began = time.monotonic()
        self._quiet = False

    def step(self, words: str, sources: Sequence[Citation]) -> None:
        self._words = words
        if sources:
            self._sources = tuple(sources)
        if self._text or time.monotonic() - self._began >= STEPS_AFTER:
            self._show()

    def write(self, piece: str) -> None:
        self._text += piece
        self._show()

    def finish(self, reply: Reply) -> str:
        if self._quiet:
            return self.deliver(self.task, reply, None)
        if self.message_id is not None:
            self._wait_for_pace()
        return self.deliver(self.task, reply, self.message_id)

    def _show(self) -> None:
        """Edit the message into what is known now, when the pace allows; never raises: a shown
        step is a courtesy the answer must not depend on."""
        if self._quiet or time.monotonic() - self._last_edit < PACE:
            return
        payload = render.progress(self._text, self._words, self._sources)
        try:
            self._put(payload)
        except DiscordError as exc:
            if exc.status == 429 or exc.status >= 500:
                log.info("skipped a streamed edit of task %s: %s", self.task.id, exc)
            else:
                self._quiet = True
                log.warning("Discord refused the streamed message of task %s (%s); the answer will be "
                            "posted on its own", self.task.id, exc)
        except Exception:  # the network, or recording the message's id
            log.exception("could not show the progress of task %s", self.task.id)

    def _put(self, payload: dict) -> None:
        try:
            if self._interaction:
                target = self.task.reply_target
                message = self.rest.request("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                                            json=payload, auth=False, max_wait=PACE,
                                            webhook_id=target["application_id"], webhook_token=target["token"])
            elif self.message_id is not None:
                message = self.rest.request("PATCH", "/channels/{channel_id}/messages/{message_id}", json=payload,
                                            max_wait=PACE, channel_id=self.task.reply_target["channel_id"],
                                            message_id=self.message_id)
            else:
                message = self._create(payload)
        finally:
            # Counted from Discord's answer, so two edits never reach it closer than PACE apart.
            self._last_edit = time.monotonic()
        if self.message_id is None:
            self.message_id = message["id"]
            self.started(self.message_id)

    def _create(self, payload: dict) -> dict:
        target = self.task.reply_target
        # The nonce makes a create retried after a lost response the same message (see poster._send).
        body = {**payload, "nonce": f"{self.task.id.hex[:22]}str", "enforce_nonce": True}
        if target.get("message_id"):
            body["message_reference"] = {"message_id": target["message_id"], "fail_if_not_exists": False}
        return self.rest.request("POST", "/channels/{channel_id}/messages", json=body, max_wait=PACE,
                                 channel_id=target["channel_id"])

    def _wait_for_pace(self) -> None:
        delay = self._last_edit + PACE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
