"""`morningai doctor`: the checks of hub/admin/diagnosis.py, one line each (✓ fine, ✗ wrong,
– not set up or not checked) with what to do; exit code 1 when something stops the hub from
answering at all, 0 when what is left are warnings."""

from __future__ import annotations

from collections.abc import Iterator

import typer

from core.config import Settings
from core.db import Database
from core.queue import TaskQueue
from hub.admin import diagnosis
from hub.admin import settings as admin_settings
from hub.admin.diagnosis import FAILED, OK, Finding
from hub.cli.common import out
from hub.embedded import EmbeddedServiceError, EmbeddedServices

commands = typer.Typer()

MARKS = {OK: "✓", FAILED: "✗", diagnosis.SKIPPED: "–"}


@commands.command()
def doctor() -> None:
    """Check the set-up, one line per part (configuration, database, Redis, workers, embedder,
    model key, Slack, Discord, public URL), and say what to fix."""
    findings = []
    for finding in _findings():
        findings.append(finding)
        line = f"{MARKS[finding.state]} {finding.part}: {finding.said}"
        out.print(f"{line} → {finding.fix}" if finding.fix else line, markup=False, highlight=False)
    blocking = [f.part for f in findings if f.blocks]
    warnings = [f.part for f in findings if f.state == FAILED and not f.blocks]
    if blocking:
        out.print(f"the hub cannot answer until this is fixed: {', '.join(blocking)}", markup=False)
        raise typer.Exit(1)
    out.print(f"the hub can answer; to look at: {', '.join(warnings)}" if warnings else "all good", markup=False)


def _findings() -> Iterator[Finding]:
    settings, loaded = diagnosis.configuration()
    yield loaded
    if settings is None:
        return
    services = EmbeddedServices(settings.home)
    try:
        yield from _services(settings, services)
    finally:
        services.stop()  # only what this command started: a running hub's servers are its own


def _services(settings: Settings, services: EmbeddedServices) -> Iterator[Finding]:
    db = None
    database_url = yield from _server("database", settings.database_url, services.postgres, "DATABASE_URL")
    if database_url:
        db = Database(database_url, connect_timeout=3)
        found = list(diagnosis.database(db))
        yield from found
        # Migrated, the hub's own role and tables exist: the checks below may read them.
        if all(finding.state == OK for finding in found):
            settings = admin_settings.applied(db, settings)  # the dashboard's keys and tokens count too
        else:
            db.close()
            db = None
    try:
        redis_url = yield from _server("Redis", settings.redis_url, services.redis, "REDIS_URL")
        if redis_url:
            yield from diagnosis.redis(TaskQueue(redis_url, settings.queue_name, job_timeout=settings.task_timeout,
                                                 max_attempts=settings.max_attempts))
        yield from diagnosis.embedder(settings, db)
    finally:
        if db is not None:
            db.close()
    yield diagnosis.platform(settings, "model", "model key")
    yield diagnosis.platform(settings, "slack", "Slack")
    yield diagnosis.platform(settings, "discord", "Discord")
    yield diagnosis.public_url(settings)


def _server(part: str, url: str | None, embedded, variable: str) -> Iterator[Finding]:
    """`url`, or the embedded server's when it is unset (started if it is not running), or None
    and a finding that it does not start. Used as `url = yield from _server(…)`."""
    if url:
        return url
    try:
        return embedded.start()
    except EmbeddedServiceError as exc:
        yield Finding(part, FAILED, f"the embedded server does not start: {exc}",
                      f"set {variable} to a server of your own", blocks=True)
        return None
