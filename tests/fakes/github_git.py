"""The git side of the fake GitHub: blobs, commits and branches of a repository, kept as plain
Python structures. Blob shas are git's own (sha1 of "blob <len>\\0" + content), so a file that
comes back to an earlier content gets its earlier sha, as on GitHub; a commit keeps its whole
tree as {path: blob sha}, so thousands of files cost a dict copy per commit."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    sha: str
    files: dict[str, str]  # path -> blob sha
    parent: str | None
    message: str
    date: str

    @property
    def tree_sha(self) -> str:
        # Not git's nested tree objects: a stable digest of the flat tree, enough for the API's
        # "tree.sha" to change exactly when a file does.
        listing = "".join(f"{path}\0{sha}\n" for path, sha in sorted(self.files.items()))
        return hashlib.sha1(b"tree " + listing.encode()).hexdigest()


@dataclass
class GitRepo:
    """One repository's objects. `blobs` is shared by the server (blobs are content-addressed)."""

    full_name: str
    blobs: dict[str, bytes]
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def commit(self, branch: str, changes: dict[str, bytes | str | None], message: str, date: str,
               parent: str | None = None) -> Commit:
        """A new commit on `branch` (created from `parent`, else the branch's head) applying
        `changes`: content to add or replace, None to delete."""
        parent = parent or self.branches.get(branch)
        files = dict(self.commits[parent].files) if parent else {}
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            else:
                data = content.encode() if isinstance(content, str) else content
                sha = blob_sha(data)
                self.blobs[sha] = data
                files[path] = sha
        serial = next(self._serial)
        sha = hashlib.sha1(f"commit {self.full_name} {serial} {parent} {message}".encode()).hexdigest()
        self.commits[sha] = Commit(sha, files, parent, message, date)
        self.branches[branch] = sha
        return self.commits[sha]

    def resolve(self, ref: str) -> Commit | None:
        """A branch name, a commit sha, or a tree sha (the trees endpoint takes any of them)."""
        if ref in self.branches:
            return self.commits[self.branches[ref]]
        if ref in self.commits:
            return self.commits[ref]
        return next((c for c in self.commits.values() if c.tree_sha == ref), None)

    def descends(self, sha: str, ancestor: str) -> bool:
        while sha is not None:
            if sha == ancestor:
                return True
            sha = self.commits[sha].parent
        return False

    def diff(self, before: str | None, after: str) -> dict[str, list[str]]:
        """What a push from `before` to `after` touched, as a push event's commits list it."""
        old = self.commits[before].files if before in self.commits else {}
        new = self.commits[after].files
        return {"added": sorted(set(new) - set(old)),
                "modified": sorted(p for p in new if p in old and old[p] != new[p]),
                "removed": sorted(set(old) - set(new))}

    def tree_entries(self, commit: Commit, recursive: bool) -> list[dict]:
        """The entries of GET git/trees: blobs with sizes, and the folders above them."""
        entries, folders = [], set()
        for path in sorted(commit.files):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folders.add("/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                sha = commit.files[path]
                entries.append({"path": path, "mode": "100644", "type": "blob", "sha": sha,
                                "size": len(self.blobs[sha])})
        for folder in sorted(folders):
            if recursive or "/" not in folder:
                digest = hashlib.sha1(f"{commit.tree_sha}/{folder}".encode()).hexdigest()
                entries.append({"path": folder, "mode": "040000", "type": "tree", "sha": digest})
        return sorted(entries, key=lambda entry: entry["path"])
