"""The web app factory: the message API, health checks and, when configured, Discord's
interactions endpoint; every error answered as JSON."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from adapters.discord import endpoint as discord_endpoint
from adapters.discord.interactions import Hub as DiscordHub
from hub import api, discord_store, faq_api, health, knowledge, tasks
from hub.config import load_settings
from hub.runtime import Runtime


def create_app(runtime: Runtime | None = None) -> Flask:
    rt = runtime or Runtime.open(load_settings())
    app = Flask("morningai")
    app.config["MORNINGAI"] = rt
    app.config["SECRET_KEY"] = rt.settings.secret_key
    # Room for the longest allowed message in UTF-8 plus the JSON around it; more is a 413.
    app.config["MAX_CONTENT_LENGTH"] = 4 * rt.settings.max_message_chars + 4096
    app.json.sort_keys = False
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(knowledge.bp)
    app.register_blueprint(faq_api.bp)
    if rt.settings.discord_public_key:
        app.register_blueprint(discord_endpoint.blueprint(discord_hub(rt), rt.settings.discord_public_key))

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        limit = rt.settings.max_message_chars
        return jsonify(error=f"request body too large: a message may be at most {limit} characters"), 413

    @app.errorhandler(HTTPException)
    def _json_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    return app


def discord_hub(rt: Runtime) -> DiscordHub:
    """What the Discord adapter (endpoint and gateway bot) may do with the hub."""
    return DiscordHub(
        submit=lambda task: tasks.submit(rt.db, rt.queue, task),
        workspace_for_guild=lambda guild_id: discord_store.workspace_for_guild(rt.db, guild_id),
        record_feedback=lambda task_id, user, vote: discord_store.record_feedback(rt.db, task_id, user, vote),
        follow_ups=lambda channel: discord_store.follow_ups(rt.db, channel),
        answered_in_thread=lambda channel, thread: tasks.answered_in_thread(rt.db, "discord", channel, thread),
        max_chars=rt.settings.max_message_chars)
