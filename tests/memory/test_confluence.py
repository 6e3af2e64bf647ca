"""The Confluence connector against a fake Confluence Cloud speaking the REST API v2: storage
format to Markdown, a space listed with its versions across pages of results, the service's
refusals as the source's reason, rate limits waited out, and syncs on the real database."""

import pytest
from connector_support import Synced
from fakes.confluence_server import FakeConfluence
from support import CountingEmbedder

from memory import connectors
from memory.connectors import ConnectorError, SettingsError
from memory.connectors.confluence_storage import to_markdown
from memory.documents import Unreadable
from memory.search import search

CREDENTIALS = {"email": "bot@acme.test", "api_token": "atl-api-token"}

# Storage format as the Confluence editor saves it: a code macro with its language, an info
# panel, a link to another page, a task list, a table, a table of contents, an image attachment.
STORAGE = """<h1>Deploying</h1><p>Run <code>make release</code> from <strong>main</strong>, see \
<ac:link><ri:page ri:content-title="On call" /><ac:plain-text-link-body><![CDATA[the on-call page]]>\
</ac:plain-text-link-body></ac:link>.</p>
<ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="maxLevel">2</ac:parameter>\
</ac:structured-macro>
<ac:structured-macro ac:name="warning" ac:schema-version="1" ac:macro-id="a1"><ac:parameter ac:name="title">Freeze\
</ac:parameter><ac:rich-text-body><p>No deploys on Fridays.</p></ac:rich-text-body></ac:structured-macro>
<h2>Steps</h2>
<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter ac:name="language">bash</ac:parameter>\
<ac:plain-text-body><![CDATA[git checkout main
make release VERSION=1.2 && echo "<done>"]]></ac:plain-text-body></ac:structured-macro>
<ol><li>Tag it<ul><li>with <em>semver</em></li></ul></li><li>Announce it</li></ol>
<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Write notes\
</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status>\
<ac:task-body>Tell support</ac:task-body></ac:task></ac:task-list>
<table><tbody><tr><th>Env</th><th>URL</th></tr><tr><td>prod</td><td><a href="https://acme.com">acme.com</a></td></tr>\
</tbody></table>
<p><ac:image ac:alt="release flow"><ri:attachment ri:filename="flow.png" /></ac:image></p>
<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Rollback</ac:parameter><ac:rich-text-body>\
<p>Revert the tag&nbsp;and redeploy.</p></ac:rich-text-body></ac:structured-macro>
<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>Left</p></ac:layout-cell><ac:layout-cell>\
<p>Right</p></ac:layout-cell></ac:layout-section></ac:layout>"""

MARKDOWN = """# Deploying

Run `make release` from **main**, see [the on-call page](https://acme.atlassian.net/wiki/display/ENG/On+call).

> **Warning: Freeze**
>
> No deploys on Fridays.

## Steps

```bash
git checkout main
make release VERSION=1.2 && echo "<done>"
```

1. Tag it
   - with *semver*
2. Announce it

- [x] Write notes
- [ ] Tell support

| Env | URL |
| --- | --- |
| prod | [acme.com](https://acme.com) |

![release flow](https://acme.atlassian.net/wiki/download/attachments/42/flow.png)

**Rollback**

Revert the tag and redeploy.

Left

Right
"""


def test_storage_format_becomes_markdown_with_its_headings_code_lists_and_tables():
    assert to_markdown(STORAGE, wiki="https://acme.atlassian.net/wiki", space="ENG", page_id="42") == MARKDOWN


def test_the_new_editors_nodes_read_as_their_fallback_and_unknown_macros_keep_their_text():
    storage = ('<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note'
               '</ac:adf-attribute><ac:adf-content><p>inner</p></ac:adf-content></ac:adf-node><ac:adf-fallback>'
               '<div class="panel"><p>Backups run nightly.</p></div></ac:adf-fallback></ac:adf-extension>'
               '<ac:structured-macro ac:name="details"><ac:parameter ac:name="id">x</ac:parameter>'
               '<ac:rich-text-body><p>Owner: platform team</p></ac:rich-text-body></ac:structured-macro>'
               '<p>Status <ac:structured-macro ac:name="status"><ac:parameter ac:name="title">DONE</ac:parameter>'
               '</ac:structured-macro> since <time datetime="2024-05-01" /></p>')
    assert to_markdown(storage) == "Backups run nightly.\n\nOwner: platform team\n\nStatus [DONE] since 2024-05-01\n"


