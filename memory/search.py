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
    # Cosine of the passage and the query, comparable across queries (fused scores are not):
    # how well the best passage matches is how confident an answer from it can be.
    similarity: float = 0.0


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
        by_vector = [] if mode == "text" else _nearest(conn, space.embedding_dims, query_vector,
                                                       candidates, filters, params)
        by_text = [] if mode == "vector" else [r["id"] for r in conn.execute(
            _TEXT_QUERY.format(documents_join=_DOCUMENTS_JOIN if filters else "", filters=filters),
            {"text": query, "n": candidates, **params})]
        fused = _reciprocal_rank_fusion([by_vector, by_text])
        if not fused:
            return []
        # Binary: pgvector's text form costs ten times as much to parse.
        vectors = {r["id"]: r["embedding"].to_numpy() for r in conn.cursor(binary=True).execute(
            "SELECT id, embedding FROM chunks WHERE id = ANY(%s)", (list(fused),))}
        chosen = _maximal_marginal_relevance(fused, vectors, k=k, diversity=diversity)
        rows = {r["id"]: r for r in conn.execute(
            f"""SELECT c.id, c.heading, c.text, d.title, d.location, s.location AS source,
                      ts_headline('english', c.text, {_ANY_TERM},
                                  'StartSel=**, StopSel=**, MaxWords=40, MinWords=20, MaxFragments=2')
                          AS snippet
               FROM chunks c JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id
               WHERE c.id = ANY(%(ids)s)""",
            {"text": query, "ids": chosen})}
    return [Hit(chunk_id=i, title=rows[i]["title"], location=rows[i]["location"], source=rows[i]["source"],
                heading=rows[i]["heading"], text=rows[i]["text"], snippet=_one_line(rows[i]["snippet"]),
                score=round(fused[i], 6), similarity=round(float(vectors[i] @ query_vector), 4))
            for i in chosen]


def _nearest(conn, dims: int, query_vector, candidates: int, filters: str, params: dict) -> list[int]:
    """Ids of the nearest chunks, best first."""
    # relaxed_order: keep walking the graph until enough rows pass RLS and the filters. It may
    # return them slightly out of order, so they are re-ranked by their exact distance.
    conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, int(candidates))}")
    rows = conn.execute(
        f"""SELECT c.id, {_distance(dims)} AS distance FROM chunks c {_DOCUMENTS_JOIN if filters else ""}
            WHERE {_vector_clause(dims)} {filters}
            ORDER BY {_distance(dims)} LIMIT %(n)s""",
        {"q": query_vector, "n": candidates, **params}).fetchall()
    return [r["id"] for r in sorted(rows, key=lambda r: r["distance"])]


_DOCUMENTS_JOIN = "JOIN documents d ON d.id = c.document_id"

# Full text, scored like BM25's idf: each query word weighs by its rarity in the workspace, so a
# rare word (an error code, a function name) outweighs common ones; ts_rank_cd alone weighs
# "error" and "E4012" the same. Candidates come from the GIN index through the rarest words
# only, so a common word cannot drag in the whole workspace; the cap bounds the worst case.
_TEXT_QUERY = """
    WITH words AS MATERIALIZED (
        SELECT DISTINCT plainto_tsquery('simple', lexeme) AS query
        FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS lexeme),
    weights AS MATERIALIZED (
        SELECT w.query, ln(1 + (n.total - w.df + 0.5) / (w.df + 0.5)) AS idf
        FROM (SELECT query, (SELECT count(*) FROM chunks WHERE tsv @@ query) AS df FROM words) w,
             (SELECT count(*) AS total FROM chunks) n
        WHERE w.df > 0),
    rarest AS MATERIALIZED (
        SELECT string_agg(query::text, ' | ')::tsquery AS query
        FROM (SELECT query FROM weights ORDER BY idf DESC LIMIT 4) r),
    matches AS MATERIALIZED (
        SELECT c.id, c.tsv FROM chunks c {documents_join}, rarest
        WHERE c.tsv @@ rarest.query {filters}
        LIMIT 2000)
    SELECT m.id FROM matches m JOIN weights w ON m.tsv @@ w.query
    GROUP BY m.id ORDER BY sum(w.idf) DESC, m.id LIMIT %(n)s"""


# The query's words, ORed, for marking them in snippets.
_ANY_TERM = "replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery"

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
