"""The admin API beyond login: tasks with traces and retries, health, failed jobs, analytics,
workspaces, integrations, settings, the OpenAPI document and the dashboard's files."""

import gzip
import uuid

import brotli
import pytest

from hub import wiring
from hub.admin import settings as admin_settings
from hub.web import openapi
from hub.web.app import create_app
from tasks import lifecycle
from worker import process


@pytest.fixture
def hash_embeddings(monkeypatch):
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")


def _ask(client, text: str, **extra) -> str:
    response = client.post("/api/messages", json={"text": text, **extra})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def test_tasks_are_listed_filtered_and_shown_with_their_trace(rt, client):
    first = _ask(client, "How do we deploy?")
    _ask(client, "write a function that adds two numbers", kind="code")
    process.run_in_process(wiring.for_worker(rt))

    listed = client.get("/api/tasks").get_json()
    assert listed["total"] == 2 and [t["status"] for t in listed["tasks"]] == ["posted", "posted"]
    assert listed["tasks"][1]["id"] == first and listed["tasks"][1]["seconds"] > 0
    assert [t["kind"] for t in client.get("/api/tasks?kind=code").get_json()["tasks"]] == ["code"]
    assert client.get("/api/tasks?q=DEPLOY").get_json()["total"] == 1
    assert client.get("/api/tasks?q=100%25").get_json()["total"] == 0  # % is a character, not a wildcard
    assert client.get("/api/tasks?status=failed&platform=web").get_json() == {"total": 0, "tasks": []}
    assert client.get("/api/tasks?limit=1&offset=1").get_json()["tasks"][0]["id"] == first

    task = client.get(f"/api/tasks/{first}").get_json()
    assert task["reply"]["text"] and task["tokens"] == {"prompt": 0, "completion": 0}
    nodes = [step["node"] for step in task["steps"]]
    assert nodes[:2] == ["route", "retrieve"] and all(step["ms"] >= 0 for step in task["steps"])


@pytest.mark.parametrize(("query", "complaint"), [
    ("status=lost", "status: 'lost' is not one of received"),
    ("platform=irc", "platform: 'irc' is not one of slack"),
    ("limit=0", "limit: must be between 1 and 200"),
    ("offset=x", "offset: must be a whole number"),
])
def test_bad_task_filters_are_400(client, query, complaint):
    response = client.get(f"/api/tasks?{query}")
    assert response.status_code == 400 and complaint in response.get_json()["error"]


def test_a_failed_task_is_retried_and_answered(rt, client):
    task_id = _ask(client, "hello there")
    assert lifecycle.mark_failed(rt.db, uuid.UUID(task_id), "RuntimeError: model went away", from_status="queued")
    failed = client.get("/api/tasks?status=failed").get_json()["tasks"]
    assert [t["error"] for t in failed] == ["RuntimeError: model went away"]

    retried = client.post(f"/api/tasks/{task_id}/retry")
    assert retried.status_code == 202 and retried.get_json()["status"] == "queued"
    process.run_in_process(wiring.for_worker(rt))
    task = client.get(f"/api/tasks/{task_id}").get_json()
    assert (task["status"], task["attempts"], task["error"]) == ("posted", 1, None)
    assert client.post(f"/api/tasks/{task_id}/retry").status_code == 409
    assert client.post(f"/api/tasks/{uuid.uuid4()}/retry").status_code == 404


def test_a_failed_ingest_job_is_listed_and_requeued(hash_embeddings, rt, client, tmp_path):
    doomed = tmp_path / "doomed.md"
    doomed.write_text("# Soon gone\n")
    started = client.post("/api/knowledge/sources", json={"location": str(doomed)}).get_json()
    doomed.unlink()  # gone before the worker gets to it
    process.run_in_process(wiring.for_worker(rt))
    (job,) = client.get("/api/queue/failed").get_json()["jobs"]
    assert job["id"] == started["job"] and job["function"] == "worker.jobs.ingest_sources"
    assert "no such file" in job["error"]
    assert client.post(f"/api/queue/failed/{job['id']}/requeue").status_code == 202
    assert client.get("/api/queue/failed").get_json()["jobs"] == []
    assert client.post("/api/queue/failed/nope/requeue").status_code == 404


