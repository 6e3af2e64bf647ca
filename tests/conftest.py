"""Real PostgreSQL (+pgvector) and Redis for every test, started once per session.

Each test gets a database of its own, cloned from a migrated template, and an empty Redis.
Worker processes are real `python -m hub worker` subprocesses in their own sessions.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import faq_support
import psutil
import psycopg
import pytest
from argon2 import PasswordHasher
from fakes.slack_server import FakeSlack
from redis import Redis
from rq import Worker

from core.config import load_settings
from core.db import Database
from core.runtime import Runtime
from hub import migrate, wiring
from hub.admin import accounts
from hub.embedded import EmbeddedPostgres, EmbeddedRedis
from hub.web import auth
from hub.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "morningai_template"


@pytest.fixture(scope="session")
def servers(tmp_path_factory) -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    home = tmp_path_factory.mktemp("services")
    postgres, redis = EmbeddedPostgres(home), EmbeddedRedis(home)
    admin_url = postgres.start()
    redis.start()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # A test server need not survive a power cut: without flushes to disk, each test's
        # database clone and the checkpoints between them cost a fraction of the time. (The
        # tests of crash recovery start servers of their own.)
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    migrate.migrate(Database(_with_db(admin_url, TEMPLATE)))
    yield postgres, redis
    redis.stop()
    postgres.stop()


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def database_url(servers) -> str:
    postgres, _ = servers
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return _with_db(postgres.url(), name)


@pytest.fixture
def redis_url(servers) -> str:
    _, redis = servers
    url = redis.url(int((redis.root / "port").read_text()))
    Redis.from_url(url).flushall()
    return url


@pytest.fixture
def hub_env(database_url, redis_url, tmp_path, monkeypatch) -> dict[str, str]:
    """Settings for this test, in os.environ (for in-process code) and as a dict (for children)."""
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MORNINGAI_HOME": str(tmp_path / "home"),
        "MORNINGAI_RECONCILE_INTERVAL": "0.3",
        "LOG_LEVEL": "INFO",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Settings from nothing but what the test sets: no .env file, no OPENAI_* or MORNINGAI_*
    variables inherited from the machine."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "MORNINGAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MORNINGAI_HOME", str(tmp_path))
    return monkeypatch


@pytest.fixture
def cli_env(hub_env) -> dict[str, str]:
    """A child `morningai`'s environment: this test's services, the hash embedder, no model."""
    env = {**hub_env, "MORNINGAI_EMBEDDINGS": "hash"}
    env.pop("OPENAI_API_KEY", None)
    return env


@pytest.fixture
def empty_database(servers) -> Iterator[str]:
    """A database with nothing in it, for the migrations to start from."""
    postgres, _ = servers
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fresh_db")
    yield postgres.url().rsplit("/", 1)[0] + "/fresh_db"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("DROP DATABASE fresh_db WITH (FORCE)")


@pytest.fixture
def hash_embeddings(monkeypatch):
    """The lexical embedder: no model to load, the same vectors on every machine."""
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")


@pytest.fixture
def handbook(tmp_path):
    """A two-page team handbook to ingest."""
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "expenses.md").write_text("# Expenses\n\nSubmit receipts in the finance tool within "
                                        "thirty days; the limit for a team dinner is 60 euros a head.\n")
    (folder / "laptops.md").write_text("# Laptops\n\nNew laptops are ordered through the IT desk and "
                                       "arrive in five working days.\n")
    return folder


@pytest.fixture
def offline_hash(monkeypatch):
    """Answers offline with the hash embedder, whatever the machine has configured."""
    monkeypatch.setenv("MORNINGAI_EMBEDDINGS", "hash")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def faq_docs(rt, tmp_path):
    """The FAQ tests' deploy and staging guides, ingested."""
    return faq_support.ingest_docs(rt, tmp_path)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, so stopping it disturbs no other test."""
    redis = EmbeddedRedis(tmp_path / "own")
    yield redis
    redis.stop()


@pytest.fixture
def slack():
    """A fake Slack with one team, T1, whose bot holds xoxb-one-team (SLACK_BOT_TOKEN in
    single-workspace mode)."""
    with FakeSlack() as server:
        server.add_team("T1", "xoxb-one-team")
        yield server


@pytest.fixture
def rt(hub_env) -> Iterator[Runtime]:
    runtime = wiring.runtime(load_settings(), hub_env["DATABASE_URL"], hub_env["REDIS_URL"])
    yield runtime
    runtime.close()


ADMIN = ("admin@example.com", "correct horse battery")


@functools.cache
def _password_hash(password: str) -> str:
    return PasswordHasher().hash(password)


def log_in(app, email: str = ADMIN[0], password: str = ADMIN[1], role: str = "admin"):
    """A test client with a session of a (new) user, sending its CSRF token on every request.
    The session is opened as the login API opens it, without the argon2 check the login tests
    (tests/hub/test_admin_auth.py) cover: it costs a tenth of a second a test on purpose."""
    db = app.config["MORNINGAI"].db
    with db.connection() as conn:
        # Inserted with a hash made once per session: argon2 is slow on purpose.
        row = conn.execute("INSERT INTO users (email, password_hash, role) VALUES (%s, %s, %s) "
                           "ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id, email, role",
                           (email, _password_hash(password), role)).fetchone()
    token, csrf = accounts.open_session(db, accounts.User(**row))
    client = app.test_client()
    client.set_cookie(auth.COOKIE, token)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf
    return client


@pytest.fixture
def app(rt):
    return create_app(rt)


@pytest.fixture
def client(app):
    """Logged in as an admin."""
    return log_in(app)


@pytest.fixture
def started(hub_env):
    """Start the web app as gunicorn does (`create_app()`: settings from the environment, then
    the dashboard's, kept up as they are saved), as many times as a test likes; each is closed
    at the end."""
    apps = []

    def start():
        apps.append(create_app())
        return apps[-1]

    yield start
    for app in apps:
        app.config["MORNINGAI"].close()


@pytest.fixture
def anonymous_client(app):
    return app.test_client()


@pytest.fixture
def owner(database_url) -> Iterator[psycopg.Connection]:
    """A superuser connection to the test's database, for looking behind the hub's back."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


class Processes:
    """Child processes of a test, each in its own session; all killed at teardown."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, env: dict[str, str] | None = None, name: str = "child") -> subprocess.Popen:
        log = open(self.log_dir / f"{name}-{len(self.started)}.log", "wb")
        process = subprocess.Popen([sys.executable, *args], env=env or self.env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def worker(self, **env: str) -> subprocess.Popen:
        """`morningai worker`, once RQ lists it: a loaded machine takes seconds to start one, which
        a test's wait for an answer must not have to cover."""
        env = {**self.env, **env}
        redis = Redis.from_url(env["REDIS_URL"])
        before = {worker.name for worker in Worker.all(connection=redis)}
        process = self.start("-m", "hub", "worker", env=env, name="worker")
        deadline = time.monotonic() + 90
        while not {worker.name for worker in Worker.all(connection=redis)} - before:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start:\n{self.output(process)[-3000:]}")
            time.sleep(0.1)
        redis.close()
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """kill -9 the process and everything it started (RQ's work-horse has a session of
        its own), as when the machine running a worker dies."""
        try:
            tree = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        for victim in [process.pid, *(child.pid for child in tree)]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        psutil.wait_procs(tree, timeout=5)

    def output(self, process: subprocess.Popen) -> str:
        index = self.started.index(process)
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob(f"*-{index}.log")))


@pytest.fixture
def processes(hub_env, tmp_path) -> Iterator[Processes]:
    procs = Processes(hub_env, tmp_path)
    yield procs
    for process in procs.started:
        procs.kill(process)
