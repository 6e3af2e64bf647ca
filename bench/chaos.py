"""Does every accepted Slack mention get exactly one answer while things die around it?

Signed `app_mention` events, spread over channels and people, are sent at a steady rate to
`morningai up --workers 2` (bench/hub_run.py) while faults are injected on a schedule:

- `worker`   kill -9 of a worker process with the tasks it holds in flight;
- `web`      kill -9 of a gunicorn worker, with the acks it was writing;
- `redis`    kill -9 of Redis, restarted a moment later from its append-only file (which may be
             up to a second behind: jobs and their places in the queue can be lost);
- `postgres` PostgreSQL restarted in immediate mode (crash recovery, every connection cut).

Slack's redeliveries are played as Slack plays them: a delivery that fails or is not
acknowledged within 3 s is sent again with `X-Slack-Retry-Num` (up to 3 retries), and a share of
the acknowledged ones are sent again anyway, as when an ack is lost on its way back. Then it
counts, per event, the answers that reached the fake Slack's threads:

    python -m bench.chaos [--n 1000] [--rate 10] [--every 1.5] [--faults worker,web,redis,postgres]

An event is answered once (an answer or an "I couldn't answer, because…" message), lost (none)
or duplicated (more than one). Exits 1 if any accepted event was lost or duplicated, or the hub
exited. Chat tasks on the threads engine have no work-horse to kill: the worker is the target.
"""

from __future__ import annotations

import argparse
import itertools
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psutil
import psycopg
import requests
from psycopg.rows import dict_row
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.hub_run import Event, HubRun, _kill_tree

FAULTS = ("worker", "web", "redis", "postgres")
# Slack retries a failed delivery three times; these are its waits, shortened from
# "immediately, after 1 minute, after 5 minutes" so a run takes minutes, not hours.
RETRY_WAITS = (0.5, 5.0, 15.0)
ACK_DEADLINE = 3.0  # Slack gives up on an ack after 3 s and retries
# Short sweeps, so the run need not wait out the default 10 s intervals to recover.
RECONCILE_INTERVAL = 2.0


@dataclass
class Report:
    sent: int = 0
    accepted: int = 0  # acknowledged 200 by the hub at least once
    redeliveries: int = 0
    answered: int = 0  # exactly one answer in the thread
    told: int = 0  # exactly one "I couldn't answer" in the thread
    lost: list[Event] = field(default_factory=list)
    lost_rows: list[dict] = field(default_factory=list)  # what the hub's tasks table says of them
    duplicated: list[Event] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    hub_alive: bool = True
    settled_in: float = 0.0  # from the last event sent to the last answer

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated and self.hub_alive and self.accepted == self.sent


class Faults:
    """Injects a fault of the given kinds, in turn, every `every` seconds, until stopped."""

    def __init__(self, run: HubRun, kinds: list[str], every: float, rng: random.Random, redis_down: float = 1.0):
        self.run, self.kinds, self.every, self.rng = run, kinds, every, rng
        self.redis_down = redis_down
        self.injected: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="faults", daemon=True)

    def __enter__(self) -> Faults:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        start = time.monotonic()
        for turn in itertools.count():
            # On the schedule, however long the last fault took to inject (a Redis restart takes
            # seconds); a fault that is late goes at once.
            if self._stop.wait(max(0.0, start + (turn + 1) * self.every - time.monotonic())):
                return
            kind = self.kinds[turn % len(self.kinds)]
            if getattr(self, f"_{kind}")():
                self.injected[kind] += 1

    def _worker(self) -> bool:
        workers = self.run.worker_processes()
        if not workers:  # both are waiting out their restart back-off
            return False
        _kill_tree(self.rng.choice(workers).pid)
        return True

    def _web(self) -> bool:
        masters = [child for child in psutil.Process(self.run.up.pid).children() if "gunicorn" in child.cmdline()]
        workers = [worker for master in masters for worker in master.children()]
        if not workers:
            return False
        self.rng.choice(workers).kill()
        return True

    def _redis(self) -> bool:
        redis = self.run.redis
        if redis._process is None:
            return False
        redis._process.kill()
        redis._process.wait(timeout=10)
        time.sleep(self.redis_down)
        redis.start()
        return True

    def _postgres(self) -> bool:
        postgres = self.run.postgres
        # -l: without it the new postmaster would hold pg_ctl's output pipes open for good.
        result = subprocess.run([postgres.bin_dir / "pg_ctl", "-D", postgres.data, "-l", postgres.root / "postgres.log",
                                 "-m", "immediate", "-w", "-t", "60", "restart"],
                                capture_output=True, text=True, timeout=90, **postgres._run_as())
        if result.returncode != 0:
            raise SystemExit(f"PostgreSQL did not restart: {result.stderr.strip()}")
        return True


