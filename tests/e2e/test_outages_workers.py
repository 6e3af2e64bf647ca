"""Outages with real worker processes: readiness follows the workers, and a message taken while
Redis is down is queued once it is back."""

from conftest import log_in
from support import wait_for

from core.config import load_settings
from hub import wiring
from hub.web.app import create_app
from tasks import lifecycle


def test_readyz_is_200_with_a_live_worker_and_503_without(client, processes):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert any(p.startswith("no live worker") for p in response.get_json()["problems"])

    processes.worker()
    body = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r.get_json(),
                    what="/readyz to turn 200")
    assert (body["postgres"], body["redis"], body["migrations"], body["workers"]) == ("ok", "ok", "current", 1)
    assert body["queued"] == 0 and body["failed"] == 0


def test_a_message_taken_while_redis_is_down_is_queued_once_it_is_back(hub_env, own_redis, processes):
    redis_url = own_redis.start()
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], redis_url)
    client = log_in(create_app(rt))
    own_redis.stop()

    response = client.post("/api/messages", json={"text": "is anyone there?"})
    assert response.status_code == 202
    task_id = response.get_json()["id"]
    assert response.get_json()["status"] == "received"
    assert lifecycle.get(rt.db, task_id)["status"] == "received"

    assert own_redis.start() == redis_url  # back, on the same port
    processes.worker(REDIS_URL=redis_url)  # its reconciler queues what was left behind
    wait_for(lambda: lifecycle.get(rt.db, task_id)["status"] == "posted", what="the task to be posted")
    assert lifecycle.get(rt.db, task_id)["attempts"] == 1
    rt.close()
