"""Notion: pages and database rows through the official API (version 2026-03-11).

The listing asks search for every page shared with the integration (100 a request) and, for
each database named in the settings, queries its data sources for their rows; each page's
`last_edited_time` is its version, so only pages edited since the last sync are read. Reading a
page walks its blocks (and their children) and writes them as Markdown (notion_blocks); a row's
properties come first, as a short list. A page that leaves the listing (trashed, or no longer
shared) has its document removed.

Settings: `pages` (page ids or links: those pages and every page below them), `databases`
(database ids or links: their rows), neither: everything shared with the integration;
`api_url` (https://api.notion.com; tests point it at a fake). Credentials: `token`, an internal
integration's secret (ntn_…) with read content access.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from memory.connectors import Fetched, Item, Listing, SettingsError, register
from memory.connectors.http import Client, reason
from memory.connectors.notion_blocks import page_url, plain, properties, to_markdown
from memory.documents import Unreadable

VERSION = "2026-03-11"
API_URL = "https://api.notion.com"
PAGE_SIZE = 100  # the most Notion gives per request
# Notion rounds last_edited_time down to the minute: a page edited again within the minute a
# sync read it would keep its version. A page edited this recently is listed without one, so
# the next sync reads it again (and embeds it only if its text changed).
SETTLING = timedelta(minutes=2)
_ID = re.compile(r"([0-9a-f]{32})(?:[?#/]|$)")
_PARENTS = {"page_id": "pages", "database_id": "databases", "block_id": "blocks"}


@register("notion")
class Notion:
    kind = "notion"

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any]) -> None:
        self.pages = _ids(settings.get("pages"), "pages")
        self.databases = _ids(settings.get("databases"), "databases")
        api_url = str(settings.get("api_url") or API_URL).rstrip("/")
        if urlsplit(api_url).scheme not in ("http", "https"):
            raise SettingsError(f"api_url: an http(s) address such as {API_URL}")
        token = str(credentials.get("token") or "").strip()
        if not token:
            raise SettingsError("token: the integration's secret (Notion → Settings → Connections → "
                                "Develop or manage integrations), with read content access")
        self.client = Client(api_url, headers={"Authorization": f"Bearer {token}", "Notion-Version": VERSION,
                                               "Accept": "application/json"})
        self._objects: dict[tuple[str, str], dict[str, Any] | None] = {}

    @property
    def location(self) -> str:
        roots = [root.replace("-", "") for root in self.pages + self.databases]
        return "https://www.notion.so/" + "+".join(roots) if roots else "https://www.notion.so"

    @property
    def name(self) -> str:
        if not self.pages and not self.databases:
            return "Notion: everything shared with the integration"
        counted = [f"{len(ids)} {noun if len(ids) == 1 else noun + 's'}"
                   for ids, noun in ((self.pages, "page tree"), (self.databases, "database")) if ids]
        return "Notion: " + ", ".join(counted)

    def listing(self, cursor: dict[str, Any], *, changed: dict[str, Any] | None = None) -> Listing:
        # Notion has no feed of changes: every sync lists, and the versions keep it cheap.
        found: dict[str, dict[str, Any]] = {}
        if self.pages or not self.databases:
            found.update((page["id"], page) for page in self._search())
            if self.pages:
                roots = {root: self.client.get(f"/v1/pages/{root}") for root in self.pages}
                found.update(roots)
                found = {key: page for key, page in found.items() if self._below(page, set(roots), found)}
        for database in self.databases:
            found.update((row["id"], row) for row in self._rows(database))
        now = datetime.now(UTC)
        items = [self._item(page, now) for page in found.values() if not _trashed(page)]
        return Listing(items, {}, total=len(items))

    # --- listing ---

    def _search(self) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"filter": {"property": "object", "value": "page"}, "page_size": PAGE_SIZE}
        return self._pages("POST", "/v1/search", body)

    def _rows(self, database: str) -> list[dict[str, Any]]:
        sources = self.client.get(f"/v1/databases/{database}").get("data_sources") or []
        rows = []
        for source in sources:
            rows += self._pages("POST", f"/v1/data_sources/{source['id']}/query",
                                {"page_size": PAGE_SIZE, "result_type": "page"})
        return [row for row in rows if row.get("object") == "page"]

    def _pages(self, method: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            answer = self.client.json(method, path, json={**body, **({"start_cursor": start} if start else {})})
            results += answer.get("results") or []
            start = answer.get("next_cursor")
            if not answer.get("has_more") or not start:
                return results

    def _below(self, page: dict[str, Any], roots: set[str], listed: dict[str, dict[str, Any]]) -> bool:
        """Whether the page is a root or sits under one: its parents, followed up through pages
        (those listed already cost no request), databases and blocks (a page inside a column or
        toggle) to the workspace."""
        seen: set[str] = set()
        current: dict[str, Any] | None = page
        while current is not None and current.get("id") not in seen:
            if current.get("id") in roots:
                return True
            seen.add(current.get("id"))
            parent = current.get("parent") or {}
            kind = "database_id" if parent.get("database_id") else parent.get("type", "")
            if kind not in _PARENTS:
                return False  # the workspace
            listed_page = listed.get(parent[kind]) if kind == "page_id" else None
            current = listed_page or self._object(_PARENTS[kind], parent[kind])
        return False

    def _object(self, collection: str, object_id: str) -> dict[str, Any] | None:
        """A page, database or block, or None when it is not shared with the integration."""
        key = (collection, object_id)
        if key not in self._objects:
            response = self.client.request("GET", f"/v1/{collection}/{object_id}", ok=(403, 404))
            self._objects[key] = response.json() if response.status_code == 200 else None
        return self._objects[key]

    def _item(self, page: dict[str, Any], now: datetime) -> Item:
        edited = page.get("last_edited_time")
        settled = edited and now - datetime.fromisoformat(edited) >= SETTLING
        title = _title(page)

        def fetch(known: str | None) -> Fetched:
            return self._fetch(page, title)

        return Item(page.get("url") or page_url(page["id"]), edited if settled else None, fetch, title=title)

    # --- reading a page ---

    def _fetch(self, page: dict[str, Any], title: str) -> Fetched:
        body = to_markdown(self._children(page["id"]))
        markdown = "\n\n".join(part for part in (properties(page.get("properties") or {}), body.strip()) if part)
        return Fetched((markdown + "\n").encode() if markdown else b"", "text/markdown", title=title,
                       metadata={"page_id": page["id"], "last_edited_time": page.get("last_edited_time")})

    def _children(self, block_id: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            params = {"page_size": PAGE_SIZE, **({"start_cursor": start} if start else {})}
            response = self.client.request("GET", f"/v1/blocks/{block_id}/children", params=params, ok=(403, 404))
            if response.status_code in (403, 404):
                # Trashed or unshared since the listing: skipped, in Notion's words.
                raise Unreadable(f"HTTP {response.status_code} {reason(response)}".rstrip())
            answer = response.json()
            blocks += answer.get("results") or []
            start = answer.get("next_cursor")
            if not answer.get("has_more") or not start:
                break
        for block in blocks:
            kind = block.get("type", "")
            # Child pages and databases are items of their own; here they are links.
            if block.get("has_children") and kind not in ("child_page", "child_database"):
                block.setdefault(kind, {})["children"] = self._children(block["id"])
        return blocks


def _ids(value: Any, field: str) -> list[str]:
    """Notion ids (with or without dashes) or links to pages and databases, as dashed ids."""
    if value in (None, "", []):
        return []
    values = value if isinstance(value, list) else [value]
    ids = []
    for raw in values:
        text = str(raw).strip().lower()
        compact = text.replace("-", "") if re.fullmatch(r"[0-9a-f-]{32,36}", text) else None
        match = _ID.search(urlsplit(text).path + "/") if compact is None else None
        compact = compact or (match.group(1) if match else None)
        if compact is None or len(compact) != 32:
            raise SettingsError(f"{field}: {raw!r} is not a Notion id or link "
                                "(a link ends in a 32-character id, e.g. …/Handbook-0123456789abcdef0123456789abcdef)")
        ids.append(f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}")
    return ids


def _title(page: dict[str, Any]) -> str:
    for value in (page.get("properties") or {}).values():
        if value.get("type") == "title":
            return plain(value.get("title")) or "Untitled"
    return "Untitled"


def _trashed(page: dict[str, Any]) -> bool:
    return bool(page.get("in_trash") or page.get("archived"))

