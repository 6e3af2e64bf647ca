"""/metrics parses as Prometheus text and moves when a task runs through a real worker."""

from fakes import FakeOpenAI
from prometheus_client.parser import text_string_to_metric_families
from support import wait_for

from tasks import lifecycle


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_when_a_task_runs(client, rt, processes):
    before = _scrape(client)
    assert _value(before, "morningai_backend_up", backend="postgres") == 1
    assert _value(before, "morningai_backend_up", backend="redis") == 1
    assert _value(before, "morningai_workers_live") == 0
    assert _value(before, "morningai_job_duration_seconds_count") == 0

    # Queued while no worker runs; wording the routing rules cannot place, so the model is called.
    client.post("/api/messages", json={"text": "deploy steps, please"})
    queued = _scrape(client)
    assert _value(queued, "morningai_queue_depth", queue="chat") == 1
    assert _value(queued, "morningai_tasks", platform="web", status="queued") == 1
    # Counted in this process, where earlier tests may have counted too: compare with before.
    moved = lambda samples, name, **labels: _value(samples, name, **labels) - _value(before, name, **labels)  # noqa: E731
    assert moved(queued, "morningai_ack_seconds_count", platform="web") == 1
    assert moved(queued, "morningai_ack_seconds_bucket", platform="web", le="5.0") == 1

    with FakeOpenAI() as model:
        processes.worker(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=model.base_url)
        wait_for(lambda: rt.db and lifecycle.get(rt.db, _only_task(rt))["status"] == "posted",
                 what="the task to be posted")
        after = _scrape(client)
    assert _value(after, "morningai_tasks", platform="web", status="posted") == 1
    assert _value(after, "morningai_queue_depth", queue="chat") == 0
    assert _value(after, "morningai_workers_live") == 1
    assert _value(after, "morningai_job_duration_seconds_count") == 1
    assert _value(after, "morningai_job_duration_seconds_bucket", le="+Inf") == 1
    assert _value(after, "morningai_job_duration_seconds_sum") > 0
    assert _value(after, "morningai_retrieval_seconds_count") == 1
    assert _value(after, "morningai_model_tokens_total", type="prompt") > 0
    assert _value(after, "morningai_model_cost_usd_total") >= 0
    assert moved(after, "morningai_http_requests_total", method="POST", endpoint="api.post_message",
                 status="202") == 1
    assert moved(after, "morningai_http_requests_total", method="GET", endpoint="metrics.metrics",
                 status="200") == 2


def _only_task(rt):
    with rt.db.connection() as conn:
        return conn.execute("SELECT id FROM tasks").fetchone()["id"]
