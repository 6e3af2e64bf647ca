"""The HTTP server the fake platforms run on."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, like the real APIs, without Nagle's algorithm: a reply goes out in two
    writes (headers, body), and with Nagle on, every request on a reused connection waited out the
    client's delayed ACK, 40 ms that no real platform adds (the fake OpenAI answered in 44 ms
    instead of 2, which benchmarks counted as the hub's)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True


class FakeServer(ThreadingHTTPServer):
    """A threaded server whose listen backlog is deep enough for a hub under load. The standard
    library's 5 drops connections at a burst, and each dropped SYN costs the client a 1 s
    retransmission: a delay real platforms do not add, which benchmarks would count as ours."""

    request_queue_size = 1024
    daemon_threads = True

    @classmethod
    def start(cls, handler: type[BaseHTTPRequestHandler], name: str) -> "FakeServer":
        """A server on 127.0.0.1 and a free port, serving from a daemon thread until stop()."""
        server = cls(("127.0.0.1", 0), handler)
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


class Served:
    """A fake's lifecycle: `with fake:` serves `handler()` on 127.0.0.1 and a free port, at `url`,
    until the block ends."""

    name = "fake"
    _httpd: FakeServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._httpd = FakeServer.start(self.handler(), self.name)
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.stop()

    @property
    def url(self) -> str:
        return self._httpd.url
