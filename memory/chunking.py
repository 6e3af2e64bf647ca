"""Document to Chunks: split where a reader would (sections, top-level definitions, paragraphs),
pack whole blocks up to a token target, and never cut a code fence that fits in a chunk."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from markdown_it import MarkdownIt

from memory.documents import Chunk, Document

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# A word counts one token per 8 characters, hence the {1,8}: one C-level pass does the sum.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]{{1,8}}|[^\w\s]")
# Hard-split atoms: at most 8 non-space characters, so each costs at most 8 tokens.
_ATOM = re.compile(r"\s*\S{1,8}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_COMMENT_OR_ANNOTATION = ("#", "//", "/*", "*", "--", "@")

# Lines at column 0 that begin a definition. Anything between two of them belongs to the first.
_MODIFIERS = (r"(?:(?:export|default|declare|abstract|async|public|private|protected|internal|"
              r"static|final|sealed|open|override|partial|data|case|inline|unsafe|extern|"
              r"pub(?:\([\w:]+\))?)\s+)*")
_KEYWORDS = (r"(?:def|class|module|func|function\*?|fn|fun|impl|struct|union|enum|trait|"
             r"interface|type|typedef|object|namespace|record|protocol|extension|mod|"
             r"macro_rules!|const|let|var)\b")
_DEFINITION = re.compile(_MODIFIERS + _KEYWORDS)
_C_FUNCTION = r"|[A-Za-z_][\w\s*&:<>,~]*\([^;]*$"  # `int main(void)`: a call would end in `;`
_DEFINITIONS = {
    "python": re.compile(r"(?:async\s+)?def\b|class\b"),  # only when ast cannot parse the file
    "c": re.compile(r"(?:struct|union|enum|typedef)\b" + _C_FUNCTION),
    "cpp": re.compile(r"(?:struct|union|enum|typedef|class|namespace|template)\b" + _C_FUNCTION),
    "shell": re.compile(r"function\s+[\w-]+|[\w-]+\s*\(\)"),
    "sql": re.compile(r"(?:create|alter|drop|insert|update|delete|select|with|grant)\b", re.I),
    "toml": re.compile(r"\["),
    "ini": re.compile(r"\["),
    "yaml": re.compile(r"[^\s#-][^:#]*:(?:\s|$)"),
    "dockerfile": re.compile(r"FROM\b", re.I),
    "make": re.compile(r"[\w./%-]+\s*:(?!=)"),
}
_MARKUP_FORMATS = ("markdown", "rst", "html")
_markdown = MarkdownIt("commonmark").enable("table")


def count_tokens(text: str) -> int:
    """An offline estimate of a BPE tokenizer's count (tiktoken would download its tables at run
    time). Each punctuation mark and each CJK character is about one token, a word one per 8
    characters: close to cl100k for English prose and code, and rather over than under for long
    identifiers, which keeps chunks inside embedding models' limits."""
    return len(_TOKEN.findall(text))


def chunk(doc: Document, *, target_tokens: int = 400, max_tokens: int = 500,
          overlap_tokens: int = 60) -> list[Chunk]:
    """Markup splits at headings, code at top-level definitions, text at blank lines. Overlap
    repeats the end of the previous chunk of the same section; code gets none, since a definition
    reads on its own."""
    if not 16 <= target_tokens <= max_tokens or not 0 <= overlap_tokens < target_tokens:
        raise ValueError("need 16 <= target_tokens <= max_tokens "
                         "and 0 <= overlap_tokens < target_tokens")
    text = doc.text.strip()
    if not text:
        return []
    if count_tokens(text) <= target_tokens:
        pieces: Iterator[tuple[tuple[str, ...], str]] = iter([((doc.title,), text)])
    elif doc.format in _MARKUP_FORMATS:
        pieces = _markup_pieces(doc, target_tokens, max_tokens, overlap_tokens)
    elif doc.format == "code":
        pieces = _code_pieces(doc, target_tokens, max_tokens)
    else:
        paragraphs = [_Block(part.strip("\n")) for part in _PARAGRAPH_BREAK.split(text) if part.strip()]
        pieces = (((doc.title,), _join(group))
                  for group in _pack(paragraphs, target_tokens, max_tokens, overlap_tokens))
    return [Chunk(body, heading, position, count_tokens(body))
            for position, (heading, body) in enumerate(pieces)]


@dataclass(frozen=True)
class _Block:
    """A unit that is kept whole when it fits: a paragraph, list, heading line, fence, definition."""

    text: str
    kind: str = "text"  # "heading" | "code" | "text"
    label: str = ""  # code: the definition it starts, e.g. "def main"
    fence: tuple[str, str] = ("", "")  # a fenced block's opening and closing lines

    @cached_property
    def tokens(self) -> int:
        return count_tokens(self.text)


def _join(blocks: list[_Block]) -> str:
    return "\n\n".join(block.text for block in blocks)


# Markup ---------------------------------------------------------------------------------------

