"""The Discord integration's table of which workspace a guild is answered from. (Channel
settings are every platform's: worker/channels.py; votes on answers are in tasks/feedback.py, with
Slack's.) The adapter reaches it through callables the composition roots hand it; the SQL lives
here, with the table's owner."""

from __future__ import annotations

from core.db import Database

DEFAULT_WORKSPACE = "default"


def workspace_for_guild(db: Database, guild_id: str | None) -> str:
    """The workspace a guild's questions are answered from; `default` until an admin maps it
    (and for direct messages, which have no guild)."""
    if not guild_id:
        return DEFAULT_WORKSPACE
    with db.connection() as conn:
        row = conn.execute("SELECT w.name FROM discord_guilds g JOIN workspaces w ON w.id = g.workspace_id "
                           "WHERE g.guild_id = %s", (guild_id,)).fetchone()
    return row["name"] if row else DEFAULT_WORKSPACE


def map_guild(db: Database, guild_id: str, workspace: str) -> bool:
    """Answer the guild from `workspace`; False when no workspace has that name."""
    with db.connection() as conn:
        cur = conn.execute(
            """INSERT INTO discord_guilds (guild_id, workspace_id)
               SELECT %s, id FROM workspaces WHERE name = %s
               ON CONFLICT (guild_id) DO UPDATE SET workspace_id = excluded.workspace_id, updated_at = now()""",
            (guild_id, workspace))
    return cur.rowcount == 1


def unmap_guild(db: Database, guild_id: str) -> bool:
    """Forget the guild's workspace (it is answered from `default` if it asks again)."""
    with db.connection() as conn:
        return conn.execute("DELETE FROM discord_guilds WHERE guild_id = %s", (guild_id,)).rowcount == 1


def guild_mappings(db: Database) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT g.guild_id, w.name AS workspace, g.updated_at FROM discord_guilds g "
                            "JOIN workspaces w ON w.id = g.workspace_id ORDER BY g.guild_id").fetchall()
