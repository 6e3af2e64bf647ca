"""Thumbs up / down on answers (the `feedback` table), one vote per user and task, for the
dashboard's review queue."""

from __future__ import annotations

import uuid
from typing import Any

from hub.db import Database


def record(db: Database, task_id: uuid.UUID, user: str, vote: int) -> bool:
    """Store the user's vote (1 or -1), replacing an earlier one; False if there is no such task."""
    if vote not in (1, -1):
        raise ValueError(f"vote must be 1 or -1, not {vote!r}")
    with db.connection() as conn:
        cur = conn.execute(
            """INSERT INTO feedback (task_id, user_id, vote) SELECT id, %s, %s FROM tasks WHERE id = %s
               ON CONFLICT (task_id, user_id) DO UPDATE SET vote = excluded.vote, updated_at = now()""",
            (user, vote, task_id))
    return cur.rowcount == 1


def for_task(db: Database, task_id: uuid.UUID) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute("SELECT user_id, vote, updated_at FROM feedback WHERE task_id = %s ORDER BY user_id",
                            (task_id,)).fetchall()
