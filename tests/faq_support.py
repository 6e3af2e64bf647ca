"""The FAQ tests' corpus and steps, shared by the in-process tests and the CLI's e2e tests."""

import subprocess
import sys
import uuid
from pathlib import Path

from core.models import ChatTask
from hub import wiring
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from tasks import lifecycle
from worker import jobs, process

DEPLOY = """# Deploy guide

## Production

Deploys go out from the main branch after review. Run `make release` and watch the dashboard.

## Rollback

If the error rate climbs after a release, roll back a bad release with
`make rollback VERSION=previous`. The on-call engineer decides.
"""

STAGING = """# Staging

The staging environment is refreshed from a production snapshot every Monday.
"""

ROLLBACK = ["How do I roll back a bad release?", "How can I roll back a bad release?",
            "how do I rollback a bad release?"]


def morningai(*args: str, env: dict, stdin: str | None = None,
              python_options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The `morningai` command as a user runs it, in a child process; `stdin` answers its prompts."""
    return subprocess.run([sys.executable, *python_options, "-m", "hub", *args], env=env, cwd=Path(__file__).resolve().parents[1],
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


def ingest_docs(rt, tmp_path):
    """The deploy and staging guides, ingested with the hash embedder; returns their folder."""
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "deploy.md").write_text(DEPLOY)
    (folder / "staging.md").write_text(STAGING)
    ingest(rt.db, HashEmbedder(), [str(folder)])
    return folder


def ask(rt, *questions: tuple[str, str], workspace="default", kind="ask"):
    """Submit (user, text) questions as web tasks and answer them with a real RQ worker here."""
    ids = [lifecycle.submit(rt.db, rt.queue, ChatTask(
        platform="web", workspace=workspace, platform_event_id=str(uuid.uuid4()), text=text,
        kind=kind, user=user, channel="playground")).task_id for user, text in questions]
    process.run_in_process(wiring.for_worker(rt))
    rows = [lifecycle.get(rt.db, task_id) for task_id in ids]
    assert all(row["status"] == "posted" for row in rows), rows
    return rows


def generate(rt, workspace="default"):
    agent = wiring.build_agent(rt.db, rt.embedder, rt.settings)
    return jobs.draft_faqs(rt.db, rt.embedder, agent, rt.settings, workspace)


def by_question(found, words):
    return next(faq for faq in found if words in faq.question.lower())
