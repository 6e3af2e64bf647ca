"""The sync engine on the real database, with a connector whose service is a dict in the test:
what is listed with an unchanged version is neither fetched nor embedded, deletions follow a
complete listing only, and a failing service never costs the knowledge already synced."""

import threading
import time
import uuid

import pytest
from support import CountingEmbedder

from core import workspaces
from memory import store
from memory.connectors import ConnectorError, Fetched, Item, Listing
from memory.documents import Unreadable
from memory.search import search
from memory.sync import sync


class Pages:
    """A service holding Markdown pages, each with a version that moves on every edit."""

    kind = "test"
    location = "https://pages.example/space"
    name = "the test space"

    def __init__(self, pages: dict[str, str]):
        self.pages = {path: (text, 1) for path, text in pages.items()}
        self.fetches: list[str] = []
        self.fail_listing: str | None = None
        self.unreadable: set[str] = set()
        self.changed_seen = None

    def edit(self, path: str, text: str) -> None:
        self.pages[path] = (text, self.pages.get(path, ("", 0))[1] + 1)

    def listing(self, cursor, *, changed=None):
        self.changed_seen = changed
        if self.fail_listing:
            raise ConnectorError(self.fail_listing)
        paths = changed["paths"] if changed else sorted(self.pages)
        items = [Item(f"{self.location}/{path}", str(self.pages[path][1]), self._fetcher(path))
                 for path in paths if path in self.pages]
        return Listing(items, {"seen": len(self.pages)}, complete=changed is None,
                       removed=[f"{self.location}/{p}" for p in (changed or {}).get("removed", [])])

    def _fetcher(self, path):
        def fetch(known):
            self.fetches.append(path)
            if path in self.unreadable:
                raise Unreadable("HTTP 500 Internal Server Error")
            return Fetched(self.pages[path][0].encode(), "text/markdown")
        return fetch


PAGES = {
    "deploy.md": "# Deploy\n\nDeploys go out from the main branch after review with `make release`.\n",
    "holidays.md": "# Holidays\n\nEveryone gets twenty-five days of paid leave a year.\n",
    "oncall.md": "# On call\n\nThe on-call engineer carries the pager for one week at a time.\n",
}


@pytest.fixture
def source(rt):
    space, _ = workspaces.ensure(rt.db, "sync")
    with rt.db.workspace(space.id) as conn:
        row = store.add_source(conn, space.id, "web", Pages.location, Pages.name, {}, None, None)
    return space, row["id"]


def _row(rt, space, source_id):
    with rt.db.workspace(space.id) as conn:
        return store.source(conn, source_id), store.document_versions(conn, source_id)


def _run(rt, space, source_id, service, embedder, **kwargs):
    return sync(rt.db, embedder, workspaces.get(rt.db, space.name), source_id, service, **kwargs)


