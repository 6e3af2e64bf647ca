"""The running hub, as the commands that would rather ask it than open the hub's parts here
see it: where it listens (MORNINGAI_HOST / PORT), and a session logged in as the admin
(MORNINGAI_ADMIN_EMAIL / _PASSWORD). A hub that is running has its embedder and model loaded,
so asking it costs a request where answering in this process costs loading them.

The session is kept in MORNINGAI_HOME (cli-session.json, readable by its owner only, beside
the embedded database's files) and sent with the next command's first request; only when the
hub answers 401 (no session kept, or one it ended) does the command log in and ask again. A
login checks the password with argon2, which costs more than the search it would precede.

Spoken with the standard library's http.client, not requests: a search through the hub is a
command people time, and requests and urllib3 cost a fifth of its start-up."""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from core.config import Settings
from hub.cli.common import CommandError

CSRF_HEADER = "X-CSRF-Token"


class NoHub(Exception):
    """Nothing listens where the hub would: the command answers in its own process."""


def hub_url(settings: Settings) -> str:
    return f"http://{_host(settings)}:{settings.port}"


def _host(settings: Settings) -> str:
    return "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def refusal(self) -> str:
        """The hub's reason for an error answer: its JSON `error`, else the body."""
        text = self.body.decode("utf-8", "replace")
        try:
            return self.json().get("error", text)
        except (ValueError, AttributeError):
            return text


class Hub:
    """The hub at hub_url(settings), asked as the admin. Its first request raises NoHub when
    nothing listens there; once the hub has answered, losing it is a CommandError (a message
    it accepted must not be answered a second time in this process)."""

    def __init__(self, settings: Settings):
        self.url, self._settings = hub_url(settings), settings
        self._address = (_host(settings), settings.port)
        self._saved = _Saved(settings.home / "cli-session.json", self.url, settings.admin_email)
        self._cookies, self._csrf = self._saved.load()
        self._reached = False

    def get(self, path: str, params: dict | None = None, *, timeout: float = 30) -> Answer:
        return self._asked("GET", f"{path}?{urlencode(params)}" if params else path, None, timeout)

    def post(self, path: str, body: dict, *, timeout: float = 10) -> Answer:
        return self._asked("POST", path, body, timeout)

    def _asked(self, method: str, path: str, body: dict | None, timeout: float) -> Answer:
        answer = self._send(method, path, body, timeout)
        if answer.status == 401:  # no session kept, or the hub ended it
            self._log_in()
            answer = self._send(method, path, body, timeout)
        return answer

    def _log_in(self) -> None:
        settings = self._settings
        if not (settings.admin_email and settings.admin_password):
            raise CommandError(f"the hub at {self.url} needs a login: set MORNINGAI_ADMIN_EMAIL and "
                               "MORNINGAI_ADMIN_PASSWORD (in the environment or .env) to a dashboard user's")
        self._cookies = {}
        answer = self._send("POST", "/api/auth/login", {
            "email": settings.admin_email, "password": settings.admin_password.get_secret_value()}, 10)
        if answer.status != 200:
            raise CommandError(f"could not log in to the hub at {self.url} as {settings.admin_email}: "
                               f"{answer.refusal}")
        self._csrf = answer.json()["csrf_token"]
        self._saved.keep(self._cookies, self._csrf)

    def _send(self, method: str, path: str, body: dict | None, timeout: float) -> Answer:
        headers = {"Accept": "application/json", CSRF_HEADER: self._csrf}
        if self._cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self._cookies.items())
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # A connection per request: gunicorn's sync workers close each one after answering.
        connection = http.client.HTTPConnection(*self._address, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.read())
        except ConnectionRefusedError:
            if self._reached:
                raise CommandError(f"lost the hub at {self.url}: it stopped answering") from None
            raise NoHub from None
        except (OSError, http.client.HTTPException) as exc:
            raise CommandError(f"lost the hub at {self.url} during {method} {path}: {exc}") from None
        finally:
            connection.close()
        self._reached = True
        for header in response.headers.get_all("Set-Cookie") or ():
            self._cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
        return answer


class _Saved:
    """The session last logged in to the hub at `url` as `email`, kept in `path`."""

    def __init__(self, path: Path, url: str, email: str | None):
        self.path, self.key = path, {"url": url, "email": email}

    def load(self) -> tuple[dict[str, str], str]:
        """The kept cookies and CSRF token (none kept, or kept for another hub or user: none)."""
        try:
            kept = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}, ""
        if not (isinstance(kept, dict) and kept.get("for") == self.key):
            return {}, ""
        return dict(kept.get("cookies") or {}), str(kept.get("csrf_token") or "")

    def keep(self, cookies: dict[str, str], csrf_token: str) -> None:
        kept = {"for": self.key, "cookies": cookies, "csrf_token": csrf_token}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            # Created readable by its owner only: the cookie is the admin's session.
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                json.dump(kept, file)
            partial.replace(self.path)
        except OSError:
            pass  # a folder this user cannot write: the next command logs in again
