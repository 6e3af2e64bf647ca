"""The Notion connector against a fake Notion speaking its API: blocks to Markdown, pages and
database rows listed with their last edit times across pages of results, page trees narrowed
to their roots, Notion's refusals as the source's reason, rate limits waited out, and syncs on
the real database."""

from datetime import UTC, datetime

import pytest
from connector_support import Synced
from fakes.notion_server import FakeNotion, block, text
from support import CountingEmbedder

from memory import connectors
from memory.connectors import ConnectorError, SettingsError
from memory.connectors.notion_blocks import properties, to_markdown
from memory.documents import Unreadable
from memory.search import search

TOKEN = {"token": "ntn_fake_secret"}
CHILD = "5d3f1c2a-8b7e-4f60-9a1d-2c3b4e5f6a7b"

# Blocks as GET /v1/blocks/{id}/children gives them, children nested under block[type]["children"].
BLOCKS = [
    block("heading_1", "Deploying"),
    block("paragraph", "Run ", text("make release", code=True), " from ", text("main", bold=True), ", see ",
          text("the runbook", link="https://acme.com/runbook"), " (", text("carefully", italic=True), ", ",
          {"type": "equation", "equation": {"expression": "e=mc^2"}, "plain_text": "e=mc^2", "href": None,
           "annotations": {}}, ")."),
    block("callout", "No deploys on Fridays.", icon={"type": "emoji", "emoji": "⚠️"}),
    block("heading_2", "Steps"),
    block("code", "git checkout main\nmake release", language="shell", caption=[]),
    block("numbered_list_item", "Tag it", children=[block("bulleted_list_item", "with semver")]),
    block("numbered_list_item", "Announce it"),
    block("to_do", "Write notes", checked=True),
    block("to_do", "Tell support", checked=False),
    block("toggle", "Rollback?", children=[block("paragraph", "Revert the tag and redeploy.")]),
    block("quote", "Ship small."),
    block("divider"),
    block("table", table_width=2, has_column_header=True, has_row_header=False, children=[
        {"type": "table_row", "table_row": {"cells": [[text("Env")], [text("URL")]]}},
        {"type": "table_row", "table_row": {"cells": [[text("prod")], [text("acme.com | main")]]}},
    ]),
    {"type": "child_page", "id": CHILD, "child_page": {"title": "On call"}},
    block("bookmark", url="https://status.acme.com", caption=[]),
    block("image", type="external", external={"url": "https://acme.com/flow.png"}, caption=[text("release flow")]),
    block("image", type="file", file={"url": "https://s3.example/secure?X-Amz-Expires=3600"}, caption=[]),
]

MARKDOWN = """# Deploying

Run `make release` from **main**, see [the runbook](https://acme.com/runbook) (*carefully*, `e=mc^2`).

> ⚠️ No deploys on Fridays.

## Steps

```shell
git checkout main
make release
```

1. Tag it
   - with semver
2. Announce it

- [x] Write notes
- [ ] Tell support

Rollback?

Revert the tag and redeploy.

> Ship small.

---

| Env | URL |
| --- | --- |
| prod | acme.com \\| main |

[On call](https://www.notion.so/5d3f1c2a8b7e4f609a1d2c3b4e5f6a7b)

[https://status.acme.com](https://status.acme.com)

![release flow](https://acme.com/flow.png)
"""


def test_blocks_become_markdown_with_headings_code_nested_lists_tables_and_links():
    assert to_markdown(BLOCKS) == MARKDOWN


def test_a_rows_properties_read_as_a_short_list():
    row = {
        "Name": {"id": "title", "type": "title", "title": [text("Restart the queue")]},
        "Owner": {"id": "a", "type": "people", "people": [{"object": "user", "id": "u1", "name": "Ada"}]},
        "Status": {"id": "b", "type": "status", "status": {"id": "s", "name": "Done", "color": "green"}},
        "Tags": {"id": "c", "type": "multi_select", "multi_select": [{"name": "ops"}, {"name": "redis"}]},
        "Due": {"id": "d", "type": "date", "date": {"start": "2025-02-01", "end": None, "time_zone": None}},
        "Effort": {"id": "e", "type": "number", "number": None},
        "Cost": {"id": "f", "type": "formula", "formula": {"type": "number", "number": 3}},
        "Edited": {"id": "g", "type": "last_edited_time", "last_edited_time": "2025-01-06T09:00:00.000Z"},
        "Notes": {"id": "h", "type": "rich_text", "rich_text": [text("Drain first", bold=True)]},
    }
    assert properties(row) == ("- **Owner:** Ada\n- **Status:** Done\n- **Tags:** ops, redis\n"
                               "- **Due:** 2025-02-01\n- **Cost:** 3\n- **Notes:** **Drain first**")


