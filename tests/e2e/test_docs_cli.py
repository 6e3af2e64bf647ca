"""`morningai docs` as a user runs it, against the fake GitHub: set the docs repository, propose
the approved FAQs, a generated document and a coverage gap, each printing its pull request."""

import pytest
from fakes.github_server import FakeGitHub
from faq_support import ROLLBACK, ask, generate, morningai

from memory import faqs

pytestmark = pytest.mark.usefixtures("offline_hash")

REPO, TOKEN = "acme/handbook", "ghp_writes_docs"


def test_propose_from_the_command_line(rt, faq_docs, cli_env):
    ask(rt, ("alice", ROLLBACK[0]), ("bob", ROLLBACK[1]))
    generate(rt)
    faqs.review(rt.db, "default", faqs.listing(rt.db, "default")[0].id, "approved")
    (doc,) = ask(rt, ("carol", "how we roll back a release"), kind="docs")
    ask(rt, ("dave", "What is the airspeed velocity of an unladen swallow?"))

    refused = morningai("docs", "propose", "faq", env=cli_env)
    assert refused.returncode == 1 and "no docs repository is set for workspace 'default'" in refused.stderr
    with FakeGitHub(token=TOKEN) as github:
        github.add_repo(REPO, {"README.md": "# Handbook\n"})
        connected = morningai("docs", "repository", REPO, "--api-url", github.url, "--docs-path", "guides",
                               env=cli_env, stdin=f"{TOKEN}\n")
        assert connected.returncode == 0, connected.stderr
        assert "repository: acme/handbook" in connected.stdout and "docs_path: guides/" in connected.stdout
        assert TOKEN not in connected.stdout

        faq = morningai("docs", "propose", "faq", env=cli_env)
        assert faq.returncode == 0, faq.stderr
        assert faq.stdout.strip() == f"pull request #1 (open): {github.url}/{REPO}/pull/1"
        assert github.file(REPO, "FAQ.md", "morningai/faq").startswith(b"<!-- morningai faq export")
        again = morningai("docs", "propose", "faq", env=cli_env)
        assert again.stdout.strip() == faq.stdout.strip()  # the same pull request, brought up to date

        page = morningai("docs", "propose", "doc", str(doc["id"]), env=cli_env)
        assert page.returncode == 0 and "pull request #2 (open)" in page.stdout, page.stderr
        assert github.file(REPO, "guides/how-we-roll-back-a-release.md", "morningai/doc-how-we-roll-back-a-release")

        unknown = morningai("docs", "propose", "gap", "Teleportation", env=cli_env)
        assert unknown.returncode == 2 and "no coverage gap 'Teleportation'" in unknown.stderr
        gap = morningai("docs", "propose", "gap", "airspeed velocity of an unladen swallow", env=cli_env)
        assert gap.returncode == 0 and "pull request #3 (open)" in gap.stdout, gap.stderr

    bad = morningai("docs", "propose", "doc", "not-a-task", env=cli_env)
    assert bad.returncode == 2 and "TASK_ID: 'not-a-task' is not a task id" in bad.stderr
