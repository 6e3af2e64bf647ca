"""A fake web site for tests: pages over real HTTP on 127.0.0.1, with ETag and Last-Modified,
answering If-None-Match and If-Modified-Since with 304 as RFC 9110 says (If-None-Match wins when
both come), a robots.txt, and sitemaps made from the pages it holds.

    with FakeSite(robots="User-agent: *\\nDisallow: /docs/private/\\n") as site:
        site.put("/docs/", "<h1>Docs</h1><a href='guide.html'>Guide</a>")
        site.put("/docs/manual.pdf", pdf_bytes, content_type="application/pdf")
        site.put("/docs/plain.html", "...", validators=("modified",))   # no ETag
        site.redirect("/old", "/docs/")
        site.url                       # http://127.0.0.1:<port>
        site.delete("/docs/faq.html")  # 404 from now on
        site.fail("/docs/", 500, times=None)   # until cleared with site.fail("/docs/", None)
        site.fail("/docs/", 429, headers={"Retry-After": "1"})  # once
        site.requests                  # (host, path, status) of each request, in order
        site.count(path="/docs/", status=304)

Sitemaps: /sitemap.xml lists every page put with `in_sitemap=True` (each with its <lastmod>
while `site.lastmod` is true); /sitemap-index.xml is an index of /sitemaps/1.xml (the first half)
and /sitemaps/2.xml.gz (the rest, gzipped). robots.txt is a 404 when `robots` is None.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from xml.sax.saxutils import escape

from .http_server import KeepAliveHandler, Served, send

EPOCH = 1_700_000_000  # the first page's Last-Modified; each change a minute later


@dataclass
class _Page:
    body: bytes
    content_type: str
    modified: int  # seconds since the epoch
    validators: tuple[str, ...]
    in_sitemap: bool

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'


class FakeSite(Served):
    name = "fake-site"

    def __init__(self, robots: str | None = "User-agent: *\nAllow: /\n"):
        self.robots = robots
        self.lastmod = True
        self.pages: dict[str, _Page] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[tuple[str, str, int]] = []
        self._faults: dict[str, list] = {}  # path -> [status, headers, times left (None: always)]
        self._clock = EPOCH
        self._lock = threading.Lock()

    def handler(self) -> type[KeepAliveHandler]:
        return _handler_for(self)

    # --- what tests change ---

    def put(self, path: str, body: str | bytes, *, content_type: str = "text/html; charset=utf-8",
            validators: tuple[str, ...] = ("etag", "modified"), in_sitemap: bool = True) -> None:
        """Adds or edits a page; an edit moves its Last-Modified on a minute (and its ETag with
        the bytes)."""
        with self._lock:
            self._clock += 60
            data = body.encode() if isinstance(body, str) else body
            self.pages[path] = _Page(data, content_type, self._clock, validators, in_sitemap)

    def delete(self, path: str) -> None:
        with self._lock:
            del self.pages[path]

    def redirect(self, path: str, to: str) -> None:
        self.redirects[path] = to

    def fail(self, path: str, status: int | None, *, headers: dict[str, str] | None = None,
             times: int | None = 1) -> None:
        """Answer `status` (with `headers`) to the next `times` requests for `path` (None: all
        of them); `status=None` clears it."""
        with self._lock:
            if status is None:
                self._faults.pop(path, None)
            else:
                self._faults[path] = [status, headers or {}, times]

    def count(self, *, path: str | None = None, status: int | None = None, host: str | None = None) -> int:
        return sum(1 for h, p, s in self.requests
                   if (path is None or p == path) and (status is None or s == status) and (host is None or h == host))

    # --- what the server answers ---

    def _fault(self, path: str):
        with self._lock:
            fault = self._faults.get(path)
            if fault is None:
                return None
            status, headers, times = fault
            if times is not None:
                fault[2] -= 1
                if fault[2] <= 0:
                    del self._faults[path]
            return status, headers

    def sitemap(self, paths: list[str]) -> bytes:
        entries = []
        for path in paths:
            page = self.pages[path]
            lastmod = f"<lastmod>{_iso(page.modified)}</lastmod>" if self.lastmod else ""
            entries.append(f"<url><loc>{escape(self.url + path)}</loc>{lastmod}</url>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(entries) + "</urlset>").encode()

    def listed(self) -> list[str]:
        return [path for path, page in self.pages.items() if page.in_sitemap]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _handler_for(site: FakeSite) -> type[KeepAliveHandler]:
    class Handler(KeepAliveHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            fault = site._fault(path)
            if fault is not None:
                return self._send(fault[0], b"failing on purpose", "text/plain", fault[1])
            if path in site.redirects:
                return self._send(302, b"", "text/plain", {"Location": site.redirects[path]})
            if path == "/robots.txt":
                if site.robots is None:
                    return self._send(404, b"not found", "text/plain")
                return self._send(200, site.robots.encode(), "text/plain")
            if path == "/sitemap.xml":
                return self._send(200, site.sitemap(site.listed()), "application/xml")
            if path == "/sitemap-index.xml":
                index = "".join(f"<sitemap><loc>{site.url}{child}</loc></sitemap>"
                                for child in ("/sitemaps/1.xml", "/sitemaps/2.xml.gz"))
                body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>')
                return self._send(200, body.encode(), "application/xml")
            listed = site.listed()
            half = len(listed) // 2
            if path == "/sitemaps/1.xml":
                return self._send(200, site.sitemap(listed[:half]), "application/xml")
            if path == "/sitemaps/2.xml.gz":
                return self._send(200, gzip.compress(site.sitemap(listed[half:])), "application/gzip")
            page = site.pages.get(path)
            if page is None:
                return self._send(404, b"<h1>Not found</h1>", "text/html")
            headers = {}
            if "etag" in page.validators:
                headers["ETag"] = page.etag
            if "modified" in page.validators:
                headers["Last-Modified"] = formatdate(page.modified, usegmt=True)
            if self._unchanged(page):
                return self._send(304, b"", None, headers)
            self._send(200, page.body, page.content_type, headers)

        def _unchanged(self, page: _Page) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:  # RFC 9110 13.2.2: If-Modified-Since is then ignored
                tags = [tag.strip().removeprefix("W/") for tag in match.split(",")]
                return "etag" in page.validators and (page.etag in tags or "*" in tags)
            since = self.headers.get("If-Modified-Since")
            if since is None or "modified" not in page.validators:
                return False
            try:
                return page.modified <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False

        def _send(self, status: int, body: bytes, content_type: str | None,
                  headers: dict[str, str] | None = None) -> None:
            site.requests.append((self.headers.get("Host", ""), self.path, status))
            headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
            if status != 304:
                return send(self, status, headers, body)
            self.send_response(status)  # a 304 has no body, nor a length
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

    return Handler
