"""What the web app's blueprints share: the app's Runtime, the shape of an error, and the
checks of query parameters."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, jsonify, request

from core.runtime import Runtime


def runtime() -> Runtime:
    """The Runtime the app factory (hub/web/app.py) made this app with."""
    return current_app.config["MORNINGAI"]


def error(message: str, status: int = 400):
    """Every error of ours: JSON with one message that says what to fix."""
    return jsonify(error=message), status


class BadQuery(ValueError):
    """A query parameter is malformed; the message names it and says what it may be."""


def choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """The parameter, one of `allowed`; None when absent or empty."""
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise BadQuery(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def whole(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        raise BadQuery(f"{name}: must be a whole number") from None
    if not low <= value <= high:
        raise BadQuery(f"{name}: must be between {low} and {high}")
    return value


def row_json(row: dict[str, Any]) -> dict[str, Any]:
    """A database row as JSON: times in ISO 8601, ids as strings, money and seconds as floats."""
    return {key: (value.isoformat() if hasattr(value, "isoformat") else str(value) if isinstance(value, uuid.UUID)
                  else float(value) if key in ("cost_usd", "seconds") and value is not None else value)
            for key, value in row.items()}
