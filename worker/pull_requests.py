"""One file proposed to a GitHub repository as a pull request, through the REST API: the branch
made from the base branch's head, the file written on it (a new commit each time it changes),
and the branch's one open pull request opened or brought up to date. Never merged.

Proposing again while the pull request is open adds a commit to its branch and rewrites its
title and description. Once it was merged or closed, the branch starts again from the base
branch's head and a new pull request is opened.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from memory.connectors import ConnectorError
from memory.connectors.http import Client

_API_VERSION = "2022-11-28"


class Refused(Exception):
    """GitHub refused, or the repository holds something we must not overwrite; the message says
    why in GitHub's words where it gave some."""


@dataclass(frozen=True)
class Pull:
    number: int
    url: str  # the pull request's page
    state: str  # open, closed or merged

    @classmethod
    def of(cls, found: dict[str, Any]) -> Pull:
        merged = found.get("merged") or found.get("merged_at")
        return cls(found["number"], found["html_url"], "merged" if merged else found["state"])


@dataclass(frozen=True)
class Proposed:
    pull: Pull | None  # None when the base branch already holds the file as proposed
    commit: str | None  # the commit written, None when the branch had the file already
    created: bool  # a new pull request (not an update of the open one)


@dataclass(frozen=True)
class Change:
    branch: str
    path: str
    content: str
    commit_message: str
    title: str
    body: str
    # Whether the file found at `path` may be replaced: a file people wrote is never overwritten.
    may_replace: Callable[[bytes], bool]


class Repository:
    def __init__(self, api_url: str, repository: str, token: str, *, timeout: float = 30.0) -> None:
        self.repository = repository
        self.client = Client(api_url, timeout=timeout, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": _API_VERSION,
            "Authorization": f"Bearer {token}", "User-Agent": "MorningAI-hub"})

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.client.json(method, f"repos/{self.repository}/{path}", **kwargs)
        except ConnectorError as exc:
            raise Refused(str(exc)) from None

    def head(self, branch: str) -> str | None:
        """The commit at the tip of `branch`; None when there is no such branch."""
        try:
            response = self.client.request("GET", f"repos/{self.repository}/git/ref/heads/{quote(branch)}", ok=(404,))
        except ConnectorError as exc:
            raise Refused(str(exc)) from None
        return None if response.status_code == 404 else response.json()["object"]["sha"]

    def create_branch(self, branch: str, sha: str) -> None:
        self._json("POST", "git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha})

    def reset_branch(self, branch: str, sha: str) -> None:
        self._json("PATCH", f"git/refs/heads/{quote(branch)}", json={"sha": sha, "force": True})

    def file(self, path: str, ref: str) -> bytes | None:
        try:
            response = self.client.request("GET", f"repos/{self.repository}/contents/{quote(path)}",
                                           params={"ref": ref}, ok=(404,),
                                           headers={"Accept": "application/vnd.github.raw+json"})
        except ConnectorError as exc:
            raise Refused(str(exc)) from None
        return None if response.status_code == 404 else response.content

    def put_file(self, path: str, branch: str, content: bytes, message: str, replacing: bytes | None) -> str:
        """Commit `content` at `path` on `branch`; the new commit's sha."""
        body = {"message": message, "branch": branch, "content": base64.b64encode(content).decode()}
        if replacing is not None:
            body["sha"] = blob_sha(replacing)  # GitHub's check that we replace what we read
        return self._json("PUT", f"contents/{quote(path)}", json=body)["commit"]["sha"]

    def open_pull(self, branch: str, base: str) -> Pull | None:
        found = self._json("GET", "pulls", params={"head": f"{self.repository.split('/')[0]}:{branch}",
                                                   "base": base, "state": "open", "per_page": 1})
        return Pull.of(found[0]) if found else None

    def pull(self, number: int) -> Pull:
        return Pull.of(self._json("GET", f"pulls/{number}"))

    def create_pull(self, branch: str, base: str, title: str, body: str) -> Pull:
        return Pull.of(self._json("POST", "pulls", json={"head": branch, "base": base, "title": title,
                                                         "body": body, "maintainer_can_modify": True}))

    def update_pull(self, number: int, title: str, body: str) -> Pull:
        return Pull.of(self._json("PATCH", f"pulls/{number}", json={"title": title, "body": body}))


def blob_sha(data: bytes) -> str:
    """Git's id of a file's content, as the contents API asks for it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def propose(repo: Repository, base: str, change: Change) -> Proposed:
    base_sha = repo.head(base)
    if base_sha is None:
        raise Refused(f"{repo.repository} has no branch {base!r}: set the docs repository's base branch to "
                      "one it has")
    pull = repo.open_pull(change.branch, base)
    if repo.head(change.branch) is None:
        repo.create_branch(change.branch, base_sha)
    elif pull is None:
        # Its last pull request was merged or closed: start again from what the base holds now.
        repo.reset_branch(change.branch, base_sha)
    content = change.content.encode()
    current = repo.file(change.path, change.branch)
    if current is not None and current != content and not change.may_replace(current):
        raise Refused(f"{change.path} in {repo.repository} was not written by MorningAI; refusing to replace "
                      "it (move it, or set another path in the docs repository's settings)")
    commit = None
    if current != content:
        commit = repo.put_file(change.path, change.branch, content, change.commit_message, current)
    elif pull is None:
        return Proposed(None, None, False)  # the base branch already says exactly this
    if pull is not None:
        return Proposed(repo.update_pull(pull.number, change.title, change.body), commit, False)
    return Proposed(repo.create_pull(change.branch, base, change.title, change.body), commit, True)
