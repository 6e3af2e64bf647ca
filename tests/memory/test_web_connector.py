"""The web site connector against a fake site over real HTTP: a sitemap's pages with their
lastmod, a crawl held to its depth, prefix, host and robots.txt, conditional GETs that cost a 304,
and, through the sync engine on the real database, re-syncs that embed nothing unchanged, deleted
pages removed and failing ones kept."""

import time

import pytest
from fakes.web_site import FakeSite
from fpdf import FPDF
from support import CountingEmbedder, free_port

from core import workspaces
from memory import connectors, store
from memory.connectors import ConnectorError
from memory.documents import Unreadable
from memory.search import search
from memory.sync import sync

ROBOTS = "User-agent: *\nDisallow: /docs/private/\n"


def html(title: str, text: str, links: list[str] = ()) -> str:
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>{text}</p><ul>{anchors}</ul></body></html>")


def pdf(text: str) -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=12)
    document.add_page()
    document.multi_cell(0, 10, text)
    return bytes(document.output())


@pytest.fixture
def site():
    with FakeSite(robots=ROBOTS) as site:
        other_host = site.url.replace("127.0.0.1", "localhost")
        site.put("/docs/", html("Docs", "The handbook of the Acme platform team.", [
            "guide.html", "guide.html#install", "#top", "faq.html", "private/secret.html", "/blog/post.html",
            f"{other_host}/docs/elsewhere.html", "manual.pdf", "style.css", "mailto:team@acme.test",
            "http://[broken/", "http://127.0.0.1:port/"]))
        site.put("/docs/guide.html", html("Guide", "Install the agent with the package manager, then run "
                                          "acme-agent enroll.", ["deep/one.html", "./"]))
        site.put("/docs/faq.html", html("FAQ", "Support answers tickets within one business day.", ["/docs"]))
        site.put("/docs/deep/one.html", html("Deep one", "Backups run nightly at two in the morning.",
                                             ["two.html"]))
        site.put("/docs/deep/two.html", html("Deep two", "Three levels down: the archive policy."))
        site.put("/docs/private/secret.html", html("Secret", "Robots may not read this."))
        site.put("/docs/manual.pdf", pdf("The operations manual: restart the broker before the cache."),
                 content_type="application/pdf")
        site.put("/blog/post.html", html("Post", "Outside the docs prefix."))
        yield site


def build(url: str, **settings):
    return connectors.build("web", {"url": url, **settings}, {})


def locations(listing, site) -> dict[str, str | None]:
    return {item.location.removeprefix(site.url): item.version for item in listing.items}


def reasons(listing, site) -> dict[str, str]:
    found = {}
    for item in listing.items:
        try:
            item.fetch(None)
        except Unreadable as error:
            found[item.location.removeprefix(site.url)] = str(error)
    return found


CRAWLED = {"/docs/", "/docs/guide.html", "/docs/faq.html", "/docs/manual.pdf", "/docs/deep/one.html"}


# --- settings ---

