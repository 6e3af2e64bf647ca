"""A task's live events: what the worker running it says as it goes (the agent's steps, the
answer's text as the model writes it, the outcome), for whoever watches the task (the
dashboard's `GET /api/tasks/<id>/events`).

They go through a Redis stream per task, not PostgreSQL: they are many and short-lived, a
watcher that connects late reads them from the start, and one that reconnects resumes after
the last id it saw. A stream outlives its task by an hour, then Redis forgets it; the task's
row keeps what lasts (status, reply, steps).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEEP_SECONDS = 3600
MAX_EVENTS = 5000  # per task: the text of a long answer comes in a few hundred

Event = dict[str, Any]


ID = re.compile(r"^(0|\d{1,20}-\d{1,20})$")  # a stream entry's id, as a watcher resumes from


def _key(task_id: uuid.UUID) -> str:
    return f"morningai:task:{task_id}:events"


def publish(redis: Redis, task_id: uuid.UUID, event: Event) -> None:
    """Add an event to the task's stream. Watching is a courtesy: Redis away loses the event,
    never the task."""
    try:
        with redis.pipeline(transaction=False) as pipe:
            pipe.xadd(_key(task_id), {"event": json.dumps(event)}, maxlen=MAX_EVENTS, approximate=True)
            pipe.expire(_key(task_id), KEEP_SECONDS)
            pipe.execute()
    except RedisError as exc:
        log.info("could not publish an event of task %s: %s", task_id, exc)


def read(redis: Redis, task_id: uuid.UUID, after: str = "0", block_ms: int | None = 1000) -> list[tuple[str, Event]]:
    """The task's events after the id `after` ("0": from the start), waiting up to `block_ms`
    for one when there are none yet (None: not waiting)."""
    answer = redis.xread({_key(task_id): after}, block=block_ms, count=500)
    return [(entry_id.decode() if isinstance(entry_id, bytes) else entry_id, json.loads(fields[b"event"]))
            for _, entries in answer for entry_id, fields in entries]
