"""A fake Discord for tests: the REST API and the gateway websocket on one aiohttp server on
127.0.0.1, speaking Discord's documented wire format (API v10, JSON encoding, uncompressed).

    with FakeDiscord() as discord:
        env = {"DISCORD_API_URL": discord.api_url, "DISCORD_GATEWAY_URL": discord.gateway_url, ...}
        discord.wait_for_session()                       # IDENTIFY -> READY done
        discord.dispatch("INTERACTION_CREATE", discord.command_interaction("ask", "question", "hi?"))
        discord.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=0.2)
        discord.drop_gateway()                           # the client resumes and gets what it missed

The gateway: HELLO (op 10) -> IDENTIFY (op 2) -> READY (the guild unavailable) -> GUILD_CREATE
(its text channel and active threads); HEARTBEAT (op 1) -> ACK (op 11); RESUME (op 6) replays
the dispatches sent after the client's sequence number, then RESUMED. Dispatches sent while no
client is connected wait for its RESUME (or, with a new session, are lost, as on Discord).
Everything received is kept in `requests` (REST) and `gateway_log` (opcodes).

Threads: one started from a message has the message's id, as on Discord; starting one (a
person with `start_thread`, the bot over REST) sends THREAD_CREATE, and messages are posted to
the thread's id as to a channel. The guild also has a forum channel (FORUM_ID) with tags, among
them "Solved": `forum_post` opens a post in it (a thread whose first message has its id) and
returns that message to dispatch; a post's `applied_tags` are changed with PATCH /channels/{id}.
GET /channels/{id} answers for the guild's channels, threads and `add_channel`'s (404 for others,
403 for `hidden` ones); GET /guilds/{id}/roles and /members/{user} answer from `roles` and
`members`. `react` dispatches a person's MESSAGE_REACTION_ADD.

Messages are stored with `mention_everyone` computed from their content and allowed_mentions
as Discord documents it, so a test sees whether a ping would have been delivered. An edit
(PATCH of a channel message or of @original) changes the fields it sends, as on Discord; every
request is kept with the time it arrived (`Call.at`, monotonic), for tests of pacing.

Components V2 (the IS_COMPONENTS_V2 flag): a payload with the flag may not carry content or
embeds, an edit that sets it on a message that had content must reset it to null, and the flag
cannot be taken off; each is answered 400 with Discord's "Invalid Form Body" (code 50035).
`refuse_v2 = True` refuses every payload with the flag that way. `text_of` and `buttons_of`
read a message whichever way it was built; `settled` tells an answer from its progress.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID = "900000000000000001"
APP_ID = "900000000000000002"
GUILD_ID = "900000000000000003"
CHANNEL_ID = "900000000000000004"
USER_ID = "900000000000000005"
FORUM_ID = "900000000000000006"
SOLVED_TAG, BUG_TAG = "900000000000000007", "900000000000000008"
IS_COMPONENTS_V2 = 1 << 15
_ids = itertools.count(int(time.time() * 1000) << 22)


def snowflake() -> str:
    return str(next(_ids))


def _user(user_id: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": name, "avatar": None,
            "bot": bot}


def _channel(channel_id: str, kind: int, name: str) -> dict[str, Any]:
    return {"id": channel_id, "type": kind, "name": name, "guild_id": GUILD_ID, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}


@dataclass
class Call:
    route: str  # "POST /channels/{channel_id}/messages"
    path: str
    body: Any
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived


# (method, path pattern) -> (route name, handler name)
_ROUTES = [
    ("GET", r"/users/@me", "me"),
    ("GET", r"/oauth2/applications/@me", "application"),
    ("GET", r"/gateway(/bot)?", "gateway_info"),
    ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", "callback"),
    ("PATCH", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original", "edit_original"),
    ("DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original", "delete_original"),
    ("DELETE", r"/users/@me/guilds/(?P<guild_id>\d+)", "leave_guild"),
    ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", "follow_up"),
    ("POST", r"/channels/(?P<channel_id>\d+)/messages", "create_message"),
    ("PATCH", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", "edit_message"),
    ("POST", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/threads", "create_thread"),
    ("PUT", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/reactions/(?P<emoji>[^/]+)/@me", "react"),
    ("DELETE", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/reactions/(?P<emoji>[^/]+)/@me", "react"),
    ("POST", r"/channels/(?P<channel_id>\d+)/typing", "typing"),
    ("GET", r"/channels/(?P<channel_id>\d+)", "get_channel"),
    ("PATCH", r"/channels/(?P<channel_id>\d+)", "edit_channel"),
    ("GET", r"/guilds/(?P<guild_id>\d+)/roles", "roles"),
    ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", "member"),
    ("GET", r"/applications/(?P<app>\d+)(/guilds/(?P<guild>\d+))?/commands", "get_commands"),
    ("PUT", r"/applications/(?P<app>\d+)(/guilds/(?P<guild>\d+))?/commands", "put_commands"),
]
_ROUTE_NAMES = {
    "create_message": "POST /channels/{channel_id}/messages",
    "edit_message": "PATCH /channels/{channel_id}/messages/{message_id}",
    "edit_original": "PATCH /webhooks/{application_id}/{token}/messages/@original",
    "follow_up": "POST /webhooks/{application_id}/{token}",
    "callback": "POST /interactions/{interaction_id}/{token}/callback",
    "delete_original": "DELETE /webhooks/{application_id}/{token}/messages/@original",
    "leave_guild": "DELETE /users/@me/guilds/{guild_id}",
    "create_thread": "POST /channels/{channel_id}/messages/{message_id}/threads",
    "put_commands": "PUT /applications/{application_id}/commands",
    "edit_channel": "PATCH /channels/{channel_id}",
}


class FakeDiscord:
    def __init__(self, heartbeat_interval_ms: int = 1000):
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: list[Call] = []
        self.gateway_log: list[dict[str, Any]] = []  # every opcode a client sent
        self.messages: dict[str, dict[str, Any]] = {}  # every message posted, by id
        self.originals: dict[str, dict[str, Any]] = {}  # interaction token -> @original message
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> definitions
        self.reactions: set[tuple[str, str, str]] = set()  # (channel, message, emoji) we left on
        self.threads: dict[str, dict[str, Any]] = {}  # thread id -> its channel object
        self.expired_tokens: set[str] = set()  # interaction tokens past their 15 minutes
        self.guilds: set[str] = {GUILD_ID}  # guilds the bot is in
        self.channels: dict[str, dict[str, Any]] = {  # the guild's channels, by id
            CHANNEL_ID: _channel(CHANNEL_ID, 0, "general"),
            FORUM_ID: {**_channel(FORUM_ID, 15, "help-forum"), "available_tags": [
                {"id": BUG_TAG, "name": "bug", "moderated": False, "emoji_id": None, "emoji_name": None},
                {"id": SOLVED_TAG, "name": "Solved", "moderated": False, "emoji_id": None, "emoji_name": "✅"}]}}
        self.hidden: set[str] = set()  # channels the bot may not see (403)
        self.roles: list[dict[str, Any]] = [{"id": GUILD_ID, "name": "@everyone"}]
        self.members: set[str] = {USER_ID, BOT_ID}
        self.refuse_v2 = False  # answer every Components V2 payload 400, as for a malformed one
        self._reset_after: float | None = None
        self._closing = False
        self._failures: dict[str, list[tuple[int, float, int, str]]] = {}
        self._sessions: dict[str, list[dict[str, Any]]] = {}  # session id -> dispatches sent, in order
        self._ws: web.WebSocketResponse | None = None
        self._session: str | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-discord", daemon=True)

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeDiscord:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base_url}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{self.port}/gateway"
        return self

    def __exit__(self, *exc) -> None:
        self._closing = True  # a client still running must not keep a websocket open through cleanup
        self.drop_gateway(1001)
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    # --- what tests do ---------------------------------------------------------------------

    def fail_next(self, route: str, status: int = 429, *, retry_after: float = 0.2, times: int = 1,
                  code: int = 0, message: str = "refused") -> None:
        """The next `times` requests to `route` (a name from _ROUTE_NAMES) get `status`: a rate
        limit of `retry_after` seconds for 429, else Discord's JSON error with `code` and `message`."""
        with self._lock:
            self._failures.setdefault(route, []).extend([(status, retry_after, code, message)] * times)

    def exhaust_bucket(self, reset_after: float) -> None:
        """The next message create answers with its bucket empty for `reset_after` seconds."""
        self._reset_after = reset_after

    def calls(self, route: str) -> list[Call]:
        with self._lock:
            return [call for call in self.requests if call.route == route]

    def wait_for_session(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._session and self._ws is not None:
                return self._session
            time.sleep(0.05)
        raise AssertionError("no client identified on the fake gateway")

    @property
    def connected(self) -> bool:
        """Whether a client holds the gateway's websocket open."""
        return self._ws is not None

    def identified_with(self) -> list[str]:
        """The token of each IDENTIFY the gateway got, in order."""
        return [frame["d"]["token"] for frame in list(self.gateway_log) if frame["op"] == 2]

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(self._dispatch(event, data), self._loop).result(5)

    def drop_gateway(self, code: int = 4000, *, resumable: bool = True) -> None:
        """Close the client's websocket as a failing Discord would; 4000 lets it resume, unless
        not `resumable`: then the session is gone (as when it expired on Discord), its RESUME
        gets INVALID_SESSION and it must identify anew."""
        async def close():
            if not resumable:
                self._sessions.pop(self._session, None)
                self._session = None
            ws, self._ws = self._ws, None
            if ws is not None:
                await ws.close(code=code)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)

    @staticmethod
    def command_interaction(name: str, option: str | None = None, value: str | None = None,
                            **fields: Any) -> dict[str, Any]:
        """An APPLICATION_COMMAND interaction as Discord sends it from a guild text channel."""
        return {
            "id": snowflake(), "application_id": APP_ID, "type": 2, "token": f"tok-{snowflake()}",
            "version": 1, "guild_id": GUILD_ID, "channel_id": CHANNEL_ID,
            "channel": {"id": CHANNEL_ID, "type": 0, "name": "general", "guild_id": GUILD_ID, "position": 0,
                        "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": {"user": _user(USER_ID, "alice"), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "permissions": "2147483647", "flags": 0},
            "data": {"id": snowflake(), "name": name, "type": 1,
                     **({"options": [{"name": option, "type": 3, "value": value}]} if option else {})},
            "app_permissions": "2147483647", "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": GUILD_ID}, "context": 0,
            "attachment_size_limit": 10485760, **fields,
        }

    @staticmethod
    def message_command_interaction(target: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """"Ask MorningAI" used on the message `target` (a MESSAGE_CREATE's data), from its menu."""
        payload = FakeDiscord.command_interaction("Ask MorningAI", **fields)
        payload["data"] = {"id": snowflake(), "name": "Ask MorningAI", "type": 3, "target_id": target["id"],
                           "resolved": {"messages": {target["id"]: target}}}
        return payload

    @staticmethod
    def button_interaction(custom_id: str, user_id: str = USER_ID, message: dict[str, Any] | None = None
                           ) -> dict[str, Any]:
        """A button clicked by `user_id`, on `message` (one the bot posted) when given."""
        payload = FakeDiscord.command_interaction("unused")
        payload.update(type=3, data={"custom_id": custom_id, "component_type": 2})
        payload["member"]["user"] = _user(user_id, "bob")
        if message is not None:
            payload["channel_id"] = payload["channel"]["id"] = message["channel_id"]
            payload["message"] = {**FakeDiscord.user_message(message["content"], author=FakeDiscord.bot_author(),
                                                             channel_id=message["channel_id"]), "id": message["id"]}
        return payload

    def add_channel(self, channel_id: str, name: str, *, hidden: bool = False) -> None:
        """A text channel of the guild, made after the bot connected (or one it may not see)."""
        self.channels[channel_id] = _channel(channel_id, 0, name)
        if hidden:
            self.hidden.add(channel_id)

    def forum_post(self, title: str, content: str, *, tags: tuple[str, ...] = (BUG_TAG,)) -> dict[str, Any]:
        """A person opens a post in the forum: THREAD_CREATE is sent; the post's first message
        (whose id is the thread's) is returned, for the test to dispatch."""
        post = self._open_thread(FORUM_ID, snowflake(), title, owner=USER_ID)
        post["applied_tags"] = list(tags)
        self.dispatch("THREAD_CREATE", {**post, "newly_created": True})
        return {**self.user_message(content, channel_id=post["id"]), "id": post["id"]}

    def react(self, message: dict[str, Any], emoji: str, user_id: str = USER_ID) -> None:
        """A person reacts to `message` with a Unicode `emoji`."""
        self.dispatch("MESSAGE_REACTION_ADD", {
            "user_id": user_id, "channel_id": message["channel_id"], "message_id": message["id"],
            "guild_id": GUILD_ID, "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0,
            "member": {"user": _user(user_id, "carol"), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "flags": 0},
            "message_author_id": message["author"]["id"]})

    @staticmethod
    def user_message(content: str, *, author: dict[str, Any] | None = None, mention_bot: bool = False,
                     channel_id: str = CHANNEL_ID) -> dict[str, Any]:
        """A MESSAGE_CREATE as a person (or `author`) posts it in the guild's channel (or a thread)."""
        return {
            "id": snowflake(), "channel_id": channel_id, "guild_id": GUILD_ID, "type": 0,
            "author": author or _user(USER_ID, "alice"), "content": content, "timestamp": "2024-01-01T00:00:00+00:00",
            "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [_user(BOT_ID, "MorningAI", bot=True)] if mention_bot else [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "flags": 0, "components": [],
        }

    def start_thread(self, message: dict[str, Any], name: str = "a question") -> str:
        """A person starts a thread on `message`, as from its "Create Thread" menu; its id."""
        thread = self._open_thread(message["channel_id"], message["id"], name, owner=USER_ID)
        self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread["id"]

    @staticmethod
    def bot_author() -> dict[str, Any]:
        return _user(BOT_ID, "MorningAI", bot=True)

    # --- the gateway -----------------------------------------------------------------------

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self._session is None:
            raise AssertionError("no gateway session to dispatch to")
        sent = self._sessions[self._session]
        frame = {"op": 0, "t": event, "s": len(sent) + 1, "d": data}
        sent.append(frame)
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        if self._closing:
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            self.gateway_log.append(frame)
            op, data = frame.get("op"), frame.get("d")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                self._session = snowflake()
                self._sessions[self._session] = []
                await self._dispatch("READY", {
                    "v": 10, "user": _user(BOT_ID, "MorningAI", bot=True),
                    "guilds": [{"id": GUILD_ID, "unavailable": True}],
                    "session_id": self._session, "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                    "application": {"id": APP_ID, "flags": 0}, "private_channels": [], "relationships": []})
                await self._dispatch("GUILD_CREATE", self._guild())
            elif op == 6:
                missed = self._sessions.get(data.get("session_id"))
                if missed is None:
                    await ws.send_str(json.dumps({"op": 9, "d": False}))  # invalid session: identify anew
                    continue
                self._session = data["session_id"]
                for old in missed[data.get("seq") or 0:]:
                    await ws.send_str(json.dumps(old))
                await self._dispatch("RESUMED", {})
        if self._ws is ws:
            self._ws = None
        return ws

    def _guild(self) -> dict[str, Any]:
        """The guild as GUILD_CREATE sends it: what the client caches its channels and threads from."""
        return {"id": GUILD_ID, "name": "Test", "owner_id": USER_ID, "unavailable": False, "member_count": 2,
                "large": False, "joined_at": "2024-01-01T00:00:00+00:00", "roles": [], "emojis": [],
                "stickers": [], "features": [], "members": [], "presences": [], "voice_states": [],
                "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
                "channels": [self.channels[CHANNEL_ID], self.channels[FORUM_ID]],
                "threads": list(self.threads.values())}

    def _open_thread(self, channel_id: str, message_id: str, name: str, owner: str) -> dict[str, Any]:
        thread = {"id": message_id, "guild_id": GUILD_ID, "parent_id": channel_id, "owner_id": owner,
                  "type": 11, "name": name, "last_message_id": None, "message_count": 0, "member_count": 1,
                  "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                      "archive_timestamp": "2024-01-01T00:00:00+00:00"}}
        self.threads[message_id] = thread
        return thread

    # --- the REST API ----------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        for method, pattern, handler in _ROUTES:
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                break
        else:
            return _json({"message": "404: Not Found", "code": 0}, 404)
        raw = await request.read()
        body = json.loads(raw) if raw else None
        route = _ROUTE_NAMES.get(handler, f"{method} {pattern}")
        with self._lock:
            self.requests.append(Call(route, path, body, dict(request.headers), dict(request.query)))
            failures = self._failures.get(route)
            failure = failures.pop(0) if failures else None
        if failure:
            status, retry_after, code, message = failure
            if status != 429:
                return _json({"message": message, "code": code}, status)
            # discord.py takes a 429 without `Via` for a Cloudflare ban; Discord's own carry it.
            return _json({"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                         status, {"Retry-After": str(retry_after), "Via": "1.1 google",
                                  "X-RateLimit-Bucket": handler, "X-RateLimit-Scope": "user"})
        return await getattr(self, f"_{handler}")(request, body, **match.groupdict())

    async def _me(self, request, body):
        return _json(_user(BOT_ID, "MorningAI", bot=True))

    async def _application(self, request, body):
        return _json({"id": APP_ID, "name": "MorningAI", "description": "", "icon": None, "bot_public": False,
                      "bot_require_code_grant": False, "owner": _user(USER_ID, "alice"), "verify_key": "00" * 32,
                      "flags": 0, "team": None, "summary": ""})

    async def _gateway_info(self, request, body):
        return _json({"url": self.gateway_url, "shards": 1,
                      "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                              "max_concurrency": 1}})

    async def _callback(self, request, body, id, token):
        return web.Response(status=204)

    async def _edit_original(self, request, body, app, token):
        if token in self.expired_tokens:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        old = self.originals.get(token)
        if refusal := self._refused(body, old):
            return refusal
        message = self._store(body, channel_id=CHANNEL_ID, author=_user(BOT_ID, "MorningAI", bot=True), old=old)
        self.originals[token] = message
        return _json(message)

    async def _edit_message(self, request, body, channel_id, message_id):
        old = self.messages.get(message_id)
        if old is None or old["channel_id"] != channel_id:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if refusal := self._refused(body, old):
            return refusal
        return _json(self._store(body, channel_id=channel_id, author=old["author"], old=old))

    def _refused(self, body: dict[str, Any], old: dict[str, Any] | None) -> web.Response | None:
        """Discord's answer to a payload that breaks the rules of Components V2, if it does."""
        v2 = bool((body.get("flags") or 0) & IS_COMPONENTS_V2)
        was_v2 = bool(old and old["flags"] & IS_COMPONENTS_V2)
        problems = []
        if v2 and self.refuse_v2:
            problems.append("components: Invalid Form Body")
        if (v2 or was_v2) and (body.get("content") or body.get("embeds")):
            problems.append("content/embeds: cannot be used with IS_COMPONENTS_V2")
        if v2 and old and old["content"] and "content" not in body:
            problems.append("content: must be reset to null to set IS_COMPONENTS_V2")
        if was_v2 and "flags" in body and not v2:
            problems.append("flags: IS_COMPONENTS_V2 cannot be removed")
        if not problems:
            return None
        return _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)

    async def _delete_original(self, request, body, app, token):
        self.originals.pop(token, None)
        return web.Response(status=204)

    async def _leave_guild(self, request, body, guild_id):
        if guild_id not in self.guilds:
            return _json({"message": "Unknown Guild", "code": 10004}, 404)
        self.guilds.discard(guild_id)
        return web.Response(status=204)

    async def _follow_up(self, request, body, app, token):
        if token in self.expired_tokens:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        return _json(self._store(body, channel_id=CHANNEL_ID, author=_user(BOT_ID, "MorningAI", bot=True)))

    async def _create_message(self, request, body, channel_id):
        for old in self.messages.values():  # enforce_nonce: the same nonce gives the same message
            if body.get("enforce_nonce") and old.get("nonce") == body.get("nonce") and old["channel_id"] == channel_id:
                return _json(old)
        if refusal := self._refused(body, None):
            return refusal
        reset_after, self._reset_after = self._reset_after, None
        return _json(self._store(body, channel_id=channel_id, author=_user(BOT_ID, "MorningAI", bot=True)),
                     headers={"X-RateLimit-Bucket": "create_message", "X-RateLimit-Limit": "5",
                              "X-RateLimit-Remaining": "0" if reset_after else "4",
                              "X-RateLimit-Reset-After": str(reset_after or 1)})

    async def _create_thread(self, request, body, channel_id, message_id):
        if message_id in self.threads:
            return _json({"message": "A thread has already been created for this message", "code": 160004}, 400)
        if channel_id != CHANNEL_ID:  # a thread's message cannot start another thread
            return _json({"message": "Cannot execute action on this channel type", "code": 50024}, 400)
        thread = self._open_thread(channel_id, message_id, body["name"], owner=BOT_ID)
        thread["thread_metadata"]["auto_archive_duration"] = body.get("auto_archive_duration", 4320)
        if self._session is not None:  # a client on the gateway learns of it, as from Discord
            await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, 201)

    async def _react(self, request, body, channel_id, message_id, emoji):
        key = (channel_id, message_id, emoji)
        (self.reactions.add if request.method == "PUT" else self.reactions.discard)(key)
        return web.Response(status=204)

    async def _typing(self, request, body, channel_id):
        return web.Response(status=204)

    async def _get_channel(self, request, body, channel_id):
        if channel_id in self.hidden:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        found = self.channels.get(channel_id) or self.threads.get(channel_id)
        if found is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        return _json(found)

    async def _edit_channel(self, request, body, channel_id):
        thread = self.threads.get(channel_id)
        if thread is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        tags = body.get("applied_tags", thread.get("applied_tags", []))
        known = {tag["id"] for tag in (self.channels.get(thread["parent_id"]) or {}).get("available_tags", [])}
        if len(tags) > 5 or not set(tags) <= known:
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        thread["applied_tags"] = list(tags)
        return _json(thread)

    async def _roles(self, request, body, guild_id):
        return _json(self.roles if guild_id in self.guilds else {"message": "Unknown Guild", "code": 10004},
                     200 if guild_id in self.guilds else 404)

    async def _member(self, request, body, guild_id, user_id):
        if guild_id not in self.guilds or user_id not in self.members:
            return _json({"message": "Unknown Member", "code": 10007}, 404)
        return _json({"user": _user(user_id, "member"), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00"})

    async def _get_commands(self, request, body, app, guild=None):
        return _json([{**c, "id": snowflake(), "application_id": app, "version": "1"}
                      for c in self.commands.get(guild or "global", [])])

    async def _put_commands(self, request, body, app, guild=None):
        self.commands[guild or "global"] = body
        return await self._get_commands(request, body, app, guild)

    def _store(self, body: dict[str, Any], *, channel_id: str, author: dict[str, Any],
               old: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new message, or `old` with what `body` sends changed (an edit)."""
        if old is not None:
            sent = {k: body[k] for k in ("content", "embeds", "components", "flags", "allowed_mentions") if k in body}
            body = {**old, **sent}
        content = body.get("content") or ""
        allowed = body.get("allowed_mentions")
        # Discord: without allowed_mentions everything in the content pings; with it, only what
        # `parse` (or the users/roles lists) names.
        everyone = bool(re.search(r"@(everyone|here)", content)) and (
            allowed is None or "everyone" in allowed.get("parse", []))
        users, roles = re.findall(r"<@!?(\d+)>", content), re.findall(r"<@&(\d+)>", content)
        pinged = users if allowed is None or "users" in allowed.get("parse", []) else \
            [u for u in users if u in (allowed.get("users") or [])]
        pinged_roles = roles if allowed is None or "roles" in allowed.get("parse", []) else \
            [r for r in roles if r in (allowed.get("roles") or [])]
        message = {"id": old["id"] if old else snowflake(), "channel_id": channel_id, "author": author,
                   "content": content, "embeds": body.get("embeds") or [], "components": body.get("components") or [],
                   "flags": body.get("flags") or 0,
                   "mention_everyone": everyone, "mentions": pinged, "mention_roles": pinged_roles, "nonce": body.get("nonce"),
                   "message_reference": body.get("message_reference"), "allowed_mentions": allowed,
                   "timestamp": "2024-01-01T00:00:00+00:00", "type": 0}
        self.messages[message["id"]] = message
        return message


def text_of(message: dict[str, Any]) -> str:
    """What a message says: its content, or its text displays (type 10), in order."""
    texts = [message.get("content") or ""]
    for component in _components(message.get("components") or []):
        if component.get("type") == 10:
            texts.append(component["content"])
    return "\n".join(text for text in texts if text)


def settled(message: dict[str, Any] | None) -> dict[str, Any] | None:
    """`message` once it carries an answer, not the ⏳ progress of one still being written: the
    hub streams an answer into the message that ends up carrying it."""
    return message if message and "⏳" not in text_of(message) else None


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button on a message, in order, however deep its layout nests them."""
    return [c for c in _components(message.get("components") or []) if c.get("type") == 2]


def _components(components: list[dict[str, Any]]):
    for component in components:
        yield component
        yield from _components(component.get("components") or [])
        if component.get("accessory"):
            yield component["accessory"]


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly `application/json`, as Discord sends it: discord.py reads anything else as text.
    return web.Response(status=status, body=json.dumps(payload).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})
