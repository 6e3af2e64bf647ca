"""Coverage gaps: the questions the knowledge served badly (tasks/analytics.py), grouped by
meaning as FAQ generation groups questions (agents/faqs.py: cluster), each group with a
suggested title for the document that would answer it, biggest group first."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.faqs import cluster
from memory.embedders import Embedder

EXAMPLES = 5
# Words a question starts with that a document's title does not: "How do we rotate the VPN
# keys?" suggests "Rotate the VPN keys". A question word that is the subject stays ("Who
# reviews the release notes").
_QUESTION = r"(?:how|what|why|where|when|who|which)"
_AUX = r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|to)"
_ASKING = re.compile(
    rf"^(?:{_QUESTION}['’]s\s+|{_QUESTION}\s+{_AUX}\s+|{_AUX}\s+)"
    r"(?:(?:i|we|you|they|one|someone|anyone)\s+)?(?:(?:to|get)\s+)?(?:the\s+)?",
    re.IGNORECASE)


@dataclass(frozen=True)
class Gap:
    title: str
    questions: int  # how many weak questions it holds
    escalated: int  # of them handed to a person
    examples: list[str]
    task_ids: list[uuid.UUID]


def title_for(question: str) -> str:
    """A document title a question asks for: its asking words gone, its first letter capital."""
    words = _ASKING.sub("", " ".join(question.split())).rstrip(" ?!.") or question.strip(" ?")
    return words[:1].upper() + words[1:80]


def gaps(embedder: Embedder, weak: Sequence[dict], threshold: float) -> list[Gap]:
    """`weak`: rows with `id`, `text`, `escalated`. Grouped where their mean similarity reaches
    `threshold`; each group titled after its most central question."""
    if not weak:
        return []
    vectors = np.asarray(embedder.embed([row["text"] for row in weak]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    found = []
    for group in cluster(vectors, threshold):
        closeness = vectors[group] @ vectors[group].mean(axis=0)
        # The most central question names the group; of questions as central, the shortest, the
        # most general ("…for contractors" over "…for contractors in Lisbon").
        central = min((i for i, near in zip(group, closeness, strict=True) if near >= closeness.max() - 1e-3),
                      key=lambda i: len(weak[i]["text"]))
        rows = [weak[i] for i in group]
        found.append(Gap(title=title_for(weak[central]["text"]), questions=len(rows),
                         escalated=sum(1 for row in rows if row["escalated"]),
                         examples=list(dict.fromkeys(row["text"] for row in rows))[:EXAMPLES],
                         task_ids=[row["id"] for row in rows]))
    return sorted(found, key=lambda gap: (-gap.questions, -gap.escalated, gap.title))
