"""What `POST /discord/interactions` accepts once its signature checks out: JSON of the shape
the shared translation (interactions.py) reads, for the interaction types the hub handles.
interactions.parse trusts the types of what it reads (a `member` that is an object, an `options`
that is a list); a correctly signed body of any other shape is refused here as `Refused`, with
the reason metrics count, instead of failing inside it as a 500.

The models check only what is read; every other field passes (extra="allow")."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from adapters.discord.interactions import APPLICATION_COMMAND, MESSAGE_COMPONENT, PING
from core.refusals import Id, Refused, Shape, plain, validated

Token = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class User(Shape):
    id: Id


class Member(Shape):
    user: User | None = None


class Channel(Shape):
    type: int | None = None
    parent_id: Id | None = None


class Message(Shape):
    id: Id | None = None
    content: str | None = None


class Interaction(Shape):
    type: int
    id: Id
    application_id: Id
    token: Token
    guild_id: Id | None = None
    channel_id: Id | None = None
    channel: Channel | None = None
    member: Member | None = None
    user: User | None = None
    message: Message | None = None
    authorizing_integration_owners: dict[str, Id] | None = None


class Option(Shape):
    name: Id
    value: Any = None


class Resolved(Shape):
    messages: dict[str, Message] | None = None


class CommandData(Shape):
    name: Id
    type: int | None = None
    target_id: Id | None = None
    options: list[Option] | None = None
    resolved: Resolved | None = None


class ComponentData(Shape):
    custom_id: Id


SAYING = "not an interaction we can handle: "
DATA: dict[int, type[BaseModel]] = {APPLICATION_COMMAND: CommandData, MESSAGE_COMPONENT: ComponentData}


def check(body: bytes) -> dict[str, Any]:
    """The interaction in a (signed) body, or Refused."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # ValueError: not UTF-8, cut short, not JSON at all
        raise Refused("not_json", 400, f"{SAYING}the body is not JSON") from None
    plain(payload)
    if not isinstance(payload, dict) or type(payload.get("type")) is not int:
        raise Refused("bad_envelope", 400, f"{SAYING}send an object with a numeric type")
    if payload["type"] == PING:
        return payload
    if payload["type"] not in DATA:
        raise Refused("unknown_type", 400, f"type: interactions of type {payload['type']} are not handled")
    validated(Interaction, payload, saying=SAYING)
    validated(DATA[payload["type"]], payload.get("data"), "data", saying=SAYING)
    return payload

