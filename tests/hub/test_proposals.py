"""Doc changes proposed as GitHub pull requests, against the fake GitHub over real HTTP: approved
FAQs become FAQ.md on a branch with a pull request, updated (never doubled) when proposed again;
a docs answer becomes a new page; a coverage gap a page of its questions; GitHub's refusals and
a missing repository are said plainly."""

import pytest
from fakes.github_server import FakeGitHub
from faq_support import ROLLBACK, ask, by_question, generate

from agents import faq_export
from hub import wiring
from memory import faqs
from tasks import lifecycle
from worker import process

pytestmark = pytest.mark.usefixtures("offline_hash")

REPO, TOKEN, PUBLIC = "acme/handbook", "ghp_writes_docs", "https://morningai.example.com"


@pytest.fixture
def public_url(monkeypatch):
    """Set before the runtime reads its settings: pull requests link the tasks' pages."""
    monkeypatch.setenv("MORNINGAI_PUBLIC_URL", PUBLIC)


@pytest.fixture
def github():
    with FakeGitHub(token=TOKEN) as server:
        server.add_repo(REPO, {"README.md": "# Handbook\n", "docs/index.md": "# Docs\n"})
        yield server


def _connect(client, github, **settings):
    answer = client.put("/api/proposals/repository",
                        json={"repository": REPO, "api_url": github.url, "token": TOKEN, **settings})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["repository"]


def _propose(rt, client, kind: str, **body) -> dict:
    """Propose, let a worker write it to GitHub, and return the proposal as the API then lists it."""
    asked = client.post(f"/api/proposals/{kind}", json=body)
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["state"] == "proposing"
    process.run_in_process(wiring.for_worker(rt))
    shown = client.get(asked.get_json()["url"])
    assert shown.status_code == 200
    return shown.get_json()


def _pulls(github) -> list[dict]:
    return [issue for issue in github.issues[REPO] if "pull_request" in issue]


def test_approved_faqs_become_a_pull_request_that_proposing_again_updates(public_url, rt, client, faq_docs, github):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]), ("carol", "When is staging refreshed?"),
        ("dave", "when does staging get refreshed?"))
    generate(rt)
    rollback, staging = (by_question(faqs.listing(rt.db, "default"), words) for words in ("roll", "staging"))
    client.post(f"/api/faqs/{rollback.id}/approve")
    shown = _connect(client, github)
    assert shown["faq_path"] == "FAQ.md" and shown["token_set"] is True and "token" not in shown
    base = github.head(REPO)

    first = _propose(rt, client, "faq")
    assert first["state"] == "open", first
    assert first["branch"] == "morningai/faq" and first["path"] == "FAQ.md"
    (pull,) = _pulls(github)
    assert first["pull_number"] == pull["number"] and first["pull_url"] == pull["html_url"]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("morningai/faq", "main")
    assert pull["title"] == "FAQ: 1 approved question from MorningAI"
    # The branch starts at the base branch's head, with one commit: FAQ.md as the export writes it.
    head = github.head(REPO, "morningai/faq")
    assert github.repos[REPO].commits[head].parent == base and first["commit_sha"] == head
    written = github.file(REPO, "FAQ.md", "morningai/faq").decode()
    assert written == faq_export.markdown([faqs.get(rt.db, "default", rollback.id)], "default")
    assert "## Deploy guide" in written and f"### {rollback.question}" in written
    assert github.file(REPO, "FAQ.md") is None  # nothing merged: main is untouched
    # The description: the question, and each asked question with its task (linked) and trace.
    task = lifecycle.get(rt.db, rollback.task_ids[0])
    assert f"### {rollback.question}" in pull["body"]
    assert f"[`{task['id']}`]({PUBLIC}/tasks/{task['id']})" in pull["body"]
    assert f"trace `{task['trace_id']}`" in pull["body"]
    assert "never merges it" in pull["body"]

    client.post(f"/api/faqs/{staging.id}/approve")
    second = _propose(rt, client, "faq")
    assert (second["id"], second["state"], second["pull_number"]) == (first["id"], "open", first["pull_number"])
    (pull,) = _pulls(github)  # the same pull request, no second one
    newer = github.head(REPO, "morningai/faq")
    assert github.repos[REPO].commits[newer].parent == head and second["commit_sha"] == newer  # a new commit
    written = github.file(REPO, "FAQ.md", "morningai/faq").decode()
    assert "## Deploy guide" in written and "## Staging" in written  # grouped by topic
    assert pull["title"] == "FAQ: 2 approved questions from MorningAI" and staging.question in pull["body"]
    listed = client.get("/api/proposals").get_json()
    assert [p["id"] for p in listed["proposals"]] == [first["id"]] and listed["repository"]["repository"] == REPO

    # Merged on GitHub: proposing again opens a new pull request from the new base.
    github.commit(REPO, {"FAQ.md": written}, message="Merge pull request")
    github.update_issue(REPO, pull["number"], state="closed", merged=True)
    assert _propose(rt, client, "faq")["state"] == "unchanged"  # main already says this
    client.patch(f"/api/faqs/{rollback.id}", json={"answer": "Run `make rollback VERSION=previous` [1], then tell #ops."})
    third = _propose(rt, client, "faq")
    assert third["state"] == "open" and third["pull_number"] != first["pull_number"]
    assert third["earlier"] == [{"number": first["pull_number"], "url": first["pull_url"], "state": "merged"}]
    assert len([p for p in _pulls(github) if p["state"] == "open"]) == 1
    assert github.repos[REPO].commits[github.head(REPO, "morningai/faq")].parent == github.head(REPO)


