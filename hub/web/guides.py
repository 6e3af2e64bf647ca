"""The guided connection of Slack and Discord: what to paste where, built on the hub's public
URL (MORNINGAI_PUBLIC_URL) — Slack's app manifest with every URL Slack calls filled in, and the
link that creates the app from it; Discord's invite URL and its Interactions Endpoint URL. The
secrets the platforms hand back are saved through the secrets API (hub/web/admin.py). Behind
the admin login, like every /api route."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify

from adapters.discord import commands as discord_commands
from adapters.discord import endpoint as discord_endpoint
from adapters.slack import manifest as slack_manifest
from hub.web import common

bp = Blueprint("guides", __name__, url_prefix="/api/integrations")

# Names a platform's servers can never reach, whatever the scheme.
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def _public_url_problem(platform: str) -> str | None:
    """Why `platform` could not call the hub at its public URL, in words that say what to set;
    None when it could (as far as the address tells)."""
    url = common.runtime().settings.public_url
    need = (f"{platform} sends its requests there, so it must be an https address that reaches this hub "
            "from the internet, e.g. https://morningai.example.com (on a laptop, a tunnel such as "
            "`cloudflared tunnel --url http://localhost:8000` gives one)")
    if not url:
        return f"Set this hub's public URL first (MORNINGAI_PUBLIC_URL, in Settings or the hub's environment): {need}."
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"The public URL {url} is not https: {need}."
    if parts.hostname in _LOCAL_HOSTS or (parts.hostname or "").endswith(".localhost"):
        return f"The public URL {url} is this machine's own name, which {platform} cannot reach: {need}."
    return None


@bp.get("/slack/manifest")
def slack_app_manifest():
    """The Slack app manifest for this hub, as YAML and as JSON, and the link that opens Slack's
    "create an app from a manifest" page filled in with it; 409 while the public URL is unset or
    unusable, saying what to set."""
    problem = _public_url_problem("Slack")
    if problem:
        return common.error(problem, 409)
    public_url = common.runtime().settings.public_url
    text, manifest = slack_manifest.filled(public_url)
    return jsonify(public_url=public_url, yaml=text, json=manifest, create_url=slack_manifest.create_app_url(manifest))


@bp.get("/discord/setup")
def discord_setup():
    """What the Developer Portal and a server's owner are given: the Interactions Endpoint URL
    (null, with the reason, while the public URL is unset or unusable) and the invite URL (null,
    with the reason, while DISCORD_APPLICATION_ID is unset)."""
    settings = common.runtime().settings
    problem = _public_url_problem("Discord")
    application_id = settings.discord_application_id
    return jsonify(
        interactions_url=None if problem else settings.public_url + discord_endpoint.PATH,
        interactions_url_problem=problem,
        invite_url=discord_commands.invite_url(application_id) if application_id else None,
        invite_url_problem=None if application_id else (
            "Set DISCORD_APPLICATION_ID in the hub's environment: the Application ID on your application's "
            "General Information page in the Discord Developer Portal (https://discord.com/developers/applications)."),
        scopes=list(discord_commands.SCOPES), permissions=list(discord_commands.PERMISSIONS))
