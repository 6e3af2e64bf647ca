"""The answerer the hub runs until the LangGraph agent arrives: it searches the workspace's
memory and replies with the passages it found, each cited, saying plainly that these are
search results and not a composed answer. It never invents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hub.models import ChatTask, Citation, Reply
from memory.search import Hit

Search = Callable[[str, str, int], Sequence[Hit]]  # (workspace, query, k) -> hits

HELP = """\
**MorningAI** answers from your team's own knowledge.

- `ask <question>`: an answer with citations to your documents
- `code <request>`: code grounded in your repositories
- `docs <topic>`: a structured document
- `faq <topic>`: frequently asked questions
- `help`: this message"""

PASSAGES = 3


def answer(task: ChatTask, search: Search, *, has_knowledge: bool) -> Reply:
    if task.kind == "help":
        return Reply(text=HELP, metadata={"answerer": "help"})
    question = _shorten(task.text)
    if not has_knowledge:
        return Reply(
            text=(f"No knowledge base yet: workspace `{task.workspace}` has no documents to search, "
                  f"so I can't answer “{question}” from your team's knowledge, and I won't guess. "
                  "Add documents with `morningai ingest PATH`."),
            metadata={"answerer": "search", "hits": 0})
    hits = search(task.workspace, task.text, PASSAGES)
    if not hits:
        return Reply(text=f"I found nothing about “{question}” in workspace `{task.workspace}`'s knowledge.",
                     metadata={"answerer": "search", "hits": 0})
    lines = [f"Here is what your team's documents say about “{question}” "
             "(search results; no language model is composing answers yet):", ""]
    for n, hit in enumerate(hits, 1):
        lines.append(f"**[{n}] {hit.heading or hit.title}**")
        lines.append(f"> {' '.join(hit.snippet.split())}")
        lines.append("")
    return Reply(
        text="\n".join(lines).rstrip(),
        citations=tuple(Citation(title=hit.heading or hit.title, location=_cite(hit), snippet=hit.snippet)
                        for hit in hits),
        metadata={"answerer": "search", "hits": len(hits)},
    )


def _cite(hit: Hit) -> str:
    if hit.location.startswith(("http://", "https://")):
        return hit.location
    if hit.source.endswith(hit.location):  # a source that is a single file
        return hit.source
    return f"{hit.source.rstrip('/')}/{hit.location}"


def _shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
