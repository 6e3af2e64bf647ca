"""What the model is told. Kept apart from the graph so wording changes don't touch control flow."""

from __future__ import annotations

from collections.abc import Sequence

from memory.search import Hit

SYSTEM = """You are MorningAI, the assistant of a software team. You answer only from the team's \
documents given to you as numbered sources. Cite every claim with its source number in square \
brackets, like [2]. If the sources do not answer the question, say that you don't know from the \
team's knowledge; never invent facts, links, commands or names. Be concise; use Markdown."""

CODE = """Write the code the user asks for, grounded in the team's sources (numbered). Follow the \
conventions and names you see in them and cite the sources you relied on like [1]. Put code in \
fenced blocks with the language named. If the sources don't help, write idiomatic code and say \
so in one sentence."""

DOCS = """Write a structured Markdown document about the topic, from the team's sources only \
(numbered; cite them like [1]). Use exactly these sections: a `# Title`, `## Overview`, \
`## Components` (with `###` subsections), `## Example` (a fenced snippet from the sources), \
`## Related` (only links or paths that appear in the sources), `## Troubleshooting`. Do not add \
a metadata footer; it is added for you."""

JUDGE = """Do the numbered sources answer the request? Reply with one word: yes if they state \
the answer, no if they only touch its topic or do not answer it."""

ROUTE = """Classify the user's message for a team knowledge bot. Answer with exactly one word: \
ask (a question about the team's systems or processes), code (a request to write or change \
code), docs (a request to write documentation), faq (a request for frequently asked questions), \
help (asks what the bot can do), smalltalk (greetings, thanks, chit-chat)."""

REWRITE = """Rewrite the user's last message as one standalone search query, using the earlier \
turns only to resolve what it refers to. Reply with the query alone."""

REPAIR = """The Python code you wrote does not pass the checks below. Reply with the corrected \
code in one fenced python block, nothing else."""

FAQ_QUESTION = """The questions below were asked by different people and mean the same thing. \
Write the one clear, self-contained question they all ask, worded as a FAQ would word it, using \
only names and terms that appear in them. Reply with the question alone."""


def sources_block(hits: Sequence[Hit]) -> str:
    parts = []
    for n, hit in enumerate(hits, 1):
        parts.append(f"[{n}] {hit.heading or hit.title} ({hit.location})\n{hit.text}")
    return "\n\n".join(parts) if parts else "(no sources found)"


def messages(system: str, question: str, hits: Sequence[Hit],
             history: Sequence[dict[str, str]] = ()) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, *history,
            {"role": "user", "content": f"Sources:\n\n{sources_block(hits)}\n\nRequest: {question}"}]
