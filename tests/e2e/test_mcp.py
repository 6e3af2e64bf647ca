"""The MCP server at /mcp, through the official `mcp` client over real HTTP: the hub's web app
served on 127.0.0.1 (in this process, and under gunicorn), API tokens made through the admin
API, questions answered by a real worker."""

import asyncio
import threading
from contextlib import contextmanager

import httpx2
import pytest
import requests
from conftest import ADMIN, log_in
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from support import admin_session, answers, free_port, wait_for
from werkzeug.serving import make_server

from hub.mcp import endpoint
from hub.web.app import create_app
from memory.ingest import ingest
from tasks import lifecycle

pytestmark = pytest.mark.usefixtures("offline_hash")

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "curl", "version": "1"}}}


@contextmanager
def _served(app):
    """The app on 127.0.0.1, a free port, in threads of this process; stopped with its MCP loop."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        endpoint.close(app)
        assert "mcp" not in {thread.name for thread in threading.enumerate()}


@pytest.fixture
def hub(rt, handbook):
    """The handbook ingested into `default`, a runbook into `ops`; the web app serving; an
    admin's test client for its API."""
    ingest(rt.db, rt.embedder, [str(handbook)])
    ops = handbook.parent / "ops"
    ops.mkdir()
    (ops / "pager.md").write_text("# Pager\n\nThe pager rotation changes every Monday at 09:00.\n")
    ingest(rt.db, rt.embedder, [str(ops)], workspace="ops")
    app = create_app(rt)
    with _served(app) as url:
        yield url, log_in(app)


def _token(admin, workspace="default", name="Claude Code") -> dict:
    made = admin.post("/api/tokens", json={"name": name, "workspace": workspace})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _session(url: str, token: str | None, calls):
    """Run `calls(client)` in an MCP client session with `token` as its bearer token."""
    async def run():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # The timeouts the SDK's own client has: an answer may take a while.
        async with (httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
                    Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client):
            return await calls(client)
    return asyncio.run(run())


def _refusal(url: str, token: str | None) -> str:
    """What the MCP client says when the hub refuses it."""
    with pytest.raises(Exception) as refused:  # an exception group, or an MCPError
        _session(url, token, lambda client: client.list_tools())
    errors, messages = [refused.value], []
    while errors:
        error = errors.pop()
        if isinstance(error, MCPError):
            messages.append(error.error.message)
        errors += getattr(error, "exceptions", ())
    return " | ".join(messages)


def _call(url: str, token: str, tool: str, **arguments):
    return _session(url, token, lambda client: client.call_tool(tool, arguments))


def test_the_tools_search_and_read_the_tokens_workspace(hub):
    url, admin = hub
    token = _token(admin)
    assert token["token"].startswith("mai_") and token["prefix"] == token["token"][:10]

    tools = _session(url, token["token"], lambda client: client.list_tools())
    assert [tool.name for tool in tools.tools] == ["search_knowledge", "fetch_document", "ask"]
    assert all(tool.description and "\n        " not in tool.description for tool in tools.tools)

    found = _call(url, token["token"], "search_knowledge", query="team dinner limit", k=1)
    assert not found.is_error
    [passage] = found.structured_content["passages"]
    assert passage["title"] == "Expenses" and passage["location"] == "handbook/expenses.md"
    assert "60 euros" in passage["text"] and "**dinner**" in passage["snippet"]

    document = _call(url, token["token"], "fetch_document", id=passage["document_id"])
    assert not document.is_error
    assert document.structured_content["title"] == "Expenses"
    assert document.structured_content["location"] == "handbook/expenses.md"
    assert document.structured_content["text"].startswith("# Expenses\n\nSubmit receipts")

    listed = admin.get("/api/tokens").get_json()["tokens"]
    assert [t["name"] for t in listed] == ["Claude Code"] and listed[0]["last_used_at"] is not None
    assert "token" not in listed[0] and "hash" not in listed[0]


def test_bad_arguments_are_the_callers_to_fix(hub):
    url, admin = hub
    token = _token(admin)["token"]
    empty = _call(url, token, "search_knowledge", query="  ")
    assert empty.is_error and "query: say what to look for" in empty.content[0].text
    too_many = _call(url, token, "search_knowledge", query="laptops", k=500)
    assert too_many.is_error and "less than or equal to 20" in too_many.content[0].text
    not_an_id = _call(url, token, "fetch_document", id="expenses.md")
    assert not_an_id.is_error and "is not a document id" in not_an_id.content[0].text