def test_a_docs_answer_becomes_a_new_page_under_the_docs_path(rt, client, faq_docs, github):
    _connect(client, github, docs_path="handbook/pages")
    (task,) = ask(rt, ("alice", "how we roll back a release"), kind="docs")
    assert task["reply"]["metadata"]["route"] == "docs"

    proposed = _propose(rt, client, "doc", task_id=str(task["id"]))
    assert proposed["state"] == "open", proposed
    assert proposed["path"].startswith("handbook/pages/") and proposed["path"].endswith(".md")
    assert proposed["branch"] == "morningai/doc-" + proposed["path"].removeprefix("handbook/pages/").removesuffix(".md")
    page = github.file(REPO, proposed["path"], proposed["branch"]).decode()
    assert page.startswith("<!-- morningai doc: written by MorningAI from task")
    assert "\n# " in page and "## Overview" in page and "make rollback" in page
    assert "## Sources" in page and "offline mode" not in page and "_task " not in page  # the chat's label and footer
    (pull,) = _pulls(github)
    assert pull["title"] == f"Docs: {proposed['title']}" and str(task["id"]) in pull["body"]
    assert f"trace `{task['trace_id']}`" in pull["body"]

    (answer,) = ask(rt, ("bob", ROLLBACK[0]))
    refused = client.post("/api/proposals/doc", json={"task_id": str(answer["id"])})
    assert refused.status_code == 409 and "is not a generated document" in refused.get_json()["error"]


def test_a_coverage_gap_becomes_a_page_of_the_questions_the_docs_do_not_answer(rt, client, faq_docs, github):
    _connect(client, github)
    ask(rt, ("dave", "What is the airspeed velocity of an unladen swallow?"),
        ("erin", "what is the airspeed velocity of a swallow?"))
    (gap,) = client.get("/api/analytics").get_json()["support"]["gaps"]

    proposed = _propose(rt, client, "gap", title=gap["title"], task_ids=gap["task_ids"])
    assert proposed["state"] == "open", proposed
    assert proposed["path"].startswith("docs/") and proposed["branch"].startswith("morningai/gap-")
    page = github.file(REPO, proposed["path"], proposed["branch"]).decode()
    assert f"# {gap['title']}" in page and "Questions the docs do not answer yet" in page
    assert "What is the airspeed velocity of an unladen swallow?" in page
    (pull,) = _pulls(github)
    assert "questions the docs do not answer yet" in pull["title"]
    assert all(task_id in pull["body"] for task_id in gap["task_ids"])


def test_github_refusing_marks_the_proposal_failed_with_its_reason(rt, client, faq_docs, github):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    generate(rt)
    client.post(f"/api/faqs/{faqs.listing(rt.db, 'default')[0].id}/approve")
    _connect(client, github, token="ghp_revoked")
    failed = _propose(rt, client, "faq")
    assert failed["state"] == "failed" and "Bad credentials" in failed["message"], failed
    assert failed["pull_url"] is None and not _pulls(github)

    # A FAQ file people wrote is never replaced.
    github.commit(REPO, {"FAQ.md": "# Our FAQ, by hand\n"})
    _connect(client, github)
    refused = _propose(rt, client, "faq")
    assert refused["state"] == "failed" and "was not written by MorningAI" in refused["message"]
    assert github.file(REPO, "FAQ.md", "morningai/faq") == b"# Our FAQ, by hand\n"


def test_without_a_repository_proposing_is_409_and_bad_settings_400(client, rt, faq_docs):
    refused = client.post("/api/proposals/faq", json={})
    assert refused.status_code == 409
    assert "no docs repository is set for workspace 'default'" in refused.get_json()["error"]
    assert "PUT /api/proposals/repository" in refused.get_json()["error"]
    assert client.get("/api/proposals").get_json() == {"workspace": "default", "repository": None, "proposals": []}

    for body, complaint in [
        ({"repository": "acme"}, 'repository: give it as "owner/name"'),
        ({"repository": "acme/handbook"}, "token: a GitHub token with contents:write"),
        ({"repository": "acme/handbook", "token": "t", "faq_path": "../FAQ.md"}, "faq_path: '../FAQ.md' leaves"),
        ({"repository": "acme/handbook", "token": "t", "faq_path": "FAQ.txt"}, "faq_path: 'FAQ.txt' is not a Markdown"),
        ({"repository": "acme/handbook", "token": "t", "api_url": "ftp://x"}, "api_url: give GitHub's API"),
        ({"repository": "acme/handbook", "token": "t", "branch": "main"}, "branch: not a docs repository setting"),
    ]:
        answer = client.put("/api/proposals/repository", json=body)
        assert answer.status_code == 400 and complaint in answer.get_json()["error"], answer.get_json()

    assert client.put("/api/proposals/repository", json={"repository": "acme/handbook", "token": "t"}).status_code == 200
    kept = client.put("/api/proposals/repository", json={"repository": "acme/docs", "docs_path": "/guides//"})
    assert kept.get_json()["repository"]["docs_path"] == "guides/"  # and the token was kept
    nothing = client.post("/api/proposals/faq", json={})
    assert nothing.status_code == 409 and "no approved FAQs yet" in nothing.get_json()["error"]
    bad = client.post("/api/proposals/gap", json={"title": "VPN", "task_ids": ["nope"]})
    assert bad.status_code == 400 and "task_ids: 'nope' is not a task id" in bad.get_json()["error"]
    assert client.delete("/api/proposals/repository").status_code == 204
    assert client.delete("/api/proposals/repository").status_code == 404
