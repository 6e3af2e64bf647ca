"""Progress the user sees before the answer: the platform's sign of work (Slack's :eyes:) goes
up as soon as the message is stored, not when a worker gets to it.

In a burst the queue wait is most of a task's life: a sign put up only when a worker took the
task left people looking at nothing for as long as that wait (p95 18 s at 600 questions with a
2 s model: bench/throughput.py). The web process that stored the message hands it to a few
threads here, after its acknowledgement, which put the sign up and then read the task's status:
if its outcome was recorded meanwhile they take the sign down again themselves (ShowsProgress
says why that order is safe). The sign is a courtesy: when the backlog is full, or the process
dies first, the answer still comes, without it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from core.db import Database
from core.models import ChatTask
from tasks import lifecycle
from worker import channels
from worker.posters import ClearsProgress, NoPoster, PosterRegistry, ShowsProgress

log = logging.getLogger(__name__)

THREADS = 8  # each waits on a platform call and two queries: 4 per web process fell behind a burst of 600 (bench/throughput.py)
BACKLOG = 1000
_FINISHED = {"posted", "failed", "skipped"}


def show(posters: PosterRegistry, task: ChatTask) -> None:
    """Let the user see their message was taken up."""
    _courtesy(posters, task, ShowsProgress, lambda poster: poster.working(task))


def finished(posters: PosterRegistry, task: ChatTask) -> None:
    """The task's outcome is recorded: the sign of work goes."""
    _courtesy(posters, task, ShowsProgress, lambda poster: poster.done(task))


def withdrawn(posters: PosterRegistry, task: ChatTask) -> None:
    """No answer is coming (its channel is off): the sign an adapter put up when the message came
    in (Discord's 🤔) goes. None went up here: EarlyProgress skips channels that are off."""
    _courtesy(posters, task, ClearsProgress, lambda poster: poster.clear_progress(task))


def _courtesy(posters: PosterRegistry, task: ChatTask, able: type, call) -> None:
    # A courtesy: its failure fails nothing.
    try:
        poster = posters.for_task(task)
        if isinstance(poster, able):
            call(poster)
    except NoPoster:
        pass  # posting the answer, if one is coming, fails with the reason
    except Exception:
        log.warning("could not update the progress of task %s", task.id, exc_info=True)


class EarlyProgress:
    """The sign of work for tasks as they are stored, on a few threads of the process storing them."""

    def __init__(self, db: Database, posters: PosterRegistry, threads: int = THREADS, backlog: int = BACKLOG):
        self.db = db
        self.posters = posters
        self.threads = threads
        self._waiting: queue.Queue[ChatTask] = queue.Queue(backlog)
        self._started_in: int | None = None  # the pid whose threads work the backlog (gunicorn forks)
        self._starting = threading.Lock()

    def stored(self, task: ChatTask) -> None:
        """Called once the task is stored; returns at once."""
        if not isinstance(self._poster(task), ShowsProgress):
            return
        self._start()
        try:
            self._waiting.put_nowait(task)
        except queue.Full:
            log.info("%d signs of work waiting: none for task %s", self._waiting.maxsize, task.id)

    def _start(self) -> None:
        with self._starting:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
            for n in range(self.threads):
                threading.Thread(target=self._work, name=f"progress-{n}", daemon=True).start()

    def _poster(self, task: ChatTask):
        try:
            return self.posters.for_task(task)
        except NoPoster:
            return None

    def _work(self) -> None:
        while True:
            task = self._waiting.get()
            try:
                if not channels.of_task(self.db, task).enabled:
                    continue  # no answer is coming: no sign of one
                show(self.posters, task)
                if lifecycle.status(self.db, task.id) in _FINISHED:
                    finished(self.posters, task)  # the worker finished first, and took down nothing
            except Exception:
                log.warning("could not show progress on task %s", task.id, exc_info=True)
