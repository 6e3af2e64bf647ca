"""The `morningai` command: run the hub and its parts, fill and search its knowledge."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import psycopg
import requests
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from adapters.slack.installations import SlackInstallations
from core import logs, workspaces
from core.config import ConfigError, Settings, load_settings
from core.crypto import UnreadableSecret
from core.db import Database
from core.runtime import Runtime
from hub import migrate as migrations
from hub import wiring
from hub.admin import secrets as admin_secrets
from hub.admin import settings as admin_settings
from hub.cli.progress import IngestProgress
from hub.embedded import EmbeddedPostgres, EmbeddedServiceError
from hub.supervisor import Supervisor
from memory import credentials as source_credentials
from memory.embedders import EmbeddingError, choose_embedder, explain_choice
from memory.ingest import ingest
from memory.search import search
from tasks import reconciler
from worker import docs_repository, jobs, process

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="MorningAI hub: your team's knowledge, answered in Slack and Discord.")
out = Console(soft_wrap=True)  # a long line stays one line when piped to a script
err = Console(stderr=True, soft_wrap=True)


class CommandError(Exception):
    """Ends the command with one line on stderr and exit code 1."""


class InputError(CommandError):
    """What the user typed is wrong: one line naming it on stderr, and exit code 2."""


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


@app.command()
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


@app.command()
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


@app.command("rotate-secret-key")
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
            spaces = [workspaces.get(db, name).id for name in workspaces.all_names(db)]
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


@app.command("worker")
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


@app.command()
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


@app.command()
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


def _this_command() -> str:
    """How the user can run `morningai` from where they are (it may not be on PATH)."""
    if shutil.which("morningai"):
        return "morningai"
    return os.path.relpath(Path(sys.executable).parent / "morningai")


def _jsonable(row: dict) -> dict:
    return json.loads(json.dumps(row, default=str))


@app.command("ingest")
def ingest_command(
    targets: Annotated[list[str], typer.Argument(help="Files, folders, git repositories or http(s) URLs",
                                                 metavar="PATH_OR_URL...")],
    workspace: Annotated[str, typer.Option(help="Workspace to add the knowledge to")] = "default",
    reembed: Annotated[bool, typer.Option(help="Embed everything again (after changing embedder)")] = False,
    include: Annotated[list[str], typer.Option(help="Only files matching this glob (repeatable)")] = [],
    exclude: Annotated[list[str], typer.Option(help="Skip files matching this glob (repeatable)")] = [],
) -> None:
    """Add documents to a workspace's knowledge (unchanged files are skipped for free)."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        if workspaces.find(db, workspace) is None:
            err.print(f"creating workspace {workspace!r}")
        try:
            with IngestProgress(err) as bar:
                report = ingest(db, choose_embedder(settings), targets, workspace, reembed=reembed,
                                include=include, exclude=exclude, max_bytes=settings.max_file_bytes,
                                fetch_timeout=settings.fetch_timeout, on_progress=bar.update)
        except (FileNotFoundError, ValueError) as exc:  # a target that is not there, a bad name
            raise CommandError(str(exc)) from None
    for skipped in report.skipped:
        err.print(f"skipped {skipped['location']}: {skipped['reason']}", markup=False, highlight=False)
    out.print(report.summary(), soft_wrap=True)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for")],
    workspace: Annotated[str, typer.Option(help="Workspace to search")] = "default",
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many passages")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON")] = False,
) -> None:
    """Search a workspace's knowledge: the passages an answer would cite."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        hits = search(db, choose_embedder(settings), workspace, query, k=k)
    if as_json:
        out.print_json(data=[hit.__dict__ for hit in hits])
        return
    if not hits:
        out.print(f"nothing found in workspace {workspace!r}; add documents with: "
                  f"{_this_command()} ingest PATH --workspace {workspace}", soft_wrap=True)
    for n, hit in enumerate(hits, 1):
        out.print(f"[bold][{n}] {hit.heading or hit.title}[/bold]  [dim]{hit.location} · {hit.score:.4f}[/dim]",
                  soft_wrap=True)
        out.print(Markdown(hit.snippet))


# Registered last, not at the top: their commands build on this module's helpers.
from hub.cli.ask import ask  # noqa: E402
from hub.cli.channels import channels_app  # noqa: E402
from hub.cli.discord import discord_app  # noqa: E402
from hub.cli.docs import docs_app  # noqa: E402
from hub.cli.faq import faq  # noqa: E402
from hub.cli.slack import slack  # noqa: E402
from hub.cli.sources import sources_app  # noqa: E402

app.command()(ask)
app.add_typer(faq, name="faq")
app.add_typer(slack, name="slack")
app.add_typer(discord_app, name="discord")
app.add_typer(channels_app, name="channels")
app.add_typer(sources_app, name="sources")
app.add_typer(docs_app, name="docs")


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        for line in str(exc).splitlines():
            err.print(f"configuration error: {line}", markup=False, highlight=False)
        sys.exit(2)
    except InputError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except (CommandError, EmbeddedServiceError, EmbeddingError, workspaces.UnknownWorkspace,
            workspaces.EmbedderMismatch) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except psycopg.OperationalError as exc:
        err.print(f"error: cannot reach PostgreSQL: {str(exc).splitlines()[0]}", markup=False, highlight=False)
        sys.exit(1)
    except RedisError as exc:
        err.print(f"error: cannot reach Redis: {exc}", markup=False, highlight=False)
        sys.exit(1)
