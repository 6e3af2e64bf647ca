"""The agent graph on the real database and memory, offline and through a fake OpenAI server."""

import uuid

import pytest
from agent_support import agent, ingested
from fakes import FakeOpenAI

from agents import prompts, threads
from agents.check import check_reply
from agents.llm import OpenAIChat
from core.models import ChatTask, Citation, Reply
from memory.embedders import HashEmbedder
from memory.search import Hit

GUIDE = """# Deploy guide

## Production

Deploys go out from the main branch after review. Run `make release` and watch the dashboard.

## Rollback

If the error rate climbs after a release, roll back with `make rollback VERSION=previous`.
The on-call engineer decides; nobody needs permission at night.

```bash
make rollback VERSION=previous
```
"""

STAGING = """# Staging

The staging environment is refreshed from a production snapshot every Monday. Staging deploys
happen on every merge; roll back staging by redeploying the previous build from CI.
"""

CODE = '''"""Credential rotation."""


def rotate_credentials(vault, database):
    """Rotate the staging database password; raises E4012 when the vault token expired."""
    token = vault.login()
    return database.set_password(token.new_secret())
'''


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.fixture
def knowledge(rt, tmp_path, embedder):
    return ingested(rt, embedder, tmp_path / "kb", {"deploy.md": GUIDE, "staging.md": STAGING, "rotation.py": CODE})


def _agent(rt, embedder, model=None):
    return agent(rt, embedder, model, threads.checkpointer(rt.db.pool()))


def _task(text, kind="ask", thread=None):
    return ChatTask(platform="web", workspace="default", platform_event_id=str(uuid.uuid4()),
                    text=text, kind=kind, channel="playground", thread=thread)


def test_offline_ask_is_extractive_cited_and_labelled(rt, knowledge, embedder):
    reply = _agent(rt, embedder).run(_task("How do I roll back a bad release?"))
    assert "offline mode" in reply.text and "make rollback" in reply.text
    assert reply.citations and all(c.location.startswith(f"{knowledge.name}/") for c in reply.citations)
    assert "[1]" in reply.text
    assert reply.metadata["route"] == "ask" and reply.metadata["model"] == "offline"
    assert [s["node"] for s in reply.metadata["steps"]] == ["route", "retrieve", "answer", "check"]


def test_offline_code_returns_retrieved_code_with_its_source(rt, knowledge, embedder):
    reply = _agent(rt, embedder).run(_task("rotate the staging credentials", kind="code"))
    assert any("def rotate_credentials" in block.code and block.language == "python" for block in reply.code)
    assert any(c.location.endswith("rotation.py") for c in reply.citations)


def test_offline_docs_has_every_section_and_the_footer(rt, knowledge, embedder):
    task = _task("deployments and rollbacks", kind="docs")
    reply = _agent(rt, embedder).run(task)
    for section in ("# ", "## Overview", "## Components", "## Example", "## Related", "## Troubleshooting"):
        assert section in reply.text
    assert f"task {task.id}" in reply.text and f"trace {task.trace_id}" in reply.text
    assert "workspace default" in reply.text


@pytest.mark.parametrize(("text", "kind", "route"), [
    ("hello!", "ask", "smalltalk"),
    ("help", "ask", "help"),
    ("write a function that parses the deploy log", "ask", "code"),
    ("write a runbook for rollbacks", "ask", "docs"),
    ("how do rollbacks work?", "ask", "ask"),
    ("hello", "docs", "docs"),  # an explicit kind wins over what the words suggest
])
def test_routing_without_a_model_uses_rules(rt, knowledge, embedder, text, kind, route):
    assert _agent(rt, embedder).run(_task(text, kind=kind)).metadata["route"] == route


def test_in_a_channel_that_takes_questions_only_a_request_for_code_is_answered_as_a_question(rt, knowledge, embedder):
    text = "write a function that parses the deploy log"
    agent = _agent(rt, embedder)
    assert agent.run(_task(text), kinds=["ask", "code"]).metadata["route"] == "code"
    reply = agent.run(_task(text), kinds=["ask"])
    assert reply.metadata["route"] == "ask" and reply.code == ()


