"""`morningai channels …`: per-channel settings on Slack and Discord from the command line,
through the same checks as the dashboard (worker/channels.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from core.config import load_settings
from core.db import Database
from hub import wiring
from hub.cli.common import InputError, out
from hub.cli.local import _apply_migrations, _database, _open
from worker import channels

channels_app = typer.Typer(no_args_is_help=True, help=(
    "Per-channel settings on Slack and Discord: answer there or not, thread follow-ups, "
    "which knowledge sources and which kinds of request, and the support desk's answer mode."))

PLATFORM = Annotated[str, typer.Argument(help="slack or discord", metavar="PLATFORM")]
CHANNEL = Annotated[str, typer.Argument(help="The channel id (Slack: C0123ABCD; Discord: Copy Channel ID)")]


def set_channel(db: Database, platform: str, channel: str, body: dict[str, Any],
                checks: channels.Platforms | None = None) -> dict[str, Any]:
    """Check and store settings of one channel; bad input ends the command naming it. `checks`
    asks the platform what only it knows (needed when the body names a review channel or people)."""
    try:
        return channels.update(db, platform, channel, channels.validate(db, platform, channel, body, platforms=checks))
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
    for column in ("channel", "answers", "mode", "follow-ups", "sources", "kinds", "workspace", "changed"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["channel"], "yes" if row["enabled"] else "no", row["mode"], "on" if row["follow_ups"] else "off",
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
    mode: Annotated[str | None, typer.Option(
        help="mention: answer what is addressed to the bot; auto: also questions nobody tagged it in, when sure "
             "enough; draft: hold those answers for a person to publish")] = None,
    threshold: Annotated[str | None, typer.Option(
        help="auto mode: the confidence (0 to 1) an answer needs to be posted, or `default` for the calibrated one")] = None,
    unsure_reaction: Annotated[str | None, typer.Option(
        help="auto mode: react with this emoji when not sure enough (e.g. thinking_face), or `none` to stay silent")] = None,
    review_channel: Annotated[str | None, typer.Option(
        help="draft mode: the channel id drafts are posted in for review, or `none` for the dashboard only")] = None,
    people: Annotated[str | None, typer.Option(
        help="Who \"Ask a person\" calls on, comma-separated (Slack: S… user groups or U… users; "
             "Discord: role:<id> or user:<id>), or `none`")] = None,
    follow_up: Annotated[str | None, typer.Option(
        help="Ask once whether an answer helped this many minutes after it when nobody reacted, or `off`")] = None,
    follow_up_dms: Annotated[bool | None, typer.Option("--follow-up-dms/--no-follow-up-dms",
                                                      help="Also follow up in direct messages")] = None,
    workspace: Annotated[str | None, typer.Option(
        help="Whose sources --sources names [default: the workspace of the channel's last task, else default]")] = None,
) -> None:
    """Change some settings of one channel; the others keep their value."""
    body: dict[str, Any] = {name: value for name, value in (("enabled", enabled), ("follow_ups", follow_ups),
                                                            ("mode", mode), ("follow_up_dms", follow_up_dms))
                            if value is not None}
    if sources is not None:
        body["sources"] = _listed(sources)
    if kinds is not None:
        body["kinds"] = _listed(kinds)
    if threshold is not None:
        body["threshold"] = None if threshold == "default" else _number("--threshold", threshold, float)
    if unsure_reaction is not None:
        body["unsure_reaction"] = None if unsure_reaction == "none" else unsure_reaction
    if review_channel is not None:
        body["review_channel"] = None if review_channel == "none" else review_channel
    if people is not None:
        body["people"] = None if people == "none" else _listed(people)
    if follow_up is not None:
        body["follow_up_minutes"] = None if follow_up == "off" else _number("--follow-up", follow_up, int)
    if not body:
        raise InputError("say what to change: --enable/--disable, --follow-ups/--mention-only, --sources, --kinds, "
                         "--mode, --threshold, --unsure-reaction, --review-channel, --people, --follow-up")
    if workspace is not None:
        body["workspace"] = workspace
    settings = load_settings()
    if body.get("review_channel") or body.get("people"):
        # Only the platform can tell whether the bot can post there and who exists.
        rt = _open(settings)
        try:
            _apply_migrations(rt.db)
            row = set_channel(rt.db, platform, channel, body, checks=wiring.PlatformChecks(rt))
        finally:
            rt.close()
    else:
        with _database(settings) as db:
            _apply_migrations(db)
            row = set_channel(db, platform, channel, body)
    print_channels([{**row, "workspace": workspace}], platform)


def _number(option: str, value: str, kind: type):
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"{option}: {value!r} is not a {'whole ' if kind is int else ''}number") from None


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
