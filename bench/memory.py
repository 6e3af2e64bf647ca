"""MorningAI's memory against langchain-postgres's PGVectorStore: the same chunks, the same
vectors, the same PostgreSQL server. Ingest rate, search latency and recall@10.

    .venv/bin/python bench/memory.py [--chunks 100000] [--queries 200]

langchain-postgres 0.0.19 pins pgvector<0.4, the hub needs >=0.4: install it without its pins,
`pip install --no-deps langchain-postgres==0.0.19`, then
`pip install 'langchain-core>=1.2.11,<2' 'sqlalchemy[asyncio]>=2,<3' 'asyncpg>=0.30'`.

Uses DATABASE_URL when set, else an embedded PostgreSQL in a temporary directory; each side gets
a fresh database there, dropped at the end. What keeps the comparison fair:
- Every text is hash-embedded once, up front; ours is handed the vectors, theirs looks them up
  through an Embeddings wrapper. Ingest rates measure storage alone, over identical vectors.
- Ours is the hub's write path below parsing and chunking (which theirs skips too):
  memory.store.replace_document, one Database.workspace transaction (Row Level Security) per
  document of 10-50 chunks. Theirs: add_texts per document, {"workspace": name} in a metadata column.
- Both index with pgvector's HNSW defaults (m=16, ef_construction=64, 256 MB of
  maintenance_work_mem) and search with hnsw.ef_search=100, as memory.search does. Ours builds
  each workspace's index after its load, as an ingest does. Theirs is timed twice: with the
  index made at set-up (apply_vector_index before add_texts, a live store's steady state, and
  the target's baseline), and into a second table with the index built after the load, which
  shows how much of the ratio is the bulk build and how much the write path.
- Writes, then queries, alternate between the sides so both see the same machine state.
- Recall@10 is against exact cosine search over the workspace's vectors in numpy. Ours runs
  mode="vector", diversity=0 (no MMR: pure similarity order); hybrid runs as the hub calls it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
from langchain_core.embeddings import Embeddings
from langchain_postgres import Column, PGEngine, PGVectorStore
from langchain_postgres.v2.indexes import HNSWIndex, HNSWQueryOptions
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.engine import make_url

# Run as a script, this file's folder comes first on sys.path and `import memory` would find
# this file (bench/memory.py) instead of the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from core.config import load_settings  # noqa: E402
from core.db import Database  # noqa: E402
from hub import migrate  # noqa: E402
from hub.embedded import EmbeddedPostgres  # noqa: E402
from memory import search, store, workspaces  # noqa: E402
from memory.chunking import count_tokens  # noqa: E402
from memory.documents import Chunk, Document  # noqa: E402
from memory.embedders import HashEmbedder  # noqa: E402

WORKSPACES = [f"team-{i}" for i in range(10)]
K = 10
EF_SEARCH = 100  # memory.search's hnsw.ef_search with its default candidates=40
# Our searches run under this statement_timeout, so one pathological query cannot hold the run
# for minutes; after HYBRID_GIVE_UP timeouts, hybrid search is not tried again.
TIMEOUT_MS, HYBRID_GIVE_UP = 1000, 5
SEARCH_P95_MS, RECALL, INGEST_RATIO = 20.0, 0.95, 5.0  # the targets, on 2 cores
console = Console(width=None if sys.stdout.isatty() else 120)  # a readable table in a log too

# --- a corpus of technical prose, deterministic from the seed ---------------------------------

TECH = """service cluster replica shard queue worker cache token credential deploy migration
schema index latency timeout retry backoff webhook endpoint gateway certificate secret pipeline
artifact build release canary metric alert dashboard trace log database connection pool
transaction lock vacuum replication snapshot backup bucket volume container image registry node
namespace ingress proxy session header payload partition consumer producer topic offset stream
batch job scheduler quota thread socket port host config flag tenant role permission policy audit
incident runbook heartbeat checksum parser handler middleware adapter client upload export""".split()
VERBS = "rotate restart drain scale migrate rebuild purge flush reindex enable disable pin upgrade verify".split()
ADJECTIVES = "stale primary standby idle degraded encrypted pending orphaned nightly regional".split()
SYLLABLES = "ka lo mi ter vos qua zen dri pel nox ru sa bel tor xi fen gar hul jo wen".split()
TEMPLATES = [
    "To {verb} the {noun} {ident}, run `{command}` on the {jargon} {noun}.",
    "When the {jargon} {noun} reports {error}, {verb} the {adj} {noun} before the next deploy.",
    "{ident} reads its {noun} from `{jargon}.toml`; a missing value falls back to {n}.",
    "Error {error}: the {noun} could not reach {ident} within {n} ms.",
    "See the {jargon} runbook: {verb} {ident}, wait {n} seconds, then check the {noun}.",
    "{jargon} uses {ident} for {noun} {noun}; pass --{noun}-{noun}={n} to change it.",
    "Never {verb} a {adj} {noun} by hand: `{command}` also updates {ident}.",
]


@dataclass
class Doc:
    workspace: str
    document: Document
    content_hash: str
    chunks: list[Chunk]
    first: int  # row of its first chunk in the corpus-wide arrays


def _workspace_pools(rng: random.Random) -> dict[str, list[str]]:
    """A workspace's own jargon (product names), identifiers, error codes and commands."""
    jargon = ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))) for _ in range(300)]
    pick = rng.choice
    return {"jargon": jargon, "noun": TECH, "verb": VERBS, "adj": ADJECTIVES,
            "ident": [pick([f"{a}_{b}", f"{a}.{b}()", f"{a.title()}{b.title()}"])
                      for a, b in ((pick(jargon), pick(TECH)) for _ in range(150))],
            "error": [pick([f"E{rng.randint(1000, 9999)}", f"ERR_{pick(TECH).upper()}_{n}"]) for n in range(60)],
            "command": [pick([f"kubectl rollout restart deploy/{pick(jargon)}", f"make {pick(VERBS)}-{pick(TECH)}",
                              f"{pick(jargon)}ctl {pick(VERBS)} --{pick(TECH)}={n}"]) for n in range(60)]}


