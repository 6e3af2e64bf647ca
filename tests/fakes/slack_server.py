"""A fake Slack for tests: the Web API over real HTTP on 127.0.0.1, in Slack's wire format, and
Slack's side of the Events API (signed deliveries to the hub).

    with FakeSlack(signing_secret="s3cret") as slack:
        slack.add_team("T1", token="xoxb-t1")          # auth.test knows the token
        slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
        url = slack.response_url("C1")                  # where a slash command's answers go
        body, headers = slack.signed_event(event_callback(...))
        ...
        slack.posted("C1")                              # chat.postMessage bodies, in order
        slack.answers("C1")                             # the answers there now (posted, streamed, edited)
        slack.messages["C1"]                            # what conversations.replies / .history read back
        slack.refuse("chat.startStream", "team_not_allowed")  # answer {"ok": false, "error": ...} once
        slack.expire_streams()                          # open streams end, as Slack ends idle ones

Text streaming: chat.startStream opens a message in a thread (outside a DM it needs the
recipient user and team), chat.appendStream adds to it while it streams, chat.stopStream ends it
with its closing blocks and metadata. A stored message keeps the markdown it was streamed
(`text`), every chunk in order (`chunks`), and `streaming` while open; chat.update replaces a
message's text, blocks and metadata. Benchmarks read when a message first showed text
(`first_text_at`) and first carried the hub's metadata (`settled_at`: the answer was complete),
in time.monotonic().

Web API methods live in `METHODS` (`POST /api/<method>`). Bodies are form-encoded or JSON, as
slack_sdk sends them; the token comes in `Authorization: Bearer`, the OAuth client's credentials
in Basic auth or the form. A method answers `{"ok": false, "error": ...}` with HTTP 200 as Slack
does; `fail_next(method, status=429, headers={"Retry-After": "1"})` answers an HTTP error once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from .http_server import KeepAliveHandler, Served, send
from .openai_server import Reply, Request


class FakeSlack(Served):
    name = "fake-slack"
    METHODS = ("auth.test", "auth.revoke", "chat.postMessage", "chat.update", "reactions.add", "reactions.remove",
               "oauth.v2.access", "conversations.replies", "conversations.history",
               "chat.startStream", "chat.appendStream", "chat.stopStream",
               "assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts", "assistant.threads.setTitle",
               "conversations.info", "usergroups.list", "users.info")

    def __init__(self, signing_secret: str = "fake-signing-secret", client_id: str = "1111.2222",
                 client_secret: str = "fake-client-secret"):
        self.signing_secret = signing_secret
        self.client_id, self.client_secret = client_id, client_secret
        self.requests: list[Request] = []
        self.not_member: set[str] = set()  # channels where chat.postMessage says not_in_channel
        self.channels: dict[str, dict] = {}  # channel id -> what conversations.info says of it
        self.usergroups: set[str] = set()  # user group ids usergroups.list lists
        self.users: set[str] = set()  # user ids users.info knows
        self._tokens: dict[str, dict[str, str]] = {}  # token -> team, bot user, bot id
        self._codes: dict[str, str] = {}  # OAuth code -> team id
        self.issued: dict[str, str] = {}  # team id -> the bot token oauth.v2.access gave it
        self._reactions: set[tuple[str, str, str]] = set()
        self.messages: dict[str, list[dict]] = {}  # channel -> the messages posted there, oldest first
        self._canned: dict[str, list[Reply]] = {}
        self._ts = itertools.count(1)
        self._responses = itertools.count(1)
        self._lock = threading.Lock()

    # --- lifecycle ---

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # --- scripting ---

    def add_team(self, team_id: str, token: str, name: str = "") -> dict[str, str]:
        """A team whose bot holds `token`; returns what auth.test says of it."""
        bot = {"team_id": team_id, "team": name or f"Team {team_id}", "user_id": f"UB{team_id}",
               "bot_id": f"BB{team_id}", "url": f"https://{team_id.lower()}.slack.com/"}
        self._tokens[token] = bot
        return bot

    def add_channel(self, channel: str, name: str, member: bool = True) -> None:
        """A channel conversations.info knows; `member`: the bot is in it."""
        self.channels[channel] = {"id": channel, "name": name, "is_channel": True, "is_member": member}

    def oauth_code(self, team_id: str) -> str:
        """A code the OAuth redirect will carry; oauth.v2.access trades it for a new bot token."""
        code = f"code-{team_id}-{next(self._ts)}"
        self._codes[code] = team_id
        return code

    def response_url(self, channel: str) -> str:
        return f"{self.url}/commands/{channel}/{next(self._responses)}"

    def fail_next(self, method: str, status: int = 429, headers: dict[str, str] | None = None, times: int = 1) -> None:
        reply = Reply.json({"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"},
                           status, headers)
        with self._lock:
            self._canned.setdefault(method, []).extend([reply] * times)

    def refuse(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer Slack's `{"ok": false, "error": error}`."""
        with self._lock:
            self._canned.setdefault(method, []).extend([_error(error)] * times)

    def expire_streams(self) -> None:
        """Every open stream ends without a stopStream, as Slack ends a stream left idle."""
        with self._lock:
            for message in (m for ms in self.messages.values() for m in ms if m.get("streaming")):
                message["streaming"] = False

    # --- inspection ---

    def message(self, channel: str, ts: str) -> dict:
        with self._lock:
            return next(m for m in self.messages.get(channel, []) if m["ts"] == ts)

    def calls(self, method: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == f"/api/{method}"]

    def posted(self, channel: str) -> list[dict]:
        """chat.postMessage bodies sent to `channel` that Slack accepted, in order."""
        return [r.body for r in self.calls("chat.postMessage")
                if r.body.get("channel") == channel and r.headers.get("x-fake-ok") == "true"]

    def answers(self, channel: str) -> list[dict]:
        """The bot's settled answers in `channel` as they stand now, oldest first: the messages
        carrying the hub's metadata, however they got there (posted, streamed, edited)."""
        with self._lock:
            return [dict(m) for m in self.messages.get(channel, [])
                    if (m.get("metadata") or {}).get("event_type") == "morningai_reply"]

    def reactions_on(self, channel: str, ts: str) -> set[str]:
        """The names of the reactions a message has now."""
        with self._lock:
            return {name for (c, t, name) in self._reactions if (c, t) == (channel, ts)}

    def responses(self, channel: str) -> list[dict]:
        with self._lock:
            return [r.body for r in self.requests if r.path.startswith(f"/commands/{channel}/")]

    # --- Slack's side of the Events API ---

    def signed(self, body: str, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        """The headers Slack sends with `body`: v0 HMAC-SHA256 of "v0:timestamp:body"."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new((secret or self.signing_secret).encode(), f"v0:{timestamp}:{body}".encode(),
                          hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}

    # --- dispatch ---

    def handle(self, request: Request) -> Reply:
        method = request.path.removeprefix("/api/")
        if request.path.startswith("/commands/"):
            return Reply(200, b"ok", {"Content-Type": "text/html"})
        with self._lock:
            canned = self._canned.get(method)
            if canned:
                return canned.pop(0)
        if method not in self.METHODS:
            return Reply.json({"ok": False, "error": "unknown_method"}, 404)
        if method == "oauth.v2.access":
            return self._oauth_access(request)
        bot = self._tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if bot is None:
            return _error("invalid_auth")
        return getattr(self, method.replace(".", "_"))(request.body, bot)

    def auth_test(self, body: dict, bot: dict) -> Reply:
        return Reply.json({"ok": True, "user": "morningai", **bot, "is_enterprise_install": False},
                          headers={"x-oauth-scopes": "chat:write,reactions:write"})

    def auth_revoke(self, body: dict, bot: dict) -> Reply:
        """The token stops working, as on Slack."""
        with self._lock:
            for token, owner in list(self._tokens.items()):
                if owner is bot:
                    del self._tokens[token]
        return Reply.json({"ok": True, "revoked": True})

    def chat_postMessage(self, body: dict, bot: dict) -> Reply:
        channel = body.get("channel")
        if not channel:
            return _error("channel_not_found")
        if channel in self.not_member:
            return _error("not_in_channel")
        if not body.get("text") and not body.get("blocks"):
            return _error("no_text")
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        message = {"type": "message", "text": body.get("text", ""), "blocks": body.get("blocks") or [],
                   "bot_id": bot["bot_id"], "user": bot["user_id"], "ts": ts, "thread_ts": body.get("thread_ts")}
        if isinstance(body.get("metadata"), dict):
            message.update(metadata=body["metadata"], settled_at=time.monotonic())
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        shown = {key: value for key, value in message.items() if key != "metadata"}
        return Reply.json({"ok": True, "channel": channel, "ts": ts, "message": shown})

    def conversations_replies(self, body: dict, bot: dict) -> Reply:
        """The thread's messages, oldest first (the thread's own first message is not kept here:
        it is the user's); metadata only with include_all_metadata, as on Slack."""
        if not body.get("channel") or not body.get("ts"):
            return _error("thread_not_found")
        with self._lock:
            found = [m for m in self.messages.get(body["channel"], []) if m.get("thread_ts") == body["ts"]]
        return Reply.json({"ok": True, "messages": _shown(found, body), "has_more": False})

    def conversations_history(self, body: dict, bot: dict) -> Reply:
        """The channel's top-level messages after `oldest`, newest first, as on Slack."""
        if not body.get("channel"):
            return _error("channel_not_found")
        oldest = float(body.get("oldest") or 0)
        with self._lock:
            found = [m for m in self.messages.get(body["channel"], [])
                     if not m.get("thread_ts") and float(m["ts"]) > oldest]
        return Reply.json({"ok": True, "messages": _shown(found[::-1], body), "has_more": False})

    def chat_update(self, body: dict, bot: dict) -> Reply:
        message = self._find(body)
        if message is None:
            return _error("message_not_found")
        with self._lock:
            message.update(text=body.get("text", ""), blocks=body.get("blocks") or [], edited=True)
            if isinstance(body.get("metadata"), dict):
                message["metadata"] = body["metadata"]
                message.setdefault("settled_at", time.monotonic())
        return Reply.json({"ok": True, "channel": body["channel"], "ts": body["ts"], "text": body.get("text", "")})

    def conversations_info(self, body: dict, bot: dict) -> Reply:
        found = self.channels.get(body.get("channel") or "")
        return Reply.json({"ok": True, "channel": found}) if found else _error("channel_not_found")

    def usergroups_list(self, body: dict, bot: dict) -> Reply:
        return Reply.json({"ok": True, "usergroups": [{"id": group, "handle": group.lower()}
                                                      for group in sorted(self.usergroups)]})

    def users_info(self, body: dict, bot: dict) -> Reply:
        user = body.get("user") or ""
        return Reply.json({"ok": True, "user": {"id": user}}) if user in self.users else _error("user_not_found")

    def chat_startStream(self, body: dict, bot: dict) -> Reply:
        channel = body.get("channel") or ""
        if not channel or not body.get("thread_ts"):
            return _error("invalid_arguments")
        if not channel.startswith("D") and not (body.get("recipient_user_id") and body.get("recipient_team_id")):
            return _error("invalid_arguments")  # channels need the user the stream is for
        if channel in self.not_member:
            return _error("not_in_channel")
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        message = {"type": "message", "text": "", "chunks": [], "streaming": True, "bot_id": bot["bot_id"],
                   "user": bot["user_id"], "ts": ts, "thread_ts": body["thread_ts"],
                   "recipient": body.get("recipient_user_id")}
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        self._streamed(message, body)
        return Reply.json({"ok": True, "channel": channel, "ts": ts})

    def chat_appendStream(self, body: dict, bot: dict) -> Reply:
        message = self._streaming(body)
        if isinstance(message, Reply):
            return message
        self._streamed(message, body)
        return Reply.json({"ok": True, "channel": body["channel"], "ts": body["ts"]})

    def chat_stopStream(self, body: dict, bot: dict) -> Reply:
        message = self._streaming(body)
        if isinstance(message, Reply):
            return message
        self._streamed(message, body)
        with self._lock:
            message.update(streaming=False, blocks=body.get("blocks") or [])
            if isinstance(body.get("metadata"), dict):
                message.update(metadata=body["metadata"], settled_at=time.monotonic())
        return Reply.json({"ok": True, "channel": body["channel"], "ts": body["ts"]})

    def _streaming(self, body: dict) -> dict | Reply:
        """The open stream `body` names, or Slack's error for it."""
        message = self._find(body)
        if message is None:
            return _error("message_not_found")
        return message if message.get("streaming") else _error("message_not_in_streaming_state")

    def _streamed(self, message: dict, body: dict) -> None:
        chunks = list(body.get("chunks") or [])
        if body.get("markdown_text"):
            chunks.insert(0, {"type": "markdown_text", "text": body["markdown_text"]})
        text = "".join(c["text"] for c in chunks if c.get("type") == "markdown_text")
        with self._lock:
            message["chunks"] += chunks
            message["text"] += text
            if text:
                message.setdefault("first_text_at", time.monotonic())

    def _find(self, body: dict) -> dict | None:
        with self._lock:
            return next((m for m in self.messages.get(body.get("channel") or "", []) if m["ts"] == body.get("ts")),
                        None)

    def reactions_add(self, body: dict, bot: dict) -> Reply:
        key = (body.get("channel"), body.get("timestamp"), body.get("name"))
        with self._lock:
            if key in self._reactions:
                return _error("already_reacted")
            self._reactions.add(key)
        return Reply.json({"ok": True})

    def reactions_remove(self, body: dict, bot: dict) -> Reply:
        key = (body.get("channel"), body.get("timestamp"), body.get("name"))
        with self._lock:
            if key not in self._reactions:
                return _error("no_reaction")
            self._reactions.discard(key)
        return Reply.json({"ok": True})

    # The agent messaging experience (manifest `agent_view`): what Slack shows beside the
    # conversation. Recorded in `requests`; checked as Slack documents the arguments.

    def assistant_threads_setStatus(self, body: dict, bot: dict) -> Reply:
        if not body.get("channel_id") or not body.get("thread_ts") or "status" not in body:
            return _error("invalid_arguments")
        if len(body.get("loading_messages") or []) > 10:
            return _error("invalid_arguments")
        return Reply.json({"ok": True})

    def assistant_threads_setSuggestedPrompts(self, body: dict, bot: dict) -> Reply:
        prompts = body.get("prompts")
        if not body.get("channel_id") or not isinstance(prompts, list) or not 1 <= len(prompts) <= 4:
            return _error("invalid_arguments")
        if not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            return _error("invalid_arguments")
        return Reply.json({"ok": True})

    def assistant_threads_setTitle(self, body: dict, bot: dict) -> Reply:
        if not body.get("channel_id") or not body.get("thread_ts") or not body.get("title"):
            return _error("invalid_arguments")
        return Reply.json({"ok": True})

    def _oauth_access(self, request: Request) -> Reply:
        body, auth = request.body, request.headers.get("authorization", "")
        client_id, client_secret = body.get("client_id"), body.get("client_secret")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return _error("invalid_client_id")
        team_id = self._codes.pop(body.get("code", ""), None)
        if team_id is None:
            return _error("invalid_code")
        token = f"xoxb-{team_id}-{next(self._ts)}"
        bot = self.add_team(team_id, token, name=f"Team {team_id}")
        self.issued[team_id] = token
        return Reply.json({"ok": True, "app_id": "AFAKE", "authed_user": {"id": f"UINSTALLER{team_id}"},
                           "scope": body.get("scope", "chat:write"), "token_type": "bot", "access_token": token,
                           "bot_user_id": bot["user_id"], "team": {"id": team_id, "name": bot["team"]},
                           "enterprise": None, "is_enterprise_install": False})


def _shown(messages: list[dict], body: dict) -> list[dict]:
    if str(body.get("include_all_metadata")).lower() in ("1", "true"):
        return messages
    return [{key: value for key, value in m.items() if key != "metadata"} for m in messages]


def _error(code: str) -> Reply:
    return Reply.json({"ok": False, "error": code})


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    if "json" in content_type:
        return json.loads(raw or b"{}")
    form = {key: values[-1] for key, values in parse_qs(raw.decode()).items()}
    for key in ("blocks", "attachments"):  # slack_sdk sends these JSON-encoded inside a form
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    return form


def _handler_for(server: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):

        def do_GET(self):
            # slack_sdk reads conversations.* with GET and the arguments in the query string.
            path, _, query = self.path.partition("?")
            self._answer("GET", path, {key: values[-1] for key, values in parse_qs(query).items()})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = _parse(self.headers.get("Content-Type", ""), raw)
            except ValueError:
                body = {}
            self._answer("POST", self.path.split("?", 1)[0], body)

        def _answer(self, method: str, path: str, body: dict) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(method, path, headers, body)
            reply = server.handle(request)
            # Marked so tests can tell the calls Slack accepted from the ones it refused.
            accepted = reply.status == 200 and (not reply.body.startswith(b"{") or json.loads(reply.body).get("ok"))
            headers["x-fake-ok"] = "true" if accepted else "false"
            with server._lock:
                server.requests.append(request)
            send(self, reply.status, reply.headers, reply.body)

        def log_message(self, format, *args):
            pass

    return Handler
