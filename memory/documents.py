"""The nouns of memory: what a source yields (Entry), what a loader makes of it (Document),
and the pieces that get embedded and searched (Chunk)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Unreadable(Exception):
    """A file that ingest skips. The message is the reason the user sees, e.g. "binary file"."""


@dataclass(frozen=True)
class Entry:
    """One file of a source, listed cheaply; `read()` fetches its bytes (or raises Unreadable)."""

    location: str  # posix path relative to the source's root, or the URL
    read: Callable[[], bytes]
    content_type: str | None = None  # for URLs: the server's Content-Type


@dataclass(frozen=True)
class Document:
    location: str
    title: str
    # markdown, rst and html become Markdown (headings as `#`, code fenced); pdf and text plain
    # text; code its source.
    text: str
    format: str  # "markdown" | "rst" | "html" | "pdf" | "text" | "code"
    language: str = ""  # for code: "python", "javascript", ...
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: tuple[str, ...]  # the title path: document title, then section headings
    position: int  # order within its document, from 0
    tokens: int
