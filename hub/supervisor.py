"""Runs `morningai up`'s child processes, restarts one that exits, and stops them all.

A child that exits is restarted after a back-off that doubles with each exit in a row (1 s,
2 s, … up to a minute) and starts again at 1 s once it has stayed up ten seconds (longer than
a start that fails takes): a worker that cannot start must not take the web side, which keeps
storing events, down with it, nor spin; one killed now and then comes straight back.
Each child gets its own session, so a Ctrl-C reaches only us and we stop the children in
order; on Linux each also asks the kernel for SIGTERM should we die without cleaning up.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
# A child up this long has recovered: its next exit waits FIRST_BACKOFF again.
STEADY = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: list[Child] = []

    def spawn(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv)
        self._start(child)
        self.children.append(child)
        return child

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        child.started, child.restart_at = time.monotonic(), None

    def check(self) -> None:
        """Restart children that exited, each after its back-off."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._start(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started >= STEADY:
                child.backoff = FIRST_BACKOFF
            log.warning("%s exited with code %s; restarting it in %.0fs", child.name, code, child.backoff)
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def stop(self, timeout: float = 8.0) -> None:
        """SIGTERM every child, wait up to `timeout`, then kill whatever is left of each tree."""
        trees: list[psutil.Process] = []
        for child in self.children:
            try:
                parent = psutil.Process(child.process.pid)
                trees += [parent, *parent.children(recursive=True)]
                parent.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(trees, timeout=timeout)
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=2)
        for child in self.children:
            try:
                os.killpg(child.process.pid, signal.SIGKILL)  # stragglers that left the tree
            except (ProcessLookupError, PermissionError):
                pass
            child.process.wait()
