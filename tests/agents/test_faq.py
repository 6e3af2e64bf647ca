"""FAQs: drafted from the questions people asked (answered by the real task path), reviewed,
served without a model call, exported, and kept per workspace."""


import numpy as np
import psycopg
import pytest
from fakes import FakeOpenAI
from faq_support import ROLLBACK, ask, by_question, generate

from agents import confidence
from agents.faqs import cluster
from core import workspaces
from core.config import load_settings
from core.models import ChatTask
from hub import wiring
from memory import faqs
from memory.embedders import HashEmbedder
from tasks import lifecycle, stats
from worker import jobs, limits, process

pytestmark = pytest.mark.usefixtures("offline_hash")


def test_average_linkage_groups_paraphrases_and_keeps_other_questions_apart():
    texts = [*ROLLBACK, "When is staging refreshed?", "when does staging get refreshed?",
             "Who do I page at night?"]
    groups = cluster(HashEmbedder().embed(texts), 0.5)
    assert sorted(groups) == [[0, 1, 2], [3, 4], [5]]
    assert cluster(np.zeros((0, 4), dtype=np.float32), 0.5) == []


def test_questions_asked_by_two_people_or_answered_unsurely_become_drafts_once(rt, faq_docs):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]), ("alice", ROLLBACK[2]),
         # one person, answered well: not a FAQ yet
         ("alice", "When is staging refreshed?"), ("alice", "when does staging get refreshed?"),
         # one person, and the documents don't answer it: the team should write this one
         ("dave", "What is the airspeed velocity of an unladen swallow?"),
         ("bob", "hello!"))  # small talk is no question
    report = generate(rt)
    assert (report.questions, report.drafted) == (6, 2), report.summary()

    found = faqs.listing(rt.db, "default")
    assert {faq.status for faq in found} == {"draft"}
    rollback = by_question(found, "roll")
    assert rollback.question in ROLLBACK and rollback.asked_count == 3
    assert sorted(rollback.askers) == ["web:alice", "web:bob"]
    assert "make rollback" in rollback.answer and "[1]" in rollback.answer
    assert "offline mode" not in rollback.answer
    assert rollback.sources[0]["location"] == f"{faq_docs.name}/deploy.md"
    assert rollback.topic == "Deploy guide" and rollback.confidence > 0.25
    unanswered = by_question(found, "swallow")
    # Its draft says the documents may not answer it, with the closest passages for the reviewer.
    assert unanswered.askers == ["web:dave"] and unanswered.confidence < confidence.threshold(HashEmbedder.name)
    assert "not sure" in unanswered.answer
    assert not any("staging" in faq.question.lower() for faq in found)

    again = generate(rt)  # nothing new was asked
    assert (again.drafted, again.counted, again.refreshed) == (0, 0, 0)
    assert len(faqs.listing(rt.db, "default")) == 2

    ask(rt, ("carol", "how can I roll back a bad release"))
    third = generate(rt)
    assert (third.drafted, third.counted, third.refreshed) == (0, 1, 1), third.summary()
    (grown,) = [faq for faq in faqs.listing(rt.db, "default") if faq.id == rollback.id]
    assert grown.asked_count == 4 and "web:carol" in grown.askers


def test_an_approved_faq_is_counted_but_never_overwritten_and_a_rejected_one_not_redrafted(rt, client, faq_docs):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]), ("carol", "When is staging refreshed?"),
         ("dave", "when does staging get refreshed?"))
    generate(rt)
    rollback, staging = (by_question(faqs.listing(rt.db, "default"), words) for words in ("roll", "staging"))
    edited = client.patch(f"/api/faqs/{rollback.id}", json={"answer": "Run `make rollback VERSION=previous` [1]."})
    assert edited.status_code == 200 and edited.get_json()["status"] == "draft"
    assert client.post(f"/api/faqs/{rollback.id}/approve").get_json()["status"] == "approved"
    assert client.post(f"/api/faqs/{staging.id}/reject").get_json()["status"] == "rejected"

    ask(rt, ("erin", ROLLBACK[2]), ("frank", "when does staging get refreshed"),
         ("gina", "When is staging refreshed?"))
    report = generate(rt)
    assert (report.drafted, report.refreshed, report.counted) == (0, 0, 2), report.summary()
    listed = {faq["id"]: faq for faq in client.get("/api/faqs").get_json()["faqs"]}
    assert listed[str(rollback.id)]["answer"] == "Run `make rollback VERSION=previous` [1]."
    assert listed[str(rollback.id)]["asked_count"] == 3 and listed[str(rollback.id)]["approved_at"]
    assert listed[str(staging.id)]["status"] == "rejected" and listed[str(staging.id)]["askers"] == 4

    exported = client.get("/api/faqs/export")
    assert exported.status_code == 200 and exported.mimetype == "text/markdown"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="faqs-default.md"'
    text = exported.get_data(as_text=True)
    assert f"### {rollback.question}" in text and "make rollback VERSION=previous" in text
    assert staging.question not in text  # rejected: never exported


