"""The MCP tools: `search_knowledge`, `fetch_document` and `ask`. Every call comes with the API
token the endpoint accepted (endpoint.py puts it in the request's state) and works in that
token's workspace alone: searches and documents go through Row Level Security keyed on it,
and a question becomes a web task of that workspace, answered by a worker like the playground's.

Tools are plain functions: the SDK runs them on its worker threads, so the blocking database
and Redis calls here never hold up its event loop.
"""

from __future__ import annotations

import inspect
import time
import uuid
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from agents.check import citation_location
from core import workspaces
from core.models import FINISHED, ChatTask
from core.runtime import Runtime
from hub.admin.tokens import Token
from hub.web.messages import waiting_slots
from memory import store
from memory.chunking import rejoin
from memory.embedders import EmbeddingError
from memory.search import search
from tasks import events, lifecycle

INSTRUCTIONS = """MorningAI answers from one team's own documents (handbooks, runbooks, code, \
wikis). Use search_knowledge to find passages, fetch_document to read one whole, and ask for an \
answer written by the hub with citations. Cite the `location` of what you use."""

MAX_K = 20
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class Passage(BaseModel):
    document_id: str = Field(description="The passage's document: fetch_document reads it whole")
    title: str = Field(description="The document's title")
    location: str = Field(description="Where it comes from, a URL or a path in its source: cite this")
    heading: str = Field(description="The section the passage sits in")
    snippet: str = Field(description="The words around the query's, matches in **bold**")
    text: str = Field(description="The passage")
    score: float = Field(description="Relevance among these results; higher is better")


class Found(BaseModel):
    workspace: str
    query: str
    passages: list[Passage]


class DocumentText(BaseModel):
    id: str
    title: str
    location: str = Field(description="Where it comes from, a URL or a path in its source: cite this")
    format: str
    updated_at: str = Field(description="When the hub last stored it (ISO 8601)")
    text: str = Field(description="The document's text as the hub indexed it")


class Citation(BaseModel):
    title: str
    location: str
    snippet: str


class Answer(BaseModel):
    answer: str = Field(description="The hub's answer, in Markdown, citing its sources as [1], [2], …")
    citations: list[Citation] = Field(description="The sources the answer cites, in order")
    workspace: str
    task_id: str = Field(description="The hub's task: the dashboard shows its trace under Tasks")