def test_analytics_count_tasks_per_hour_and_top_questions(rt, client):
    for text in ("How do we deploy?", "how do  we deploy?", "Where is the VPN config?"):
        _ask(client, text)
    process.run_in_process(wiring.for_worker(rt))
    body = client.get("/api/analytics?hours=6").get_json()
    assert len(body["per_hour"]) == 6 and sum(hour["web"] for hour in body["per_hour"]) == 3
    assert body["totals"]["posted"] == 3 and body["totals"]["p95_seconds"] >= body["totals"]["p50_seconds"] > 0
    assert body["top_questions"][0]["count"] == 2 and body["top_questions"][0]["text"].lower().startswith("how do")
    assert client.get("/api/analytics?hours=0").status_code == 400


def test_workspaces_are_listed_and_created(client):
    assert client.post("/api/workspaces", json={"name": "support"}).status_code == 201
    assert client.post("/api/workspaces", json={"name": "support"}).status_code == 409
    assert "name: workspace name 'Bad!'" in client.post("/api/workspaces", json={"name": "Bad!"}).get_json()["error"]
    names = [w["name"] for w in client.get("/api/workspaces").get_json()["workspaces"]]
    assert names == ["default", "support"]


def test_integrations_report_configuration_without_values(client):
    by_platform = {i["platform"]: i for i in client.get("/api/integrations").get_json()["integrations"]}
    assert by_platform["web"]["configured"] is True
    assert by_platform["slack"]["configured"] is False
    assert {"variable": "SLACK_SIGNING_SECRET", "set": False} in by_platform["slack"]["settings"]


def test_settings_changed_in_the_dashboard_override_the_environment(rt, client):
    before = {s["name"]: s for s in client.get("/api/settings").get_json()["settings"]}
    assert before["chat_model"]["source"] == "environment" and before["chat_model"]["value"] == "gpt-4.1-mini"
    changed = client.put("/api/settings", json={"chat_model": "gpt-4.1", "user_rate_limit": 5})
    after = {s["name"]: s for s in changed.get_json()["settings"]}
    assert (after["chat_model"]["value"], after["chat_model"]["source"]) == ("gpt-4.1", "dashboard")
    assert admin_settings.applied(rt.db, rt.settings).user_rate_limit == 5  # what a new process uses
    client.put("/api/settings", json={"chat_model": None})
    assert admin_settings.applied(rt.db, rt.settings).chat_model == "gpt-4.1-mini"


@pytest.mark.parametrize(("body", "complaint"), [
    ({"openai_api_key": "sk-x"}, "openai_api_key: not a setting the dashboard can change"),
    ({"user_rate_limit": -1}, "user_rate_limit: Input should be greater than or equal to 0"),
    ({"user_rate_limit": "5"}, "user_rate_limit: Input should be a valid integer"),
    ({"chat_model": " "}, "chat_model: must not be blank"),
    ([], "send a JSON object of settings"),
])
def test_bad_settings_are_400(client, body, complaint):
    response = client.put("/api/settings", json=body)
    assert response.status_code == 400 and complaint in response.get_json()["error"]


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.0.3"
    described = {(path, method) for path, operations in document["paths"].items() for method in operations}
    routes = {(rule.rule.replace("<uuid:", "{").replace("<", "{").replace(">", "}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == described
    assert len(openapi.OPERATIONS) == len(described)


def test_the_dashboard_is_served_with_a_fallback_to_its_pages(rt, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=root></div>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    client = create_app(rt, dashboard=tmp_path).test_client()
    assert client.get("/").get_data(as_text=True) == "<div id=root></div>"
    assert client.get("/tasks/123").get_data(as_text=True) == "<div id=root></div>"  # a page of the app
    assert client.get("/assets/app.js").get_data(as_text=True) == "console.log(1)"
    assert client.get("/api/nothing").status_code == 401  # the API is never a page
    # Built assets are named after their content: cached for good, and compressed when large.
    script = "\n".join(f"console.log({n});" for n in range(2000))
    (tmp_path / "assets" / "big.js").write_text(script)
    for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        asset = client.get("/assets/big.js", headers={"Accept-Encoding": encoding})
        assert asset.headers["Content-Encoding"] == encoding and decompress(asset.data).decode() == script
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert "immutable" not in page.headers.get("Cache-Control", "")  # the page names the current assets
    api = client.get("/api/nothing", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in api.headers
    missing = create_app(rt, dashboard=tmp_path / "none").test_client().get("/")
    assert missing.status_code == 404 and "the dashboard is not built" in missing.get_json()["error"]