@pytest.fixture
def chat():
    with FakeOpenAI(dims=8) as server:
        yield server


def test_an_approved_faq_answers_a_close_question_without_the_model(rt, faq_docs, chat, monkeypatch):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    generate(rt)
    (draft,) = faqs.listing(rt.db, "default")
    faqs.review(rt.db, "default", draft.id, "approved")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", chat.base_url)
    agent = wiring.build_agent(rt.db, rt.embedder, load_settings())
    assert agent.model is not None

    reply = agent.run(ChatTask(platform="web", workspace="default", platform_event_id="e1",
                               text="how do i roll back a bad release"))
    assert chat.requests_to("/v1/chat/completions") == []
    assert reply.metadata["faq"] == str(draft.id) and reply.metadata["tokens"] == {"prompt": 0, "completion": 0}
    assert reply.text.startswith(draft.answer) and "approved FAQ" in reply.text
    assert [c.location for c in reply.citations] == [s["location"] for s in draft.sources]

    other = agent.run(ChatTask(platform="web", workspace="default", platform_event_id="e2",
                               text="How do I roll back staging?"))
    assert "faq" not in other.metadata and chat.requests_to("/v1/chat/completions")
    assert other.metadata["tokens"]["prompt"] > 0


def test_a_chat_model_words_the_canonical_question(rt, faq_docs, chat, monkeypatch):
    asked = [row["id"] for row in ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))]
    chat.reply_with("How do I roll back a release that went bad?", "Use `make rollback` [1].")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", chat.base_url)
    settings = load_settings()
    report = jobs.draft_faqs(rt.db, rt.embedder, wiring.build_agent(rt.db, rt.embedder, settings), settings,
                               "default")
    (faq,) = faqs.listing(rt.db, "default")
    assert faq.question == "How do I roll back a release that went bad?"
    assert faq.answer == "Use `make rollback` [1]." and report.tokens > 0
    shown = chat.requests_to("/v1/chat/completions")[0].body["messages"][-1]["content"]
    assert ROLLBACK[0] in shown and ROLLBACK[1] in shown

    # What generation spent counts against the day's budget, with the tasks' tokens, and in /metrics.
    asked_tokens = lifecycle.tokens_today(rt.db, "default")
    spent = stats.metric_totals(rt.db, [1.0], [1.0])["usage"]
    assert (spent["prompt"], spent["completion"]) == (
        report.prompt_tokens + sum(lifecycle.get(rt.db, t)["prompt_tokens"] for t in asked),
        report.completion_tokens + sum(lifecycle.get(rt.db, t)["completion_tokens"] for t in asked))
    monkeypatch.setenv("MORNINGAI_DAILY_TOKEN_BUDGET", str(asked_tokens + report.tokens))
    settings = load_settings()
    with pytest.raises(limits.OverBudget, match="used today's budget"):
        jobs.draft_faqs(rt.db, rt.embedder, wiring.build_agent(rt.db, rt.embedder, settings), settings, "default")
    monkeypatch.setenv("MORNINGAI_DAILY_TOKEN_BUDGET", str(asked_tokens + report.tokens + 1))
    limits.check_budget(rt.db, load_settings(), "default")  # one token left: not refused


