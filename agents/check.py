"""Checks on what the agent is about to say: citations point only at retrieved passages, links
only at real sources, generated Python parses and passes ruff, and the length is bounded."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path, PurePath

from core.models import Citation, Reply
from memory.search import Hit

MAX_CHARS = 12_000
MARKER = re.compile(r"\[(\d{1,3})\]")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BARE_URL = re.compile(r"(?<![(<])\bhttps?://[^\s)>\]]+")
_FENCE = re.compile(r"(```.*?```)", re.DOTALL)  # split() keeps the fences at odd positions
_PYTHON_BLOCK = re.compile(r"```(?:python|py)\n(.*?)```", re.DOTALL)
# ruff's "this cannot run" rules (syntax errors, undefined names, impossible comparisons): a
# snippet's style is the reader's business, its breakage is ours.
_RUFF_RULES = "E9,F63,F7,F82"
# A remote repository's address: a URL (not file://), or git's user@host:path.
_REMOTE = re.compile(r"^((?!file:)[a-z][a-z0-9+.-]*://|[^/@\s]+@[^/:\s]+:)", re.IGNORECASE)


def citation_for(hit: Hit) -> Citation:
    """Where the passage is, in a form the people reading the answer can use: a URL as it is; a
    file of a remote repository under the repository's address; a local file by its path in the
    folder it was ingested from, under that folder's name. The server's own directories (an
    upload's included) mean nothing in a chat, and are not shown there."""
    if hit.location.startswith(("http://", "https://")):
        location = hit.location
    elif _REMOTE.match(hit.source):
        location = hit.source if hit.source.endswith(hit.location) else f"{hit.source.rstrip('/')}/{hit.location}"
    elif hit.source.endswith(hit.location):  # the source is this one file
        location = hit.location
    else:
        location = f"{PurePath(hit.source).name}/{hit.location}"
    return Citation(title=hit.heading or hit.title, location=location, snippet=hit.snippet)


def check_reply(reply: Reply, hits: Sequence[Hit]) -> Reply:
    """Keep only citations the text uses (renumbered in order), drop markers and links that
    point at nothing retrieved, and bound the length."""
    citations = list(reply.citations)
    used: list[int] = []
    for match in MARKER.finditer(reply.text):
        n = int(match[1])
        if 1 <= n <= len(citations) and n not in used:
            used.append(n)
    renumber = {old: new for new, old in enumerate(used, 1)}

    def marker(match: re.Match) -> str:
        n = int(match[1])
        return f"[{renumber[n]}]" if n in renumber else ""

    known = _known_locations(hits)
    # Code is quoted, not cited: `argv[1]` inside a fence is no marker, its URLs no claims.
    parts = _FENCE.split(reply.text)
    for i in range(0, len(parts), 2):
        prose = MARKER.sub(marker, parts[i]) if citations else parts[i]
        parts[i] = _drop_unknown_links(prose, known)
    text = "".join(parts)
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1].rsplit("\n", 1)[0] + "\n…"
    return dataclasses.replace(reply, text=text, citations=tuple(citations[n - 1] for n in used))


def _known_locations(hits: Sequence[Hit]) -> set[str]:
    known = set()
    for hit in hits:
        known.update({hit.location, hit.source, citation_for(hit).location})
        known.update(re.findall(r"https?://[^\s)>\]]+", hit.text))
    return known


def _drop_unknown_links(text: str, known: set[str]) -> str:
    text = _MD_LINK.sub(lambda m: m[0] if m[2] in known else m[1], text)
    return _BARE_URL.sub(lambda m: m[0] if m[0].rstrip(".,;:") in known else "", text)


def check_code(text: str) -> str:
    """Problems with the Python blocks in `text` (empty when there are none)."""
    problems = []
    for n, code in enumerate(_PYTHON_BLOCK.findall(text), 1):
        try:
            ast.parse(code)
        except SyntaxError as exc:
            problems.append(f"block {n}, line {exc.lineno}: {exc.msg}")
            continue
        result = subprocess.run(
            [_ruff(), "check", "--select", _RUFF_RULES, "--output-format", "concise", "--no-cache",
             "--stdin-filename", f"block{n}.py", "-"],
            input=code, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            problems += [line for line in result.stdout.splitlines() if line.startswith(f"block{n}.py")]
    return "\n".join(problems)


def _ruff() -> str:
    beside = Path(sys.executable).parent / "ruff"
    return str(beside) if beside.exists() else "ruff"
