"""How fast does the hub acknowledge a Slack event? Signed app_mention events at a fixed
concurrency against (a) the hub's /slack/events under gunicorn and (b) a bare slack-bolt Flask
app that only acks (bench/slack_bare_app.py), under the same gunicorn settings; and, to show
what storing the event costs by itself, (c) the bare app plus one INSERT into the same table.

    python bench/slack_ack.py [--n 2000] [--concurrency 8]

Uses DATABASE_URL / REDIS_URL when set, else embedded servers in a temporary directory; a fake
Slack Web API (tests/fakes) answers the one auth.test each web process makes. The servers are
measured in alternating rounds, so all see the same machine. No worker runs: tasks stay `received`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.slack_server import FakeSlack  # noqa: E402

from core.config import load_settings  # noqa: E402
from core.db import Database  # noqa: E402
from hub import migrate  # noqa: E402
from hub.embedded import EmbeddedServices  # noqa: E402

TEAM, TOKEN = "T0BENCH", "xoxb-bench"
# name: (gunicorn app, table label)
SERVERS = {"hub": ("hub.web.app:create_app()", "hub /slack/events"),
           "bare": ("bench.slack_bare_app:app", "bare slack-bolt ack"),
           "store": ("bench.slack_bare_app:storing_app()", "bare slack-bolt + one INSERT")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(app: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:hub.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", app],
        env={**env, "PORT": str(port)}, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/slack/events"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{app} did not start:\n{log.read_text()}")
        try:
            requests.post(url, timeout=5)  # unsigned: a 401 says the app is loaded
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{app} did not listen within 60 s:\n{log.read_text()}")


def _mention(slack: FakeSlack) -> tuple[bytes, dict[str, str]]:
    ts = f"{time.time():.6f}"
    body = json.dumps({
        "team_id": TEAM, "api_app_id": "ABENCH", "type": "event_callback", "event_time": int(time.time()),
        "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event": {"type": "app_mention", "user": "U0BENCH", "channel": "C0BENCH", "ts": ts, "event_ts": ts,
                  "text": "<@UBT0BENCH> how do we rotate the staging database credentials?"}})
    return body.encode(), {"Content-Type": "application/json", **slack.signed(body)}


def _load(url: str, slack: FakeSlack, n: int, concurrency: int) -> list[float]:
    """n signed mentions from `concurrency` threads, each with its own keep-alive connection."""
    timings: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            body, headers = _mention(slack)
            began = time.perf_counter()
            response = session.post(url, data=body, headers=headers, timeout=10)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")
            with lock:
                timings.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="events sent to each server")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds the events are split into")
    args = parser.parse_args()
    settings = load_settings()
    timings: dict[str, list[float]] = {name: [] for name in SERVERS}
    with tempfile.TemporaryDirectory(prefix="morningai-bench-") as home, FakeSlack() as slack:
        slack.add_team(TEAM, TOKEN)
        services = EmbeddedServices(Path(home))
        database_url, redis_url = services.start(settings.database_url, settings.redis_url)
        bench_db = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {bench_db}")
        bench_url = database_url.rsplit("/", 1)[0] + f"/{bench_db}"
        children: list[subprocess.Popen] = []
        try:
            migrate.migrate(Database(bench_url))
            env = {**os.environ, "DATABASE_URL": bench_url, "REDIS_URL": redis_url, "MORNINGAI_HOME": home,
                   "MORNINGAI_QUEUE": f"bench-{bench_db}", "LOG_LEVEL": "WARNING",
                   "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_BOT_TOKEN": TOKEN,
                   "SLACK_API_URL": slack.api_url, "PYTHONPATH": str(ROOT)}
            servers = {}
            for name, (app, _) in SERVERS.items():
                process, url = _serve(app, env, Path(home) / f"{name}.log")
                children.append(process)
                servers[name] = url
                _load(url, slack, 200, args.concurrency)  # warm up: connections, pools, caches
            per_round = max(1, args.n // args.rounds)
            for _ in range(args.rounds):
                for name, url in servers.items():
                    timings[name] += _load(url, slack, per_round, args.concurrency)
        finally:
            for process in children:
                process.terminate()
                process.wait(timeout=15)
            with psycopg.connect(database_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {bench_db} WITH (FORCE)")
            services.stop()

    workers = settings.web_concurrency
    table = Table(title=f"Slack ack latency, {len(timings['hub'])} signed app_mention events each, "
                        f"concurrency {args.concurrency}, gunicorn {workers} workers × 4 threads (ms)")
    for column in ("", "p50", "p99", "mean"):
        table.add_column(column, justify="right")
    rows = {name: (statistics.median(t), statistics.quantiles(t, n=100)[98], statistics.fmean(t))
            for name, t in timings.items()}
    for name, (_, label) in SERVERS.items():
        table.add_row(label, *(f"{v:.2f}" for v in rows[name]))
    for label, top, bottom in (("hub / bare (target ≤ 1.3)", "hub", "bare"),
                               ("bare + INSERT / bare", "store", "bare"),
                               ("hub / bare + INSERT", "hub", "store")):
        table.add_row(label, *(f"{t / b:.2f}x" for t, b in zip(rows[top], rows[bottom], strict=True)))
    console = Console()
    console.print(table)
    console.print(f"targets: ratio ≤ 1.3 (p50 {rows['hub'][0] / rows['bare'][0]:.2f}x, "
                  f"p99 {rows['hub'][1] / rows['bare'][1]:.2f}x), hub p99 < 50 ms ({rows['hub'][1]:.1f} ms)")


if __name__ == "__main__":
    main()
