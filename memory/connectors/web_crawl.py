"""A crawl of a web site: breadth first from a start page to a depth, following `<a href>` links
that stay in the source's scope, one spelling per page (no fragment; "/guide" and "/guide/" are
one page; a redirect or an in-scope `<link rel="canonical">` names the page).

Finding the pages means reading them, so the crawl fetches while it lists. Each page is asked for
conditionally, with the validator the last sync saw: an unchanged page costs a 304. Its links are
then not in the answer, so the cursor keeps every followed page's links (as indices into its own
table of URLs, which keeps it small): a 304 page's links are followed as they were. A page whose
links are needed but not known is fetched whole. Pages that did answer are held in an unnamed
temporary file until the sync asks for them: a site does not fit in memory, nor should it be
fetched twice.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from memory.connectors import ConnectorError, Fetched, Item, Listing
from memory.connectors.web_site import (
    ROBOTS,
    Gone,
    Page,
    Scope,
    Site,
    beyond,
    canonical,
    skipped,
)
from memory.documents import Unreadable
from memory.loaders import BINARY

# Links to these are a page's furniture, not its knowledge.
ASSETS = BINARY | {".css", ".js", ".mjs", ".map", ".svg", ".xml", ".json", ".rss", ".atom", ".gz"}
HTML = ("text/html", "application/xhtml+xml")


def key(url: str) -> str:
    """The crawl's identity of a page: its canonical URL without a trailing slash."""
    return url[:-1] if url.endswith("/") and urlsplit(url).path != "/" else url


@dataclass(frozen=True)
class _Known:
    """A page as the last sync saw it."""

    location: str
    version: str | None
    links: list[str] | None  # None: not followed then


class Crawl:
    def __init__(self, site: Site, start: str, scope: Scope, depth: int, max_pages: int,
                 cursor: dict[str, Any]) -> None:
        self.site, self.start, self.scope = site, start, scope
        self.depth, self.max_pages = depth, max_pages
        # A cursor saved for another scope says nothing of this one.
        self.known = _read(cursor) if cursor.get("scope") == str(scope) else {}
        self.table = _Table()
        self.bodies = _Bodies()
        self.items: list[Item] = []
        self.removed: list[str] = []
        self.locations: set[str] = set()
        self.pages = 0

    def listing(self) -> Listing:
        queue, seen = deque([(self.start, 0)]), {key(self.start)}
        while queue:
            url, depth = queue.popleft()
            if not self.site.allowed(url):
                if depth == 0:  # a listing of nothing would remove all the source holds
                    raise ConnectorError(f"the start page {url} is {ROBOTS}")
                self._skip(url, ROBOTS, gone=True)
                continue
            if self.pages == self.max_pages:
                self._skip(url, beyond(self.max_pages), gone=True)
                break
            for link in self._visit(url, depth):
                if key(link) not in seen and depth < self.depth:
                    seen.add(key(link))
                    queue.append((link, depth + 1))
        return Listing(self.items, {"scope": str(self.scope), "pages": self.table.rows},
                       removed=self.removed, total=len(self.items))

    def _visit(self, url: str, depth: int) -> list[str]:
        """Lists the page; the links it leads to."""
        known = self.known.get(key(url))
        follow = depth < self.depth
        asked = known.version if known and (known.links is not None or not follow) else None
        try:
            page = self.site.get(url, asked)
        except Unreadable as error:
            if depth == 0:
                raise ConnectorError(f"the start page {url}: {error}") from error
            # Gone: the page and its knowledge go. Any other failure may pass: the page keeps
            # its knowledge and its last links, and is asked for again next time.
            gone = isinstance(error, Gone)
            self._skip(known.location if known else url, str(error), gone=gone)
            if gone or known is None:
                return []
            self.table.record(url, known)
            return known.links or []
        if page is None:  # 304: as last time
            self._list(url, known, self.site.fetcher(url))
            return known.links or []
        location, links = self._read(url, page, follow)
        if location is None:
            if depth == 0:
                raise ConnectorError(f"the start page {url} redirects off the site, to {page.url}")
            self._skip(url, f"redirects off the site, to {page.url}", gone=True)
            return []
        span = self.bodies.put(page.data)
        self._list(url, _Known(location, page.version, links), self._held(span, page))
        return links or []

    def _read(self, url: str, page: Page, follow: bool) -> tuple[str | None, list[str] | None]:
        """(where the page is, or None when off the site; its links when they are followed)."""
        location = canonical(page.url) or url
        if not self.scope.holds(location):
            return None, None
        media_type = (page.content_type or "").partition(";")[0].strip().lower()
        if media_type not in HTML:
            return location, [] if follow else None
        links, named = _html_links(page.data, location)
        if named and self.scope.holds(named):
            location = named
        if not follow:
            return location, None
        wanted = [link for link in links if self.scope.holds(link)
                  and PurePosixPath(urlsplit(link).path).suffix.lower() not in ASSETS]
        return location, list(dict.fromkeys(wanted))

    def _list(self, url: str, page: _Known, fetch: Callable[[str | None], Fetched | None]) -> None:
        self.table.record(url, page)
        # Two URLs can name one page (a redirect, a canonical link): it is listed once.
        if page.location not in self.locations:
            self.locations.add(page.location)
            self.pages += 1
            self.items.append(Item(page.location, page.version, fetch))

    def _skip(self, location: str, reason: str, *, gone: bool) -> None:
        if location in self.locations:  # another URL of the page answered
            return
        self.locations.add(location)
        self.items.append(skipped(location, reason))
        if gone:  # recorded as skipped, then removed by the sync
            self.removed.append(location)

    def _held(self, span: tuple[int, int], page: Page) -> Callable[[str | None], Fetched | None]:
        def fetch(known: str | None) -> Fetched:
            return Fetched(self.bodies.get(span), page.content_type, version=page.version)
        return fetch


