"""`morningai discord …`: run the gateway bot, print the invite URL, register the slash
commands (for HTTP-interactions mode), and map guilds and channels to the hub's settings."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.discord import bot, commands, guilds
from adapters.discord.commands import PERMISSIONS, SCOPES, sync_commands
from adapters.discord.rest import DiscordError, DiscordREST
from core.config import Settings, load_settings
from core.models import SNOWFLAKE
from hub.cli.channels import ON_OFF, switch_follow_ups
from hub.cli.common import CommandError, InputError, out
from hub.cli.local import _database, _migrated, _open, _setup_logging
from hub.wiring import discord_hub, follow_dashboard

discord_app = typer.Typer(help="Connect Discord: run the bot, invite it, map guilds to workspaces.")


def _needs(settings: Settings, *names: str) -> None:
    missing = [name for name in names if not getattr(settings, name.lower())]
    if missing:
        raise CommandError(f"set {' and '.join(missing)} first (the application's pages in the "
                           "Discord Developer Portal; README: Connect Discord)")


def _rest(settings: Settings) -> DiscordREST:
    return DiscordREST(settings.discord_api_url, settings.discord_bot_token.get_secret_value())


@discord_app.callback(invoke_without_command=True)
def discord(ctx: typer.Context) -> None:
    """Run the gateway bot: slash commands, mentions, `!ask` and thread follow-ups become tasks
    that the workers answer."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    _setup_logging(settings)
    rt = _open(settings)
    try:
        _needs(settings, "DISCORD_APPLICATION_ID")
        # The bot token may be set in the dashboard, now or later, as for the web app and the
        # workers: the bot connects, or connects anew, within seconds of it being saved.
        follow_dashboard(rt)

        def token() -> str | None:
            secret = rt.settings.discord_bot_token
            return secret.get_secret_value() if secret else None

        bot.run(discord_hub(rt), token=token,
                rest=lambda bot_token: DiscordREST(settings.discord_api_url, bot_token),
                application_id=settings.discord_application_id, guild_ids=settings.discord_guild_ids,
                api_url=settings.discord_api_url, gateway_url=settings.discord_gateway_url)
    finally:
        rt.close()


@discord_app.command("invite-url")
def invite_url() -> None:
    """Print the URL that adds the bot to a server, with the scopes and permissions it needs."""
    settings = load_settings()
    _needs(settings, "DISCORD_APPLICATION_ID")
    out.print(commands.invite_url(settings.discord_application_id), soft_wrap=True, highlight=False)
    out.print(f"[dim]scopes: {', '.join(SCOPES)}; permissions: {', '.join(PERMISSIONS)}[/dim]", soft_wrap=True)


@discord_app.command("sync-commands")
def sync_commands_command() -> None:
    """Register /ask, /code, /docs, /faq and /help (only where they changed). The gateway bot
    does this when it starts; HTTP-interactions mode, which runs no bot, needs it once."""
    settings = load_settings()
    with _database(settings) as db:  # the bot token may have been set in the dashboard
        settings = _migrated(db, settings)
    _needs(settings, "DISCORD_BOT_TOKEN", "DISCORD_APPLICATION_ID")
    try:
        for line in sync_commands(_rest(settings), settings.discord_application_id, settings.discord_guild_ids):
            out.print(line)
    except DiscordError as exc:
        raise CommandError(str(exc)) from None


@discord_app.command("map")
def map_guild(
    guild: Annotated[str, typer.Argument(help="The guild (server) id")],
    workspace: Annotated[str, typer.Argument(help="The workspace its questions are answered from")],
) -> None:
    """Answer a guild from a workspace (unmapped guilds use `default`)."""
    if not SNOWFLAKE.match(guild):
        raise InputError(f"GUILD: {guild!r} is not a Discord id (Server Settings → Widget, or Copy Server ID)")
    with _database(load_settings()) as db:
        if not guilds.map_guild(db, guild, workspace):
            raise InputError(f"WORKSPACE: no workspace named {workspace!r}")
    out.print(f"guild {guild} is answered from workspace {workspace!r}")


@discord_app.command("guilds")
def list_guilds() -> None:
    """The guilds mapped to a workspace other than the default."""
    with _database(load_settings()) as db:
        rows = guilds.guild_mappings(db)
    table = Table(box=None, pad_edge=False)
    for column in ("guild", "workspace", "since"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["guild_id"], row["workspace"], row["updated_at"].isoformat(timespec="seconds"))
    out.print(table if rows else "no guild is mapped: every guild is answered from workspace 'default'")


@discord_app.command("follow-ups")
def follow_ups(
    channel: Annotated[str, typer.Argument(help="The channel (or thread) id")],
    state: ON_OFF,
) -> None:
    """Answer thread follow-ups in CHANNEL without a new mention (on), or not (off, the default)."""
    switch_follow_ups("discord", channel, state)
