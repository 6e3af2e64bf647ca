"""The web app factory: the admin API behind its login, health checks, the dashboard's built
files and, when configured, the Slack and Discord endpoints; every error of ours answered as JSON."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from flask import Flask, g, jsonify, request, send_from_directory
from flask_compress import Compress
from slack_bolt.adapter.flask import SlackRequestHandler
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import PathConverter

from adapters.discord import endpoint as discord_endpoint
from adapters.slack import envelope
from adapters.slack.bolt_app import OAuth, create_bolt_app
from adapters.slack.installations import SlackInstallations, SlackOAuthStates
from core import logs
from core.config import Settings, load_settings
from core.refusals import Refused
from core.runtime import Runtime
from hub import wiring
from hub.mcp import endpoint as mcp_endpoint
from hub.web import (
    admin,
    analytics,
    auth,
    faqs,
    feedback,
    guides,
    health,
    integrations,
    knowledge,
    messages,
    metrics,
    openapi,
    proposals,
    tokens,
    webhooks,
)

# `make run` (npm run build) puts the dashboard here.
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard" / "dist"
ASSET_MAX_AGE = 365 * 24 * 3600

requests_log = logging.getLogger("hub.requests")
refusals_log = logging.getLogger("hub.refusals")


class PageConverter(PathConverter):
    """Any path outside /api/: an unknown API route stays a 404 (or 405), never a page."""
    regex = r"(?!api(?:/|$))[^/].*?"


def create_app(runtime: Runtime | None = None, dashboard: Path = DASHBOARD) -> Flask:
    rt = runtime or wiring.open_runtime(load_settings(), dashboard_settings=True)
    app = Flask("morningai", static_folder=None)
    app.config["MORNINGAI"] = rt
    app.debug = rt.settings.debug
    # No SECRET_KEY: logins are server-side sessions (hub/web/auth.py), so Flask's signed-cookie
    # session is unused, and without a key Flask skips building its serializer on every request.
    # Room for the longest allowed message in UTF-8 plus the JSON around it; more is a 413.
    app.config["MAX_CONTENT_LENGTH"] = 4 * rt.settings.max_message_chars + 4096
    app.json.sort_keys = False
    # First: every request is timed and traced, the ones the login guard turns away included.
    metrics.instrument(app)
    _trace_requests(app)
    auth.install(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(knowledge.bp)
    app.register_blueprint(faqs.bp)
    app.register_blueprint(proposals.bp)
    app.register_blueprint(integrations.bp)
    app.register_blueprint(guides.bp)
    app.config["MORNINGAI_CONNECTORS"] = wiring.connectors(rt)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(tokens.bp)
    mcp_endpoint.mount(app, rt)
    app.register_blueprint(webhooks.bp)
    _mount_slack(app, rt)
    # Mounted whether or not a public key is set yet: one saved in the dashboard applies at once.
    app.register_blueprint(discord_endpoint.blueprint(
        wiring.discord_hub(rt), lambda: rt.settings.discord_public_key))

    app.url_map.converters["page"] = PageConverter
    # Only the dashboard's files are compressed: API answers are small, and the platforms'
    # endpoints are kept free of any per-request work they do not need.
    app.config["COMPRESS_REGISTER"] = False
    # Files are sent as streams, which flask-compress leaves out of gzip by default; every
    # browser takes gzip, where brotli is only offered over HTTPS.
    app.config["COMPRESS_ALGORITHM_STREAMING"] = ["zstd", "br", "gzip", "deflate"]
    compress = Compress(app)

    @app.get("/")
    @app.get("/<page:path>")
    @compress.compressed()
    def dashboard_files(path: str = "index.html"):
        """The dashboard's files; any other path is one of its pages (the SPA fallback)."""
        if not (dashboard / "index.html").exists():
            raise NotFound("the dashboard is not built: run `make run`, or `npm ci && npm run build` in dashboard/")
        if (dashboard / path).is_file():
            # Vite names a built asset after its content: a browser may keep it for good.
            immutable = path.startswith("assets/")
            response = send_from_directory(dashboard, path, max_age=ASSET_MAX_AGE if immutable else None)
            if immutable:
                response.cache_control.immutable = True
            return response
        return send_from_directory(dashboard, "index.html")

    @app.errorhandler(Refused)
    def _refused(exc: Refused):
        """A platform's request turned away before anything acted on it: said once in the log
        (with the request's trace id) and counted, so a platform sending something new shows."""
        platform = metrics.INBOUND.get(request.endpoint, "web")
        metrics.REFUSED.labels(platform, exc.reason).inc()
        refusals_log.warning("refused a %s request (%s): %s", platform, exc.reason, exc.message)
        if exc.status == 200:  # acknowledged, as the platform's contract asks, and left alone
            return jsonify(ignored=exc.message), 200
        return jsonify(error=exc.message, reason=exc.reason), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        if request.endpoint in ("slack_events", "discord.interactions"):
            return _refused(Refused("too_large", 413, f"request body too large: at most "
                                                      f"{app.config['MAX_CONTENT_LENGTH']} bytes"))
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


