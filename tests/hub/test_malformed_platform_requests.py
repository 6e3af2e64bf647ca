"""Correctly signed but malformed requests to `POST /slack/events` and `POST /discord/interactions`,
as a platform with a bug would send them: each gets a deliberate answer (never a 5xx), stores
nothing, is counted on /metrics by its reason, and the valid request sent right after it is
still taken.

Hypothesis mutates valid bodies (a key deleted, a value replaced by any JSON value, a body cut
short, NUL, a lone surrogate or a 70,000-character string put into a value, bytes that are not
UTF-8, the wrong Content-Type), derandomized so every run sends the same ones."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from fakes import FakeDiscord
from fakes.slack_server import FakeSlack
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from signed_support import KEY, TEAM, app, slack  # noqa: F401

from core import logs

BOT = "UBT1"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
EXAMPLES = 300
HUGE = "x" * 70_000
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- what each platform sends, signed as it signs it ----------------------------------------

def mention(text: str = "how do we deploy?") -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "AFAKE", "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "event": {"type": "app_mention", "user": "U1", "text": f"<@{BOT}> {text}", "ts": ts,
                      "channel": "CMALFORMED", "event_ts": ts},
            "authorizations": [{"team_id": TEAM, "user_id": BOT, "is_bot": True, "is_enterprise_install": False}]}


def command(slack: FakeSlack) -> dict[str, Any]:
    return {"command": "/morningai", "text": "how do we deploy?", "team_id": TEAM, "team_domain": "t1",
            "channel_id": "CMALFORMED", "channel_name": "general", "user_id": "U1", "user_name": "alice",
            "trigger_id": f"trig-{uuid.uuid4().hex[:8]}", "response_url": slack.response_url("CMALFORMED"),
            "api_app_id": "AFAKE"}


def shortcut(slack: FakeSlack) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": "ask_morningai", "trigger_id": f"trig-{uuid.uuid4().hex[:8]}",
            "team": {"id": TEAM, "domain": "t1"}, "user": {"id": "U1", "team_id": TEAM},
            "channel": {"id": "CMALFORMED", "name": "general"}, "response_url": slack.response_url("CMALFORMED"),
            "message": {"type": "message", "user": "U2", "text": "where are the runbooks?",
                        "ts": f"{time.time():.6f}"}, "api_app_id": "AFAKE"}


def post_slack(app, slack: FakeSlack, body: bytes, content_type: str = JSON):
    stamp = str(int(time.time()))
    # Signed over the bytes, as Slack signs them: slack.signed() takes text, and some bodies here are not.
    signature = "v0=" + hmac.new(slack.signing_secret.encode(), f"v0:{stamp}:".encode() + body,
                                 hashlib.sha256).hexdigest()
    return app.test_client().post("/slack/events", data=body, headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})


def post_discord(app, body: bytes, content_type: str = JSON):
    stamp = str(int(time.time()))
    return app.test_client().post("/discord/interactions", data=body, headers={
        "Content-Type": content_type, "X-Signature-Timestamp": stamp,
        "X-Signature-Ed25519": KEY.sign(stamp.encode() + body).signature.hex()})


def tasks(app) -> int:
    with app.config["MORNINGAI"].db.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM tasks").fetchone()["n"]


def stored(app, event_key: str) -> bool:
    with app.config["MORNINGAI"].db.connection() as conn:
        return conn.execute("SELECT 1 FROM tasks WHERE platform_event_id LIKE %s",
                            (f"%{event_key}",)).fetchone() is not None


def refused(app, platform: str, reason: str) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    found = re.search(rf'^morningai_platform_requests_refused_total{{platform="{platform}",reason="{reason}"}} (\S+)$',
                      text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def slack_still_answers(app, slack: FakeSlack) -> None:
    valid = mention()
    response = post_slack(app, slack, json.dumps(valid).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert stored(app, valid["event_id"])


def discord_still_answers(app) -> None:
    valid = FakeDiscord.command_interaction("ask", "question", "How do we deploy?")
    response = post_discord(app, json.dumps(valid).encode())
    assert response.status_code == 200 and response.get_json() == {"type": 5}, response.get_data(as_text=True)
    assert stored(app, valid["id"])


# --- the classes of the issue, each by name ----------------------------------------------------

def _without(payload: dict, *path: str) -> dict:
    copy = json.loads(json.dumps(payload))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


SLACK_CASES = {
    "a field removed": lambda s: (json.dumps(_without(mention(), "event", "ts")).encode(), JSON, 400, "bad_envelope"),
    "the event is 0": lambda s: (json.dumps({**mention(), "event": 0}).encode(), JSON, 400, "bad_envelope"),
    "authorizations a string": lambda s: (json.dumps({**mention(), "authorizations": "T1"}).encode(), JSON, 400,
                                          "bad_envelope"),
    "authorizations null": lambda s: (json.dumps({**mention(), "authorizations": None}).encode(), JSON, 400,
                                      "bad_envelope"),
    "a 70,000-character id": lambda s: (json.dumps({**mention(), "event_id": HUGE}).encode(), JSON, 400,
                                        "bad_envelope"),
    "a NUL in the text": lambda s: (json.dumps(mention("deploy\x00now")).encode(), JSON, 400, "bad_envelope"),
    "a lone surrogate": lambda s: (json.dumps(mention("deploy \ud800")).encode(), JSON, 400, "bad_envelope"),
    "a body cut short": lambda s: (json.dumps(mention()).encode()[:-7], JSON, 400, "not_json"),
    "the wrong Content-Type": lambda s: (json.dumps(mention()).encode(), "text/plain", 415, "wrong_content_type"),
    "a form sent as JSON": lambda s: (urlencode(command(s)).encode(), JSON, 400, "not_json"),
    "bytes that are not UTF-8": lambda s: (json.dumps(mention()).encode().replace(b"deploy", b"d\xffploy"), JSON,
                                           400, "not_json"),
    "a command without its channel": lambda s: (urlencode(_without(command(s), "channel_id")).encode(), FORM, 400,
                                                "bad_envelope"),
    "a shortcut whose message is a string": lambda s: (
        urlencode({"payload": json.dumps({**shortcut(s), "message": "hi"})}).encode(), FORM, 400, "bad_envelope"),
    "an interaction payload cut short": lambda s: (
        urlencode({"payload": json.dumps(shortcut(s))[:-3]}).encode(), FORM, 400, "not_json"),
    "a form of nothing we handle": lambda s: (b"hello=world", FORM, 400, "bad_envelope"),
    "an event type we do not handle": lambda s: (
        json.dumps({**mention(), "event": {"type": "channel_created", "channel": {"id": "C9"}}}).encode(), JSON,
        200, "unknown_type"),
}


@pytest.mark.parametrize("case", SLACK_CASES)
def test_a_signed_malformed_slack_request_is_answered_deliberately_and_stores_nothing(app, slack, case, caplog):
    body, content_type, status, reason = SLACK_CASES[case](slack)
    before, counted = tasks(app), refused(app, "slack", reason)
    caplog.handler.addFilter(logs.ContextFilter())  # as the app's log handler has it
    with caplog.at_level(logging.WARNING, logger="hub.refusals"):
        response = post_slack(app, slack, body, content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    if status != 200:
        assert response.get_json()["reason"] == reason and response.get_json()["error"]
    assert tasks(app) == before
    assert refused(app, "slack", reason) == counted + 1
    [line] = [r for r in caplog.records if r.name == "hub.refusals"]  # said once, with its trace id
    assert line.levelno == logging.WARNING and line.trace_id
    slack_still_answers(app, slack)


def test_unsigned_and_missigned_slack_requests_stay_401(app, slack):
    counted = refused(app, "slack", "bad_signature")
    body = json.dumps(mention()).encode()
    unsigned = app.test_client().post("/slack/events", data=body, headers={"Content-Type": JSON})
    stale = app.test_client().post("/slack/events", data=body, headers={
        "Content-Type": JSON, **slack.signed(body.decode(), timestamp=int(time.time()) - 3600)})
    other = app.test_client().post("/slack/events", data=body, headers={
        "Content-Type": JSON, **slack.signed(body.decode(), secret="not-the-secret")})
    for response in (unsigned, stale, other):
        assert response.status_code == 401 and response.get_json()["reason"] == "bad_signature"
    assert tasks(app) == 0
    assert refused(app, "slack", "bad_signature") == counted + 3


def test_a_body_over_the_limit_is_413_and_counted(app, slack):
    counted = refused(app, "slack", "too_large")
    body = json.dumps(mention("x" * app.config["MAX_CONTENT_LENGTH"])).encode()
    response = post_slack(app, slack, body)
    assert response.status_code == 413 and response.get_json()["reason"] == "too_large"
    assert refused(app, "slack", "too_large") == counted + 1


DISCORD_CASES = {
    "a field removed": lambda: _without(FakeDiscord.command_interaction("ask", "question", "hi"), "token"),
    "data is 0": lambda: {**FakeDiscord.command_interaction("ask", "question", "hi"), "data": 0},
    "member a string": lambda: {**FakeDiscord.command_interaction("ask", "question", "hi"), "member": "alice"},
    "owners a string": lambda: {**FakeDiscord.command_interaction("ask", "question", "hi"),
                                       "authorizing_integration_owners": "0"},
    "options not a list": lambda: {**FakeDiscord.command_interaction("ask"), "data": {"name": "ask", "options": 7}},
    "a 70,000-character id": lambda: {**FakeDiscord.command_interaction("ask", "question", "hi"), "id": HUGE},
    "a NUL": lambda: FakeDiscord.command_interaction("ask", "question", "deploy\x00now"),
    "a lone surrogate": lambda: FakeDiscord.command_interaction("ask", "question", "deploy \ud800"),
}


@pytest.mark.parametrize("case", DISCORD_CASES)
def test_a_signed_malformed_discord_interaction_is_400_and_stores_nothing(app, case):
    before, counted = tasks(app), refused(app, "discord", "bad_envelope")
    response = post_discord(app, json.dumps(DISCORD_CASES[case]()).encode())
    assert response.status_code == 400 and response.get_json()["reason"] == "bad_envelope", response.get_json()
    assert tasks(app) == before and refused(app, "discord", "bad_envelope") == counted + 1
    discord_still_answers(app)


@pytest.mark.parametrize("body, reason", [
    (json.dumps(FakeDiscord.command_interaction("ask", "question", "hi")).encode()[:-5], "not_json"),
    (json.dumps(FakeDiscord.command_interaction("ask", "question", "hi")).encode().replace(b"hi", b"h\xff"),
     "not_json"),
    (b"[1, 2]", "bad_envelope"),
    (json.dumps({**FakeDiscord.command_interaction("ask"), "type": 9}).encode(), "unknown_type"),
], ids=["cut short", "not UTF-8", "not an object", "an unknown type"])
def test_a_discord_body_that_is_no_interaction_at_all_is_400(app, body, reason):
    counted = refused(app, "discord", reason)
    response = post_discord(app, body)
    assert response.status_code == 400 and response.get_json()["reason"] == reason
    assert refused(app, "discord", reason) == counted + 1
    discord_still_answers(app)


# --- any mutation of a valid body ------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
POISON = st.sampled_from(["\x00", "\ud800", "\udfff", HUGE, "\x00" + HUGE])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value where a key or an item may be changed."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _mutate(data, value: Any) -> Any:
    """`value` (a copy) with one thing changed at a place hypothesis picks."""
    value = json.loads(json.dumps(value))
    paths = _paths(value)
    if not paths:
        return data.draw(JSON_VALUES)
    *parent_path, key = data.draw(st.sampled_from(paths))
    parent = value
    for step in parent_path:
        parent = parent[step]
    how = data.draw(st.sampled_from(["delete", "replace", "poison"]))
    if how == "delete":
        del parent[key]
    elif how == "replace":
        parent[key] = data.draw(JSON_VALUES)
    else:
        parent[key] = (parent[key] if isinstance(parent[key], str) else "") + data.draw(POISON)
    return value


def _spoil(data, body: bytes) -> bytes:
    """Sometimes, the bytes themselves: cut short, or a byte that is never UTF-8 put in."""
    how = data.draw(st.sampled_from(["keep", "keep", "truncate", "not utf-8"]))
    if how == "truncate":
        return body[:data.draw(st.integers(0, max(len(body) - 1, 0)))]
    if how == "not utf-8":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + b"\xff" + body[at:]
    return body


def _slack_body(data, slack: FakeSlack) -> tuple[bytes, str]:
    kind = data.draw(st.sampled_from(["event", "command", "shortcut"]))
    if kind == "event":
        body, content_type = json.dumps(_mutate(data, mention())).encode(), JSON
    elif kind == "command":
        fields = _mutate(data, command(slack))
        fields = fields if isinstance(fields, dict) else {"command": fields}
        body = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()},
                         errors="surrogatepass").encode()
        content_type = FORM
    else:
        body = urlencode({"payload": json.dumps(_mutate(data, shortcut(slack)))}).encode()
        content_type = FORM
    wrong_type = data.draw(st.sampled_from([None, None, None, None, "text/plain", JSON, FORM, ""]))
    return _spoil(data, body), wrong_type if wrong_type is not None else content_type


@PROPERTY
@given(data=st.data())
def test_no_mutated_signed_slack_request_gets_a_5xx_or_stores_anything(app, slack, data):
    body, content_type = _slack_body(data, slack)
    before = tasks(app)
    response = post_slack(app, slack, body, content_type)
    assert response.status_code < 500, (body[:300], response.get_data(as_text=True))
    # The mix of answers, for --hypothesis-show-statistics.
    event(f"{response.status_code} {(response.get_json(silent=True) or {}).get('reason', '')}")
    if response.status_code != 200:
        assert response.get_json()["error"] and tasks(app) == before
    slack_still_answers(app, slack)


@PROPERTY
@given(data=st.data())
def test_no_mutated_signed_discord_interaction_gets_a_5xx_or_stores_anything(app, data):
    valid = data.draw(st.sampled_from(["command", "message command"]))
    payload = (FakeDiscord.command_interaction("ask", "question", "How do we deploy?") if valid == "command" else
               FakeDiscord.message_command_interaction(FakeDiscord.user_message("Where are the runbooks?")))
    body = _spoil(data, json.dumps(_mutate(data, payload)).encode())
    before = tasks(app)
    response = post_discord(app, body)
    assert response.status_code < 500, (body[:300], response.get_data(as_text=True))
    # The mix of answers, for --hypothesis-show-statistics.
    event(f"{response.status_code} {(response.get_json(silent=True) or {}).get('reason', '')}")
    if response.status_code != 200:
        assert response.get_json()["error"] and tasks(app) == before
    discord_still_answers(app)
