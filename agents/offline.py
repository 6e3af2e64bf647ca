"""The extractive provider the agent uses when no language model is configured.

Pure functions from a question and the hits memory retrieved to a Reply. They only ever quote
sentences and code from those hits, each with a citation, and label the reply so nobody takes
quoted passages for a composed answer. When retrieval is weak they say they do not know.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import numpy as np

from agents.check import citation_for
from core.models import Citation, CodeBlock, Reply
from memory.loaders import LANGUAGES, NAMED_CODE
from memory.search import Hit

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows

LABEL = "_offline mode — no language model configured_"
# Cosines of content words (see _scoring_text). Below MIN_SIMILARITY the best passage is about
# something else: with the hash embedder off-topic questions score under 0.17 on the tests'
# corpus, answerable ones over 0.35; semantic embedders separate them at least as well.
MIN_SIMILARITY = 0.25
# Enough to show a passage verbatim as related (a code snippet, a document's section), not to
# quote it as the answer: code shares few words with a question, and a section can be on topic
# in other words ("roll back staging" for "rollbacks") that a lexical embedder half sees.
ON_TOPIC = 0.15
# The share of the best similarity a passage must also reach, so that a strong match is not
# padded with passing mentions (which, in search order, could even come first).
RELATIVE_FLOOR = 0.6
RANK_WEIGHT = 0.15  # search's rank fuses full text (exact words, error codes) too: worth a little
MMR_LAMBDA = 0.7
NEAR_DUPLICATE = 0.9  # overlapping chunks repeat sentences; a near-copy adds nothing
MAX_SNIPPETS = 3
NO_EXAMPLE = "No code example was found in the sources."
NO_TROUBLE = "No troubleshooting notes were found in the sources."
_TROUBLE = re.compile(r"\b(?:errors?|fail(?:s|ed|ing|ures?)?|fix(?:es|ed|ing)?|troubleshoot\w*|"
                      r"retr(?:y|ies|ied|ying))\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Sentence:
    text: str
    rank: int  # index of its hit in the search results, best first
    position: int  # order within its chunk


def offline_answer(question: str, hits: Sequence[Hit], embed: Embed, *, max_sentences: int = 4,
                   min_similarity: float = MIN_SIMILARITY) -> Reply:
    """The hits' sentences that best answer `question`, in reading order, each cited."""
    sentences, _ = _read(hits)
    if not sentences:
        return _unknown(question, hits)
    vectors, similarity, relevance = _score(question, hits, [(s.rank, s.text) for s in sentences], embed)
    if similarity.max() < min_similarity:
        return _unknown(question, hits)
    picked = _mmr(vectors, relevance, _eligible(similarity, min_similarity), max_sentences)
    cite = _Citer()
    paragraphs = _cited_paragraphs([sentences[i] for i in picked], cite)
    return _reply(paragraphs, _citations(hits, cite))


def closest_sentence(question: str, hits: Sequence[Hit], embed: Embed) -> float:
    """The cosine of the hits' sentence closest to `question` (0 with no prose), scored as
    offline_answer scores the sentences it may quote."""
    sentences, _ = _read(hits)
    if not sentences:
        return 0.0
    _, similarity, _ = _score(question, hits, [(s.rank, s.text) for s in sentences], embed)
    return float(similarity.max())


def offline_code(question: str, hits: Sequence[Hit], embed: Embed, *,
                 min_similarity: float = ON_TOPIC) -> Reply:
    """Up to three retrieved code snippets most relevant to `question`, each with its source."""
    _, code = _read(hits)
    if code:
        _, similarity, relevance = _score(question, hits, [(rank, block.code) for rank, block in code], embed)
    if not code or similarity.max() < min_similarity:
        return Reply(text=f"{LABEL}\n\nI found no code about “{shorten(question)}” in your team's sources, "
                          "so I have none to show (and I write none without a language model).",
                     metadata={"provider": "offline", "grounded": False})
    best = sorted(_eligible(similarity, min_similarity), key=lambda i: -relevance[i])[:MAX_SNIPPETS]
    cite = _Citer()
    parts = [f"The most relevant code in your team's sources for “{shorten(question)}”:"]
    for rank, block in (code[i] for i in best):
        parts.append(f"From `{citation_for(hits[rank]).location}` {cite(rank)}:\n{_fenced(block)}")
    return _reply(parts, _citations(hits, cite), code=tuple(code[i][1] for i in best))


