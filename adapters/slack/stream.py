"""An answer streamed into Slack as the agent writes it: one message in the question's thread.

Natively, with Slack's text streaming (chat.startStream -> chat.appendStream ->
chat.stopStream, through slack_sdk's ChatStream): the agent's steps show as task cards
("Searching your docs…", "Found 4 passages", … each with its sources), the answer's text grows
under them, and stopStream closes the message with the sources, the trace footer and the
feedback buttons.

Where Slack will not stream (a workspace or conversation that refuses chat.startStream, an
answer outside a thread, which Slack's streams need, a stream that expires or is refused
mid-way), the answer is one message edited in place with chat.update, at most once a second,
settled into the final blocks at the end. Either way the message's ts goes to the worker
(`started`) as soon as it exists, so a re-run edits this message instead of posting another.

Steps that follow each other within APPEND_EVERY are held and sent together, with the next
text or when a short timer runs out: the agent's steps come in bursts ("Found 4 passages" and
"Writing the answer" a millisecond apart), and a call per card tripled the calls per answer
(bench/throughput.py). The first step starts the stream at once.

Calls here never raise to the agent: a refused call changes how the answer is shown, never
whether it is delivered; `finish` is where delivery succeeds or fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks.block_elements import UrlSourceElement
from slack_sdk.models.messages.chunk import TaskUpdateChunk
from slack_sdk.web.chat_stream import ChatStream

from adapters.slack.render import (
    MESSAGE_CHARS,
    Message,
    closing_blocks,
    in_progress,
    render,
)
from core.models import ChatTask, Citation, Reply

log = logging.getLogger(__name__)

APPEND_EVERY = 0.4  # seconds between two appends of text to a native stream
UPDATE_EVERY = 1.0  # seconds between two edits of a message edited in place
STREAM_CHARS = MESSAGE_CHARS  # text streamed natively; a longer answer is settled into parts by `finish`
SOURCES_SHOWN = 5  # per step card


class SlackStream:
    """One task's answer in one Slack message. `post_parts(task, messages, first, kind)` posts
    the answer's parts from number `first` on, as SlackPoster posts a whole answer."""

    def __init__(self, client, task: ChatTask, started: Callable[[str], None],
                 post_parts: Callable[[ChatTask, list[Message], int, str], str], *,
                 native: bool, on_refused: Callable[[str], None] = lambda error: None):
        self.client, self.task, self.started = client, task, started
        self.post_parts = post_parts
        self.on_refused = on_refused  # told the error when Slack refuses to start a stream
        target = task.reply_target
        self.channel, self.thread = target["channel"], target.get("thread_ts")
        self.ts: str | None = task.streamed_id  # a re-run continues the message its first run began
        self.native = native and self.ts is None and bool(self.thread)
        self.chat: ChatStream | None = None
        self.text = ""  # the answer so far, as the agent wrote it
        self.shown = 0  # how much of it the message shows
        self.status = ""  # what the agent is doing
        self.steps, self.step_title = 0, ""  # the step cards shown, and the last one's title
        self.last_call = 0.0
        self.quiet = False  # Slack refused the message itself: `finish` posts anew
        # Step cards not sent yet, and the timer that sends them if nothing else does first. The
        # timer's thread and the agent's both call Slack: the lock keeps their calls in order.
        self.held: list[TaskUpdateChunk] = []
        self.timer: threading.Timer | None = None
        self.lock = threading.RLock()
        self.done = False

    # --- while the agent works ---

    def step(self, words: str, sources: Sequence[Citation]) -> None:
        with self.lock:
            self.status = words
            if not self.native:
                self._edit(force=self.ts is None)
                return
            self.held += [*self._step_done(), TaskUpdateChunk(
                id=f"step-{self.steps + 1}", title=words, status="in_progress", **_shown_sources(sources))]
            self.steps, self.step_title = self.steps + 1, words
            wait = APPEND_EVERY - (time.monotonic() - self.last_call)
            if self.chat is None or wait <= 0:
                self._send_held()
            elif self.timer is None:
                self.timer = threading.Timer(wait, self._send_held)
                self.timer.daemon = True
                self.timer.start()

    def write(self, piece: str) -> None:
        with self.lock:
            self.text += piece
            if self.native:
                due = time.monotonic() - self.last_call >= APPEND_EVERY or not self.shown
                if due and self.shown < STREAM_CHARS:
                    self._native_call(markdown_text=self._unshown())
            else:
                self._edit()

    # --- the end ---

    def finish(self, reply: Reply) -> str:
        with self.lock:
            self._cancel_timer()
            self.done = True  # a timer that fired meanwhile must not touch the settled message
            return self._finish(reply)

    def _finish(self, reply: Reply) -> str:
        messages = render(reply, task_id=str(self.task.id), trace_id=str(self.task.trace_id))
        kind = "error" if reply.is_error else "answer"
        if self.native and self.chat is not None:
            whole = (reply.text == self.text and len(self.text) <= STREAM_CHARS and not reply.code
                     and len(messages) == 1)
            try:
                # The text the agent wrote is the answer: the stream closes with what ends it.
                held, self.held = self.held, []
                self.chat.stop(markdown_text=self._unshown() if whole else None,
                               chunks=[*held, *self._step_done()] or None,
                               blocks=closing_blocks(reply, task_id=str(self.task.id),
                                                     trace_id=str(self.task.trace_id)) if whole else None,
                               metadata=posted_metadata(self.task, kind, 0) if whole else None)
                if whole:
                    return f"{self.channel}:{self.ts}"
            except SlackApiError as exc:
                log.info("stream of task %s not stopped (%s): settling it with chat.update", self.task.id, _error(exc))
        if self.ts and not self.quiet:
            try:
                self.client.chat_update(channel=self.channel, ts=self.ts, text=messages[0].text,
                                        blocks=messages[0].blocks, metadata=posted_metadata(self.task, kind, 0))
                self.post_parts(self.task, messages, 1, kind)
                return f"{self.channel}:{self.ts}"
            except SlackApiError as exc:
                log.warning("could not settle the streamed message of task %s (%s): posting the answer anew",
                            self.task.id, _error(exc))
        return self.post_parts(self.task, messages, 0, kind)

    # --- Slack calls ---

    def _send_held(self) -> None:
        with self.lock:
            self.timer = None
            if self.native and self.held and not self.done:
                self._native_call()

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _native_call(self, **content) -> bool:
        """Append `content` with the held step cards; False when Slack refused (the message is
        then edited in place instead)."""
        self._cancel_timer()
        held, self.held = self.held, []
        if held:
            content["chunks"] = held
        try:
            if self.chat is None:
                self.chat = self.client.chat_stream(
                    channel=self.channel, thread_ts=self.thread, buffer_size=1,
                    recipient_team_id=self.task.reply_target.get("team"), recipient_user_id=self.task.user or None)
            self.chat.append(**content)
        except (SlackClientError, OSError) as exc:
            self._refused(exc)
            return False
        finally:
            self.last_call = time.monotonic()
        if self.ts is None and self.chat.ts:
            self.ts = self.chat.ts
            self.started(self.ts)
        if "markdown_text" in content:
            self.shown = len(self.text)
        return True

    def _refused(self, exc: Exception) -> None:
        """Slack will not stream here (or not any more): the message is edited in place instead."""
        log.info("Slack refused to stream task %s (%s): editing one message instead", self.task.id, _error(exc))
        if self.ts is None and isinstance(exc, SlackApiError) and _error(exc) != "ratelimited":
            self.on_refused(_error(exc))  # Slack said no, rather than "not now"
        self.native, self.chat = False, None
        self._edit(force=True)

    def _edit(self, force: bool = False) -> None:
        if self.quiet or (not force and time.monotonic() - self.last_call < UPDATE_EVERY):
            return
        message = in_progress(self.text, self.status or "Working on it…")
        try:
            if self.ts is None:
                # No metadata yet: a message that is only a status must not pass for the answer
                # when a re-run reads the thread back (SlackPoster._posted_before).
                response = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread,
                                                         text=message.text, blocks=message.blocks,
                                                         unfurl_links=False, unfurl_media=False)
                self.ts = response["ts"]
                self.started(self.ts)
            else:
                self.client.chat_update(channel=self.channel, ts=self.ts, text=message.text, blocks=message.blocks)
            self.shown = len(self.text)
        except (SlackClientError, OSError) as exc:
            log.info("could not show the progress of task %s (%s): the answer comes when it is done",
                     self.task.id, _error(exc))
            self.quiet = self.ts is None or _error(exc) in _GONE
        finally:
            self.last_call = time.monotonic()

    def _unshown(self) -> str:
        return _unlinked(self.text[self.shown:STREAM_CHARS])

    def _step_done(self) -> list[TaskUpdateChunk]:
        if not self.steps:
            return []
        return [TaskUpdateChunk(id=f"step-{self.steps}", title=self.step_title, status="complete")]


