"""Where files come from: a file, a folder, a git repository at HEAD, or a URL.

`open_source` decides which and returns a Source whose `entries()` lists files cheaply; bytes are
only read (or fetched) when an Entry's `read()` is called, so listing a large tree costs nothing.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pathspec import GitIgnoreSpec

from memory.documents import Entry, Unreadable
from memory.downloads import failure, read_body
from memory.globs import Globs

# Never worth indexing, whatever the .gitignore files say (or when there are none).
ALWAYS_SKIPPED = frozenset({".git", "node_modules", ".venv", "__pycache__"})
URL_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Source:
    """What `open_source` found. `entries()` lists without reading; a URL is fetched by its
    entry's `read()`, which also fills in the entry's `content_type`."""

    kind: Literal["file", "folder", "git", "url"]
    location: str  # absolute resolved path, or the URL
    list_entries: Callable[[], Iterator[Entry]] = field(repr=False, compare=False)
    metadata: dict[str, Any] = field(default_factory=dict)  # git: {"commit": full sha of HEAD}

    def entries(self) -> Iterator[Entry]:
        return self.list_entries()

    @property
    def name(self) -> str:
        """How people call it: the file's, folder's or repository's own name (an upload's file
        name, not the hub's path to it), a URL without its scheme."""
        if self.kind == "url":
            parts = urlsplit(self.location)
            return (parts.netloc + parts.path).rstrip("/") or self.location
        return Path(self.location).name or self.location


def open_source(
    target: str,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_bytes: int = 10_000_000,
    fetch_timeout: float = 20.0,
) -> Source:
    """`include`/`exclude` are gitignore-style globs on the posix path relative to the root
    ("*.md" matches at any depth, "docs/**" everything under docs/); they apply to folders and
    git repositories. A single file or URL is taken as named."""
    if "://" in target:
        scheme = urlsplit(target).scheme.lower()
        if scheme not in URL_SCHEMES:
            raise ValueError(f"unsupported URL scheme {scheme!r} in {target}: "
                             "only http:// and https:// are supported")
        return Source("url", target, lambda: iter([_url_entry(target, max_bytes, fetch_timeout)]))

    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {target}")
    path = path.resolve()
    wanted = Globs(include, exclude)
    if path.is_dir() and (path / ".git").exists():
        commit = _head_commit(path)
        return Source("git", str(path), lambda: _git_entries(path, commit, wanted, max_bytes),
                      {"commit": commit})
    if path.is_dir():
        return Source("folder", str(path), lambda: _folder_entries(path, wanted, max_bytes))
    return Source("file", str(path), lambda: iter([Entry(path.name, _file_reader(path, max_bytes))]))


def _file_reader(path: Path, max_bytes: int) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            info = path.stat()
            # A FIFO or device in a folder would block read() forever.
            if not stat.S_ISREG(info.st_mode):
                raise Unreadable("not a regular file")
            if info.st_size > max_bytes:
                raise Unreadable(f"larger than {max_bytes} bytes")
            with path.open("rb") as file:
                data = file.read(max_bytes + 1)  # the file may have grown since stat()
        except OSError as error:
            raise Unreadable(f"unreadable: {error.strerror or error}") from error
        if len(data) > max_bytes:
            raise Unreadable(f"larger than {max_bytes} bytes")
        return data

    return read


def _folder_entries(root: Path, wanted: Globs, max_bytes: int) -> Iterator[Entry]:
    # .gitignore patterns are relative to the folder holding the file: keyed by that folder's
    # relative prefix ("" for the root, "docs/" for docs/.gitignore).
    ignores: dict[str, GitIgnoreSpec] = {}
    found: list[str] = []
    for folder, subfolders, files in os.walk(root):
        prefix = _relative(root, Path(folder))
        prefix = f"{prefix}/" if prefix else ""
        gitignore = Path(folder, ".gitignore")
        if gitignore.is_file():
            try:
                patterns = gitignore.read_text("utf-8", "replace").splitlines()
                ignores[prefix] = GitIgnoreSpec.from_lines(patterns)
            except OSError:
                pass  # an unreadable .gitignore ignores nothing, as git does
        # Pruning in place stops os.walk descending: git never re-includes inside an ignored folder.
        subfolders[:] = [name for name in subfolders
                         if name not in ALWAYS_SKIPPED and not _ignored(f"{prefix}{name}/", ignores)]
        found += [f"{prefix}{name}" for name in files if not _ignored(f"{prefix}{name}", ignores)]
    for relative in sorted(found):
        if wanted.wants(relative):
            yield Entry(relative, _file_reader(root / relative, max_bytes))


def _ignored(relative: str, ignores: dict[str, GitIgnoreSpec]) -> bool:
    # The deepest .gitignore with an opinion wins, so a nested `!pattern` can re-include a file.
    for prefix in sorted(ignores, key=len, reverse=True):
        if relative.startswith(prefix):
            verdict = ignores[prefix].check_file(relative[len(prefix):]).include
            if verdict is not None:
                return verdict
    return False


def _relative(root: Path, path: Path) -> str:
    relative = path.relative_to(root).as_posix()
    return "" if relative == "." else relative


def _head_commit(root: Path) -> str:
    # ValueError, like any other target that cannot be opened (no commit yet, git missing,
    # a repository git refuses to read).
    try:
        return _git(root, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()
    except RuntimeError as error:
        raise ValueError(f"{root} is a git repository with no commit to read ({error})") from error


def _git_entries(root: Path, commit: str, wanted: Globs, max_bytes: int) -> Iterator[Entry]:
    # `ls-tree -l` lists what HEAD holds (not the index or the working tree) with each blob's
    # size, so oversized files are refused without reading them.
    listing = _git(root, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)
    for record in filter(None, listing.decode("utf-8", "surrogateescape").split("\0")):
        info, relative = record.split("\t", 1)
        mode, kind, blob, size = info.split()
        # Submodules are commits, and symlinks' blobs hold only the link target.
        if kind != "blob" or mode == "120000" or not wanted.wants(relative):
            continue
        yield Entry(relative, _blob_reader(root, blob, int(size), max_bytes))


def _blob_reader(root: Path, blob: str, size: int, max_bytes: int) -> Callable[[], bytes]:
    def read() -> bytes:
        if size > max_bytes:
            raise Unreadable(f"larger than {max_bytes} bytes")
        try:
            return _git(root, "cat-file", "blob", blob)
        except RuntimeError as error:
            raise Unreadable(f"unreadable: {error}") from error

    return read


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120)
    except FileNotFoundError as error:
        raise RuntimeError(f"{root} is a git repository but git is not installed") from error
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise RuntimeError(f"git {args[0]}: {reason}")
    return done.stdout


def _url_entry(url: str, max_bytes: int, timeout: float) -> Entry:
    # Listing must not touch the network, yet the Content-Type is only known once the page is
    # fetched: read() records it on the entry (the one place an Entry changes after creation),
    # so `parse(entry.location, entry.read(), content_type=entry.content_type)` sees it.
    def read() -> bytes:
        data, content_type = _fetch(url, max_bytes, timeout)
        object.__setattr__(entry, "content_type", content_type)
        return data

    entry = Entry(url, read)  # read() refers to it
    return entry


def _fetch(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str | None]:
    deadline = time.monotonic() + timeout
    try:
        with requests.get(url, timeout=timeout, stream=True) as response:
            if response.status_code >= 400:
                raise Unreadable(f"HTTP {response.status_code} {response.reason}".strip())
            return read_body(response, max_bytes, timeout, deadline), response.headers.get("Content-Type")
    except requests.RequestException as error:
        raise failure(error, timeout) from error