def _sentence(rng: random.Random, topic: dict[str, list[str]], pools: dict[str, list[str]]) -> str:
    # Mostly the document's own topic words, so a document's chunks are near neighbours as in
    # real docs; now and then any of the workspace's.
    def fill(match: re.Match) -> str:
        if match[1] == "n":
            return str(rng.choice([3, 5, 10, 30, 60, 100, 250, 500, 1000]))
        return rng.choice(topic[match[1]] if rng.random() < 0.75 else pools[match[1]])
    return re.sub(r"\{(\w+)\}", fill, rng.choice(TEMPLATES))


def build_corpus(n_chunks: int, seed: int) -> list[Doc]:
    rng = random.Random(seed)
    pools = {name: _workspace_pools(rng) for name in WORKSPACES}
    docs: list[Doc] = []
    total = 0
    while total < n_chunks:
        name = WORKSPACES[len(docs) % len(WORKSPACES)]
        topic = {kind: rng.sample(words, 8) for kind, words in pools[name].items()}
        title = f"{topic['jargon'][0].title()} {topic['noun'][0]} {rng.choice(['guide', 'runbook', 'FAQ'])}"
        chunks = []
        for position in range(min(rng.randint(10, 50), n_chunks - total)):
            if position % 4 == 0:  # a new section every few chunks
                section = f"{rng.choice(VERBS).title()} the {rng.choice(topic['noun'])}"
            text = " ".join(_sentence(rng, topic, pools[name]) for _ in range(rng.randint(4, 8)))
            chunks.append(Chunk(text=text, heading=(title, section), position=position, tokens=count_tokens(text)))
        body = "\n\n".join(c.text for c in chunks)
        document = Document(location=f"docs/{topic['jargon'][0]}/{len(docs):05d}.md", title=title,
                            text=body, format="markdown")
        docs.append(Doc(name, document, hashlib.sha256(body.encode()).hexdigest(), chunks, total))
        total += len(chunks)
    return docs


def make_queries(docs: list[Doc], n: int, seed: int) -> list[tuple[str, str]]:
    """(workspace, query): a window of some chunk's words with a fifth of them dropped, the way
    someone half-remembers a passage."""
    rng = random.Random(seed + 1)
    queries = []
    for i in range(n):
        name = WORKSPACES[i % len(WORKSPACES)]
        words = rng.choice(rng.choice([d for d in docs if d.workspace == name]).chunks).text.split()
        start = rng.randrange(max(1, len(words) - 20))
        queries.append((name, " ".join(w for w in words[start:start + 20] if rng.random() > 0.2)))
    return queries


# --- the two stores ---------------------------------------------------------------------------

