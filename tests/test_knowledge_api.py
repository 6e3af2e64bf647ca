"""The knowledge API: sources added, ingested by a real worker, searched, re-ingested, deleted."""

import io
from pathlib import Path

import pytest
from support import wait_for


@pytest.fixture
def hash_embeddings(monkeypatch):
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")


@pytest.fixture
def handbook(tmp_path):
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "expenses.md").write_text("# Expenses\n\nSubmit receipts in the finance tool within "
                                        "thirty days; the limit for a team dinner is 60 euros a head.\n")
    (folder / "laptops.md").write_text("# Laptops\n\nNew laptops are ordered through the IT desk and "
                                       "arrive in five working days.\n")
    return folder


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
    assert (source["kind"], source["status"], source["documents"], source["location"]) == \
        ("folder", "ready", 1, str(handbook))

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


def test_an_upload_to_a_bad_workspace_name_writes_nothing(hash_embeddings, client, hub_env):
    home = Path(hub_env["MORNINGAI_HOME"])
    for workspace in ("../escaped", "Bad!"):
        upload = {"file": (io.BytesIO(b"# VPN\n"), "vpn.md"), "workspace": workspace}
        refused = client.post("/api/knowledge/sources", data=upload, content_type="multipart/form-data")
        assert refused.status_code == 400 and "not a valid name" in refused.get_json()["error"]
    assert not list(home.parent.rglob("vpn.md"))


@pytest.mark.parametrize(("method", "url", "body", "status", "complaint"), [
    ("get", "/api/knowledge/search", None, 400, "q: give a search query"),
    ("get", "/api/knowledge/search?q=x&k=0", None, 400, "k: must be between 1 and 50"),
    ("get", "/api/knowledge/search?q=x&k=many", None, 400, "k: must be a whole number"),
    ("get", "/api/knowledge/search?q=x&workspace=nope", None, 404, "no workspace named 'nope'"),
    ("get", "/api/knowledge/sources?workspace=nope", None, 404, "no workspace named 'nope'"),
    ("post", "/api/knowledge/sources", {"path": "/tmp"}, 400, 'send {"location"'),
    ("post", "/api/knowledge/sources", {"location": "/does/not/exist"}, 400, "does not exist"),
    ("post", "/api/knowledge/sources", {"location": "/tmp", "include": "*.md"}, 400, "lists of glob patterns"),
    ("post", "/api/knowledge/sources", {"location": "/tmp", "workspace": "Bad!"}, 400, "not a valid name"),
    ("get", "/api/knowledge/jobs/nope", None, 404, "no ingest job nope"),
])
def test_bad_requests_get_json_errors(hash_embeddings, client, method, url, body, status, complaint):
    response = getattr(client, method)(url, json=body)
    assert response.status_code == status
    assert complaint in response.get_json()["error"]
