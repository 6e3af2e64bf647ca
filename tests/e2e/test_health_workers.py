"""The health API with a real worker process: its heartbeat, its current job, the queues."""


from support import wait_for


def test_health_lists_workers_with_heartbeats_and_queues(client, processes):
    processes.worker()
    body = wait_for(lambda: (r := client.get("/api/health").get_json())["workers"] and r, what="a worker")
    (live,) = body["workers"]
    assert live["alive"] and live["last_heartbeat"] and live["state"] in ("starting", "started", "idle", "busy")
    assert set(body["queues"]) == {"morningai", "morningai-ingest"}
    assert body["postgres"] == "ok" and body["redis"] == "ok"