@pytest.fixture
def confluence():
    with FakeConfluence(page_size=2) as server:
        server.add_space("ENG", "Engineering")
        server.add_space("HR", "People")
        yield server


def _connector(server, **settings):
    return connectors.build("confluence", {"site": server.url, "space": "ENG", **settings}, CREDENTIALS)


def test_a_space_is_listed_across_pages_of_results_with_each_pages_version_and_no_body(confluence):
    ids = [confluence.add_page("ENG", f"Page {n}", f"<p>Text {n}</p>") for n in range(5)]
    confluence.add_page("HR", "Holidays", "<p>Twenty-five days.</p>")
    confluence.edit(ids[1], "<p>Text one, edited</p>")
    listing = _connector(confluence).listing({})
    assert [(item.title, item.version) for item in listing.items] == [
        ("Page 0", "1"), ("Page 1", "2"), ("Page 2", "1"), ("Page 3", "1"), ("Page 4", "1")]
    assert listing.complete and listing.total == 5
    assert listing.items[0].location == f"{confluence.url}/wiki/spaces/ENG/pages/{ids[0]}/Page+0"
    assert len(confluence.requests_to("/wiki/api/v2/spaces/", "GET")) == 3  # 2 + 2 + 1 pages
    assert all(confluence.fetched(page) == 0 for page in ids)

    fetched = listing.items[1].fetch(None)
    assert (fetched.data, fetched.content_type, fetched.title, fetched.version) == (
        b"Text one, edited\n", "text/markdown", "Page 1", "2")
    assert fetched.metadata == {"page_id": ids[1], "space": "ENG", "version": 2}


def test_a_root_page_narrows_the_listing_to_its_tree(confluence):
    guide = confluence.add_page("ENG", "Guide", "<p>Guide</p>")
    install = confluence.add_page("ENG", "Install", "<p>Install</p>", parent=guide)
    confluence.add_page("ENG", "Linux", "<p>Linux</p>", parent=install)
    confluence.add_page("ENG", "Elsewhere", "<p>Elsewhere</p>")
    connector = _connector(confluence, root=guide)
    assert sorted(item.title for item in connector.listing({}).items) == ["Guide", "Install", "Linux"]
    assert connector.location.endswith(f"/wiki/spaces/ENG/pages/{guide}")
    with pytest.raises(ConnectorError, match="not a current page"):
        _connector(confluence, root="1").listing({})


def test_settings_are_checked_before_anything_is_asked():
    with pytest.raises(SettingsError, match="site"):
        connectors.build("confluence", {"site": "acme", "space": "ENG"}, CREDENTIALS)
    with pytest.raises(SettingsError, match="space"):
        connectors.build("confluence", {"site": "https://acme.atlassian.net"}, CREDENTIALS)
    with pytest.raises(SettingsError, match="api_token"):
        connectors.build("confluence", {"site": "https://acme.atlassian.net", "space": "ENG"}, {"email": "a@b.c"})
    connector = connectors.build("confluence", {"site": "https://acme.atlassian.net/wiki/", "space": "ENG"},
                                 {"token": "oauth"})
    assert (connector.location, connector.name) == ("https://acme.atlassian.net/wiki/spaces/ENG",
                                                    "ENG on acme.atlassian.net")


