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
# split() keeps the fences at odd positions; one left open runs to the end (it is code, and so
# an answer checked while it is being written reads the same as when it is whole).
_FENCE = re.compile(r"(```.*?(?:```|\Z))", re.DOTALL)
_PYTHON_BLOCK = re.compile(r"```(?:python|py)\n(.*?)```", re.DOTALL)
# ruff's "this cannot run" rules (syntax errors, undefined names, impossible comparisons): a
# snippet's style is the reader's business, its breakage is ours.
_RUFF_RULES = "E9,F63,F7,F82"
# A remote repository's address: a URL (not file://), or git's user@host:path.
_REMOTE = re.compile(r"^((?!file:)[a-z][a-z0-9+.-]*://|[^/@\s]+@[^/:\s]+:)", re.IGNORECASE)


def citation_for(hit: Hit) -> Citation:
    return Citation(title=hit.heading or hit.title, location=citation_location(hit.location, hit.source),
                    snippet=hit.snippet)


def citation_location(location: str, source: str) -> str:
    """Where a document is (its `location` in the `source` it was ingested from), in a form the
    people reading the answer can use: a URL as it is; a file of a remote repository under the
    repository's address; a local file by its path in the folder it was ingested from, under
    that folder's name. The server's own directories (an upload's included) mean nothing in a
    chat, and are not shown there."""
    if location.startswith(("http://", "https://")):
        return location
    if _REMOTE.match(source):
        return source if source.endswith(location) else f"{source.rstrip('/')}/{location}"
    if source.endswith(location):  # the source is this one file
        return location
    return f"{PurePath(source).name}/{location}"


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


class CheckedStream:
    """`check_reply`'s text as the model writes it: given the model's pieces, it gives back the
    checked text that can be shown so far, so what a user watches appear is what is posted.

    Each check is local (a marker, a link, a bare URL) and markers are renumbered in the order
    they first appear, so the check of a prefix is a prefix of the check of the whole, as long as
    the prefix does not end inside something still being written: the word being written is held
    back (it may be a URL, a marker or a fence), and so is a `[` whose marker or link is not
    finished."""

    def __init__(self, hits: Sequence[Hit]):
        self._hits = tuple(hits)
        self._citations = tuple(citation_for(hit) for hit in hits)
        self._written = ""  # the model's text so far
        self._shown = ""  # the checked text handed out so far

    def add(self, piece: str) -> None:
        """A piece the model wrote."""
        self._written += piece

    def take(self) -> str:
        """The checked text that can be shown now, beyond what was handed out already."""
        return self._more(self._checked(self._written[:self._settled()]))

    def close(self) -> str:
        """The rest, once the model is done."""
        return self._more(self._checked(self._written))

    def _more(self, checked: str) -> str:
        # What was shown is never taken back; past the length bound (where the whole is cut at a
        # line) nothing more is shown, and the posted reply is the checked whole.
        if not checked.startswith(self._shown) or len(checked) >= MAX_CHARS:
            return ""
        more, self._shown = checked[len(self._shown):], checked
        return more

    def _settled(self) -> int:
        """How much of the written text no check can change any more."""
        text = self._written
        cut = len(text) - len(_LAST_WORD.search(text)[0])
        if text.count("```", 0, cut) % 2 == 0:  # in prose
            prose = text.rfind("```", 0, cut) + 3 if "```" in text[:cut] else 0
            # A marker or link starts at the first `[` after the `]` before it: the group after
            # the last `]` is open; the one it closes is finished unless a link may still follow.
            # Markers citing nothing are dropped before links are checked: their brackets join none.
            if self._citations:
                text = MARKER.sub(lambda m: m[0] if 1 <= int(m[1]) <= len(self._citations) else " " * len(m[0]),
                                  text)
            closed = text.rfind("]", prose, cut)
            opened = text.find("[", closed + 1 if closed >= 0 else prose, cut)
            if opened < 0 and closed >= 0:
                group = text.find("[", text.rfind("]", prose, closed) + 1 or prose, closed)
                if group >= 0 and not _FINISHED_BRACKET.match(text, group, cut):
                    opened = group
            if opened >= 0 and cut - opened < _LONGEST_BRACKET:
                cut = opened
        return cut

    def _checked(self, text: str) -> str:
        return check_reply(Reply(text=text, citations=self._citations), self._hits).text


_LAST_WORD = re.compile(r"\S*\Z")
# From a `[`: a marker or bracket that is closed and not followed by `(`, or a link that is closed.
_FINISHED_BRACKET = re.compile(r"\[[^\]]*\](?:[^(]|\([^)\s]*[)\s])", re.DOTALL)
_LONGEST_BRACKET = 500  # a `[` open longer than this is prose, not a marker or a link being written


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
