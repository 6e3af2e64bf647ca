"""Slack support channels through the whole hub (gunicorn, a worker, the fake Slack, a fake
model): `auto` mode answers questions nobody tagged the bot in only when sure enough, and leaves
conversation alone; `draft` mode holds answers for a reviewer, whose Publish posts the answer
in the question's thread once; settings the platform would refuse are refused up front."""

import uuid

from slack_support import (  # noqa: F401
    TEAM,
    answered,
    envelope,
    hub,
    interaction,
    section_texts,
    send,
    slack,
    tasks_for,
)
from support import wait_for

ASKER = "U0ASKS"


def _said(channel: str, text: str, ts: str, user: str = ASKER, **extra) -> dict:
    """Someone writes in a channel without mentioning the bot."""
    return envelope({"type": "message", "channel_type": "channel", "channel": channel, "user": user, "text": text,
                     "ts": ts, "event_ts": ts, **extra})


def _settings(hub, channel: str, **changes):
    return hub["admin"].put(f"{hub['url']}/api/channels/slack/{channel}", json=changes, timeout=10)


def test_auto_mode_answers_unasked_questions_only_when_sure(hub, slack):
    assert _settings(hub, "CAUTO", mode="auto", unsure_reaction=":thinking_face:").json()["mode"] == "auto"

    sure = _said("CAUTO", "how do we deploy once the checks pass?", "1700000100.000100")
    send(hub, slack, sure)
    task = answered(hub, sure["event_id"])
    assert task["status"] == "posted" and task["reply_target"]["unasked"] is True
    [answer] = wait_for(lambda: slack.answers("CAUTO"), what="the answer")
    assert answer["thread_ts"] == "1700000100.000100" and "make deploy" in section_texts(answer)[0]

    unsure = _said("CAUTO", "what is the parental leave policy for contractors in Lisbon?", "1700000101.000100")
    send(hub, slack, unsure)
    task = answered(hub, unsure["event_id"])
    assert task["status"] == "withheld" and task["error"].startswith("withheld: confidence")
    wait_for(lambda: slack.reactions_on("CAUTO", "1700000101.000100") == {"thinking_face"}, what="the unsure sign")
    assert len(slack.answers("CAUTO")) == 1  # nothing posted for it, and no :eyes: promised an answer
    assert not [r for r in slack.calls("reactions.add") if r.body["name"] == "eyes" and r.body["channel"] == "CAUTO"]

    chatter = [_said("CAUTO", "thanks everyone!", "1700000102.000100"),
               _said("CAUTO", "How do we deploy on Fridays?", "1700000103.000100", bot_id="BOTHER"),
               _said("CAUTO", "anyone know how to deploy?", "1700000104.000100", thread_ts="1700000100.000100")]
    for payload in chatter:
        assert send(hub, slack, payload).status_code == 200
    assert [tasks_for(hub, p["event_id"]) for p in chatter] == [[], [], []]


