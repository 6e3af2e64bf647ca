"""`morningai search`: the passages an answer would cite. It asks the running hub when there
is one (its embedder is loaded already), and opens the database and the embedder in this
process only when none answers, saying so on stderr."""

from __future__ import annotations

from typing import Annotated

import requests
import typer

from core.config import Settings, load_settings
from hub.cli.common import CommandError, _this_command, err, out
from hub.cli.hub_client import hub_url, refusal, running_hub

commands = typer.Typer()


def _search_hub(http: requests.Session, url: str, workspace: str, query: str, k: int) -> list[dict]:
    response = http.get(f"{url}/api/knowledge/search", params={"q": query, "k": k, "workspace": workspace},
                        timeout=30)
    if response.status_code >= 400:
        raise CommandError(f"the hub at {url} could not search: {refusal(response)}")
    return response.json()["hits"]


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
    url = hub_url(settings)
    http = running_hub(settings)
    if http is not None:
        hits = _search_hub(http, url, workspace, query, k)
        err.print(f"[dim]searched by the hub at {url}[/dim]")
    else:
        err.print(f"[dim]no hub running at {url}; searching in this process (loading the embedder)[/dim]")
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
