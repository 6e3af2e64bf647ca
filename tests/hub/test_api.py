"""The web platform's API: POST /api/messages and GET /api/tasks/<id>."""

import uuid

import pytest


def _count(owner) -> int:
    return owner.execute("SELECT count(*) FROM tasks").fetchone()[0]


def test_a_message_is_accepted_with_202_and_its_task_can_be_read(client, owner):
    response = client.post("/api/messages", json={"text": "Where is the runbook?", "thread": "th-9"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and response.headers["Location"] == body["url"]

    task = client.get(body["url"]).get_json()
    assert (task["id"], task["status"], task["kind"], task["workspace"], task["thread"]) == \
        (body["id"], "queued", "ask", "default", "th-9")
    assert task["reply"] is None
    assert _count(owner) == 1


def test_the_same_idempotency_key_finds_the_same_task(client, owner):
    headers = {"Idempotency-Key": "retry-me"}
    first = client.post("/api/messages", json={"text": "hi"}, headers=headers)
    second = client.post("/api/messages", json={"text": "hi"}, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _count(owner) == 1


@pytest.mark.parametrize(("body", "content_type", "status", "complaint"), [
    (b"not json", "application/json", 400, "send a JSON object"),
    (b"text=hi", "application/x-www-form-urlencoded", 400, "send a JSON object"),
    (b'["a list"]', "application/json", 400, "send a JSON object"),
    (b'{"text": 42}', "application/json", 400, "text: Input should be a valid string"),
    (b'{"text": "hi", "thread": 7}', "application/json", 400, "thread: Input should be a valid string"),
    (b'{}', "application/json", 400, "text: Field required"),
    (b'{"text": "   "}', "application/json", 400, "text: must not be empty"),
    (b'{"text": "hi", "kind": "poem"}', "application/json", 400, "kind: Input should be 'ask'"),
    (b'{"text": "hi", "colour": "red"}', "application/json", 400, "colour: Extra inputs are not permitted"),
    (b'{"text": "hi", "workspace": "elsewhere"}', "application/json", 400, "no workspace named 'elsewhere'"),
    (b'{"text": "' + b"x" * 20_001 + b'"}', "application/json", 400, "longer than the 20000 allowed"),
    (b'{"text": "' + b"x" * 1_000_000 + b'"}', "application/json", 413, "at most 20000 characters"),
])
def test_bad_input_gets_a_json_error_and_nothing_is_stored(client, owner, body, content_type, status, complaint):
    response = client.post("/api/messages", data=body, content_type=content_type)
    assert response.status_code == status
    assert complaint in response.get_json()["error"]
    assert _count(owner) == 0


def test_unknown_tasks_and_routes_answer_json_404(client):
    missing = client.get(f"/api/tasks/{uuid.uuid4()}")
    assert missing.status_code == 404 and "no task with id" in missing.get_json()["error"]
    assert client.get("/api/nothing-here").get_json()["error"]
    assert client.get("/api/messages").status_code == 405
