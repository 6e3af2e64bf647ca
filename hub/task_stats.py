"""What the dashboard's overview charts: tasks per hour by platform, answer latency, the most
asked questions; and where tasks came from (channels, Discord guilds), for the integrations
page. Read-only reporting over the `tasks` table, whose writes live in hub/tasks.py."""

from __future__ import annotations

from typing import Any

from hub.db import Database


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


def top_questions(db: Database, hours: int, limit: int = 10) -> list[dict[str, Any]]:
    """The questions asked most often, counted by their wording with case and spacing ignored."""
    with db.connection() as conn:
        return conn.execute(
            """SELECT min(left(text, 200)) AS text, count(*) AS count, count(DISTINCT platform || user_id) AS askers
               FROM tasks WHERE kind = 'ask' AND received_at > now() - make_interval(hours => %s)
               GROUP BY lower(regexp_replace(trim(text), '\\s+', ' ', 'g'))
               ORDER BY count(*) DESC, min(received_at) DESC LIMIT %s""",
            (hours, limit)).fetchall()


def channel_workspace(db: Database, platform: str, channel: str) -> str | None:
    """The workspace the channel's latest task was answered from."""
    with db.connection() as conn:
        row = conn.execute(
            "SELECT w.name FROM tasks t JOIN workspaces w ON w.id = t.workspace_id "
            "WHERE t.platform = %s AND t.channel = %s ORDER BY t.received_at DESC LIMIT 1",
            (platform, channel)).fetchone()
    return row["name"] if row else None


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
