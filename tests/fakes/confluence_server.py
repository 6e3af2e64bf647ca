"""A fake Confluence Cloud for tests: the REST API v2 a sync reads, over real HTTP on 127.0.0.1,
in Confluence's JSON.

    with FakeConfluence(page_size=2) as confluence:
        confluence.add_space("ENG", "Engineering")
        page = confluence.add_page("ENG", "Deploy", "<h1>Deploy</h1><p>…</p>")
        confluence.edit(page, "<p>new body</p>")        # version + 1
        confluence.delete(page)                          # to the trash: gone from the listing
        confluence.fail_next(confluence.error(401))      # Confluence's error body, once
        confluence.fetched(page)                         # how often its body was read

Routes: GET /wiki/api/v2/spaces?keys=KEY; GET /wiki/api/v2/spaces/{id}/pages (current pages,
without bodies, `limit` a request, the rest behind `_links.next` with an opaque `cursor`, as
Confluence pages); GET /wiki/api/v2/pages/{id}?body-format=storage. Requests need the account's
Basic auth (email and API token) or the bearer `token`; others get 401.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any
from urllib.parse import quote_plus

from .json_service import Call, JsonService
from .openai_server import Reply

TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


class FakeConfluence(JsonService):
    name = "fake-confluence"

    def __init__(self, email: str = "bot@acme.test", api_token: str = "atl-api-token",
                 token: str = "atl-oauth-token", page_size: int = 250) -> None:
        super().__init__()
        self.accepted = {"Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode(), f"Bearer {token}"}
        self.page_size = page_size  # the most a listing request answers, whatever its limit
        self.spaces: dict[str, dict[str, Any]] = {}  # key -> space
        self.pages: dict[str, dict[str, Any]] = {}  # id -> page, body included
        self._ids = itertools.count(65_601)

    # --- scripting ---

    def add_space(self, key: str, name: str = "") -> str:
        space_id = str(next(self._ids))
        self.spaces[key] = {"id": space_id, "key": key, "name": name or key, "type": "global",
                            "status": "current", "authorId": "557058:author", "createdAt": "2024-01-02T09:00:00.000Z",
                            "homepageId": None, "_links": {"webui": f"/spaces/{key}"}}
        return space_id

    def add_page(self, space: str, title: str, storage: str, parent: str | None = None) -> str:
        page_id = str(next(self._ids))
        with self._lock:
            self.pages[page_id] = {
                "id": page_id, "status": "current", "title": title, "spaceId": self.spaces[space]["id"],
                "parentId": parent, "parentType": "page" if parent else None, "position": len(self.pages),
                "authorId": "557058:author", "ownerId": "557058:author", "lastOwnerId": None,
                "createdAt": "2024-01-02T09:00:00.000Z", "version": _version(1), "storage": storage,
                "space_key": space,
            }
        return page_id

    def edit(self, page_id: str, storage: str | None = None, title: str | None = None) -> int:
        """A new version of the page; returns its number."""
        with self._lock:
            page = self.pages[page_id]
            page["storage"] = page["storage"] if storage is None else storage
            page["title"] = page["title"] if title is None else title
            page["version"] = _version(page["version"]["number"] + 1)
            return page["version"]["number"]

    def delete(self, page_id: str) -> None:
        """The page goes to the space's trash: listed no more, and its GET answers 404."""
        with self._lock:
            self.pages[page_id]["status"] = "trashed"

    def error(self, status: int, headers: dict[str, str] | None = None, title: str | None = None) -> Reply:
        """An error in the v2 API's shape."""
        title = title or TITLES.get(status, "Error")
        return Reply.json({"errors": [{"status": status, "code": title.upper().replace(" ", "_"),
                                       "title": title, "detail": None}]}, status, headers)

    # --- inspection ---

    def fetched(self, page_id: str) -> int:
        return len(self.requests_to(f"/wiki/api/v2/pages/{page_id}"))

    # --- routes ---

    def route(self, call: Call) -> Reply:
        if call.headers.get("authorization") not in self.accepted:
            return self.error(401)
        parts = call.path.strip("/").split("/")
        if call.method != "GET" or parts[:3] != ["wiki", "api", "v2"]:
            return self.error(404, title="No route found")
        match parts[3:]:
            case ["spaces"]:
                keys = set(call.query.get("keys", "").split(",")) - {""}
                found = [s for key, s in self.spaces.items() if not keys or key in keys]
                return Reply.json({"results": found, "_links": {"base": self.url + "/wiki"}})
            case ["spaces", space_id, "pages"]:
                return self._pages(call, space_id)
            case ["pages", page_id]:
                page = self.pages.get(page_id)
                if page is None or page["status"] != "current":
                    return self.error(404)
                return Reply.json(self._shown(page, body=call.query.get("body-format") == "storage"))
        return self.error(404, title="No route found")

    def _pages(self, call: Call, space_id: str) -> Reply:
        if space_id not in {s["id"] for s in self.spaces.values()}:
            return self.error(404)
        limit = min(int(call.query.get("limit", 25)), self.page_size)
        start = int(base64.urlsafe_b64decode(call.query["cursor"]).decode()) if "cursor" in call.query else 0
        with self._lock:
            current = [p for p in self.pages.values() if p["spaceId"] == space_id and p["status"] == "current"]
            results = [self._shown(p, body=False) for p in current[start:start + limit]]
        links: dict[str, str] = {"base": self.url + "/wiki"}
        if start + limit < len(current):
            cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            links["next"] = f"/wiki/api/v2/spaces/{space_id}/pages?cursor={cursor}&limit={limit}"
        return Reply.json({"results": results, "_links": links},
                          headers={"Link": f'<{links["next"]}>; rel="next"'} if "next" in links else {})

    def _shown(self, page: dict[str, Any], body: bool) -> dict[str, Any]:
        shown = {key: value for key, value in page.items() if key not in ("storage", "space_key")}
        shown["body"] = {"storage": {"representation": "storage", "value": page["storage"]}} if body else {}
        shown["_links"] = {"webui": f"/spaces/{page['space_key']}/pages/{page['id']}/{quote_plus(page['title'])}",
                           "editui": f"/pages/resumedraft.action?draftId={page['id']}",
                           "tinyui": f"/x/{page['id']}"}
        return shown


def _version(number: int) -> dict[str, Any]:
    return {"createdAt": f"2024-03-{min(number, 28):02d}T10:00:00.000Z", "message": "", "number": number,
            "minorEdit": False, "authorId": "557058:author"}
