"""The `morningai` command, run as a user runs it."""

import json
import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest
import requests
from conftest import ROOT
from support import stop_up, wait_for

from memory.embedders import LocalEmbedder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _morningai(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def bare_env(tmp_path) -> dict:
    """A first run: no DATABASE_URL or REDIS_URL, an empty data directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(MORNINGAI_HOME=str(tmp_path / "home"), PORT=str(_free_port()), WEB_CONCURRENCY="1",
               MORNINGAI_ADMIN_EMAIL="admin@example.com", MORNINGAI_ADMIN_PASSWORD="correct horse battery")
    return env


def test_up_serves_ask_answers_and_ctrl_c_stops_everything(bare_env, tmp_path):
    log = open(tmp_path / "up.log", "w+")
    up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=bare_env, cwd=ROOT,
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{bare_env['PORT']}"
        wait_for(lambda: _ready(url), timeout=90, what="/readyz to turn 200")
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 3  # gunicorn master + web worker + RQ worker
        # Which embedder it took, and why: the best that runs offline, when there is no key.
        best = "local" if LocalEmbedder.available() else "hash"
        wait_for(lambda: f"Embedder: {best} (no OPENAI_API_KEY" in (tmp_path / "up.log").read_text(),
                 what="the start-up's line about the embedder")

        asked = _morningai("ask", "how do we deploy?", "--json", env=bare_env)
        assert asked.returncode == 0, asked.stderr
        task = json.loads(asked.stdout)
        assert task["status"] == "posted" and "No knowledge base yet" in task["reply"]["text"]

        plain = _morningai("ask", "hello", env=bare_env)
        assert "Ask me anything about your team's documents" in plain.stdout and f"answered by the hub at {url}" in plain.stdout

        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=15) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"left running: {alive}"
        assert not _embedded_servers_running(bare_env["MORNINGAI_HOME"])
    finally:
        stop_up(up, log)  # after a failed assertion, still the clean way, servers included


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _embedded_servers_running(home: str) -> list:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] in ("postgres", "redis-server") and home in " ".join(p.info["cmdline"] or [])]


def test_ask_with_no_hub_running_answers_in_process_and_says_so(bare_env):
    result = _morningai("ask", "what changed last week?", env=bare_env)
    assert result.returncode == 0, result.stderr
    assert "no hub running" in result.stderr and "answering in this process" in result.stderr
    assert "No knowledge base yet" in result.stdout
    assert not _embedded_servers_running(bare_env["MORNINGAI_HOME"])  # it stops what it started


@pytest.mark.parametrize(("variable", "value", "complaint"), [
    ("PORT", "eighty", "PORT: Input should be a valid integer"),
    ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
    ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL: must start with postgresql://"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL: must start with redis://"),
    ("MORNINGAI_MAX_ATTEMPTS", "0", "MORNINGAI_MAX_ATTEMPTS: Input should be greater than or equal to 1"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be one of DEBUG"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(bare_env, variable, value, complaint):
    result = _morningai("config", env={**bare_env, variable: value})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_settings_with_secrets_masked(bare_env):
    env = {**bare_env, "DATABASE_URL": "postgresql://hub:hunter2@db.internal:5432/morningai",
           "MORNINGAI_SECRET_KEY": "s3cret-value", "COLUMNS": "200"}
    result = _morningai("config", env=env)
    assert result.returncode == 0, result.stderr
    assert "postgresql://hub:****@db.internal:5432/morningai" in result.stdout
    assert "hunter2" not in result.stdout and "s3cret-value" not in result.stdout
    assert "(embedded)" in result.stdout  # REDIS_URL is unset


def test_a_wrong_ask_option_and_an_unreachable_database_are_one_line_each(bare_env):
    kind = _morningai("ask", "hi", "--kind", "poem", env=bare_env)
    assert kind.returncode == 1 and kind.stderr.strip() == "error: --kind: 'poem' is not one of ask, code, docs, faq, help"
    down = _morningai("migrate", env={**bare_env, "DATABASE_URL": f"postgresql://x@127.0.0.1:{_free_port()}/x"})
    assert down.returncode == 1 and down.stderr.startswith("error: cannot reach PostgreSQL")
    assert down.stderr.count("\n") == 1


def test_ingest_search_and_ask_cite_the_team_documents(bare_env, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "oncall.md").write_text("# On-call\n\n## Paging\n\nPage the on-call engineer through "
                                    "PagerDuty; escalate to the team lead after fifteen minutes.\n")
    (docs / "blob.bin").write_bytes(b"\x00\x01\x02")
    env = {**bare_env, "MORNINGAI_EMBEDDINGS": "hash"}

    first = _morningai("ingest", str(docs), "--workspace", "ops", env=env)
    assert first.returncode == 0, first.stderr
    assert "creating workspace 'ops'" in first.stderr
    assert "blob.bin: binary file" in first.stderr
    assert "workspace ops: 1 source(s), 1 added" in first.stdout and "1 skipped" in first.stdout
    again = _morningai("ingest", str(docs), "--workspace", "ops", env=env)
    assert "0 added, 0 updated, 1 unchanged" in again.stdout

    found = _morningai("search", "who do I page at night?", "--workspace", "ops", "--json", env=env)
    hits = json.loads(found.stdout)
    assert hits[0]["location"] == "oncall.md" and "PagerDuty" in hits[0]["text"]

    asked = _morningai("ask", "how do I page the on-call engineer?", "--workspace", "ops", "--json", env=env)
    reply = json.loads(asked.stdout)["reply"]
    assert "PagerDuty" in reply["text"] and "offline mode" in reply["text"]
    assert reply["citations"][0]["location"] == f"{docs.name}/oncall.md"  # not the server's path

    missing = _morningai("ingest", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"error: no such file or folder: {tmp_path / 'nowhere'}"
