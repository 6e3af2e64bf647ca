"""Logging for every process of the hub: one JSON object per line in production, readable lines
in development, each carrying the trace id, task id, platform and workspace of the work at hand.

The context lives in contextvars, bound where work starts (an inbound request, a task's run),
so a line logged anywhere below (Bolt, the agent, a poster) carries it without being passed it.
"""

from __future__ import annotations

import logging
import logging.config
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from core.config import Settings

FIELDS = ("trace_id", "task_id", "platform", "workspace")
_context: dict[str, ContextVar[str | None]] = {name: ContextVar(name, default=None) for name in FIELDS}


@contextmanager
def context(**fields) -> Iterator[None]:
    """Bind these fields to every line logged inside, restoring the outer ones after."""
    tokens = [(_context[name], _context[name].set(str(value))) for name, value in fields.items()
              if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def begin(**fields) -> None:
    """Start a fresh context: a thread serves request after request, and one request's task id
    must not stay on the next one's lines."""
    for name in FIELDS:
        _context[name].set(str(fields[name]) if fields.get(name) is not None else None)


def bind(**fields) -> None:
    """Add fields to the current context until it ends (a request's)."""
    for name, value in fields.items():
        if value is not None:
            _context[name].set(str(value))


def trace_id() -> uuid.UUID | None:
    value = _context["trace_id"].get()
    return uuid.UUID(value) if value else None


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name in FIELDS:
            setattr(record, name, _context[name].get())
        trace = record.trace_id
        record.trace = f" [trace {trace}]" if trace else ""
        return True


class JsonLines(JsonFormatter):
    def __init__(self):
        super().__init__(["levelname", "name", "message"], timestamp=True,
                         rename_fields={"levelname": "level", "name": "logger"})

    def process_log_record(self, log_data: dict) -> dict:
        log_data.pop("trace", None)  # the readable form's suffix; JSON has trace_id itself
        return {key: value for key, value in log_data.items() if value is not None}


def config(settings: Settings) -> dict:
    """A logging.config dictionary, for `setup` and for gunicorn's `logconfig_dict`."""
    readable = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s%(trace)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"json": {"()": JsonLines}, "readable": readable},
        "handlers": {"out": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                             "filters": ["context"],
                             "formatter": "json" if settings.production else "readable"}},
        "root": {"level": settings.log_level, "handlers": ["out"]},
        "loggers": {
            # gunicorn's messages come to the root handler, so they are formatted like the rest.
            "gunicorn.error": {"level": settings.log_level, "handlers": [], "propagate": True},
            # The app logs each request itself, with its trace id (hub/web/app.py).
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }


def setup(settings: Settings) -> None:
    logging.config.dictConfig(config(settings))