def _trace_requests(app: Flask) -> None:
    """Each request gets a trace id that every line it logs carries; a message it accepts keeps
    that id through its task's run and reply. One line per request, in place of gunicorn's
    access log, so it carries the id too."""

    @app.before_request
    def _begin():
        g.began = time.perf_counter()
        logs.begin(trace_id=uuid.uuid4(), platform=metrics.INBOUND.get(request.endpoint))

    @app.after_request
    def _log(response):
        # Probes are noise; and below INFO the line is not even formatted.
        if (requests_log.isEnabledFor(logging.INFO)
                and request.endpoint not in ("health.healthz", "health.readyz", "metrics.metrics")):
            requests_log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code,
                              1000 * (time.perf_counter() - g.began))
        return response


def _mount_slack(app: Flask, rt: Runtime) -> None:
    """One Request URL for Slack's events, commands and interactivity, plus the OAuth pages;
    mounted whether or not Slack is configured yet, and answered by a Bolt app made for the
    settings in force, which a secret saved in the dashboard changes."""
    hub = wiring.slack_hub(rt)
    handlers = wiring.Rebuilt(rt, lambda settings: _slack_handler(rt, settings, hub))

    def handle(oauth_page: bool = False):
        handler = handlers()
        if handler is None:
            return jsonify(error="Slack is not configured here: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN "
                                 "(or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"), 404
        if oauth_page and not rt.settings.slack_oauth_enabled:
            return jsonify(error="Slack is connected to one team here (SLACK_BOT_TOKEN): there is nothing to "
                                 "install; set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it in more"), 404
        if oauth_page:
            return handler.bolt.handle(request)
        # Signed first, then of a shape the listeners read; Bolt is handed only what passes.
        body = request.get_data()  # kept: Bolt reads it again
        envelope.verify(handler.signing_secret, request.headers, body)
        envelope.check(body, request.mimetype)
        try:
            return handler.bolt.handle(request)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # Bolt's request parsing, on something the checks above let through: the request's
            # fault, not ours. (A listener's own failure Bolt answers itself, with a 500.)
            refusals_log.warning("slack-bolt could not read a request", exc_info=True)
            raise Refused("unparsed", 400, f"the request could not be read ({type(exc).__name__})") from exc

    app.add_url_rule("/slack/events", "slack_events", handle, methods=["POST"])
    for path in ("/slack/install", "/slack/oauth_redirect"):
        app.add_url_rule(path, path, lambda: handle(oauth_page=True), methods=["GET"])


@dataclass(frozen=True)
class _SlackEndpoint:
    signing_secret: str
    bolt: SlackRequestHandler


def _slack_handler(rt: Runtime, settings: Settings, hub) -> _SlackEndpoint | None:
    if not settings.slack_enabled:
        return None
    oauth = None
    if settings.slack_oauth_enabled:
        oauth = OAuth(client_id=settings.slack_client_id,
                      client_secret=settings.slack_client_secret.get_secret_value(),
                      installations=SlackInstallations(rt.db, settings.secret_key, settings.previous_secret_key),
                      states=SlackOAuthStates(rt.db), redirect_uri=settings.slack_redirect_uri)
    secret = settings.slack_signing_secret.get_secret_value()
    bolt = create_bolt_app(
        signing_secret=secret, api_url=settings.slack_api_url, hub=hub,
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None, oauth=oauth)
    return _SlackEndpoint(secret, SlackRequestHandler(bolt))
