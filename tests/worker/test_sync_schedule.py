"""A source's schedule: each sync puts the next on RQ's scheduler at the source's next due time,
and the workers' sweep queues a due sync Redis forgot, once.

Jobs run on RQ's SimpleWorker, in this process, as the hub's threaded worker runs them: a forked
work-horse of a test process that has loaded torch (the local embedder's tests) may crash."""

from datetime import UTC, datetime, timedelta

import pytest
from fakes.web_site import FakeSite
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from core import workspaces
from hub import wiring
from memory import store
from worker import jobs, sync


@pytest.fixture
def site():
    with FakeSite() as server:
        server.put("/docs/", "<h1>Handbook</h1><p>The on-call engineer carries the pager for a week.</p>")
        yield server


def _add(rt, site, schedule):
    space, _ = workspaces.ensure(rt.db, "scheduled")
    with rt.db.workspace(space.id) as conn:
        row = store.add_source(conn, space.id, "web", f"{site.url}/docs/", "docs", {"url": f"{site.url}/docs/"},
                               None, schedule)
    return space, row


def _row(rt, space, source_id):
    with rt.db.workspace(space.id) as conn:
        return store.source(conn, source_id)


def _work(rt):
    jobs.install(wiring.for_worker(rt))
    SimpleWorker([rt.queue.ingest], connection=rt.queue.redis).work(burst=True, logging_level="WARNING")


def _due_now(rt, space, source_id):
    with rt.db.workspace(space.id) as conn:
        conn.execute("UPDATE sources SET next_sync_at = now() - interval '1 minute' WHERE id = %s", (source_id,))


def test_a_sync_puts_the_next_one_on_the_scheduler_at_the_sources_due_time(rt, site, hash_embeddings):
    space, row = _add(rt, site, schedule=60)
    assert rt.queue.enqueue_sync(space.name, row["id"]) is not None
    _work(rt)

    synced = _row(rt, space, row["id"])
    assert synced["status"] == "ready" and synced["documents"] == 1
    due = synced["next_sync_at"]
    assert timedelta(minutes=59) < due - datetime.now(UTC) <= timedelta(minutes=60)
    scheduled = ScheduledJobRegistry(queue=rt.queue.ingest)
    [job_id] = scheduled.get_job_ids()
    assert job_id == f"sync-{row['id']}-at-{int(due.timestamp())}"
    assert abs(scheduled.get_scheduled_time(job_id).timestamp() - due.timestamp()) < 1
    # Asked again for the same due time (the sweep, another worker): nothing more is queued.
    assert rt.queue.enqueue_sync(space.name, row["id"], due=due) is None


def test_the_sweep_queues_a_due_sync_once_and_leaves_unscheduled_sources_alone(rt, site, hash_embeddings):
    space, scheduled = _add(rt, site, schedule=30)
    with rt.db.workspace(space.id) as conn:
        store.add_source(conn, space.id, "web", f"{site.url}/other/", "other", {"url": f"{site.url}/other/"}, None, None)
    assert sync.enqueue_due(rt) == 0  # its first scheduled run is 30 minutes away
    _due_now(rt, space, scheduled["id"])
    assert sync.enqueue_due(rt) == 1
    assert sync.enqueue_due(rt) == 0  # its job is waiting: not queued twice
    assert rt.queue.ingest.count == 1

    _work(rt)
    assert _row(rt, space, scheduled["id"])["documents"] == 1
    assert sync.enqueue_due(rt) == 0  # the sync moved the due time on