def offline_docs(topic: str, hits: Sequence[Hit], embed: Embed, *, meta: dict,
                 min_similarity: float = MIN_SIMILARITY) -> Reply:
    """A Markdown document on `topic` from the headings, sentences and code of the hits on it."""
    footer = (f"---\n_task {meta['task']} · trace {meta['trace_id']} · model offline · "
              f"workspace {meta['workspace']}_")
    sentences, code = _read(hits)
    if sentences:
        passages = [(s.rank, s.text) for s in sentences] + [(rank, block.code) for rank, block in code]
        vectors, similarity, relevance = _score(topic, hits, passages, embed)
    if not sentences or similarity[:len(sentences)].max() < min_similarity:
        # Every section still appears, so the reader sees the shape and that nothing filled it.
        empty = {"Overview": f"Your team's sources say nothing I could find about “{shorten(topic)}”.",
                 "Components": "No sections of the sources match this topic.",
                 "Example": NO_EXAMPLE, "Related": "No sources were cited.", "Troubleshooting": NO_TROUBLE}
        return Reply(text=_document(topic, empty, footer), metadata={"provider": "offline", "grounded": False})

    # Search returns k hits whatever the topic; only those with a passage on it make the document.
    on_topic = {rank for (rank, _), score in zip(passages, similarity, strict=True) if score >= ON_TOPIC}
    n = len(sentences)
    vectors, similarity, relevance = vectors[:n], similarity[:n], relevance[:n]
    by_relevance = [i for i in np.argsort(-relevance, kind="stable") if sentences[i].rank in on_topic]
    overview = _mmr(vectors, relevance, _eligible(similarity, min_similarity), 3)
    # Troubleshooting may repeat an Overview sentence (it is read on its own, when something
    # broke); Components prefer what neither section quoted.
    trouble = [i for i in by_relevance if _TROUBLE.search(sentences[i].text)][:4]
    cite = _Citer()  # numbers follow reading order; Related, written last, cites nothing new
    sections = {"Overview": "\n\n".join(_cited_paragraphs([sentences[i] for i in overview], cite))}
    components, headings = [], {}
    for rank in sorted(on_topic):
        headings.setdefault(hits[rank].heading or hits[rank].title, []).append(rank)
    for heading, ranks in headings.items():
        mine = [i for i in by_relevance if sentences[i].rank in ranks]
        own = [i for i in mine if i not in overview and i not in trouble][:2] or mine[:1]
        # A section without prose (code only) is still named, with where to find it.
        body = (" ".join(_cited_paragraphs([sentences[i] for i in own], cite))
                or f"See `{citation_for(hits[ranks[0]]).location}` {cite(ranks[0])}.")
        components.append(f"### {heading}\n\n{body}")
    sections["Components"] = "\n\n".join(components)
    rank, block = next(((rank, block) for rank, block in code if rank in on_topic), (None, None))
    sections["Example"] = (f"From `{citation_for(hits[rank]).location}` {cite(rank)}:\n\n{_fenced(block)}"
                           if block else NO_EXAMPLE)
    notes = sorted((sentences[i] for i in trouble), key=lambda s: (s.rank, s.position))
    sections["Troubleshooting"] = "\n".join(f"- {s.text} {cite(s.rank)}" for s in notes) or NO_TROUBLE
    citations = _citations(hits, cite)
    sections["Related"] = _related(citations)
    return Reply(text=_document(topic, sections, footer), citations=citations,
                 metadata={"provider": "offline", "grounded": True})


# --- reading the hits --------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
# Blank lines, headings, thematic breaks or setext underlines, table rows: none is a sentence.
_NOT_PROSE = re.compile(r"^\s*$|^ {0,3}#{1,6}(?:\s|$)|^ {0,3}(?:[-=*_]\s*){3,}$|^\s*\|")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")


def _read(hits: Sequence[Hit]) -> tuple[list[_Sentence], list[tuple[int, CodeBlock]]]:
    """The hits' sentences and (rank, code block)s, each once (chunks overlap): best-ranked copy."""
    sentences, code, seen_code, seen_text = [], [], set(), set()
    for rank, hit in enumerate(hits):
        paragraphs, blocks = _parse(hit)
        code += [(rank, block) for block in blocks if block not in seen_code]
        seen_code.update(blocks)
        for position, text in enumerate(s for paragraph in paragraphs for s in _sentences(paragraph)):
            key = " ".join(text.lower().split())
            if key not in seen_text:
                seen_text.add(key)
                sentences.append(_Sentence(text, rank, position))
    return sentences, code


