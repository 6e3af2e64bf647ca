"""`morningai ask`: a question to the running hub, through its API as the admin, or, when no
hub is running, answered in this process by the same worker code."""

from __future__ import annotations

import os
import time
import uuid
from typing import Annotated

import typer
from rich.markdown import Markdown

from core.config import Settings, load_settings
from core.models import FINISHED, KINDS, ChatTask
from hub.cli.common import CommandError, _jsonable, err, out
from hub.cli.hub_client import Hub, NoHub

commands = typer.Typer()


def _ask_running_hub(hub: Hub, text: str, kind: str, workspace: str, timeout: float) -> dict:
    """The finished task from the running hub."""
    answer = hub.post("/api/messages", {"text": text, "kind": kind, "workspace": workspace})
    if answer.status >= 400:
        raise CommandError(f"the hub at {hub.url} refused the message: {answer.refusal}")
    task_path = answer.json()["url"]
    deadline = time.monotonic() + timeout
    task = {"status": "received"}
    while time.monotonic() < deadline:
        answer = hub.get(task_path, timeout=5)
        if answer.status >= 400:
            raise CommandError(f"the hub at {hub.url} lost track of {task_path}: {answer.refusal}")
        task = answer.json()
        if task["status"] in FINISHED:
            return task
        time.sleep(0.05)
    raise CommandError(f"no reply within {timeout:.0f}s; the task is still {task['status']}: "
                       f"see {hub.url}{task_path}")


def _ask_in_process(settings: Settings, text: str, kind: str, workspace: str) -> dict:
    # Imported here: the agent and the worker are loaded only when answering in this process.
    from hub import wiring
    from hub.cli.local import _migrated, _open
    from tasks import lifecycle
    from worker import process

    rt = _open(settings)
    try:
        rt.settings = _migrated(rt.db, settings)
        task = ChatTask(platform="web", workspace=workspace, platform_event_id=str(uuid.uuid4()),
                        text=text, kind=kind, channel="cli", user=os.environ.get("USER", ""))
        try:
            submitted = lifecycle.submit(rt.db, rt.queue, task)
        except lifecycle.UnknownWorkspace:
            raise CommandError(f"no workspace named {workspace!r}") from None
        process.run_in_process(wiring.for_worker(rt))
        return _jsonable(lifecycle.get(rt.db, submitted.task_id))
    finally:
        rt.close()


@commands.command()
def ask(
    text: Annotated[str, typer.Argument(help="Your question or request")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}")] = "ask",
    workspace: Annotated[str, typer.Option(help="Workspace whose knowledge to use")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole task as JSON")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reply")] = 120,
) -> None:
    """Ask the running hub (or, if none is running, answer in this process)."""
    if kind not in KINDS:
        raise CommandError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    if not text.strip():
        raise CommandError("the question is empty")
    settings = load_settings()
    hub = Hub(settings)
    try:
        task = _ask_running_hub(hub, text, kind, workspace, timeout)
        where = f"answered by the hub at {hub.url}"
    except NoHub:
        err.print(f"[dim]no hub running at {hub.url}; answering in this process "
                  "(loading the agent and the embedder)[/dim]")
        task = _ask_in_process(settings, text, kind, workspace)
        where = "answered in this process (no hub was running)"
    if as_json:
        out.print_json(data=task)
    else:
        _print_reply(task, where)
    if task["status"] != "posted":
        raise typer.Exit(1)


def _print_reply(task: dict, where: str) -> None:
    reply = task.get("reply") or {}
    out.print(Markdown(reply.get("text") or f"(no reply: {task.get('error')})"))
    for block in reply.get("code", []):
        out.print(Markdown(f"```{block['language']}\n{block['code']}\n```"))
    for n, citation in enumerate(reply.get("citations", []), 1):
        out.print(f"[{n}] {citation['title']} — {citation['location']}")
    out.print(f"[dim]{where} · task {task['id']} · trace {task['trace_id']}[/dim]", soft_wrap=True)
