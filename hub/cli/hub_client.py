"""The running hub, as the commands that would rather ask it than open the hub's parts here
see it: where it listens (MORNINGAI_HOST / PORT), and a session logged in as the admin
(MORNINGAI_ADMIN_EMAIL / _PASSWORD). A hub that is running has its embedder and model loaded,
so asking it costs a request where answering in this process costs loading them."""

from __future__ import annotations

import requests

from core.config import Settings
from hub.cli.common import CommandError


def hub_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.port}"


def running_hub(settings: Settings) -> requests.Session | None:
    """A session logged in to the hub at hub_url(settings), or None if no hub answers there."""
    url = hub_url(settings)
    try:
        requests.get(f"{url}/healthz", timeout=5)
    except requests.ConnectionError:
        return None
    return _logged_in(url, settings)


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


def refusal(response: requests.Response) -> str:
    """The hub's reason for an error answer: its JSON `error`, else the body."""
    try:
        return response.json().get("error", response.text)
    except ValueError:
        return response.text