def _parse(hit: Hit) -> tuple[list[str], list[CodeBlock]]:
    """A chunk's prose paragraphs and its code blocks. A source file is all code; in Markdown,
    fences are code and headings are dropped (the hit's heading already names the section)."""
    language = _file_language(hit.location)
    if language:
        return [], [CodeBlock(hit.text.strip("\n"), language)] if hit.text.strip() else []
    paragraphs, blocks, lines, code = [], [], [], []
    fence = info = ""
    for line in hit.text.split("\n"):
        if fence:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                blocks.append(CodeBlock("\n".join(code), info))
                fence, code = "", []
            else:
                code.append(line)
            continue
        opening = _FENCE.match(line)
        prose = not (opening or _NOT_PROSE.match(line))
        if lines and (not prose or _BULLET.match(line)):  # each list item is a paragraph of its own
            paragraphs.append(" ".join(lines))
            lines = []
        if opening:
            fence, info = opening[1], opening[2].lower()
        elif prose:
            lines.append(_QUOTE.sub("", _BULLET.sub("", line)).strip())
    if lines:
        paragraphs.append(" ".join(lines))
    if code:  # a fence too long for one chunk, cut by the chunker: still code, never prose
        blocks.append(CodeBlock("\n".join(code), info))
    return paragraphs, blocks


def _file_language(location: str) -> str:
    path = PurePosixPath(urlsplit(location).path if "://" in location else location)
    return NAMED_CODE.get(path.name) or LANGUAGES.get(path.suffix.lower(), "")


# End punctuation, closing quotes or brackets, space, then what can start a sentence.
_BOUNDARY = re.compile(r"[.!?]+[\"')\]*_`]*\s+(?=[\"'(\[*_`]*[A-Z0-9])")
_LAST_WORD = re.compile(r"(\S+)$")
_WORDS = re.compile(r"\w+")
# Words whose period does not end a sentence even before a capital ("e.g. Redis").
_ABBREVIATIONS = {"e.g", "i.e", "cf", "vs", "approx", "incl", "esp", "fig", "no", "mr", "mrs", "ms",
                  "dr", "prof", "st", "al", "ca", "resp"}


def _sentences(paragraph: str) -> list[str]:
    """Split at sentence ends. A period inside a token ("v1.2", "config.yaml") is not followed
    by a space, so only abbreviations and initials ("J. Smith") need telling apart."""
    found, start = [], 0
    for end in _BOUNDARY.finditer(paragraph):
        if paragraph[end.start()] == ".":
            word = _LAST_WORD.search(paragraph[start:end.start()])
            word = word[1].lstrip("([\"'*_`").lower() if word else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        found.append(paragraph[start:end.end()].strip())
        start = end.end()
    found.append(paragraph[start:].strip())
    return [sentence for sentence in found if len(_WORDS.findall(sentence)) >= 3]  # not "See below."


# --- choosing ----------------------------------------------------------------------------------

STOP_WORDS = frozenset("""
    a about all also an and any are as at be been being both but by can could did do does done for from
    get gets got had has have he her here his how i if in into is it its just me mean means might more
    most must my no not of on once only or other our out over she should so some such than that the
    their them then there these they this those to too under up very was we were what when where which
    who whom whose why will with would you your""".split())


def _score(query: str, hits: Sequence[Hit], passages: Sequence[tuple[int, str]], embed: Embed
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank, text) passages' vectors, cosine to the query, and that blended with the rank."""
    texts = [_scoring_text(query), *(_scoring_text(text, hits[rank].heading or hits[rank].title)
                                      for rank, text in passages)]
    matrix = np.asarray(embed(texts), dtype=np.float64)
    vectors, similarity = matrix[1:], matrix[1:] @ matrix[0]
    prior = 1.0 / (1.0 + np.array([rank for rank, _ in passages], dtype=np.float64))
    return vectors, similarity, (1 - RANK_WEIGHT) * similarity + RANK_WEIGHT * prior


