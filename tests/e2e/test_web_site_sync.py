"""A web site connected through the API and synced by a real worker from the fake site; a
second sync of the unchanged site costs 304s and no embedding."""

from fakes.web_site import FakeSite
from support import wait_for


def _finished(client, url):
    job = client.get(url).get_json()
    return job if job["status"] in ("finished", "failed") else None


def test_a_web_site_syncs_on_a_worker_and_an_unchanged_resync_costs_304s(hash_embeddings, client, processes):
    with FakeSite(robots="User-agent: *\nDisallow: /docs/drafts/\n") as site:
        site.put("/docs/", '<h1>Handbook</h1><a href="oncall.html">On call</a> <a href="drafts/x.html">x</a>')
        site.put("/docs/oncall.html", "<h1>On call</h1><p>The on-call engineer carries the pager for a week.</p>")
        refused = client.post("/api/knowledge/sources", json={"kind": "web", "settings": {"url": "docs.acme.test"}})
        assert refused.status_code == 400 and refused.get_json()["error"].startswith("url: a sitemap")

        processes.worker(MORNINGAI_EMBEDDINGS="hash")
        started = client.post("/api/knowledge/sources", json={
            "kind": "web", "settings": {"url": f"{site.url}/docs/", "depth": 1}, "schedule_minutes": 60})
        assert started.status_code == 202, started.get_json()
        first = wait_for(lambda: _finished(client, started.get_json()["url"]), what="the first sync")
        assert first["status"] == "finished" and first["result"]["added"] == 2, first
        assert first["result"]["skipped"] == [{"location": f"{site.url}/docs/drafts/x.html",
                                               "reason": "disallowed by robots.txt"}]
        hits = client.get("/api/knowledge/search?q=who+carries+the+pager").get_json()["hits"]
        assert hits[0]["location"] == f"{site.url}/docs/oncall.html"

        source_id = started.get_json()["source"]["id"]
        again = client.post(f"/api/knowledge/sources/{source_id}/sync")
        assert again.status_code == 202, again.get_json()
        second = wait_for(lambda: _finished(client, again.get_json()["url"]), what="the second sync")
        assert (second["result"]["unchanged"], second["result"]["embedded"]) == (2, 0), second
        assert site.count(status=304) == 2