@pytest.fixture
def notion():
    with FakeNotion(page_size=2) as server:
        yield server


def _connector(server, **settings):
    return connectors.build("notion", {"api_url": server.url, **settings}, TOKEN)


def test_everything_shared_is_listed_across_pages_of_results_with_edit_times_as_versions(notion):
    ids = [notion.add_page(f"Page {n}", [block("paragraph", f"Text {n}")]) for n in range(4)]
    notion.edit(ids[2], [block("paragraph", "Text two, edited")])
    gone = notion.add_page("Old", [block("paragraph", "Old")])
    notion.trash(gone)
    listing = _connector(notion).listing({})
    found = {item.title: item for item in listing.items}
    assert sorted(found) == ["Page 0", "Page 1", "Page 2", "Page 3"] and listing.complete
    assert found["Page 0"].version == "2025-01-06T09:00:00.000Z"
    assert found["Page 2"].version == "2025-01-06T09:01:00.000Z"
    assert found["Page 1"].location == f"https://www.notion.so/Page-1-{ids[1].replace('-', '')}"
    searches = notion.requests_to("/v1/search")
    assert len(searches) == 2 and searches[0].headers["notion-version"] == "2026-03-11"
    assert all(notion.read(page) == 0 for page in ids)

    fetched = found["Page 2"].fetch(None)
    assert (fetched.data, fetched.content_type, fetched.title) == (b"Text two, edited\n", "text/markdown", "Page 2")
    assert fetched.metadata == {"page_id": ids[2], "last_edited_time": "2025-01-06T09:01:00.000Z"}


def test_a_page_is_read_whole_through_every_level_and_page_of_its_blocks(notion):
    page = notion.add_page("Deploy", BLOCKS[:10])
    item = _connector(notion).listing({}).items[0]
    expected = MARKDOWN.split("\n> Ship small.")[0].rstrip() + "\n"
    assert item.fetch(None).data.decode() == expected
    # 10 blocks at 2 a request, then the children of the list item and of the toggle
    assert notion.read(page) == 5 and len(notion.requests_to("/v1/blocks/")) == 7


def test_page_trees_and_databases_narrow_the_listing(notion):
    handbook = notion.add_page("Handbook", [block("paragraph", "Welcome")])
    install = notion.add_page("Install", [block("paragraph", "Install it")], parent=handbook)
    notion.add_page("Linux", [block("paragraph", "apt install")], parent=install)
    runbooks = notion.add_database("Runbooks", parent=handbook)
    notion.add_page("Restart", [block("paragraph", "Restart it")], database=runbooks, title_property="Name",
                    properties={"Owner": {"id": "o", "type": "select", "select": {"name": "SRE"}}})
    notion.add_page("Elsewhere", [block("paragraph", "Not in the handbook")])
    decisions = notion.add_database("Decisions")
    notion.add_page("Use Postgres", [block("paragraph", "Because")], database=decisions, title_property="Name")

    tree = _connector(notion, pages=[f"https://www.notion.so/acme/Handbook-{handbook.replace('-', '')}?pvs=4"])
    assert sorted(item.title for item in tree.listing({}).items) == ["Handbook", "Install", "Linux", "Restart"]
    # The parent pages search listed cost nothing; the root (checked) and each database, one request.
    assert [c.path for c in notion.requests_to("/v1/pages/")] == [f"/v1/pages/{handbook}"]
    assert sorted(c.path for c in notion.requests_to("/v1/databases/")) == sorted(
        f"/v1/databases/{database}" for database in (runbooks, decisions))
    restart = next(item for item in tree.listing({}).items if item.title == "Restart")
    assert restart.fetch(None).data == b"- **Owner:** SRE\n\nRestart it\n"

    rows = _connector(notion, databases=decisions.replace("-", ""))
    assert [item.title for item in rows.listing({}).items] == ["Use Postgres"]
    assert notion.requests_to("/v1/search") and rows.location == f"https://www.notion.so/{decisions.replace('-', '')}"
    assert rows.name == "Notion: 1 database"


