"""The support numbers (GET /api/analytics's `support`, and its CSVs) add up on a seeded set of tasks: what
the bot answered on its own, published drafts, drafts waiting, withheld, handed over, resolved,
resolved without a person, the deflection rate, the median time to a first answer, and the
coverage gaps with their suggested titles."""

import csv
import io
import uuid

import pytest
from psycopg.types.json import Jsonb

from core.models import ChatTask
from tasks import lifecycle, support


@pytest.fixture
def seeded(rt, owner, hash_embeddings):
    """Nine questions of the last day, as a support channel's week would leave them."""
    def task(text: str, status: str, *, confidence: float = 0.9, seconds: float | None = None,
             published: bool = False) -> uuid.UUID:
        asked = ChatTask(platform="slack", workspace="default", platform_event_id=uuid.uuid4().hex, text=text,
                         channel="C0DESK", thread=f"{uuid.uuid4().int % 10**6}.000100", user="U0ASKER",
                         reply_target={"channel": "C0DESK", "unasked": True,
                                       **({"published_by": "lead@example.com"} if published else {})})
        task_id = lifecycle.store(rt.db, asked).task_id
        owner.execute(
            "UPDATE tasks SET status = %s, reply = %s, received_at = now() - interval '1 hour', "
            "posted_at = CASE WHEN %s::float IS NULL THEN NULL "
            "ELSE now() - interval '1 hour' + make_interval(secs => %s::float) END WHERE id = %s",
            (status, Jsonb({"text": "…", "metadata": {"confidence": confidence}}), seconds, seconds, task_id))
        return task_id

    ids = {
        "auto": task("how do we deploy to staging?", "posted", seconds=10),
        "published": task("where are the deploy logs kept?", "posted", seconds=20, published=True),
        "waiting": task("who approves production deploys?", "drafted"),
        "withheld": task("what is the parental leave policy for contractors?", "withheld", confidence=0.1),
        "escalated": task("what is the parental leave policy for contractors in Lisbon?", "posted",
                          confidence=0.1, seconds=30),
        "deflected": task("how do I restart the worker?", "posted", seconds=40),
        "people": task("how do I rotate the staging credentials?", "posted", seconds=50),
        "vpn": task("how do we rotate the VPN keys?", "withheld", confidence=0.05),
        "old": task("how did we deploy last year?", "posted", seconds=5),
    }
    owner.execute("UPDATE tasks SET received_at = now() - interval '10 days' WHERE id = %s", (ids["old"],))
    support.escalate(rt.db, ids["escalated"], "slack:U0ASKER")
    for key in ("escalated", "deflected", "people"):
        support.resolve(rt.db, ids[key], "slack:U0ASKER", "button")
    support.record_reply(rt.db, ids["people"], "1.1", "slack:U0LEAD", "Use the vault.", "https://example.test/t")
    support.record_reply(rt.db, ids["deflected"], "1.2", "U0ASKER", "thanks, that worked", "https://example.test/u")
    return ids


def test_the_numbers_add_up(client, seeded):
    numbers = client.get("/api/analytics?hours=24").get_json()["support"]
    assert {key: numbers[key] for key in (
        "questions", "answered_automatically", "published_drafts", "awaiting_review", "withheld", "escalated",
        "resolved", "resolved_without_a_person")} == {
        "questions": 8, "answered_automatically": 4, "published_drafts": 1, "awaiting_review": 1, "withheld": 2,
        "escalated": 1, "resolved": 3, "resolved_without_a_person": 1}
    assert numbers["deflection_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert numbers["median_first_answer_seconds"] == pytest.approx(30, abs=0.01)  # of 10, 20, 30, 40, 50

    # The weak ones: the two parental-leave questions are one gap, the VPN keys another.
    gaps = numbers["gaps"]
    assert [(g["title"], g["questions"], g["escalated"]) for g in gaps] == [
        ("Parental leave policy for contractors", 2, 1), ("Rotate the VPN keys", 1, 0)]
    assert set(gaps[0]["task_ids"]) == {str(seeded["withheld"]), str(seeded["escalated"])}
    assert client.get("/api/analytics?hours=720").get_json()["support"]["questions"] == 9  # and the 10-day-old one


def test_the_numbers_export_as_csv_and_bad_periods_are_refused(client, seeded):
    summary = client.get("/api/analytics/support.csv")
    assert summary.mimetype == "text/csv" and "attachment" in summary.headers["Content-Disposition"]
    rows = dict(csv.reader(io.StringIO(summary.get_data(as_text=True))))
    assert rows["metric"] == "value" and rows["resolved"] == "3" and rows["deflection_rate"] == "0.3333"
    gaps = list(csv.reader(io.StringIO(client.get("/api/analytics/gaps.csv").get_data(as_text=True))))
    assert gaps[0] == ["suggested title", "questions", "handed to a person", "examples"]
    assert gaps[1][:3] == ["Parental leave policy for contractors", "2", "1"]

    assert client.get("/api/analytics?hours=0").get_json()["error"] == "hours: must be between 1 and 720"
    assert client.get("/api/analytics?workspace=nope").status_code == 400


def test_an_empty_desk_has_no_rate_to_show(client):
    numbers = client.get("/api/analytics").get_json()["support"]
    assert (numbers["questions"], numbers["deflection_rate"], numbers["median_first_answer_seconds"],
            numbers["gaps"]) == (0, None, None, [])
