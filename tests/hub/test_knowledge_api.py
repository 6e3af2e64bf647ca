"""The knowledge API: sources added, ingested by a real worker, searched, re-ingested, deleted."""

import io
from pathlib import Path

import pytest


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


def test_sources_say_which_embedder_the_hub_takes_and_why(hash_embeddings, client):
    listed = client.get("/api/knowledge/sources").get_json()
    assert listed["hub_embedder"] == {"kind": "hash", "reason": "MORNINGAI_EMBEDDINGS=hash is set"}
