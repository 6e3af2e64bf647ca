"""How long does accepting a message take? `submit` (store + mark queued + enqueue) against
the floor any design pays: one plain INSERT of the same row plus one plain RQ enqueue.

    python bench/submit.py [--n 2000]

Uses DATABASE_URL / REDIS_URL when set, else embedded servers in a temporary directory.
Runs the two side by side, alternating, so both see the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.progress import track
from rich.table import Table

from core.config import load_settings
from core.db import Database
from core.models import ChatTask
from core.queue import TaskQueue
from hub import migrate
from hub.embedded import EmbeddedServices
from tasks import lifecycle


def _task() -> ChatTask:
    return ChatTask(platform="slack", workspace="default", platform_event_id=uuid.uuid4().hex,
                    text="How do I rotate the staging database credentials?", channel="C024BE91L",
                    thread="1700000000.000100", user="U0G9QF9C6",
                    reply_target={"channel": "C024BE91L", "thread_ts": "1700000000.000100"})


def _baseline(db: Database, queue: TaskQueue, workspace_id: uuid.UUID) -> None:
    task = _task()
    with db.connection() as conn:
        conn.execute(
            "INSERT INTO tasks (id, platform, platform_event_id, workspace_id, channel, thread, user_id, "
            "text, kind, reply_target, trace_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (task.id, task.platform, task.platform_event_id, workspace_id, task.channel, task.thread,
             task.user, task.text, task.kind, Jsonb(task.reply_target), task.trace_id))
    queue.rq.enqueue("worker.jobs.run_task", str(task.id), job_id=str(task.id))


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="submits to time (and as many baseline writes)")
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="morningai-bench-") as home:
        services = EmbeddedServices(Path(home))
        database_url, redis_url = services.start(settings.database_url, settings.redis_url)
        bench_db = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {bench_db}")
        db = Database(database_url.rsplit("/", 1)[0] + f"/{bench_db}")
        queue = TaskQueue(redis_url, f"bench-{bench_db}", job_timeout=60, max_attempts=3)
        try:
            migrate.migrate(db)
            with db.connection() as conn:
                workspace_id = conn.execute("SELECT id FROM workspaces WHERE name = 'default'").fetchone()["id"]
            for _ in range(50):  # warm the pool, Redis and PostgreSQL's caches
                lifecycle.submit(db, queue, _task())
                _baseline(db, queue, workspace_id)
            timings: dict[str, list[float]] = {"submit": [], "baseline": []}
            for _ in track(range(args.n), description=f"{args.n} submits"):
                began = time.perf_counter()
                lifecycle.submit(db, queue, _task())
                timings["submit"].append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                _baseline(db, queue, workspace_id)
                timings["baseline"].append((time.perf_counter() - began) * 1000)
        finally:
            queue.rq.empty()
            db.close()
            with psycopg.connect(database_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {bench_db} WITH (FORCE)")
            services.stop()

    base_median = statistics.median(timings["baseline"])
    base_p99 = _percentile(timings["baseline"], 0.99)
    table = Table(title=f"accepting a message, {args.n} times (ms)")
    for column in ("", "median", "p99", "median vs baseline", "p99 vs baseline"):
        table.add_column(column, justify="right")
    for name, label in (("submit", "submit"), ("baseline", "INSERT+enqueue")):
        median, p99 = statistics.median(timings[name]), _percentile(timings[name], 0.99)
        table.add_row(label, f"{median:.2f}", f"{p99:.2f}", f"{median / base_median:.2f}x", f"{p99 / base_p99:.2f}x")
    console = Console()
    console.print(table)
    console.print("submit = store the task, mark it queued, enqueue its job; "
                  "baseline (INSERT+enqueue) = one plain INSERT of the same row and one plain RQ enqueue")


if __name__ == "__main__":
    main()
