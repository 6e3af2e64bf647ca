"""Model tokens spent outside a task (FAQ generation): the `model_usage` table. The daily
budget (worker/limits.py) counts them with the tasks' own (tasks/lifecycle.py: tokens_today)."""

from __future__ import annotations

from core.db import Database
from tasks.lifecycle import UnknownWorkspace


def record(db: Database, workspace: str, purpose: str, prompt_tokens: int, completion_tokens: int,
           cost_usd: float | None) -> None:
    with db.connection() as conn:
        row = conn.execute(
            "INSERT INTO model_usage (workspace_id, purpose, prompt_tokens, completion_tokens, cost_usd) "
            "SELECT id, %s, %s, %s, %s FROM workspaces WHERE name = %s RETURNING id",
            (purpose, prompt_tokens, completion_tokens, cost_usd, workspace)).fetchone()
    if row is None:
        raise UnknownWorkspace(workspace)


def tokens_today(db: Database, workspace: str) -> int:
    """Tokens spent outside tasks by the workspace since midnight UTC."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT coalesce(sum(u.prompt_tokens + u.completion_tokens), 0) AS n
               FROM model_usage u JOIN workspaces w ON w.id = u.workspace_id
               WHERE w.name = %s AND u.spent_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'""",
            (workspace,)).fetchone()["n"]
