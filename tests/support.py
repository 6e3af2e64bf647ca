"""Small helpers the tests share."""

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import IO

import requests


def wait_for(predicate: Callable[[], object], timeout: float = 20, what: str = "condition"):
    """Poll until predicate() is truthy and return its value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop_up(up: subprocess.Popen, log: IO[str]) -> None:
    """Stop a `morningai up` still running the clean way (Ctrl-C: children and embedded servers
    too), killing it only if that hangs; then print its output for the test report."""
    if up.poll() is None:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=20)
        except subprocess.TimeoutExpired:
            up.kill()
    log.seek(0)
    print(log.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether GET url answers 200 (False while the server is not listening yet)."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def admin_session(url: str, email: str, password: str) -> requests.Session:
    """The admin API of a running hub as the dashboard uses it: logged in, with the session's
    CSRF token. The hub creates the account from MORNINGAI_ADMIN_EMAIL / _PASSWORD."""
    session = requests.Session()
    response = session.post(f"{url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    session.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return session


class CountingEmbedder:
    """The real hash embedder, counting what it is asked to embed: a re-sync of unchanged items
    must cost no embedding."""

    def __init__(self):
        from memory.embedders import HashEmbedder

        self.inner = HashEmbedder()
        self.name, self.dims = self.inner.name, self.inner.dims
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)
