"""Versioned plain-SQL migrations (hub/migrations/NNNN_name.sql), applied in order, each in its
own transaction, under an advisory lock so two processes never apply the same one."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from agents import threads
from core.db import Database

log = logging.getLogger(__name__)

# Any fixed number works; it only has to be the same in every process of the hub.
LOCK_KEY = 0x6D6F726E696E67  # "morning"

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


def available() -> list[Migration]:
    migrations = []
    for entry in resources.files("hub.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            migrations.append(Migration(match[1], match[2], entry.read_text()))
    return sorted(migrations, key=lambda m: m.version)


def pending(db: Database) -> list[Migration]:
    """Migrations not applied yet. Asked as the owner: before the first migration the runtime
    role does not exist yet."""
    with db.owner_connection() as conn:
        applied = set()
        if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]:
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return [m for m in available() if m.version not in applied]


def migrate(db: Database) -> list[Migration]:
    """Apply what is pending, as the owner; returns what this call applied."""
    applied_now = []
    with db.owner_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     text PRIMARY KEY,
                    name        text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )""")
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in available():
                if migration.version in done:
                    continue
                log.info("applying migration %s_%s", migration.version, migration.name)
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                 (migration.version, migration.name))
                applied_now.append(migration)
            # The agents' thread memory keeps its own schema, versioned by LangGraph.
            threads.setup(db.url)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now
