"""Thread memory: LangGraph's Postgres checkpointer on the hub's database, so a follow-up in a
Slack thread, a Discord thread or a playground thread knows the turns before it."""

from __future__ import annotations

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


def setup(owner_url: str) -> None:
    """Create or upgrade the checkpointer's tables (as the owner, like every migration) and let
    the runtime role use them."""
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO morningai_app")
        conn.execute("GRANT SELECT ON checkpoint_migrations TO morningai_app")


def checkpointer(pool: ConnectionPool) -> PostgresSaver:
    return PostgresSaver(pool)
