"""The integrations API: each chat platform's status and how to connect it; the Slack teams
installed through OAuth and the Discord guilds, each listed, answered from a workspace, or
disconnected; Test connection; and every platform's per-channel settings (worker/channels.py).
Behind the admin login, like every /api route (hub/web/auth.py).

Disconnecting reaches the platform (Slack's `auth.revoke`, Discord's "leave guild") through
`Connectors`, which the app factory wires from the adapters: the hub's API holds no
platform's client. The platform's answer is reported; our side is done either way, because
an admin who asked to disconnect must not be left with a team or guild still answered here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, request

from adapters.discord import guilds
from adapters.slack.installations import SlackInstallations
from core import workspaces
from core.models import SNOWFLAKE
from hub.admin import connections
from hub.web import common
from tasks import stats
from worker import channels

log = logging.getLogger(__name__)

bp = Blueprint("integrations", __name__, url_prefix="/api")

# Which settings make a platform work; a platform is configured when every setting of one of
# its alternatives is set.
INTEGRATIONS = {
    "slack": {"name": "Slack", "alternatives": [("slack_signing_secret", "slack_bot_token"),
                                                ("slack_signing_secret", "slack_client_id", "slack_client_secret")]},
    "discord": {"name": "Discord", "alternatives": [("discord_bot_token", "discord_application_id"),
                                                    ("discord_public_key", "discord_application_id")]},
}


@dataclass(frozen=True)
class Connectors:
    """What the admin API may ask of the platforms, wired by the app factory."""

    # Each answers None when done, else why not (Slack's or Discord's refusal, or no answer).
    revoke_slack_token: Callable[[str], str | None]
    leave_discord_guild: Callable[[str], str | None] | None  # None: no bot token to leave with
    discord_invite_url: str | None  # None: no application id to invite
    # What only the platforms can tell about a channel's settings: can the bot post in a review
    # channel, do the people "Ask a person" calls on exist.
    channel_checks: channels.Platforms
    # Test connection (hub/admin/connections.py): the platform's answer to "who am I?".
    test_connection: Callable[[str], connections.Tested]


def _connectors() -> Connectors:
    # A function of the settings in force, which a secret saved in the dashboard changes.
    return current_app.config["MORNINGAI_CONNECTORS"]()


def _installations() -> SlackInstallations:
    settings = common.runtime().settings
    return SlackInstallations(common.runtime().db, settings.secret_key, settings.previous_secret_key)


@bp.get("/integrations")
def integrations():
    """Each chat platform: whether its settings are present (names only, never a value), and
    where to connect a team or a server."""
    settings = common.runtime().settings
    platforms = [{"platform": "web", "name": "Web playground", "configured": True, "settings": [],
                  "connect_url": None}]
    for platform, spec in INTEGRATIONS.items():
        names = sorted({name for alternative in spec["alternatives"] for name in alternative})
        present = {name for name in names if getattr(settings, name, None)}
        platforms.append({
            "platform": platform, "name": spec["name"],
            "configured": any(set(alternative) <= present for alternative in spec["alternatives"]),
            "settings": [{"variable": name.upper(), "set": name in present} for name in names],
            "connect_url": _slack_install_url() if platform == "slack" else _connectors().discord_invite_url})
    return jsonify(integrations=platforms)


def _slack_install_url() -> str | None:
    """Where a team installs the app: only in multi-workspace (OAuth) mode."""
    settings = common.runtime().settings
    return "/slack/install" if settings.slack_enabled and settings.slack_oauth_enabled else None


def _workspace_name(body) -> str:
    """The workspace a request names; raises ValueError saying which exist."""
    if not isinstance(body, dict) or not isinstance(body.get("workspace"), str) or set(body) != {"workspace"}:
        raise ValueError('send JSON {"workspace": "NAME"}')
    db = common.runtime().db
    if workspaces.find(db, body["workspace"]) is None:
        raise ValueError(f"workspace: no workspace named {body['workspace']!r}; the workspaces are "
                         f"{', '.join(workspaces.all_names(db))}")
    return body["workspace"]


@bp.post("/integrations/<platform>/test")
def test_connection(platform: str):
    """Ask the platform (Slack's auth.test, Discord's /users/@me, the model server's /models),
    with the secrets in force, who the hub is: `ok`, in words, and the platform's own answer or
    error text. A refusal is still a 200: the test ran, and its answer is the refusal."""
    if platform not in connections.PLATFORMS:
        return common.error(f"platform: {platform!r} is not one of {', '.join(connections.PLATFORMS)}", 404)
    common.runtime().refresh_settings()  # the secret pasted a moment ago is the one tested
    try:
        tested = _connectors().test_connection(platform)
    except connections.NotConfigured as exc:
        return common.error(str(exc), 409)
    return jsonify(platform=platform, ok=tested.ok, message=tested.message, answer=tested.answer)


# --- Slack teams ---------------------------------------------------------------------------

@bp.get("/integrations/slack/teams")
def slack_teams():
    """Teams installed through OAuth (never their tokens), and the team of SLACK_BOT_TOKEN."""
    settings = common.runtime().settings
    teams = [{"install_key": row["install_key"], "team_id": row["team_id"], "enterprise_id": row["enterprise_id"],
              "team_name": row["team_name"], "enterprise_install": row["is_enterprise_install"],
              "workspace": row["workspace"], "scopes": [s for s in row["bot_scopes"].split(",") if s],
              "installed_at": row["installed_at"].isoformat()} for row in _installations().teams()]
    single = {"workspace": "default", "configured_by": "SLACK_BOT_TOKEN"} if settings.slack_bot_token else None
    return jsonify(teams=teams, single_workspace=single, connect_url=_slack_install_url())


@bp.put("/integrations/slack/teams/<install_key>")
def map_slack_team(install_key: str):
    try:
        workspace = _workspace_name(request.get_json(silent=True))
    except ValueError as exc:
        return common.error(str(exc))
    if _installations().answer_from(install_key, workspace) is None:
        return common.error(f"no Slack team installed as {install_key!r}", 404)
    return jsonify(install_key=install_key, workspace=workspace)


@bp.delete("/integrations/slack/teams/<install_key>")
def disconnect_slack_team(install_key: str):
    """Forget the team's install and revoke its token at Slack. The workspace and its knowledge
    stay; the team can install again at /slack/install."""
    found, token = _installations().remove(install_key)
    if not found:
        return common.error(f"no Slack team installed as {install_key!r}", 404)
    warning = None
    if token is None:
        warning = "the stored token opens with no key this hub holds, so Slack was not asked to revoke it"
    else:
        problem = _connectors().revoke_slack_token(token)
        if problem is not None:
            log.warning("Slack did not revoke the token of team %s: %s", install_key, problem)
            warning = f"Slack did not revoke the token ({problem})"
    if warning:
        warning += "; remove the app in the team's Slack settings (Manage apps) to be sure"
    return jsonify(install_key=install_key, disconnected=True, revoked=warning is None, warning=warning)


# --- Discord guilds ------------------------------------------------------------------------

@bp.get("/integrations/discord/guilds")
def discord_guilds():
    """Guilds mapped to a workspace, and guilds the bot was asked in (answered from `default`
    until mapped)."""
    db = common.runtime().db
    mapped = {row["guild_id"]: row for row in guilds.guild_mappings(db)}
    seen = {row["value"]: row for row in stats.targets_seen(db, "discord", "guild_id")}
    listed = [{"guild_id": guild, "mapped": guild in mapped,
               "workspace": mapped[guild]["workspace"] if guild in mapped else guilds.DEFAULT_WORKSPACE,
               "last_task_at": seen[guild]["last_seen"].isoformat() if guild in seen else None}
              for guild in sorted(mapped.keys() | seen.keys())]
    connectors = _connectors()
    return jsonify(guilds=listed, connect_url=connectors.discord_invite_url,
                   can_leave=connectors.leave_discord_guild is not None)


def _check_guild(guild_id: str) -> None:
    if not SNOWFLAKE.match(guild_id):
        raise ValueError(f"guild: {guild_id!r} is not a Discord server id (Server Settings → Widget, "
                         "or right-click the server → Copy Server ID)")


@bp.put("/integrations/discord/guilds/<guild_id>")
def map_discord_guild(guild_id: str):
    try:
        _check_guild(guild_id)
        workspace = _workspace_name(request.get_json(silent=True))
    except ValueError as exc:
        return common.error(str(exc))
    guilds.map_guild(common.runtime().db, guild_id, workspace)
    return jsonify(guild_id=guild_id, workspace=workspace, mapped=True)


@bp.delete("/integrations/discord/guilds/<guild_id>")
def disconnect_discord_guild(guild_id: str):
    """The bot leaves the guild and its mapping goes (its workspace stays)."""
    try:
        _check_guild(guild_id)
    except ValueError as exc:
        return common.error(str(exc))
    leave = _connectors().leave_discord_guild
    warning = None
    if leave is None:
        warning = "DISCORD_BOT_TOKEN is not set, so the bot cannot leave by itself"
    else:
        problem = leave(guild_id)
        if problem is not None:  # Discord's refusal (not a member: 404) or no answer
            log.warning("the bot could not leave Discord guild %s: %s", guild_id, problem)
            warning = f"the bot could not leave the server ({problem})"
    unmapped = guilds.unmap_guild(common.runtime().db, guild_id)
    if warning and not unmapped:
        return common.error(f"guild {guild_id} is not mapped here, and {warning}", 404)
    if warning:
        warning += "; remove the bot in the server's settings (Integrations) to be sure"
    return jsonify(guild_id=guild_id, disconnected=True, left=warning is None, warning=warning)


# --- per-channel settings ------------------------------------------------------------------

def _platform(platform: str) -> None:
    if platform not in channels.PLATFORMS:
        raise channels.SettingsError(f"platform: {platform!r} is not one of {', '.join(channels.PLATFORMS)}")


@bp.errorhandler(channels.SettingsError)
def _bad_settings(exc: channels.SettingsError):
    status = 404 if str(exc).startswith("platform:") else 400
    return common.error(str(exc), status)


@bp.get("/channels/<platform>")
def list_channels(platform: str):
    """Channels with settings of their own, and channels the bot was asked in."""
    _platform(platform)
    return jsonify(platform=platform, channels=channels.listing(common.runtime().db, platform))


@bp.put("/channels/<platform>/<channel>")
def set_channel(platform: str, channel: str):
    """Change some of a channel's settings; those not sent keep their value. Everything sent
    is checked before anything is stored."""
    _platform(platform)
    db = common.runtime().db
    changes = channels.validate(db, platform, channel, request.get_json(silent=True),
                                platforms=_connectors().channel_checks)
    return jsonify(platform=platform, **channels.update(db, platform, channel, changes))


@bp.delete("/channels/<platform>/<channel>")
def reset_channel(platform: str, channel: str):
    """Back to the defaults: answers mentions, from every source, every kind."""
    _platform(platform)
    if not channels.reset(common.runtime().db, platform, channel):
        return common.error(f"{platform} channel {channel} has no settings of its own", 404)
    return "", 204
