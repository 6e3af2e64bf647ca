"""A platform request the hub turns away before acting on it: why, in one of a few fixed words
(metrics count refusals by them, so they must stay a small set, never free text), the HTTP
status it gets and a short sentence saying what was wrong. Also the vocabulary the platforms'
envelope models (adapters/*/envelope.py) share to say what they read."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

Model = TypeVar("Model", bound=BaseModel)

# Ids, names and type words: the platforms' are short; a 70,000-character one is not theirs.
Id = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class Shape(BaseModel):
    """An envelope model checks only the fields the hub reads; every other field passes."""

    model_config = ConfigDict(extra="allow")

REASONS = (
    "bad_signature",  # unsigned, mis-signed or stale
    "wrong_content_type",  # not the media type the platform sends this endpoint
    "not_json",  # not UTF-8, cut short, or otherwise not parseable
    "bad_envelope",  # parsed, but not the shape of anything the platform sends
    "unknown_type",  # well formed, of a type the hub does not handle
    "too_large",  # over the body size limit
    "unparsed",  # passed our checks, yet the platform's SDK could not read it
)


class Refused(Exception):
    """Raised by an endpoint's checks; the endpoint answers `status` with `message` as JSON."""

    def __init__(self, reason: str, status: int, message: str):
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(message)
        self.reason, self.status, self.message = reason, status, message


def plain(value: Any) -> None:
    """No NUL and no lone surrogate anywhere: PostgreSQL stores neither, and no platform sends either."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise Refused("bad_envelope", 400, "a value holds a NUL character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise Refused("bad_envelope", 400, "a value holds a lone surrogate, which is not text") from None


def validated(model: type[Model], value: Any, within: str = "", saying: str = "") -> Model:
    """`value` as `model`, or Refused (bad_envelope) naming the first field that is wrong."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join([within, *(str(part) for part in first["loc"])]).strip(".") or "body"
        raise Refused("bad_envelope", 400, f"{saying}{where}: {first['msg']}") from None