def _scoring_text(text: str, heading: str = "") -> str:
    """What is embedded to judge relevance (the reply quotes the original): the heading, which
    says what "Book them two weeks ahead" is about, and the content words, since "how do I ...
    the ..." would otherwise dominate a short sentence's vector for a lexical embedder."""
    content = " ".join(w for w in _WORDS.findall(text) if w.lower() not in STOP_WORDS) or text
    return f"{heading}: {content}" if heading else content


def _eligible(similarity: np.ndarray, min_similarity: float) -> list[int]:
    floor = max(min_similarity, RELATIVE_FLOOR * float(similarity.max()))
    return [i for i in range(len(similarity)) if similarity[i] >= floor]


def _mmr(vectors: np.ndarray, relevance: np.ndarray, candidates: list[int], k: int) -> list[int]:
    """Maximal Marginal Relevance: relevant, and unlike what was already picked."""
    picked: list[int] = []
    while candidates and len(picked) < k:
        redundancy = (vectors[candidates] @ vectors[picked].T).max(axis=1) if picked else 0.0
        gain = MMR_LAMBDA * relevance[candidates] - (1 - MMR_LAMBDA) * redundancy
        best = candidates[int(np.argmax(gain))]
        picked.append(best)
        candidates = [i for i in candidates if float(vectors[i] @ vectors[best]) < NEAR_DUPLICATE]
    return picked


# --- writing -----------------------------------------------------------------------------------

class _Citer(dict):
    """Hit rank -> citation number, handed out in order of first citation, so that markers run
    1..m over the cited hits only; iterating gives the cited ranks in that order."""

    def __call__(self, rank: int) -> str:
        return f"[{self.setdefault(rank, len(self) + 1)}]"


def _citations(hits: Sequence[Hit], cite: _Citer) -> tuple[Citation, ...]:
    return tuple(citation_for(hits[rank]) for rank in cite)


def _cited_paragraphs(sentences: Sequence[_Sentence], cite: _Citer) -> list[str]:
    """The sentences in reading order (search rank, then place in the chunk), each ending with
    its marker, one paragraph per hit."""
    paragraphs: list[list[str]] = []
    previous = None
    for sentence in sorted(sentences, key=lambda s: (s.rank, s.position)):
        if sentence.rank != previous:
            paragraphs.append([])
        paragraphs[-1].append(f"{sentence.text} {cite(sentence.rank)}")
        previous = sentence.rank
    return [" ".join(paragraph) for paragraph in paragraphs]


def _related(citations: Sequence[Citation]) -> str:
    """The cited sources, one line per document with the markers pointing at it."""
    documents: dict[str, list[str]] = {}
    for n, citation in enumerate(citations, 1):
        documents.setdefault(citation.location, []).append(f"[{n}]")
    return "\n".join(f"- {f'<{where}>' if '://' in where else f'`{where}`'} {' '.join(markers)}"
                     for where, markers in documents.items())


def _reply(parts: Sequence[str], citations: tuple[Citation, ...], code: tuple[CodeBlock, ...] = ()) -> Reply:
    return Reply(text="\n\n".join([LABEL, *parts]), code=code, citations=citations,
                 metadata={"provider": "offline", "grounded": True})


def _unknown(question: str, hits: Sequence[Hit]) -> Reply:
    found = f"the {len(hits)} closest passages don't answer it" if hits else "found no passages"
    return Reply(text=(f"{LABEL}\n\nI don't know from your team's knowledge: I searched it for "
                       f"“{shorten(question)}” and {found}, so I won't guess. Try the words your "
                       "documents would use, or add the ones that cover it (`morningai ingest PATH`)."),
                 metadata={"provider": "offline", "grounded": False})


def _document(topic: str, sections: dict[str, str], footer: str) -> str:
    order = ("Overview", "Components", "Example", "Related", "Troubleshooting")
    return "\n\n".join([LABEL, f"# {_title(topic)}", *(f"## {name}\n\n{sections[name]}" for name in order),
                        footer])


def _fenced(block: CodeBlock) -> str:
    # Longer than any run of backticks inside, so the code cannot close its own fence.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", block.code)), default=0))
    return f"{fence}{block.language}\n{block.code}\n{fence}"


def _title(topic: str) -> str:
    topic = " ".join(topic.split()).rstrip("?.!:") or "Untitled"
    return topic[0].upper() + topic[1:]  # not str.title(), which turns "API" into "Api"


def shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
