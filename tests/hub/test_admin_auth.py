"""Logging in to the admin API: setup, login, sessions, CSRF, roles, rate limits, secrets."""

import re

from conftest import ADMIN, log_in

from core.config import load_settings
from hub import wiring
from hub.admin import accounts
from hub.web import openapi
from hub.web.app import create_app

PUBLIC = {"/api/auth/login", "/api/auth/setup"}
PROTECTED = [(path, method) for path, method, *_ in openapi.OPERATIONS if path not in PUBLIC]
CHANGES = [(path, method) for path, method in PROTECTED if method != "get"]


def _url(path: str) -> str:
    # Any id will do: the guard answers before the route would look it up.
    return re.sub(r"\{[a-z_]+\}", "00000000-0000-4000-8000-000000000000", path)


# One test per rule, looping over every route: a fresh database per route would cost more
# than everything it checks.
def test_every_route_but_login_and_setup_needs_a_session(anonymous_client):
    for path, method in PROTECTED:
        response = anonymous_client.open(_url(path), method=method.upper(), json={})
        assert response.status_code == 401, (method, path)
        assert response.get_json() == {"error": "log in first (POST /api/auth/login)", "needs_setup": True}


def test_a_change_without_the_csrf_token_is_refused(client):
    token = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    for path, method in CHANGES:
        response = client.open(_url(path), method=method.upper(), json={})
        assert response.status_code == 403 and "X-CSRF-Token" in response.get_json()["error"], (method, path)
        wrong = client.open(_url(path), method=method.upper(), json={}, headers={"X-CSRF-Token": token[:-1]})
        assert wrong.status_code == 403, (method, path)


def test_a_viewer_may_look_but_not_change(app):
    viewer = log_in(app, "viewer@example.com", "just looking around", role="viewer")
    for path, method in CHANGES:
        if path == "/api/auth/logout":
            continue
        response = viewer.open(_url(path), method=method.upper(), json={})
        assert response.status_code == 403 and "viewers can look" in response.get_json()["error"], (method, path)
    assert viewer.get("/api/tasks").status_code == 200
    assert viewer.post("/api/auth/logout").status_code == 204


def test_setup_makes_the_first_admin_once(anonymous_client, rt):
    assert anonymous_client.post("/api/auth/setup", json={"email": "Ada@Example.com", "password": "short"}) \
        .get_json()["error"] == "password: use at least 10 characters"
    created = anonymous_client.post("/api/auth/setup", json={"email": "Ada@Example.com", "password": "a long passphrase"})
    assert created.status_code == 201 and created.get_json()["user"]["email"] == "ada@example.com"
    assert anonymous_client.get("/api/auth/session").get_json()["user"]["role"] == "admin"  # logged in
    again = anonymous_client.post("/api/auth/setup", json={"email": "eve@example.com", "password": "a long passphrase"})
    assert again.status_code == 409 and accounts.count(rt.db) == 1


def test_the_first_admin_can_come_from_the_environment(hub_env, monkeypatch):
    monkeypatch.setenv("MORNINGAI_ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("MORNINGAI_ADMIN_PASSWORD", "from the environment")
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    client = create_app(rt).test_client()
    assert client.get("/api/tasks").get_json()["needs_setup"] is False  # the login screen, not setup
    assert client.post("/api/auth/setup", json={"email": "eve@example.com", "password": "a long passphrase"}) \
        .status_code == 409
    assert client.post("/api/auth/login", json={"email": "ops@example.com", "password": "from the environment"}) \
        .status_code == 200
    rt.close()


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(app):
    log_in(app)
    plain = app.test_client().post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_tls = app.test_client().post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]},
                                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in behind_tls.headers["Set-Cookie"]


def test_logout_ends_the_session_for_good(client):
    token = client.get_cookie("morningai_session").value
    assert client.post("/api/auth/logout").status_code == 204
    client.set_cookie("morningai_session", token)  # a copy of the cookie kept by an attacker
    assert client.get("/api/tasks").status_code == 401


def test_login_wants_json_and_says_nothing_about_which_part_was_wrong(anonymous_client, client):
    form = anonymous_client.post("/api/auth/login", data={"email": ADMIN[0], "password": ADMIN[1]})
    assert form.status_code == 400 and "application/json" in form.get_json()["error"]
    unknown = anonymous_client.post("/api/auth/login", json={"email": "nobody@example.com", "password": ADMIN[1]})
    wrong = anonymous_client.post("/api/auth/login", json={"email": ADMIN[0], "password": "not it at all"})
    assert unknown.get_json() == wrong.get_json() == {"error": "wrong email or password"}
    assert unknown.status_code == wrong.status_code == 401


def test_repeated_wrong_passwords_are_rate_limited(client, anonymous_client):
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        assert anonymous_client.post("/api/auth/login", json={"email": ADMIN[0], "password": "guess guess"}) \
            .status_code == 401
    locked = anonymous_client.post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    assert locked.status_code == 429 and "too many failed logins" in locked.get_json()["error"]
    assert 0 < int(locked.headers["Retry-After"]) <= accounts.FAILURE_WINDOW_MINUTES * 60
    # Other addresses from the same IP are limited only after many more tries.
    other = anonymous_client.post("/api/auth/login", json={"email": "someone@example.com", "password": "x" * 12})
    assert other.status_code == 401


def test_admins_manage_users_and_cannot_delete_themselves(client):
    me = client.get("/api/auth/session").get_json()["user"]
    added = client.post("/api/users", json={"email": "viewer@example.com", "password": "just looking around",
                                            "role": "viewer"})
    assert added.status_code == 201 and added.get_json()["role"] == "viewer"
    assert client.post("/api/users", json={"email": "VIEWER@example.com", "password": "x" * 12}).status_code == 409
    assert client.post("/api/users", json={"email": "x@example.com", "password": "x" * 12, "role": "owner"}) \
        .get_json()["error"] == "role: must be one of admin, viewer"
    emails = [user["email"] for user in client.get("/api/users").get_json()["users"]]
    assert emails == ["admin@example.com", "viewer@example.com"]
    assert client.delete(f"/api/users/{me['id']}").status_code == 409
    assert client.delete(f"/api/users/{added.get_json()['id']}").status_code == 204
    assert client.delete(f"/api/users/{added.get_json()['id']}").status_code == 404


def test_secrets_never_appear_in_responses(hub_env, monkeypatch):
    secrets = {"OPENAI_API_KEY": "sk-never-show-me", "MORNINGAI_ADMIN_PASSWORD": "admin-pass-never-shown",
               "MORNINGAI_SECRET_KEY": "signing-key-never-shown"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MORNINGAI_ADMIN_EMAIL", "ops@example.com")
    rt = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    client = create_app(rt).test_client()
    login = client.post("/api/auth/login", json={"email": "ops@example.com", "password": secrets["MORNINGAI_ADMIN_PASSWORD"]})
    client.environ_base["HTTP_X_CSRF_TOKEN"] = login.get_json()["csrf_token"]
    bodies = [login.get_data(as_text=True)]
    for path in ("/api/auth/session", "/api/users", "/api/settings", "/api/integrations", "/api/health",
                 "/api/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        bodies.append(response.get_data(as_text=True))
    settings = client.get("/api/settings").get_json()
    openai = next(secret for secret in settings["secrets"] if secret["variable"] == "OPENAI_API_KEY")
    assert (openai["set"], openai["source"]) == (True, "environment") and settings["provider"] == "openai"
    for body in bodies:
        for value in secrets.values():
            assert value not in body
        assert "argon2" not in body and "password_hash" not in body
    rt.close()
