"""Hybrid search over one workspace's chunks.

Two candidate lists, fused: nearest neighbours by cosine distance (the workspace's own HNSW
index, with pgvector's iterative scan so format or path filters do not starve it of results)
and PostgreSQL full text (the GIN-indexed tsvector, each query word weighted by its rarity in
the workspace), which finds what embeddings blur: error codes, function names, flags.
Reciprocal Rank Fusion (k = 60) merges them without calibrating their scores; Maximal Marginal
Relevance then keeps five chunks of one page from crowding out the rest.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core import workspaces
from core.db import Database
from memory.embedders import Embedder

RRF_K = 60
MAX_INDEXED_DIMS = 2000  # pgvector indexes vectors up to this size; larger ones are searched exactly


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
    document_id: str = ""  # its document, to read whole (hub/mcp: fetch_document)


def search(db: Database, embedder: Embedder, workspace: str, query: str, *, k: int = 8,
           candidates: int = 40, diversity: float = 0.3, formats: Sequence[str] | None = None,
           location_prefix: str | None = None, sources: Sequence[uuid.UUID] | None = None,
           mode: str = "hybrid") -> list[Hit]:
    """The k most relevant chunks of `workspace` for `query`. Empty when nothing was ingested.

    `sources` (source ids) limits the search to those sources' documents, inside both
    candidate queries, so neither side spends its candidates on chunks that would be dropped.
    `mode` "vector" or "text" uses one side alone (for comparisons); "hybrid" fuses both."""
    space = workspaces.get(db, workspace)
    if space.embedder is None:
        return []
    workspaces.check_embedder(space, embedder.name, embedder.dims)
    query_vector = embedder.embed([query])[0]
    filters, params = _filters(formats, location_prefix, sources)
    with db.workspace(space.id) as conn:
        by_vector = [] if mode == "text" else _nearest(conn, space, query_vector, candidates, filters, params)
        by_text = [] if mode == "vector" else _by_text(conn, query, candidates, filters, params)
        fused = _reciprocal_rank_fusion([by_vector, by_text])
        if not fused:
            return []
        # Binary: pgvector's text form costs ten times as much to parse.
        vectors = {r["id"]: r["embedding"].to_numpy() for r in conn.cursor(binary=True).execute(
            "SELECT id, embedding FROM chunks WHERE id = ANY(%s)", (list(fused),))}
        chosen = _maximal_marginal_relevance(fused, vectors, k=k, diversity=diversity)
        rows = {r["id"]: r for r in conn.execute(
            f"""SELECT c.id, c.heading, c.text, d.id AS document_id, d.title, d.location, s.location AS source,
                      ts_headline('english', c.text, {_ANY_TERM},
                                  'StartSel=**, StopSel=**, MaxWords=40, MinWords=20, MaxFragments=2')
                          AS snippet
               FROM chunks c JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id
               WHERE c.id = ANY(%(ids)s)""",
            {"text": query, "ids": chosen})}
    return [Hit(chunk_id=i, title=rows[i]["title"], location=rows[i]["location"], source=rows[i]["source"],
                heading=rows[i]["heading"], text=rows[i]["text"], snippet=_one_line(rows[i]["snippet"]),
                score=round(fused[i], 6), similarity=round(float(vectors[i] @ query_vector), 4),
                document_id=str(rows[i]["document_id"]))
            for i in chosen]


def _nearest(conn, space: workspaces.Workspace, query_vector, candidates: int, filters: str,
             params: dict) -> list[int]:
    """Ids of the nearest chunks, best first."""
    # relaxed_order: keep walking the graph until enough rows pass the filters. It may return
    # them slightly out of order, so they are re-ranked by their exact distance.
    conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, int(candidates))}")
    rows = conn.execute(nearest_sql(space, filters), {"q": query_vector, "n": candidates, **params}).fetchall()
    return [r["id"] for r in sorted(rows, key=lambda r: r["distance"])]


def nearest_sql(space: workspaces.Workspace, filters: str = "") -> str:
    """The nearest-neighbour query: parameters q (the query vector) and n."""
    dims = int(space.embedding_dims)
    # The workspace's own index is partial, and the planner proves it applies only from constants
    # in the query: hence the id and size as literals, not parameters.
    where = f"c.workspace_id = '{uuid.UUID(str(space.id))}'::uuid AND c.dims = {dims}"
    distance = (f"c.embedding::vector({dims}) <=> %(q)s::vector({dims})" if dims <= MAX_INDEXED_DIMS
                else "c.embedding <=> %(q)s")
    return f"""SELECT c.id, {distance} AS distance FROM chunks c {_DOCUMENTS_JOIN if filters else ""}
               WHERE {where} {filters} ORDER BY {distance} LIMIT %(n)s"""


_DOCUMENTS_JOIN = "JOIN documents d ON d.id = c.document_id"

def _by_text(conn, query: str, candidates: int, filters: str, params: dict) -> list[int]:
    """Ids of the chunks sharing the query's words, best first.

    Scored like BM25's idf: each query word weighs by its rarity in the workspace, so a rare word
    (an error code, a function name) outweighs common ones; ts_rank_cd alone weighs "error" and
    "E4012" the same. The counts come from chunk_terms, kept as chunks are written (migration
    0005). Candidates are the chunks holding the rarest words, as many words as fit in
    MATCHES chunks, so a common word never drags in the whole workspace.

    With filters, candidates come from the allowed documents alone (chunks_matching_in, migration
    0013), and the words are chosen by how many of those documents' chunks hold them: filtering
    afterwards spent the cap on other sources, and the workspace's rarest words may not be in the
    allowed documents at all."""
    matching, weights, allowed = "chunks_matching(%(rarest)s::tsquery, %(cap)s)", _WORD_WEIGHTS, {}
    if filters:
        documents = [r["id"] for r in conn.execute(f"SELECT d.id FROM documents d WHERE true {filters}", params)]
        if not documents:
            return []
        matching = "chunks_matching_in(%(rarest)s::tsquery, %(cap)s, %(documents)s)"
        weights, allowed = _WORD_WEIGHTS_IN, {"documents": documents}
    words = conn.execute(weights, {"text": query, "cap": MATCHES, **allowed}).fetchall()
    if not words:
        return []
    rarest, total = [], 0
    # Filtered counts stop at the cap, so words past it tie: the workspace's rarer one goes first.
    for word in sorted(words, key=lambda w: (w["chunks"], -w["idf"])):
        if rarest and total + word["chunks"] > MATCHES:
            break
        rarest.append(word["query"])
        total += word["chunks"]
    return [r["id"] for r in conn.execute(
        _TEXT_QUERY.format(matching=matching),
        {"rarest": " | ".join(rarest), "cap": MATCHES, "queries": [w["query"] for w in words],
         "idf": [w["idf"] for w in words], "n": candidates, **allowed})]


MATCHES = 300

_WORD_WEIGHTS = """
    SELECT plainto_tsquery('simple', t.lexeme)::text AS query, t.chunks,
           ln(1 + (n.chunks - t.chunks + 0.5) / (t.chunks + 0.5)) AS idf
    FROM chunk_terms t JOIN chunk_counts n USING (workspace_id)
    WHERE t.workspace_id = current_workspace() AND t.chunks > 0
      AND t.lexeme = ANY(tsvector_to_array(to_tsvector('english', %(text)s)))"""

# The same words and idf, each with its chunks among the allowed documents, counted only up to
# the cap (a word with more fits only alone, as the first, and the first is taken whatever its
# count), so a common word costs no more than MATCHES rows. Words the allowed documents lack are
# left out, as _WORD_WEIGHTS leaves out those no chunk holds.
_WORD_WEIGHTS_IN = f"""
    SELECT w.query, m.chunks, w.idf FROM ({_WORD_WEIGHTS}) w,
        LATERAL (SELECT count(*) AS chunks FROM chunks_matching_in(w.query::tsquery, %(cap)s, %(documents)s)) m
    WHERE m.chunks > 0"""

# chunks_matching and chunks_matching_in find the candidates through the GIN index, which Row
# Level Security would keep a plain query from using (see migration 0005).
_TEXT_QUERY = """
    WITH matches AS MATERIALIZED (
        SELECT c.id, c.tsv FROM chunks c WHERE c.id IN (SELECT {matching}))
    SELECT m.id FROM matches m JOIN unnest(%(queries)s::tsquery[], %(idf)s::float8[]) AS w (query, idf)
        ON m.tsv @@ w.query
    GROUP BY m.id ORDER BY sum(w.idf) DESC, m.id LIMIT %(n)s"""


# The query's words, ORed, for marking them in snippets.
_ANY_TERM = "replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery"

def _one_line(snippet: str) -> str:
    """A snippet to quote inline: Markdown heading marks and line breaks dropped."""
    return " ".join(_HEADING_MARK.sub(" ", snippet).split())


_HEADING_MARK = re.compile(r"(?m)^\s*#{1,6}\s+")


def _filters(formats: Sequence[str] | None, location_prefix: str | None,
             sources: Sequence[uuid.UUID] | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if sources is not None:
        clauses.append("AND d.source_id = ANY(%(sources)s::uuid[])")
        params["sources"] = list(sources)
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
