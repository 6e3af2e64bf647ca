"""What the fakes of JSON REST services (Confluence, Notion) share: a server on 127.0.0.1 port 0,
each request recorded with its query and JSON body, and faults a test queues for the next
requests to a path (an error status with the service's error body, a 429 with Retry-After).

A fake subclasses `JsonService` and answers in `route(call)`, returning a `Reply`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .http_server import KeepAliveHandler, Served, send
from .openai_server import Reply


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # keys lower-cased
    body: Any  # the parsed JSON, or None


class JsonService(Served):
    name = "fake-service"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._faults: list[tuple[str, Reply]] = []  # (path prefix, reply), served in order
        self._lock = threading.RLock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def fail_next(self, reply: Reply, path: str = "/", times: int = 1) -> None:
        """The next `times` requests whose path starts with `path` get `reply`."""
        with self._lock:
            self._faults += [(path, reply)] * times

    def requests_to(self, path: str, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path.startswith(path) and method in (None, c.method)]

    def route(self, call: Call) -> Reply:
        raise NotImplementedError

    def answer(self, call: Call) -> Reply:
        with self._lock:
            self.calls.append(call)
            for index, (prefix, reply) in enumerate(self._faults):
                if call.path.startswith(prefix):
                    del self._faults[index]
                    return reply
            return self.route(call)


def _handler_for(service: JsonService) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):
        def do_GET(self):
            self._answer()

        def do_POST(self):
            self._answer()

        def _answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = service.answer(Call(self.command, parts.path, query, headers, body))
            send(self, reply.status, reply.headers, reply.body)

        def log_message(self, format, *args):
            pass

    return Handler
