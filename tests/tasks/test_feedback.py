"""Feedback review: 👍/👎 clicked in Slack and in Discord (signed as each platform signs them,
through the real adapters) land in one table, and the admin API lists them 👎 first, filters
them, marks them reviewed and charts them over time."""

import json
import time
import uuid
from urllib.parse import urlencode

import pytest
from conftest import log_in
from fakes import FakeDiscord
from signed_support import KEY, TEAM, app, slack  # noqa: F401

from core.models import ChatTask, Reply
from tasks import lifecycle


@pytest.fixture
def client(app):
    return log_in(app)


def _answered(rt, platform: str, question: str, answer: str, channel: str) -> str:
    task = ChatTask(platform=platform, workspace="default", platform_event_id=f"ev-{uuid.uuid4()}", text=question,
                    channel=channel, user="asker")
    task_id = lifecycle.store(rt.db, task).task_id
    lifecycle.record_reply(rt.db, task_id, Reply(text=answer))
    return str(task_id)


def _slack_click(app, slack, task_id: str, user: str, action: str):
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "AFAKE",
               "trigger_id": f"trig-{uuid.uuid4().hex[:6]}", "channel": {"id": "CDEPLOY"},
               "container": {"type": "message", "message_ts": "1"}, "response_url": slack.response_url("CDEPLOY"),
               "actions": [{"type": "button", "block_id": "feedback", "action_id": action, "value": task_id,
                            "action_ts": "1"}]}
    body = urlencode({"payload": json.dumps(payload)})
    response = app.test_client().post("/slack/events", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", **slack.signed(body)})
    assert response.status_code == 200, response.get_data(as_text=True)


def _discord_click(app, task_id: str, user: str, vote: str) -> str:
    body = json.dumps(FakeDiscord.button_interaction(f"feedback:{vote}:{task_id}", user_id=user)).encode()
    stamp = str(int(time.time()))
    response = app.test_client().post("/discord/interactions", data=body, headers={
        "Content-Type": "application/json", "X-Signature-Timestamp": stamp,
        "X-Signature-Ed25519": KEY.sign(stamp.encode() + body).signature.hex()})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]["content"]


def _listed(client, query: str = "") -> list[str]:
    response = client.get(f"/api/feedback?{query}")
    assert response.status_code == 200, response.get_json()
    return [row["task_id"] for row in response.get_json()["feedback"]]


@pytest.fixture
def voted(app, slack):
    """An older 👍 in Slack, a 👎 in Discord, then a newer 👍 in Slack."""
    rt = app.config["MORNINGAI"]
    older = _answered(rt, "slack", "How do we deploy?", "Run `make deploy` [1].", "CDEPLOY")
    disliked = _answered(rt, "discord", "Where is the VPN config?", "I could not find that.", "1234")
    newer = _answered(rt, "slack", "Who is on call?", "See the on-call rota [1].", "CDEPLOY")
    _slack_click(app, slack, older, "U1", "feedback_up")
    assert _discord_click(app, disliked, "900000000000000001", "down") == "Thanks for the feedback."
    _slack_click(app, slack, newer, "U2", "feedback_up")
    return {"older": older, "disliked": disliked, "newer": newer}


def test_votes_from_slack_and_discord_are_listed_thumbs_down_first(client, voted):
    body = client.get("/api/feedback").get_json()
    assert body["total"] == 3
    assert [row["task_id"] for row in body["feedback"]] == [voted["disliked"], voted["newer"], voted["older"]]
    disliked = body["feedback"][0]
    assert {key: disliked[key] for key in ("platform", "channel", "question", "answer", "up", "down", "workspace")} == {
        "platform": "discord", "channel": "1234", "question": "Where is the VPN config?",
        "answer": "I could not find that.", "up": 0, "down": 1, "workspace": "default"}
    assert disliked["task_url"] == f"/api/tasks/{voted['disliked']}" and disliked["reviewed_at"] is None
    assert body["feedback"][1]["last_vote_at"] > body["feedback"][2]["last_vote_at"]


