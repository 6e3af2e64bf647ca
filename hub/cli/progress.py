"""The ingest progress bar: files, chunks, embeddings per second and time left on a terminal;
nothing at all elsewhere (the caller prints a summary line)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from memory.ingest import Progress as Totals


class IngestProgress:
    def __init__(self, console: Console):
        self.bar = Progress(
            TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            TextColumn("{task.fields[chunks]} chunks"), TextColumn("{task.fields[rate]:.0f} embeddings/s"),
            TimeRemainingColumn(), TextColumn("[dim]{task.fields[current]}"),
            console=console, transient=True, disable=not console.is_terminal)
        self.task = self.bar.add_task("ingest", total=None, chunks=0, rate=0.0, current="")

    def __enter__(self) -> IngestProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def update(self, totals: Totals) -> None:
        self.bar.update(self.task, total=totals.files_total, completed=totals.files_done,
                        chunks=totals.chunks, rate=totals.embeddings_per_second, current=totals.current[-40:])
