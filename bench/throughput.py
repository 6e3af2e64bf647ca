"""How many conversations does the hub carry? Signed Slack mentions spread over channels and
people against `morningai up --workers 2`, with a fake model that takes `--delay` seconds per
call, on the threads engine and on RQ's fork-per-job worker (the baseline), in one run.

    python -m bench.throughput [--delays 0,2] [--n 600] [--baseline-n 60] [--channels 50]

Prints per engine and model delay: tasks/s from the first event sent to the last answer posted,
model calls in flight at the peak, event → first visible progress (Slack's 👀 reaction) and
event → answer posted (p50 / p95), and the peak RSS of a worker process with its work-horses.
The baseline answers the same traffic more slowly, so it is sent fewer events (`--baseline-n`):
its rate, latencies and memory are what the table compares.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.progress import track
from rich.table import Table

from bench.hub_run import HubRun, RssSampler, percentile

ENGINES = {"threads": "threads engine", "fork": "fork per job (RQ Worker)"}


def measure(engine: str, delay: float, n: int, channels: int, concurrency: int | None) -> dict:
    with HubRun(engine=engine, model_delay=delay, concurrency=concurrency) as run, RssSampler(run) as rss:
        run.send(20, channels=channels)  # warm up: the agent, pools and connections of each process
        run.wait_answered(run.events, timeout=120)
        run.model.peak_concurrency = 0
        events = run.send(n, channels=channels)
        last = run.wait_answered(events, timeout=60 + n * max(delay, 0.2) * 1.5)
        outcomes = run.outcomes()
    answered = [outcomes[(e.channel, e.ts)] for e in events if (e.channel, e.ts) in outcomes]
    progress = [o.progress - e.sent for e, o in zip(events, answered, strict=False) if o.progress]
    posted = [min(outcomes[(e.channel, e.ts)].answers) - e.sent for e in events
              if outcomes.get((e.channel, e.ts)) and outcomes[(e.channel, e.ts)].answers]
    first = min(e.sent for e in events)
    return {"n": n, "answered": len(posted), "rate": len(posted) / (last - first),
            "in_flight": run.model.peak_concurrency,
            "progress": (percentile(progress, 0.5), percentile(progress, 0.95)),
            "posted": (percentile(posted, 0.5), percentile(posted, 0.95)),
            "rss": max(rss.peaks.values(), default=0) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", default="0,2", help="model delays to run, seconds, comma-separated")
    parser.add_argument("--n", type=int, default=600, help="events sent to the threads engine")
    parser.add_argument("--baseline-n", type=int, default=60, help="events sent to the fork engine")
    parser.add_argument("--channels", type=int, default=50, help="channels the events are spread over")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="MORNINGAI_WORKER_CONCURRENCY for the threads engine [default: the hub's]")
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    runs = [(delay, engine) for delay in delays for engine in ENGINES]
    results = {}
    for delay, engine in track(runs, description="engines × model delays"):
        n = args.n if engine == "threads" else args.baseline_n
        results[(delay, engine)] = measure(engine, delay, n, args.channels,
                                           args.concurrency if engine == "threads" else None)

    table = Table(title=f"End-to-end throughput: signed Slack mentions over {args.channels} channels, "
                        "morningai up --workers 2, 2 cores")
    for column in ("model delay", "engine", "events", "answered", "tasks/s", "in flight (peak)",
                   "progress p50 / p95 (s)", "posted p50 / p95 (s)", "peak RSS / worker (MB)"):
        table.add_column(column, justify="right")
    for delay in delays:
        for engine, label in ENGINES.items():
            r = results[(delay, engine)]
            table.add_row(f"{delay:g} s", label, str(r["n"]), str(r["answered"]), f"{r['rate']:.1f}",
                          str(r["in_flight"]), "{:.2f} / {:.2f}".format(*r["progress"]),
                          "{:.2f} / {:.2f}".format(*r["posted"]), f"{r['rss']:.0f}")
        threads, fork = results[(delay, "threads")], results[(delay, "fork")]
        table.add_row("", "threads / fork", "", "", f"{threads['rate'] / fork['rate']:.1f}x",
                      f"{threads['in_flight'] / max(fork['in_flight'], 1):.1f}x", "", "",
                      f"{threads['rss'] / fork['rss']:.2f}x" if fork["rss"] else "")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
