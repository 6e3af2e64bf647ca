"""Does the agent know when it does not know? Every question of bench/abstention/*.toml asked
through the real agent, offline, per embedder, beside what the agent did before it had a
confidence score (search, then the extractive answer: it said it did not know only when no
sentence was similar enough to quote).

    python -m bench.abstention [--embedders hash,local] [--calibrate]

Two documentation sets, each copied with its licence: RQ's (bench/abstention/rq, the set the
thresholds are calibrated on) and HTTPX's (bench/abstention/httpx, held out: never used to
choose a threshold). Each has answerable questions (with the pages that answer them), near
misses (the docs' topic and words, not their answer) and unanswerable ones (a feature the
project lacks, a number never stated, a fact only the team would know).

Targets: abstain on >= 90% of the questions the docs do not answer, answer >= 95% of those they
do. "Right page" counts the answered answerable questions that cite one of their pages.
`--calibrate` prints, per embedder, the threshold the RQ set supports (the highest that still
answers 95% of its answerable questions) beside agents/confidence.py's.

Only the offline path is measured: a model's verdict (asked below the threshold) needs a real
model, and the fake one in tests/fakes cannot judge.

Uses DATABASE_URL when set, else an embedded PostgreSQL in a temporary directory; a fresh
database, dropped at the end.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from agents import confidence
from agents.check import check_reply
from agents.graph import Agent
from agents.offline import offline_answer
from core.config import load_settings
from core.db import Database
from core.models import ChatTask
from hub import migrate
from hub.embedded import EmbeddedPostgres
from memory.embedders import Embedder, HashEmbedder, LocalEmbedder
from memory.ingest import ingest
from memory.search import search

SETS = Path(__file__).with_name("abstention")
CORPORA = {"rq": "calibration", "httpx": "held out"}
KINDS = ("answerable", "near_miss", "unanswerable")
ANSWER_TARGET, ABSTAIN_TARGET = 0.95, 0.90
console = Console(width=None if sys.stdout.isatty() else 150)


@dataclass(frozen=True)
class Question:
    corpus: str
    kind: str
    text: str
    pages: tuple[str, ...]  # the files that answer it; none for near misses and unanswerable ones


@dataclass(frozen=True)
class Outcome:
    question: Question
    abstained: bool
    right_page: bool  # one of its pages is cited
    score: float = 0.0


def questions(corpus: str) -> list[Question]:
    found = tomllib.loads((SETS / f"{corpus}.toml").read_text())
    return ([Question(corpus, "answerable", text, tuple(pages)) for text, pages in found["answerable"]]
            + [Question(corpus, kind, text, ()) for kind in KINDS[1:] for text in found[kind]])


@contextmanager
def database(home: Path) -> Iterator[Database]:
    """A fresh, migrated database on DATABASE_URL's server, else on an embedded one; dropped after."""
    postgres = EmbeddedPostgres(home)
    server = load_settings().database_url or postgres.start()
    name = f"bench_abstention_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    conninfo = psycopg.conninfo.conninfo_to_dict(server)
    db = Database(psycopg.conninfo.make_conninfo(**{**conninfo, "dbname": name}))
    try:
        migrate.migrate(db)
        yield db
    finally:
        db.close()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        postgres.stop()  # only if this process started it


def ask_all(db: Database, embedder: Embedder, corpus: str) -> tuple[list[Outcome], list[Outcome]]:
    """(now, before) for every question of `corpus`, in a workspace of its own."""
    workspace = f"{corpus}-{family(embedder)}"
    ingest(db, embedder, [str(SETS / corpus)], workspace=workspace, include=["*.md"])

    def found(ws, query, k, sources):
        return search(db, embedder, ws, query, k=k, sources=sources)

    agent = Agent(search=found, has_knowledge=lambda ws: True, embed=embedder.embed, embedder_name=embedder.name)
    now, before = [], []
    for question in questions(corpus):
        reply = agent.run(ChatTask(platform="web", workspace=workspace, platform_event_id=str(uuid.uuid4()),
                                   text=question.text, kind="ask", channel="bench"))
        now.append(Outcome(question, reply.metadata["abstained"], cites(reply, question), reply.metadata["confidence"]))
        # Before: the same search and extractive answer, with no confidence score in between.
        hits = found(workspace, question.text, 6, None)
        old = check_reply(offline_answer(question.text, hits, embedder.embed), hits)
        before.append(Outcome(question, old.metadata.get("grounded") is False, cites(old, question)))
    return now, before


def cites(reply, question: Question) -> bool:
    return any(citation.location.rsplit("/", 1)[-1] in question.pages for citation in reply.citations)


def family(embedder: Embedder) -> str:
    return embedder.name.split(":", 1)[0].split("-", 1)[0]