def test_refusals_carry_confluences_reason(confluence):
    confluence.fail_next(confluence.error(403, title="Forbidden: the account cannot read space ENG"))
    with pytest.raises(ConnectorError, match="HTTP 403 Forbidden: the account cannot read space ENG"):
        _connector(confluence).listing({})
    wrong = connectors.build("confluence", {"site": confluence.url, "space": "ENG"},
                             {"email": "bot@acme.test", "api_token": "revoked"})
    with pytest.raises(ConnectorError, match="HTTP 401 Unauthorized"):
        wrong.listing({})
    with pytest.raises(ConnectorError, match="no space with key NOPE"):
        _connector(confluence, space="NOPE").listing({})


def test_a_page_gone_since_the_listing_is_skipped_with_the_reason(confluence):
    page = confluence.add_page("ENG", "Short-lived", "<p>Soon gone</p>")
    item = _connector(confluence).listing({}).items[0]
    confluence.delete(page)
    with pytest.raises(Unreadable, match="HTTP 404 Not Found"):
        item.fetch(None)


def test_a_rate_limit_is_waited_out(confluence):
    confluence.add_page("ENG", "Deploy", "<p>Deploy</p>")
    confluence.fail_next(confluence.error(429, {"Retry-After": "1"}), path="/wiki/api/v2/spaces/")
    connector = _connector(confluence)
    assert [item.title for item in connector.listing({}).items] == ["Deploy"]
    assert connector.client.waited == 1.0


# --- syncs on the real database ---

@pytest.fixture
def source(rt, confluence):
    return Synced.add(rt, "confluence", _connector(confluence), {"site": confluence.url, "space": "ENG"})


def test_a_space_stays_in_sync_edits_alone_reembedded_deletions_removed(rt, confluence, source):
    deploy = confluence.add_page("ENG", "Deploy guide", STORAGE)
    oncall = confluence.add_page("ENG", "On call", "<p>The on-call engineer carries the pager for a week.</p>")
    leave = confluence.add_page("ENG", "Leave", "<p>Everyone gets twenty-five days of paid leave.</p>")
    embedder = CountingEmbedder()
    first = source.sync(_connector(confluence), embedder)
    assert (first.added, first.fetched, first.error) == (3, 3, None)
    row, documents = source.stored()
    assert row["status"] == "ready" and len(documents) == 3
    hit = search(rt.db, embedder, "confluence", "what to run to release", k=1)[0]
    assert hit.title == "Deploy guide" and "make release" in hit.text
    assert hit.location == f"{confluence.url}/wiki/spaces/ENG/pages/{deploy}/Deploy+guide"

    embedder.calls = embedder.texts = 0
    again = source.sync(_connector(confluence), embedder)
    assert (again.unchanged, again.fetched, embedder.calls) == (3, 0, 0)
    assert confluence.fetched(oncall) == 1

    confluence.edit(oncall, "<p>The on-call engineer carries the pager for two weeks now.</p>")
    confluence.delete(leave)
    report = source.sync(_connector(confluence), embedder)
    assert (report.updated, report.deleted, report.unchanged, report.fetched) == (1, 1, 1, 1)
    assert embedder.calls == 1 and embedder.texts == report.embedded
    assert (confluence.fetched(deploy), confluence.fetched(oncall)) == (1, 2)
    _, documents = source.stored()
    assert len(documents) == 2 and {d["version"] for d in documents.values()} == {"1", "2"}
    assert "two weeks" in search(rt.db, embedder, "confluence", "how long is an on-call shift", k=1)[0].text


def test_a_revoked_token_marks_the_source_failing_and_keeps_its_knowledge(rt, confluence, source):
    confluence.add_page("ENG", "On call", "<p>The on-call engineer carries the pager for a week.</p>")
    embedder = CountingEmbedder()
    source.sync(_connector(confluence), embedder)
    revoked = connectors.build("confluence", {"site": confluence.url, "space": "ENG"},
                               {"email": "bot@acme.test", "api_token": "revoked"})
    report = source.sync(revoked, embedder)
    assert "HTTP 401 Unauthorized" in report.error
    row, documents = source.stored()
    assert row["status"] == "failing" and "HTTP 401 Unauthorized" in row["last_error"] and len(documents) == 1
    assert search(rt.db, embedder, "confluence", "who carries the pager", k=1)