def test_weak_retrieval_says_it_is_not_sure_and_shows_what_it_found(rt, knowledge, embedder):
    reply = _agent(rt, embedder).run(_task("What is the airspeed velocity of an unladen swallow?"))
    assert "not sure" in reply.text and "unladen swallow" in reply.text
    assert "“unladen”" in reply.text  # the rare word no passage uses is named
    # What it found is cited, so the asker can judge it, and the reply is marked unsure.
    assert reply.citations and "[1]" in reply.text
    assert reply.metadata["abstained"] is True and reply.metadata["confidence"] < reply.metadata["threshold"]


def test_a_follow_up_in_a_thread_is_searched_with_the_earlier_turn(rt, knowledge, embedder):
    agent = _agent(rt, embedder)
    agent.run(_task("How do rollbacks work in production?", thread="t-42"))
    follow_up = agent.run(_task("and in staging?", thread="t-42"))
    assert "rollbacks" in follow_up.metadata["query"] and "staging" in follow_up.metadata["query"]
    assert any(c.location.endswith("staging.md") for c in follow_up.citations)
    elsewhere = agent.run(_task("and in staging?", thread="t-43"))  # another thread knows nothing
    assert elsewhere.metadata["query"] == "and in staging?"


def _hit(n: int, location: str, text: str) -> Hit:
    return Hit(chunk_id=n, title=location, location=location, source="/kb", heading=location,
               text=text, snippet=text, score=1.0)


def test_check_keeps_only_real_citations_and_links():
    hits = [_hit(1, "a.md", "See https://wiki.example.com/deploy for details."), _hit(2, "b.md", "Other.")]
    reply = Reply(
        text="Deploy from main [2]. Details at https://wiki.example.com/deploy and "
             "[the portal](https://invented.example.org/x) or https://made-up.example.net [7].",
        citations=tuple(Citation(title=h.title, location=f"/kb/{h.location}") for h in hits))
    checked = check_reply(reply, hits)
    assert checked.text.startswith("Deploy from main [1].")
    assert "https://wiki.example.com/deploy" in checked.text
    assert "invented.example.org" not in checked.text and "the portal" in checked.text
    assert "made-up.example.net" not in checked.text and "[7]" not in checked.text
    assert [c.location for c in checked.citations] == ["/kb/b.md"]


# --- with a model: the real openai SDK against a local fake OpenAI server -----------------------

@pytest.fixture
def chat():
    with FakeOpenAI(dims=8) as server:
        yield server


def _model(server, **options):
    return OpenAIChat(api_key="sk-test", model="gpt-test", base_url=server.base_url, **options)


def test_a_model_answer_is_grounded_cited_and_checked(rt, knowledge, embedder, chat):
    chat.reply_with("Roll back with `make rollback VERSION=previous` [1]. "
                    "See [the runbook](https://invented.example.org/runbook) [9].")
    reply = _agent(rt, embedder, _model(chat)).run(_task("How do I undo a release?"))
    assert reply.text.startswith("Roll back with `make rollback VERSION=previous` [1].")
    assert "invented.example.org" not in reply.text and "[9]" not in reply.text
    assert len(reply.citations) == 1 and reply.metadata["model"] == "gpt-test"
    assert reply.metadata["tokens"]["prompt"] > 0
    prompt = chat.requests_to("/v1/chat/completions")[-1].body["messages"]
    assert "make rollback" in prompt[-1]["content"]  # the retrieved passages went to the model


def test_a_watched_run_tells_what_it_does_and_streams_the_checked_answer(rt, knowledge, embedder, chat):
    chat.token_delay = 0.01  # a model writing, not one that has it all at once
    chat.reply_with("Roll back with `make rollback VERSION=previous` [2], then watch the dashboard [2]. "
                    "See [the runbook](https://invented.example.org/runbook) [9].")
    events = []
    reply = _agent(rt, embedder, _model(chat)).run(_task("How do I undo a release?"), on_event=events.append)

    statuses = [event["text"] for event in events if event["type"] == "status"]
    assert statuses[0] == "Searching your docs…" and statuses[1].startswith("Found ")
    assert statuses[2:] == ["Writing the answer", "Checking citations"]
    found = next(event for event in events if event["text"].startswith("Found "))
    assert any(source["location"].endswith("deploy.md") for source in found["sources"])
    pieces = [event["text"] for event in events if event["type"] == "text"]
    assert len(pieces) >= 3  # shown as it was written, not at the end
    # What was shown is what is posted: [2] renumbered to [1], the invented link and [9] gone.
    assert "".join(pieces) == reply.text
    assert reply.text.startswith("Roll back with `make rollback VERSION=previous` [1], then watch the dashboard [1].")
    assert "invented.example.org" not in reply.text and "[9]" not in reply.text
    assert chat.requests_to("/v1/chat/completions")[-1].body["stream"] is True


