"""`morningai ask`: a question to the running hub, through its API as the admin, or, when no
hub is running, answered in this process by the same worker code."""

from __future__ import annotations

import os
import time
import uuid
from typing import Annotated

import requests
import typer
from rich.markdown import Markdown

from core.config import Settings, load_settings
from core.models import FINISHED, KINDS, ChatTask
from hub import wiring
from hub.cli.main import CommandError, _jsonable, _migrated, _open, err, out
from tasks import lifecycle
from worker import process


def _hub_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.port}"


def _hub_session(url: str, settings: Settings) -> requests.Session:
    """A session logged in to the hub with MORNINGAI_ADMIN_EMAIL / _PASSWORD, sending the CSRF
    token the login returns. Raises requests.ConnectionError when no hub answers at `url`."""
    http = requests.Session()
    if not (settings.admin_email and settings.admin_password):
        raise CommandError(f"the hub at {url} needs a login: set MORNINGAI_ADMIN_EMAIL and "
                           "MORNINGAI_ADMIN_PASSWORD (in the environment or .env) to a dashboard user's")
    response = http.post(f"{url}/api/auth/login", timeout=10, json={
        "email": settings.admin_email, "password": settings.admin_password.get_secret_value()})
    if response.status_code != 200:
        raise CommandError(f"could not log in to the hub at {url} as {settings.admin_email}: "
                           f"{response.json().get('error', response.text)}")
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


def _ask_running_hub(url: str, settings: Settings, text: str, kind: str, workspace: str,
                     timeout: float) -> dict | None:
    """The finished task from the hub at `url`, or None if no hub answers there."""
    try:
        requests.get(f"{url}/healthz", timeout=5)
    except requests.ConnectionError:
        return None
    http = _hub_session(url, settings)
    response = http.post(f"{url}/api/messages", json={"text": text, "kind": kind, "workspace": workspace},
                         timeout=5)
    if response.status_code >= 400:
        raise CommandError(f"the hub at {url} refused the message: {response.json().get('error', response.text)}")
    task_url = f"{url}{response.json()['url']}"
    deadline = time.monotonic() + timeout
    task = {"status": "received"}
    while time.monotonic() < deadline:
        try:
            task = http.get(task_url, timeout=5).json()
        except requests.RequestException as exc:
            raise CommandError(f"lost the hub at {url} while waiting for {task_url}: {exc}") from None
        if task["status"] in FINISHED:
            return task
        time.sleep(0.05)
    raise CommandError(f"no reply within {timeout:.0f}s; the task is still {task['status']}: see {task_url}")


def _ask_in_process(settings: Settings, text: str, kind: str, workspace: str) -> dict:
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
    url = _hub_url(settings)
    task = _ask_running_hub(url, settings, text, kind, workspace, timeout)
    where = f"answered by the hub at {url}"
    if task is None:
        err.print(f"[dim]no hub running at {url}; answering in this process[/dim]")
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
