"""`morningai channels …`: per-channel settings on Slack and Discord from the command line,
through the same checks as the dashboard (worker/channels.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from core.config import load_settings
from core.db import Database
from hub.cli.main import InputError, _apply_migrations, _database, out
from worker import channels

channels_app = typer.Typer(no_args_is_help=True, help=(
    "Per-channel settings on Slack and Discord: answer there or not, thread follow-ups, "
    "which knowledge sources and which kinds of request."))

PLATFORM = Annotated[str, typer.Argument(help="slack or discord", metavar="PLATFORM")]
CHANNEL = Annotated[str, typer.Argument(help="The channel id (Slack: C0123ABCD; Discord: Copy Channel ID)")]


def set_channel(db: Database, platform: str, channel: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check and store settings of one channel; bad input ends the command naming it."""
    try:
        return channels.update(db, platform, channel, channels.validate(db, platform, channel, body))
    except channels.SettingsError as exc:
        raise InputError(str(exc)) from None


ON_OFF = Annotated[str, typer.Argument(help="on: answer replies in threads the bot answered without a mention; "
                                            "off: only when mentioned", metavar="on|off")]


def switch_follow_ups(platform: str, channel: str, state: str) -> None:
    """`morningai slack|discord follow-ups CHANNEL on|off`: the shorthand both platforms share."""
    if state not in ("on", "off"):
        raise InputError(f"say on or off, not {state!r}")
    with _database(load_settings()) as db:
        _apply_migrations(db)
        set_channel(db, platform, channel, {"follow_ups": state == "on"})
    out.print(f"thread follow-ups in {channel}: {state}")


def print_channels(rows: list[dict[str, Any]], platform: str) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("channel", "answers", "follow-ups", "sources", "kinds", "workspace", "changed"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["channel"], "yes" if row["enabled"] else "no", "on" if row["follow_ups"] else "off",
                      ", ".join(row["sources"]) if row["sources"] else "all",
                      ", ".join(row["kinds"]) if row["kinds"] else "all", row["workspace"] or "",
                      (row["updated_at"] or "")[:16].replace("T", " "))
    out.print(table if rows else f"no {channels.NAMES[platform]} channel has settings or tasks yet: every channel "
                                 "answers mentions, from every source, every kind")


@channels_app.command("list")
def list_channels(platform: PLATFORM) -> None:
    """Channels with settings of their own, and channels the bot was asked in."""
    if platform not in channels.PLATFORMS:
        raise InputError(f"PLATFORM: {platform!r} is not one of {', '.join(channels.PLATFORMS)}")
    with _database(load_settings()) as db:
        _apply_migrations(db)
        rows = channels.listing(db, platform)
    print_channels(rows, platform)


def _listed(value: str) -> list[str] | None:
    return None if value == "all" else [item.strip() for item in value.split(",") if item.strip()]


@channels_app.command("set")
def set_command(
    platform: PLATFORM,
    channel: CHANNEL,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Answer in this channel at all")] = None,
    follow_ups: Annotated[bool | None, typer.Option(
        "--follow-ups/--mention-only", help="Answer replies in threads the bot answered without a new mention")] = None,
    sources: Annotated[str | None, typer.Option(
        help="Comma-separated source ids (`GET /api/knowledge/sources`), or `all`")] = None,
    kinds: Annotated[str | None, typer.Option(help="Comma-separated kinds (ask, code, docs, faq, help), or `all`")] = None,
    workspace: Annotated[str | None, typer.Option(
        help="Whose sources --sources names [default: the workspace of the channel's last task, else default]")] = None,
) -> None:
    """Change some settings of one channel; the others keep their value."""
    body: dict[str, Any] = {name: value for name, value in (("enabled", enabled), ("follow_ups", follow_ups))
                            if value is not None}
    if sources is not None:
        body["sources"] = _listed(sources)
    if kinds is not None:
        body["kinds"] = _listed(kinds)
    if not body:
        raise InputError("say what to change: --enable/--disable, --follow-ups/--mention-only, --sources, --kinds")
    if workspace is not None:
        body["workspace"] = workspace
    with _database(load_settings()) as db:
        _apply_migrations(db)
        row = set_channel(db, platform, channel, body)
    print_channels([{**row, "workspace": workspace}], platform)


@channels_app.command("reset")
def reset_command(platform: PLATFORM, channel: CHANNEL) -> None:
    """Put a channel back to the defaults: answers mentions, from every source, every kind."""
    with _database(load_settings()) as db:
        _apply_migrations(db)
        try:
            had = channels.reset(db, platform, channel)
        except channels.SettingsError as exc:
            raise InputError(str(exc)) from None
    out.print(f"{channel}: back to the defaults" if had else f"{channel} had no settings of its own")
