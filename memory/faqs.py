"""FAQs: the questions a workspace's people keep asking, with reviewed answers.

This module owns the `faqs` table: drafts are written by FAQ generation, an admin approves or
rejects them, and approved ones are found again by question similarity, to be served instead
of asking the model. Every statement runs inside `Database.workspace(...)`, so Row Level
Security keeps each workspace's FAQs to itself.

How close is close depends on the embedder, so the thresholds are per embedder family; see
`THRESHOLDS` for how each was calibrated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from core import workspaces
from core.db import Database
from memory.embedders import Embedder

STATUSES = ("draft", "approved", "rejected")


class UnknownFaq(LookupError):
    pass


@dataclass(frozen=True)
class Faq:
    id: uuid.UUID
    question: str
    answer: str
    sources: list[dict[str, str]]  # citations: title, location, snippet
    topic: str
    status: str
    task_ids: list[uuid.UUID]
    askers: list[str]
    confidence: float | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    similarity: float | None = None  # to the question or topic it was found for

    @property
    def asked_count(self) -> int:
        return len(self.task_ids)


@dataclass(frozen=True)
class Draft:
    question: str
    answer: str
    sources: list[dict[str, str]]
    topic: str
    confidence: float
    task_ids: list[uuid.UUID]
    askers: list[str]


@dataclass(frozen=True)
class Thresholds:
    """Cosine similarities, for one embedder family."""
    cluster: float  # mean similarity at which asked questions are one question (or an existing FAQ's)
    serve: float  # an approved FAQ answers a question at least this close, with no model call
    topic: float  # an approved FAQ is "about" a topic (`faq <topic>`) at least this close


# Calibrated on paraphrase sets and on near misses that need another answer ("roll back
# production" / "roll back staging", "page at night" / "page during the day"):
# - hash: paraphrases 0.12-0.82, near misses up to 0.70 (it sees words, not meaning). At 0.5
#   average linkage groups rewordings without merging the other questions tried, except where
#   the words are the same ("deploy a release" / "undo a release"); serving needs 0.78, above
#   every near miss: only rewordings of the same words ("How can I…" / "How do I…") are served.
# - local (all-MiniLM-L6-v2): paraphrases 0.37-0.91, unrelated questions up to 0.61, so 0.6
#   clusters cleanly; near misses reach 0.82, so serving needs 0.88.
# - others (OpenAI's models): not calibrated here (no key in tests); their cosines sit higher
#   and closer together, so these are deliberately strict: a miss only costs a model call.
THRESHOLDS = {
    "hash": Thresholds(cluster=0.5, serve=0.78, topic=0.3),
    "local": Thresholds(cluster=0.6, serve=0.88, topic=0.4),
}
UNCALIBRATED = Thresholds(cluster=0.7, serve=0.92, topic=0.5)


def thresholds(embedder_name: str) -> Thresholds:
    """`hash-v1` -> hash, `local:all-MiniLM-L6-v2` -> local, `openai:…` -> uncalibrated."""
    family = embedder_name.split(":", 1)[0].split("-", 1)[0]
    return THRESHOLDS.get(family, UNCALIBRATED)


_COLUMNS = ", ".join(f.name for f in fields(Faq) if f.name != "similarity")


def _faq(row: dict[str, Any]) -> Faq:
    return Faq(**{f.name: row.get(f.name) for f in fields(Faq)})


def listing(db: Database, workspace: str, status: str | None = None, limit: int | None = None) -> list[Faq]:
    """The workspace's FAQs, most asked first (the first `limit` of them)."""
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM faqs WHERE %(status)s::text IS NULL OR status = %(status)s "
            "ORDER BY cardinality(task_ids) DESC, created_at LIMIT %(limit)s",
            {"status": status, "limit": limit}).fetchall()
    return [_faq(row) for row in rows]


def get(db: Database, workspace: str, faq_id: uuid.UUID) -> Faq:
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM faqs WHERE id = %s", (faq_id,)).fetchone()
    if row is None:
        raise UnknownFaq(f"no FAQ {faq_id} in workspace {workspace!r}")
    return _faq(row)


def with_vectors(db: Database, embedder: Embedder, workspace: str) -> tuple[list[Faq], np.ndarray]:
    """Every FAQ of the workspace (rejected ones too: their questions are settled) with its
    question's vector by `embedder`. Vectors of another embedder are made again first."""
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        stale = conn.execute("SELECT id, question FROM faqs WHERE embedder <> %s", (embedder.name,)).fetchall()
        if stale:
            vectors = embedder.embed([row["question"] for row in stale])
            conn.cursor().executemany(
                "UPDATE faqs SET embedder = %s, dims = %s, embedding = %s WHERE id = %s",
                [(embedder.name, embedder.dims, vector, row["id"]) for row, vector in zip(stale, vectors)])
        rows = conn.cursor(binary=True).execute(
            f"SELECT {_COLUMNS}, embedding FROM faqs ORDER BY created_at").fetchall()
    vectors = np.array([row["embedding"].to_numpy() for row in rows], dtype=np.float32)
    return [_faq(row) for row in rows], vectors.reshape(len(rows), embedder.dims)