def test_the_faq_command_lists_approved_faqs_on_a_topic(rt, faq_docs):
    (none,) = ask(rt, ("alice", "rollbacks"), kind="faq")
    assert "no approved FAQs about “rollbacks”" in none["reply"]["text"]
    assert "morningai faq generate" in none["reply"]["text"]
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    generate(rt)
    (faq,) = faqs.listing(rt.db, "default")
    faqs.review(rt.db, "default", faq.id, "approved")
    (listed,) = ask(rt, ("carol", "rollbacks"), kind="faq")
    assert faq.question in listed["reply"]["text"] and "make rollback" in listed["reply"]["text"]
    assert listed["reply"]["metadata"]["faqs"] == [str(faq.id)] and listed["reply"]["citations"]
    (unrelated,) = ask(rt, ("carol", "holidays"), kind="faq")
    assert "no approved FAQs about “holidays”" in unrelated["reply"]["text"]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("get", "/api/faqs?status=pending", None, 400, "status: 'pending' is not one of"),
    ("get", "/api/faqs?workspace=nowhere", None, 404, "no workspace named 'nowhere'"),
    ("get", "/api/faqs/export?workspace=nowhere", None, 404, "no workspace named 'nowhere'"),
    ("post", "/api/faqs/00000000-0000-0000-0000-000000000000/approve", None, 404, "no FAQ 00000000"),
    ("patch", "/api/faqs/00000000-0000-0000-0000-000000000000", {"answer": "x"}, 404, "no FAQ"),
    ("patch", "/api/faqs/00000000-0000-0000-0000-000000000000", {"status": "approved"}, 400, "status: Extra inputs"),
    ("patch", "/api/faqs/00000000-0000-0000-0000-000000000000", {"question": "  "}, 400, "question: must not be blank"),
    ("patch", "/api/faqs/00000000-0000-0000-0000-000000000000", [], 400, "send a JSON object"),
    ("post", "/api/faqs/generate", {"workspace": "nowhere"}, 400, "workspace: no workspace named 'nowhere'"),
])
def test_faq_api_bad_input_is_a_json_error(client, method, path, body, status, message):
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status and message in response.get_json()["error"]


def test_generation_runs_as_a_job_and_an_edited_question_is_matched_by_its_new_wording(rt, client, faq_docs):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    started = client.post("/api/faqs/generate", json={})
    assert started.status_code == 202
    process.run_in_process(wiring.for_worker(rt))
    job = client.get(started.get_json()["url"]).get_json()
    assert job["status"] == "finished" and "1 new draft(s)" in job["result"]["summary"]
    (faq,) = client.get("/api/faqs?status=draft").get_json()["faqs"]
    client.patch(f"/api/faqs/{faq['id']}", json={"question": "When is staging refreshed?"})
    client.post(f"/api/faqs/{faq['id']}/approve")
    served = faqs.serving(rt.db, rt.embedder, "default", "when is staging refreshed")
    assert served is not None and str(served.id) == faq["id"]
    assert faqs.serving(rt.db, rt.embedder, "default", ROLLBACK[0]) is None


def test_faqs_are_isolated_per_workspace(rt, faq_docs, owner):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    generate(rt)
    workspaces.ensure(rt.db, "other")
    assert faqs.listing(rt.db, "other") == [] and len(faqs.listing(rt.db, "default")) == 1
    (faq,) = faqs.listing(rt.db, "default")
    with pytest.raises(faqs.UnknownFaq):
        faqs.review(rt.db, "other", faq.id, "approved")
    with rt.db.connection() as conn:  # no workspace set: nothing visible
        assert conn.execute("SELECT count(*) AS n FROM faqs").fetchone()["n"] == 0
    other = workspaces.get(rt.db, "other")
    default = workspaces.get(rt.db, "default")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), rt.db.workspace(other.id) as conn:
        conn.execute("INSERT INTO faqs (workspace_id, question, answer, embedder, dims, embedding) "
                     "VALUES (%s, 'q', 'a', 'hash-v1', 3, '[1,0,0]')", (default.id,))
    assert owner.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'faqs'").fetchone()[0]
    assert faqs.get(rt.db, "default", faq.id).status == "draft"