def build(rt: Runtime) -> MCPServer:
    server = MCPServer("morningai", title="MorningAI", instructions=INSTRUCTIONS)

    def tool(annotations: ToolAnnotations):
        """Register a tool, described by its docstring without the code's indentation."""
        def register(fn):
            server.add_tool(fn, description=inspect.cleandoc(fn.__doc__), annotations=annotations)
            return fn
        return register

    @tool(READS)
    def search_knowledge(
        ctx: Context,
        query: Annotated[str, Field(description="What to look for, in words or exact terms (an error code, a "
                                                "function name)")],
        workspace: Annotated[str | None, Field(description="The workspace to search; leave it out for the "
                                                           "token's own, the only one it may read")] = None,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages to return")] = 8,
    ) -> Found:
        """Search the team's documents (hybrid: meaning and exact words) and return the most
        relevant passages, each with its document's title, its location to cite, and the
        document_id that fetch_document reads whole."""
        token = _token(ctx)
        space = _workspace(token, workspace)
        if not query.strip():
            raise ToolError("query: say what to look for")
        try:
            hits = search(rt.db, rt.embedder, space, query, k=k)
        except (workspaces.EmbedderMismatch, EmbeddingError) as exc:
            raise ToolError(str(exc)) from None
        return Found(workspace=space, query=query, passages=[
            Passage(document_id=hit.document_id, title=hit.title, location=citation_location(hit.location, hit.source),
                    heading=hit.heading,
                    snippet=hit.snippet, text=hit.text, score=hit.score) for hit in hits])

    @tool(READS)
    def fetch_document(
        ctx: Context,
        id: Annotated[str, Field(description="A document_id from search_knowledge's passages")],
    ) -> DocumentText:
        """Read one document of the team's knowledge whole: its title, its location to cite,
        and its full text."""
        token = _token(ctx)
        try:
            document_id = uuid.UUID(id)
        except ValueError:
            raise ToolError(f"id: {id[:60]!r} is not a document id; use a document_id from "
                            "search_knowledge") from None
        with rt.db.workspace(token.workspace_id) as conn:
            row = store.document(conn, document_id)
        if row is None:
            raise ToolError(f"no document {document_id} in workspace {token.workspace!r}: it may have been "
                            "removed since the search; search again")
        return DocumentText(id=str(row["id"]), title=row["title"],
                            location=citation_location(row["location"], row["source"]),
                            format=row["format"], updated_at=row["updated_at"].isoformat(),
                            text=rejoin(row["chunks"], row["format"]))

    @tool(ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                          open_world_hint=False))
    def ask(
        ctx: Context,
        question: Annotated[str, Field(description="The question, as you would ask a colleague")],
    ) -> Answer:
        """Ask the hub a question: it searches the team's documents and writes an answer with
        numbered citations, as it does in Slack or Discord. Slower than search_knowledge (a
        model writes the answer); use it when a finished answer is worth the wait."""
        token = _token(ctx)
        if not question.strip():
            raise ToolError("question: ask something")
        limit = rt.settings.max_message_chars
        if len(question) > limit:
            raise ToolError(f"question: {len(question)} characters is longer than the {limit} allowed")
        slots = waiting_slots(rt.settings)
        if not slots.acquire(blocking=False):
            raise ToolError("the hub is busy answering other questions through this web process: "
                            "try again in a moment, or use search_knowledge")
        try:
            return _ask(rt, token, question)
        finally:
            slots.release()

    return server


def _token(ctx: Context) -> Token:
    """The API token the endpoint accepted for this request."""
    return ctx.request_context.request.state.token


def _workspace(token: Token, asked: str | None) -> str:
    if asked not in (None, "", token.workspace):
        raise ToolError(f"workspace: this API token reads workspace {token.workspace!r} only, not {asked!r}; "
                        f"leave workspace out, or use a token made for {asked!r}")
    return token.workspace


def _ask(rt: Runtime, token: Token, question: str) -> Answer:
    task = ChatTask(platform="web", workspace=token.workspace, platform_event_id=str(uuid.uuid4()),
                    text=question, kind="ask", channel="mcp", user=f"mcp:{token.prefix}")
    task_id = lifecycle.submit(rt.db, rt.queue, task).task_id
    row = _finished(rt, task_id, rt.settings.mcp_ask_seconds)
    if row is None:
        status = lifecycle.get(rt.db, task_id)["status"]
        raise ToolError(f"no answer within {rt.settings.mcp_ask_seconds:g} s: the question is {status}"
                        f"{' (is a worker running?)' if status in ('received', 'queued') else ''}. "
                        f"The answer will show in the dashboard under Tasks, task {task_id}.")
    if row["status"] != "posted" or not row["reply"]:
        raise ToolError(f"the hub could not answer (task {task_id} {row['status']}): "
                        f"{row['error'] or 'see the task in the dashboard'}")
    reply = row["reply"]
    return Answer(answer=reply["text"], workspace=token.workspace, task_id=str(task_id),
                  citations=[Citation(title=c["title"], location=c["location"], snippet=c.get("snippet", ""))
                             for c in reply.get("citations", [])])


def _finished(rt: Runtime, task_id: uuid.UUID, seconds: float) -> dict | None:
    """The task once a worker has recorded its outcome (or drafted it); None after `seconds`.
    The task's live events wake the wait; without Redis it checks every second."""
    deadline, after = time.monotonic() + seconds, "0"
    while True:
        row = lifecycle.get(rt.db, task_id)
        if row["status"] in FINISHED or row["status"] == "drafted":
            return row
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            for entry_id, _ in events.read(rt.queue.redis, task_id, after, max(1, int(min(left, 1) * 1000))):
                after = entry_id
        except RedisError:
            time.sleep(min(left, 1))
