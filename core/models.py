"""The shared nouns: what a chat message becomes (ChatTask) and what comes back (Reply).

Every room of the hub speaks in these types, so this module imports nothing of ours.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

Platform = Literal["slack", "discord", "web"]
Kind = Literal["ask", "code", "docs", "faq", "help"]
# drafted: answered and held for a person to publish; withheld: answered unasked, not sure enough
# to post (worker/modes.py).
Status = Literal["received", "queued", "running", "posted", "failed", "skipped", "drafted", "withheld"]

PLATFORMS: tuple[str, ...] = get_args(Platform)
KINDS: tuple[str, ...] = get_args(Kind)
STATUSES: tuple[str, ...] = get_args(Status)
FINISHED: tuple[str, ...] = ("posted", "failed", "skipped", "withheld")  # a task's outcome is recorded

# Discord's ids (guilds, channels, threads): snowflakes, 15 to 22 digits.
SNOWFLAKE = re.compile(r"^[0-9]{15,22}$")
# A Slack conversation id: public (C) or private (G) channel, or a DM (D).
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,30}$")


@dataclass(frozen=True)
class ChatTask:
    """One message addressed to the bot, normalized across platforms.

    `reply_target` holds whatever the platform's poster needs to answer in the right
    place: a channel and thread, a response_url, an interaction token, ...
    """

    platform: Platform
    workspace: str
    platform_event_id: str
    text: str
    kind: Kind = "ask"
    channel: str = ""
    thread: str | None = None
    user: str = ""
    reply_target: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    trace_id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: Status = "received"
    attempts: int = 0
    posted_id: str | None = None
    # The message an answer was streamed into, once one exists (worker/posters.py: Streams).
    streamed_id: str | None = None
    error: str | None = None
    times: dict[str, datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Submitted:
    """What accepting a message came to: its task, and whether it is new."""
    task_id: uuid.UUID
    created: bool  # False: the platform redelivered an event we already have
    status: str


@dataclass(frozen=True)
class Listening:
    """What the bot listens for in a channel beyond what is addressed to it (its settings say:
    worker/channels.py), as an adapter needs to know on the way in."""
    follow_ups: bool = False  # replies in threads it answered
    unasked: bool = False  # questions nobody tagged it in (answer mode auto or draft)
    # A support channel (a mode other than mention, or people to hand over to): what people
    # reply in the bot's threads is kept, to learn from once a thread is resolved.
    support: bool = False


@dataclass(frozen=True)
class Citation:
    title: str
    location: str  # a URL, or a path inside the team's sources
    snippet: str = ""


@dataclass(frozen=True)
class CodeBlock:
    code: str
    language: str = ""


@dataclass(frozen=True)
class Reply:
    """What the bot says back: markdown, code, the sources it used, and how it got there."""

    text: str
    code: tuple[CodeBlock, ...] = ()
    citations: tuple[Citation, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    is_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=data["text"],
            code=tuple(CodeBlock(**block) for block in data.get("code", ())),
            citations=tuple(Citation(**c) for c in data.get("citations", ())),
            metadata=dict(data.get("metadata", {})),
            is_error=bool(data.get("is_error", False)),
        )
