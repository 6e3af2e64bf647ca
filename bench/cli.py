"""How long does `morningai search` take, start-up included? Through the running hub (what the
CLI does when one runs) against the in-process search (what it did before, and still does when
no hub runs: open the database, load the embedder, search).

    python -m bench.cli [--runs 20] [--embedder hash|local]

Starts PostgreSQL and Redis (embedded, in a temporary folder) and `morningai web`, ingests one
page, then runs the command as a user does, `--runs` times each way, alternating so both see
the same machine. `--embedder local` shows what loading the local model costs each in-process
call (the web process loads it once). Everything it starts it stops.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import free_port

from core.config import load_settings
from core.db import Database
from hub import migrate
from hub.embedded import EmbeddedPostgres, EmbeddedRedis
from memory.embedders import choose_embedder
from memory.ingest import ingest

ADMIN = ("bench@example.com", "a bench password")
QUERY = "who hands over on-call, and when?"
TARGET = 0.5  # seconds, p95, through the running hub
RUNBOOK = """# On-call

The on-call engineer is paged through PagerDuty, hands over on Mondays at 10:00 and writes up
every incident within two working days. Staging credentials rotate monthly through the vault.
"""


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed_search(env: dict[str, str], expect: str, cpu: list[float] | None = None) -> float:
    """Wall seconds of one `morningai search`; its CPU seconds appended to `cpu` (on a busy
    machine wall time swings with the neighbours, CPU time much less)."""
    before = _cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hub", "search", QUERY, "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_cpu_of_children() - before)
    if done.returncode != 0 or expect not in done.stderr:
        raise SystemExit(f"morningai search did not answer {expect!r}:\n{done.stderr[-2000:]}")
    return elapsed


def _wait_for(url: str, web: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit(f"morningai web exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"morningai web did not answer within 120 s:\n{log.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--embedder", choices=("hash", "local"), default="hash")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="morningai-bench-") as folder:
        home = Path(folder)
        postgres, redis = EmbeddedPostgres(home), EmbeddedRedis(home)
        web = None
        try:
            database_url, redis_url = postgres.start(), redis.start()
            port = free_port()
            env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "MORNINGAI_HOME": str(home),
                   "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "MORNINGAI_EMBEDDINGS": args.embedder,
                   "PORT": str(port), "MORNINGAI_HOST": "127.0.0.1",
                   "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]}
            env.pop("OPENAI_API_KEY", None)
            db = Database(database_url)
            migrate.migrate(db)
            (home / "oncall.md").write_text(RUNBOOK)
            os.environ["MORNINGAI_EMBEDDINGS"] = args.embedder  # for the ingest here, as for the children
            ingest(db, choose_embedder(load_settings()), [str(home / "oncall.md")])
            db.close()
            # No hub on this port: the CLI searches in its own process, as it always did.
            in_process = {**env, "PORT": str(free_port())}
            log = home / "web.log"
            web = subprocess.Popen([sys.executable, "-m", "hub", "web", "--workers", "1"], env=env, cwd=ROOT,
                                   stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
            _wait_for(f"http://127.0.0.1:{port}/healthz", web, log)
            _timed_search(env, "searched by the hub")  # the web process loads its embedder on first use
            through_hub, here, hub_cpu, here_cpu = [], [], [], []
            for _ in range(args.runs):
                through_hub.append(_timed_search(env, "searched by the hub", hub_cpu))
                here.append(_timed_search(in_process, "searching in this process", here_cpu))
        finally:
            if web is not None:
                web.terminate()
                web.wait(timeout=30)
            redis.stop()
            postgres.stop()
    table = Table(title=f"morningai search, {args.runs} runs each, {args.embedder} embedder (s, wall, start-up included)")
    for column in ("way", "p50", "p95", "p95 vs in-process", "CPU p50"):
        table.add_column(column, justify="right" if column != "way" else "left")
    base = _percentile(here, 0.95)
    for label, samples, cpu in (("through the running hub", through_hub, hub_cpu),
                                ("in this process (baseline)", here, here_cpu)):
        p95 = _percentile(samples, 0.95)
        table.add_row(label, f"{_percentile(samples, 0.5):.3f}", f"{p95:.3f}", f"{p95 / base:.2f}x",
                      f"{_percentile(cpu, 0.5):.3f}")
    console.print(table)
    console.print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    verdict = "meets" if _percentile(through_hub, 0.95) <= TARGET else "misses"
    console.print(f"through the running hub {verdict} the target of p95 ≤ {TARGET} s")


if __name__ == "__main__":
    main()