def add(db: Database, embedder: Embedder, workspace: str, draft: Draft, vector: np.ndarray) -> Faq:
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        row = conn.execute(
            f"""INSERT INTO faqs (workspace_id, question, answer, sources, topic, confidence, task_ids,
                                  askers, embedder, dims, embedding)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
            (space.id, draft.question, draft.answer, Jsonb(draft.sources), draft.topic, draft.confidence,
             draft.task_ids, draft.askers, embedder.name, embedder.dims, vector)).fetchone()
    return _faq(row)


def record_asks(db: Database, workspace: str, faq_id: uuid.UUID, task_ids: list[uuid.UUID],
                askers: list[str]) -> None:
    """Count more asked questions for a FAQ, whatever its status; a question counts once."""
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        conn.execute(
            """UPDATE faqs SET task_ids = ARRAY(SELECT DISTINCT unnest(task_ids || %s::uuid[])),
                               askers = ARRAY(SELECT DISTINCT unnest(askers || %s::text[])),
                               updated_at = now()
               WHERE id = %s""", (task_ids, askers, faq_id))


def refresh_draft(db: Database, embedder: Embedder, workspace: str, faq_id: uuid.UUID, draft: Draft,
                  vector: np.ndarray) -> bool:
    """Replace a draft's wording; False (and nothing changed) once it has been reviewed, so an
    approved answer is never overwritten by unreviewed text."""
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        return conn.execute(
            """UPDATE faqs SET question = %s, answer = %s, sources = %s, topic = %s, confidence = %s,
                               embedder = %s, dims = %s, embedding = %s, updated_at = now()
               WHERE id = %s AND status = 'draft'""",
            (draft.question, draft.answer, Jsonb(draft.sources), draft.topic, draft.confidence,
             embedder.name, embedder.dims, vector, faq_id)).rowcount == 1


def review(db: Database, workspace: str, faq_id: uuid.UUID, status: str) -> Faq:
    """Approve or reject a FAQ (or send it back to draft)."""
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    space = workspaces.get(db, workspace)
    with db.workspace(space.id) as conn:
        row = conn.execute(
            f"""UPDATE faqs SET status = %(status)s, updated_at = now(),
                       approved_at = CASE WHEN %(status)s = 'approved' THEN now() END
                WHERE id = %(id)s RETURNING {_COLUMNS}""", {"status": status, "id": faq_id}).fetchone()
    if row is None:
        raise UnknownFaq(f"no FAQ {faq_id} in workspace {workspace!r}")
    return _faq(row)


def edit(db: Database, embedder: Embedder, workspace: str, faq_id: uuid.UUID, *, question: str | None = None,
         answer: str | None = None, topic: str | None = None) -> Faq:
    """An admin's edit. It keeps the FAQ's status: the admin is the reviewer."""
    space = workspaces.get(db, workspace)
    vector = embedder.embed([question])[0] if question is not None else None
    with db.workspace(space.id) as conn:
        row = conn.execute(
            f"""UPDATE faqs SET question = coalesce(%(question)s, question), answer = coalesce(%(answer)s, answer),
                       topic = coalesce(%(topic)s, topic), updated_at = now(),
                       embedder = CASE WHEN %(vector)s::vector IS NULL THEN embedder ELSE %(embedder)s END,
                       dims = CASE WHEN %(vector)s::vector IS NULL THEN dims ELSE %(dims)s END,
                       embedding = coalesce(%(vector)s::vector, embedding)
                WHERE id = %(id)s RETURNING {_COLUMNS}""",
            {"question": question, "answer": answer, "topic": topic, "vector": vector, "id": faq_id,
             "embedder": embedder.name, "dims": embedder.dims}).fetchone()
    if row is None:
        raise UnknownFaq(f"no FAQ {faq_id} in workspace {workspace!r}")
    return _faq(row)


def serving(db: Database, embedder: Embedder, workspace: str, question: str) -> Faq | None:
    """The approved FAQ that answers `question`: the closest one, if it is close enough."""
    space = workspaces.find(db, workspace)
    if space is None:
        return None
    with db.workspace(space.id) as conn:
        if conn.execute("SELECT 1 FROM faqs WHERE status = 'approved' LIMIT 1").fetchone() is None:
            return None  # most workspaces, most of the time: no embedding spent
        row = conn.execute(
            f"""SELECT {_COLUMNS}, 1 - (embedding <=> %(q)s) AS similarity FROM faqs
                WHERE status = 'approved' AND embedder = %(embedder)s AND dims = %(dims)s
                ORDER BY embedding <=> %(q)s LIMIT 1""",
            {"q": embedder.embed([question])[0], "embedder": embedder.name, "dims": embedder.dims}).fetchone()
    if row is None or row["similarity"] < thresholds(embedder.name).serve:
        return None
    return _faq(row)


def about(db: Database, embedder: Embedder, workspace: str, topic: str, *, k: int = 5) -> list[Faq]:
    """Approved FAQs on `topic`: close to it, or using its words (a short topic embeds poorly);
    with no topic, the most asked."""
    space = workspaces.find(db, workspace)
    if space is None:
        return []
    if not topic.strip():
        return listing(db, workspace, "approved")[:k]
    with db.workspace(space.id) as conn:
        rows = conn.execute(
            f"""SELECT {_COLUMNS}, 1 - (embedding <=> %(q)s) AS similarity FROM faqs
                WHERE status = 'approved' AND embedder = %(embedder)s AND dims = %(dims)s
                  AND (1 - (embedding <=> %(q)s) >= %(min)s
                       OR to_tsvector('english', question || ' ' || answer || ' ' || topic)
                          @@ replace(websearch_to_tsquery('english', %(topic)s)::text, ' & ', ' | ')::tsquery)
                ORDER BY embedding <=> %(q)s LIMIT %(k)s""",
            {"q": embedder.embed([topic])[0], "embedder": embedder.name, "dims": embedder.dims,
             "min": thresholds(embedder.name).topic, "topic": topic, "k": k}).fetchall()
    return [_faq(row) for row in rows]
