"""Where replies go: one poster per platform, looked up by the task's platform.

A poster turns a Reply into a message on its platform and returns that message's id, which
the worker records so a task is never posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from core.models import ChatTask, Citation, Reply


class Poster(Protocol):
    def post(self, task: ChatTask, reply: Reply) -> str: ...


@runtime_checkable
class ShowsProgress(Protocol):
    """A poster that can show the user their message is being worked on (a reaction, a
    "thinking…" message) before the answer is ready, and take that sign back; a failure there
    must not fail the task.

    `done` is called once the task's outcome is recorded (posted, failed and told, or skipped),
    never by `post` itself: the sign goes up from another process as the task is queued
    (worker/progress.py), which reads the task's status after putting it up and takes it down
    itself when the outcome was recorded meanwhile. So whichever of the two comes last takes it
    down, and no finished answer keeps a sign of work."""

    def working(self, task: ChatTask) -> None: ...

    def done(self, task: ChatTask) -> None: ...


@runtime_checkable
class ClearsProgress(Protocol):
    """A poster whose adapter showed progress itself when the message came in (Discord's bot
    reacts at once), which a task that ends without an answer must take back."""

    def clear_progress(self, task: ChatTask) -> None: ...


class AnswerStream(Protocol):
    """One answer shown while the agent works on it, in the one message that will carry it.

    `step` and `write` are a courtesy: they never raise (a platform that refuses them mid-way
    makes the stream go quiet, and `finish` delivers the answer another way), and they pace
    themselves to the platform's limits without holding up the agent. `finish` settles the
    message into the final answer (sources, footer, buttons) and returns the posted id, as
    Poster.post does, raising when the answer could not be delivered."""

    def step(self, words: str, sources: Sequence[Citation]) -> None: ...

    def write(self, piece: str) -> None: ...

    def finish(self, reply: Reply) -> str: ...


Started = Callable[[str], None]  # the streamed message's id, to keep with the task


@runtime_checkable
class Streams(Protocol):
    """A poster that can show an answer as it is written.

    `stream` returns None where this task's answer is not streamed (the platform has no place
    for it, or the stream would only duplicate what the user sees). `started` is called with the
    message's id as soon as it exists: the worker keeps it with the task (ChatTask.streamed_id),
    so a re-run after a crash finishes or replaces that message instead of posting a second
    one, in `stream` (no reply yet) or in `post` (the reply was recorded before the crash)."""

    def stream(self, task: ChatTask, started: Started) -> AnswerStream | None: ...


@runtime_checkable
class Reacts(Protocol):
    """A poster that can react to the question with an emoji (a channel's sign that the bot saw
    a question it was not sure enough to answer: worker/modes.py)."""

    def react(self, task: ChatTask, emoji: str) -> None: ...


@runtime_checkable
class Reviews(Protocol):
    """A poster that can put a drafted answer before reviewers in another channel, with the
    question it answers and the buttons that publish or dismiss it."""

    def review(self, task: ChatTask, reply: Reply, channel: str) -> str: ...


@runtime_checkable
class HandsOver(Protocol):
    """A poster that can call people to a question's thread ("Ask a person"): `people` as the
    channel's settings name them (worker/channels.py: PEOPLE), `asked_by` the platform's user id
    of who asked for them; none named: the thread is told nobody is set up to be called."""

    def hand_over(self, task: ChatTask, people: Sequence[str], asked_by: str) -> str: ...


@runtime_checkable
class FollowsUp(Protocol):
    """A poster that can ask in a question's thread whether its answer helped, with a way to say
    "yes, resolved" and "no, ask a person"."""

    def follow_up(self, task: ChatTask) -> str: ...


@runtime_checkable
class MarksResolved(Protocol):
    """A poster whose platform shows that a question was resolved (a Discord forum post's Solved
    tag); a courtesy: its failure fails nothing."""

    def mark_resolved(self, task: ChatTask) -> None: ...


class NoPoster(LookupError):
    pass


log = logging.getLogger(__name__)


class PosterRegistry:
    def __init__(self) -> None:
        self._posters: dict[str, Poster] = {}

    def register(self, platform: str, poster: Poster) -> None:
        self._posters[platform] = poster

    def for_task(self, task: ChatTask) -> Poster:
        try:
            return self._posters[task.platform]
        except KeyError:
            raise NoPoster(f"no poster for platform {task.platform!r}: is that integration configured?") from None


def courtesy(posters: PosterRegistry, task: ChatTask, able: type, call: Callable, what: str) -> None:
    """`call(poster)` where the task's poster is `able`; a courtesy, whose failure fails nothing
    (a missing poster included: posting the answer, if one is coming, says why)."""
    try:
        poster = posters.for_task(task)
        if isinstance(poster, able):
            call(poster)
    except NoPoster:
        pass
    except Exception:
        log.warning("could not %s for task %s", what, task.id, exc_info=True)
