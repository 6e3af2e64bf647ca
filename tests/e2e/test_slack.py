"""Slack end to end: signed requests to `morningai web` (gunicorn, in a subprocess), a real
`morningai worker` answering, and a fake Slack Web API recording what the hub sends."""

import json
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from slack_support import (  # noqa: F401
    BOT,
    LONG_ANSWER,
    SECRET_KEY,
    TEAM,
    answered,
    context_texts,
    envelope,
    hub,
    interaction,
    mention,
    section_texts,
    send,
    slack,
    tasks_for,
)
from support import wait_for
from typer.testing import CliRunner

from adapters.slack import agent_view
from core.crypto import SecretBox
from hub.cli import main
from memory.embedders import choose_embedder
from memory.ingest import ingest
from tasks import lifecycle

# --- inbound and outbound ------------------------------------------------------------------

def test_a_mention_is_answered_once_in_its_thread_with_sources(hub, slack):
    payload = envelope(mention("CMENTION", "how do we deploy?"))
    response = send(hub, slack, payload)
    assert response.status_code == 200

    task = answered(hub, payload["event_id"])
    assert task["status"] == "posted" and task["workspace_id"] is not None
    [message] = wait_for(lambda: slack.answers("CMENTION"), what="the answer")
    assert message["thread_ts"] == "1700000001.000100"
    assert "make deploy" in section_texts(message)[0]
    contexts = context_texts(message)
    assert "*Sources*" in contexts and any("Deploying" in text and "deploy.md" in text for text in contexts)
    assert any(str(task["trace_id"]) in text for text in contexts)
    buttons = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [b["value"] for b in buttons] == [str(task["id"])] * 4  # 👍, 👎, Ask a person, Resolved
    assert task["posted_id"].startswith("CMENTION:1700")
    # Progress: :eyes: on the question once it is queued, taken off once answered (by the worker,
    # or by whoever put it up, should the answer have been quicker: worker/progress.py).
    assert [r.body["name"] for r in slack.calls("reactions.add") if r.body["channel"] == "CMENTION"] == ["eyes"]
    wait_for(lambda: not slack.reactions_on("CMENTION", "1700000001.000100"), what=":eyes: taken off")


def test_signed_malformed_events_get_a_deliberate_answer_from_gunicorn_and_store_nothing(hub, slack):
    valid = envelope(mention("CMALFORMED", "how do we deploy?"))
    refused = _refused(hub, "bad_envelope")
    cases = [
        ({**valid, "event": 0}, None, 400),
        ({**valid, "authorizations": "T1"}, None, 400),
        ({**valid, "event": {**valid["event"], "text": "deploy \ud800"}}, None, 400),
        (json.dumps(valid)[:-9], None, 400),  # cut short
        (valid, {"Content-Type": "text/plain"}, 415),
    ]
    for payload, headers, status in cases:
        response = send(hub, slack, payload, headers=headers)
        assert response.status_code == status and response.json()["reason"], response.text
    assert tasks_for(hub, valid["event_id"]) == []
    assert send(hub, slack, valid).status_code == 200  # the well-formed one, right after
    assert answered(hub, valid["event_id"])["status"] == "posted"
    assert _refused(hub, "bad_envelope") == refused + 3


def _refused(hub, reason: str) -> float:
    metrics = requests.get(f"{hub['url']}/metrics", timeout=10).text
    line = f'morningai_platform_requests_refused_total{{platform="slack",reason="{reason}"}} '
    return next((float(row.removeprefix(line)) for row in metrics.splitlines() if row.startswith(line)), 0.0)


