"""What a re-sync costs next to the first: a GitHub repository of 5,000 Markdown files (the fake
GitHub, over HTTP) synced into an embedded PostgreSQL, then 1% of its files changed in one
commit and the source synced again.

    .venv/bin/python -m bench.sync [--files 5000] [--changed 0.01] [--embedder hash|local]

Prints each sync's items/s, GitHub requests, files fetched, embedding calls and chunks embedded,
and the re-sync's speed-up over the first sync (the baseline: what syncing without versions
would cost every time). Target: the re-sync at least 20x faster, embedding only what changed.
The files are generated from a fixed seed: headings and paragraphs of a few hundred words each.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.github_server import FakeGitHub  # noqa: E402

from core import workspaces  # noqa: E402
from core.db import Database  # noqa: E402
from hub import migrate  # noqa: E402
from hub.embedded import EmbeddedPostgres  # noqa: E402
from memory import connectors, store  # noqa: E402
from memory.embedders import HashEmbedder, LocalEmbedder  # noqa: E402
from memory.sync import SyncReport, sync  # noqa: E402

REPO, TOKEN = "acme/handbook", "ghp_bench"
AREAS = ["deploy", "oncall", "security", "billing", "onboarding", "api", "data", "mobile", "infra", "support"]
WORDS = ("service release rollback incident pager vault token staging production database migration queue "
         "worker cache latency budget review approval branch merge pipeline runner artifact cluster node "
         "region backup restore retention audit access role policy customer invoice refund ticket sla "
         "alert metric dashboard trace log error retry timeout limit quota schema index replica").split()


@dataclass
class Counted:
    """The embedder the hub would use, counting its calls."""

    inner: object
    calls: int = 0
    texts: int = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dims(self) -> int:
        return self.inner.dims

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


def page(rng: random.Random, title: str) -> str:
    sections = []
    for n in range(rng.randint(2, 4)):
        paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(40, 90))).capitalize() + "."
                      for _ in range(rng.randint(1, 3))]
        sections.append(f"## {title} part {n + 1}\n\n" + "\n\n".join(paragraphs))
    return f"# {title}\n\n" + "\n\n".join(sections) + "\n"


def repository(files: int, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    return {f"docs/{AREAS[i % len(AREAS)]}/page-{i:05d}.md": page(rng, f"{AREAS[i % len(AREAS)].title()} {i}")
            for i in range(files)}


def measure(db: Database, github: FakeGitHub, embedder: Counted, space, source_id) -> dict:
    embedder.calls = embedder.texts = 0
    requests_before = len(github.requests)
    connector = connectors.build("github", {"repository": REPO, "api_url": github.url, "issues": False,
                                            "discussions": False}, {"token": TOKEN})
    began = time.perf_counter()
    report: SyncReport = sync(db, embedder, workspaces.get(db, space.name), source_id, connector)
    seconds = time.perf_counter() - began
    if report.error:
        raise SystemExit(f"the sync failed: {report.error}")
    return {"seconds": seconds, "items_per_s": report.listed / seconds, "listed": report.listed,
            "fetched": report.fetched, "changed": report.added + report.updated,
            "requests": len(github.requests) - requests_before, "calls": embedder.calls, "chunks": embedder.texts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000, help="Markdown files in the repository")
    parser.add_argument("--changed", type=float, default=0.01, help="share of the files changed before the re-sync")
    parser.add_argument("--embedder", choices=("hash", "local"), default="hash",
                        help="hash (fast, lexical) or local (all-MiniLM-L6-v2; needs the [local] extra)")
    args = parser.parse_args()
    console = Console(width=150)
    files = repository(args.files)
    embedder = Counted(HashEmbedder() if args.embedder == "hash" else LocalEmbedder())

    with tempfile.TemporaryDirectory(prefix="morningai-bench-sync-") as home, FakeGitHub(token=TOKEN) as github:
        postgres = EmbeddedPostgres(Path(home))
        try:
            db = Database(postgres.start())
            migrate.migrate(db)
            github.add_repo(REPO, files)
            space, _ = workspaces.ensure(db, "bench")
            with db.workspace(space.id) as conn:
                source_id = store.add_source(conn, space.id, "github", f"{github.url}/{REPO}", REPO, {}, None, None)["id"]
            console.print(f"first sync of {len(files)} files…")
            first = measure(db, github, embedder, space, source_id)

            rng = random.Random(11)
            edited = rng.sample(sorted(files), max(1, round(len(files) * args.changed)))
            github.commit(REPO, {path: files[path] + "\n## Changed\n\nA paragraph added by the benchmark.\n"
                                 for path in edited})
            console.print(f"re-sync after {len(edited)} files changed…")
            again = measure(db, github, embedder, space, source_id)
            db.close()
        finally:
            postgres.stop()

    table = Table(title=f"Sync of a GitHub repository of {len(files)} Markdown files "
                        f"({args.embedder} embedder, fake GitHub over HTTP, 2 cores)")
    for column in ("run", "seconds", "items/s", "GitHub requests", "files fetched", "documents changed",
                   "embedding calls", "chunks embedded"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for name, run in (("first sync (baseline)", first), (f"re-sync, {len(edited)} changed", again)):
        table.add_row(name, f"{run['seconds']:.2f}", f"{run['items_per_s']:.0f}", str(run["requests"]),
                      str(run["fetched"]), str(run["changed"]), str(run["calls"]), str(run["chunks"]))
    speedup = first["seconds"] / again["seconds"]
    table.add_row("re-sync / first", f"{speedup:.1f}x faster", "", "", "", "", "",
                  f"{again['chunks'] / max(first['chunks'], 1):.1%}")
    console.print(table)
    only_changed = again["fetched"] == again["changed"] == len(edited)
    console.print(f"target: re-sync >= 20x faster than the first sync: {'met' if speedup >= 20 else 'missed'} "
                  f"({speedup:.1f}x); embedding only what changed: {'yes' if only_changed else 'no'} "
                  f"({again['fetched']} fetched, {again['changed']} re-embedded, {len(edited)} changed)")


if __name__ == "__main__":
    main()
