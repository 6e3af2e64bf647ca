"""What the dashboard shows of tasks: the filtered list; the overview's charts (tasks per hour by
platform, answer latency, the most asked questions); where tasks came from (channels, Discord
guilds), for the integrations page; and the task figures /metrics reports. Read-only reporting
over the `tasks` table, whose writes live in tasks/lifecycle.py."""

from __future__ import annotations

from typing import Any

from core.db import Database


def per_hour(db: Database, hours: int) -> list[dict[str, Any]]:
    """One row per hour of the last `hours` (empty hours included, so a chart has no gaps):
    tasks by platform, failures, and the p50/p95 seconds from message to posted answer."""
    with db.connection() as conn:
        return conn.execute(
            """WITH hours AS (
                   SELECT generate_series(date_trunc('hour', now()) - make_interval(hours => %(n)s - 1),
                                          date_trunc('hour', now()), interval '1 hour') AS hour)
               SELECT h.hour,
                      count(t.id) FILTER (WHERE t.platform = 'slack') AS slack,
                      count(t.id) FILTER (WHERE t.platform = 'discord') AS discord,
                      count(t.id) FILTER (WHERE t.platform = 'web') AS web,
                      count(t.id) FILTER (WHERE t.status = 'failed') AS failed,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.posted_at - t.received_at))
                          FILTER (WHERE t.status = 'posted') AS p50_seconds,
                      percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM t.posted_at - t.received_at))
                          FILTER (WHERE t.status = 'posted') AS p95_seconds
               FROM hours h LEFT JOIN tasks t
                    ON t.received_at >= h.hour AND t.received_at < h.hour + interval '1 hour'
               GROUP BY h.hour ORDER BY h.hour""",
            {"n": hours}).fetchall()


def totals(db: Database, hours: int) -> dict[str, Any]:
    with db.connection() as conn:
        return conn.execute(
            """SELECT count(*) AS tasks, count(*) FILTER (WHERE status = 'posted') AS posted,
                      count(*) FILTER (WHERE status = 'failed') AS failed,
                      count(*) FILTER (WHERE status IN ('received', 'queued', 'running')) AS waiting,
                      coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens,
                      coalesce(sum(cost_usd), 0)::float AS cost_usd,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - received_at))
                          FILTER (WHERE status = 'posted') AS p50_seconds,
                      percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - received_at))
                          FILTER (WHERE status = 'posted') AS p95_seconds
               FROM tasks WHERE received_at > now() - make_interval(hours => %s)""",
            (hours,)).fetchone()


def top_questions(db: Database, hours: int, limit: int = 10, workspace: str | None = None) -> list[dict[str, Any]]:
    """The questions asked most often (in `workspace`, or all), counted by their wording with case
    and spacing ignored."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT min(left(text, 200)) AS text, count(*) AS count, count(DISTINCT platform || user_id) AS askers
               FROM tasks WHERE kind = 'ask' AND received_at > now() - make_interval(hours => %(hours)s)
                 AND (%(workspace)s::text IS NULL
                      OR workspace_id = (SELECT id FROM workspaces WHERE name = %(workspace)s))
               GROUP BY lower(regexp_replace(trim(text), '\\s+', ' ', 'g'))
               ORDER BY count(*) DESC, min(received_at) DESC LIMIT %(limit)s""",
            {"hours": hours, "limit": limit, "workspace": workspace}).fetchall()


def latest_in_channel(db: Database, platform: str, channel: str) -> dict[str, Any] | None:
    """The channel's latest task: the workspace it was answered from (`workspace`) and where its
    answer went (`reply_target`: the team or guild, among the rest)."""
    with db.connection() as conn:
        return conn.execute(
            "SELECT w.name AS workspace, t.reply_target FROM tasks t JOIN workspaces w ON w.id = t.workspace_id "
            "WHERE t.platform = %s AND t.channel = %s ORDER BY t.received_at DESC LIMIT 1",
            (platform, channel)).fetchone()


def channels_seen(db: Database, platform: str) -> list[dict[str, Any]]:
    """Each channel the platform's tasks came from: the workspace of its latest task, and when."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT DISTINCT ON (t.channel) t.channel, w.name AS workspace, t.received_at AS last_seen
               FROM tasks t JOIN workspaces w ON w.id = t.workspace_id
               WHERE t.platform = %s AND t.channel <> ''
               ORDER BY t.channel, t.received_at DESC""", (platform,)).fetchall()


