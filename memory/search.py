"""Hybrid search over one workspace's chunks.

Two candidate lists, fused: nearest neighbours by cosine distance (HNSW, with pgvector's
iterative scan so Row Level Security's workspace filter does not starve the index of
results) and PostgreSQL full text (the GIN-indexed tsvector, each query word weighted by its
rarity in the workspace), which finds what embeddings blur: error codes, function names, flags. Reciprocal Rank Fusion
(k = 60) merges them without calibrating their scores; Maximal Marginal Relevance then keeps
five chunks of one page from crowding out the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hub.db import Database
from memory import workspaces
from memory.embedders import Embedder

RRF_K = 60
INDEXED_DIMS = (384, 1536)  # the sizes with an HNSW index (see migration 0002)


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    title: str  # the document's title
    location: str  # the document's path within its source, or its URL
    source: str  # the source's location: a folder, repository or URL
    heading: str
    text: str
    snippet: str  # the passage around the query's words, matches in **bold**
    score: float  # fused relevance; higher is better


def search(db: Database, embedder: Embedder, workspace: str, query: str, *, k: int = 8,
           candidates: int = 40, diversity: float = 0.3, formats: Sequence[str] | None = None,
           location_prefix: str | None = None, mode: str = "hybrid") -> list[Hit]:
    """The k most relevant chunks of `workspace` for `query`. Empty when nothing was ingested.

    `mode` "vector" or "text" uses one side alone (for comparisons); "hybrid" fuses both."""
    space = workspaces.get(db, workspace)
    if space.embedder is None:
        return []
    workspaces.check_embedder(space, embedder.name, embedder.dims)
    query_vector = embedder.embed([query])[0]
    filters, params = _filters(formats, location_prefix)
    with db.workspace(space.id) as conn:
        # relaxed_order: keep scanning the graph until enough rows pass the filters.
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, int(candidates))}")
        by_vector = [] if mode == "text" else [r["id"] for r in conn.execute(
            f"""SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
                WHERE {_vector_clause(space.embedding_dims)} {filters}
                ORDER BY {_distance(space.embedding_dims)} LIMIT %(n)s""",
            {"q": query_vector, "n": candidates, **params})]
        by_text = [] if mode == "vector" else [r["id"] for r in conn.execute(
            f"""WITH terms AS ({_TERM_WEIGHTS})
                SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
                     JOIN terms ON c.tsv @@ terms.query
                WHERE true {filters}
                GROUP BY c.id ORDER BY sum(terms.idf) DESC, c.id LIMIT %(n)s""",
            {"text": query, "n": candidates, **params})]
        fused = _reciprocal_rank_fusion([by_vector, by_text])
        if not fused:
            return []
        rows = {r["id"]: r for r in conn.execute(
            f"""SELECT c.id, c.heading, c.text, c.embedding, d.title, d.location, s.location AS source,
                      ts_headline('english', c.text, {_ANY_TERM},
                                  'StartSel=**, StopSel=**, MaxWords=40, MinWords=20, MaxFragments=2')
                          AS snippet
               FROM chunks c JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id
               WHERE c.id = ANY(%(ids)s)""",
            {"text": query, "ids": list(fused)})}
    chosen = _maximal_marginal_relevance(fused, {i: rows[i]["embedding"].to_numpy() for i in rows},
                                         k=k, diversity=diversity)
    return [Hit(chunk_id=i, title=rows[i]["title"], location=rows[i]["location"], source=rows[i]["source"],
                heading=rows[i]["heading"], text=rows[i]["text"], snippet=_one_line(rows[i]["snippet"]),
                score=round(fused[i], 6)) for i in chosen]


# The query's words, ORed, for marking them in snippets.
_ANY_TERM = "replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery"

# Each query word with its inverse document frequency in this workspace (BM25's idf), so a rare
# word (an error code, a function name) outweighs common ones: a passage is scored by the idf
# of the query words it contains. ts_rank_cd alone weighs "error" and "E4012" the same.
_TERM_WEIGHTS = """
    SELECT t.query, ln(1 + (n.total - t.df + 0.5) / (t.df + 0.5)) AS idf
    FROM (SELECT q.query, (SELECT count(*) FROM chunks WHERE tsv @@ q.query) AS df
          FROM (SELECT DISTINCT plainto_tsquery('simple', lexeme) AS query
                FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS lexeme) q) t,
         (SELECT count(*) AS total FROM chunks) n
    WHERE t.df > 0"""


def _one_line(snippet: str) -> str:
    """A snippet to quote inline: Markdown heading marks and line breaks dropped."""
    return " ".join(_HEADING_MARK.sub(" ", snippet).split())


_HEADING_MARK = re.compile(r"(?m)^\s*#{1,6}\s+")


def _vector_clause(dims: int) -> str:
    # The partial HNSW index for these dims is used only when the query repeats its predicate.
    return f"c.dims = {int(dims)}"


def _distance(dims: int) -> str:
    if dims in INDEXED_DIMS:
        return f"c.embedding::vector({dims}) <=> %(q)s::vector({dims})"
    return "c.embedding <=> %(q)s"


def _filters(formats: Sequence[str] | None, location_prefix: str | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if formats:
        clauses.append("AND d.format = ANY(%(formats)s)")
        params["formats"] = list(formats)
    if location_prefix:
        clauses.append("AND starts_with(d.location, %(prefix)s)")
        params["prefix"] = location_prefix
    return " ".join(clauses), params


def _reciprocal_rank_fusion(rankings: Sequence[Sequence[int]]) -> dict[int, float]:
    """id -> sum of 1 / (k + rank) over the rankings it appears in, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank)
    return dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True))


def _maximal_marginal_relevance(scores: dict[int, float], vectors: dict[int, np.ndarray], *,
                                k: int, diversity: float) -> list[int]:
    """Pick k ids, each time the one whose relevance, less its similarity to those already
    picked, is highest. Relevance is the fused score scaled to [0, 1]."""
    ids = list(scores)
    best = max(scores.values())
    relevance = np.array([scores[i] / best for i in ids])
    matrix = np.stack([vectors[i] / (np.linalg.norm(vectors[i]) or 1.0) for i in ids])
    similarity = matrix @ matrix.T
    chosen: list[int] = []
    redundancy = np.zeros(len(ids))
    available = np.ones(len(ids), dtype=bool)
    while len(chosen) < min(k, len(ids)):
        value = (1 - diversity) * relevance - diversity * redundancy
        value[~available] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        available[pick] = False
        redundancy = np.maximum(redundancy, similarity[pick])
    return [ids[i] for i in chosen]
