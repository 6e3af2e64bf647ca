"""The HTTP client connectors share: JSON over a requests Session, with the services' rate
limits honoured (HTTP 429 and 503 with Retry-After; GitHub's primary limit, a 403 or 429 with
`x-ratelimit-remaining: 0` until `x-ratelimit-reset`; its secondary limits, a 403 with
Retry-After) and any other refusal turned into a ConnectorError carrying the service's reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from memory.connectors import ConnectorError

# A limit that lifts later than this fails the sync (it is retried on schedule) rather than
# holding a worker for an hour.
MAX_WAIT = 120.0
ATTEMPTS = 5


class Client:
    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None,
                 auth: tuple[str, str] | None = None, timeout: float = 30.0,
                 max_wait: float = MAX_WAIT, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.timeout = timeout
        self.max_wait = max_wait
        self.sleep = sleep
        self.waited = 0.0  # seconds spent waiting out rate limits, for reports and tests

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(f"{method} {self.url(path)}: the answer is not JSON "
                                 f"(HTTP {response.status_code})") from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> requests.Response:
        """The response, after waiting out rate limits. A status >= 400 not in `ok` raises
        ConnectorError with the service's own message."""
        url = self.url(path)
        for attempt in range(ATTEMPTS):
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                raise ConnectorError(f"{method} {url}: {error}") from error
            wait = rate_limit_wait(response)
            if wait is None or attempt == ATTEMPTS - 1:
                break
            if self.waited + wait > self.max_wait:
                raise ConnectorError(f"{method} {url}: rate limited for {wait:.0f} s more "
                                     f"(HTTP {response.status_code}); the next sync tries again")
            self.sleep(wait)
            self.waited += wait
        if response.status_code >= 400 and response.status_code not in ok:
            raise ConnectorError(f"{method} {url}: HTTP {response.status_code} {reason(response)}".rstrip())
        return response


def rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds to wait before asking again, or None when the response is not a rate limit."""
    status, headers = response.status_code, response.headers
    if status not in (403, 429, 503):
        return None
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        return _seconds(retry_after)
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, int(headers["x-ratelimit-reset"]) - time.time()) + 1.0
    # A 429 without a hint: back off a little. A bare 403 or 503 is a refusal, not a limit.
    return 1.0 if status == 429 else None


def _seconds(retry_after: str) -> float:
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        try:  # an HTTP date
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
        except (TypeError, ValueError):
            return 1.0


def reason(response: requests.Response) -> str:
    """The service's own words: `message` (GitHub, Notion, Confluence), or the body's start."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or response.text[:200]).strip()
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return body[key]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("message") or errors[0])
    return response.reason or ""
