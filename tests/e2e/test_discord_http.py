"""POST /discord/interactions, served by gunicorn in a subprocess, signed with keys made here;
the answer is delivered by a real worker editing @original on the fake Discord."""

import json
import socket
import time

import pytest
import requests
from fakes import FakeDiscord
from fakes.discord_server import APP_ID, buttons_of, settled, text_of
from nacl.signing import SigningKey
from support import answers, wait_for

KEY = SigningKey.generate()
OTHER_KEY = SigningKey.generate()


@pytest.fixture
def discord():
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def env(processes, discord) -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {**processes.env, "DISCORD_PUBLIC_KEY": KEY.verify_key.encode().hex(), "DISCORD_API_URL": discord.api_url,
            "MORNINGAI_HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1"}


@pytest.fixture
def hub_url(processes, env) -> str:
    processes.start("-m", "gunicorn", "-c", "python:hub.gunicorn_conf", "hub.web.app:create_app()", env=env, name="web")
    url = f"http://127.0.0.1:{env['PORT']}"
    wait_for(lambda: answers(f"{url}/healthz"), what="gunicorn to serve")
    return url


def _post(url: str, payload, *, key: SigningKey = KEY, timestamp: int | None = None, body: bytes | None = None):
    body = body if body is not None else json.dumps(payload).encode()
    stamp = str(timestamp or int(time.time()))
    signature = key.sign(stamp.encode() + body).signature.hex()
    return requests.post(f"{url}/discord/interactions", data=body, timeout=10,
                         headers={"Content-Type": "application/json", "X-Signature-Ed25519": signature,
                                  "X-Signature-Timestamp": stamp})


def _tasks(owner) -> list:
    return owner.execute("SELECT platform_event_id, status, kind, text, posted_id FROM tasks").fetchall()


def test_a_signed_command_is_deferred_at_once_and_answered_by_editing_the_original(hub_url, env, processes,
                                                                                  discord, owner):
    processes.worker(**env)
    assert _post(hub_url, {"type": 1}).json() == {"type": 1}

    command = discord.command_interaction("ask", "question", "How do we deploy?")
    began = time.monotonic()
    response = _post(hub_url, command)
    assert response.status_code == 200 and response.json() == {"type": 5}
    assert time.monotonic() - began < 3.0  # Discord's deadline

    original = wait_for(lambda: settled(discord.originals.get(command["token"])), what="the answer in @original")
    assert "No knowledge base yet" in text_of(original)
    assert original["allowed_mentions"] == {"parse": [], "replied_user": False}
    edit = discord.calls("PATCH /webhooks/{application_id}/{token}/messages/@original")[0]
    assert edit.path == f"/webhooks/{APP_ID}/{command['token']}/messages/@original"
    wait_for(lambda: _tasks(owner)[0][1] == "posted", what="the task to be marked posted")
    assert _tasks(owner) == [(command["id"], "posted", "ask", "How do we deploy?", f"discord:{original['id']}")]

    # "Ask MorningAI" on a message's menu asks about that message, answered as /ask is.
    asked = discord.message_command_interaction(discord.user_message("Where are the runbooks?"))
    assert _post(hub_url, asked).json() == {"type": 5}
    assert "Where are the runbooks?" in text_of(
        wait_for(lambda: settled(discord.originals.get(asked["token"])), what="the answer about the message"))

    # Replaying the very same signed request (within the clock window) stores nothing new.
    replay = _post(hub_url, command)
    assert replay.status_code == 409 and "already received" in replay.json()["error"]
    assert len(_tasks(owner)) == 2

    # The 👍 under the answer is acknowledged to the clicker alone and stored; a second click changes it.
    up, down = (b["custom_id"] for b in buttons_of(original)[:2])
    thanks = _post(hub_url, discord.button_interaction(up)).json()
    assert thanks["type"] == 4 and thanks["data"]["flags"] == 64
    _post(hub_url, discord.button_interaction(down))
    _post(hub_url, discord.button_interaction(up, user_id="900000000000000042"))
    assert sorted(owner.execute("SELECT user_id, vote FROM feedback").fetchall()) == [
        ("900000000000000005", -1), ("900000000000000042", 1)]


def test_unsigned_stale_and_malformed_requests_are_refused_and_store_nothing(hub_url, discord, owner):
    command = discord.command_interaction("ask", "question", "hi")
    cases = [
        (_post(hub_url, command, key=OTHER_KEY), 401, "signature"),
        (requests.post(f"{hub_url}/discord/interactions", json=command, timeout=5), 401, "signature"),
        (_post(hub_url, command, timestamp=int(time.time()) - 3600), 401, "away from now"),
        (_post(hub_url, None, body=b"{not json"), 400, "not an interaction"),
        (_post(hub_url, {**command, "type": 7}), 400, "type 7"),
        (_post(hub_url, discord.command_interaction("ask", "question", "   ")), 400, "needs its text"),
        (_post(hub_url, discord.command_interaction("drop-tables")), 400, "not one of our commands"),
        (_post(hub_url, discord.button_interaction("feedback:up:not-a-task")), 400, "buttons"),
    ]
    for response, status, words in cases:
        assert response.status_code == status and words in response.json()["error"], response.text
    assert _tasks(owner) == [] and owner.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    assert discord.requests == []  # and nothing was sent to Discord
