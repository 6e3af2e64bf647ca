"""`morningai faq export`: the approved FAQs as one Markdown document, grouped by topic.

Only approved FAQs are ever written. The document's first line is a marker: a file that does
not start with it was not written by us, and is never overwritten. The new version replaces
the old one with a single rename, so nobody reads half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from memory.faqs import Faq

MARKER = "<!-- morningai faq export"


class ExportRefused(Exception):
    """The export was not written; the message says why in one line."""


def markdown(found: Sequence[Faq], workspace: str) -> str:
    approved = [faq for faq in found if faq.status == "approved"]
    lines = [(f"{MARKER}: the approved FAQs of workspace {workspace}. This file is rewritten by each "
              "export: edit the FAQs in MorningAI, not here. -->"), "", "# Frequently asked questions", ""]
    if not approved:
        lines += ["No FAQs have been approved yet.", ""]
    by_topic: dict[str, list[Faq]] = {}
    for faq in sorted(approved, key=lambda f: (-f.asked_count, f.question.lower())):
        by_topic.setdefault(faq.topic.strip() or "General", []).append(faq)
    for topic in sorted(by_topic, key=str.lower):
        lines += [f"## {topic}", ""]
        for faq in by_topic[topic]:
            lines += [f"### {faq.question}", "", faq.answer.strip(), ""]
            if faq.sources:
                lines += ["Sources:", ""]
                lines += [f"{n}. {link(source)}" for n, source in enumerate(faq.sources, 1)]
                lines.append("")
    return "\n".join(lines)


def link(source: dict[str, str]) -> str:
    location = source["location"]
    if location.startswith(("http://", "https://")):
        return f"[{source['title']}]({location})"
    return f"{source['title']}: `{location}`"


def write(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, unless `path` holds something we did not write."""
    if path.is_dir():
        raise ExportRefused(f"--output: {path} is a folder; give the path of a file")
    if not path.parent.is_dir():
        raise ExportRefused(f"--output: folder {path.parent} does not exist")
    if path.exists() and not _written_by_us(path):
        raise ExportRefused(f"--output: {path} exists and was not written by `morningai faq export`; "
                            "refusing to overwrite it (move it away, or choose another path)")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp makes it private; an export is meant to be read
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _written_by_us(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.readline().startswith(MARKER.encode())
    except OSError:
        return False