def _markup_pieces(doc: Document, target: int, limit: int,
                   overlap: int) -> Iterator[tuple[tuple[str, ...], str]]:
    for heading, blocks in _sections(doc):
        for group in _pack(blocks, target, limit, overlap):
            yield heading, _join(group)


def _sections(doc: Document) -> list[tuple[tuple[str, ...], list[_Block]]]:
    """Top-level blocks of the Markdown, grouped under the heading path they sit in."""
    lines = doc.text.split("\n")
    tokens = _markdown.parse(doc.text)
    sections: list[tuple[tuple[str, ...], list[_Block]]] = []
    open_headings: list[tuple[int, str]] = []  # (level, text) from the outermost in
    heading, blocks = (doc.title,), []
    for index, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.type == "hr":
            continue
        start, end = token.map
        source = "\n".join(lines[start:end]).strip("\n")
        if token.type == "heading_open":
            # A section holding nothing but headings ("# Guide" right above "## Install") joins
            # the next one rather than becoming a chunk of its own.
            if any(block.kind != "heading" for block in blocks):
                sections.append((heading, blocks))
                blocks = []
            level = int(token.tag[1:])
            while open_headings and open_headings[-1][0] >= level:
                open_headings.pop()
            open_headings.append((level, tokens[index + 1].content.strip()))
            heading = _heading_path(doc.title, [text for _, text in open_headings])
            blocks.append(_Block(source, "heading"))
        elif token.type == "fence":
            opening, closing = f"{token.markup}{token.info}", token.markup
            body = token.content.rstrip("\n")
            text = "\n".join([opening, body, closing] if body else [opening, closing])
            blocks.append(_Block(text, "code", fence=(opening, closing)))
        elif token.type == "code_block":
            blocks.append(_Block(source, "code"))
        else:
            blocks.append(_Block(source))
    if blocks:
        sections.append((heading, blocks))
    return sections


def _heading_path(title: str, headings: list[str]) -> tuple[str, ...]:
    headings = [text for text in headings if text]
    # The top heading usually is the title itself ("# Deploy guide"): name it once.
    if headings and headings[0] == title:
        headings = headings[1:]
    return (title, *headings)


# Code -----------------------------------------------------------------------------------------

def _code_pieces(doc: Document, target: int, limit: int) -> Iterator[tuple[tuple[str, ...], str]]:
    lines = doc.text.split("\n")
    spans = _python_spans(doc.text) if doc.language == "python" else None
    if spans is None:
        pattern = _DEFINITIONS.get(doc.language, _DEFINITION)
        spans = [(number, None, _label(line))
                 for number, line in enumerate(lines) if pattern.match(line)]
    # In Python a line starting with `*` is an unpacking, not a comment.
    comments = ("#",) if doc.language == "python" else _COMMENT_OR_ANNOTATION
    for group in _pack(_partition(lines, spans, comments), target, limit, 0):
        labels = [block.label for block in group if block.label]
        yield (doc.title, *labels[:1]), _join(group)


def _python_spans(source: str) -> list[tuple[int, int | None, str]] | None:
    """(first line, end line, label) of each top-level def and class, decorators included."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    kinds = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class"}
    return [(min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1, node.end_lineno,
             f"{kinds[type(node)]} {node.name}")
            for node in module.body if type(node) in kinds]


def _label(line: str) -> str:
    return " ".join(line.split()).rstrip("{:= ")[:80]


def _partition(lines: list[str], spans: list[tuple[int, int | None, str]],
               comments: tuple[str, ...]) -> list[_Block]:
    """Cut the file into definitions, each with the comments and annotations right above it,
    and the module-level code between them. A span without an end runs to the next one."""
    starts: list[int] = []
    floor = 0
    for start, end, _ in spans:
        while start > floor and lines[start - 1].lstrip().startswith(comments):
            start -= 1
        starts.append(start)
        floor = end if end is not None else start + 1
    parts: list[tuple[str, list[str]]] = []
    cursor = 0
    for index, ((_, end, label), start) in enumerate(zip(spans, starts)):
        if end is None:
            end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        parts += [("", lines[cursor:start]), (label, lines[start:end])]
        cursor = end
    parts.append(("", lines[cursor:]))
    texts = [(label, "\n".join(part).strip("\n")) for label, part in parts]
    return [_Block(text, "code", label) for label, text in texts if text.strip()]


# Packing --------------------------------------------------------------------------------------

def _pack(blocks: list[_Block], target: int, limit: int, overlap: int) -> list[list[_Block]]:
    """Greedy: whole blocks until the next would pass `target`; a block alone may reach `limit`.
    Each group after the first starts with the previous group's last ~`overlap` tokens."""
    groups: list[list[_Block]] = []
    current: list[_Block] = []
    carried = 0  # leading blocks of `current` that repeat the previous group
    for block in (piece for block in blocks for piece in _fit(block, limit)):
        size = sum(b.tokens for b in current)
        own = current[carried:]
        # A heading stays with the block under it unless both together would pass the limit.
        if own and size + block.tokens > target and (
                any(b.kind != "heading" for b in own) or size + block.tokens > limit):
            groups.append(current)
            current = _overlap(current, overlap)
            carried, size = len(current), sum(b.tokens for b in current)
        if len(current) == carried and size + block.tokens > limit:
            current, carried = [], 0  # the repeated text would push this block over the limit
        current.append(block)
    if len(current) > carried:
        groups.append(current)
    return groups


