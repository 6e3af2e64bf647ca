"""How sure the agent can be that the passages it found answer the question, and what it says
when it is not sure.

Search always returns its k closest passages, whether or not any answers the question, so
"closest" is not "answers". The score reads what an answering passage looks like:

    score = (closest sentence's cosine to the question + best passage's share of the
             question's content words) / 2, halved for each rare word of the question
             that none of the passages uses

- The closest sentence (agents/offline.py scores sentences the same way to quote them): an
  answer is usually one or two sentences; a whole chunk's cosine is diluted by the rest of it.
- Coverage: a question's content words mostly reappear in the passage that answers it ("How
  long are failed jobs kept?" / "failed jobs are kept for 1 year"); a near miss shares the
  topic's words but not the one that matters ("limit a queue to 10 jobs *per minute*").
- Rare words: "Can RQ use Kafka as the broker?" finds passages about RQ's broker, and no
  passage says "Kafka". Hybrid search looks words up in the full text, so a word in no passage
  it returns is most likely in no document at all. A rare word (wordfreq's Zipf frequency below
  RARE_ZIPF: a product, protocol or name) missing means the question is about something the
  documents do not cover; a common one ("urgent", "give") is only the asker's wording.

Below the embedder's threshold the answer says it is not sure and shows what it found, cited.
With a chat model, an answer below the threshold is not given up on the score alone: the model
is asked, in one short call, whether the passages answer the question, and its verdict (yes 1,
no 0) is averaged with the score. Above the threshold no call is spent: the answer prompt
already tells the model to say when the sources do not answer.

The thresholds are per embedder family (their cosines differ) and calibrated by
bench/abstention.py on its RQ question set; its HTTPX set is held out to check them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from wordfreq import zipf_frequency

from agents.check import citation_for
from agents.offline import LABEL, STOP_WORDS, closest_sentence, shorten
from core.models import Reply
from memory.search import Hit

Embed = Callable[[Sequence[str]], np.ndarray]

# Words rarer than this (Zipf 3.5: about three in a million words of English: "Kafka",
# "GraphQL", "monorepo") name a thing; commoner ones ("urgent" 4.2, "give" 5.7) are wording.
RARE_ZIPF = 3.5
RARE_PENALTY = 0.5  # each missing rare word halves the score

# Calibrated by `python -m bench.abstention --calibrate` on bench/abstention/rq.toml: the highest
# score that still answers 95% of its answerable questions, rounded down (see the README's
# Confidence section for the measured table).
THRESHOLDS = {"hash": 0.37, "local": 0.56}
# Other embedders (OpenAI's) are not calibrated here (no key): their cosines run higher than
# MiniLM's, so the semantic threshold is the lenient side of a guess; they come with a model,
# whose verdict decides below the threshold anyway.
UNCALIBRATED = THRESHOLDS["local"]

SHOWN = 3  # passages an unsure answer shows: what was found, not a wall of near misses
_WORDS = re.compile(r"[a-z0-9]+", re.IGNORECASE)


def threshold(embedder_name: str) -> float:
    """`hash-v1` -> hash's, `local:all-MiniLM-L6-v2` -> local's, `openai:…` -> UNCALIBRATED."""
    family = embedder_name.split(":", 1)[0].split("-", 1)[0]
    return THRESHOLDS.get(family, UNCALIBRATED)


@dataclass(frozen=True)
class Assessment:
    score: float  # 0..1, see the module docstring
    threshold: float
    missing: tuple[str, ...] = ()  # the question's rare words that no passage uses
    verdict: bool | None = None  # the model's: do the passages answer? None: not asked

    @property
    def confidence(self) -> float:
        if self.verdict is None:
            return self.score
        return round((self.score + float(self.verdict)) / 2, 4)

    @property
    def sure(self) -> bool:
        return self.confidence >= self.threshold

    def judged(self, verdict: bool | None) -> Assessment:
        return Assessment(self.score, self.threshold, self.missing, verdict)

    def metadata(self) -> dict:
        found = {"confidence": self.confidence, "threshold": self.threshold, "abstained": not self.sure}
        if self.missing:
            found["missing_words"] = list(self.missing)
        if self.verdict is not None:
            found["verdict"] = "yes" if self.verdict else "no"
        return found


def assess(question: str, hits: Sequence[Hit], embed: Embed, embedder_name: str) -> Assessment:
    """How likely the hits answer `question`, against the embedder's threshold."""
    limit = threshold(embedder_name)
    if not hits:
        return Assessment(0.0, limit)
    asked = _content_words(question)
    passages = [set(_content_words(f"{hit.title} {hit.heading} {hit.text}")) for hit in hits]
    coverage = max(len(set(asked) & words) / len(set(asked)) for words in passages) if asked else 0.0
    used = set().union(*passages)
    missing = tuple(dict.fromkeys(
        word for word in _WORDS.findall(question)
        if word.lower() not in STOP_WORDS and not word.isdigit() and _stem(word.lower()) not in used
        and zipf_frequency(word, "en") < RARE_ZIPF))
    score = (max(closest_sentence(question, hits, embed), 0.0) + coverage) / 2 * RARE_PENALTY ** len(missing)
    return Assessment(round(score, 4), limit, missing)


def _content_words(text: str) -> list[str]:
    return [_stem(word) for word in _WORDS.findall(text.lower()) if word not in STOP_WORDS]


def _stem(word: str) -> str:
    """Plural and tense endings off ("retries" ~ "retry", "enqueued" ~ "enqueue"): enough for
    a question's words to meet the same words in a passage; a full stemmer buys nothing here."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for ending in ("ing", "ed", "es", "s"):
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[:-len(ending)]
    return word


def unsure_reply(question: str, hits: Sequence[Hit], assessment: Assessment, provider: str) -> Reply:
    """Says plainly that the documents may not answer `question`, and what was found, cited:
    the asker can judge the closest passages, and the team sees which page is missing."""
    opening = f"I'm not sure your team's documents answer “{shorten(question)}”."
    if assessment.missing:
        opening += f" None of the passages I found mentions {_listed(assessment.missing)}."
    shown = _one_per_page(hits)[:SHOWN]
    if shown:
        closest = "\n".join(f"- {hit.heading or hit.title}: “{shorten(hit.snippet or hit.text, 200)}” [{n}]"
                             for n, hit in enumerate(shown, 1))
        parts = [opening, f"The closest I found:\n{closest}"]
    else:
        parts = [opening, "I found no passages to show."]
    if provider == "offline":
        parts.insert(0, LABEL)
    return Reply(text="\n\n".join(parts), citations=tuple(citation_for(hit) for hit in shown),
                 metadata={"provider": provider, "grounded": False})


def _one_per_page(hits: Sequence[Hit]) -> list[Hit]:
    """The best hit of each document, in search order: three chunks of one page are one place."""
    seen: set[str] = set()
    return [hit for hit in hits if not (hit.location in seen or seen.add(hit.location))]


def _listed(words: Sequence[str]) -> str:
    quoted = [f"“{word}”" for word in words]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
