"""A GitHub repository connected through the API, synced by a real worker from the fake GitHub,
and kept current by a signed push webhook."""

from fakes.github_server import FakeGitHub
from support import wait_for

REPO = "acme/handbook"
SECRET = "whsec-e2e"
BLOB = "GET /repos/{owner}/{repo}/git/blobs/{sha}"


def _finished(client, url):
    job = client.get(url).get_json()
    return job if job["status"] in ("finished", "failed") else None


def test_a_repository_syncs_on_a_worker_and_a_signed_push_syncs_just_its_files(
        hash_embeddings, client, anonymous_client, processes):
    with FakeGitHub(token="ghp_e2e") as github:
        github.add_repo(REPO, {"README.md": "# Handbook\n",
                               "docs/deploy.md": "# Deploy\n\nDeploys go out with `make release`.\n",
                               "docs/holidays.md": "# Holidays\n\nTwenty-five days of paid leave.\n"})
        processes.worker(MORNINGAI_EMBEDDINGS="hash")
        started = client.post("/api/knowledge/sources", json={
            "kind": "github", "settings": {"repository": REPO, "api_url": github.url, "discussions": False},
            "credentials": {"token": "ghp_e2e", "webhook_secret": SECRET}})
        assert started.status_code == 202, started.get_json()
        first = wait_for(lambda: _finished(client, started.get_json()["url"]), what="the first sync")
        assert first["status"] == "finished" and first["result"]["added"] == 3, first

        before = github.head(REPO)
        after = github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nDeploys go out every Tuesday.\n",
                                     "docs/holidays.md": None})
        blobs = github.count(BLOB)
        body, headers = github.push_event(REPO, before, after, secret=SECRET)
        pushed = anonymous_client.post("/webhooks/github", data=body, headers=headers)
        assert pushed.status_code == 202, pushed.get_json()
        (queued,) = pushed.get_json()["queued"]
        job = wait_for(lambda: _finished(client, f"/api/knowledge/jobs/{queued['job']}"), what="the push's sync")
        assert job["status"] == "finished", job
        assert (job["result"]["listed"], job["result"]["updated"], job["result"]["deleted"]) == (1, 1, 1)
        assert github.count(BLOB) - blobs == 1
        hits = client.get("/api/knowledge/search?q=when+do+deploys+go+out").get_json()["hits"]
        assert "Tuesday" in hits[0]["text"]
        assert hits[0]["location"] == f"{github.url}/{REPO}/blob/main/docs/deploy.md"
