"""Budgets and rate limits, enforced by a real worker before any call to the (fake) model."""

import uuid

import pytest
from fakes import FakeOpenAI
from support import wait_for

from core.models import ChatTask
from memory import faqs
from memory.embedders import HashEmbedder
from tasks import lifecycle


@pytest.fixture
def chat():
    with FakeOpenAI(dims=8) as server:
        yield server


# Wording the routing rules cannot place, so answering it takes a model call (the workspace is
# empty: a plain question would be told so without one).
def _ask(rt, user: str, text: str = "deploy steps, please") -> uuid.UUID:
    task = ChatTask(platform="web", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text=text, user=user)
    return lifecycle.submit(rt.db, rt.queue, task).task_id


def _posted(rt, task_id):
    return wait_for(lambda: (row := lifecycle.get(rt.db, task_id))["status"] == "posted" and row,
                    what="the task to be posted")


def _model_calls(chat) -> int:
    return len(chat.requests_to("/v1/chat/completions"))


def test_tokens_and_cost_are_recorded_and_the_daily_budget_is_enforced(rt, processes, chat):
    processes.worker(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=chat.base_url,
                     MORNINGAI_DAILY_TOKEN_BUDGET="5")
    first = _posted(rt, _ask(rt, "alice"))
    assert first["prompt_tokens"] > 5 and first["cost_usd"] > 0  # gpt-4.1-mini's price is known
    calls = _model_calls(chat)

    second = _posted(rt, _ask(rt, "bob"))
    assert "used today's budget of 5 model tokens" in second["reply"]["text"]
    assert "midnight UTC" in second["reply"]["text"]
    assert _model_calls(chat) == calls  # refused before the model was asked


def test_over_the_budget_what_costs_nothing_is_still_answered(rt, processes, chat):
    question = "How do I roll back a bad release?"
    embedder = HashEmbedder()
    draft = faqs.Draft(question=question, answer="Run `make rollback VERSION=previous`.",
                       sources=[{"title": "Deploy guide", "location": "deploy.md", "snippet": ""}],
                       topic="Deploy", confidence=0.5, task_ids=[], askers=["alice", "bob"])
    faq = faqs.add(rt.db, embedder, "default", draft, embedder.embed([question])[0])
    faqs.review(rt.db, "default", faq.id, "approved")
    processes.worker(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=chat.base_url, MORNINGAI_EMBEDDINGS="hash",
                     MORNINGAI_DAILY_TOKEN_BUDGET="5")
    _posted(rt, _ask(rt, "alice"))  # spends the day's budget
    calls = _model_calls(chat)

    served = _posted(rt, _ask(rt, "bob", "how do i roll back a bad release"))
    assert served["reply"]["metadata"]["faq"] == str(faq.id)
    assert served["reply"]["text"].startswith("Run `make rollback VERSION=previous`.")
    assert "help" in _posted(rt, _ask(rt, "bob", "help"))["reply"]["text"]
    refused = _posted(rt, _ask(rt, "bob", "rotating the staging keys, please"))
    assert "used today's budget of 5 model tokens" in refused["reply"]["text"]
    assert refused["reply"]["metadata"]["limited"] == "budget"
    assert _model_calls(chat) == calls


def test_a_user_over_the_rate_limit_is_asked_to_wait_and_others_are_not(rt, processes, chat):
    processes.worker(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=chat.base_url, MORNINGAI_USER_RATE_LIMIT="1")
    first, second = _ask(rt, "carol"), _ask(rt, "carol", "and another thing")
    other = _ask(rt, "dave")
    assert "more than the 1 this hub allows" not in _posted(rt, first)["reply"]["text"]
    assert "Please try again in a minute" in _posted(rt, second)["reply"]["text"]
    assert "try again" not in _posted(rt, other)["reply"]["text"]


def test_offline_answers_are_not_limited(rt, processes):
    processes.worker(MORNINGAI_USER_RATE_LIMIT="1", MORNINGAI_DAILY_TOKEN_BUDGET="1")
    replies = [_posted(rt, _ask(rt, "erin", f"question {n}"))["reply"]["text"] for n in range(2)]
    assert not any("try again" in text for text in replies)
