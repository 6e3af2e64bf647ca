"""The agent says when it is not sure: offline on the retrieval score, with a model on the
model's verdict as well; each embedder held to its own threshold."""

import uuid

import pytest
from agent_support import agent, ingested
from fakes import FakeOpenAI

from agents import confidence, prompts
from agents.llm import OpenAIChat
from core.models import ChatTask
from memory.embedders import HashEmbedder

QUEUES = """# Queues

## Failed jobs

Failed jobs are kept in the failed job registry for one year. Requeue them with
`rq requeue --all` once the cause is fixed.

## Timeouts

A job that runs longer than its timeout is stopped and marked as failed. The default
timeout is 180 seconds; pass `job_timeout` when enqueueing to change it.
"""

WORKERS = """# Workers

Start a worker with `rq worker high default low`: it takes jobs from the queues in that order.
A worker started with `--burst` quits once its queues are empty.
"""

ANSWERABLE = "How long are failed jobs kept?"
UNANSWERABLE = "Can we use Kafka as the broker for our queues?"


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.fixture
def docs(rt, tmp_path, embedder):
    return ingested(rt, embedder, tmp_path / "docs", {"queues.md": QUEUES, "workers.md": WORKERS})


def _ask(asked, text):
    return asked.run(ChatTask(platform="web", workspace="default", platform_event_id=str(uuid.uuid4()),
                              text=text, kind="ask", channel="playground"))


def test_offline_it_answers_what_the_docs_say_and_is_not_sure_of_what_they_do_not(rt, docs, embedder):
    offline = agent(rt, embedder)
    answered = _ask(offline, ANSWERABLE)
    assert answered.metadata["abstained"] is False
    assert answered.metadata["confidence"] >= answered.metadata["threshold"] == confidence.THRESHOLDS["hash"]
    assert "one year" in answered.text and answered.citations[0].location == f"{docs.name}/queues.md"

    unsure = _ask(offline, UNANSWERABLE)
    assert unsure.metadata["abstained"] is True
    assert unsure.metadata["confidence"] < unsure.metadata["threshold"]
    assert unsure.metadata["missing_words"] == ["Kafka"]
    assert "offline mode" in unsure.text and "not sure" in unsure.text and "“Kafka”" in unsure.text
    # What it found is still shown, each passage cited, one per page.
    assert "The closest I found:" in unsure.text and "[1]" in unsure.text
    assert sorted(c.location for c in unsure.citations) == [f"{docs.name}/queues.md", f"{docs.name}/workers.md"]


def test_each_embedder_family_has_its_own_threshold():
    assert confidence.threshold("hash-v1") == confidence.THRESHOLDS["hash"]
    assert confidence.threshold("local:all-MiniLM-L6-v2") == confidence.THRESHOLDS["local"]
    assert confidence.threshold("openai:text-embedding-3-small") == confidence.UNCALIBRATED
    assert confidence.THRESHOLDS["hash"] != confidence.THRESHOLDS["local"]


def test_the_agent_holds_an_answer_to_its_embedders_threshold(rt, docs, embedder, monkeypatch):
    score = _ask(agent(rt, embedder), ANSWERABLE).metadata["confidence"]
    # The same answer, were the hash embedder's cosines calibrated stricter, is given up on.
    monkeypatch.setitem(confidence.THRESHOLDS, "hash", score + 0.01)
    reply = _ask(agent(rt, embedder), ANSWERABLE)
    assert reply.metadata["abstained"] is True and reply.metadata["threshold"] == score + 0.01
    assert "not sure" in reply.text


# --- with a model: the real openai SDK against the fake OpenAI server --------------------------

@pytest.fixture
def chat():
    with FakeOpenAI(dims=8) as server:
        yield server


def _model(server):
    return OpenAIChat(api_key="sk-test", model="gpt-test", base_url=server.base_url)


def test_below_the_threshold_the_model_is_asked_and_its_no_gives_up(rt, docs, embedder, chat):
    chat.reply_with("No")
    reply = _ask(agent(rt, embedder, _model(chat)), UNANSWERABLE)
    asked = chat.requests_to("/v1/chat/completions")
    assert len(asked) == 1  # the verdict only: no answer is written
    assert asked[0].body["messages"][0]["content"] == prompts.JUDGE and asked[0].body["max_tokens"] == 2
    assert "Kafka" in asked[0].body["messages"][-1]["content"]
    assert reply.metadata["verdict"] == "no" and reply.metadata["abstained"] is True
    assert "not sure" in reply.text and "offline mode" not in reply.text and reply.citations


def test_below_the_threshold_the_models_yes_lets_it_answer(rt, docs, embedder, chat):
    chat.reply_with("yes", "Kafka is not mentioned; the queues are Redis lists [1].")
    reply = _ask(agent(rt, embedder, _model(chat)), UNANSWERABLE)
    assert reply.metadata["verdict"] == "yes" and reply.metadata["abstained"] is False
    assert reply.metadata["confidence"] >= reply.metadata["threshold"]
    assert reply.text.startswith("Kafka is not mentioned")
    assert reply.metadata["tokens"]["completion"] > 0


def test_above_the_threshold_no_verdict_is_asked(rt, docs, embedder, chat):
    chat.reply_with("Failed jobs are kept for one year [1].")
    reply = _ask(agent(rt, embedder, _model(chat)), ANSWERABLE)
    assert len(chat.requests_to("/v1/chat/completions")) == 1
    assert "verdict" not in reply.metadata and reply.metadata["abstained"] is False
