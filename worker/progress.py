"""Progress the user sees before the answer: the platform's sign of work (Slack's :eyes:) goes
up as soon as a dispatcher queues the task, not when a worker gets to it.

In a burst the queue wait is most of a task's life: a sign put up only when a worker took the
task left people looking at nothing for as long as that wait (p95 10.7 s at 600 questions with
a 2 s model: bench/throughput.py). The dispatcher (tasks/dispatcher.py, a thread of each
worker process) hands each task it queues to a few threads here, which put the sign up and then
read the task's status: if its outcome was recorded meanwhile, they take the sign down again
themselves (ShowsProgress says why that order is safe). Not from the web process that stored
the message: the sign's platform call and queries there made Slack's acknowledgement 1.6x
slower (bench/slack_ack.py), and the acknowledgement has a deadline where the sign has none.
The sign is a courtesy: when the backlog is full, or the process dies first, the answer still
comes, without it.
"""

from __future__ import annotations

import logging
import queue
import threading

from core.db import Database
from core.models import ChatTask
from tasks import lifecycle
from worker import channels
from worker.posters import (
    ClearsProgress,
    NoPoster,
    PosterRegistry,
    ShowsProgress,
    courtesy,
)

log = logging.getLogger(__name__)

THREADS = 8  # each waits on a platform call and two queries: 4 fell behind a burst of 600 (bench/throughput.py)
BACKLOG = 1000
BATCH = 8


def show(posters: PosterRegistry, task: ChatTask) -> None:
    """Let the user see their message was taken up."""
    courtesy(posters, task, ShowsProgress, lambda poster: poster.working(task), "show progress")


def finished(posters: PosterRegistry, task: ChatTask) -> None:
    """The task's outcome is recorded: the sign of work goes."""
    courtesy(posters, task, ShowsProgress, lambda poster: poster.done(task), "take progress down")


def withdrawn(posters: PosterRegistry, task: ChatTask) -> None:
    """No answer is coming (its channel is off): the sign an adapter put up when the message came
    in (Discord's 🤔) goes. None went up here: EarlyProgress skips channels that are off."""
    courtesy(posters, task, ClearsProgress, lambda poster: poster.clear_progress(task), "withdraw progress")


class EarlyProgress:
    """The sign of work for tasks as they are queued, on a few threads of a worker process."""

    def __init__(self, db: Database, posters: PosterRegistry, threads: int = THREADS, backlog: int = BACKLOG):
        self.db = db
        self.posters = posters
        self._waiting: queue.Queue[ChatTask] = queue.Queue(backlog)
        for n in range(threads):
            threading.Thread(target=self._work, name=f"progress-{n}", daemon=True).start()

    def queued(self, task: ChatTask) -> None:
        """Called by the dispatcher once the task is queued; returns at once."""
        if task.reply_target.get("unasked") or not isinstance(self._poster(task), ShowsProgress):
            return  # nobody asked the bot: a sign of work would promise an answer that may not come
        try:
            self._waiting.put_nowait(task)
        except queue.Full:
            log.info("%d signs of work waiting: none for task %s", self._waiting.maxsize, task.id)

    def _poster(self, task: ChatTask):
        try:
            return self.posters.for_task(task)
        except NoPoster:
            return None

    def _work(self) -> None:
        while True:
            # What waits is taken a few at a time: two queries for them all, not two each.
            batch = [self._waiting.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._show(batch)
            except Exception:
                log.warning("could not show progress on %d tasks", len(batch), exc_info=True)

    def _show(self, batch: list[ChatTask]) -> None:
        answering = channels.switched_on(self.db, batch)  # no answer is coming: no sign of one
        for task in answering:
            show(self.posters, task)
        done = lifecycle.finished_among(self.db, [task.id for task in answering])
        for task in answering:
            if task.id in done:
                finished(self.posters, task)  # the worker finished first, and took down nothing