def test_a_token_reads_its_own_workspace_only(hub):
    url, admin = hub
    default, ops = _token(admin)["token"], _token(admin, "ops", "ops bot")["token"]
    pager = _call(url, ops, "search_knowledge", query="pager rotation").structured_content
    assert pager["workspace"] == "ops" and pager["passages"][0]["location"] == "ops/pager.md"

    other = _call(url, default, "search_knowledge", query="pager rotation", workspace="ops")
    assert other.is_error
    assert "this API token reads workspace 'default' only, not 'ops'" in other.content[0].text
    # Its own workspace has no pager page, and another's document is not there to read.
    mine = _call(url, default, "search_knowledge", query="pager rotation").structured_content
    assert "ops/pager.md" not in [p["location"] for p in mine["passages"]]
    theirs = _call(url, default, "fetch_document", id=pager["passages"][0]["document_id"])
    assert theirs.is_error and "in workspace 'default'" in theirs.content[0].text


def test_no_wrong_or_revoked_token_is_refused(hub):
    url, admin = hub
    token = _token(admin)
    for header, complaint in [({}, "no API token"),
                              ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "no API token"),
                              ({"Authorization": "Bearer mai_guessed"}, "wrong or was revoked")]:
        refused = requests.post(f"{url}/mcp", json=INITIALIZE, headers=header, timeout=10)
        assert refused.status_code == 401 and complaint in refused.json()["error"]["message"]
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "no API token" in _refusal(url, None)
    assert "this API token is wrong or was revoked" in _refusal(url, "mai_" + token["token"][4:][::-1])
    # A client looking for OAuth after the 401 is told there is none.
    oauth = requests.get(f"{url}/.well-known/oauth-protected-resource/mcp", timeout=10)
    assert oauth.status_code == 404 and "takes API tokens, not OAuth" in oauth.json()["error"]

    assert _session(url, token["token"], lambda client: client.list_tools()).tools
    revoked = admin.delete(f"/api/tokens/{token['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    refused = requests.post(f"{url}/mcp", json=INITIALIZE, timeout=10,
                            headers={"Authorization": f"Bearer {token['token']}"})
    assert refused.status_code == 401 and "wrong or was revoked" in refused.json()["error"]["message"]
    assert "wrong or was revoked" in _refusal(url, token["token"])


def test_ask_answers_with_citations_through_a_worker(hub, rt, processes):
    url, admin = hub
    token = _token(admin)
    processes.worker()
    answered = _call(url, token["token"], "ask", question="What is the limit for a team dinner?")
    assert not answered.is_error, answered.content
    answer = answered.structured_content
    assert "60 euros" in answer["answer"]
    assert answer["citations"][0]["location"] == "handbook/expenses.md"
    task = lifecycle.get(rt.db, answer["task_id"])
    assert (task["platform"], task["channel"], task["workspace"], task["status"]) == ("web", "mcp", "default", "posted")
    assert task["user_id"] == f"mcp:{token['prefix']}"


def test_ask_says_so_when_no_worker_answers_in_time(hub, rt):
    url, admin = hub
    rt.settings = rt.settings.model_copy(update={"mcp_ask_seconds": 0.5})
    late = _call(url, _token(admin)["token"], "ask", question="Who orders laptops?")
    assert late.is_error
    assert "no answer within 0.5 s: the question is queued (is a worker running?)" in late.content[0].text


def test_the_mcp_server_under_gunicorn_and_its_clean_stop(rt, processes, hub_env, handbook):
    ingest(rt.db, rt.embedder, [str(handbook)])
    port = free_port()
    web = processes.start("-m", "hub", "web", "--port", str(port), "--workers", "1",
                          env={**hub_env, "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]},
                          name="web")
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{url}/healthz"), timeout=60, what="the web service to listen")
    admin = admin_session(url, *ADMIN)
    token = admin.post(f"{url}/api/tokens", json={"name": "gunicorn", "workspace": "default"}, timeout=10).json()

    found = _call(url, token["token"], "search_knowledge", query="laptops ordered")
    assert found.structured_content["passages"][0]["location"] == "handbook/laptops.md"
    assert requests.post(f"{url}/mcp", json=INITIALIZE, timeout=10).status_code == 401

    web.terminate()  # SIGTERM: gunicorn's worker stops, its MCP loop with it
    assert web.wait(timeout=30) == 0, processes.output(web)[-3000:]