def _html_links(data: bytes, url: str) -> tuple[list[str], str | None]:
    """(the page's `<a href>` links, its canonical URL if it names one), absolute and canonical."""
    try:
        tree = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError):  # empty, or nothing like HTML
        return [], None
    base = _absolute(url, (tree.xpath("//base/@href") or [""])[0]) or url
    links = [link for href in tree.xpath("//a/@href") if (link := _absolute(base, href))]
    named = next((_absolute(base, link.get("href", "")) for link in tree.iter("link")
                  if "canonical" in (link.get("rel") or "").lower().split()), None)
    return links, named


def _absolute(base: str, href: str) -> str | None:
    try:
        return canonical(urljoin(base, href.strip()))
    except ValueError:  # an href urljoin cannot read, e.g. http://[broken
        return None


class _Table:
    """The cursor: [url, location (None when the url itself), version, links (indices into the
    table, None when not followed)] for every page seen, listed or linked."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.index: dict[str, int] = {}

    def record(self, url: str, page: _Known) -> None:
        links = None if page.links is None else [self._at(link) for link in page.links]
        row = self.rows[self._at(url)]
        row[1:] = [None if page.location == row[0] else page.location, page.version, links]

    def _at(self, url: str) -> int:
        if key(url) not in self.index:
            self.index[key(url)] = len(self.rows)
            self.rows.append([url, None, None, None])
        return self.index[key(url)]


def _read(cursor: dict[str, Any]) -> dict[str, _Known]:
    rows = cursor.get("pages", [])
    return {key(url): _Known(location or url, version, None if links is None else [rows[i][0] for i in links])
            for url, location, version, links in rows}


class _Bodies:
    """Bytes on disk, read back by (offset, size). The file has no name: it is gone when the
    last item holding it is."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(buffering=0)
        weakref.finalize(self, self.file.close)
        self.size = 0

    def put(self, data: bytes) -> tuple[int, int]:
        self.file.write(data)
        self.size += len(data)
        return self.size - len(data), len(data)

    def get(self, span: tuple[int, int]) -> bytes:
        offset, size = span
        return os.pread(self.file.fileno(), size, offset)
