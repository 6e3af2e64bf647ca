"""👍 / 👎 on answers, from every platform (the `feedback` table, which this module owns): one
vote per user and answer, the dashboard's review queue of the answers people voted on, and the
votes over time for the overview."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.db import Database

# The longest window whose votes are counted per hour; longer ones are counted per day.
HOURLY_UP_TO = 48


def record(db: Database, platform: str, task_id: uuid.UUID, user: str, vote: int) -> bool:
    """Store the user's vote (1 or -1), replacing an earlier one; False when the task is not a
    task of `platform`, so a forged or misrouted button stores nothing. A changed vote goes back
    to the review queue."""
    if vote not in (1, -1):
        raise ValueError(f"vote must be 1 or -1, not {vote!r}")
    with db.connection() as conn:
        cur = conn.execute(
            """INSERT INTO feedback (task_id, user_id, vote)
               SELECT id, %s, %s FROM tasks WHERE id = %s AND platform = %s
               ON CONFLICT (task_id, user_id) DO UPDATE SET vote = excluded.vote, updated_at = now(),
                   reviewed_at = CASE WHEN feedback.vote = excluded.vote THEN feedback.reviewed_at END,
                   reviewed_by = CASE WHEN feedback.vote = excluded.vote THEN feedback.reviewed_by END""",
            (user, vote, task_id, platform))
    return cur.rowcount == 1


# One row per answer that has votes: its counts, when it was last voted on, and when it was
# reviewed (NULL while a vote is unreviewed).
_VOTED = """
    WITH votes AS (
        SELECT task_id, count(*) FILTER (WHERE vote = 1) AS up, count(*) FILTER (WHERE vote = -1) AS down,
               max(updated_at) AS last_vote_at,
               CASE WHEN bool_and(reviewed_at IS NOT NULL) THEN max(reviewed_at) END AS reviewed_at
        FROM feedback GROUP BY task_id)
    SELECT {columns} FROM votes v JOIN tasks t ON t.id = v.task_id JOIN workspaces w ON w.id = t.workspace_id
    WHERE {condition}"""


def listing(db: Database, *, vote: str | None = None, platform: str | None = None, workspace: str | None = None,
            since: datetime | None = None, reviewed: bool | None = None, limit: int = 50,
            offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Answers people voted on, those with a 👎 first, then the most recently voted on; and how
    many match in all. `vote` ("up" or "down") keeps answers with at least one such vote."""
    where, params = ["TRUE"], []
    if vote is not None:
        where.append("v.up > 0" if vote == "up" else "v.down > 0")
    for column, value in (("t.platform", platform), ("w.name", workspace)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if since is not None:
        where.append("v.last_vote_at >= %s")
        params.append(since)
    if reviewed is not None:
        where.append("v.reviewed_at IS NOT NULL" if reviewed else "v.reviewed_at IS NULL")
    condition = " AND ".join(where)
    columns = """t.id AS task_id, t.platform, w.name AS workspace, t.channel, t.kind, t.status,
                 left(t.text, 300) AS question, left(t.reply->>'text', 300) AS answer,
                 v.up, v.down, v.last_vote_at, v.reviewed_at"""
    with db.connection() as conn:
        rows = conn.execute(_VOTED.format(columns=columns, condition=condition)
                            + " ORDER BY v.down > 0 DESC, v.last_vote_at DESC, t.id LIMIT %s OFFSET %s",
                            (*params, limit, offset)).fetchall()
        total = conn.execute(_VOTED.format(columns="count(*) AS n", condition=condition), params).fetchone()["n"]
    return rows, total


def mark_reviewed(db: Database, task_id: uuid.UUID, reviewer: uuid.UUID) -> datetime | None:
    """Mark every vote on the answer reviewed, taking it off the queue until someone votes
    again; when it was reviewed, or None when nobody voted on it."""
    with db.connection() as conn:
        conn.execute("UPDATE feedback SET reviewed_at = now(), reviewed_by = %s "
                     "WHERE task_id = %s AND reviewed_at IS NULL", (reviewer, task_id))
        return conn.execute("SELECT max(reviewed_at) AS at FROM feedback WHERE task_id = %s",
                            (task_id,)).fetchone()["at"]


def over_time(db: Database, hours: int) -> dict[str, Any]:
    """👍 and 👎 per hour over the last `hours` (per day beyond HOURLY_UP_TO hours), empty
    buckets included so a chart has no gaps. A vote counts once, as it stands, in the bucket of
    its last change."""
    unit = "hour" if hours <= HOURLY_UP_TO else "day"
    buckets = hours if unit == "hour" else -(-hours // 24)
    with db.connection() as conn:
        rows = conn.execute(
            """WITH buckets AS (
                   SELECT generate_series(date_trunc(%(unit)s, now()) - (%(n)s - 1) * %(step)s::interval,
                                          date_trunc(%(unit)s, now()), %(step)s::interval) AS at)
               SELECT b.at, count(f.vote) FILTER (WHERE f.vote = 1) AS up,
                      count(f.vote) FILTER (WHERE f.vote = -1) AS down
               FROM buckets b LEFT JOIN feedback f
                    ON f.updated_at >= b.at AND f.updated_at < b.at + %(step)s::interval
               GROUP BY b.at ORDER BY b.at""",
            {"unit": unit, "n": buckets, "step": f"1 {unit}"}).fetchall()
    return {"bucket": unit, "series": rows,
            "up": sum(row["up"] for row in rows), "down": sum(row["down"] for row in rows)}
