"""`morningai sources …`: knowledge a connector keeps in sync (GitHub, Confluence, Notion, a web
site). Syncs run in this process with a progress bar, as `ingest` does; the hub's workers run
the scheduled ones.

Credentials are given as `--credential token` (asked for, hidden) or `--credential token=…`
(which a shell keeps in its history); they are sealed before they are stored.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from core import workspaces
from core.config import load_settings
from core.db import Database
from hub.cli.common import CommandError, InputError, err, out
from hub.cli.local import _database, _migrated
from memory import connectors, credentials, store
from memory.embedders import choose_embedder
from memory.sync import sync

sources_app = typer.Typer(no_args_is_help=True, help="Knowledge kept in sync: GitHub, Confluence, Notion, web sites.")

Workspace = Annotated[str, typer.Option(help="Workspace the source belongs to")]


@sources_app.command()
def add(
    kind: Annotated[str, typer.Argument(help="github, confluence, notion or web")],
    setting: Annotated[list[str] | None, typer.Option("--set", help="A setting, KEY=VALUE (repeat a key for a list; "
                                               "JSON values such as 2 or false are read as such)")] = None,
    credential: Annotated[list[str] | None, typer.Option(help="KEY to be asked for it (hidden), or KEY=VALUE")] = None,
    schedule: Annotated[int | None, typer.Option(help="Re-sync every this many minutes (5 to 10080)",
                                                 min=5, max=10080)] = None,
    workspace: Workspace = "default",
    now: Annotated[bool, typer.Option("--sync/--no-sync", help="Sync it right away, here")] = True,
) -> None:
    """Add a source, e.g. `morningai sources add github --set repository=acme/handbook --credential token`."""
    settings_values = _pairs(setting or [], "--set")
    secrets = {key: value if value is not None else typer.prompt(key, hide_input=True)
               for key, value in _credential_pairs(credential or []).items()}
    try:
        connector = connectors.build(kind, settings_values, secrets)
    except connectors.SettingsError as exc:
        raise InputError(str(exc)) from None
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        space, _ = workspaces.ensure(db, workspace)
        try:
            with db.workspace(space.id) as conn:
                row = store.add_source(conn, space.id, kind, connector.location, connector.name, settings_values,
                                       credentials.seal(settings, secrets), schedule)
        except psycopg.errors.UniqueViolation:
            raise InputError(f"workspace {space.name} already has a source at {connector.location}") from None
        out.print(f"added {kind} source {connector.name} ({row['id']})", soft_wrap=True)
        if now:
            _sync(db, settings, space, row, connector, None)


@sources_app.command("list")
def list_sources(workspace: Workspace = "default",
                 as_json: Annotated[bool, typer.Option("--json", help="Print the sources as JSON")] = False) -> None:
    """The workspace's sources: what each synced, when, and why the last sync failed."""
    settings = load_settings()
    with _database(settings) as db:
        _migrated(db, settings)
        space = _space(db, workspace)
        with db.workspace(space.id) as conn:
            rows = store.sources(conn)
    if as_json:
        out.print_json(data=[{k: v for k, v in row.items() if k != "credentials"} for row in rows], default=str)
        return
    if not rows:
        out.print(f"workspace {workspace!r} has no sources; add one with: morningai sources add github "
                  "--set repository=OWNER/NAME --credential token", soft_wrap=True)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "kind", "name", "status", "documents", "last synced", "every", "problem"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for row in rows:
        synced = row["last_synced_at"] or row["last_run_at"]
        table.add_row(str(row["id"]), row["kind"], row["name"] or row["location"], row["status"],
                      str(row["documents"]), synced.strftime("%Y-%m-%d %H:%M") if synced else "never",
                      f"{row['schedule_minutes']} min" if row["schedule_minutes"] else "-", row["last_error"] or "")
    out.print(table)


@sources_app.command("sync")
def sync_command(source_id: Annotated[str, typer.Argument(metavar="ID", help="The source's id")],
                 workspace: Workspace = "default") -> None:
    """Sync a source now, here: only what changed since its last sync is fetched and embedded."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        space, row = _source(db, workspace, source_id)
        if row["kind"] not in connectors.kinds():
            raise InputError(f"ID: {row['location']} is ingested, not synced: morningai ingest {row['location']}")
        connector = connectors.build(row["kind"], row["options"], credentials.open_sealed(settings, row["credentials"]))
        _sync(db, settings, space, row, connector, None)


@sources_app.command()
def remove(source_id: Annotated[str, typer.Argument(metavar="ID", help="The source's id")],
           workspace: Workspace = "default") -> None:
    """Remove a source with its documents: answers stop citing them at once."""
    settings = load_settings()
    with _database(settings) as db:
        _migrated(db, settings)
        space, row = _source(db, workspace, source_id)
        with db.workspace(space.id) as conn:
            store.delete_source(conn, row["id"])
    out.print(f"removed {row['name'] or row['location']} and its {row['documents']} document(s)", soft_wrap=True)


def _sync(db: Database, settings, space: workspaces.Workspace, row: dict, connector, changed) -> None:
    console = Console(stderr=True)
    bar = Progress(TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TextColumn("items"),
                   TimeRemainingColumn(), TextColumn("[dim]{task.fields[current]}"),
                   console=console, transient=True, disable=not console.is_terminal)
    task = bar.add_task("sync", total=None, current="")
    with bar:
        report = sync(db, choose_embedder(settings), space, row["id"], connector, changed=changed,
                      on_progress=lambda p: bar.update(task, total=p["total"], completed=p["done"],
                                                       current=p["current"][-40:]))
    for skipped in report.skipped:
        err.print(f"skipped {skipped['location']}: {skipped['reason']}", markup=False, highlight=False)
    if report.error:
        raise CommandError(f"sync failed, the knowledge it had is kept: {report.error}")
    out.print(report.summary(), soft_wrap=True)


def _space(db: Database, workspace: str) -> workspaces.Workspace:
    space = workspaces.find(db, workspace)
    if space is None:
        raise InputError(f"--workspace: no workspace named {workspace!r}")
    return space


def _source(db: Database, workspace: str, text: str) -> tuple[workspaces.Workspace, dict]:
    try:
        source_id = uuid.UUID(text)
    except ValueError:
        raise InputError(f"ID: {text!r} is not a source id (a UUID); `morningai sources list` shows them") from None
    space = _space(db, workspace)
    with db.workspace(space.id) as conn:
        row = store.source(conn, source_id)
    if row is None:
        raise InputError(f"ID: no source {source_id} in workspace {space.name}")
    return space, row


def _pairs(values: list[str], option: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for text in values:
        key, sep, raw = text.partition("=")
        if not sep or not key:
            raise InputError(f"{option} {text!r}: write KEY=VALUE, e.g. {option} repository=acme/handbook")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if key in pairs:  # a repeated key makes a list: --set include=docs/** --set include=*.md
            previous = pairs[key]
            pairs[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            pairs[key] = value
    return pairs


def _credential_pairs(values: list[str]) -> dict[str, str | None]:
    pairs: dict[str, str | None] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not key:
            raise InputError(f"--credential {text!r}: write KEY (to be asked for it) or KEY=VALUE")
        pairs[key] = value if sep else None
    return pairs
