"""`morningai faq …`: draft FAQs from the questions people asked, review them, export them.

Commands open the database alone (no Redis): generation runs in this process.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from agents import faq_export
from core import workspaces
from core.config import load_settings
from core.db import Database
from hub import wiring
from hub.cli.common import CommandError, InputError, _jsonable, out
from hub.cli.local import _apply_migrations, _database, _migrated
from memory import faqs
from memory.embedders import choose_embedder
from worker import jobs, limits

faq = typer.Typer(no_args_is_help=True, help="Draft FAQs from asked questions, review and export them.")

Workspace = Annotated[str, typer.Option(help="Workspace whose FAQs these are")]


def _faq_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InputError(f"ID: {text!r} is not a FAQ id (a UUID); `morningai faq list` shows them") from None


def _known(db: Database, workspace: str) -> str:
    if workspaces.find(db, workspace) is None:
        raise InputError(f"--workspace: no workspace named {workspace!r}")
    return workspace


@faq.command()
def generate(workspace: Workspace = "default") -> None:
    """Cluster the questions asked in the workspace and draft FAQs for review."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        embedder = choose_embedder(settings)
        try:
            report = jobs.draft_faqs(db, embedder, wiring.build_agent(db, embedder, settings), settings,
                                       _known(db, workspace))
        except limits.OverBudget as exc:
            raise CommandError(str(exc)) from None
    out.print(report.summary(), soft_wrap=True)


@faq.command("list")
def list_command(
    workspace: Workspace = "default",
    status: Annotated[str | None, typer.Option(help=f"Only FAQs with this status: {', '.join(faqs.STATUSES)}")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the FAQs as JSON")] = False,
) -> None:
    """List the workspace's FAQs, most asked first."""
    if status is not None and status not in faqs.STATUSES:
        raise InputError(f"--status: {status!r} is not one of {', '.join(faqs.STATUSES)}")
    with _database(load_settings()) as db:
        _apply_migrations(db)
        found = faqs.listing(db, _known(db, workspace), status)
    if as_json:
        out.print_json(data=[_jsonable({**faq.__dict__, "asked_count": faq.asked_count}) for faq in found])
        return
    if not found:
        out.print(f"no FAQs in workspace {workspace!r}; draft some with: morningai faq generate "
                  f"--workspace {workspace}", soft_wrap=True)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "status", "asked", "people", "topic", "question"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for item in found:
        table.add_row(str(item.id), item.status, str(item.asked_count), str(len(item.askers)), item.topic,
                      item.question)
    out.print(table)


def _review(faq_id: str, workspace: str, status: str) -> None:
    with _database(load_settings()) as db:
        _apply_migrations(db)
        try:
            item = faqs.review(db, _known(db, workspace), _faq_id(faq_id), status)
        except faqs.UnknownFaq as exc:
            raise InputError(f"ID: {exc}") from None
    out.print(f"{status} FAQ {item.id}: {item.question}", soft_wrap=True, markup=False, highlight=False)
    if status == "approved":
        out.print(Markdown(item.answer))


@faq.command()
def approve(faq_id: Annotated[str, typer.Argument(metavar="ID", help="The FAQ's id")],
            workspace: Workspace = "default") -> None:
    """Approve a FAQ: it is served to close questions and exported."""
    _review(faq_id, workspace, "approved")


@faq.command()
def reject(faq_id: Annotated[str, typer.Argument(metavar="ID", help="The FAQ's id")],
           workspace: Workspace = "default") -> None:
    """Reject a FAQ: it is never served, and its questions are not drafted again."""
    _review(faq_id, workspace, "rejected")


@faq.command()
def export(
    workspace: Workspace = "default",
    output: Annotated[Path | None, typer.Option(help="File to write [default: print it]")] = None,
) -> None:
    """Write the approved FAQs as Markdown, grouped by topic."""
    with _database(load_settings()) as db:
        _apply_migrations(db)
        approved = faqs.listing(db, _known(db, workspace), "approved")
    text = faq_export.markdown(approved, workspace)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        faq_export.write(output, text)
    except faq_export.ExportRefused as exc:
        raise InputError(str(exc)) from None
    out.print(f"wrote {len(approved)} approved FAQ(s) to {output}", soft_wrap=True)