def test_a_run_nobody_watches_asks_the_model_for_the_whole_answer(rt, knowledge, embedder, chat):
    _agent(rt, embedder, _model(chat)).run(_task("How do I undo a release?"))
    assert "stream" not in chat.requests_to("/v1/chat/completions")[-1].body


def test_broken_python_gets_one_repair_round(rt, knowledge, embedder, chat):
    chat.reply_with("```python\ndef rotate(:\n    pass\n```",
                    "```python\ndef rotate(vault):\n    return vault.login()\n```")
    reply = _agent(rt, embedder, _model(chat)).run(_task("rotate credentials", kind="code"))
    assert "def rotate(vault)" in reply.text and "still fails" not in reply.text
    repair = chat.requests_to("/v1/chat/completions")[-1].body["messages"][-1]["content"]
    assert "line 1" in repair  # the model was shown what failed


def test_python_still_broken_after_repair_is_posted_with_a_warning(rt, knowledge, embedder, chat):
    chat.reply_with("```python\nprint(undefined_thing)\n```", "```python\nprint(undefined_thing)\n```")
    reply = _agent(rt, embedder, _model(chat)).run(_task("print it", kind="code"))
    assert "⚠️ This code still fails its checks" in reply.text and "F821" in reply.text


def test_model_docs_get_the_metadata_footer(rt, knowledge, embedder, chat):
    chat.reply_with("# Deploys\n\n## Overview\n\nFrom main [1].")
    task = _task("deploys", kind="docs")
    reply = _agent(rt, embedder, _model(chat)).run(task)
    assert reply.text.rstrip().endswith("model gpt-test · workspace default_")
    assert f"trace {task.trace_id}" in reply.text


def test_a_model_follow_up_is_rewritten_with_the_thread_history(rt, knowledge, embedder, chat):
    agent = _agent(rt, embedder, _model(chat))
    chat.reply_with("Production rollbacks use make rollback [1].")
    agent.run(_task("How do rollbacks work in production?", thread="t-7"))
    chat.reply_with("ask", "rollbacks in staging", "Redeploy the previous build [1].")
    reply = agent.run(_task("and in staging?", thread="t-7"))
    rewrite = chat.requests_to("/v1/chat/completions")[-2].body["messages"]
    assert any("rollbacks work in production" in m["content"] for m in rewrite)
    assert reply.metadata["query"] == "rollbacks in staging"


def test_only_a_message_the_rules_cannot_route_costs_a_routing_call(rt, knowledge, embedder, chat):
    agent = _agent(rt, embedder, _model(chat))

    def routing_calls() -> int:
        return sum(request.body["messages"][0]["content"] == prompts.ROUTE
                   for request in chat.requests_to("/v1/chat/completions"))

    chat.reply_with("Roll back with make rollback [1].")
    assert agent.run(_task("How do I roll back a release?")).metadata["route"] == "ask"
    assert routing_calls() == 0
    chat.reply_with("code", "```python\ndef rollback():\n    return 'previous'\n```")
    assert agent.run(_task("rollback helper in python please")).metadata["route"] == "code"
    assert routing_calls() == 1


def test_check_leaves_code_alone():
    hits = [_hit(1, "a.md", "text")]
    text = "Use it [1].\n\n```python\nimport sys\nprint(sys.argv[1], 'https://x.example.com')\n```"
    checked = check_reply(Reply(text=text, citations=(Citation(title="a", location="/kb/a.md"),)), hits)
    assert checked.text == text
