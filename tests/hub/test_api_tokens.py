"""API tokens for MCP clients through the admin API: shown once, kept as a hash, listed without
it, scoped to a workspace, revocable; only admins make and revoke them."""

import hashlib
import uuid

import pytest
from conftest import log_in

from hub.admin import tokens


def test_a_token_is_shown_once_and_kept_only_as_its_hash(client, owner):
    made = client.post("/api/tokens", json={"name": " Claude Code, Ana's laptop ", "workspace": "default"})
    assert made.status_code == 201
    body = made.get_json()
    token = body.pop("token")
    assert token.startswith("mai_") and len(token) > 40
    assert body["name"] == "Claude Code, Ana's laptop" and body["workspace"] == "default"
    assert body["prefix"] == token[:10] and body["created_by"] == "admin@example.com"
    assert body["last_used_at"] is None and body["revoked_at"] is None

    stored = owner.execute("SELECT hash, prefix FROM api_tokens").fetchone()
    assert stored == (hashlib.sha256(token.encode()).hexdigest(), token[:10])
    listed = client.get("/api/tokens").get_json()["tokens"]
    assert listed == [body] and token not in str(listed)


def test_authenticating_notes_the_use_at_most_once_a_minute(client, rt, owner):
    token = client.post("/api/tokens", json={"name": "cursor"}).get_json()["token"]
    found = tokens.authenticate(rt.db, token)
    assert found.workspace == "default" and found.name == "cursor"
    first = owner.execute("SELECT last_used_at FROM api_tokens").fetchone()[0]
    assert first is not None
    tokens.authenticate(rt.db, token)
    assert owner.execute("SELECT last_used_at FROM api_tokens").fetchone()[0] == first
    assert tokens.authenticate(rt.db, token[:-1]) is None
    assert tokens.authenticate(rt.db, "not-ours") is None


def test_tokens_are_listed_by_workspace_newest_first(client):
    client.post("/api/workspaces", json={"name": "ops"})
    for name, workspace in [("one", "default"), ("two", "ops"), ("three", "default")]:
        assert client.post("/api/tokens", json={"name": name, "workspace": workspace}).status_code == 201
    assert [t["name"] for t in client.get("/api/tokens").get_json()["tokens"]] == ["three", "two", "one"]
    assert [t["name"] for t in client.get("/api/tokens?workspace=default").get_json()["tokens"]] == ["three", "one"]


def test_a_revoked_token_is_refused_and_stays_listed(client, rt):
    made = client.post("/api/tokens", json={"name": "old laptop"}).get_json()
    revoked = client.delete(f"/api/tokens/{made['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert tokens.authenticate(rt.db, made["token"]) is None
    [listed] = client.get("/api/tokens").get_json()["tokens"]
    assert listed["revoked_at"] == revoked.get_json()["revoked_at"]

    again = client.delete(f"/api/tokens/{made['id']}")
    assert again.status_code == 409 and "was already revoked" in again.get_json()["error"]
    missing = client.delete(f"/api/tokens/{uuid.uuid4()}")
    assert missing.status_code == 404 and "no token with id" in missing.get_json()["error"]


@pytest.mark.parametrize(("body", "complaint"), [
    ({"workspace": "default"}, "name: say who or what will use the token"),
    ({"name": "  "}, "name: say who or what will use the token"),
    ({"name": 7}, "name: say who or what will use the token"),
    ({"name": "x" * 81}, "name: at most 80 characters"),
    ({"name": "bot", "workspace": "nowhere"}, "workspace: no workspace named 'nowhere'"),
    ({"name": "bot", "workspace": ["default"]}, "workspace: no workspace named ['default']"),
    (["bot"], 'send JSON {"name"'),
])
def test_bad_token_requests_are_400(client, body, complaint):
    response = client.post("/api/tokens", json=body)
    assert response.status_code == 400 and complaint in response.get_json()["error"]


def test_viewers_see_tokens_but_cannot_make_or_revoke_them(app, client):
    made = client.post("/api/tokens", json={"name": "bot"}).get_json()
    viewer = log_in(app, "viewer@example.com", role="viewer")
    assert [t["id"] for t in viewer.get("/api/tokens").get_json()["tokens"]] == [made["id"]]
    assert viewer.post("/api/tokens", json={"name": "mine"}).status_code == 403
    assert viewer.delete(f"/api/tokens/{made['id']}").status_code == 403
    assert app.test_client().get("/api/tokens").status_code == 401
