"""GitHub: a repository's docs (and, when asked, its code) at a branch, its issues and its
discussions, read through the REST API (GraphQL for discussions) with a token or a GitHub App.

Settings: `repository` ("owner/name"); `branch` (default: the repository's default branch);
`include`/`exclude` (gitignore-style globs; `include` picks files whatever their type); `docs`
(Markdown, reStructuredText and text files; on by default), `code` (source files; off by default:
docs answer questions, code mostly adds noise and embedding cost); `issues` and `discussions` (on
by default); `api_url` (GitHub Enterprise: https://HOST/api/v3) and `web_url` (the links'
host, derived from api_url); `max_file_bytes`.
Credentials: {"token"} or a GitHub App's {"app_id", "private_key", "installation_id"}; and
{"webhook_secret"} for the push webhook (hub/web/webhooks.py).

A listing costs one tree call for every file with its blob sha (the item's version: an unchanged
file is not fetched), issues by 100 and discussions by 100. When the branch head is the commit
last synced, the files are not listed again and issues and discussions only from the last change
on: such a listing is not complete, so it deletes nothing. The files are listed in full when the
head moves, the settings change, or a day has passed, and that complete listing also removes the
issues and discussions GitHub no longer has. A push webhook narrows a sync to the paths it
touched (`changed` = {"paths", "removed", "before", "after"}).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import jwt

from memory.connectors import (
    ConnectorError,
    Fetched,
    Item,
    Listing,
    SettingsError,
    register,
)
from memory.connectors.github_threads import discussion_items, issue_items
from memory.connectors.http import Client
from memory.documents import Unreadable
from memory.globs import Globs
from memory.loaders import LANGUAGES, MARKDOWN, NAMED_CODE
from memory.sources import ALWAYS_SKIPPED

DOCS = MARKDOWN | {".rst", ".txt"}
FULL_LISTING_EVERY = 24 * 3600  # seconds: how stale the knowledge of deleted issues may get
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class Settings:
    repository: str
    branch: str | None
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    docs: bool
    code: bool
    issues: bool
    discussions: bool
    api_url: str
    web_url: str
    max_file_bytes: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Settings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SettingsError(f"{unknown[0]}: not a GitHub setting (these are: {', '.join(sorted(known))})")
        repository = raw.get("repository")
        if not isinstance(repository, str) or not _REPOSITORY.match(repository.strip()):
            raise SettingsError('repository: give the repository as "owner/name", e.g. "acme/handbook"')
        api_url = _text(raw, "api_url") or "https://api.github.com"
        if urlsplit(api_url).scheme not in ("http", "https"):
            raise SettingsError(f"api_url: {api_url!r} is not an http(s) URL")
        api_url = api_url.rstrip("/")
        max_file_bytes = raw.get("max_file_bytes", 1_000_000)
        if not isinstance(max_file_bytes, int) or isinstance(max_file_bytes, bool) or max_file_bytes < 1:
            raise SettingsError("max_file_bytes: give a positive number of bytes")
        return cls(repository.strip(), _text(raw, "branch"), _globs(raw, "include"), _globs(raw, "exclude"),
                   _flag(raw, "docs", True), _flag(raw, "code", False), _flag(raw, "issues", True),
                   _flag(raw, "discussions", True), api_url,
                   (_text(raw, "web_url") or _web_url(api_url)).rstrip("/"), max_file_bytes)

    @cached_property
    def globs(self) -> Globs:
        return Globs(self.include, self.exclude)

    def wants(self, path: str) -> bool:
        """A file this source syncs: by `include` when given, else by its type; never excluded
        ones, nor anything under node_modules, .git and the like."""
        parts = PurePosixPath(path).parts
        if any(part in ALWAYS_SKIPPED for part in parts[:-1]):
            return False
        if not self.globs.wants(path):
            return False
        if self.include:
            return True
        suffix = PurePosixPath(path).suffix.lower()
        return (self.docs and suffix in DOCS) or (self.code and (suffix in LANGUAGES or parts[-1] in NAMED_CODE))


def _web_url(api_url: str) -> str:
    """github.com for api.github.com; for GitHub Enterprise (https://HOST/api/v3) the host; a
    test's fake serves both on one address."""
    if urlsplit(api_url).hostname == "api.github.com":
        return "https://github.com"
    return api_url.removesuffix("/api/v3")


def _graphql_url(api_url: str) -> str:
    return api_url.removesuffix("/v3") + "/graphql" if api_url.endswith("/api/v3") else api_url + "/graphql"


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise SettingsError(f"{key}: give text")
    return value.strip() or None if value else None


def _flag(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{key}: give true or false")
    return value


def _globs(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f'{key}: give a list of gitignore-style globs, e.g. ["docs/**", "*.md"]')
    return tuple(value)


class _Auth:
    """The Authorization header: a token as given, or a GitHub App's installation token, asked
    for with a JWT signed by the App's key and renewed before it expires (they last an hour)."""

    def __init__(self, credentials: dict[str, Any], api_url: str) -> None:
        self.token = credentials.get("token")
        app = [credentials.get(key) for key in ("app_id", "private_key", "installation_id")]
        if self.token is not None:
            if not isinstance(self.token, str) or not self.token.strip():
                raise SettingsError("token: give a GitHub token (a fine-grained token with read access "
                                    "to contents, issues, discussions and metadata)")
        elif not all(app):
            raise SettingsError('credentials: give {"token": ...} or a GitHub App\'s {"app_id", "private_key", '
                                '"installation_id"}')
        self.app_id, self.private_key, self.installation_id = (str(value) if value else None for value in app)
        self.api_url = api_url
        self.expires = 0.0

    def header(self, client: Client) -> str:
        if self.app_id is None:
            return f"Bearer {self.token.strip()}"
        if time.time() > self.expires - 300:
            now = int(time.time())
            try:
                assertion = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": self.app_id},
                                       self.private_key, algorithm="RS256")
            except (ValueError, TypeError, jwt.PyJWTError) as error:
                raise ConnectorError(f"private_key: not an RSA private key in PEM form ({error})") from None
            answer = client.json("POST", f"app/installations/{quote(self.installation_id)}/access_tokens",
                                 headers={"Authorization": f"Bearer {assertion}"})
            self.token = answer["token"]
            self.expires = datetime.fromisoformat(answer["expires_at"]).timestamp()
        return f"Bearer {self.token}"


class GitHub:
    kind = "github"

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any]) -> None:
        self.settings = Settings.parse(settings)
        self.auth = _Auth(credentials, self.settings.api_url)
        self.client = Client(self.settings.api_url, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": _API_VERSION,
            "User-Agent": "MorningAI-hub"})
        self.repo = self.settings.repository

    @property
    def location(self) -> str:
        return f"{self.settings.web_url}/{self.repo}"

    @property
    def name(self) -> str:
        return self.repo

    def request(self, method: str, path: str, **kwargs: Any):
        """A request with a current Authorization header (an App's token is renewed as needed)."""
        headers = {"Authorization": self.auth.header(self.client), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def pages(self, path: str, params: dict[str, Any]):
        """Each page of a listing, following GitHub's Link headers."""
        url: str | None = path
        while url:
            response = self.request("GET", url, params=params)
            yield response.json()
            url, params = response.links.get("next", {}).get("url"), None

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = self.request("POST", _graphql_url(self.settings.api_url),
                              json={"query": query, "variables": variables}).json()
        if answer.get("errors"):
            raise ConnectorError(f"GitHub GraphQL: {answer['errors'][0].get('message', answer['errors'][0])}")
        return answer["data"]

    # --- listing ---

    def listing(self, cursor: dict[str, Any], *, changed: dict[str, Any] | None = None) -> Listing:
        branch = self.settings.branch or self.get(f"repos/{self.repo}")["default_branch"]
        if changed is not None:
            return self._pushed(cursor, branch, changed)
        head = self.get(f"repos/{self.repo}/branches/{quote(branch)}")["commit"]
        settings = hashlib.sha1(json.dumps(asdict(self.settings), sort_keys=True).encode()).hexdigest()
        full = (head["sha"] != cursor.get("commit") or settings != cursor.get("settings")
                or time.time() - cursor.get("full_at", 0) > FULL_LISTING_EVERY)
        items: list[Item] = self._files(branch, head["commit"]["tree"]["sha"]) if full else []
        new_cursor = {**cursor, "commit": head["sha"], "settings": settings}
        if full:
            new_cursor["full_at"] = time.time()
        if self.settings.issues:
            found, new_cursor["issues_since"] = issue_items(self, None if full else cursor.get("issues_since"))
            items += found
        if self.settings.discussions:
            found, new_cursor["discussions_since"] = discussion_items(
                self, None if full else cursor.get("discussions_since"))
            items += found
        return Listing(items, new_cursor, complete=full, total=len(items))

    def _pushed(self, cursor: dict[str, Any], branch: str, changed: dict[str, Any]) -> Listing:
        """Just what a push touched. The cursor moves to the pushed commit only when it stood at
        the push's parent; otherwise a push was missed and the next full listing catches up."""
        paths = [p for p in changed.get("paths", []) if isinstance(p, str) and self.settings.wants(p)]
        removed = [self.file_location(branch, p) for p in changed.get("removed", []) if isinstance(p, str)]
        after = changed.get("after")
        items = []
        if paths:
            if not isinstance(after, str):
                raise ConnectorError("a push without the commit it pushed ('after')")
            blobs = {entry["path"]: entry for entry in self._tree(after)}
            for path in paths:
                if path in blobs:
                    items.append(self._file_item(branch, blobs[path]))
                else:  # changed in one commit of the push, deleted in a later one
                    removed.append(self.file_location(branch, path))
        new_cursor = dict(cursor)
        if cursor.get("commit") and cursor["commit"] == changed.get("before") and isinstance(after, str):
            new_cursor["commit"] = after
        return Listing(items, new_cursor, complete=False, removed=removed, total=len(items))

    def _tree(self, tree: str) -> list[dict[str, Any]]:
        answer = self.get(f"repos/{self.repo}/git/trees/{tree}", params={"recursive": "1"})
        if answer.get("truncated"):
            # GitHub cuts a recursive tree past 100,000 entries: a partial list would delete the rest.
            raise ConnectorError(f"{self.repo} has more files than GitHub lists in one tree; "
                                 "narrow the source with include globs")
        return [entry for entry in answer["tree"] if entry["type"] == "blob"]

    def _files(self, branch: str, tree: str) -> list[Item]:
        return [self._file_item(branch, entry) for entry in self._tree(tree) if self.settings.wants(entry["path"])]

    def file_location(self, branch: str, path: str) -> str:
        return f"{self.location}/blob/{quote(branch)}/{quote(path)}"

    def _file_item(self, branch: str, entry: dict[str, Any]) -> Item:
        path, sha, size = entry["path"], entry["sha"], entry.get("size", 0)

        def fetch(known: str | None) -> Fetched:
            if size > self.settings.max_file_bytes:
                raise Unreadable(f"larger than {self.settings.max_file_bytes} bytes ({size})")
            response = self.request("GET", f"repos/{self.repo}/git/blobs/{sha}",
                                    headers={"Accept": "application/vnd.github.raw+json"})
            return Fetched(response.content, metadata={"repository": self.repo, "path": path})

        return Item(self.file_location(branch, path), sha, fetch, title=None)


@register("github")
def github(settings: dict[str, Any], credentials: dict[str, Any]) -> GitHub:
    return GitHub(settings, credentials)
