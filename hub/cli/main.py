"""The `morningai` command: run the hub and its parts, fill and search its knowledge.

Each command lives in a module of its own, imported when the command runs: `search` and `ask`
against a running hub need none of the agent, the platforms' libraries or the embedders that
`up` or `ingest` load, and `--help` needs none of them."""

from __future__ import annotations

import importlib
import sys

import click
import typer
from typer.core import TyperGroup

from hub.cli.common import CommandError, InputError, err

# name: (module, its Typer, the command in it or None for the whole Typer as a group, the line
# `morningai --help` shows). In the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str, str | None, str]] = {
    "config": ("hub.cli.run", "commands", "config", "Print the effective settings (secrets masked)."),
    "doctor": ("hub.cli.doctor", "commands", "doctor", "Check the set-up, one line per part, and say what to fix."),
    "migrate": ("hub.cli.run", "commands", "migrate", "Apply pending database migrations."),
    "rotate-secret-key": ("hub.cli.run", "commands", "rotate-secret-key",
                          "Re-encrypt stored tokens and secrets with a new MORNINGAI_SECRET_KEY."),
    "worker": ("hub.cli.run", "commands", "worker", "Run a worker that answers queued tasks."),
    "web": ("hub.cli.run", "commands", "web", "Serve the web app and API with gunicorn."),
    "up": ("hub.cli.run", "commands", "up", "Run the whole hub on this machine: services, migrations, web, workers."),
    "ingest": ("hub.cli.ingest", "commands", "ingest", "Add documents to a workspace's knowledge."),
    "search": ("hub.cli.search", "commands", "search",
               "Search a workspace's knowledge (through the running hub when there is one)."),
    "ask": ("hub.cli.ask", "commands", "ask", "Ask the running hub (or, if none is running, answer here)."),
    "faq": ("hub.cli.faq", "faq", None, "Draft FAQs from asked questions, review and export them."),
    "slack": ("hub.cli.slack", "slack", None, "Slack: channel settings and installed teams."),
    "discord": ("hub.cli.discord", "discord_app", None,
                "Connect Discord: run the bot, invite it, map guilds to workspaces."),
    "channels": ("hub.cli.channels", "channels_app", None, "Per-channel settings on Slack and Discord."),
    "sources": ("hub.cli.sources", "sources_app", None,
                "Knowledge kept in sync: GitHub, Confluence, Notion, web sites."),
    "docs": ("hub.cli.docs", "docs_app", None, "Propose doc changes to your docs repository as pull requests."),
}


class LazyCommands(TyperGroup):
    """The commands of COMMANDS, each module imported when its command is resolved to run; the
    help lists them from their one-line summaries without importing any."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.loaded or name not in COMMANDS:
            return self.loaded.get(name)
        return click.Command(name, help=COMMANDS[name][3])  # a summary, for the help's list

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] in COMMANDS and args[0] not in self.loaded:
            self.loaded[args[0]] = _load(args[0])
        return super().resolve_command(ctx, args)


def _load(name: str) -> click.Command:
    module, attr, command, _ = COMMANDS[name]
    group = typer.main.get_group(getattr(importlib.import_module(module), attr))
    return group.commands[command] if command else group


app = typer.Typer(cls=LazyCommands, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _hub() -> None:
    """MorningAI hub: your team's knowledge, answered in Slack and Discord."""


def main() -> None:
    try:
        app()
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        lines, code = failure
        for line in lines:
            err.print(line, markup=False, highlight=False)
        sys.exit(code)


def _failure(exc: Exception) -> tuple[list[str], int] | None:
    """The lines a command that failed with `exc` ends with, and its exit code; None for what
    is not a known failure. The libraries are imported here, not at the top: a command that
    raised one of their errors has imported them already, and one that did not need not."""
    import psycopg
    from redis.exceptions import RedisError

    from core import workspaces
    from core.config import ConfigError
    from hub.embedded import EmbeddedServiceError
    from memory.embedders import EmbeddingError

    if isinstance(exc, ConfigError):
        return [f"configuration error: {line}" for line in str(exc).splitlines()], 2
    if isinstance(exc, InputError):
        return [f"error: {exc}"], 2
    if isinstance(exc, (CommandError, EmbeddedServiceError, EmbeddingError, workspaces.UnknownWorkspace,
                        workspaces.EmbedderMismatch)):
        return [f"error: {exc}"], 1
    if isinstance(exc, psycopg.OperationalError):
        return [f"error: cannot reach PostgreSQL: {str(exc).splitlines()[0]}"], 1
    if isinstance(exc, RedisError):
        return [f"error: cannot reach Redis: {exc}"], 1
    return None