def test_a_question_in_the_agent_conversation_is_answered_in_its_thread_with_a_status(hub, slack):
    # Slack says which channel the person is looking at, then they ask in the app's Messages tab.
    looking = envelope({"type": "app_context_changed", "user": "U2", "channel": "DDIRECT", "event_ts": "1.0",
                        "context": {"entities": [{"type": "slack#/types/channel_id", "value": "CWATCHED",
                                                  "team_id": TEAM}]}})
    assert send(hub, slack, looking).status_code == 200
    ts = "1700000002.000100"
    event = {"type": "message", "channel_type": "im", "channel": "DDIRECT", "user": "U2",
             "text": "how do we deploy?", "ts": ts, "event_ts": ts}
    payload = envelope(event)
    assert send(hub, slack, payload).status_code == 200
    task = answered(hub, payload["event_id"])
    assert task["status"] == "posted" and task["reply_target"]["context_channel"] == "CWATCHED"
    [message] = wait_for(lambda: slack.answers("DDIRECT"), what="the answer")
    assert message["thread_ts"] == ts and "make deploy" in section_texts(message)[0]

    def thread_calls(method: str) -> list[dict]:
        return [r.body for r in slack.calls(f"assistant.threads.{method}") if r.body["channel_id"] == "DDIRECT"]

    # Slack's status instead of :eyes: while it works, taken down once answered; the thread is
    # named after its question.
    working = thread_calls("setStatus")[0]
    assert (working["thread_ts"], working["status"]) == (ts, agent_view.STATUS) and working["loading_messages"]
    wait_for(lambda: thread_calls("setStatus")[-1]["status"] == "", what="the status taken down")
    assert [(c["thread_ts"], c["title"]) for c in thread_calls("setTitle")] == [(ts, "how do we deploy?")]
    assert not [r for r in slack.calls("reactions.add") if r.body["channel"] == "DDIRECT"]

    # A reply in the thread carries what the person looks at now; the thread keeps its title.
    follow_up = envelope({**event, "text": "and on Fridays?", "ts": "1700000002.000200", "thread_ts": ts,
                          "app_context": {"entities": [{"type": "slack#/types/message_context",
                                                        "value": {"channel_id": "CNOW", "message_ts": "1.0"}}]}})
    send(hub, slack, follow_up)
    task = answered(hub, follow_up["event_id"])
    assert task["reply_target"]["context_channel"] == "CNOW" and "title" not in task["reply_target"]
    assert {m["thread_ts"] for m in wait_for(lambda: slack.answers("DDIRECT")[1:], what="the reply")} == {ts}
    assert len(thread_calls("setTitle")) == 1


def test_a_slash_command_is_acknowledged_at_once_and_answered_through_its_response_url(hub, slack):
    slack.not_member.add("CNOTIN")
    trigger = f"trig-{uuid.uuid4().hex[:8]}"
    command = {"token": "legacy", "team_id": TEAM, "channel_id": "CNOTIN", "user_id": "U3",
               "command": "/morningai", "text": "how do we deploy?", "trigger_id": trigger,
               "response_url": slack.response_url("CNOTIN"), "api_app_id": "AFAKE"}
    began = time.monotonic()
    response = send(hub, slack, command, form=True)
    elapsed = time.monotonic() - began
    assert response.status_code == 200 and elapsed < 3.0  # Slack's deadline
    assert "Working on it" in response.text  # plain text: an ephemeral reply to the user

    assert answered(hub, trigger)["status"] == "posted"
    [reply] = slack.responses("CNOTIN")
    assert reply["response_type"] == "in_channel" and reply["replace_original"] is False
    assert "<@U3> asked: how do we deploy?" in context_texts(reply)
    assert "make deploy" in section_texts(reply)[0]
    assert [r.headers["x-fake-ok"] for r in slack.calls("chat.postMessage")
            if r.body.get("channel") == "CNOTIN"] == ["false"]  # tried the channel first


def test_slash_help_is_answered_at_once_and_kinds_are_passed_on(hub, slack):
    base = {"team_id": TEAM, "channel_id": "CKINDS", "user_id": "U3", "command": "/morningai",
            "response_url": slack.response_url("CKINDS")}
    response = send(hub, slack, {**base, "text": "help", "trigger_id": "trig-help"}, form=True)
    assert response.status_code == 200 and "/morningai code" in response.text
    assert tasks_for(hub, "trig-help") == []
    send(hub, slack, {**base, "text": "code a deploy script", "trigger_id": "trig-code"}, form=True)
    [task] = tasks_for(hub, "trig-code")
    assert (task["kind"], task["text"]) == ("code", "a deploy script")


