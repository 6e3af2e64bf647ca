"""What `POST /slack/events` accepts before slack-bolt sees it: a request signed with the
signing secret in force, then an event callback, a slash command, an interaction or a URL
verification of the shapes the hub's listeners read (inbound.py, agent_view.py, and Bolt's
token revocation). Bolt trusts its input, so a correctly signed body of any other shape would
reach it and come back as a 500; here it is refused as `Refused`, with the reason metrics count.

The models check only what is read; every other field passes (extra="allow"), and Bolt is
handed the original body, so a valid request goes through unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from pydantic import Field, StringConstraints

from core.refusals import Id, Refused, Shape, plain, validated

# Slack refuses to retry a request older than this, and so does Bolt's own check.
MAX_CLOCK_SKEW = 300
JSON, FORM = "application/json", "application/x-www-form-urlencoded"

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class Authorization(Shape):
    team_id: Id | None = None
    enterprise_id: Id | None = None
    user_id: Id | None = None
    is_bot: bool | None = None
    is_enterprise_install: bool | None = None


class Event(Shape):
    """What Bolt reads of any event to route and authorize it."""
    type: Id
    user: Id | None = None
    team: Id | None = None
    channel: Id | None = None
    ts: Id | None = None
    thread_ts: Id | None = None
    text: str | None = None
    subtype: Id | None = None
    channel_type: Id | None = None
    bot_id: Id | None = None
    # Bolt looks inside these for the user, channel and thread.
    message: dict[str, Any] | None = None
    previous_message: dict[str, Any] | None = None
    assistant_thread: dict[str, Any] | None = None
    edited: dict[str, Any] | None = None


class Posted(Event):
    """app_mention and message: answered in their channel's thread."""
    channel: Id
    ts: Id


class Item(Shape):
    type: Id
    channel: Id | None = None
    ts: Id | None = None


class Reaction(Event):
    user: Id
    reaction: Id
    item: Item


class Viewing(Event):
    """app_home_opened and app_context_changed: who is looking at what (the listener goes
    without the user when Slack leaves it out)."""
    tab: Id | None = None
    context: dict[str, Any] | None = None


class TokensRevoked(Event):
    tokens: dict[str, list[Id]]


# The event types the hub subscribes to (manifest.yml), each with the shape its listener reads.
EVENTS: dict[str, type[Event]] = {
    "app_mention": Posted, "message": Posted, "reaction_added": Reaction, "app_home_opened": Viewing,
    "app_context_changed": Viewing, "tokens_revoked": TokensRevoked, "app_uninstalled": Event}


class Typed(Shape):
    type: Id


class EventCallback(Shape):
    type: Literal["event_callback"]
    event_id: Id
    team_id: Id | None = None
    enterprise_id: Id | None = None
    api_app_id: Id | None = None
    event_time: int | None = None
    event: Typed  # checked by its type's shape, once the type is known to be handled
    # Slack sends a list, or (in old envelopes) nothing.
    authorizations: list[Authorization] = Field(default_factory=list)


class UrlVerification(Shape):
    type: Literal["url_verification"]
    challenge: Annotated[str, StringConstraints(max_length=255)]


class Command(Shape):
    """A slash command, form-encoded."""
    command: Id
    team_id: Id
    user_id: Id
    channel_id: Id
    trigger_id: Id
    response_url: Url
    text: str = ""
    enterprise_id: Id | None = None


COMMANDS = {"/morningai"}  # inbound.COMMAND, and manifest.yml's one command


class Party(Shape):
    id: Id


class Team(Shape):
    id: Id | None = None
    enterprise_id: Id | None = None


class Action(Shape):
    action_id: Id
    value: str | None = None


class Interaction(Shape):
    type: Id
    user: Party
    team: Team | None = None
    trigger_id: Id | None = None
    response_url: Url | None = None
    channel: Party | None = None
    message: dict[str, Any] | None = None
    container: dict[str, Any] | None = None


class Pressed(Interaction):
    """block_actions: a button under an answer."""
    actions: list[Action] = Field(min_length=1)


class ShortcutMessage(Shape):
    ts: Id
    thread_ts: Id | None = None
    text: str | None = None


class MessageShortcut(Interaction):
    """message_action: "Ask MorningAI" on a message."""
    callback_id: Id
    trigger_id: Id
    channel: Party
    message: ShortcutMessage


INTERACTIONS: dict[str, type[Interaction]] = {"block_actions": Pressed, "message_action": MessageShortcut}


def verify(signing_secret: str, headers: Any, body: bytes, now: float | None = None) -> None:
    """Slack's v0 signature: HMAC-SHA256 of "v0:timestamp:body". Over the raw bytes, where
    slack_sdk's verifier first decodes them and so raises on a body that is not UTF-8."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > MAX_CLOCK_SKEW:
        raise Refused("bad_signature", 401, "X-Slack-Request-Timestamp: missing or more than 5 minutes away")
    expected = "v0=" + hmac.new(signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Refused("bad_signature", 401, "invalid request signature")


def check(body: bytes, media_type: str | None) -> None:
    """Refuse a (signed) body that is not something the hub's Bolt app handles as Slack sends it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("not_json", 400, "the body is not UTF-8") from None
    if media_type == JSON:
        _check_json(text)
    elif media_type == FORM:
        _check_form(text)
    else:
        raise Refused("wrong_content_type", 415, f"Content-Type must be {JSON} or {FORM}")


def _check_json(text: str) -> None:
    payload = _loads(text)
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "url_verification":
        validated(UrlVerification, payload)
    elif kind == "event_callback":
        event = validated(EventCallback, payload).event
        shape = EVENTS.get(event.type)
        if shape is None:
            # Slack's contract: acknowledge any event, or it is retried and the app flagged.
            raise Refused("unknown_type", 200, f"event type {event.type!r} is not handled here")
        validated(shape, payload["event"], "event")
    elif isinstance(kind, str) and len(kind) <= 255:
        raise Refused("unknown_type", 400, f"type {kind!r} is not handled here")
    else:
        raise Refused("bad_envelope", 400, "send an object with a type: event_callback or url_verification")


def _check_form(text: str) -> None:
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    except ValueError:
        raise Refused("bad_envelope", 400, "the form body is malformed") from None
    plain(fields)
    if "payload" in fields:
        payload = _loads(fields["payload"])
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise Refused("bad_envelope", 400, "payload: send an interaction object with a type")
        shape = INTERACTIONS.get(payload["type"])
        if shape is None:
            raise Refused("unknown_type", 400, f"interactions of type {payload['type'][:255]!r} are not handled here")
        validated(shape, payload)
    elif "command" in fields:
        command = validated(Command, fields)
        if command.command not in COMMANDS:
            raise Refused("unknown_type", 400, f"the command {command.command!r} is not handled here")
    elif "ssl_check" not in fields:  # Slack's certificate probe, which Bolt answers
        raise Refused("bad_envelope", 400, "a form must carry a command or an interaction payload")


def _loads(text: str) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        raise Refused("not_json", 400, "the body is not JSON (or is cut short)") from None
    plain(value)
    return value

