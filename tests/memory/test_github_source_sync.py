"""A GitHub repository synced into the real database through the fake GitHub: the first sync,
a re-sync that embeds only the changed file, a deleted file removed, a push's paths alone, and
GitHub's refusal marking the source failing while its knowledge stays searchable."""

import pytest
from fakes.github_server import FakeGitHub
from support import CountingEmbedder

from core import workspaces
from memory import connectors, store
from memory.search import search
from memory.sync import sync

REPO = "acme/handbook"
BLOB = "GET /repos/{owner}/{repo}/git/blobs/{sha}"
FILES = {
    "README.md": "# Handbook\n\nHow the Acme team works.\n",
    "docs/deploy.md": "# Deploy\n\nDeploys go out from the main branch with `make release`.\n",
    "docs/holidays.md": "# Holidays\n\nEveryone gets twenty-five days of paid leave a year.\n",
}


@pytest.fixture
def github():
    with FakeGitHub(token="ghp_test") as server:
        server.add_repo(REPO, FILES)
        server.add_issue(REPO, "Login fails behind the proxy", "SSO returns 502.", state="closed",
                         comments=["Set PROXY_TIMEOUT to 60 seconds; fixed."])
        server.add_discussion(REPO, "Where do release notes go?", "Asking for the team.",
                              comments=["In docs/releases, one file per version."], answer=0)
        yield server


@pytest.fixture
def source(rt, github):
    space, _ = workspaces.ensure(rt.db, "gh")
    connector = connect(github)
    with rt.db.workspace(space.id) as conn:
        row = store.add_source(conn, space.id, "github", connector.location, connector.name,
                               {"repository": REPO, "api_url": github.url}, None, None)
    return space, row["id"]


def connect(github, token="ghp_test"):
    return connectors.build("github", {"repository": REPO, "api_url": github.url}, {"token": token})


def run(rt, space, source_id, connector, embedder, **kwargs):
    return sync(rt.db, embedder, workspaces.get(rt.db, space.name), source_id, connector, **kwargs)


def stored(rt, space, source_id):
    with rt.db.workspace(space.id) as conn:
        return store.source(conn, source_id), store.document_versions(conn, source_id)


def test_a_first_sync_stores_files_issues_and_discussions_and_a_resync_embeds_only_the_changed_file(rt, github, source):
    space, source_id = source
    embedder = CountingEmbedder()
    first = run(rt, space, source_id, connect(github), embedder)
    assert (first.added, first.error, first.skipped) == (5, None, [])
    row, documents = stored(rt, space, source_id)
    assert row["status"] == "ready" and row["cursor"]["commit"] == github.head(REPO)
    assert documents[f"{github.url}/{REPO}/blob/main/docs/deploy.md"]["version"] == github.repos[REPO].commits[
        github.head(REPO)].files["docs/deploy.md"]
    assert "PROXY_TIMEOUT" in search(rt.db, embedder, "gh", "login fails behind the proxy", k=1)[0].text
    assert "docs/releases" in search(rt.db, embedder, "gh", "where do release notes go", k=1)[0].text

    github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nDeploys now go out every Tuesday with `make ship`.\n",
                         "docs/holidays.md": None})
    fetched_before, embedder.texts = github.count(BLOB), 0
    again = run(rt, space, source_id, connect(github), embedder)
    assert (again.updated, again.deleted, again.added, again.unchanged) == (1, 1, 0, 3)
    assert github.count(BLOB) - fetched_before == 1  # the changed file alone was fetched
    assert 0 < embedder.texts == again.embedded
    _, documents = stored(rt, space, source_id)
    assert f"{github.url}/{REPO}/blob/main/docs/holidays.md" not in documents
    assert "Tuesday" in search(rt.db, embedder, "gh", "when do deploys go out", k=1)[0].text

    embedder.calls = 0
    quiet = run(rt, space, source_id, connect(github), embedder)
    assert (quiet.fetched, quiet.deleted, embedder.calls) == (0, 0, 0)


def test_a_push_syncs_just_its_paths(rt, github, source):
    space, source_id = source
    embedder = CountingEmbedder()
    run(rt, space, source_id, connect(github), embedder)
    before = github.head(REPO)
    after = github.commit(REPO, {"docs/oncall.md": "# On call\n\nThe pager rotates weekly.\n", "README.md": None})
    report = run(rt, space, source_id, connect(github), embedder,
                 changed={"paths": ["docs/oncall.md"], "removed": ["README.md"], "before": before, "after": after})
    assert (report.listed, report.added, report.deleted) == (1, 1, 1)
    row, documents = stored(rt, space, source_id)
    assert len(documents) == 5 and row["cursor"]["commit"] == after


def test_a_refused_token_marks_the_source_failing_with_githubs_reason_and_keeps_the_knowledge(rt, github, source):
    space, source_id = source
    embedder = CountingEmbedder()
    run(rt, space, source_id, connect(github), embedder)
    github.commit(REPO, {"docs/deploy.md": None})
    report = run(rt, space, source_id, connect(github, token="ghp_revoked"), embedder)
    assert "401 Bad credentials" in report.error
    row, documents = stored(rt, space, source_id)
    assert row["status"] == "failing" and "Bad credentials" in row["last_error"]
    assert len(documents) == 5  # nothing deleted: the listing never happened
    assert "make release" in search(rt.db, embedder, "gh", "how do deploys go out", k=1)[0].text

    github.fail_next("GET /repos/{owner}/{repo}", 404, "Not Found")
    assert "404 Not Found" in run(rt, space, source_id, connect(github), embedder).error
    assert len(stored(rt, space, source_id)[1]) == 5