class Slack:
    """Delivers each event as Slack does: retried when the ack fails or is late."""

    def __init__(self, run: HubRun, redeliver_share: float, rng: random.Random):
        self.run, self.redeliver_share, self.rng = run, redeliver_share, rng
        self.accepted: list[Event] = []
        self.redeliveries = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def deliver(self, event: Event, body: bytes) -> None:
        session = getattr(self._local, "session", None) or requests.Session()
        self._local.session = session
        acked = False
        for retry in range(len(RETRY_WAITS) + 1):
            if retry:
                time.sleep(RETRY_WAITS[retry - 1])
                with self._lock:
                    self.redeliveries += 1
            try:
                response = self.run.deliver(session, event, body, retry=retry, timeout=ACK_DEADLINE)
                acked = response.status_code == 200
            except requests.RequestException:
                acked = False
            if acked:
                break
        if acked and self.rng.random() < self.redeliver_share:  # the ack was lost on its way back
            with self._lock:
                self.redeliveries += 1
            try:
                self.run.deliver(session, event, body, retry=1, timeout=ACK_DEADLINE)
            except requests.RequestException:
                pass
        with self._lock:
            self.run.events.append(event)
            if acked:
                self.accepted.append(event)


def chaos(n: int = 1000, *, rate: float = 10.0, every: float = 1.5, kinds: list[str] | None = None,
          channels: int = 50, users: int = 300, model_delay: float = 0.5, redeliver_share: float = 0.05,
          settle: float = 180.0, seed: int = 7, progress: bool = False) -> Report:
    """Runs the whole experiment and returns what happened to each event."""
    rng = random.Random(seed)
    report = Report(sent=n)
    env = {"MORNINGAI_RECONCILE_INTERVAL": str(RECONCILE_INTERVAL)}
    with HubRun(model_delay=model_delay, env=env) as run:
        slack = Slack(run, redeliver_share, rng)
        with ThreadPoolExecutor(max_workers=32) as pool, \
                Faults(run, kinds or list(FAULTS), every, rng) as faults, \
                Progress(disable=not progress, transient=True) as bar:
            sending = bar.add_task("events sent", total=n)
            start = time.monotonic()
            for i in range(n):
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
                event, body = run.mention(f"C{i % channels:05d}", f"U{i % users:05d}")
                pool.submit(slack.deliver, event, body).add_done_callback(lambda _: bar.advance(sending))
            pool.shutdown(wait=True)
        last_sent = time.monotonic()
        report.faults, report.accepted, report.redeliveries = faults.injected, len(slack.accepted), slack.redeliveries
        run.wait_answered(slack.accepted, timeout=settle)
        report.settled_in = time.monotonic() - last_sent
        time.sleep(3 * RECONCILE_INTERVAL)  # a late duplicate would come within a few sweeps
        outcomes = run.outcomes()
        for event in slack.accepted:
            outcome = outcomes.get((event.channel, event.ts))
            posts = len(outcome.answers) + len(outcome.errors) if outcome else 0
            if posts == 0:
                report.lost.append(event)
            elif posts > 1:
                report.duplicated.append(event)
            elif outcome.answers:
                report.answered += 1
            else:
                report.told += 1
        report.hub_alive = run.up.poll() is None
        report.lost_rows = _rows(run, report.lost)
    return report


def _rows(run: HubRun, events: list[Event]) -> list[dict]:
    if not events:
        return []
    with psycopg.connect(run.database_url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT channel, reply_target->>'message_ts' AS ts, status, attempts, worker, error, "
            "received_at, queued_at, started_at, updated_at FROM tasks "
            "WHERE (channel, reply_target->>'message_ts') IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([e.channel for e in events], [e.ts for e in events])).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="events to send")
    parser.add_argument("--rate", type=float, default=10.0, help="events sent per second")
    parser.add_argument("--every", type=float, default=1.5, help="seconds between faults")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"kinds, in turn, from {', '.join(FAULTS)}")
    parser.add_argument("--model-delay", type=float, default=0.5, help="seconds the fake model takes per call")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kinds = args.faults.split(",")
    if unknown := set(kinds) - set(FAULTS):
        parser.error(f"unknown fault kind {', '.join(sorted(unknown))}: choose from {', '.join(FAULTS)}")

    report = chaos(args.n, rate=args.rate, every=args.every, kinds=kinds, model_delay=args.model_delay,
                   seed=args.seed, progress=True)
    table = Table(title=f"Chaos: {args.n} signed Slack mentions at {args.rate:g}/s, a fault every "
                        f"{args.every:g} s, morningai up --workers 2")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in (("events sent", report.sent), ("accepted (acked 200)", report.accepted),
                        ("redeliveries played", report.redeliveries),
                        ("answered once", report.answered), ("told why, once", report.told),
                        ("lost", len(report.lost)), ("duplicated", len(report.duplicated)),
                        *((f"fault: {kind}", report.faults[kind]) for kind in FAULTS),
                        ("faults in all", sum(report.faults.values()))):
        table.add_row(what, str(count))
    table.add_row("settled (s after the last event)", f"{report.settled_in:.1f}")
    table.add_row("hub still running", "yes" if report.hub_alive else "NO")
    Console(width=120).print(table)
    for event in report.duplicated:
        print(f"  duplicated: channel {event.channel} ts {event.ts}")
    for event in report.lost:
        print(f"  lost: channel {event.channel} ts {event.ts}")
    for row in report.lost_rows:
        print(f"    task: {row}")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
