"""`morningai search`: the passages an answer would cite. It asks the running hub when there
is one (its embedder is loaded already), and opens the database and the embedder in this
process only when none answers, saying so on stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from core.config import Settings, load_settings
from hub.cli.common import CommandError, _this_command, err, out
from hub.cli.hub_client import Hub, NoHub

commands = typer.Typer()


def _search_hub(hub: Hub, workspace: str, query: str, k: int) -> list[dict]:
    answer = hub.get("/api/knowledge/search", {"q": query, "k": k, "workspace": workspace})
    if answer.status >= 400:
        raise CommandError(f"the hub at {hub.url} could not search: {answer.refusal}")
    return answer.json()["hits"]


def _search_here(settings: Settings, workspace: str, query: str, k: int) -> list[dict]:
    # Imported here, not at the top: the database and the embedder (torch, for the local model)
    # are what a search through the running hub saves loading.
    from hub.cli.local import _database, _migrated
    from memory.embedders import choose_embedder
    from memory.search import search

    with _database(settings) as db:
        settings = _migrated(db, settings)
        return [hit.__dict__ for hit in search(db, choose_embedder(settings), workspace, query, k=k)]


@commands.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for")],
    workspace: Annotated[str, typer.Option(help="Workspace to search")] = "default",
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many passages")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON")] = False,
) -> None:
    """Search a workspace's knowledge: the passages an answer would cite. Asks the running hub,
    or, when none is running, searches in this process."""
    settings = load_settings()
    hub = Hub(settings)
    try:
        hits = _search_hub(hub, workspace, query, k)
        err.print(f"[dim]searched by the hub at {hub.url}[/dim]")
    except NoHub:
        err.print(f"[dim]no hub running at {hub.url}; searching in this process (loading the embedder)[/dim]")
        hits = _search_here(settings, workspace, query, k)
    if as_json:
        out.print_json(data=hits)
        return
    from rich.markdown import Markdown  # here: a tenth of the command's start-up, and --json needs none of it

    if not hits:
        out.print(f"nothing found in workspace {workspace!r}; add documents with: "
                  f"{_this_command()} ingest PATH --workspace {workspace}", soft_wrap=True)
    for n, hit in enumerate(hits, 1):
        out.print(f"[bold][{n}] {hit['heading'] or hit['title']}[/bold]  "
                  f"[dim]{hit['location']} · {hit['score']:.4f}[/dim]", soft_wrap=True)
        out.print(Markdown(hit["snippet"]))
