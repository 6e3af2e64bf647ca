"""`/mcp`: the API token checked, then the request handed to the MCP SDK's Streamable HTTP app.

The SDK's server is ASGI; the hub's web side is Flask on gunicorn's threads (WSGI). The Flask
view checks the token (so a refusal is the hub's usual JSON error, logged and counted like any
request) and answers with a2wsgi's adapter, which carries the request to an event loop that
runs on a thread of its own, where the SDK's session manager lives for the life of the
process. The first MCP request starts it (a process that serves none starts nothing); close()
or the process's exit stops it.

Stateless: no MCP session outlives its request, so any gunicorn worker can serve any request;
and answers are plain JSON rather than event streams, which every proxy passes as they are.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import threading

from a2wsgi import ASGIMiddleware
from flask import Flask, jsonify, request
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import INVALID_REQUEST, ErrorData, JSONRPCError

from core.runtime import Runtime
from hub.admin import tokens
from hub.mcp import server

# Where the view leaves the accepted token for the tools (the ASGI scope keeps the WSGI environ).
TOKEN_KEY = "morningai.api_token"
START_SECONDS = 10
HOW = ("send the header Authorization: Bearer mai_… with an API token made in the dashboard "
       "(Integrations → MCP clients)")


class Endpoint:
    """The SDK's session manager on its own event loop, served to WSGI through a2wsgi."""

    def __init__(self, mcp: MCPServer):
        # Access is the API token's business: DNS rebinding, which this check guards a
        # localhost server against, cannot get a web page one.
        mcp.streamable_http_app(stateless_http=True, json_response=True,
                                transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        self._manager = mcp.session_manager
        self._lock = threading.Lock()
        self._wsgi: ASGIMiddleware | None = None
        self._closed = False

    def wsgi(self) -> ASGIMiddleware:
        with self._lock:
            if self._closed:
                raise RuntimeError("the MCP endpoint was closed")
            if self._wsgi is None:
                self._start()
            return self._wsgi

    def _start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mcp", daemon=True)
        self._thread.start()
        started: concurrent.futures.Future[asyncio.Event] = concurrent.futures.Future()

        async def serve() -> None:
            # The session manager's task group and the SDK's lifespan stay open until close().
            async with self._manager.run():
                stop = asyncio.Event()
                started.set_result(stop)
                await stop.wait()

        # In a context of its own: the request that starts it lends it no trace id to log with.
        self._serving = contextvars.Context().run(asyncio.run_coroutine_threadsafe, serve(), self._loop)
        concurrent.futures.wait([started, self._serving], START_SECONDS, concurrent.futures.FIRST_COMPLETED)
        if not started.done():
            self._stop_loop()
            self._serving.result(0)  # its exception, if it failed
            raise RuntimeError(f"the MCP session manager did not start within {START_SECONDS} s")
        self._stop_event = started.result()
        self._wsgi = ASGIMiddleware(self._asgi, loop=self._loop)
        atexit.register(self.close)

    async def _asgi(self, scope, receive, send) -> None:
        # Starlette's Request.state (what the tools read) is the scope's "state".
        scope.setdefault("state", {})["token"] = scope["wsgi_environ"][TOKEN_KEY]
        await self._manager.handle_request(scope, receive, send)

    def close(self) -> None:
        """Stop the session manager and its loop; requests still in flight are cancelled."""
        with self._lock:
            self._closed = True
            if self._wsgi is None:
                return
            self._wsgi = None
        atexit.unregister(self.close)
        self._loop.call_soon_threadsafe(self._stop_event.set)
        try:
            self._serving.result(START_SECONDS)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_SECONDS)
        self._loop.close()


def mount(app: Flask, rt: Runtime) -> None:
    endpoint = Endpoint(server.build(rt))
    app.extensions["morningai.mcp"] = endpoint

    @app.route("/mcp", methods=["GET", "POST", "DELETE"])
    def mcp():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refused(f"no API token: {HOW}")
        found = tokens.authenticate(rt.db, token.strip())
        if found is None:
            return _refused("this API token is wrong or was revoked: make a new one in the dashboard "
                            "(Integrations → MCP clients)", "invalid_token")
        request.environ[TOKEN_KEY] = found
        return endpoint.wsgi()  # Flask calls a WSGI app it is handed as the response

    @app.get("/.well-known/oauth-protected-resource")
    @app.get("/.well-known/oauth-protected-resource/mcp")
    @app.get("/.well-known/oauth-authorization-server")
    def no_oauth():
        """Clients look for OAuth after a 401; these say there is none (rather than serve the
        dashboard's page) so they report the token instead."""
        return jsonify(error=f"this hub's MCP server takes API tokens, not OAuth: {HOW}"), 404


def close(app: Flask) -> None:
    """Stop the app's MCP endpoint, if it ever started (tests; the process's exit does it too)."""
    app.extensions["morningai.mcp"].close()


def _refused(message: str, code: str | None = None):
    """A 401 as MCP clients read one: a JSON-RPC error, whose message they show their user (the
    SDK's own transport errors take this shape). RFC 6750: it names the scheme it wants, and
    why a token that came was not taken."""
    body = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=INVALID_REQUEST, message=message))
    reason = f', error="{code}"' if code else ""
    return (jsonify(body.model_dump(by_alias=True, exclude_unset=True, mode="json")), 401,
            {"WWW-Authenticate": f'Bearer realm="morningai"{reason}'})