class PrecomputedEmbeddings(Embeddings):
    """LangChain's view of the hash embedder: documents' vectors come from the up-front pass
    (so ingest times storage, as for ours); queries are embedded live, as ours are."""

    def __init__(self, embedder: HashEmbedder, texts: list[str], vectors: np.ndarray):
        self.embedder, self.vectors = embedder, vectors
        self.row = {text: i for i, text in enumerate(texts)}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors[[self.row[t] for t in texts]].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()


@contextmanager
def two_databases(home: Path) -> Iterator[tuple[str, str]]:
    """URLs of two fresh databases on one server (DATABASE_URL's, else embedded), dropped after."""
    postgres = EmbeddedPostgres(home)
    server = load_settings().database_url or postgres.start()
    names = [f"bench_{side}_{uuid.uuid4().hex[:8]}" for side in ("ours", "langchain")]
    try:
        with psycopg.connect(server, autocommit=True) as admin:
            for name in names:
                admin.execute(f"CREATE DATABASE {name}")
            # The memory our index builds give themselves (migration 0005), for theirs too.
            admin.execute(f"ALTER DATABASE {names[1]} SET maintenance_work_mem = '256MB'")
        url = make_url(server)
        yield (url.set(database=names[0]).render_as_string(hide_password=False),
               url.set(drivername="postgresql+psycopg", database=names[1]).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            for name in names:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        postgres.stop()  # only if this process started it


def setup_ours(url: str, embedder: HashEmbedder) -> tuple[Database, dict[str, tuple[uuid.UUID, uuid.UUID]]]:
    """The migrated database and, per workspace, (workspace id, source id) to write under."""
    db = Database(url)
    migrate.migrate(db)
    spaces = {}
    for name in WORKSPACES:
        space, _ = workspaces.ensure(db, name)
        workspaces.record_embedder(db, space, embedder.name, embedder.dims)
        with db.workspace(space.id) as conn:
            spaces[name] = (space.id, store.upsert_source(conn, space.id, "folder", f"/bench/{name}", {})["id"])
    return db, spaces


def setup_theirs(engine: PGEngine, embeddings: Embeddings, table: str, *, index_first: bool) -> PGVectorStore:
    engine.init_vectorstore_table(table, HashEmbedder.dims,
                                  metadata_columns=[Column("workspace", "TEXT", nullable=False)])
    vectorstore = PGVectorStore.create_sync(engine, embeddings, table, metadata_columns=["workspace"],
                                            index_query_options=HNSWQueryOptions(ef_search=EF_SEARCH))
    if index_first:
        vectorstore.apply_vector_index(HNSWIndex())
    return vectorstore


def write_ours(db: Database, spaces: dict, doc: Doc, vectors: np.ndarray) -> None:
    space_id, source_id = spaces[doc.workspace]
    with db.workspace(space_id) as conn:
        store.replace_document(conn, space_id, source_id, doc.document, doc.content_hash, doc.chunks,
                               vectors[doc.first:doc.first + len(doc.chunks)])


def index_ours(db: Database, spaces: dict, embedder: HashEmbedder, progress: Progress) -> None:
    """What an ingest does after loading: build each workspace's HNSW index."""
    for space_id, _ in progress.track(spaces.values(), description="index (ours)"):
        with db.workspace(space_id) as conn:
            store.index_workspace(conn, embedder.dims)


def write_theirs(vectorstore: PGVectorStore, doc: Doc, texts: list[str]) -> None:
    rows = range(doc.first, doc.first + len(doc.chunks))
    vectorstore.add_texts([texts[i] for i in rows], metadatas=[{"workspace": doc.workspace}] * len(rows),
                          ids=[str(uuid.UUID(int=i)) for i in rows])


def prepare_search(our_url: str, their_url: str, db: Database, docs: list[Doc]) -> dict[int, int]:
    """ANALYZE both (the statistics autovacuum would gather soon after), put our database under
    TIMEOUT_MS for the connections opened from now on, and map our chunk ids to corpus rows."""
    db.close()  # the pool reopens with the timeout
    first = {doc.document.location: doc.first for doc in docs}
    with psycopg.connect(their_url.replace("+psycopg", "", 1), autocommit=True) as conn:
        conn.execute("ANALYZE")
    with psycopg.connect(our_url, autocommit=True) as conn:  # the owner: RLS would show one workspace
        conn.execute("ANALYZE")
        conn.execute(f"ALTER DATABASE {make_url(our_url).database} SET statement_timeout = {TIMEOUT_MS}")
        rows = conn.execute("SELECT c.id, d.location, c.position FROM chunks c JOIN documents d ON d.id = document_id")
        return {chunk_id: first[location] + position for chunk_id, location, position in rows}


# --- measuring --------------------------------------------------------------------------------

def timed(fn, *args, **kwargs) -> tuple[float, object]:
    began = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - began, result


def recall_at_k(found: list[int], query_vector: np.ndarray, members: np.ndarray, vectors: np.ndarray) -> float:
    """Share of `found` that belongs in the exact top K. A hit that ties the K-th best counts."""
    kth = np.partition(vectors[members] @ query_vector, -K)[-K]
    return sum(float(vectors[i] @ query_vector) >= kth - 1e-5 for i in found[:K]) / K


def timed_hybrid(db: Database, embedder: HashEmbedder, name: str, query: str) -> float:
    """Milliseconds of the hub's default search (hybrid, MMR); infinite when it timed out."""
    try:
        return timed(search.search, db, embedder, name, query, k=K)[0] * 1000
    except psycopg.errors.QueryCanceled:
        return float("inf")


def run_queries(queries, embedder, vectors, members, db, our_rows, vectorstore, progress) -> dict:
    results = {key: [] for key in ("ours_vector_ms", "ours_hybrid_ms", "theirs_ms")}
    recalls = {side: {name: [] for name in WORKSPACES} for side in ("ours", "theirs")}
    returned = {"ours": [], "theirs": []}
    for name, query in queries[:20]:  # warm both sides' caches and pools; not counted
        search.search(db, embedder, name, query, k=K, mode="vector")
        vectorstore.similarity_search(query, k=K, filter={"workspace": name})
    task = progress.add_task("search (both sides)", total=len(queries))
    for name, query in queries:
        query_vector = embedder.embed([query])[0]
        seconds, hits = timed(search.search, db, embedder, name, query, k=K, diversity=0.0, mode="vector")
        results["ours_vector_ms"].append(seconds * 1000)
        if results["ours_hybrid_ms"].count(float("inf")) < HYBRID_GIVE_UP:
            results["ours_hybrid_ms"].append(timed_hybrid(db, embedder, name, query))
        seconds, found = timed(vectorstore.similarity_search, query, k=K, filter={"workspace": name})
        results["theirs_ms"].append(seconds * 1000)
        for side, ids in (("ours", [our_rows[h.chunk_id] for h in hits]),
                          ("theirs", [uuid.UUID(d.id).int for d in found])):
            recalls[side][name].append(recall_at_k(ids, query_vector, members[name], vectors))
            returned[side].append(len(ids))
        progress.advance(task)
    for side in recalls:
        per_workspace = [np.mean(r) for r in recalls[side].values() if r]
        results[f"{side}_recall"] = (float(np.mean(per_workspace)), float(np.min(per_workspace)))
        results[f"{side}_returned"] = float(np.mean(returned[side]))
    return results


def print_table(results: dict, rates: dict[str, float]) -> None:
    # method="higher": a percentile is a measured value, never an interpolation towards a timeout
    pct = lambda key, q: float(np.percentile(results[key], q, method="higher"))  # noqa: E731
    ms = lambda v: f"> {TIMEOUT_MS:,} (timeout)" if v == float("inf") else f"{v:.2f}"  # noqa: E731
    p95, recall = f"≤ {SEARCH_P95_MS:g} ms", results["ours_recall"][0]
    rows = [  # metric, ours, theirs (None: no counterpart), format, target, met? (None: no target)
        ("ingest, chunks/s", rates["ours"], rates["theirs"], "{:,.0f}".format, f"≥ {INGEST_RATIO:g}× theirs",
         rates["ours"] >= INGEST_RATIO * rates["theirs"]),
        ("  theirs with the index built after the load", rates["ours"], rates["theirs_bulk"], "{:,.0f}".format,
         "", None),
        ("vector search p50, ms", pct("ours_vector_ms", 50), pct("theirs_ms", 50), ms, "", None),
        ("vector search p95, ms", pct("ours_vector_ms", 95), pct("theirs_ms", 95), ms, p95,
         pct("ours_vector_ms", 95) <= SEARCH_P95_MS),
        ("hybrid search p50, ms", pct("ours_hybrid_ms", 50), None, ms, "", None),
        ("hybrid search p95, ms", pct("ours_hybrid_ms", 95), None, ms, p95, pct("ours_hybrid_ms", 95) <= SEARCH_P95_MS),
        ("recall@10, mean", recall, results["theirs_recall"][0], "{:.3f}".format, f"≥ {RECALL:g}", recall >= RECALL),
        ("recall@10, worst workspace", results["ours_recall"][1], results["theirs_recall"][1], "{:.3f}".format,
         "", None),
        ("results per query (of 10)", results["ours_returned"], results["theirs_returned"], "{:.2f}".format, "", None),
    ]
    table = Table(title="memory: MorningAI vs langchain-postgres (same chunks, vectors and server)")
    for column in ("metric", "MorningAI", "langchain-postgres", "ratio", "target", "met?"):
        table.add_column(column, justify="left" if column in ("metric", "target") else "right")
    for metric, ours, theirs, fmt, target, met in rows:
        comparable = theirs and np.isfinite([ours, theirs]).all()
        table.add_row(metric, fmt(ours), "—" if theirs is None else fmt(theirs),
                      f"{ours / theirs:.2f}×" if comparable else "—", target,
                      "" if met is None else "[green]yes[/]" if met else "[red]NO[/]")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in all, over 10 workspaces")
    parser.add_argument("--queries", type=int, default=200, help="search queries, spread over the workspaces")
    parser.add_argument("--seed", type=int, default=7, help="seed of the corpus and the queries")
    args = parser.parse_args()
    began = time.monotonic()
    embedder = HashEmbedder()
    console.print(f"{args.chunks:,} chunks ({embedder.name}, {embedder.dims} dims) in {len(WORKSPACES)} "
                  f"workspaces, {args.queries} queries, k={K}, hnsw.ef_search={EF_SEARCH}, seed {args.seed}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        docs = build_corpus(args.chunks, args.seed)
        texts = [store.embedding_text(c.heading, c.text) for d in docs for c in d.chunks]
        batches = [texts[start:start + 1000] for start in range(0, len(texts), 1000)]
        timings = [timed(embedder.embed, batch) for batch in progress.track(batches, description="embed (batches)")]
        vectors, embed_s = np.concatenate([v for _, v in timings]), sum(seconds for seconds, _ in timings)
        workspace_of = np.array([WORKSPACES.index(d.workspace) for d in docs for _ in d.chunks])
        members = {name: np.flatnonzero(workspace_of == i) for i, name in enumerate(WORKSPACES)}
        with tempfile.TemporaryDirectory(prefix="morningai-bench-") as home, \
                two_databases(Path(home)) as (our_url, their_url):
            db, spaces = setup_ours(our_url, embedder)
            engine = PGEngine.from_connection_string(their_url)
            their_embeddings = PrecomputedEmbeddings(embedder, texts, vectors)
            vectorstore = setup_theirs(engine, their_embeddings, "chunks", index_first=True)
            bulk = setup_theirs(engine, their_embeddings, "chunks_bulk", index_first=False)
            try:
                seconds = {"ours": 0.0, "theirs": 0.0, "theirs_bulk": 0.0}
                task = progress.add_task("ingest (both sides)", total=len(texts))
                for doc in docs:
                    seconds["ours"] += timed(write_ours, db, spaces, doc, vectors)[0]
                    seconds["theirs"] += timed(write_theirs, vectorstore, doc, texts)[0]
                    progress.advance(task, len(doc.chunks))
                seconds["ours"] += timed(index_ours, db, spaces, embedder, progress)[0]
                task = progress.add_task("ingest (theirs, index after)", total=len(texts))
                for doc in docs:
                    seconds["theirs_bulk"] += timed(write_theirs, bulk, doc, texts)[0]
                    progress.advance(task, len(doc.chunks))
                seconds["theirs_bulk"] += timed(bulk.apply_vector_index, HNSWIndex())[0]
                our_rows = prepare_search(our_url, their_url, db, docs)
                results = run_queries(make_queries(docs, args.queries, args.seed), embedder, vectors, members,
                                      db, our_rows, vectorstore, progress)
            finally:
                db.close()
                asyncio.run(engine.close())
    print_table(results, {side: len(texts) / spent for side, spent in seconds.items()})
    hybrid = results["ours_hybrid_ms"]
    console.print(f"{len(docs):,} documents. Embedding ran once, for both sides, at {len(texts) / embed_s:,.0f} "
                  "chunks/s, outside both ingest rates. Ours: memory.store.replace_document, a Database.workspace "
                  "transaction per document; theirs: PGVectorStore.add_texts per document. Ratio: MorningAI ÷ "
                  f"langchain-postgres. Hybrid: timed on {len(hybrid)} queries, {hybrid.count(float('inf'))} stopped "
                  f"by a {TIMEOUT_MS:,} ms statement_timeout. Run: {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
