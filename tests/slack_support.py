"""The Slack suite's hub and helpers: `morningai web` (gunicorn) and a `morningai worker` in
subprocesses, wired to a fake Slack Web API and a fake model, and what Slack sends them.

A test module that imports the `slack` and `hub` fixtures gets one hub for all its tests (starting
gunicorn and a worker is the slow part); tests keep apart by using channels and events of their own.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from urllib.parse import urlencode

import psycopg
import pytest
import requests
from conftest import ADMIN, TEMPLATE, Processes, _with_db
from fakes import FakeOpenAI, Reply, error_reply, message_text
from fakes.slack_server import FakeSlack
from redis import Redis
from support import admin_session, wait_for

from core.config import load_settings
from hub import wiring
from memory.embedders import choose_embedder
from memory.ingest import ingest

TEAM, TOKEN, BOT = "T1", "xoxb-single-team", "UBT1"
SECRET_KEY = "test-secret-key-for-slack"
LONG_ANSWER = "\n\n".join(f"Paragraph {n}: " + "lorem ipsum dolor sit amet " * 18 + "[1]" for n in range(10))


def _chat(request) -> str | Reply:
    """The fake model: a route, or an answer chosen by a keyword of the question."""
    if request.body.get("max_tokens") == 3:
        return "ask"
    question = message_text(request.body["messages"][-1]["content"])
    if "ESCAPE" in question:
        return "Heads up <!channel> and <@U999>, deploys freeze on Fridays [1]."
    if "LONG" in question:
        return LONG_ANSWER
    if "BOOM" in question:
        return error_reply(500, "the model fell over", kind="server_error", headers={"x-should-retry": "false"})
    return "Deploy with `make deploy` after the checks pass [1]."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def slack():
    with FakeSlack() as server:
        server.add_team(TEAM, TOKEN)
        yield server


@pytest.fixture(scope="module")
def hub(servers, slack, tmp_path_factory):
    """The running hub: its URL, settings environment and a Runtime on its database."""
    postgres, redis = servers
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    redis_url = redis.url(int((redis.root / "port").read_text()))
    Redis.from_url(redis_url).flushall()
    port, home = _free_port(), tmp_path_factory.mktemp("slack-hub")
    env = {**os.environ, "DATABASE_URL": _with_db(postgres.url(), name), "REDIS_URL": redis_url,
           "MORNINGAI_HOME": str(home), "MORNINGAI_SECRET_KEY": SECRET_KEY, "PORT": str(port),
           "WEB_CONCURRENCY": "1", "MORNINGAI_RECONCILE_INTERVAL": "1", "MORNINGAI_MAX_ATTEMPTS": "1",
           "MORNINGAI_USER_RATE_LIMIT": "0", "MORNINGAI_EMBEDDINGS": "hash",
           "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_CLIENT_ID": slack.client_id, "SLACK_CLIENT_SECRET": slack.client_secret,
           "SLACK_API_URL": slack.api_url, "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]}
    with FakeOpenAI(chat_hook=_chat) as model:
        env.update(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=model.base_url)
        previous = {key: os.environ.get(key) for key in env}
        os.environ.update(env)  # for the Runtime and settings of this process
        rt = wiring.runtime(load_settings(), env["DATABASE_URL"], redis_url)
        docs = home / "docs"
        docs.mkdir()
        (docs / "deploy.md").write_text("# Deploying\n\nRun `make deploy` once the checks pass. "
                                        "Deploys freeze on Fridays.\n")
        ingest(rt.db, choose_embedder(rt.settings), [str(docs)], "default")
        children = Processes(env, home)
        web = children.start("-m", "hub", "web", name="web")
        children.worker()
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(url) or web.poll() is not None, timeout=30, what="gunicorn to listen")
        assert web.poll() is None, children.output(web)
        yield {"url": url, "rt": rt, "env": env, "admin": admin_session(url, *ADMIN)}
        for child in children.started:
            children.kill(child)
        rt.close()
        for key, value in previous.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


# --- what Slack sends ---------------------------------------------------------------------

def envelope(event: dict, team: str = TEAM, event_id: str | None = None) -> dict:
    return {"token": "legacy", "team_id": team, "api_app_id": "AFAKE", "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "event": event, "authorizations": [{"team_id": team, "user_id": f"UB{team}", "is_bot": True,
                                                "is_enterprise_install": False}]}


def mention(channel: str, text: str, ts: str = "1700000001.000100", **extra) -> dict:
    return {"type": "app_mention", "user": "U1", "text": f"<@{BOT}> {text}", "ts": ts, "channel": channel,
            "event_ts": ts, **extra}


def send(hub, slack, payload: dict | str, *, form: bool = False, headers: dict | None = None) -> requests.Response:
    # A string is sent as it is: a body no encoder would make.
    body = payload if isinstance(payload, str) else urlencode(payload) if form else json.dumps(payload)
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return requests.post(f"{hub['url']}/slack/events", data=body.encode(), timeout=10,
                         headers={"Content-Type": content_type, **slack.signed(body), **(headers or {})})


def interaction(payload: dict) -> dict:
    return {"payload": json.dumps(payload)}


def tasks_for(hub, event_key: str) -> list[dict]:
    with hub["rt"].db.connection() as conn:
        return conn.execute("SELECT * FROM tasks WHERE platform = 'slack' AND platform_event_id LIKE %s",
                            (f"%:{event_key}",)).fetchall()


SETTLED = ("posted", "failed", "skipped", "withheld", "drafted")  # nothing more happens without a person


def answered(hub, event_key: str) -> dict:
    return wait_for(lambda: next((t for t in tasks_for(hub, event_key) if t["status"] in SETTLED), None),
                    what=f"task {event_key} to be done")


def section_texts(message: dict) -> list[str]:
    """The answer's text: its sections, or the Markdown it was streamed as (closed by blocks
    that carry no text of the answer)."""
    sections = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
    return sections or [message["text"].replace("\u2060", "")]


def context_texts(message: dict) -> list[str]:
    return [element["text"] for block in message["blocks"] if block["type"] == "context"
            for element in block["elements"]]
