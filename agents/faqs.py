"""FAQ generation: the questions people asked, clustered by meaning, and a draft FAQ for each
cluster that matters: asked by two people or more, or answered with low confidence (the
answers people did not get are the FAQs the team most needs to write).

A draft's question is the cluster's most central one (with a chat model, the model words it
from the most central few); its answer comes from the agent's own answer path, grounded in
the workspace's documents and cited; its topic is the top heading of its first source.

Running it again is safe: a cluster close to an existing FAQ, whatever its status, only adds
its questions to that FAQ's counts, and the wording of a draft is refreshed when new
questions join it. An approved or rejected FAQ's wording is never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from agents import confidence, prompts
from agents.graph import Agent
from agents.offline import LABEL
from memory import faqs
from memory.embedders import Embedder
from memory.store import HEADING_SEPARATOR

if TYPE_CHECKING:  # the caller's database, handed through to memory
    from core.db import Database

MIN_ASKERS = 2
# The latest questions are clustered: the similarity matrix is quadratic (16 MB at 2,000).
MAX_QUESTIONS = 2000
CANONICAL_CANDIDATES = 8  # the most central questions of a cluster shown to the model
NO_SOURCE_TOPIC = "General"


@dataclass(frozen=True)
class Asked:
    task_id: uuid.UUID
    text: str
    asker: str  # "platform:user"
    confidence: float | None  # the answer's (see agents/graph.py: _confidence); None: not recorded


@dataclass
class Report:
    workspace: str
    questions: int = 0
    clusters: int = 0
    drafted: int = 0
    refreshed: int = 0
    counted: int = 0  # existing FAQs that more questions were counted for
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def spent(self, usage: tuple[int, int]) -> None:
        self.prompt_tokens += usage[0]
        self.completion_tokens += usage[1]

    def summary(self) -> str:
        spent = f"; {self.tokens} model tokens" if self.tokens else ""
        return (f"workspace {self.workspace}: {self.questions} asked question(s) in {self.clusters} "
                f"cluster(s); {self.drafted} new draft(s), {self.refreshed} draft(s) refreshed, "
                f"{self.counted} FAQ(s) asked again{spent}")


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Groups of rows of `vectors` whose mean pairwise cosine similarity reaches `threshold`.
    Average linkage: unlike single linkage it does not chain A~B~C into one group when A and C
    are about different things."""
    if len(vectors) < 2:
        return [[i] for i in range(len(vectors))]
    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=1 - threshold, criterion="distance")
    return sorted((np.flatnonzero(labels == label).tolist() for label in np.unique(labels)), key=lambda g: g[0])


def generate(db: Database, embedder: Embedder, agent: Agent, workspace: str,
             asked: Sequence[Asked]) -> Report:
    """Cluster `asked` and draft, refresh or count FAQs in `workspace` (see the module's doc)."""
    limits = faqs.thresholds(embedder.name)
    # What the answer was held to: below it, it said it was not sure (agents/confidence.py).
    unsure_below = confidence.threshold(embedder.name)
    existing, known = faqs.with_vectors(db, embedder, workspace)
    report = Report(workspace, questions=len(asked))
    if not asked:
        return report
    vectors = _embed(embedder, [question.text for question in asked])
    groups = cluster(vectors, limits.cluster)
    report.clusters = len(groups)
    for members in groups:
        group, group_vectors = [asked[i] for i in members], vectors[members]
        task_ids = [question.task_id for question in group]
        askers = sorted({question.asker for question in group})
        match = _closest(group_vectors, known, limits.cluster)
        if match is not None:
            faq = existing[match]
            if set(task_ids) <= set(faq.task_ids):
                continue  # nothing new since the last run
            faqs.record_asks(db, workspace, faq.id, task_ids, askers)
            report.counted += 1
            if faq.status == "draft":
                draft, vector, usage = _draft(agent, embedder, workspace, group, group_vectors)
                report.refreshed += faqs.refresh_draft(db, embedder, workspace, faq.id, draft, vector)
                report.spent(usage)
            continue
        unsure = any(q.confidence is not None and q.confidence < unsure_below for q in group)
        if len(askers) < MIN_ASKERS and not unsure:
            continue
        draft, vector, usage = _draft(agent, embedder, workspace, group, group_vectors)
        faqs.add(db, embedder, workspace, draft, vector)
        report.drafted += 1
        report.spent(usage)
    return report


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Vectors for `texts`, each distinct text embedded once (people repeat questions word for word)."""
    distinct = list(dict.fromkeys(texts))
    position = {text: n for n, text in enumerate(distinct)}
    return embedder.embed(distinct)[[position[text] for text in texts]]


def _closest(group_vectors: np.ndarray, known: np.ndarray, threshold: float) -> int | None:
    """The existing FAQ whose question would have joined this cluster (by the same average-
    linkage rule), if any."""
    if not len(known):
        return None
    mean = (group_vectors @ known.T).mean(axis=0)
    best = int(np.argmax(mean))
    return best if mean[best] >= threshold else None


def _draft(agent: Agent, embedder: Embedder, workspace: str, group: Sequence[Asked],
           vectors: np.ndarray) -> tuple[faqs.Draft, np.ndarray, tuple[int, int]]:
    """The cluster's draft, its question's vector, and the (prompt, completion) tokens spent."""
    question, (prompt, completion) = _canonical_question(agent, [q.text for q in group], vectors)
    reply = agent.draft(question, workspace)
    usage = (prompt + reply.metadata["tokens"]["prompt"], completion + reply.metadata["tokens"]["completion"])
    topic = reply.citations[0].title.split(HEADING_SEPARATOR)[0] if reply.citations else NO_SOURCE_TOPIC
    draft = faqs.Draft(
        question=question,
        # A reviewed FAQ is served under its own label; the offline one would mislabel it then.
        answer=reply.text.removeprefix(LABEL).strip(),
        sources=[asdict(citation) for citation in reply.citations], topic=topic,
        confidence=reply.metadata["confidence"], task_ids=[q.task_id for q in group],
        askers=sorted({q.asker for q in group}))
    return draft, embedder.embed([question])[0], usage


def _canonical_question(agent: Agent, texts: list[str], vectors: np.ndarray) -> tuple[str, tuple[int, int]]:
    """The cluster's most central question (highest mean similarity to the others), or the
    model's wording of the most central few."""
    centrality = (vectors @ vectors.T).mean(axis=1)
    central = list(dict.fromkeys(" ".join(texts[i].split()) for i in np.argsort(-centrality, kind="stable")))
    if agent.model is None or len(central) == 1:
        return central[0], (0, 0)
    completion = agent.model.complete(
        [{"role": "system", "content": prompts.FAQ_QUESTION},
         {"role": "user", "content": "\n".join(f"- {text}" for text in central[:CANONICAL_CANDIDATES])}],
        max_tokens=60, temperature=0)
    worded = " ".join(completion.text.split()).strip("-* ")
    return worded or central[0], (completion.prompt_tokens, completion.completion_tokens)