def test_draft_mode_holds_the_answer_until_a_reviewer_publishes_it_once(hub, slack):
    slack.add_channel("CREVIEW", "support-review")
    assert _settings(hub, "CDRAFT", mode="draft", review_channel="CREVIEW").status_code == 200

    asked = _said("CDRAFT", "how do we deploy once the checks pass?", "1700000200.000100")
    send(hub, slack, asked)
    task = answered(hub, asked["event_id"])
    assert task["status"] == "drafted" and slack.answers("CDRAFT") == []
    [review] = wait_for(lambda: slack.posted("CREVIEW"), what="the draft in the review channel")
    assert "make deploy" in str(review["blocks"]) and "p1700000200000100" in str(review["blocks"])
    publish = next(e for b in review["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "draft_publish")

    def click() -> None:
        body = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U0REVIEWER"}, "api_app_id": "AFAKE",
                "trigger_id": f"trig-{uuid.uuid4().hex[:6]}", "channel": {"id": "CREVIEW"},
                "container": {"type": "message", "message_ts": "1"}, "response_url": slack.response_url("CREVIEW"),
                "message": {"ts": "1", "blocks": review["blocks"]},
                "actions": [{"type": "button", "block_id": "draft_review", "action_id": "draft_publish",
                             "value": publish["value"], "action_ts": "1"}]}
        assert send(hub, slack, interaction(body), form=True).status_code == 200

    click()
    [answer] = wait_for(lambda: slack.answers("CDRAFT"), what="the published answer")
    assert answer["thread_ts"] == "1700000200.000100" and "make deploy" in section_texts(answer)[0]
    done = hub["admin"].get(f"{hub['url']}/api/tasks/{task['id']}", timeout=5).json()
    assert done["status"] == "posted" and done["support"]["review"] == "published"
    assert done["support"]["reviewed_by"] == "slack:U0REVIEWER"
    responses = wait_for(lambda: slack.responses("CREVIEW"), what="the review message updated")
    assert "published" in responses[0]["text"] and "draft_review" not in str(responses[0]["blocks"])

    click()  # a second click, or a second reviewer: nothing more is posted
    wait_for(lambda: len(slack.responses("CREVIEW")) == 2, what="the second click's answer")
    assert "nothing done" in slack.responses("CREVIEW")[1]["text"] and len(slack.answers("CDRAFT")) == 1


def test_a_draft_is_edited_and_published_or_dismissed_from_the_dashboard(hub, slack):
    assert _settings(hub, "CDASH", mode="draft").status_code == 200  # no review channel: the dashboard only
    first, second = (_said("CDASH", "how do we deploy once the checks pass?", f"17000003{n}0.000100") for n in (0, 1))
    for payload in (first, second):
        send(hub, slack, payload)
    drafted = [answered(hub, payload["event_id"]) for payload in (first, second)]
    assert [task["status"] for task in drafted] == ["drafted", "drafted"]
    admin, url = hub["admin"], hub["url"]
    listed = admin.get(f"{url}/api/tasks?status=drafted", timeout=5).json()["tasks"]
    assert {str(task["id"]) for task in drafted} <= {task["id"] for task in listed}
    assert "make deploy" in admin.get(f"{url}/api/tasks/{drafted[0]['id']}", timeout=5).json()["reply"]["text"]

    published = admin.post(f"{url}/api/tasks/{drafted[0]['id']}/publish", timeout=5,
                           json={"text": "Run `make deploy` once CI is green."})
    assert published.status_code == 202
    [answer] = wait_for(lambda: slack.answers("CDASH"), what="the edited answer")
    assert section_texts(answer)[0].startswith("Run `make deploy` once CI is green.")
    assert admin.post(f"{url}/api/tasks/{drafted[0]['id']}/publish", timeout=5).status_code == 409

    assert admin.post(f"{url}/api/tasks/{drafted[1]['id']}/dismiss", timeout=5).status_code == 200
    dismissed = admin.get(f"{url}/api/tasks/{drafted[1]['id']}", timeout=5).json()
    assert dismissed["status"] == "skipped" and dismissed["error"] == f"draft dismissed by {hub['env']['MORNINGAI_ADMIN_EMAIL']}"
    assert admin.post(f"{url}/api/tasks/{drafted[0]['id']}/publish", json="yes", timeout=5).status_code == 400


def test_settings_the_platform_would_refuse_are_refused_with_the_reason(hub, slack):
    slack.add_channel("CNOTIN", "elsewhere", member=False)
    slack.usergroups.add("S0SUPPORT")
    slack.users.add("U0LEAD")

    def refused(**changes) -> str:
        response = _settings(hub, "CSETS", **changes)
        assert response.status_code == 400, response.text
        return response.json()["error"]

    assert refused(threshold=1.5).startswith("threshold: 1.5 is not a confidence between 0 and 1")
    assert refused(mode="sometimes").startswith("mode: 'sometimes' is not one of mention, auto, draft")
    assert refused(review_channel="CNOTIN") == "review_channel: MorningAI is not in #elsewhere: /invite @MorningAI there first"
    assert refused(review_channel="CGONE").startswith("review_channel: MorningAI cannot see channel CGONE")
    assert refused(people=["S0NOBODY"]).startswith("people: S0NOBODY is not a user group of this Slack workspace")
    assert refused(people=["U0GHOST"]) == "people: U0GHOST is not a member of this Slack workspace"
    assert refused(follow_up_minutes=0).startswith("follow_up_minutes: 0 is not a whole number of minutes")
    assert _settings(hub, "CSETS", mode="auto").json()["mode"] == "auto"  # nothing of the refused was kept

    kept = _settings(hub, "CSETS", people=["S0SUPPORT", "U0LEAD"], threshold=0.4, follow_up_minutes=60).json()
    assert (kept["people"], kept["threshold"], kept["follow_up_minutes"]) == (["S0SUPPORT", "U0LEAD"], 0.4, 60)


def _click(hub, slack, channel: str, action_id: str, task_id, user: str = "U0ASKS") -> None:
    body = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "AFAKE",
            "trigger_id": f"trig-{uuid.uuid4().hex[:6]}", "channel": {"id": channel},
            "container": {"type": "message", "message_ts": "1"}, "response_url": slack.response_url(channel),
            "actions": [{"type": "button", "block_id": "feedback", "action_id": action_id,
                         "value": str(task_id), "action_ts": "1"}]}
    assert send(hub, slack, interaction(body), form=True).status_code == 200


