"""The hub's parts opened in this process, for commands that answer without a running hub:
the database (embedded when DATABASE_URL is unset), migrations, the whole Runtime. Commands
import this module only when they need it, since it imports the composition root (the agent,
the platforms' libraries, the embedders) that a command talking to a running hub never uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core import logs
from core.config import Settings
from core.db import Database
from core.runtime import Runtime
from hub import migrate as migrations
from hub import wiring
from hub.admin import settings as admin_settings
from hub.cli.common import err
from hub.embedded import EmbeddedPostgres


def _setup_logging(settings: Settings) -> None:
    logs.setup(settings)


def _open(settings: Settings) -> Runtime:
    rt = wiring.open_runtime(settings)
    for name in rt.embedded:
        url = rt.database_url if name == "PostgreSQL" else rt.redis_url
        err.print(f"[dim]started embedded {name} at {url} (data in {settings.home.absolute()})[/dim]")
    return rt


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The database alone (embedded if DATABASE_URL is unset), for commands that need no queue."""
    postgres = EmbeddedPostgres(settings.home)
    url = settings.database_url or postgres.start()
    if postgres.started:
        err.print(f"[dim]started embedded PostgreSQL at {url} (data in {settings.home.absolute()})[/dim]")
    db = Database(url)
    try:
        yield db
    finally:
        db.close()
        postgres.stop()


def _apply_migrations(db: Database) -> None:
    applied = migrations.migrate(db)
    for migration in applied:
        err.print(f"[dim]applied migration {migration.version}_{migration.name}[/dim]")


def _migrated(db: Database, settings: Settings) -> Settings:
    """Apply pending migrations; then the settings as the web app and the workers run with them,
    the dashboard's changes and secrets on top (a model key set there also picks the embedder
    a workspace's vectors need)."""
    _apply_migrations(db)
    return admin_settings.applied(db, settings)
