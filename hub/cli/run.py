"""Running the hub: `up` (everything on this machine), `web`, `worker`, and its upkeep:
`config`, `migrate`, `rotate-secret-key`."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Annotated

import psycopg
import requests
import typer
from redis.exceptions import RedisError
from rich.table import Table
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from adapters.slack.installations import SlackInstallations
from core import workspaces
from core.config import Settings, load_settings
from core.crypto import UnreadableSecret
from core.runtime import Runtime
from hub import migrate as migrations
from hub import wiring
from hub.admin import secrets as admin_secrets
from hub.cli.common import CommandError, InputError, _this_command, err, out
from hub.cli.local import _apply_migrations, _database, _migrated, _open, _setup_logging
from hub.supervisor import Supervisor
from memory import credentials as source_credentials
from memory.embedders import explain_choice
from tasks import reconciler
from worker import docs_repository, jobs, process

commands = typer.Typer()


@commands.command()
def config() -> None:
    """Print the effective settings (secrets masked)."""
    settings = load_settings()
    table = Table(box=None, pad_edge=False)
    table.add_column("variable", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("meaning")
    for row in settings.described():
        table.add_row(*row)
    out.print(table)


@commands.command()
def migrate() -> None:
    """Apply pending database migrations."""
    with _database(load_settings()) as db:
        applied = migrations.migrate(db)
    names = ", ".join(f"{m.version}_{m.name}" for m in applied)
    out.print(f"applied {len(applied)} migration(s): {names}" if applied else "database is up to date",
              soft_wrap=True)


def _resealed(what: str, reseal: Callable[[], int]) -> int:
    try:
        return reseal()
    except UnreadableSecret:
        raise CommandError(f"{what} with neither key: is MORNINGAI_PREVIOUS_SECRET_KEY the key the hub ran "
                           "with? Nothing was changed") from None


@commands.command("rotate-secret-key")
def rotate_secret_key() -> None:
    """Re-encrypt stored tokens and secrets with MORNINGAI_SECRET_KEY (the new key), reading them
    with MORNINGAI_PREVIOUS_SECRET_KEY (the old one). Safe to run again."""
    settings = load_settings()
    if settings.previous_secret_key is None or settings.secret_key_value is None:
        raise InputError("set MORNINGAI_SECRET_KEY to the new key and MORNINGAI_PREVIOUS_SECRET_KEY to the "
                         "old one, on every service, then run this again")
    with _database(settings) as db:
        _apply_migrations(db)
        # One transaction: either everything is sealed with the new key, or nothing changed.
        with db.connection() as conn, conn.transaction():
            spaces = [space.id for space in workspaces.every(db)]
            tokens = _resealed("a stored Slack token opens", lambda: SlackInstallations(
                db, settings.secret_key, settings.previous_secret_key).reseal_tokens(conn))
            secrets = _resealed("a secret set in the dashboard opens",
                                lambda: admin_secrets.reseal(conn, admin_secrets.box(settings)))
            sources = _resealed("a source's credentials open",
                                lambda: source_credentials.reseal(conn, settings, spaces))
            repositories = _resealed("a docs repository's token opens",
                                     lambda: docs_repository.reseal(conn, settings, spaces))
    out.print(f"re-encrypted {tokens} Slack token(s), {secrets} dashboard secret(s), {sources} source "
              f"credential(s) and {repositories} docs repository token(s) with the new key; "
              "now unset MORNINGAI_PREVIOUS_SECRET_KEY on every service", soft_wrap=True)


@commands.command("worker")
def worker_command(
    burst: Annotated[bool, typer.Option(help="Exit once the queue is empty.")] = False,
) -> None:
    """Run a worker that answers queued tasks (and reconciles stuck ones)."""
    settings = load_settings()
    _setup_logging(settings)
    rt = _open_patiently(settings)
    try:
        process.serve(wiring.for_worker(rt), burst=burst)
    finally:
        rt.close()


# How long a starting worker waits for PostgreSQL and Redis before it gives up.
STARTUP_PATIENCE = 60.0


def _open_patiently(settings: Settings) -> Runtime:
    """A worker's Runtime, once PostgreSQL and Redis both answer: a worker (re)started during a
    restart of either waits it out; one that cannot reach them for STARTUP_PATIENCE says so
    and exits, and `morningai up` tries again later."""

    def _open() -> Runtime:
        rt = wiring.open_runtime(settings)
        try:
            rt.queue.redis.ping()
            wiring.follow_dashboard(rt)
        except BaseException:
            rt.close()
            raise
        return rt

    def _say(state) -> None:
        reason = str(state.outcome.exception()).splitlines()[0]
        err.print(f"waiting for PostgreSQL and Redis: {reason}", markup=False, highlight=False)

    return Retrying(retry=retry_if_exception_type((psycopg.OperationalError, RedisError)),
                    stop=stop_after_delay(STARTUP_PATIENCE), wait=wait_exponential_jitter(initial=0.5, max=10),
                    before_sleep=_say, reraise=True)(_open)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port} ({exc.strerror}): "
                               "stop what uses it, or choose another with --port / PORT") from None


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "python:hub.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers), "hub.web.app:create_app()"]


@commands.command()
def web(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: MORNINGAI_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: PORT]")] = None,
    workers: Annotated[int | None, typer.Option(help="Web processes [default: WEB_CONCURRENCY]")] = None,
) -> None:
    """Serve the web app and API with gunicorn."""
    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    _check_port_free(host, port)
    os.execv(sys.executable, _gunicorn_argv(host, port, workers or settings.web_concurrency))


def _wait_ready(url: str, timeout: float, children: Supervisor) -> dict:
    deadline = time.monotonic() + timeout
    report: dict = {}
    while time.monotonic() < deadline:
        children.check()
        try:
            response = requests.get(f"{url}/readyz", timeout=2)
            report = response.json()
            if response.status_code == 200:
                return report
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return report


@commands.command()
def up(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: MORNINGAI_HOST, 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: PORT, 8000]")] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes")] = 1,
) -> None:
    """Run the whole hub on this machine: services, migrations, web, workers."""
    settings = load_settings()
    _setup_logging(settings)
    host, port = host or settings.host, port or settings.port
    _check_port_free(host, port)
    rt = _open(settings)
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    children = Supervisor({**os.environ, "DATABASE_URL": rt.database_url, "REDIS_URL": rt.redis_url,
                           "MORNINGAI_HOME": str(settings.home.absolute())})
    try:
        rt.settings = _migrated(rt.db, settings)
        posters = wiring.build_posters(rt)
        reconciler.sweep(rt, lambda task: jobs.announce_failure(rt, posters, task))
        children.spawn("web", _gunicorn_argv(host, port, settings.web_concurrency))
        for n in range(workers):
            children.spawn(f"worker {n + 1}", [sys.executable, "-m", "hub", "worker"])
        if rt.settings.discord_application_id:
            # Started without a bot token too: it connects once one is saved in the dashboard.
            children.spawn("discord", [sys.executable, "-m", "hub", "discord"])
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        report = _wait_ready(url, 60, children) if not stopping else {}
        if report.get("status") == "ready":
            out.print(f"[bold green]MorningAI hub is ready[/] at {url}  "
                      f"(open it to log in to the dashboard; health: {url}/readyz, API: {url}/api/openapi.json)",
                      soft_wrap=True)
            out.print(f'Ask it something: {_this_command()} ask "hello"    Stop: Ctrl-C', soft_wrap=True)
            kind, why = explain_choice(rt.settings)
            out.print(f"Embedder: [bold]{kind}[/] ({why})", soft_wrap=True, highlight=False)
        elif not stopping:
            err.print(f"[yellow]the hub is running but not ready:[/] {'; '.join(report.get('problems', ['no answer from the web process']))}")
        while not stopping:
            children.check()
            time.sleep(0.2)
        err.print("stopping…")
    finally:
        children.stop()
        rt.close()
