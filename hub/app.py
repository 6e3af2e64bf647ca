"""The web app factory: the admin API behind its login, health checks, and the dashboard's
built files; every error answered as JSON."""

from __future__ import annotations

from pathlib import Path

import psycopg
from flask import Flask, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import PathConverter

from hub import admin_api, api, auth, faq_api, health, knowledge, openapi
from hub.config import load_settings
from hub.runtime import Runtime

# `make run` (npm run build) puts the dashboard here.
DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard" / "dist"


class PageConverter(PathConverter):
    """Any path outside /api/: an unknown API route stays a 404 (or 405), never a page."""
    regex = r"(?!api(?:/|$))[^/].*?"


def create_app(runtime: Runtime | None = None, dashboard: Path = DASHBOARD) -> Flask:
    rt = runtime or Runtime.open(load_settings(), dashboard_settings=True)
    app = Flask("morningai", static_folder=None)
    app.config["MORNINGAI"] = rt
    app.config["SECRET_KEY"] = rt.settings.secret_key
    # Room for the longest allowed message in UTF-8 plus the JSON around it; more is a 413.
    app.config["MAX_CONTENT_LENGTH"] = 4 * rt.settings.max_message_chars + 4096
    app.json.sort_keys = False
    auth.install(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(knowledge.bp)
    app.register_blueprint(faq_api.bp)
    app.register_blueprint(admin_api.bp)
    app.register_blueprint(openapi.bp)

    app.url_map.converters["page"] = PageConverter

    @app.get("/")
    @app.get("/<page:path>")
    def dashboard_files(path: str = "index.html"):
        """The dashboard's files; any other path is one of its pages (the SPA fallback)."""
        if not (dashboard / "index.html").exists():
            raise NotFound("the dashboard is not built: run `make run`, or `npm ci && npm run build` in dashboard/")
        if (dashboard / path).is_file():
            return send_from_directory(dashboard, path)
        return send_from_directory(dashboard, "index.html")

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        if request.endpoint == "knowledge.add_source":
            return jsonify(error=f"file too large: at most {rt.settings.max_file_bytes} bytes "
                                 "(MORNINGAI_MAX_FILE_BYTES)"), 413
        limit = rt.settings.max_message_chars
        return jsonify(error=f"request body too large: a message may be at most {limit} characters"), 413

    @app.errorhandler(psycopg.DataError)
    def _unstorable(exc: psycopg.DataError):
        # Input PostgreSQL refuses as data (a NUL character, a number out of range): the
        # request's fault, so a 400 rather than a 500.
        return jsonify(error=f"a value in the request cannot be used: {str(exc).splitlines()[0]}"), 400

    @app.errorhandler(HTTPException)
    def _json_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    return app
