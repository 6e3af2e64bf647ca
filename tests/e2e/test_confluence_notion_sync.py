"""A Confluence space and Notion pages connected through the API as the dashboard does, synced
by a real worker from the fakes, kept current by "Sync now", and a revoked token shown as the
source's problem while its knowledge still answers."""

from fakes.confluence_server import FakeConfluence
from fakes.notion_server import FakeNotion, block
from support import wait_for


def _finished(client, url):
    job = client.get(url).get_json()
    return job if job["status"] in ("finished", "failed") else None


def _synced(client, response):
    assert response.status_code == 202, response.get_json()
    job = wait_for(lambda: _finished(client, response.get_json()["url"]), what="a sync")
    assert job["status"] == "finished", job
    return job["result"]


def _source(client, source_id):
    return next(s for s in client.get("/api/knowledge/sources").get_json()["sources"] if s["id"] == source_id)


def test_a_confluence_space_and_notion_pages_stay_in_sync_on_a_worker(hash_embeddings, client, processes):
    with FakeConfluence() as confluence, FakeNotion() as notion:
        confluence.add_space("ENG")
        deploy = confluence.add_page("ENG", "Deploy", "<h1>Deploy</h1><p>Deploys go out with <code>make release</code>.</p>")
        leave = confluence.add_page("ENG", "Leave", "<p>Twenty-five days of paid leave.</p>")
        handbook = notion.add_page("Handbook", [block("heading_2", "On call"),
                                                block("paragraph", "The on-call engineer carries the pager for a week.")])
        processes.worker(MORNINGAI_EMBEDDINGS="hash")

        credentials = {"email": "bot@acme.test", "api_token": "atl-api-token"}
        added = client.post("/api/knowledge/sources", json={
            "kind": "confluence", "settings": {"site": confluence.url, "space": "ENG"},
            "credentials": credentials, "schedule_minutes": 60})
        source_id = added.get_json()["source"]["id"]
        assert _synced(client, added)["added"] == 2

        confluence.edit(deploy, "<h1>Deploy</h1><p>Deploys now go out every Tuesday.</p>")
        confluence.delete(leave)
        again = _synced(client, client.post(f"/api/knowledge/sources/{source_id}/sync"))
        assert (again["updated"], again["deleted"], again["fetched"]) == (1, 1, 1)
        hits = client.get("/api/knowledge/search?q=when+do+deploys+go+out").get_json()["hits"]
        assert "Tuesday" in hits[0]["text"] and hits[0]["location"].startswith(f"{confluence.url}/wiki/spaces/ENG/")

        confluence.fail_next(confluence.error(401))
        _synced(client, client.post(f"/api/knowledge/sources/{source_id}/sync"))
        shown = _source(client, source_id)
        assert shown["status"] == "failing" and "HTTP 401 Unauthorized" in shown["last_error"]
        assert shown["documents"] == 1 and "credentials" not in shown

        added = client.post("/api/knowledge/sources", json={
            "kind": "notion", "settings": {"api_url": notion.url, "pages": [handbook]},
            "credentials": {"token": "ntn_fake_secret"}})
        assert _synced(client, added)["added"] == 1
        hits = client.get("/api/knowledge/search?q=who+carries+the+pager").get_json()["hits"]
        assert hits[0]["location"] == f"https://www.notion.so/Handbook-{handbook.replace('-', '')}"


def test_malformed_settings_are_refused_with_the_field_named(client):
    refused = client.post("/api/knowledge/sources", json={
        "kind": "confluence", "settings": {"site": "https://acme.atlassian.net"}, "credentials": {"token": "t"}})
    assert refused.status_code == 400 and refused.get_json()["error"].startswith("space:")
    refused = client.post("/api/knowledge/sources", json={
        "kind": "notion", "settings": {"databases": ["Runbooks"]}, "credentials": {"token": "t"}})
    assert refused.status_code == 400 and "databases: 'Runbooks' is not a Notion id or link" in refused.get_json()["error"]
