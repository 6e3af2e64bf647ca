"""The web platform's way in: a JSON body of `POST /api/messages` (the dashboard's playground,
`morningai ask`, any client of the API) checked and turned into a ChatTask."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.models import ChatTask


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str
    kind: Literal["ask", "code", "docs", "faq", "help"] = "ask"
    workspace: str = "default"
    thread: str | None = Field(default=None, max_length=200)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class BadMessage(ValueError):
    """The body is not a message; the text names the field and what would be valid."""


def parse(data: Any, max_chars: int) -> MessageIn:
    if not isinstance(data, dict):
        raise BadMessage('send a JSON object, e.g. {"text": "How do I deploy?"} '
                         "with Content-Type: application/json")
    try:
        message = MessageIn.model_validate(data)
    except ValidationError as exc:
        raise BadMessage("; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors())) from None
    if len(message.text) > max_chars:
        raise BadMessage(f"text: {len(message.text)} characters is longer than the {max_chars} allowed")
    return message


def to_task(message: MessageIn, event_id: str, user: str) -> ChatTask:
    """The task of a message; `event_id` (the client's Idempotency-Key, else a new id) makes a
    retried request find its task."""
    return ChatTask(platform="web", workspace=message.workspace, platform_event_id=event_id[:200],
                    text=message.text, kind=message.kind, thread=message.thread,
                    channel="playground", user=user)
