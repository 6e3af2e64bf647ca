"""`morningai faq` as a user runs it: generate, review and export, refusals and bad input."""

import pytest
from fakes import FakeOpenAI
from faq_support import ROLLBACK, ask, by_question, generate, morningai

from memory import faqs
from tasks import usage

pytestmark = pytest.mark.usefixtures("offline_hash")


@pytest.fixture
def chat():
    with FakeOpenAI(dims=8) as server:
        yield server


def test_generation_with_a_model_is_refused_once_the_day_s_budget_is_spent(rt, cli_env, chat):
    usage.record(rt.db, "default", "faq_generation", 40, 10, None)  # an earlier run today
    env = {**cli_env, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": chat.base_url,
           "MORNINGAI_DAILY_TOKEN_BUDGET": "50"}
    refused = morningai("faq", "generate", env=env)
    assert refused.returncode == 1 and refused.stderr.strip().startswith(
        "error: Workspace `default` has used today's budget of 50 model tokens.")
    assert chat.requests_to("/v1/chat/completions") == []
    allowed = morningai("faq", "generate", env={**env, "MORNINGAI_DAILY_TOKEN_BUDGET": "51"})
    assert allowed.returncode == 0, allowed.stderr


def test_generate_review_and_export_from_the_command_line(rt, faq_docs, cli_env, tmp_path):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]), ("carol", "When is staging refreshed?"),
         ("dave", "when does staging get refreshed?"))
    generated = morningai("faq", "generate", env=cli_env)
    assert generated.returncode == 0, generated.stderr
    assert "2 new draft(s)" in generated.stdout
    rollback, staging = (by_question(faqs.listing(rt.db, "default"), words) for words in ("roll", "staging"))
    approved = morningai("faq", "approve", str(rollback.id), env=cli_env)
    assert approved.returncode == 0 and f"approved FAQ {rollback.id}" in approved.stdout
    faqs.review(rt.db, "default", staging.id, "approved")
    faqs.edit(rt.db, rt.embedder, "default", staging.id, topic="Environments")
    ask(rt, ("erin", "who do I page at night?"), ("frank", "Who do I page at night?"))
    generate(rt)  # a draft, which the export must leave out

    target = tmp_path / "FAQ.md"
    exported = morningai("faq", "export", "--output", str(target), env=cli_env)
    assert exported.returncode == 0, exported.stderr
    text = target.read_text()
    assert text.startswith("<!-- morningai faq export")
    assert text.index("## Deploy guide") < text.index(f"### {rollback.question}") < text.index("## Environments")
    assert "page at night" not in text.lower() and "make rollback" in text
    assert f"`{faq_docs.name}/deploy.md`" in text
    assert morningai("faq", "export", "--output", str(target), env=cli_env).returncode == 0  # ours: rewritten

    foreign = tmp_path / "NOTES.md"
    foreign.write_text("# My own notes\n")
    refused = morningai("faq", "export", "--output", str(foreign), env=cli_env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "was not written by `morningai faq export`" in refused.stderr
    assert foreign.read_text() == "# My own notes\n"
    assert list(tmp_path.glob(".*.tmp")) == []

    listed = morningai("faq", "list", "--status", "draft", "--json", env=cli_env)
    assert "page at night" in listed.stdout.lower() and rollback.question not in listed.stdout


@pytest.mark.parametrize(("args", "complaint"), [
    (["faq", "approve", "not-an-id"], "error: ID: 'not-an-id' is not a FAQ id"),
    (["faq", "reject", "00000000-0000-0000-0000-000000000000"],
     "error: ID: no FAQ 00000000-0000-0000-0000-000000000000 in workspace 'default'"),
    (["faq", "list", "--status", "pending"], "error: --status: 'pending' is not one of draft, approved, rejected"),
    (["faq", "generate", "--workspace", "nowhere"], "error: --workspace: no workspace named 'nowhere'"),
])
def test_bad_faq_command_input_is_one_line_and_exit_code_2(rt, cli_env, args, complaint):
    result = morningai(*args, env=cli_env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(complaint), result.stderr
