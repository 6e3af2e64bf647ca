"""What happens to a question after the bot answers it, in a support channel: a drafted answer
reviewed (published or dismissed), the question handed over to a person, resolved. The
`task_support` table, one row per task that has any of it; the task's own status stays
tasks/lifecycle.py's.

Who did something is kept as the platform says it (`slack:U0123`, `discord:1234…`, or the
dashboard user's email), so the dashboard can show it and analytics can tell people from the bot.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.db import Database
from core.runtime import Runtime
from tasks import lifecycle

REVIEWS = ("publish", "dismiss")
RESOLVED_HOW = ("button", "reaction", "follow_up", "dashboard")  # as the table's check allows


class NotReviewable(LookupError):
    """The task is not a draft of that platform (any more): published, dismissed or unknown."""


def review(rt: Runtime, task_id: uuid.UUID, by: str, action: str, *, platform: str | None = None,
           text: str | None = None) -> str:
    """Publish (optionally edited to `text`) or dismiss a drafted answer; what became of it, in
    words for the reviewer. `platform`: the review came from that platform's buttons, which may
    only act on its own tasks."""
    if action not in REVIEWS:
        raise ValueError(f"action: {action!r} is not one of {', '.join(REVIEWS)}")
    row = lifecycle.get(rt.db, task_id)
    if row is None or (platform is not None and row["platform"] != platform):
        raise NotReviewable(f"no drafted answer {task_id}")
    done = (lifecycle.publish(rt.db, rt.queue, task_id, by, text) if action == "publish"
            else lifecycle.dismiss(rt.db, task_id, by))
    if not done:
        raise NotReviewable(f"the draft was already {_reviewed(rt.db, task_id) or 'settled'}")
    with rt.db.connection() as conn:
        conn.execute(
            """INSERT INTO task_support (task_id, reviewed_at, reviewed_by, review) VALUES (%s, now(), %s, %s)
               ON CONFLICT (task_id) DO UPDATE SET reviewed_at = now(), reviewed_by = excluded.reviewed_by,
                   review = excluded.review, updated_at = now()""",
            (task_id, by, "published" if action == "publish" else "dismissed"))
    return "published: it is being posted in the question's thread" if action == "publish" else "dismissed"


def escalate(db: Database, task_id: uuid.UUID, by: str, platform: str | None = None) -> bool:
    """Someone asked for a person on the task's answer. True the first time: the channel's
    people are called once, however often the button is pressed. `platform`: the press came from
    that platform, whose buttons may only act on its own tasks."""
    with db.connection() as conn:
        row = conn.execute(
            """INSERT INTO task_support (task_id, escalated_at, escalated_by)
               SELECT id, now(), %s FROM tasks WHERE id = %s AND (%s::text IS NULL OR platform = %s)
               ON CONFLICT (task_id) DO UPDATE SET escalated_at = now(), escalated_by = excluded.escalated_by,
                   updated_at = now()
               WHERE task_support.escalated_at IS NULL
               RETURNING task_id""",
            (by, task_id, platform, platform)).fetchone()
    return row is not None


def resolve(db: Database, task_id: uuid.UUID, by: str, how: str, platform: str | None = None) -> bool:
    """Someone marked the task's thread resolved. True the first time."""
    if how not in RESOLVED_HOW:
        raise ValueError(f"how: {how!r} is not one of {', '.join(RESOLVED_HOW)}")
    with db.connection() as conn:
        row = conn.execute(
            """INSERT INTO task_support (task_id, resolved_at, resolved_by, resolved_how)
               SELECT id, now(), %s, %s FROM tasks WHERE id = %s AND (%s::text IS NULL OR platform = %s)
               ON CONFLICT (task_id) DO UPDATE SET resolved_at = now(), resolved_by = excluded.resolved_by,
                   resolved_how = excluded.resolved_how, updated_at = now()
               WHERE task_support.resolved_at IS NULL
               RETURNING task_id""",
            (by, how, task_id, platform, platform)).fetchone()
    return row is not None


def claim_follow_up(db: Database, task_id: uuid.UUID) -> bool:
    """Whether to ask now if the task's answer helped: once, and only if nobody has said so yet
    (no vote, not resolved, no person asked for)."""
    with db.connection() as conn:
        row = conn.execute(
            """INSERT INTO task_support (task_id, followed_up_at)
               SELECT id, now() FROM tasks t WHERE id = %s AND status = 'posted'
                 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.task_id = t.id)
               ON CONFLICT (task_id) DO UPDATE SET followed_up_at = now(), updated_at = now()
               WHERE task_support.followed_up_at IS NULL AND task_support.resolved_at IS NULL
                 AND task_support.escalated_at IS NULL
               RETURNING task_id""",
            (task_id,)).fetchone()
    return row is not None


def record_reply(db: Database, task_id: uuid.UUID, ts: str, user: str, text: str, link: str) -> None:
    """A person's reply in the thread of the task's answer (a redelivery of it is kept once)."""
    with db.connection() as conn:
        conn.execute("INSERT INTO thread_replies (task_id, ts, user_id, text, link) VALUES (%s, %s, %s, %s, %s) "
                     "ON CONFLICT DO NOTHING", (task_id, ts, user, text, link))


def person_answer(db: Database, task_id: uuid.UUID) -> dict[str, Any] | None:
    """What someone other than the asker last wrote in the task's thread before it was resolved:
    the answer a person gave, if one did."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT r.user_id, r.text, r.link FROM thread_replies r JOIN tasks t ON t.id = r.task_id
               LEFT JOIN task_support s ON s.task_id = r.task_id
               WHERE r.task_id = %s AND r.user_id <> t.user_id AND (s.resolved_at IS NULL OR r.at <= s.resolved_at)
               ORDER BY r.at DESC LIMIT 1""",
            (task_id,)).fetchone()


def escalations(db: Database, workspace: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Questions handed over to a person and not resolved yet, oldest first, with how long they
    have waited."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT t.id, t.platform, t.channel, t.text, t.user_id, w.name AS workspace, s.escalated_at,
                      s.escalated_by, extract(epoch FROM now() - s.escalated_at)::int AS waiting_seconds
               FROM task_support s JOIN tasks t ON t.id = s.task_id JOIN workspaces w ON w.id = t.workspace_id
               WHERE s.escalated_at IS NOT NULL AND s.resolved_at IS NULL
                 AND (%s::text IS NULL OR w.name = %s)
               ORDER BY s.escalated_at LIMIT %s""",
            (workspace, workspace, limit)).fetchall()


def _reviewed(db: Database, task_id: uuid.UUID) -> str | None:
    with db.connection() as conn:
        row = conn.execute("SELECT review, reviewed_by FROM task_support WHERE task_id = %s", (task_id,)).fetchone()
    return f"{row['review']} by {row['reviewed_by']}" if row and row["review"] else None


def of_task(db: Database, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The task's support row, as the API shows it."""
    with db.connection() as conn:
        row = conn.execute("SELECT * FROM task_support WHERE task_id = %s", (task_id,)).fetchone()
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in row.items() if key != "task_id"} if row else None
