"""GitHub's push webhook through the web app: a delivery signed with the source's secret queues a
sync narrowed to the pushed paths, which then syncs just those; an unsigned or mis-signed one is
a 401 and queues nothing."""

import pytest
from fakes.github_server import FakeGitHub
from rq.job import Job
from support import CountingEmbedder

from core import workspaces
from memory import connectors, credentials, store
from memory.sync import sync

REPO = "acme/handbook"
SECRET = "whsec-handbook"
FILES = {"README.md": "# Handbook\n", "docs/deploy.md": "# Deploy\n\nWith `make release`.\n"}


@pytest.fixture
def github():
    with FakeGitHub(token="ghp_test") as server:
        server.add_repo(REPO, FILES)
        yield server


@pytest.fixture
def source(rt, github):
    """A synced GitHub source of the repository in the "docs" workspace, and one of another
    repository (whose secret the deliveries never match) in "other"."""
    settings = {"repository": REPO, "api_url": github.url}
    secrets = {"token": "ghp_test", "webhook_secret": SECRET}
    space, _ = workspaces.ensure(rt.db, "docs")
    connector = connectors.build("github", settings, secrets)
    with rt.db.workspace(space.id) as conn:
        row = store.add_source(conn, space.id, "github", connector.location, connector.name, settings,
                               credentials.seal(rt.settings, secrets), None)
    other, _ = workspaces.ensure(rt.db, "other")
    with rt.db.workspace(other.id) as conn:
        store.add_source(conn, other.id, "github", f"{github.url}/acme/site", "acme/site",
                         {"repository": "acme/site", "api_url": github.url},
                         credentials.seal(rt.settings, {"token": "ghp_test", "webhook_secret": "other"}), None)
    sync(rt.db, CountingEmbedder(), space, row["id"], connector)
    return space, row["id"]


def queued(rt):
    return [Job.fetch(job_id, connection=rt.queue.redis) for job_id in rt.queue.ingest.job_ids]


def deliver(anonymous_client, body, headers):
    return anonymous_client.post("/webhooks/github", data=body, headers=headers)


def test_a_signed_push_queues_a_sync_of_the_touched_paths_which_syncs_just_those(rt, anonymous_client, github, source):
    space, source_id = source
    before = github.head(REPO)
    after = github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nEvery Tuesday.\n", "docs/new.md": "# New\n",
                                 "README.md": None})
    answer = deliver(anonymous_client, *github.push_event(REPO, before, after, secret=SECRET))
    assert answer.status_code == 202, answer.get_json()
    (job,) = queued(rt)
    assert answer.get_json()["queued"] == [{"source": str(source_id), "job": job.id}]
    assert job.func_name == "worker.sync.sync_source"
    workspace, job_source, changed = job.args
    assert (workspace, job_source) == ("docs", str(source_id))
    assert changed == {"paths": ["docs/new.md", "docs/deploy.md"], "removed": ["README.md"],
                       "before": before, "after": after}

    # What the job runs (worker/sync.py), here in-process: the pushed paths alone are synced.
    with rt.db.workspace(space.id) as conn:
        row = store.source(conn, source_id)
    connector = connectors.build("github", row["options"], credentials.open_sealed(rt.settings, row["credentials"]))
    trees = github.count("GET /repos/{owner}/{repo}/git/trees/{sha}")
    report = sync(rt.db, CountingEmbedder(), space, source_id, connector, changed=changed)
    assert (report.listed, report.added, report.updated, report.deleted) == (2, 1, 1, 1)
    assert github.count("GET /repos/{owner}/{repo}/git/trees/{sha}") == trees + 1


@pytest.mark.parametrize("secret", [None, "wrong-secret", "other"])
def test_an_unsigned_or_mis_signed_push_is_refused_and_queues_nothing(rt, anonymous_client, github, source, secret):
    before = github.head(REPO)
    after = github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nForged.\n"})
    answer = deliver(anonymous_client, *github.push_event(REPO, before, after, secret=secret))
    assert answer.status_code == 401
    assert "X-Hub-Signature-256" in answer.get_json()["error"]
    assert queued(rt) == []


def test_a_signature_over_other_bytes_is_refused(rt, anonymous_client, github, source):
    before = github.head(REPO)
    after = github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nForged.\n"})
    body, headers = github.push_event(REPO, before, after, secret=SECRET)
    assert deliver(anonymous_client, body.replace(b"Update files", b"Update filez"), headers).status_code == 401
    assert queued(rt) == []


def test_a_ping_is_answered_and_a_push_to_another_branch_or_another_event_ignored(rt, anonymous_client, github, source):
    ping = b'{"zen": "Keep it logically awesome.", "repository": {"full_name": "acme/handbook"}}'
    answer = deliver(anonymous_client, ping, FakeGitHub.delivery_headers("ping", ping, SECRET))
    assert answer.status_code == 200 and answer.get_json()["ok"] is True

    before = github.head(REPO)
    after = github.commit(REPO, {"docs/wip.md": "# WIP\n"}, branch="feature")
    answer = deliver(anonymous_client, *github.push_event(REPO, before, after, secret=SECRET, branch="feature"))
    assert answer.status_code == 200
    assert "refs/heads/feature is not the synced branch main" in answer.get_json()["ignored"][0]["reason"]

    issues = b'{"action": "opened", "repository": {"full_name": "acme/handbook"}}'
    answer = deliver(anonymous_client, issues, FakeGitHub.delivery_headers("issues", issues, SECRET))
    assert answer.status_code == 200 and "only push deliveries" in answer.get_json()["ignored"]
    assert queued(rt) == []


def test_a_body_that_is_not_json_is_a_clear_400(anonymous_client, source):
    body = b"payload=%7B%7D"
    answer = deliver(anonymous_client, body, {**FakeGitHub.delivery_headers("push", body, SECRET),
                                              "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and "application/json" in answer.get_json()["error"]