@dataclass(frozen=True)
class Rates:
    answered: float  # of the answerable
    right_page: float  # of the answered answerable
    near_miss: float  # abstained on
    unanswerable: float  # abstained on
    not_answered_by_docs: float  # abstained on, near misses and unanswerable together
    counts: tuple[int, int, int]


def rates(outcomes: list[Outcome]) -> Rates:
    of = {kind: [o for o in outcomes if o.question.kind == kind] for kind in KINDS}
    answered = [o for o in of["answerable"] if not o.abstained]
    negative = of["near_miss"] + of["unanswerable"]
    return Rates(answered=len(answered) / len(of["answerable"]),
                 right_page=sum(o.right_page for o in answered) / max(1, len(answered)),
                 near_miss=_abstained(of["near_miss"]), unanswerable=_abstained(of["unanswerable"]),
                 not_answered_by_docs=_abstained(negative), counts=tuple(len(of[kind]) for kind in KINDS))


def _abstained(outcomes: list[Outcome]) -> float:
    return sum(o.abstained for o in outcomes) / max(1, len(outcomes))


def calibrated(outcomes: list[Outcome], current: float) -> float:
    """The highest threshold (rounded down to 0.01) that answers ANSWER_TARGET of the answerable.
    Those abstained on above `current` (the extractive answer found no sentence to quote) stay
    unanswered whatever the threshold, and use up part of the allowance."""
    answerable = [o for o in outcomes if o.question.kind == "answerable"]
    regardless = sum(o.abstained and o.score >= current for o in answerable)
    allowed = math.floor(len(answerable) * (1 - ANSWER_TARGET)) - regardless  # may go unanswered
    scores = sorted(o.score for o in answerable if not (o.abstained and o.score >= current))
    return math.floor(scores[max(allowed, 0)] * 100) / 100


def print_table(results: dict[tuple[str, str], tuple[list[Outcome], list[Outcome]]]) -> None:
    table = Table(title="Abstention, offline: before (no confidence score) → now")
    for column in ("embedder", "set", "questions (ans/near/unans)", f"answered answerable (≥ {ANSWER_TARGET:.0%})",
                   f"abstained, unanswerable (≥ {ABSTAIN_TARGET:.0%})", "abstained, near miss",
                   "abstained, both", "right page among answered"):
        table.add_column(column, justify="left" if column in ("embedder", "set") else "right")
    for (name, label), (now, before) in results.items():
        new, old = rates(now), rates(before)
        table.add_row(name, label, "/".join(map(str, new.counts)),
                      _pair(old.answered, new.answered, new.answered >= ANSWER_TARGET),
                      _pair(old.unanswerable, new.unanswerable, new.unanswerable >= ABSTAIN_TARGET),
                      _pair(old.near_miss, new.near_miss), _pair(old.not_answered_by_docs, new.not_answered_by_docs),
                      _pair(old.right_page, new.right_page))
    console.print(table)


def _pair(before: float, now: float, met: bool | None = None) -> str:
    mark = "" if met is None else (" [green]✓[/]" if met else " [red]✗[/]")
    return f"{before:.0%} → {now:.0%}{mark}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    available = ["hash", "local"] if LocalEmbedder.available() else ["hash"]
    parser.add_argument("--embedders", default=",".join(available), help="comma-separated: hash, local")
    parser.add_argument("--calibrate", action="store_true", help="print the thresholds the RQ set supports")
    args = parser.parse_args()
    embedders = {"hash": HashEmbedder, "local": LocalEmbedder}
    began = time.monotonic()
    results: dict[tuple[str, str], tuple[list[Outcome], list[Outcome]]] = {}
    with tempfile.TemporaryDirectory(prefix="morningai-bench-") as home, database(Path(home)) as db:
        for name in args.embedders.split(","):
            embedder = embedders[name]()
            both_now, both_before = [], []
            for corpus, role in CORPORA.items():
                with console.status(f"{name}: asking the {corpus} questions"):
                    now, before = ask_all(db, embedder, corpus)
                results[(name, f"{corpus} ({role})")] = (now, before)
                both_now += now
                both_before += before
            results[(name, "both")] = (both_now, both_before)
            if args.calibrate:
                rq, current = results[(name, "rq (calibration)")][0], confidence.threshold(embedder.name)
                console.print(f"{name}: the RQ set supports a threshold of {calibrated(rq, current):.2f} "
                              f"(agents/confidence.py has {current:.2f})")
    print_table(results)
    console.print(f"Each question asked as a web task through agents.graph.Agent (offline; thresholds "
                  f"{confidence.THRESHOLDS}). Before: memory.search then agents.offline.offline_answer, "
                  f"as the agent answered until now. Run: {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