def test_a_message_shortcut_is_answered_in_the_messages_thread(hub, slack):
    payload = {"type": "message_action", "callback_id": "ask_morningai", "trigger_id": "trig-shortcut",
               "team": {"id": TEAM}, "user": {"id": "U4"}, "channel": {"id": "CSHORT"},
               "message": {"type": "message", "user": "U5", "text": "how do we deploy?", "ts": "1700000003.000100"},
               "response_url": slack.response_url("CSHORT")}
    assert send(hub, slack, interaction(payload), form=True).status_code == 200
    assert answered(hub, "trig-shortcut")["status"] == "posted"
    [message] = wait_for(lambda: slack.answers("CSHORT"), what="the shortcut's answer")
    assert message["thread_ts"] == "1700000003.000100"


def test_an_event_delivered_three_times_is_answered_once(hub, slack):
    payload = envelope(mention("CRETRY", "how do we deploy?"))
    statuses = [send(hub, slack, payload, headers=retry).status_code for retry in
                ({}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
                 {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})]
    assert statuses == [200, 200, 200]
    assert len(tasks_for(hub, payload["event_id"])) == 1
    answered(hub, payload["event_id"])
    send(hub, slack, payload, headers={"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_timeout"})
    time.sleep(1.5)  # a second answer, had one been queued, would have landed by now
    assert len(slack.answers("CRETRY")) == 1


