"""Knowledge added through the API and ingested by a real worker process."""

import io

from support import wait_for


def _finished(client, url):
    job = client.get(url).get_json()
    return job if job["status"] in ("finished", "failed") else None


def test_a_folder_is_ingested_by_a_worker_and_searchable(hash_embeddings, client, processes, handbook):
    processes.worker(MORNINGAI_EMBEDDINGS="hash")
    started = client.post("/api/knowledge/sources", json={"location": str(handbook), "exclude": ["laptops.md"]})
    assert started.status_code == 202
    job = wait_for(lambda: _finished(client, started.get_json()["url"]), what="the ingest job")
    assert job["status"] == "finished", job
    assert job["progress"]["files_done"] == job["progress"]["files_total"] == 1
    assert "1 added" in job["result"]["summary"]

    sources = client.get("/api/knowledge/sources").get_json()
    assert sources["embedder"] == "hash-v1"
    (source,) = sources["sources"]
    assert (source["kind"], source["status"], source["documents"], source["location"], source["name"]) == \
        ("folder", "ready", 1, str(handbook), handbook.name)

    hits = client.get("/api/knowledge/search?q=dinner+limit").get_json()["hits"]
    assert hits[0]["location"] == "expenses.md" and "60 euros" in hits[0]["text"]

    (handbook / "expenses.md").write_text("# Expenses\n\nThe limit for a team dinner is now 80 euros.\n")
    again = client.post(f"/api/knowledge/sources/{source['id']}/reingest")
    assert wait_for(lambda: _finished(client, again.get_json()["url"]))["result"]["updated"] == 1
    assert "80 euros" in client.get("/api/knowledge/search?q=dinner").get_json()["hits"][0]["text"]

    assert client.delete(f"/api/knowledge/sources/{source['id']}").status_code == 204
    assert client.get("/api/knowledge/search?q=dinner").get_json()["hits"] == []
    assert client.delete(f"/api/knowledge/sources/{source['id']}").status_code == 404


def test_an_uploaded_file_becomes_knowledge(hash_embeddings, client, processes):
    processes.worker(MORNINGAI_EMBEDDINGS="hash")
    upload = {"file": (io.BytesIO(b"# VPN\n\nConnect with WireGuard; the config is in the wiki.\n"), "vpn.md"),
              "workspace": "it"}
    started = client.post("/api/knowledge/sources", data=upload, content_type="multipart/form-data")
    assert started.status_code == 202
    assert wait_for(lambda: _finished(client, started.get_json()["url"]))["status"] == "finished"
    hits = client.get("/api/knowledge/search?q=wireguard&workspace=it").get_json()["hits"]
    assert hits[0]["location"] == "vpn.md"
    # Named as the person who uploaded it knows it, not by the hub's path to its copy.
    (source,) = client.get("/api/knowledge/sources?workspace=it").get_json()["sources"]
    assert source["name"] == "vpn.md" and source["location"].endswith("/uploads/it/vpn.md")
