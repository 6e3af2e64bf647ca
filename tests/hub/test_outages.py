"""Readiness names what is down, and a message taken while Redis is down is not lost."""

import psycopg
import pytest
from support import wait_for

from core.config import load_settings
from core.db import Database
from hub import migrate, wiring
from hub.embedded import EmbeddedPostgres, EmbeddedRedis
from hub.web.app import create_app


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, so stopping it disturbs no other test."""
    redis = EmbeddedRedis(tmp_path / "own")
    yield redis
    redis.stop()


@pytest.fixture
def own_postgres(tmp_path):
    postgres = EmbeddedPostgres(tmp_path / "own")
    db = Database(postgres.start())
    migrate.migrate(db)
    db.close()
    yield postgres
    postgres.stop()


@pytest.mark.parametrize(("down", "up", "problem"), [
    ("redis", "postgres", "Redis is unreachable"),
    ("postgres", "redis", "PostgreSQL is unreachable"),
])
def test_readyz_names_what_is_down(hub_env, own_redis, own_postgres, down, up, problem):
    urls = {"postgres": hub_env["DATABASE_URL"], "redis": hub_env["REDIS_URL"]}
    server = own_redis if down == "redis" else own_postgres
    urls[down] = server.start()
    rt = wiring.runtime(load_settings(), urls["postgres"], urls["redis"])
    client = create_app(rt).test_client()
    assert client.get("/readyz").get_json()[down] == "ok"

    server.stop()
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body[down].startswith("unreachable") and body[up] == "ok"
    assert any(p.startswith(problem) for p in body["problems"])
    rt.close()


def test_readyz_names_pending_migrations(servers, hub_env):
    postgres, _ = servers
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE never_migrated")
    rt = wiring.runtime(load_settings(), postgres.url().rsplit("/", 1)[0] + "/never_migrated", hub_env["REDIS_URL"])
    body = create_app(rt).test_client().get("/readyz").get_json()
    assert body["postgres"] == "ok" and body["migrations"] == [f"{m.version}_{m.name}" for m in migrate.available()]
    assert f"{len(migrate.available())} migration(s) not applied: run `morningai migrate`" in body["problems"]
    rt.close()


@pytest.mark.parametrize("idle_check", ["checked", "bypassed"])
def test_a_pooled_connection_idle_past_the_window_is_checked_before_use(database_url, owner, monkeypatch,
                                                                       idle_check):
    # Past the window (0 s here) a connection is checked, so the first query after its server
    # process died (a PostgreSQL restart, a failover) gets a new one; within it (an hour here)
    # the check is skipped to save a round trip on busy requests, and that query meets the dead one.
    monkeypatch.setattr("core.db.CHECK_AFTER_IDLE", 0 if idle_check == "checked" else 3600)
    db = Database(database_url, max_size=1)  # one connection: the next query must reuse it
    with db.connection() as conn:
        pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    owner.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: not owner.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone(),
             what="the server process gone")
    if idle_check == "checked":
        with db.connection() as conn:
            assert conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != pid
    else:
        with pytest.raises(psycopg.OperationalError), db.connection() as conn:
            conn.execute("SELECT 1")
    db.close()