def test_ask_a_person_calls_the_channels_people_once_and_a_check_mark_resolves(hub, slack):
    slack.usergroups.add("S0HELPERS")
    slack.users.add("U0LEAD")
    assert _settings(hub, "CHELP", people=["S0HELPERS", "U0LEAD"]).status_code == 200
    asked = envelope({"type": "app_mention", "user": ASKER, "text": "<@UBT1> how do we deploy?",
                      "ts": "1700000400.000100", "channel": "CHELP", "event_ts": "1700000400.000100"})
    send(hub, slack, asked)
    task = answered(hub, asked["event_id"])
    [answer] = wait_for(lambda: slack.answers("CHELP"), what="the answer")
    assert [e["action_id"] for e in answer["blocks"][-1]["elements"]] == [
        "feedback_up", "feedback_down", "escalate", "resolve"]

    _click(hub, slack, "CHELP", "escalate", task["id"])
    [called] = wait_for(lambda: [m for m in slack.posted("CHELP") if "asked for a person" in m["text"]],
                        what="the people called")
    assert called["text"] == f"<!subteam^S0HELPERS> <@U0LEAD> <@{ASKER}> asked for a person to help with this."
    assert called["thread_ts"] == "1700000400.000100"
    _click(hub, slack, "CHELP", "escalate", task["id"], user="U0OTHER")  # pressed again: called once
    responses = wait_for(lambda: len(slack.responses("CHELP")) == 2 and slack.responses("CHELP"), what="answers")
    assert [r["response_type"] for r in responses] == ["ephemeral", "ephemeral"]
    assert responses[1]["text"].startswith("Someone already asked for a person")
    admin, url = hub["admin"], hub["url"]
    [waiting] = [e for e in admin.get(f"{url}/api/escalations", timeout=5).json()["escalations"]
                 if e["id"] == str(task["id"])]
    assert waiting["escalated_by"] == f"slack:{ASKER}" and waiting["waiting_seconds"] >= 0

    # A ✅ on the question resolves it: off the list of escalations, and said how.
    reacted = envelope({"type": "reaction_added", "user": "U0LEAD", "reaction": "white_check_mark",
                        "item": {"type": "message", "channel": "CHELP", "ts": "1700000400.000100"},
                        "event_ts": "1700000401.000100"})
    assert send(hub, slack, reacted).status_code == 200
    state = wait_for(lambda: admin.get(f"{url}/api/tasks/{task['id']}", timeout=5).json()["support"]["resolved_at"]
                     and admin.get(f"{url}/api/tasks/{task['id']}", timeout=5).json()["support"], what="resolved")
    assert (state["resolved_by"], state["resolved_how"]) == ("slack:U0LEAD", "reaction")
    assert str(task["id"]) not in {e["id"] for e in admin.get(f"{url}/api/escalations", timeout=5).json()["escalations"]}
    _click(hub, slack, "CHELP", "resolve", task["id"])
    assert wait_for(lambda: len(slack.responses("CHELP")) == 3 and slack.responses("CHELP"),
                    what="the resolve answer")[2]["text"] == "This was already marked resolved."


def test_yes_resolved_on_the_follow_up_resolves_and_says_so(hub, slack):
    asked = envelope({"type": "app_mention", "user": ASKER, "text": "<@UBT1> how do we deploy?",
                      "ts": "1700000500.000100", "channel": "CFOLLOW", "event_ts": "1700000500.000100"})
    send(hub, slack, asked)
    task = answered(hub, asked["event_id"])
    _click(hub, slack, "CFOLLOW", "follow_up_resolve", task["id"])
    state = wait_for(lambda: (hub["admin"].get(f"{hub['url']}/api/tasks/{task['id']}", timeout=5).json()["support"]
                              or {}).get("resolved_how"), what="resolved")
    assert state == "follow_up"


def test_a_resolved_thread_a_person_answered_becomes_a_draft_faq_linked_to_it(hub, slack):
    slack.users.add("U0LEAD")
    assert _settings(hub, "CLEARN", people=["U0LEAD"]).status_code == 200  # a support channel
    asked = envelope({"type": "app_mention", "user": ASKER, "text": "<@UBT1> how do we rotate the VPN keys?",
                      "ts": "1700000600.000100", "channel": "CLEARN", "event_ts": "1700000600.000100"})
    send(hub, slack, asked)
    task = answered(hub, asked["event_id"])
    thread = {"channel": "CLEARN", "thread_ts": "1700000600.000100"}
    for user, text, ts in ((ASKER, "that did not help, anyone?", "1700000601.000100"),
                           ("U0LEAD", "Run `vpn-rotate --all` from the ops box, then restart the gateway.",
                            "1700000602.000100")):
        send(hub, slack, _said("CLEARN", text, ts, user=user, **{"thread_ts": thread["thread_ts"]}))
    _click(hub, slack, "CLEARN", "resolve", task["id"], user=ASKER)

    admin, url = hub["admin"], hub["url"]
    [draft] = wait_for(lambda: [f for f in admin.get(f"{url}/api/faqs?workspace=default", timeout=5).json()["faqs"]
                                if str(task["id"]) in map(str, f.get("task_ids") or [])], what="the learned draft")
    assert (draft["status"], draft["question"]) == ("draft", "how do we rotate the VPN keys?")
    assert draft["answer"] == "Run `vpn-rotate --all` from the ops box, then restart the gateway."
    assert draft["sources"][0]["location"] == (
        "https://slack.com/archives/CLEARN/p1700000602000100?thread_ts=1700000600.000100&cid=CLEARN")
