"""GET /api/tasks/<id>/events: a task's live events as Server-Sent Events, behind the session.
A worker runs the task here, against a fake model that writes its answer a piece at a time."""

import json
import threading
import uuid

import pytest
from fakes import FakeOpenAI

from hub import wiring
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from worker import process

RUNBOOK = "# Rollback\n\nRoll back a release with `make rollback VERSION=previous` and watch the error rate.\n"


@pytest.fixture
def model(monkeypatch):
    with FakeOpenAI(dims=8, token_delay=0.02) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")
        yield server


@pytest.fixture
def runbook(rt, tmp_path):
    (tmp_path / "rollback.md").write_text(RUNBOOK)
    ingest(rt.db, HashEmbedder(), [str(tmp_path / "rollback.md")])


def _events(response) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of each Server-Sent Event, read as the response streams."""
    assert response.status_code == 200, response.get_data(as_text=True)
    found, block = [], ""
    for chunk in response.response:
        block += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in block:
            message, block = block.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in message.splitlines() if ": " in line)
            if "event" in fields:
                found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    response.close()  # as a server does once the stream ends: the live view's slot is free again
    return found


def test_a_running_task_streams_its_steps_and_text_then_its_reply(model, rt, runbook, client):
    # "undo" is not the runbook's word: the hash embedder's score asks the model, which says yes.
    model.reply_with("yes", "Roll back with `make rollback VERSION=previous` [1] and then watch the error rate "
                            "for ten minutes before you call it done.")
    task = client.post("/api/messages", json={"text": "How do I undo a release?"}).get_json()
    stream = client.get(f"/api/tasks/{task['id']}/events", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    events: list = []
    watcher = threading.Thread(target=lambda: events.extend(_events(stream)))
    watcher.start()
    process.run_in_process(wiring.for_worker(rt))  # RQ's worker wants the main thread
    watcher.join(timeout=30)

    kinds = [kind for _, kind, _ in events]
    statuses = [data["status"] for _, kind, data in events if kind == "task"]
    assert statuses[0] == "queued" and statuses[-1] == "posted"
    said = [data["text"] for _, kind, data in events if kind == "status"]
    assert said[0] == "Searching your docs…" and "Writing the answer" in said
    texts = [data["text"] for _, kind, data in events if kind == "text"]
    assert len(texts) >= 3
    # Text was shown before the task was posted, and adds up to what was posted.
    assert kinds.index("text") < len(kinds) - 1 - kinds[::-1].index("task")
    reply = events[-1]
    assert reply[1] == "reply" and reply[2]["status"] == "posted"
    assert "".join(texts) == reply[2]["reply"]["text"]
    assert all(entry_id for entry_id, kind, _ in events if kind in ("status", "text"))


def test_a_client_that_reconnects_resumes_after_the_last_event_it_saw(model, rt, runbook, client):
    task = client.post("/api/messages", json={"text": "How do I undo a release?"}).get_json()
    process.run_in_process(wiring.for_worker(rt))
    everything = _events(client.get(f"/api/tasks/{task['id']}/events", buffered=False))
    seen = [entry_id for entry_id, _, _ in everything if entry_id]
    assert len(seen) >= 3

    resumed = _events(client.get(f"/api/tasks/{task['id']}/events", headers={"Last-Event-ID": seen[1]},
                                 buffered=False))
    assert [entry_id for entry_id, _, _ in resumed if entry_id] == seen[2:]
    assert resumed[-1][1] == "reply"


def test_live_views_are_bounded_per_process_and_a_slot_frees_when_a_view_ends(client, rt):
    task = client.post("/api/messages", json={"text": "hello"}).get_json()  # nobody answers it
    slots = rt.settings.web_threads // 2
    open_views = [client.get(f"/api/tasks/{task['id']}/events", buffered=False) for _ in range(slots)]
    refused = client.get(f"/api/tasks/{task['id']}/events", buffered=False)
    assert refused.status_code == 503 and "too many live task views" in refused.get_json()["error"]
    open_views.pop().close()
    again = client.get(f"/api/tasks/{task['id']}/events", buffered=False)
    assert again.status_code == 200
    for view in [again, *open_views]:
        view.close()


def test_live_events_need_a_session_a_known_task_and_a_real_event_id(client, anonymous_client):
    task = client.post("/api/messages", json={"text": "hello"}).get_json()
    assert anonymous_client.get(f"/api/tasks/{task['id']}/events").status_code == 401
    missing = client.get(f"/api/tasks/{uuid.uuid4()}/events")
    assert missing.status_code == 404 and "no task with id" in missing.get_json()["error"]
    bad = client.get(f"/api/tasks/{task['id']}/events", headers={"Last-Event-ID": "yesterday"})
    assert bad.status_code == 400 and "is not an event id" in bad.get_json()["error"]
