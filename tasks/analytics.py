"""The numbers a support lead asks for, over the last hours: how many questions the bot answered on
its own, how many were handed to a person, resolved, resolved without a person (the deflection
rate), how long the first answer took; and the questions the knowledge serves badly, for the
coverage gaps (agents/gaps.py clusters them). Read-only queries over `tasks`, `task_support`
and `thread_replies`.
"""

from __future__ import annotations

from typing import Any

from core.db import Database

# Joined to every query: the period, and the workspace when one is asked for.
_SCOPE = """FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
            LEFT JOIN task_support s ON s.task_id = t.id
            WHERE t.received_at > now() - make_interval(hours => %(hours)s)
              AND (%(workspace)s::text IS NULL OR w.name = %(workspace)s)"""


def summary(db: Database, workspace: str | None, hours: int) -> dict[str, Any]:
    """Counts over the last `hours`. `answered_automatically`: answers the bot posted on its
    own (not a draft a person published); `resolved_without_a_person`: resolved, never handed
    over, and nobody but the asker wrote in the thread; `deflection_rate` is that share of the
    resolved ones (None before anything is resolved)."""
    with db.connection() as conn:
        row = conn.execute(
            f"""SELECT count(*) AS questions,
                       count(*) FILTER (WHERE t.status = 'posted' AND NOT t.reply_target ? 'published_by')
                           AS answered_automatically,
                       count(*) FILTER (WHERE t.status = 'posted' AND t.reply_target ? 'published_by')
                           AS published_drafts,
                       count(*) FILTER (WHERE t.status = 'drafted') AS awaiting_review,
                       count(*) FILTER (WHERE t.status = 'withheld') AS withheld,
                       count(s.escalated_at) AS escalated,
                       count(s.resolved_at) AS resolved,
                       count(*) FILTER (WHERE s.resolved_at IS NOT NULL AND s.escalated_at IS NULL
                                          AND NOT EXISTS (SELECT 1 FROM thread_replies r
                                                          WHERE r.task_id = t.id AND r.user_id <> t.user_id))
                           AS resolved_without_a_person,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.posted_at - t.received_at))
                           FILTER (WHERE t.status = 'posted' AND t.posted_at IS NOT NULL)
                           AS median_first_answer_seconds
                {_SCOPE}""",
            {"hours": hours, "workspace": workspace}).fetchone()
    numbers = dict(row)
    numbers["deflection_rate"] = (round(numbers["resolved_without_a_person"] / numbers["resolved"], 4)
                                  if numbers["resolved"] else None)
    median = numbers["median_first_answer_seconds"]
    numbers["median_first_answer_seconds"] = round(float(median), 3) if median is not None else None
    return numbers


def weak_questions(db: Database, workspace: str | None, hours: int, sure: float,
                   limit: int = 2000) -> list[dict[str, Any]]:
    """Questions the knowledge served badly: answered less sure than `sure`, withheld, or handed
    over to a person; newest first."""
    with db.connection() as conn:
        return conn.execute(
            f"""SELECT t.id, coalesce(nullif(t.reply->'metadata'->>'query', ''), t.text) AS text,
                       (t.reply->'metadata'->>'confidence')::real AS confidence, t.status,
                       s.escalated_at IS NOT NULL AS escalated
                {_SCOPE}
                  AND t.kind = 'ask'
                  AND ((t.reply->'metadata'->>'confidence')::real < %(low)s OR t.status = 'withheld'
                       OR s.escalated_at IS NOT NULL)
                ORDER BY t.received_at DESC LIMIT %(limit)s""",
            {"hours": hours, "workspace": workspace, "low": sure, "limit": limit}).fetchall()
