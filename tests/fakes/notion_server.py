"""A fake Notion for tests: the API a sync reads (version 2026-03-11), over real HTTP on
127.0.0.1, in Notion's JSON.

    with FakeNotion(page_size=2) as notion:
        handbook = notion.add_page("Handbook", [paragraph("Welcome")])
        db = notion.add_database("Runbooks", parent=handbook)
        row = notion.add_page("Restart", [...], database=db, properties={"Owner": select("SRE")})
        notion.edit(row, [paragraph("new text")])      # last_edited_time moves on a minute
        notion.trash(row)                               # gone from search and queries
        notion.fail_next(notion.error(429, headers={"Retry-After": "1"}))
        notion.read(row)                                # how often its blocks were read

Blocks are given as Notion's append requests nest them: a block's children in
`block[type]["children"]`; the fake gives them ids and serves them one level a request
(`has_children`, `/v1/blocks/{id}/children`). Routes: POST /v1/search, GET /v1/pages/{id},
GET /v1/databases/{id}, POST /v1/data_sources/{id}/query, GET /v1/blocks/{id} and
GET /v1/blocks/{id}/children, paginated with `start_cursor` / `next_cursor` / `has_more`.
Every request needs `Authorization: Bearer <token>` and a `Notion-Version` header.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .json_service import Call, JsonService
from .openai_server import Reply

CODES = {400: "validation_error", 401: "unauthorized", 403: "restricted_resource", 404: "object_not_found",
         429: "rate_limited", 500: "internal_server_error"}
MESSAGES = {401: "API token is invalid.", 403: "API token does not have access to this resource.",
            429: "You have been rate limited. Please try again in a few minutes."}
TEXT_BLOCKS = {"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item",
               "to_do", "toggle", "quote", "callout", "code"}
USER = {"object": "user", "id": "9a3b5ae0-c6e6-482d-b0e1-ed315ee6dc57"}


def text(content: str, link: str | None = None, **annotations: bool) -> dict[str, Any]:
    """A rich text part, e.g. text("Deploy", bold=True) or text("docs", link="https://…")."""
    marks = {"bold": False, "italic": False, "strikethrough": False, "underline": False, "code": False,
             "color": "default", **annotations}
    return {"type": "text", "text": {"content": content, "link": {"url": link} if link else None},
            "annotations": marks, "plain_text": content, "href": link}


def block(kind: str, *parts: str | dict[str, Any], children: list[dict] | None = None, **fields: Any) -> dict:
    """A block as Notion's API writes it, e.g. block("heading_2", "Install"),
    block("code", "make", language="shell"), block("to_do", "Ship", checked=True)."""
    body: dict[str, Any] = dict(fields)
    if parts or kind in TEXT_BLOCKS:
        body = {"rich_text": [text(part) if isinstance(part, str) else part for part in parts], "color": "default",
                **fields}
    if children:
        body["children"] = children
    return {"object": "block", "type": kind, kind: body}


class FakeNotion(JsonService):
    name = "fake-notion"

    def __init__(self, token: str = "ntn_fake_secret", page_size: int = 100) -> None:
        super().__init__()
        self.token = token
        self.page_size = page_size  # the most a request answers, whatever its page_size
        self.pages: dict[str, dict[str, Any]] = {}
        self.databases: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, str] = {}  # data source id -> its database id
        self.blocks: dict[str, dict[str, Any]] = {}  # block id -> block, without its children
        self.children: dict[str, list[str]] = {}  # page or block id -> its child block ids
        self.clock = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

    # --- scripting ---

    def add_page(self, title: str, blocks: list[dict[str, Any]] | None = None, parent: str | None = None,
                 database: str | None = None, properties: dict[str, Any] | None = None,
                 title_property: str = "title") -> str:
        """A page in the workspace, under a page (`parent`), or a row of `database`."""
        page_id = str(uuid.uuid4())
        if database:
            source = self.databases[database]["data_sources"][0]["id"]
            where = {"type": "data_source_id", "data_source_id": source, "database_id": database}
        elif parent:
            where = {"type": "page_id", "page_id": parent}
        else:
            where = {"type": "workspace", "workspace": True}
        with self._lock:
            self.pages[page_id] = {
                "object": "page", "id": page_id, "created_time": _iso(self.clock), "created_by": USER,
                "last_edited_time": _iso(self.clock), "last_edited_by": USER, "cover": None, "icon": None,
                "parent": where, "in_trash": False, "is_locked": False,
                "properties": {**(properties or {}), title_property: {"id": "title", "type": "title",
                                                                       "title": [text(title)]}},
                "url": _url(title, page_id), "public_url": None,
            }
            self._set_blocks(page_id, blocks or [])
            if parent:  # the parent page shows it as a child_page block
                self._add_block(parent, {"object": "block", "type": "child_page", "child_page": {"title": title}},
                                page_id)
        return page_id

    def add_database(self, title: str, parent: str | None = None) -> str:
        database_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
        where = {"type": "page_id", "page_id": parent} if parent else {"type": "workspace", "workspace": True}
        with self._lock:
            self.databases[database_id] = {
                "object": "database", "id": database_id, "title": [text(title)], "description": [],
                "parent": where, "is_inline": bool(parent), "in_trash": False, "is_locked": False,
                "created_time": _iso(self.clock), "last_edited_time": _iso(self.clock),
                "data_sources": [{"id": source_id, "name": title}], "icon": None, "cover": None,
                "url": _url(title, database_id), "public_url": None,
            }
            self.sources[source_id] = database_id
            if parent:
                self._add_block(parent, {"object": "block", "type": "child_database",
                                         "child_database": {"title": title}}, database_id)
        return database_id

    def edit(self, page_id: str, blocks: list[dict[str, Any]] | None = None, title: str | None = None,
             at: datetime | None = None) -> None:
        """New content (or title); last_edited_time moves a minute on (or to `at`), to the minute."""
        with self._lock:
            page = self.pages[page_id]
            if blocks is not None:
                self._set_blocks(page_id, blocks)
            if title is not None:
                next(v for v in page["properties"].values() if v["type"] == "title")["title"] = [text(title)]
                page["url"] = _url(title, page_id)
            self.clock += timedelta(minutes=1)
            page["last_edited_time"] = _iso((at or self.clock).replace(second=0, microsecond=0))

    def trash(self, page_id: str) -> None:
        with self._lock:
            self.pages[page_id]["in_trash"] = True

    def error(self, status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Reply:
        """An error in Notion's shape."""
        return Reply.json({"object": "error", "status": status, "code": CODES.get(status, "internal_server_error"),
                           "message": message or MESSAGES.get(status, "Something went wrong."),
                           "request_id": str(uuid.uuid4())}, status, headers)

    # --- inspection ---

    def read(self, page_id: str) -> int:
        """How many times the page's own blocks were asked for."""
        return len(self.requests_to(f"/v1/blocks/{page_id}/children"))

    # --- routes ---

    def route(self, call: Call) -> Reply:
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401)
        if not call.headers.get("notion-version"):
            return Reply.json({"object": "error", "status": 400, "code": "missing_version",
                               "message": "Notion-Version header failed validation: Notion-Version header should be "
                                          "defined, instead was `undefined`."}, 400)
        body = call.body or {}
        match (call.method, call.path.strip("/").split("/")):
            case ("POST", ["v1", "search"]):
                value = (body.get("filter") or {}).get("value")
                found = [p for p in self.pages.values() if not p["in_trash"]] if value in (None, "page") else []
                found.sort(key=lambda p: p["last_edited_time"], reverse=True)
                return self._list(found, body.get("start_cursor"), body.get("page_size"), "page_or_data_source")
            case ("GET", ["v1", "pages", page_id]):
                return self._found(self.pages.get(page_id), "page", page_id)
            case ("GET", ["v1", "databases", database_id]):
                return self._found(self.databases.get(database_id), "database", database_id)
            case ("POST", ["v1", "data_sources", source_id, "query"]):
                if source_id not in self.sources:
                    return self._missing("data_source", source_id)
                rows = [p for p in self.pages.values() if p["parent"].get("data_source_id") == source_id
                        and not p["in_trash"]]
                return self._list(rows, body.get("start_cursor"), body.get("page_size"), "page_or_data_source")
            case ("GET", ["v1", "blocks", block_id]):
                return self._found(self.blocks.get(block_id), "block", block_id)
            case ("GET", ["v1", "blocks", block_id, "children"]):
                page = self.pages.get(block_id)
                if (block_id not in self.children and block_id not in self.blocks) or (page and page["in_trash"]):
                    return self._missing("block", block_id)
                shown = [self.blocks[child] for child in self.children.get(block_id, [])]
                return self._list(shown, call.query.get("start_cursor"), call.query.get("page_size"), "block")
        return self.error(400, f"Invalid request URL: {call.method} {call.path}")

    def _list(self, results: list[dict], start: str | None, size: Any, kind: str) -> Reply:
        offset = int(start) if start and start.isdigit() else 0
        size = min(int(size or 100), self.page_size)
        more = offset + size < len(results)
        return Reply.json({"object": "list", "results": copy.deepcopy(results[offset:offset + size]),
                           "next_cursor": str(offset + size) if more else None, "has_more": more,
                           "type": kind, kind: {}, "request_id": str(uuid.uuid4())})

    def _found(self, found: dict[str, Any] | None, kind: str, object_id: str) -> Reply:
        return Reply.json(copy.deepcopy(found)) if found is not None else self._missing(kind, object_id)

    def _missing(self, kind: str, object_id: str) -> Reply:
        return self.error(404, f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
                               "databases are shared with your integration.")

    # --- block storage ---

    def _set_blocks(self, parent_id: str, blocks: list[dict[str, Any]]) -> None:
        # New content replaces the old; the page's child pages and databases stay, after it.
        old = self.children.pop(parent_id, [])
        kept = [child for child in old if self.blocks[child]["type"] in ("child_page", "child_database")]
        for child in set(old) - set(kept):
            del self.blocks[child]
        for given in blocks:
            self._add_block(parent_id, given)
        self.children.setdefault(parent_id, []).extend(kept)

    def _add_block(self, parent_id: str, given: dict[str, Any], block_id: str | None = None) -> None:
        given = copy.deepcopy(given)
        kind = given["type"]
        nested = (given.get(kind) or {}).pop("children", [])
        block_id = block_id or str(uuid.uuid4())
        parent = ({"type": "page_id", "page_id": parent_id} if parent_id in self.pages
                  else {"type": "block_id", "block_id": parent_id})
        self.blocks[block_id] = {"object": "block", "id": block_id, "parent": parent,
                                 "created_time": _iso(self.clock), "last_edited_time": _iso(self.clock),
                                 "created_by": USER, "last_edited_by": USER, "has_children": bool(nested),
                                 "in_trash": False, **given}
        self.children.setdefault(parent_id, []).append(block_id)
        for child in nested:
            self._add_block(block_id, child)
        if kind in ("child_page", "child_database"):
            self.blocks[block_id]["has_children"] = True


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _url(title: str, object_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    return f"https://www.notion.so/{slug + '-' if slug else ''}{object_id.replace('-', '')}"