def test_a_vote_lands_only_on_a_task_of_its_own_platform(app, slack, client, voted):
    # A forged Discord button naming a Slack answer stores nothing, and the reverse neither.
    assert _discord_click(app, voted["older"], "900000000000000002", "down") == "That answer is no longer known here."
    _slack_click(app, slack, voted["disliked"], "U3", "feedback_up")
    rows = {row["task_id"]: (row["up"], row["down"]) for row in client.get("/api/feedback").get_json()["feedback"]}
    assert rows == {voted["older"]: (1, 0), voted["disliked"]: (0, 1), voted["newer"]: (1, 0)}


def test_feedback_is_filtered_and_paged(client, voted):
    assert _listed(client, "vote=down") == [voted["disliked"]]
    assert _listed(client, "vote=up") == [voted["newer"], voted["older"]]
    assert _listed(client, "platform=slack") == [voted["newer"], voted["older"]]
    assert _listed(client, "platform=discord&vote=up") == []
    assert len(_listed(client, "workspace=default")) == 3 and _listed(client, "workspace=elsewhere") == []
    assert len(_listed(client, "since=2020-01-01")) == 3 and _listed(client, "since=2999-01-01T00:00:00Z") == []
    paged = client.get("/api/feedback?limit=1&offset=1").get_json()
    assert paged["total"] == 3 and [row["task_id"] for row in paged["feedback"]] == [voted["newer"]]


@pytest.mark.parametrize(("query", "complaint"), [
    ("vote=meh", "vote: 'meh' is not one of up, down"),
    ("platform=irc", "platform: 'irc' is not one of"),
    ("since=yesterday", "since: 'yesterday' is not a date or time"),
    ("reviewed=maybe", "reviewed: 'maybe' is not one of true, false"),
    ("limit=0", "limit: must be between 1 and 200"),
    ("offset=-1", "offset: must be between 0"),
])
def test_bad_feedback_filters_are_400(client, query, complaint):
    response = client.get(f"/api/feedback?{query}")
    assert response.status_code == 400 and complaint in response.get_json()["error"]


def test_reviewing_empties_the_queue_until_someone_votes_again(app, client, voted):
    reviewed = client.post(f"/api/feedback/{voted['disliked']}/review")
    assert reviewed.status_code == 200 and reviewed.get_json()["reviewed_at"]
    assert _listed(client, "reviewed=false") == [voted["newer"], voted["older"]]
    assert _listed(client, "reviewed=true") == [voted["disliked"]]
    assert client.post(f"/api/feedback/{voted['disliked']}/review").status_code == 200  # twice is fine

    # The same person changing their mind puts the answer back on the queue.
    _discord_click(app, voted["disliked"], "900000000000000001", "up")
    assert _listed(client, "reviewed=false") == [voted["disliked"], voted["newer"], voted["older"]]

    unvoted = _answered(app.config["MORNINGAI"], "web", "hello", "Hi!", "playground")
    missing = client.post(f"/api/feedback/{unvoted}/review")
    assert missing.status_code == 404 and "nobody voted" in missing.get_json()["error"]


def test_analytics_count_votes_per_hour_and_per_day(client, voted):
    hourly = client.get("/api/analytics?hours=6").get_json()["feedback"]
    assert hourly["bucket"] == "hour" and len(hourly["series"]) == 6
    assert (hourly["up"], hourly["down"]) == (2, 1)
    assert [sum(point[vote] for point in hourly["series"]) for vote in ("up", "down")] == [2, 1]
    assert hourly["series"][0]["at"] < hourly["series"][-1]["at"]

    daily = client.get("/api/analytics?hours=168").get_json()["feedback"]
    assert daily["bucket"] == "day" and len(daily["series"]) == 7
    assert (daily["up"], daily["down"]) == (2, 1)
    assert [sum(point[vote] for point in daily["series"]) for vote in ("up", "down")] == [2, 1]
