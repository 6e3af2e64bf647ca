"""A fake OpenAI-compatible server for tests: real HTTP on 127.0.0.1, OpenAI's wire format.

    with FakeOpenAI(dims=8) as server:
        client = openai.OpenAI(api_key="sk-test", base_url=server.base_url)
        server.fail_next(status=429, headers={"Retry-After": "0"})
        ...
        assert len(server.requests_to("/v1/embeddings")) == 2

Routes live in `ROUTES` ("POST /v1/embeddings" -> method name). A handler gets the parsed
`Request` and returns a `Reply`, whose body may be bytes or an iterable of bytes (sent as it
is produced, for SSE).

Chat completions (`POST /v1/chat/completions`, plain JSON or SSE with `"stream": true`) answer,
in this order of precedence:

1. `fail_next(...)` / `reply_next(...)`: canned replies, for every route, served first;
2. `reply_with("text", ...)`: queued assistant texts (`server.chat_replies`), one per request;
3. `server.chat_hook(request)`: computes the answer from the request (return a str, or a `Reply`
   such as `error_reply(...)`, or None to fall through to 4);
4. `fake_answer(messages)`: "This is a fake answer to: <last user message>", deterministic.

Token counts in `usage` are word counts, so they are deterministic. A reply longer than the
request's `max_tokens` (or `max_completion_tokens`) words is cut there, with finish_reason
"length", as OpenAI does. `delay` (seconds, for every route) sleeps before answering, to provoke
client timeouts; `token_delay` (seconds) between the pieces of a streamed answer, as a model writing.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
import pytest

from .http_server import FakeServer, KeepAliveHandler


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: Any  # the parsed JSON, or None
    at: float = field(default_factory=time.monotonic)  # when it arrived (benchmarks time replies)
    first_piece_at: float | None = None  # a streamed answer: when its first piece of text went out


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


def error_reply(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    """An error in OpenAI's shape, which the SDK turns into the matching exception class."""
    return Reply.json({"error": {"message": message, "type": kind, "param": None, "code": code}},
                      status, headers)


def fake_vector(text: str, dims: int) -> np.ndarray:
    """The unit float32 vector the fake gives `text`: deterministic, different per text."""
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dims)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def message_text(content: Any) -> str:
    """A message's text: `content` is a string, or a list of parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content
                        if isinstance(part, dict) and part.get("type") == "text")
    return ""


def fake_answer(messages: list[dict]) -> str:
    """The fake's default chat answer: deterministic, and quoting the last user message so a test
    can tell which prompt it answers."""
    question = next((message_text(message.get("content")) for message in reversed(messages)
                     if message.get("role") == "user"), "")
    return f"This is a fake answer to: {question}"


def count_tokens(text: str) -> int:
    """The fake's tokens are words: rough, but deterministic."""
    return len(text.split())


# Word by word, each with the whitespace before it: the pieces join back to the exact text.
_PIECE = re.compile(r"\s*\S+|\s+$")

ChatHook = Callable[[Request], "str | Reply | None"]


