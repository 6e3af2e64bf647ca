"""A small synchronous client of Discord's REST API for the worker, which answers from RQ jobs
with no event loop. It honours Discord's rate limits as documented: per-route buckets
(`X-RateLimit-Bucket`, `-Remaining`, `-Reset-After`) are waited out before a request would be
refused, and a 429 is retried after its `retry_after` (globally when `global` is true)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import quote

import requests

log = logging.getLogger(__name__)

ATTEMPTS = 5
UNKNOWN_WEBHOOK = 10015  # Discord's error code for an interaction token past its 15 minutes
# Parameters that make a route a bucket of its own, as Discord's docs define them.
_MAJOR = ("channel_id", "guild_id", "webhook_id", "webhook_token")


class DiscordError(Exception):
    def __init__(self, status: int, body: Any, route: str):
        self.status, self.body, self.route = status, body, route
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"Discord answered {status} to {route}: {message}")

    @property
    def code(self) -> int | None:
        """Discord's JSON error code (10015: unknown webhook, an expired interaction token)."""
        return self.body.get("code") if isinstance(self.body, dict) else None


class DiscordREST:
    def __init__(self, api_url: str, bot_token: str | None = None, *, timeout: float = 15.0,
                 max_wait: float = 60.0):
        self.api_url = api_url.rstrip("/")
        self.bot_token = bot_token
        self.timeout = timeout
        self.max_wait = max_wait  # a longer rate limit fails the post; RQ retries the task later
        self.session = requests.Session()
        self._lock = threading.Lock()
        self._bucket_of_route: dict[str, str] = {}
        self._blocked_until: dict[str, float] = {}  # bucket key (or "global") -> monotonic time

    def request(self, method: str, template: str, *, json: Any = None, params: dict | None = None,
                auth: bool = True, max_wait: float | None = None, **path: str) -> Any:
        """`template` names the route as the docs do ("/channels/{channel_id}/messages"); `path`
        fills it in. Interaction webhooks take `auth=False`: their token is in the URL. A
        `max_wait` of its own lets a request that can be skipped give up on a shorter rate limit
        (a 429, or a bucket known to be empty for longer)."""
        max_wait = self.max_wait if max_wait is None else max_wait
        url = self.api_url + template.format_map({k: quote(str(v), safe="@") for k, v in path.items()})
        route = f"{method} {template}"
        major = ":".join(str(path[k]) for k in _MAJOR if k in path)
        headers = {"User-Agent": "MorningAI (https://github.com/morningai, 0.1)"}
        if auth and self.bot_token:
            headers["Authorization"] = f"Bot {self.bot_token}"
        for attempt in range(ATTEMPTS):
            self._wait_for(self._key(route, major), max_wait, route)
            response = self.session.request(method, url, json=json, params=params, headers=headers,
                                            timeout=self.timeout)
            body = _body(response)
            self._learn(route, major, response)
            if response.status_code == 429:
                retry_after = float(body.get("retry_after", response.headers.get("Retry-After", 1))
                                    if isinstance(body, dict) else response.headers.get("Retry-After", 1))
                if retry_after > max_wait:
                    raise DiscordError(429, body, route)
                scope = "global" if isinstance(body, dict) and body.get("global") else self._key(route, major)
                log.warning("Discord rate limit on %s: retrying in %.2fs", route, retry_after)
                with self._lock:
                    self._blocked_until[scope] = time.monotonic() + retry_after
                continue
            if response.status_code in (500, 502, 503, 504) and attempt < ATTEMPTS - 1:
                time.sleep(0.5 * 2 ** attempt)
                continue
            if response.status_code >= 400:
                raise DiscordError(response.status_code, body, route)
            return body
        raise DiscordError(response.status_code, body, route)

    def _key(self, route: str, major: str) -> str:
        return f"{self._bucket_of_route.get(route, route)}|{major}"

    def _learn(self, route: str, major: str, response: requests.Response) -> None:
        bucket = response.headers.get("X-RateLimit-Bucket")
        with self._lock:
            if bucket:
                self._bucket_of_route[route] = bucket
            if response.headers.get("X-RateLimit-Remaining") == "0" and response.status_code != 429:
                reset_after = float(response.headers.get("X-RateLimit-Reset-After", 0))
                self._blocked_until[self._key(route, major)] = time.monotonic() + reset_after

    def _wait_for(self, key: str, max_wait: float, route: str) -> None:
        with self._lock:
            until = max(self._blocked_until.get(key, 0.0), self._blocked_until.get("global", 0.0))
        delay = until - time.monotonic()
        if delay > max_wait:
            raise DiscordError(429, {"message": f"rate limited for {delay:.1f}s more", "retry_after": delay}, route)
        if delay > 0:
            time.sleep(delay)


def _body(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
