"""`morningai docs …`: propose doc changes to the workspace's docs repository as GitHub pull
requests (worker/proposals.py), and set that repository. A proposal is written here, in this
process, and the command prints the pull request's URL.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from core import workspaces
from core.config import Settings, load_settings
from core.db import Database
from hub.cli.common import CommandError, InputError, out
from hub.cli.local import _database, _migrated
from memory.embedders import choose_embedder
from tasks import lifecycle
from worker import docs_repository, proposals

docs_app = typer.Typer(no_args_is_help=True, help="Propose doc changes to your docs repository as pull requests.")
propose_app = typer.Typer(no_args_is_help=True, help="Open (or update) a pull request on the docs repository.")
docs_app.add_typer(propose_app, name="propose")

Workspace = Annotated[str, typer.Option(help="Workspace whose docs repository it is")]


def _space(db: Database, workspace: str) -> workspaces.Workspace:
    space = workspaces.find(db, workspace)
    if space is None:
        raise InputError(f"--workspace: no workspace named {workspace!r}")
    return space


def _propose(db: Database, settings: Settings, space: workspaces.Workspace, kind: str, **subject) -> None:
    repo = docs_repository.get(db, settings, space)
    if repo is None:
        raise CommandError(docs_repository.how_to_set(space.name))
    try:
        found = proposals.draft(db, settings, space.name, repo, kind, **subject)
    except proposals.NothingToPropose as exc:
        raise InputError(str(exc)) from None
    done = proposals.run(db, settings, space, proposals.request(db, space, found).id)
    if done.state == "failed":
        raise CommandError(done.message)
    out.print(proposals.summary(done), soft_wrap=True, markup=False, highlight=False)


@propose_app.command("faq")
def faq(workspace: Workspace = "default") -> None:
    """The approved FAQs as the FAQ file, grouped by topic."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        _propose(db, settings, _space(db, workspace), "faq")


@propose_app.command("doc")
def doc(task_id: Annotated[str, typer.Argument(metavar="TASK_ID", help="The task whose answer is the document")]) -> None:
    """A generated document (a task of kind docs) as a new page under the docs path."""
    try:
        task = uuid.UUID(task_id)
    except ValueError:
        raise InputError(f"TASK_ID: {task_id!r} is not a task id (a UUID)") from None
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        row = lifecycle.get(db, task)
        if row is None:
            raise InputError(f"TASK_ID: no task {task}")
        _propose(db, settings, _space(db, row["workspace"]), "doc", task_ids=[task])


@propose_app.command("gap")
def gap(
    title: Annotated[str, typer.Argument(help="The coverage gap's suggested title, as the Overview shows it")],
    workspace: Workspace = "default",
    hours: Annotated[int, typer.Option(help="The gaps of the last this many hours", min=1, max=720)] = 24,
) -> None:
    """A coverage gap as a page of the questions the docs do not answer yet."""
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        space = _space(db, workspace)
        found = proposals.coverage_gaps(db, choose_embedder(settings), space.name, hours)
        wanted = next((g for g in found if g.title.casefold() == " ".join(title.split()).casefold()), None)
        if wanted is None:
            known = "; ".join(g.title for g in found) or "none"
            raise InputError(f"TITLE: no coverage gap {title!r} in the last {hours} hours (there are: {known})")
        _propose(db, settings, space, "gap", title=wanted.title, task_ids=wanted.task_ids)


@docs_app.command("repository")
def repository(
    name: Annotated[str | None, typer.Argument(metavar="OWNER/NAME", help="Set it to this repository")] = None,
    base_branch: Annotated[str | None, typer.Option(help="Pull requests go into it [default: main]")] = None,
    docs_path: Annotated[str | None, typer.Option(help="The folder new pages go to [default: docs/]")] = None,
    faq_path: Annotated[str | None, typer.Option(help="The FAQ file [default: FAQ.md]")] = None,
    api_url: Annotated[str | None, typer.Option(help="GitHub's API [default: https://api.github.com]")] = None,
    token: Annotated[bool, typer.Option("--token", help="Ask for a new token (hidden): contents:write and "
                                                        "pull_requests:write")] = False,
    workspace: Workspace = "default",
) -> None:
    """Show the workspace's docs repository, or set it (the token is asked for the first time)."""
    if name is None and (token or any(v is not None for v in (base_branch, docs_path, faq_path, api_url))):
        raise InputError("OWNER/NAME: give the repository to change its settings")
    settings = load_settings()
    with _database(settings) as db:
        settings = _migrated(db, settings)
        space = _space(db, workspace)
        current = docs_repository.get(db, settings, space)
        if name is not None:
            raw = {"repository": name, "base_branch": base_branch, "docs_path": docs_path, "faq_path": faq_path,
                   "api_url": api_url}
            if current is not None:  # what is not given keeps its value
                raw = {key: value if value is not None else getattr(current, key) for key, value in raw.items()}
            if token or current is None:
                raw["token"] = typer.prompt("token", hide_input=True)
            try:
                current = docs_repository.save(db, settings, space, raw)
            except docs_repository.RepositoryError as exc:
                raise InputError(str(exc)) from None
        elif current is None:
            out.print(docs_repository.how_to_set(space.name), soft_wrap=True, markup=False)
            return
    shown = current.shown()
    for key in docs_repository.FIELDS:
        out.print(f"{key}: {shown[key]}", soft_wrap=True, markup=False, highlight=False)