class FakeOpenAI:
    ROUTES = {
        "POST /v1/embeddings": "embeddings",
        "POST /v1/chat/completions": "chat_completions",
        "GET /v1/models": "models",
    }

    def __init__(self, dims: int = 1536, api_key: str | None = None, delay: float = 0.0,
                 chat_hook: ChatHook | None = None, token_delay: float = 0.0):
        """`dims`: length of the vectors served (a request's `dimensions` overrides it).
        `api_key`: the only key accepted; None accepts any non-empty Bearer token.
        `delay`: seconds to wait before answering any request (settable later too).
        `chat_hook`: computes chat answers from the request (see the module docstring)."""
        self.dims = dims
        self.api_key = api_key
        self.delay = delay
        self.token_delay = token_delay
        self.chat_hook = chat_hook
        self.chat_replies: list[str] = []
        self.requests: list[Request] = []
        self._canned: list[Reply] = []
        self._lock = threading.Lock()
        self._answering = 0
        self.peak_concurrency = 0  # the most requests it was answering at once
        self._stopping = threading.Event()  # wakes handlers sleeping out a `delay` on stop()
        self._open = threading.Event()  # cleared by hold(): requests wait until release()
        self._open.set()
        self._ids = itertools.count(1)
        self._httpd: FakeServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> FakeOpenAI:
        self._stopping.clear()
        self._httpd = FakeServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval: stop() waits for it, and tests start and stop many servers.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._stopping.set()
            self._open.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # --- scripting and inspection ---

    def fail_next(self, status: int = 500, headers: dict[str, str] | None = None, times: int = 1,
                  message: str | None = None) -> None:
        """Answer the next `times` requests (to any route) with this error, then behave again."""
        reply = error_reply(status, message or f"fake failure {status}",
                            kind="rate_limit_error" if status == 429 else "server_error", headers=headers)
        self.reply_next(reply, times)

    def reply_next(self, reply: Reply, times: int = 1) -> None:
        """Serve this canned reply to the next `times` requests, before any normal handling."""
        with self._lock:
            self._canned.extend([reply] * times)

    def reply_with(self, *texts: str) -> None:
        """Queue assistant answers: each chat request takes the next one (before `chat_hook`)."""
        with self._lock:
            self.chat_replies.extend(texts)

    def hold(self) -> None:
        """Keep every request waiting, from now until release() (or stop()): what a test sees
        while a client has calls in flight then no longer depends on how fast the machine is."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def answering(self) -> int:
        """How many requests it is answering now."""
        with self._lock:
            return self._answering

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # --- dispatch ---

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            canned = self._canned.pop(0) if self._canned else None
            self._answering += 1
            self.peak_concurrency = max(self.peak_concurrency, self._answering)
        try:
            return self._answer(request, canned)
        finally:
            with self._lock:
                self._answering -= 1

    def _answer(self, request: Request, canned: Reply | None) -> Reply:
        self._open.wait()
        if self.delay > 0:
            self._stopping.wait(self.delay)
        if canned is not None:
            return canned
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token or (self.api_key is not None and token != self.api_key):
            return error_reply(401, "Incorrect API key provided.", code="invalid_api_key")
        route = self.ROUTES.get(f"{request.method} {request.path}")
        if route is None:
            return error_reply(404, f"Unknown request URL: {request.method} {request.path}.")
        if request.method == "POST" and not isinstance(request.body, dict):
            return error_reply(400, "We could not parse the JSON body of your request.")
        try:
            return getattr(self, route)(request)
        except Exception as exc:  # a bug in the fake: say so to the test rather than drop the connection
            return error_reply(500, f"fake server error: {exc!r}", kind="server_error",
                               headers={"x-should-retry": "false"})

    # --- routes ---

    def models(self, request: Request) -> Reply:
        """The models this server offers, as OpenAI lists them."""
        return Reply.json({"object": "list", "data": [
            {"id": model, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for model in ("gpt-4o-mini", "text-embedding-3-small")]})

    def embeddings(self, request: Request) -> Reply:
        body = request.body
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not body.get("model"):
            return error_reply(400, "you must provide a model parameter")
        if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
            return error_reply(400, "'input' must be a string or a non-empty array of strings")
        if len(texts) > 2048 or any(text == "" for text in texts):
            # OpenAI's own limits: at most 2048 inputs, none empty.
            return error_reply(400, "'$.input' is invalid. Please check the API reference.")
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            return error_reply(400, f"invalid encoding_format {encoding!r}")
        dims = body.get("dimensions") or self.dims
        data = []
        for index, text in enumerate(texts):
            vector = fake_vector(text, dims)
            embedding = (base64.b64encode(vector.astype("<f4").tobytes()).decode() if encoding == "base64"
                         else vector.tolist())
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(text.split()) or 1 for text in texts)
        return Reply.json({"object": "list", "data": data, "model": body["model"],
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


    def chat_completions(self, request: Request) -> Reply:
        body = request.body
        messages = body.get("messages")
        if not body.get("model"):
            return error_reply(400, "you must provide a model parameter")
        if (not isinstance(messages, list) or not messages
                or not all(isinstance(message, dict) and message.get("role") for message in messages)):
            return error_reply(400, "'messages' must be a non-empty array of messages with a role")
        answer = self._chat_answer(request)
        if isinstance(answer, Reply):
            return answer
        pieces = _PIECE.findall(answer)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if limit and count_tokens(answer) > limit:
            pieces = [piece for piece in pieces if piece.strip()][:limit]
            answer, finish = "".join(pieces), "length"
        prompt_tokens = sum(count_tokens(message_text(message.get("content"))) for message in messages)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count_tokens(answer),
                 "total_tokens": prompt_tokens + count_tokens(answer)}
        head = {"id": f"chatcmpl-fake{next(self._ids)}", "created": int(time.time()), "model": body["model"],
                "system_fingerprint": None}
        if not body.get("stream"):
            message = {"role": "assistant", "content": answer, "refusal": None}
            return Reply.json({**head, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}]})
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        def pause() -> None:
            if self.token_delay:
                self._stopping.wait(self.token_delay)
            request.first_piece_at = request.first_piece_at or time.monotonic()

        return Reply(200, _sse_chunks(head, pieces, finish, usage if include_usage else None, pause),
                     {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})

    def _chat_answer(self, request: Request) -> str | Reply:
        with self._lock:
            queued = self.chat_replies.pop(0) if self.chat_replies else None
        if queued is not None:
            return queued
        if self.chat_hook is not None:
            computed = self.chat_hook(request)
            if computed is not None:
                return computed
        return fake_answer(request.body["messages"])


def _sse_chunks(head: dict, pieces: list[str], finish: str, usage: dict | None,
                pause: Callable[[], object]) -> Iterator[bytes]:
    """OpenAI's stream: the role first, one chunk per piece, the finish reason, then (when asked
    for with stream_options.include_usage) a chunk with no choices carrying the usage, and [DONE]."""
    def chunk(delta: dict | None, finish_reason: str | None = None) -> bytes:
        choices = [] if delta is None else [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        payload = {**head, "object": "chat.completion.chunk", "choices": choices}
        if usage is not None:  # OpenAI sends "usage": null on every chunk but the last
            payload["usage"] = usage if delta is None else None
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        pause()
        yield chunk({"content": piece})
    yield chunk({}, finish)
    if usage is not None:
        yield chunk(None)
    yield b"data: [DONE]\n\n"


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):

        def do_GET(self):
            self._serve()

        def do_POST(self):
            self._serve()

        def _serve(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = Request(self.command, self.path.split("?", 1)[0],
                              {name.lower(): value for name, value in self.headers.items()}, body)
            reply = server.handle(request)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout under test, usually): nothing left to answer.
                self.close_connection = True

        def _send(self, reply: Reply):
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if isinstance(reply.body, bytes):
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            else:  # streamed (SSE): no length, so the connection ends the body
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                for piece in reply.body:
                    self.wfile.write(piece)
                    self.wfile.flush()

        def log_message(self, format, *args):  # quiet: pytest shows failures, not access logs
            pass

    return Handler



@pytest.fixture
def fake_openai():
    """A running FakeOpenAI (1536 dims); `from fakes import fake_openai` in a test module to use it."""
    with FakeOpenAI() as server:
        yield server