def test_a_retry_whose_first_delivery_was_lost_is_still_answered(hub, slack):
    payload = envelope(mention("CLOST", "how do we deploy?"))
    response = send(hub, slack, payload, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert response.status_code == 200
    assert answered(hub, payload["event_id"])["status"] == "posted"
    assert len(wait_for(lambda: slack.answers("CLOST"), what="the answer")) == 1


@pytest.mark.parametrize("tamper", ["wrong secret", "stale timestamp", "no headers", "body changed"])
def test_a_request_that_is_not_signed_by_slack_is_refused_without_a_task(hub, slack, tamper):
    payload = envelope(mention("CSIGNED", "how do we deploy?"))
    body = json.dumps(payload)
    headers = {"wrong secret": slack.signed(body, secret="not-the-secret"),
               "stale timestamp": slack.signed(body, timestamp=int(time.time()) - 6 * 60),
               "no headers": {},
               "body changed": slack.signed(body.replace("deploy", "delete"))}[tamper]
    response = requests.post(f"{hub['url']}/slack/events", data=body, timeout=10,
                             headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert tasks_for(hub, payload["event_id"]) == []


def test_bots_edits_other_subtypes_and_teams_not_installed_get_no_task(hub, slack):
    base = {"type": "message", "channel_type": "im", "channel": "DIGNORED", "ts": "1700000004.000100",
            "text": "how do we deploy?"}
    ignored = [
        envelope({**base, "user": BOT, "bot_id": f"BB{TEAM}"}),  # our own message
        envelope({**base, "user": "UOTHERBOT", "bot_id": "BOTHER"}),  # another bot
        envelope({**base, "subtype": "message_changed", "message": {**base, "user": "U1"}}),
        envelope({**base, "subtype": "message_deleted", "deleted_ts": base["ts"]}),
        envelope({**base, "subtype": "channel_join", "user": "U1"}),
        envelope(mention("CIGNORED", "hello", edited={"user": "U1", "ts": "1"})),
        envelope(mention("CIGNORED", "how do we deploy?"), team="TNOTINSTALLED"),
    ]
    for payload in ignored:
        assert send(hub, slack, payload).status_code == 200
    assert [tasks_for(hub, p["event_id"]) for p in ignored] == [[]] * len(ignored)


def test_a_mention_the_model_wrote_arrives_escaped(hub, slack):
    payload = envelope(mention("CESCAPE", "ESCAPE how do we deploy?"))
    send(hub, slack, payload)
    answered(hub, payload["event_id"])
    [message] = wait_for(lambda: slack.answers("CESCAPE"), what="the answer")
    # Shown as the model wrote it, but never as Slack markup that pings anyone.
    assert "Heads up <!channel> and <@U999>" in section_texts(message)[0]
    assert "<!channel>" not in json.dumps(message) and "<@U999>" not in json.dumps(message)


def test_a_5000_character_answer_arrives_whole_and_in_order(hub, slack):
    payload = envelope(mention("CLONG", "LONG how do we deploy?"))
    send(hub, slack, payload)
    answered(hub, payload["event_id"])
    messages = wait_for(lambda: slack.answers("CLONG"), what="the answer")
    paragraphs = [p for message in messages for text in section_texts(message) for p in text.split("\n\n")]
    assert len(LONG_ANSWER) > 5000 and [p.split(":")[0] for p in paragraphs] == [f"Paragraph {n}" for n in range(10)]
    assert all(len(message["blocks"]) <= 50 for message in messages)


def test_a_rate_limited_answer_is_retried_after_retry_after(hub, slack):
    slack.fail_next("chat.startStream", status=429, headers={"Retry-After": "1"})
    payload = envelope(mention("CLIMITED", "how do we deploy?"))
    send(hub, slack, payload)
    assert answered(hub, payload["event_id"])["status"] == "posted"
    calls = [r for r in slack.calls("chat.startStream") if r.body.get("channel") == "CLIMITED"]
    assert [r.headers["x-fake-ok"] for r in calls] == ["false", "true"]
    assert len(slack.answers("CLIMITED")) == 1


def test_a_task_that_fails_tells_the_user_with_its_trace_id(hub, slack):
    payload = envelope(mention("CFAIL", "BOOM how do we deploy?"))
    send(hub, slack, payload)
    task = answered(hub, payload["event_id"])
    assert task["status"] == "failed"
    [message] = wait_for(lambda: slack.answers("CFAIL"), what="the error message")
    assert str(task["trace_id"]) in json.dumps(message) and "couldn't answer" in section_texts(message)[0]
    assert message["thread_ts"] == "1700000001.000100"
    assert not any(block["type"] == "actions" for block in message["blocks"])


def test_thread_follow_ups_are_answered_where_the_channel_opted_in(hub, slack):
    first = envelope(mention("CFOLLOW", "how do we deploy?", ts="1700000010.000100"))
    send(hub, slack, first)
    answered(hub, first["event_id"])

    def reply_in_thread(ts: str, thread: str = "1700000010.000100") -> dict:
        return envelope({"type": "message", "channel_type": "channel", "channel": "CFOLLOW", "user": "U1",
                         "text": "and on Fridays?", "ts": ts, "thread_ts": thread, "event_ts": ts})

    before = reply_in_thread("1700000011.000100")
    send(hub, slack, before)
    assert tasks_for(hub, before["event_id"]) == []  # the channel has not opted in

    response = hub["admin"].put(f"{hub['url']}/api/channels/slack/CFOLLOW", json={"follow_ups": True}, timeout=5)
    assert response.status_code == 200 and (response.json()["channel"], response.json()["follow_ups"]) == ("CFOLLOW", True)
    elsewhere = reply_in_thread("1700000013.000100", thread="1700000012.000100")  # a thread the bot is not in
    send(hub, slack, elsewhere)
    assert tasks_for(hub, elsewhere["event_id"]) == []
    after = reply_in_thread("1700000014.000100")
    send(hub, slack, after)
    assert answered(hub, after["event_id"])["status"] == "posted"
    # A reply that mentions the bot comes twice, as a message and as app_mention: one answer.
    tagged = reply_in_thread("1700000015.000100")
    tagged["event"]["text"] = f"<@{BOT}> and on Mondays?"
    also = envelope(mention("CFOLLOW", "and on Mondays?", ts="1700000015.000100", thread_ts="1700000010.000100"))
    send(hub, slack, tagged)
    send(hub, slack, also)
    assert tasks_for(hub, tagged["event_id"]) == [] and answered(hub, also["event_id"])["status"] == "posted"
    messages = wait_for(lambda: len(slack.answers("CFOLLOW")) == 3 and slack.answers("CFOLLOW"), what="3 answers")
    assert {m["thread_ts"] for m in messages} == {"1700000010.000100"}


def test_channel_settings_need_an_admin_and_reject_bad_input(hub):
    anonymous = requests.put(f"{hub['url']}/api/channels/slack/C123ABC", json={"follow_ups": True}, timeout=5)
    assert anonymous.status_code == 401
    for channel, body in (("not-a-channel", {"follow_ups": True}), ("C123ABC", {"follow_ups": "yes"}),
                          ("C123ABC", None), ("C123ABC", {"follow_ups": True, "x": 1})):
        response = hub["admin"].put(f"{hub['url']}/api/channels/slack/{channel}", json=body, timeout=5)
        assert response.status_code == 400 and response.json()["error"]


def test_a_disabled_channel_gets_no_answer_and_the_task_says_why(hub, slack):
    admin, url = hub["admin"], hub["url"]
    assert admin.put(f"{url}/api/channels/slack/CQUIET", json={"enabled": False}, timeout=5).status_code == 200
    payload = envelope(mention("CQUIET", "how do we deploy?"))
    assert send(hub, slack, payload).status_code == 200
    task = answered(hub, payload["event_id"])
    assert (task["status"], task["posted_id"], task["reply"]) == ("skipped", None, None)
    listed = admin.get(f"{url}/api/tasks?status=skipped", timeout=5).json()["tasks"]
    assert [t["error"] for t in listed if t["id"] == str(task["id"])] == [
        "channel disabled: slack channel CQUIET is switched off in its settings"]
    time.sleep(1.5)  # a reconciler sweep (every second here) finds nothing to announce either
    assert not [r for r in slack.requests if r.body.get("channel") == "CQUIET"]  # no answer, not even :eyes:


def test_a_channel_limited_to_one_source_cites_only_that_source(hub, slack, tmp_path):
    rt = hub["rt"]
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "release.md").write_text("# Releasing\n\nA release is deployed with `make deploy` on Tuesdays.\n")
    ingest(rt.db, choose_embedder(rt.settings), [str(runbooks)], "default")
    sources = hub["admin"].get(f"{hub['url']}/api/knowledge/sources", timeout=5).json()["sources"]
    assert len(sources) == 2
    only = next(source["id"] for source in sources if source["location"] == str(runbooks))
    response = hub["admin"].put(f"{hub['url']}/api/channels/slack/CONESOURCE", json={"sources": [only]}, timeout=5)
    assert response.status_code == 200 and response.json()["sources"] == [only]

    everywhere = envelope(mention("CEVERY", "how do we deploy?"))
    limited = envelope(mention("CONESOURCE", "how do we deploy?"))
    for payload in (everywhere, limited):
        send(hub, slack, payload)
    locations = {name: {c["location"] for c in answered(hub, payload["event_id"])["reply"]["citations"]}
                 for name, payload in (("everywhere", everywhere), ("limited", limited))}
    # The answer cites the passage it used: the best match of all sources, or of the channel's one.
    assert {location.rsplit("/", 1)[-1] for location in locations["everywhere"]} == {"deploy.md"}
    assert locations["limited"] and all(location.startswith(f"{runbooks.name}/") for location in locations["limited"])
    [message] = wait_for(lambda: slack.answers("CONESOURCE"), what="the limited channel's answer")
    sources_block = " ".join(context_texts(message))
    assert "release.md" in sources_block and "deploy.md" not in sources_block


def test_a_kind_the_channel_does_not_take_gets_a_reply_naming_the_ones_it_does(hub, slack):
    hub["admin"].put(f"{hub['url']}/api/channels/slack/CNOASK", json={"kinds": ["docs", "help"]}, timeout=5)
    payload = envelope(mention("CNOASK", "how do we deploy?"))
    send(hub, slack, payload)
    assert answered(hub, payload["event_id"])["status"] == "posted"
    [message] = wait_for(lambda: slack.answers("CNOASK"), what="the refusal")
    assert section_texts(message)[0].startswith("This channel doesn't take `ask` requests; it takes `docs`, `help`.")


def test_a_feedback_click_is_stored_and_can_be_changed(hub, slack):
    payload = envelope(mention("CFEEDBACK", "how do we deploy?"))
    send(hub, slack, payload)
    task = answered(hub, payload["event_id"])

    def click(action: str) -> None:
        body = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U7"}, "api_app_id": "AFAKE",
                "trigger_id": f"trig-{uuid.uuid4().hex[:6]}", "channel": {"id": "CFEEDBACK"},
                "container": {"type": "message", "message_ts": "1"}, "response_url": slack.response_url("CFEEDBACK"),
                "actions": [{"type": "button", "block_id": "feedback", "action_id": action,
                             "value": str(task["id"]), "action_ts": "1"}]}
        assert send(hub, slack, interaction(body), form=True).status_code == 200

    def votes() -> list[tuple]:
        with hub["rt"].db.connection() as conn:
            return [(r["user_id"], r["vote"]) for r in
                    conn.execute("SELECT user_id, vote FROM feedback WHERE task_id = %s", (task["id"],))]

    click("feedback_up")
    assert votes() == [("U7", 1)]
    click("feedback_down")
    assert votes() == [("U7", -1)]


