"""The HTTP server the fake platforms run on."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer(ThreadingHTTPServer):
    """A threaded server whose listen backlog is deep enough for a hub under load. The standard
    library's 5 drops connections at a burst, and each dropped SYN costs the client a 1 s
    retransmission: a delay real platforms do not add, which benchmarks would count as ours."""

    request_queue_size = 1024
    daemon_threads = True

    @classmethod
    def start(cls, handler: type[BaseHTTPRequestHandler], name: str) -> FakeServer:
        """A server on 127.0.0.1 at a free port, serving in a thread of its own."""
        server = cls(("127.0.0.1", 0), handler)
        # A short poll interval: stop() waits for it, and tests start and stop many servers.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True).start()
        return server

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    """A whole answer, its length declared so the connection stays open for the next request."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
