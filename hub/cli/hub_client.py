"""The running hub, as the commands that would rather ask it than open the hub's parts here
see it: where it listens (MORNINGAI_HOST / PORT), and a session logged in as the admin
(MORNINGAI_ADMIN_EMAIL / _PASSWORD). A hub that is running has its embedder and model loaded,
so asking it costs a request where answering in this process costs loading them.

The session is kept in MORNINGAI_HOME (cli-session.json, readable by its owner only, beside
the embedded database's files) and used again until the hub ends it: a login checks the
password with argon2, which costs more than the search it would precede."""

from __future__ import annotations

import json
import os
from pathlib import Path

import requests

from core.config import Settings
from hub.cli.common import CommandError


def hub_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.port}"


def running_hub(settings: Settings) -> requests.Session | None:
    """A session logged in to the hub at hub_url(settings), or None if no hub answers there."""
    url = hub_url(settings)
    saved = _Saved(settings.home / "cli-session.json", url, settings.admin_email)
    http = saved.session()
    try:
        answer = http.get(f"{url}/api/auth/session", timeout=5)
    except requests.ConnectionError:
        return None
    if answer.status_code == 200:
        return http
    http = _logged_in(url, settings)
    saved.keep(http)
    return http


def _logged_in(url: str, settings: Settings) -> requests.Session:
    """A session logged in to the hub with MORNINGAI_ADMIN_EMAIL / _PASSWORD, sending the CSRF
    token the login returns."""
    http = requests.Session()
    if not (settings.admin_email and settings.admin_password):
        raise CommandError(f"the hub at {url} needs a login: set MORNINGAI_ADMIN_EMAIL and "
                           "MORNINGAI_ADMIN_PASSWORD (in the environment or .env) to a dashboard user's")
    response = http.post(f"{url}/api/auth/login", timeout=10, json={
        "email": settings.admin_email, "password": settings.admin_password.get_secret_value()})
    if response.status_code != 200:
        raise CommandError(f"could not log in to the hub at {url} as {settings.admin_email}: "
                           f"{refusal(response)}")
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


class _Saved:
    """The session last logged in to the hub at `url` as `email`, kept in `path`."""

    def __init__(self, path: Path, url: str, email: str | None):
        self.path, self.key = path, {"url": url, "email": email}

    def session(self) -> requests.Session:
        """A session with the kept cookies and CSRF token (none kept: a session without them)."""
        http = requests.Session()
        try:
            kept = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return http
        if isinstance(kept, dict) and kept.get("for") == self.key:
            http.cookies.update(kept.get("cookies", {}))
            http.headers["X-CSRF-Token"] = kept.get("csrf_token", "")
        return http

    def keep(self, http: requests.Session) -> None:
        kept = {"for": self.key, "cookies": http.cookies.get_dict(), "csrf_token": http.headers["X-CSRF-Token"]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            # Created readable by its owner only: the cookie is the admin's session.
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                json.dump(kept, file)
            partial.replace(self.path)
        except OSError:
            pass  # a folder this user cannot write: the next command logs in again


def refusal(response: requests.Response) -> str:
    """The hub's reason for an error answer: its JSON `error`, else the body."""
    try:
        return response.json().get("error", response.text)
    except ValueError:
        return response.text