def install(hub, slack, team: str) -> requests.Response:
    """A team's admin through the OAuth flow: /slack/install, Slack's consent page, the redirect."""
    start = requests.get(f"{hub['url']}/slack/install", allow_redirects=False, timeout=5)
    assert start.status_code == 302
    authorize = urlsplit(start.headers["Location"])
    query = parse_qs(authorize.query)
    assert authorize.path == "/oauth/v2/authorize" and query["client_id"] == [slack.client_id]
    assert "app_mentions:read" in query["scope"][0]
    # The state cookie is Secure, which requests keeps from plain http; a browser sends it to localhost.
    cookie = start.headers["Set-Cookie"].split(";")[0]

    def redirect() -> requests.Response:
        return requests.get(f"{hub['url']}/slack/oauth_redirect", timeout=5, headers={"Cookie": cookie},
                            params={"code": slack.oauth_code(team), "state": query["state"][0]})

    done = redirect()
    assert redirect().status_code != 200  # a state is good for one install only
    return done


def installed(hub, team: str) -> dict | None:
    with hub["rt"].db.connection() as conn:
        return conn.execute("SELECT i.bot_token, w.name FROM slack_installations i JOIN workspaces w "
                            "ON w.id = i.workspace_id WHERE i.team_id = %s", (team,)).fetchone()


