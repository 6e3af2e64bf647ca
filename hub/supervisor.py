"""Runs `morningai up`'s child processes, restarts one that crashes, and stops them all.

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
from dataclasses import dataclass, field

import psutil

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)


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

    def check(self) -> None:
        """Restart children that exited; a child that crashes 5 times in a minute stops us."""
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > 5:
                raise RuntimeError(f"{child.name} keeps crashing (exit code {code}); see its output above")
            log.warning("%s exited with code %s; restarting it", child.name, code)
            self._start(child)

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
