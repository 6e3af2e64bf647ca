"""`morningai slack …`: per-channel settings and the installed teams, from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.slack.installations import SlackInstallations
from core.config import load_settings
from hub.cli.channels import ON_OFF, print_channels, switch_follow_ups
from hub.cli.common import out
from hub.cli.local import _apply_migrations, _database
from worker import channels

slack = typer.Typer(no_args_is_help=True, help="Slack: channel settings and installed teams.")


@slack.command("follow-ups")
def follow_ups(
    channel: Annotated[str, typer.Argument(help="Channel id, like C0123ABCD (in the channel's details)")],
    state: ON_OFF,
) -> None:
    """Answer thread follow-ups in CHANNEL without a new mention (on), or not (off, the default)."""
    switch_follow_ups("slack", channel, state)


@slack.command("channels")
def list_channels() -> None:
    """Channels with settings of their own, and channels the bot was asked in (`morningai
    channels list slack`)."""
    with _database(load_settings()) as db:
        _apply_migrations(db)
        rows = channels.listing(db, "slack")
    print_channels(rows, "slack")


@slack.command("teams")
def teams() -> None:
    """Teams installed through OAuth, and the workspace each is answered from."""
    settings = load_settings()
    with _database(settings) as db:
        _apply_migrations(db)
        rows = SlackInstallations(db, settings.secret_key).teams()
    table = Table(box=None, pad_edge=False)
    for column in ("team", "name", "workspace", "installed", "scopes"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["install_key"], row["team_name"] or "", row["workspace"], f"{row['installed_at']:%Y-%m-%d}",
                      row["bot_scopes"])
    out.print(table if rows else "no team installed through OAuth (single-workspace mode answers in 'default')")