def test_an_oauth_install_stores_an_encrypted_token_and_answers_in_that_team(hub, slack):
    assert install(hub, slack, "T2").status_code == 200
    issued = slack.issued["T2"]
    row = installed(hub, "T2")
    stored = bytes(row["bot_token"])
    assert issued.encode() not in stored and SecretBox(SECRET_KEY, "slack bot tokens").open(stored) == issued
    assert row["name"] == "slack-t2"

    payload = envelope(mention("CTEAM2", "how do we deploy?") | {"text": "<@UBT2> how do we deploy?"}, team="T2")
    send(hub, slack, payload)
    task = answered(hub, payload["event_id"])
    assert task["status"] == "posted" and lifecycle.get(hub["rt"].db, task["id"])["workspace"] == "slack-t2"
    calls = [r for r in slack.requests if r.body.get("channel") == "CTEAM2" and r.path.startswith("/api/chat.")]
    assert calls and {r.headers["authorization"] for r in calls} == {f"Bearer {issued}"}


def test_the_messages_tab_suggests_a_teams_approved_faqs_then_what_its_people_ask(hub, slack):
    assert install(hub, slack, "T4").status_code == 200
    rt, url, admin = hub["rt"], hub["url"], hub["admin"]
    ingest(rt.db, choose_embedder(rt.settings), [str(Path(hub["env"]["MORNINGAI_HOME"]) / "docs")], "slack-t4")

    def open_tab(channel: str) -> list[str]:
        opened = {"type": "app_home_opened", "user": "U41", "channel": channel, "tab": "messages", "event_ts": "1.0"}
        assert send(hub, slack, envelope(opened, team="T4")).status_code == 200
        [call] = wait_for(lambda: [r.body for r in slack.calls("assistant.threads.setSuggestedPrompts")
                                   if r.body["channel_id"] == channel], what="the suggested prompts")
        # The agent experience takes prompts for the conversation: a thread_ts would be ignored.
        assert call["title"] == agent_view.GREETING and "thread_ts" not in call
        return [prompt["message"] for prompt in call["prompts"]]

    assert open_tab("D4NEW") == list(agent_view.GENERIC_PROMPTS)  # a new team: nothing asked yet

    for user, ts in (("U41", "1700000040.000100"), ("U42", "1700000041.000100")):
        asked = envelope({"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
                          "text": "how do we deploy?", "ts": ts, "event_ts": ts}, team="T4")
        send(hub, slack, asked)
        assert answered(hub, asked["event_id"])["status"] == "posted"
    # Two people asked it: FAQ generation drafts it, an admin approves and rewords it.
    assert admin.post(f"{url}/api/faqs/generate", json={"workspace": "slack-t4"}, timeout=5).status_code == 202
    [draft] = wait_for(lambda: admin.get(f"{url}/api/faqs?workspace=slack-t4", timeout=5).json()["faqs"],
                       what="the drafted FAQ")
    assert admin.post(f"{url}/api/faqs/{draft['id']}/approve?workspace=slack-t4", timeout=5).status_code == 200
    assert admin.patch(f"{url}/api/faqs/{draft['id']}?workspace=slack-t4", timeout=5,
                       json={"question": "How do I ship a release?"}).json()["status"] == "approved"

    assert open_tab("D4LATER") == ["How do I ship a release?", "how do we deploy?"]


