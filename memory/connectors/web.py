"""The web site connector (kind "web"): the pages a sitemap lists, or those a crawl from a start
page reaches within a depth, on the start page's site and under a path prefix.

    settings: {"url": "https://docs.acme.com/sitemap.xml"}         a sitemap or sitemap index (.xml, .xml.gz)
              {"url": "https://docs.acme.com/guide/", "depth": 2,   a start page, crawled
               "prefix": "/guide/", "max_pages": 2000}
    credentials (for an internal site, optional): {"token"} (Bearer) or {"username", "password"}

robots.txt is read once per sync and obeyed: a disallowed page is skipped with that reason and
removed. Unchanged pages cost nothing: a sitemap's `<lastmod>` is the version when it has one, so
an unchanged page is not even requested; otherwise the page's ETag (or Last-Modified) is, and
asking again with it costs a 304 and no embedding. The crawl is web_crawl.py, the sitemaps
web_sitemaps.py, the HTTP side (robots, conditional GETs) web_site.py.

What a failing page means for the knowledge already synced: a page the crawl finds answering 404
or 410 is gone, so it is removed (and recorded as skipped with the status); any other failure
(5xx, a timeout, a 429 still there after the client's retries) keeps it, skipped with the
reason, to be asked for again next time; a Retry-After longer than the client waits fails the
sync, which the schedule retries. A sitemap page answering 404 is kept, skipped, while
the sitemap still lists it: the sitemap is the listing. A start page, robots.txt or sitemap that
fails fails the sync, and the source keeps all it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from memory.connectors import Listing, SettingsError, register, web_sitemaps
from memory.connectors.web_crawl import Crawl
from memory.connectors.web_site import Scope, Site, canonical, origin

DEFAULT_DEPTH, MAX_DEPTH = 2, 10
DEFAULT_MAX_PAGES, MAX_PAGES = 2000, 50_000
SITEMAP_SUFFIXES = (".xml", ".xml.gz")


@dataclass(frozen=True)
class WebSettings:
    url: str
    scope: Scope
    depth: int
    max_pages: int

    @property
    def sitemap(self) -> bool:
        return urlsplit(self.url).path.lower().endswith(SITEMAP_SUFFIXES)

    @classmethod
    def parse(cls, settings: dict[str, Any]) -> WebSettings:
        unknown = set(settings) - {"url", "depth", "prefix", "max_pages"}
        if unknown:
            raise SettingsError(f"settings: {', '.join(sorted(unknown))} is not a web site setting "
                                "(these are: url, depth, prefix, max_pages)")
        raw = settings.get("url")
        url = canonical(raw.strip()) if isinstance(raw, str) else None
        if url is None:
            raise SettingsError("url: a sitemap (https://docs.acme.com/sitemap.xml) or a start page "
                                "(https://docs.acme.com/guide/), with http:// or https://")
        scope = Scope(origin(url), _prefix(settings.get("prefix"), url))
        if not scope.holds(url) and not urlsplit(url).path.lower().endswith(SITEMAP_SUFFIXES):
            raise SettingsError(f"prefix: the start page {url} is not under {scope.prefix}")
        return cls(url, scope, _whole(settings, "depth", DEFAULT_DEPTH, 0, MAX_DEPTH),
                   _whole(settings, "max_pages", DEFAULT_MAX_PAGES, 1, MAX_PAGES))


def _prefix(value: Any, url: str) -> str:
    if value is None:  # the start page's folder, as the sitemaps protocol scopes a sitemap
        path = urlsplit(url).path
        return path[:path.rindex("/") + 1]
    if isinstance(value, str) and "://" in value and origin(value) == origin(url):
        value = urlsplit(value).path
    if not isinstance(value, str) or not value.startswith("/"):
        raise SettingsError(f"prefix: a path on {origin(url)} such as /docs/ (got {value!r})")
    return value if value.endswith("/") else f"{value}/"


def _whole(settings: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{key}: a whole number from {low} to {high} (got {value!r})")
    return value


def _auth(credentials: dict[str, Any]) -> tuple[dict[str, str], tuple[str, str] | None]:
    if not credentials:
        return {}, None
    if set(credentials) == {"token"}:
        return {"Authorization": f"Bearer {credentials['token']}"}, None
    if set(credentials) == {"username", "password"}:
        return {}, (credentials["username"], credentials["password"])
    raise SettingsError("credentials: none for a public site; for an internal one either token "
                        "(sent as a Bearer token) or username and password")


class WebSite:
    kind = "web"

    def __init__(self, settings: WebSettings, credentials: dict[str, Any]) -> None:
        self.settings = settings
        self.headers, self.auth = _auth(credentials)

    @property
    def location(self) -> str:
        return self.settings.url

    @property
    def name(self) -> str:
        parts = urlsplit(self.settings.url)
        return f"{parts.netloc}{parts.path}"

    def listing(self, cursor: dict[str, Any], *, changed: dict[str, Any] | None = None) -> Listing:
        """Every page, each time (a site sends no webhooks, so `changed` is not used)."""
        site = Site(self.settings.scope.origin, headers=self.headers, auth=self.auth)
        site.read_robots()
        if self.settings.sitemap:
            return web_sitemaps.listing(site, self.settings.url, self.settings.scope, self.settings.max_pages)
        return Crawl(site, self.settings.url, self.settings.scope, self.settings.depth,
                     self.settings.max_pages, cursor).listing()


@register("web")
def _build(settings: dict[str, Any], credentials: dict[str, Any]) -> WebSite:
    return WebSite(WebSettings.parse(settings), credentials)
