"""The web app factory: the message API and health checks, every error answered as JSON."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from hub import api, faq_api, health, knowledge
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

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        limit = rt.settings.max_message_chars
        return jsonify(error=f"request body too large: a message may be at most {limit} characters"), 413

    @app.errorhandler(HTTPException)
    def _json_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    return app
