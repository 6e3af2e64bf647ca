"""Which files of a tree a source takes: gitignore-style include/exclude globs on the posix path
relative to the root ("*.md" matches at any depth, "docs/**" everything under docs/)."""

from __future__ import annotations

from collections.abc import Sequence

from pathspec import GitIgnoreSpec


class Globs:
    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        self.include = GitIgnoreSpec.from_lines(include) if include else None
        self.exclude = GitIgnoreSpec.from_lines(exclude)

    def wants(self, relative: str) -> bool:
        """Included (by `include`, or by default when there is none) and not excluded."""
        if self.include is not None and not self.include.match_file(relative):
            return False
        return not self.exclude.match_file(relative)