def _fit(block: _Block, limit: int) -> list[_Block]:
    """The block itself, or pieces of at most `limit` tokens: a fence becomes several fences."""
    if block.tokens <= limit:
        return [block]
    # Aim for pieces of even size (a little slack for the cuts' granularity) rather than full
    # ones and a scrap: 520 tokens become 2 x 260, not 500 + 20.
    share = min(limit, math.ceil(block.tokens / math.ceil(block.tokens / limit) * 1.1))
    if block.kind != "code":
        return [_Block(piece) for piece in _split(block.text, share)]
    opening, closing = block.fence
    body = "\n".join(block.text.split("\n")[1:-1]) if opening else block.text
    budget = max(8, min(share, limit - count_tokens(opening) - count_tokens(closing)))
    return [_Block("\n".join(filter(None, [opening, piece, closing])), "code", block.label, block.fence)
            for piece in _split(body, budget)]


# From the coarsest cut to the finest: blank lines, lines, sentences.
_CUTS = ((_PARAGRAPH_BREAK, "\n\n"), (re.compile(r"\n"), "\n"), (_SENTENCE_END, " "))


def _split(text: str, budget: int, cut: int = 0) -> list[str]:
    """Pieces of at most `budget` tokens, cut at the coarsest boundary that gets there, so a
    class splits between its methods before it splits inside one."""
    if count_tokens(text) <= budget:
        return [text] if text.strip() else []
    if cut == len(_CUTS):
        return _hard_split(text, budget)
    pattern, joiner = _CUTS[cut]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for part in (p for unit in pattern.split(text) for p in _split(unit, budget, cut + 1)):
        cost = count_tokens(part)
        if current and size + cost > budget:
            pieces.append(joiner.join(current))
            current, size = [], 0
        current.append(part)
        size += cost
    return [*pieces, joiner.join(current)] if current else pieces


def _units(text: str) -> tuple[list[str], str]:
    """Lines when there are several, else sentences; with the separator that rejoins them."""
    if "\n" in text:
        return text.split("\n"), "\n"
    return _SENTENCE_END.split(text), " "


def _hard_split(text: str, budget: int) -> list[str]:
    """The last resort for a sentence or line over the budget: cut between atoms. Summing the
    atoms' counts over-estimates the whole, so every part stays within the budget."""
    parts: list[str] = []
    current, size = "", 0
    for atom in _ATOM.findall(text):
        cost = count_tokens(atom)
        if current and size + cost > budget:
            parts.append(current.strip())
            current, size = "", 0
        current += atom
        size += cost
    return [*parts, current.strip()] if current.strip() else parts


def _overlap(group: list[_Block], overlap: int) -> list[_Block]:
    """The end of `group` worth at most `overlap` tokens: whole blocks, then whole sentences or
    lines, cutting inside one only when nothing else would do. Never a heading or part of a fence."""
    taken: list[_Block] = []
    budget = overlap
    for block in reversed(group):
        if block.kind == "heading" or budget <= 0:
            break
        if block.tokens <= budget:
            taken.insert(0, block)
            budget -= block.tokens
            continue
        if block.kind == "text":
            tail = _tail(block.text, budget, cut=not taken)
            if tail:
                taken.insert(0, _Block(tail))
        break
    return taken


def _tail(text: str, budget: int, *, cut: bool) -> str:
    units, joiner = _units(text)
    kept: list[str] = []
    for unit in reversed(units):
        cost = count_tokens(unit)
        if cost > budget:
            break
        kept.insert(0, unit)
        budget -= cost
    if kept or not cut:
        return joiner.join(kept).strip()
    atoms: list[str] = []
    for atom in reversed(_ATOM.findall(text)):
        budget -= count_tokens(atom)
        if budget < 0:
            break
        atoms.insert(0, atom)
    return "".join(atoms).strip()


def rejoin(chunks: Sequence[Sequence[str]], format: str) -> str:
    """A document's text from its chunks, (heading, text) in order: the inverse of `chunk`, but
    for where blank lines fall. The overlap that repeats the end of a section's previous chunk
    is left out (code has none)."""
    parts: list[str] = []
    for index, (heading, text) in enumerate(chunks):
        previous = chunks[index - 1] if index else None
        if format != "code" and previous is not None and previous[0] == heading:
            text = _after_repeat(previous[1], text)
        parts.append(text)
    return "\n\n".join(parts)


def _after_repeat(before: str, text: str) -> str:
    """`text` without its leading blocks that `before` ends with (the overlap is whole blocks,
    or the tail of one, joined to what follows by a blank line)."""
    cut = text.rfind("\n\n")
    while cut > 0:
        if before.endswith(text[:cut]):
            return text[cut:].lstrip("\n")
        cut = text.rfind("\n\n", 0, cut)
    return text