@pytest.mark.parametrize("settings, message", [
    ({}, "url: a sitemap"),
    ({"url": "ftp://acme.test/docs/"}, "url: a sitemap"),
    ({"url": "https://acme.test/docs/", "depth": 11}, "depth: a whole number from 0 to 10"),
    ({"url": "https://acme.test/docs/", "max_pages": 0}, "max_pages: a whole number"),
    ({"url": "https://acme.test/docs/", "prefix": "/blog/"}, "prefix: the start page https://acme.test/docs/ is not under /blog/"),
    ({"url": "https://acme.test/docs/", "prefix": "blog"}, "prefix: a path on https://acme.test"),
    ({"url": "https://acme.test/docs/", "path": "/docs/"}, "path is not a web site setting"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(connectors.SettingsError, match=message):
        connectors.build("web", settings, {})


def test_the_prefix_defaults_to_the_start_pages_folder():
    assert str(build("https://Acme.test:443/docs/guide.html").settings.scope) == "https://acme.test/docs/"
    assert build("https://acme.test/docs/guide.html").name == "acme.test/docs/guide.html"
    with pytest.raises(connectors.SettingsError, match="credentials: none for a public site"):
        connectors.build("web", {"url": "https://acme.test/"}, {"password": "x"})


# --- sitemaps ---

def test_a_sitemap_lists_its_pages_with_their_lastmod_and_requests_none_of_them(site):
    listing = build(f"{site.url}/sitemap.xml").listing({})
    found = locations(listing, site)
    assert set(found) == {*site.pages} and listing.complete and listing.total == len(site.pages)
    assert all(version.startswith("lastmod:20") for path, version in found.items() if path != "/docs/private/secret.html")
    assert listing.removed == [f"{site.url}/docs/private/secret.html"]
    assert [path for _, path, _ in site.requests] == ["/robots.txt", "/sitemap.xml"]
    assert reasons(listing, site) == {"/docs/private/secret.html": "disallowed by robots.txt"}


def test_a_sitemap_index_with_a_gzipped_sitemap_lists_the_same_pages(site):
    listing = build(f"{site.url}/sitemap-index.xml").listing({})
    assert set(locations(listing, site)) == {*site.pages}
    assert site.count(path="/sitemaps/2.xml.gz", status=200) == 1


def test_a_sitemap_page_without_lastmod_is_fetched_conditionally_and_a_304_is_unchanged(site):
    site.lastmod = False
    listing = build(f"{site.url}/sitemap.xml", prefix="/docs/").listing({})
    assert "/blog/post.html" not in locations(listing, site)
    guide = next(item for item in listing.items if item.location.endswith("/guide.html"))
    assert guide.version is None
    fetched = guide.fetch(None)
    assert b"acme-agent enroll" in fetched.data and fetched.content_type.startswith("text/html")
    assert fetched.version == f"etag:{site.pages['/docs/guide.html'].etag}"
    assert guide.fetch(fetched.version) is None
    assert site.count(path="/docs/guide.html", status=304) == 1
    site.put("/docs/guide.html", html("Guide", "Now enrolled with acme-agent join."))
    assert b"acme-agent join" in guide.fetch(fetched.version).data


def test_a_page_with_only_last_modified_is_asked_if_modified_since(site):
    site.lastmod = False
    site.put("/docs/faq.html", html("FAQ", "Dated only."), validators=("modified",))
    faq = next(item for item in build(f"{site.url}/sitemap.xml").listing({}).items if item.location.endswith("/faq.html"))
    version = faq.fetch(None).version
    assert version.startswith("modified:") and faq.fetch(version) is None


def test_a_sitemap_that_fails_or_is_not_one_fails_the_listing(site):
    site.fail("/sitemap.xml", 500, times=None)
    with pytest.raises(ConnectorError, match="sitemap.xml: HTTP 500"):
        build(f"{site.url}/sitemap.xml").listing({})
    site.fail("/sitemap.xml", None)
    site.put("/docs/feed.xml", "<rss><channel/></rss>", content_type="application/rss+xml")
    with pytest.raises(ConnectorError, match=r"feed.xml: not a sitemap \(its root is <rss>"):
        build(f"{site.url}/docs/feed.xml").listing({})


def test_max_pages_caps_a_sitemap_and_says_so(site):
    listing = build(f"{site.url}/sitemap.xml", max_pages=2).listing({})
    assert len(listing.items) == 3 and len(listing.removed) == 1
    assert "max_pages (2) reached" in reasons(listing, site)[listing.removed[0].removeprefix(site.url)]


# --- crawling ---

def test_a_crawl_keeps_to_its_depth_prefix_host_and_robots(site):
    listing = build(f"{site.url}/docs/").listing({})
    assert set(locations(listing, site)) == CRAWLED | {"/docs/private/secret.html"}
    assert reasons(listing, site) == {"/docs/private/secret.html": "disallowed by robots.txt"}
    assert listing.removed == [f"{site.url}/docs/private/secret.html"]
    asked = {path for _, path, _ in site.requests}
    assert not asked & {"/blog/post.html", "/docs/deep/two.html", "/docs/private/secret.html", "/docs/style.css"}
    assert site.count(host=site.url.replace("http://127.0.0.1", "localhost")) == 0
    assert site.count(path="/docs/guide.html") == 1  # the fragment link is the same page
    assert site.count(path="/docs") == 0  # "/docs" is "/docs/"
    assert build(f"{site.url}/docs/", depth=3).listing({}).total == len(CRAWLED) + 2
    assert set(locations(build(f"{site.url}/docs/", depth=0).listing({}), site)) == {"/docs/"}


def test_a_crawled_page_is_fetched_once_and_held_for_the_sync(site):
    listing = build(f"{site.url}/docs/").listing({})
    before = len(site.requests)
    manual = next(item for item in listing.items if item.location.endswith("manual.pdf"))
    fetched = manual.fetch(None)
    assert fetched.content_type == "application/pdf" and fetched.data == site.pages["/docs/manual.pdf"].body
    assert len(site.requests) == before


def test_a_recrawl_costs_a_304_a_page_and_still_follows_the_links_of_unchanged_pages(site):
    first = build(f"{site.url}/docs/").listing({})
    site.requests.clear()
    site.put("/docs/deep/one.html", html("Deep one", "Backups now run hourly."))  # linked from a 304 page
    again = build(f"{site.url}/docs/").listing(first.cursor)
    assert set(locations(again, site)) == set(locations(first, site))
    assert site.count(status=304) == len(CRAWLED) - 1 and site.count(status=200) == 2  # robots.txt, one.html
    versions, changed = locations(first, site), locations(again, site)
    assert [path for path in versions if versions[path] != changed[path]] == ["/docs/deep/one.html"]
    assert site.count(path="/docs/deep/two.html") == 0


def test_a_redirect_or_a_canonical_link_names_the_page_once(site):
    site.put("/docs/", html("Docs", "Home.", ["old.html", "print.html", "faq.html"]))
    site.redirect("/docs/old.html", "/docs/faq.html")
    site.put("/docs/print.html", '<html><head><link rel="canonical" href="/docs/faq.html"></head>'
                                 "<body><p>FAQ, printable.</p></body></html>")
    assert set(locations(build(f"{site.url}/docs/").listing({}), site)) == {"/docs/", "/docs/faq.html"}


def test_a_gone_page_is_removed_and_a_failing_one_kept_with_its_links(site):
    first = build(f"{site.url}/docs/").listing({})
    site.delete("/docs/faq.html")
    site.fail("/docs/guide.html", 500, times=None)
    again = build(f"{site.url}/docs/").listing(first.cursor)
    assert reasons(again, site) == {"/docs/private/secret.html": "disallowed by robots.txt",
                                    "/docs/faq.html": "HTTP 404 Not Found",
                                    "/docs/guide.html": "HTTP 500 Internal Server Error"}
    assert f"{site.url}/docs/faq.html" in again.removed and f"{site.url}/docs/guide.html" not in again.removed
    assert "/docs/deep/one.html" in locations(again, site)  # found through guide.html's last links


def test_a_failing_start_page_or_robots_txt_fails_the_listing_and_a_missing_robots_txt_allows_all(site):
    site.fail("/docs/", 503, times=None)
    with pytest.raises(ConnectorError, match="the start page .*/docs/: HTTP 503"):
        build(f"{site.url}/docs/").listing({})
    site.fail("/docs/", None)
    site.fail("/robots.txt", 500, times=None)
    with pytest.raises(ConnectorError, match="robots.txt: HTTP 500"):
        build(f"{site.url}/docs/").listing({})
    site.fail("/robots.txt", None)
    with pytest.raises(ConnectorError, match="robots.txt: connection failed"):
        build(f"http://127.0.0.1:{free_port()}/docs/").listing({})
    site.robots = "User-agent: *\nDisallow: /\n"
    with pytest.raises(ConnectorError, match="the start page .*/docs/ is disallowed by robots.txt"):
        build(f"{site.url}/docs/").listing({})
    site.robots = None
    assert "/docs/private/secret.html" in locations(build(f"{site.url}/docs/").listing({}), site)
    assert site.count(path="/docs/private/secret.html", status=200) == 1


def test_rate_limits_and_crawl_delay_are_waited_out(site):
    site.fail("/docs/guide.html", 429, headers={"Retry-After": "1"})
    began = time.monotonic()
    listing = build(f"{site.url}/docs/", depth=1).listing({})
    assert time.monotonic() - began >= 1 and "/docs/guide.html" not in reasons(listing, site)
    assert site.count(path="/docs/guide.html", status=429) == 1

    site.robots = "User-agent: MorningAI-hub\nCrawl-delay: 1\n"
    began = time.monotonic()
    build(f"{site.url}/docs/", depth=0).listing({})  # robots.txt, then the start page
    assert time.monotonic() - began >= 1


# --- syncing ---

@pytest.fixture
def source(rt):
    space, _ = workspaces.ensure(rt.db, "web")

    def add(connector):
        with rt.db.workspace(space.id) as conn:
            row = store.add_source(conn, space.id, "web", connector.location, connector.name, {}, None, None)
        return row["id"]
    return space, add


def _sync(rt, space, source_id, connector, embedder):
    return sync(rt.db, embedder, workspaces.get(rt.db, space.name), source_id, connector)


def _stored(rt, space, source_id):
    with rt.db.workspace(space.id) as conn:
        return store.source(conn, source_id), store.document_versions(conn, source_id)


def test_a_crawled_site_syncs_then_resyncs_with_304s_and_no_embedding(rt, site, source):
    space, add = source
    connector, embedder = build(f"{site.url}/docs/"), CountingEmbedder()
    source_id = add(connector)
    first = _sync(rt, space, source_id, connector, embedder)
    assert (first.added, first.error) == (len(CRAWLED), None)
    assert first.skipped == [{"location": f"{site.url}/docs/private/secret.html", "reason": "disallowed by robots.txt"}]
    row, documents = _stored(rt, space, source_id)
    assert {path.removeprefix(site.url) for path in documents} == CRAWLED and row["status"] == "ready"
    hits = search(rt.db, embedder, "web", "what to restart before the cache", k=1)
    assert hits[0].location == f"{site.url}/docs/manual.pdf"

    site.requests.clear()
    embedder.calls = 0
    again = _sync(rt, space, source_id, connector, embedder)
    assert (again.unchanged, again.fetched, again.added, again.updated, embedder.calls) == (len(CRAWLED), 0, 0, 0, 0)
    assert site.count(status=304) == len(CRAWLED) and site.count(status=200) == 1  # robots.txt

    site.put("/docs/faq.html", html("FAQ", "Support now answers tickets within four hours.", ["/docs/"]))
    embedder.calls = embedder.texts = 0
    edited = _sync(rt, space, source_id, connector, embedder)
    assert (edited.updated, edited.unchanged, embedder.calls) == (1, len(CRAWLED) - 1, 1)
    assert embedder.texts == edited.embedded
    assert "four hours" in search(rt.db, embedder, "web", "how fast does support answer tickets", k=1)[0].text


def test_a_deleted_page_is_removed_and_a_failing_one_kept(rt, site, source):
    space, add = source
    connector, embedder = build(f"{site.url}/docs/"), CountingEmbedder()
    source_id = add(connector)
    _sync(rt, space, source_id, connector, embedder)
    site.delete("/docs/deep/one.html")
    site.fail("/docs/faq.html", 500, times=None)
    report = _sync(rt, space, source_id, connector, embedder)
    assert report.deleted == 1 and report.error is None
    assert {"location": f"{site.url}/docs/faq.html", "reason": "HTTP 500 Internal Server Error"} in report.skipped
    _, documents = _stored(rt, space, source_id)
    assert {path.removeprefix(site.url) for path in documents} == CRAWLED - {"/docs/deep/one.html"}


def test_a_failing_start_page_keeps_the_knowledge_and_marks_the_source_failing(rt, site, source):
    space, add = source
    connector, embedder = build(f"{site.url}/docs/"), CountingEmbedder()
    source_id = add(connector)
    _sync(rt, space, source_id, connector, embedder)
    site.fail("/docs/", 500, times=None)
    report = _sync(rt, space, source_id, connector, embedder)
    assert "the start page" in report.error and "HTTP 500" in report.error
    row, documents = _stored(rt, space, source_id)
    assert row["status"] == "failing" and "HTTP 500" in row["last_error"] and len(documents) == len(CRAWLED)
    site.fail("/docs/", None)
    assert _sync(rt, space, source_id, connector, embedder).error is None
    assert _stored(rt, space, source_id)[0]["status"] == "ready"


def test_a_sitemap_site_resyncs_without_a_request_per_page_and_drops_what_left_the_sitemap(rt, site, source):
    space, add = source
    connector, embedder = build(f"{site.url}/sitemap.xml", prefix="/docs/"), CountingEmbedder()
    source_id = add(connector)
    first = _sync(rt, space, source_id, connector, embedder)
    assert first.added == 6 and len(first.skipped) == 1  # the six pages under /docs/ but the private one

    site.requests.clear()
    embedder.calls = 0
    again = _sync(rt, space, source_id, connector, embedder)
    assert (again.unchanged, embedder.calls) == (6, 0)
    assert [path for _, path, _ in site.requests] == ["/robots.txt", "/sitemap.xml"]

    site.delete("/docs/deep/two.html")
    gone = _sync(rt, space, source_id, connector, embedder)
    assert gone.deleted == 1 and f"{site.url}/docs/deep/two.html" not in _stored(rt, space, source_id)[1]


def test_a_sitemap_without_lastmod_resyncs_with_304s(rt, site, source):
    space, add = source
    site.lastmod = False
    connector, embedder = build(f"{site.url}/sitemap.xml", prefix="/docs/"), CountingEmbedder()
    source_id = add(connector)
    _sync(rt, space, source_id, connector, embedder)
    site.requests.clear()
    embedder.calls = 0
    again = _sync(rt, space, source_id, connector, embedder)
    assert (again.unchanged, again.fetched, embedder.calls) == (6, 0, 0)
    assert site.count(status=304) == 6