def targets_seen(db: Database, platform: str, key: str) -> list[dict[str, Any]]:
    """Each value of reply_target's `key` (a Discord guild id, say) among the platform's tasks:
    the workspace of its latest task, and when."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT DISTINCT ON (v.value) v.value, w.name AS workspace, t.received_at AS last_seen
               FROM tasks t JOIN workspaces w ON w.id = t.workspace_id,
                    LATERAL (SELECT t.reply_target->>%s AS value) v
               WHERE t.platform = %s AND v.value IS NOT NULL
               ORDER BY v.value, t.received_at DESC""", (key, platform)).fetchall()


def metric_totals(db: Database, duration_buckets: list[float], retrieval_buckets: list[float]) -> dict[str, Any]:
    """What /metrics reports from the tasks themselves, so every web process and worker agrees:
    counts by platform and status, model usage, and cumulative histograms (seconds, each bucket
    counting values <= its bound) of a posted task's last run and of memory retrieval."""
    with db.connection() as conn:
        by_status = conn.execute(
            "SELECT platform, status, count(*) AS n FROM tasks GROUP BY platform, status").fetchall()
        # Tasks' tokens and those spent outside a task (FAQ generation, tasks/usage.py).
        usage = conn.execute(
            """SELECT coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion,
                      coalesce(sum(cost_usd), 0) AS cost
               FROM (SELECT prompt_tokens, completion_tokens, cost_usd FROM tasks
                     UNION ALL SELECT prompt_tokens, completion_tokens, cost_usd FROM model_usage) spent""").fetchone()
        durations = _histogram(conn, "SELECT extract(epoch FROM posted_at - started_at)::float8 AS s FROM tasks "
                                     "WHERE status = 'posted' AND started_at <= posted_at", duration_buckets)
        retrieval = _histogram(conn, "SELECT ms / 1000.0 AS s FROM task_steps WHERE node = 'retrieve'",
                               retrieval_buckets)
    return {"by_status": by_status, "usage": usage, "durations": durations, "retrieval": retrieval}


def _histogram(conn, values_sql: str, buckets: list[float]) -> dict[str, Any]:
    row = conn.execute(
        f"""WITH v AS ({values_sql})
            SELECT array(SELECT count(*) FILTER (WHERE v.s <= le) FROM unnest(%s::float8[]) AS le
                         LEFT JOIN v ON true GROUP BY le ORDER BY le) AS counts,
                   (SELECT count(*) FROM v) AS count, (SELECT coalesce(sum(s), 0) FROM v) AS sum""",
        ([float(b) for b in buckets],)).fetchone()
    return {"buckets": list(zip(buckets, row["counts"])), "count": row["count"], "sum": float(row["sum"])}


# --- the Tasks page's list -----------------------------------------------------------------

_LIST_COLUMNS = """t.id, t.platform, w.name AS workspace, t.channel, t.user_id, t.kind, t.status,
                  left(t.text, 300) AS text, t.attempts, t.error, t.received_at, t.posted_at,
                  t.failed_at, t.prompt_tokens, t.completion_tokens, t.cost_usd,
                  extract(epoch FROM coalesce(t.posted_at, t.failed_at) - t.received_at) AS seconds"""


def listing(db: Database, *, status: str | None = None, platform: str | None = None,
            kind: str | None = None, workspace: str | None = None, text: str | None = None,
            limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Tasks newest first, filtered; and how many match in all (for paging)."""
    where, params = ["TRUE"], []
    for column, value in (("t.status", status), ("t.platform", platform), ("t.kind", kind),
                          ("w.name", workspace)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if text:
        where.append("t.text ILIKE %s")
        params.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    condition = " AND ".join(where)
    with db.connection() as conn:
        rows = conn.execute(
            f"SELECT {_LIST_COLUMNS} FROM tasks t JOIN workspaces w ON w.id = t.workspace_id "
            f"WHERE {condition} ORDER BY t.received_at DESC, t.id LIMIT %s OFFSET %s",
            (*params, limit, offset)).fetchall()
        total = conn.execute(f"SELECT count(*) AS n FROM tasks t JOIN workspaces w ON w.id = t.workspace_id "
                             f"WHERE {condition}", params).fetchone()["n"]
    return rows, total