def test_settings_are_checked_before_anything_is_asked():
    with pytest.raises(SettingsError, match="token"):
        connectors.build("notion", {}, {})
    with pytest.raises(SettingsError, match="pages: 'Handbook' is not a Notion id or link"):
        connectors.build("notion", {"pages": "Handbook"}, TOKEN)
    everything = connectors.build("notion", {}, TOKEN)
    assert (everything.location, everything.name) == ("https://www.notion.so",
                                                      "Notion: everything shared with the integration")


def test_refusals_carry_notions_reason(notion):
    wrong = connectors.build("notion", {"api_url": notion.url}, {"token": "ntn_revoked"})
    with pytest.raises(ConnectorError, match=r"HTTP 401 API token is invalid\."):
        wrong.listing({})
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(ConnectorError, match="HTTP 404 Could not find page with ID: 01234567-89ab.* shared with"):
        _connector(notion, pages=missing).listing({})
    notion.fail_next(notion.error(403), path="/v1/search")
    with pytest.raises(ConnectorError, match="HTTP 403 API token does not have access to this resource"):
        _connector(notion).listing({})


def test_a_page_trashed_since_the_listing_is_skipped_with_notions_reason(notion):
    page = notion.add_page("Short-lived", [block("paragraph", "Soon gone")])
    item = _connector(notion).listing({}).items[0]
    notion.trash(page)
    with pytest.raises(Unreadable, match="HTTP 404 Could not find block"):
        item.fetch(None)


def test_a_rate_limit_is_waited_out(notion):
    notion.add_page("Deploy", [block("paragraph", "Deploy")])
    notion.fail_next(notion.error(429, headers={"Retry-After": "1"}), path="/v1/search")
    connector = _connector(notion)
    assert [item.title for item in connector.listing({}).items] == ["Deploy"]
    assert connector.client.waited == 1.0


def test_a_page_edited_within_the_last_minutes_has_no_version_yet(notion):
    # Notion's edit times are to the minute: a second edit in the same minute would keep the
    # version, so a fresh one is read again next time.
    page = notion.add_page("Fresh", [block("paragraph", "Draft")])
    notion.edit(page, [block("paragraph", "Draft two")], at=datetime.now(UTC))
    assert _connector(notion).listing({}).items[0].version is None


# --- syncs on the real database ---

@pytest.fixture
def source(rt, notion):
    return Synced.add(rt, "notion", _connector(notion), {"api_url": notion.url})


def test_notion_stays_in_sync_edits_alone_reembedded_trashed_pages_removed(rt, notion, source):
    deploy = notion.add_page("Deploy guide", BLOCKS)
    oncall = notion.add_page("On call", [block("paragraph", "The on-call engineer carries the pager for a week.")])
    leave = notion.add_page("Leave", [block("paragraph", "Everyone gets twenty-five days of paid leave.")])
    embedder = CountingEmbedder()
    first = source.sync(_connector(notion), embedder)
    assert (first.added, first.fetched, first.error) == (3, 3, None)
    hit = search(rt.db, embedder, "notion", "what to run to release", k=1)[0]
    assert hit.title == "Deploy guide" and "make release" in hit.text
    assert hit.location == f"https://www.notion.so/Deploy-guide-{deploy.replace('-', '')}"

    embedder.calls = 0
    again = source.sync(_connector(notion), embedder)
    assert (again.unchanged, again.fetched, embedder.calls) == (3, 0, 0)

    notion.edit(oncall, [block("paragraph", "The on-call engineer carries the pager for two weeks now.")])
    notion.trash(leave)
    reads = notion.read(deploy)
    report = source.sync(_connector(notion), embedder)
    assert (report.updated, report.deleted, report.unchanged, report.fetched) == (1, 1, 1, 1)
    assert embedder.calls == 1 and notion.read(deploy) == reads
    row, documents = source.stored()
    assert row["status"] == "ready" and len(documents) == 2
    assert "two weeks" in search(rt.db, embedder, "notion", "how long is an on-call shift", k=1)[0].text


def test_a_revoked_token_marks_the_source_failing_and_keeps_its_knowledge(rt, notion, source):
    notion.add_page("On call", [block("paragraph", "The on-call engineer carries the pager for a week.")])
    embedder = CountingEmbedder()
    source.sync(_connector(notion), embedder)
    revoked = connectors.build("notion", {"api_url": notion.url}, {"token": "ntn_revoked"})
    report = source.sync(revoked, embedder)
    assert report.error.endswith("HTTP 401 API token is invalid.")
    row, documents = source.stored()
    assert row["status"] == "failing" and row["last_error"] == report.error and len(documents) == 1
    assert search(rt.db, embedder, "notion", "who carries the pager", k=1)
