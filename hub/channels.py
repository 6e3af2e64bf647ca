"""Per-channel settings (the `channel_settings` table): today, whether the bot answers thread
follow-ups in a channel without being mentioned again. Off unless a channel opts in."""

from __future__ import annotations

import re
from typing import Any

from hub.db import Database

# A Slack conversation id: public (C) or private (G) channel, or a DM (D).
SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")


def follow_ups(db: Database, platform: str, channel: str) -> bool:
    with db.connection() as conn:
        row = conn.execute("SELECT follow_ups FROM channel_settings WHERE platform = %s AND channel = %s",
                           (platform, channel)).fetchone()
    return bool(row and row["follow_ups"])


def set_follow_ups(db: Database, platform: str, channel: str, enabled: bool) -> None:
    with db.connection() as conn:
        conn.execute(
            """INSERT INTO channel_settings (platform, channel, follow_ups) VALUES (%s, %s, %s)
               ON CONFLICT (platform, channel) DO UPDATE SET follow_ups = excluded.follow_ups, updated_at = now()""",
            (platform, channel, enabled))


def all_settings(db: Database, platform: str) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute("SELECT channel, follow_ups, updated_at FROM channel_settings WHERE platform = %s "
                            "ORDER BY channel", (platform,)).fetchall()
