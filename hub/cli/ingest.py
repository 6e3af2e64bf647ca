"""`morningai ingest`: add files, folders, repositories and URLs to a workspace's knowledge,
in this process, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer

from core import workspaces
from core.config import load_settings
from hub.cli.common import CommandError, err, out
from hub.cli.local import _database, _migrated
from hub.cli.progress import IngestProgress
from memory.embedders import choose_embedder
from memory.ingest import ingest

commands = typer.Typer()


@commands.command("ingest")
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
