"""Confluence Cloud: the pages of one space, through the REST API v2.

Listing a space's pages gives each page's version number without its body (250 pages a
request), so a sync fetches only the pages whose number moved; a page moved to the trash leaves
the listing and its document is removed. A fetched page's storage-format body becomes Markdown
(confluence_storage). Settings: `site` (https://acme.atlassian.net), `space` (its key) and
optionally `root` (a page id: only that page and the pages below it). Credentials: `email` and
`api_token` (Basic auth, as Atlassian Cloud documents for API tokens), or `token` (a bearer
token: an OAuth access token with `site` https://api.atlassian.com/ex/confluence/CLOUD_ID)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from memory.connectors import (
    ConnectorError,
    Fetched,
    Item,
    Listing,
    SettingsError,
    register,
)
from memory.connectors.confluence_storage import to_markdown
from memory.connectors.http import Client, reason
from memory.documents import Unreadable

API = "/wiki/api/v2"
PAGE_SIZE = 250  # the most the v2 API gives per request


@register("confluence")
class Confluence:
    kind = "confluence"

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any]) -> None:
        site = str(settings.get("site") or "").strip().rstrip("/")
        if urlsplit(site).scheme not in ("http", "https") or not urlsplit(site).netloc:
            raise SettingsError("site: the Confluence site's address, e.g. https://acme.atlassian.net")
        self.site = site.removesuffix("/wiki")
        self.space = str(settings.get("space") or "").strip()
        if not self.space or any(c.isspace() for c in self.space):
            raise SettingsError("space: the space's key, e.g. ENG (in its address: /wiki/spaces/ENG)")
        root = str(settings.get("root") or "").strip()
        if root and not root.isdigit():
            raise SettingsError("root: a page id, the number in the page's address (/pages/123456/…)")
        self.root = root or None
        if credentials.get("email") and credentials.get("api_token"):
            self.client = Client(self.site, auth=(credentials["email"], credentials["api_token"]))
        elif credentials.get("token"):
            self.client = Client(self.site, headers={"Authorization": f"Bearer {credentials['token']}"})
        else:
            raise SettingsError("credentials: email and api_token (an Atlassian API token of an account "
                                "that can read the space), or token (a bearer token)")
        self.client.session.headers["Accept"] = "application/json"

    @property
    def location(self) -> str:
        space = f"{self.site}/wiki/spaces/{self.space}"
        return f"{space}/pages/{self.root}" if self.root else space

    @property
    def name(self) -> str:
        host = urlsplit(self.site).netloc
        return f"{self.space} on {host}" + (f" (page {self.root} and below)" if self.root else "")

    def listing(self, cursor: dict[str, Any], *, changed: dict[str, Any] | None = None) -> Listing:
        # Confluence tells no changes since a point, so every sync lists the space; versions
        # keep it cheap. `changed` (a webhook's report) is not used: there is no webhook here.
        space = self._space()
        wiki = self.site + "/wiki"
        pages = []
        path: str | None = f"{API}/spaces/{space['id']}/pages"
        params: dict[str, Any] | None = {"limit": PAGE_SIZE, "status": "current"}
        while path:
            answer = self.client.get(path, params=params)
            wiki = (answer.get("_links") or {}).get("base") or wiki
            pages += answer.get("results") or []
            path, params = (answer.get("_links") or {}).get("next"), None  # the next link carries the cursor
        if self.root:
            pages = _subtree(pages, self.root)
            if not pages:
                raise ConnectorError(f"page {self.root} is not a current page of space {self.space}")
        items = [self._item(page, wiki) for page in pages]
        return Listing(items, {"space_id": space["id"]}, total=len(items))

    def _space(self) -> dict[str, Any]:
        found = self.client.get(f"{API}/spaces", params={"keys": self.space}).get("results") or []
        if not found:
            raise ConnectorError(f"{self.site}: no space with key {self.space}, or this account cannot see it")
        return found[0]

    def _item(self, page: dict[str, Any], wiki: str) -> Item:
        location = wiki + ((page.get("_links") or {}).get("webui") or f"/spaces/{self.space}/pages/{page['id']}")
        version = (page.get("version") or {}).get("number")

        def fetch(known: str | None) -> Fetched:
            return self._fetch(page["id"], wiki)

        return Item(location, str(version) if version is not None else None, fetch, title=page.get("title"))

    def _fetch(self, page_id: str, wiki: str) -> Fetched:
        response = self.client.request("GET", f"{API}/pages/{page_id}", params={"body-format": "storage"},
                                       ok=(403, 404))
        if response.status_code in (403, 404):
            # Gone or closed to this account since the listing: skip it, with Confluence's words.
            raise Unreadable(f"HTTP {response.status_code} {reason(response)}".rstrip())
        page = response.json()
        storage = ((page.get("body") or {}).get("storage") or {}).get("value") or ""
        markdown = to_markdown(storage, wiki=wiki, space=self.space, page_id=page_id)
        version = (page.get("version") or {}).get("number")
        return Fetched(markdown.encode(), "text/markdown", title=page.get("title"),
                       version=str(version) if version is not None else None,
                       metadata={"page_id": page_id, "space": self.space, "version": version})


def _subtree(pages: list[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    """The root page and its descendants, by the parent ids the listing gives."""
    children: dict[str, list[dict[str, Any]]] = {}
    for page in pages:
        children.setdefault(str(page.get("parentId")), []).append(page)
    found = [page for page in pages if str(page["id"]) == root]
    for page in found:  # grows as it goes: a breadth-first walk
        found += children.get(str(page["id"]), [])
    return found