def test_follow_ups_are_set_and_listed_from_the_command_line(hub):
    runner = CliRunner()  # in this process, whose environment points at the module's hub
    assert runner.invoke(main.app, ["slack", "follow-ups", "CCLI", "on"]).stdout.strip() == \
        "thread follow-ups in CCLI: on"
    assert "CCLI" in runner.invoke(main.app, ["slack", "channels"]).stdout
    refused = runner.invoke(main.app, ["slack", "follow-ups", "general", "on"])
    assert isinstance(refused.exception, main.CommandError) and "not a Slack channel id" in str(refused.exception)
    listed = hub["admin"].get(f"{hub['url']}/api/channels/slack", timeout=5).json()["channels"]
    assert {"channel": "CCLI", "follow_ups": True} in [{k: c[k] for k in ("channel", "follow_ups")} for c in listed]


def test_an_uninstalled_team_is_forgotten_and_no_longer_answered(hub, slack):
    assert install(hub, slack, "T3").status_code == 200 and installed(hub, "T3")
    uninstalled = envelope({"type": "app_uninstalled", "event_ts": "1700000020.000100"}, team="T3")
    assert send(hub, slack, uninstalled).status_code == 200
    assert installed(hub, "T3") is None
    payload = envelope(mention("CTEAM3", "how do we deploy?") | {"text": "<@UBT3> how do we deploy?"}, team="T3")
    assert send(hub, slack, payload).status_code == 200
    assert tasks_for(hub, payload["event_id"]) == []


def test_slack_verifies_the_request_url_with_a_signed_challenge(hub, slack):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = requests.post(f"{hub['url']}/slack/events", data=body, timeout=5,
                             headers={"Content-Type": "application/json", **slack.signed(body)})
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    forged = requests.post(f"{hub['url']}/slack/events", data=body, timeout=5,
                           headers={"Content-Type": "application/json", **slack.signed(body, secret="guess")})
    assert forged.status_code == 401