def posted_metadata(task: ChatTask, kind: str, part: int) -> dict:
    """The message metadata every message of an answer carries: a re-run reads the thread back
    and posts only the parts missing (SlackPoster._posted_before)."""
    return {"event_type": POSTED_EVENT, "event_payload": {"task_id": str(task.id), "kind": kind, "part": part}}


POSTED_EVENT = "morningai_reply"  # the metadata event_type of every message the hub posts
# chat.update errors that mean the message is not there to edit any more.
_GONE = {"message_not_found", "cant_update_message", "channel_not_found", "is_archived"}


def _error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("error") if response is not None else exc)


def _shown_sources(sources: Sequence[Citation]) -> dict:
    """A step card's sources: links where the source is a URL, the other titles as its details."""
    links = [UrlSourceElement(url=c.location, text=(c.title or c.location)[:150])
             for c in sources if c.location.startswith(("http://", "https://"))][:SOURCES_SHOWN]
    others = [c.title or c.location for c in sources if not c.location.startswith(("http://", "https://"))]
    shown: dict = {}
    if links:
        shown["sources"] = links
    if others:
        shown["details"] = ", ".join(others[:SOURCES_SHOWN]) + (f" and {len(others) - SOURCES_SHOWN} more"
                                                                 if len(others) > SOURCES_SHOWN else "")
    return shown


def _unlinked(markdown: str) -> str:
    """Text a model wrote, streamed as Markdown: a `<!channel>` or `<@U123>` in it shows as text
    and pings nobody (a word joiner after the `<` keeps Slack from reading it as markup)."""
    return markdown.replace("<!", "<\u2060!").replace("<@", "<\u2060@").replace("<#", "<\u2060#")