def test_first_sync_stores_every_page_and_an_unchanged_resync_fetches_and_embeds_nothing(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    first = _run(rt, space, source_id, service, embedder)
    assert (first.added, first.fetched, first.error) == (3, 3, None)
    assert embedder.texts == first.embedded > 0
    row, documents = _row(rt, space, source_id)
    assert row["status"] == "ready" and row["cursor"] == {"seen": 3} and row["documents"] == 3
    assert row["last_sync"]["added"] == 3 and row["last_synced_at"] is not None
    assert {d["version"] for d in documents.values()} == {"1"}
    hits = search(rt.db, embedder, "sync", "how many days of paid leave", k=1)
    assert hits[0].location == f"{Pages.location}/holidays.md"

    service.fetches.clear()
    embedder.calls = embedder.texts = 0
    again = _run(rt, space, source_id, service, embedder)
    assert (again.unchanged, again.fetched, again.added, again.updated) == (3, 0, 0, 0)
    assert service.fetches == [] and embedder.calls == 0


def test_an_edited_page_alone_is_embedded_again_and_a_deleted_one_removed(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    _run(rt, space, source_id, service, embedder)
    service.edit("deploy.md", "# Deploy\n\nDeploys now go out every Tuesday with `make ship`.\n")
    del service.pages["oncall.md"]
    service.fetches.clear()
    report = _run(rt, space, source_id, service, embedder)
    assert (report.updated, report.deleted, report.unchanged) == (1, 1, 1)
    assert service.fetches == ["deploy.md"]
    _, documents = _row(rt, space, source_id)
    assert sorted(documents) == [f"{Pages.location}/deploy.md", f"{Pages.location}/holidays.md"]
    assert "Tuesday" in search(rt.db, embedder, "sync", "when do deploys go out", k=1)[0].text


def test_a_new_version_with_the_same_bytes_is_not_embedded_again(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    _run(rt, space, source_id, service, embedder)
    service.edit("holidays.md", PAGES["holidays.md"])  # a touch: new version, same content
    embedder.calls = 0
    report = _run(rt, space, source_id, service, embedder)
    assert (report.fetched, report.unchanged, report.updated, embedder.calls) == (1, 3, 0, 0)
    _, documents = _row(rt, space, source_id)
    assert documents[f"{Pages.location}/holidays.md"]["version"] == "2"  # not fetched next time


def test_a_failing_listing_keeps_the_knowledge_and_marks_the_source_failing(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    _run(rt, space, source_id, service, embedder)
    service.fail_listing = "GET https://pages.example/api: HTTP 401 Bad credentials"
    report = _run(rt, space, source_id, service, embedder)
    assert report.error == service.fail_listing
    row, documents = _row(rt, space, source_id)
    assert row["status"] == "failing" and row["last_error"] == service.fail_listing
    assert len(documents) == 3 and row["cursor"] == {"seen": 3}
    service.fail_listing = None
    assert _run(rt, space, source_id, service, embedder).error is None
    assert _row(rt, space, source_id)[0]["status"] == "ready"


def test_an_item_that_fails_to_fetch_is_skipped_with_its_reason_and_kept(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    _run(rt, space, source_id, service, embedder)
    service.edit("oncall.md", "# On call\n\nChanged, but the server fails to serve it.\n")
    service.unreadable.add("oncall.md")
    report = _run(rt, space, source_id, service, embedder)
    assert report.skipped == [{"location": f"{Pages.location}/oncall.md", "reason": "HTTP 500 Internal Server Error"}]
    row, documents = _row(rt, space, source_id)
    assert f"{Pages.location}/oncall.md" in documents and row["skipped"] == report.skipped
    assert documents[f"{Pages.location}/oncall.md"]["version"] == "1"  # tried again next time


def test_a_narrowed_sync_touches_only_the_reported_pages_and_removes_only_the_removed(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    _run(rt, space, source_id, service, embedder)
    service.edit("deploy.md", "# Deploy\n\nFriday deploys are frozen.\n")
    del service.pages["oncall.md"]
    service.pages["new.md"] = ("# New\n\nA page added by the push.\n", 1)
    service.fetches.clear()
    report = _run(rt, space, source_id, service, embedder,
                  changed={"paths": ["deploy.md", "new.md"], "removed": ["oncall.md"]})
    assert (report.updated, report.added, report.deleted) == (1, 1, 1)
    assert sorted(service.fetches) == ["deploy.md", "new.md"]
    _, documents = _row(rt, space, source_id)
    assert len(documents) == 3  # holidays.md, not listed by the push, stays


def test_two_syncs_of_one_source_run_one_after_the_other(rt, source):
    space, source_id = source
    service, embedder = Pages(PAGES), CountingEmbedder()
    inside, overlaps = [0], []
    fetch = Pages._fetcher

    def slow_fetcher(self, path):
        inner = fetch(self, path)

        def slow(known):
            inside[0] += 1
            overlaps.append(inside[0])
            time.sleep(0.05)
            inside[0] -= 1
            return inner(known)
        return slow

    service._fetcher = slow_fetcher.__get__(service)
    runs = [threading.Thread(target=_run, args=(rt, space, source_id, service, embedder)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    assert max(overlaps) == 1
    assert _row(rt, space, source_id)[0]["documents"] == 3


def test_a_source_removed_while_its_job_waited_is_a_clear_error(rt, source):
    space, _ = source
    with pytest.raises(LookupError):
        _run(rt, space, uuid.uuid4(), Pages(PAGES), CountingEmbedder())
