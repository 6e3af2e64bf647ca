"""Logging in to the admin API: setup of the first admin, login, logout, the current session,
users, and the guard every `/api/*` request passes.

A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure behind TLS), kept
server-side (hub/admin/accounts.py). State-changing requests must also send the session's CSRF token
in the X-CSRF-Token header: a page on another site can make the browser send the cookie, but
cannot read the token. Login and setup take JSON only, which a cross-site form cannot send.
"""

from __future__ import annotations

import hmac
import uuid

from flask import Blueprint, Flask, Response, g, jsonify, request

from hub.admin import accounts
from hub.web import common

bp = Blueprint("auth", __name__, url_prefix="/api")

COOKIE = "morningai_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Endpoints reachable without a session: you cannot have one before logging in.
PUBLIC = {"auth.login", "auth.setup"}
# A viewer may look at everything and change nothing but their own session.
VIEWER_MAY = {"auth.logout"}


def _credentials() -> tuple[str, str, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("email", "password")):
        raise accounts.AccountError('send JSON {"email": "...", "password": "..."} '
                                    "with Content-Type: application/json")
    role = body.get("role", "admin")
    if not isinstance(role, str):
        raise accounts.AccountError(f"role: must be one of {', '.join(accounts.ROLES)}")
    return body["email"], body["password"], role


@bp.errorhandler(accounts.AccountError)
def _bad_account(exc: accounts.AccountError):
    status = 409 if "already has an account" in str(exc) else 400
    return jsonify(error=str(exc)), status


def _needs_setup() -> bool:
    """No account yet, and none to be made from MORNINGAI_ADMIN_EMAIL / _PASSWORD."""
    settings = common.runtime().settings
    return not (settings.admin_email and settings.admin_password) and accounts.count(common.runtime().db) == 0


def _first_admin_from_settings() -> None:
    settings = common.runtime().settings
    if settings.admin_email and settings.admin_password and accounts.count(common.runtime().db) == 0:
        accounts.create(common.runtime().db, settings.admin_email, settings.admin_password.get_secret_value(),
                        "admin", only_if_none=True)


def _logged_in(user: accounts.User, status: int = 200) -> Response:
    token, csrf = accounts.open_session(common.runtime().db, user)
    response = jsonify(user=user.to_json(), csrf_token=csrf)
    response.status_code = status
    secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(COOKIE, token, max_age=accounts.SESSION_DAYS * 86400, httponly=True,
                        samesite="Lax", secure=secure, path="/")
    return response


@bp.post("/auth/setup")
def setup():
    """Create the first admin: only while nobody has an account (the one-time setup screen)."""
    email, password, _ = _credentials()
    if not _needs_setup():
        return jsonify(error="setup is done: an admin exists (or comes from MORNINGAI_ADMIN_EMAIL); log in"), 409
    user = accounts.create(common.runtime().db, email, password, "admin", only_if_none=True)
    if user is None:
        return jsonify(error="setup is done: someone created the first admin a moment ago; log in"), 409
    return _logged_in(user, 201)


@bp.post("/auth/login")
def login():
    email, password, _ = _credentials()
    rt, ip = common.runtime(), request.remote_addr or ""
    _first_admin_from_settings()
    wait = accounts.locked_for(rt.db, email, ip)
    if wait:
        return (jsonify(error=f"too many failed logins: try again in {wait} seconds"), 429,
                {"Retry-After": str(wait)})
    user = accounts.authenticate(rt.db, email, password)
    if user is None:
        accounts.record_failure(rt.db, email, ip)
        return jsonify(error="wrong email or password"), 401
    accounts.forget_failures(rt.db, email)
    return _logged_in(user)


@bp.post("/auth/logout")
def logout():
    accounts.close_session(common.runtime().db, request.cookies[COOKIE])
    response = Response(status=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@bp.get("/auth/session")
def current_session():
    """Who is logged in, and the CSRF token the dashboard sends back on every change."""
    return jsonify(user=g.user.to_json(), csrf_token=g.csrf_token)


@bp.get("/users")
def list_users():
    return jsonify(users=[user.to_json() for user in accounts.listing(common.runtime().db)])


@bp.post("/users")
def add_user():
    email, password, role = _credentials()
    return jsonify(accounts.create(common.runtime().db, email, password, role).to_json()), 201


@bp.delete("/users/<uuid:user_id>")
def delete_user(user_id: uuid.UUID):
    if user_id == g.user.id:
        return jsonify(error="you cannot delete your own account: ask another admin"), 409
    if not accounts.delete(common.runtime().db, user_id):
        return jsonify(error=f"no user with id {user_id}"), 404
    return "", 204


def guard() -> Response | tuple | None:
    """Runs before every request: `/api/*` needs a session, a change needs the CSRF token and
    the admin role."""
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC:
        return None
    token = request.cookies.get(COOKIE)
    found = accounts.session(common.runtime().db, token) if token else None
    if found is None:
        return jsonify(error="log in first (POST /api/auth/login)", needs_setup=_needs_setup()), 401
    g.user, g.csrf_token = found
    if request.method in SAFE_METHODS:
        return None
    if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), g.csrf_token):
        return jsonify(error=f"missing or wrong {CSRF_HEADER} header: send the csrf_token "
                             "from GET /api/auth/session"), 403
    if g.user.role != "admin" and request.endpoint not in VIEWER_MAY:
        return jsonify(error="viewers can look but not change anything: ask an admin"), 403
    return None


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(guard)
