"""One web site as the web connector (web.py) reads it: its robots.txt, fetched once per sync
and obeyed (Crawl-delay included), and conditional GETs that cost a 304 when a page is unchanged.

A page's version is its validator, `etag:"…"` or else `modified:<HTTP date>`: handed back to
`get`, it becomes If-None-Match or If-Modified-Since. Any other version (a sitemap's
`lastmod:…`) makes a plain GET.
"""

from __future__ import annotations

import importlib.metadata
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from memory.connectors import ConnectorError, Fetched, Item
from memory.connectors.http import Client
from memory.documents import Unreadable
from memory.downloads import failure, read_body


def _version() -> str:
    try:
        return importlib.metadata.version("morningai")
    except importlib.metadata.PackageNotFoundError:  # a checkout run from source, not installed
        return "dev"


USER_AGENT = f"MorningAI-hub/{_version()} (+https://github.com/morningai)"
MAX_BYTES = 10_000_000  # a page or sitemap; the sitemaps protocol caps a file at 50 MB, few come near
TIMEOUT = 20.0
# Crawl-delay is obeyed up to this: a site asking for a minute between pages would hold a
# worker for a day, and the next sync would pick up where this one could not reach anyway.
MAX_CRAWL_DELAY = 5.0
# Statuses the client hands back rather than raises: each page's own failure is skipped with its
# reason, not the whole sync. The client still waits out 429 and 503 with Retry-After first.
_PAGE_STATUSES = tuple(range(400, 600))
GONE = (404, 410)
ROBOTS = "disallowed by robots.txt"


@dataclass(frozen=True)
class Scope:
    """The pages a source holds: on one origin (scheme, host and port), under a path prefix."""

    origin: str
    prefix: str  # ends with "/"

    def holds(self, url: str) -> bool:
        if origin(url) != self.origin:
            return False
        path = urlsplit(url).path
        return path.startswith(self.prefix) or path + "/" == self.prefix

    def __str__(self) -> str:
        return f"{self.origin}{self.prefix}"


class Gone(Unreadable):
    """The site says the page no longer exists (HTTP 404 or 410)."""


@dataclass(frozen=True)
class Page:
    url: str  # where the answer came from, after redirects
    data: bytes
    content_type: str | None
    version: str | None  # the validator to send next time; None when the site gave none


class Site:
    def __init__(self, origin: str, *, headers: dict[str, str] | None = None,
                 auth: tuple[str, str] | None = None) -> None:
        self.origin = origin
        self.client = Client(origin, headers={"User-Agent": USER_AGENT, **(headers or {})}, auth=auth,
                             timeout=TIMEOUT)
        self.robots = urllib.robotparser.RobotFileParser()
        self.delay = 0.0
        self.last_request = float("-inf")

    def read_robots(self) -> None:
        """robots.txt, as RFC 9309 reads it: missing (4xx) allows everything. A 5xx or no answer
        fails the listing: taking it as "disallow all", as the RFC does, would remove every
        page the source holds over a passing outage."""
        url = f"{self.origin}/robots.txt"
        try:
            response, deadline = self._request(url, {})
            with response:
                if response.status_code >= 500:
                    raise Unreadable(f"HTTP {response.status_code} {response.reason}".rstrip())
                text = read_body(response, MAX_BYTES, TIMEOUT, deadline) if response.status_code < 400 else b""
        except Unreadable as error:
            raise ConnectorError(f"GET {url}: {error}") from error
        # parse() also marks the rules as read: an unread parser refuses every URL.
        self.robots.parse(text.decode("utf-8", "replace").splitlines())
        delay = self.robots.crawl_delay(USER_AGENT)
        self.delay = min(float(delay), MAX_CRAWL_DELAY) if delay else 0.0

    def allowed(self, url: str) -> bool:
        return self.robots.can_fetch(USER_AGENT, url)

    def get(self, url: str, known: str | None = None) -> Page | None:
        """The page, or None when `known` is still its version (HTTP 304). Gone for a 404 or
        410, Unreadable for any other failure; ConnectorError when a rate limit outlasts the
        client's wait (the whole sync stops, to be retried on schedule)."""
        asked = conditional(known)
        response, deadline = self._request(url, asked)
        with response:
            status = response.status_code
            if status == 304 and asked:
                return None
            if status >= 400:
                error = Gone if status in GONE else Unreadable
                raise error(f"HTTP {status} {response.reason}".rstrip())
            data = read_body(response, MAX_BYTES, TIMEOUT, deadline)
            return Page(response.url, data, response.headers.get("Content-Type"), validator(response.headers))

    def document(self, url: str) -> Page:
        """A file the listing cannot do without (a sitemap): any failure fails the listing."""
        try:
            page = self.get(url)
        except Unreadable as error:
            raise ConnectorError(f"GET {url}: {error}") from error
        assert page is not None  # no version was sent, so no 304
        return page

    def fetcher(self, url: str, *, validated: bool = True) -> Callable[[str | None], Fetched | None]:
        """An item's fetch: the page when the sync asks, conditional on the version it holds.
        `validated`: the page's validator becomes its version (else the listing's is kept, a
        sitemap's lastmod)."""
        def fetch(known: str | None) -> Fetched | None:
            page = self.get(url, known)
            if page is None:
                return None
            return Fetched(page.data, page.content_type, version=page.version if validated else None)
        return fetch

    def _request(self, url: str, headers: dict[str, str]) -> tuple[requests.Response, float]:
        """The answer, and the deadline for reading its body."""
        wait = self.last_request + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_request = time.monotonic()
        try:
            response = self.client.request("GET", url, ok=_PAGE_STATUSES, headers=headers, stream=True)
            return response, self.last_request + TIMEOUT
        except ConnectorError as error:
            if isinstance(error.__cause__, requests.RequestException):
                raise failure(error.__cause__, TIMEOUT) from error
            raise


def conditional(known: str | None) -> dict[str, str]:
    kind, _, value = (known or "").partition(":")
    if kind == "etag":
        return {"If-None-Match": value}
    if kind == "modified":
        return {"If-Modified-Since": value}
    return {}


def validator(headers: requests.structures.CaseInsensitiveDict) -> str | None:
    # A server that has ETags judges If-None-Match before If-Modified-Since (RFC 9110 13.2.2),
    # so one validator is all a version needs.
    if headers.get("ETag"):
        return f"etag:{headers['ETag']}"
    if headers.get("Last-Modified"):
        return f"modified:{headers['Last-Modified']}"
    return None


def canonical(url: str) -> str | None:
    """One spelling per page: no fragment, lower-case scheme and host, no default port, "/" for
    an empty path. None for what is no web page's URL (mailto:, a port that is not a number)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def origin(url: str) -> str | None:
    spelled = canonical(url)
    if spelled is None:
        return None
    parts = urlsplit(spelled)
    return f"{parts.scheme}://{parts.netloc}"


def skipped(location: str, reason: str) -> Item:
    """An item the sync records as skipped with `reason`: fetching it raises."""
    def fetch(known: str | None) -> Fetched | None:
        raise Unreadable(reason)
    return Item(location, None, fetch)


def beyond(max_pages: int) -> str:
    return f"max_pages ({max_pages}) reached: this page and the ones after it are not synced"
