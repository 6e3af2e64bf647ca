"""Doc changes proposed to the workspace's docs repository as GitHub pull requests, never merged:

- `faq`: the approved FAQs as the FAQ file (agents/faq_export.py's document, grouped by topic),
  on branch `morningai/faq`;
- `doc`: a generated `docs` answer as a new page under the docs path, named from its title, on
  `morningai/doc-<slug>`;
- `gap`: a coverage gap (agents/gaps.py) as a page stub titled "questions the docs do not answer
  yet", listing what people asked, for a person to answer, on `morningai/gap-<slug>`.

Each pull request's description lists the questions that motivated it with their task and trace
ids. A proposal is one branch: proposing the same thing again updates its open pull request (a
new commit, a new description) rather than opening another (worker/pull_requests.py).

This module owns the `doc_proposals` table. A request records the proposal (`proposing`) and
the job `propose` writes it to GitHub, since it waits on the network; the CLI runs it in process.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from slugify import slugify

from agents import confidence, faq_export, gaps
from core import workspaces
from core.config import Settings
from core.db import Database
from core.workspaces import Workspace
from memory import faqs
from memory.embedders import Embedder
from tasks import analytics, lifecycle
from worker import docs_repository, pull_requests
from worker.docs_repository import DocsRepository
from worker.jobs import context

KINDS = ("faq", "doc", "gap")
OURS = b"<!-- morningai"  # the first line of every file we write; a file without it is people's
# GitHub takes descriptions up to 65,536 characters; the lists are cut well before.
MAX_LISTED = 50
TASKS_PER_FAQ = 5
MAX_BODY = 60_000
# A generated document's footer (agents/graph.py, agents/offline.py): the PR description says it.
_FOOTER = re.compile(r"\n*-{3,}\n_task [^\n]*_\s*$")


class NothingToPropose(ValueError):
    """The thing to propose does not exist or is not a document; the message says what to do."""


class UnknownProposal(LookupError):
    pass


@dataclass(frozen=True)
class Draft:
    """What a proposal writes, made from the database alone."""
    kind: str
    title: str  # the page's (the gap's suggested title, the document's); for `faq`, "FAQ"
    pull_title: str
    branch: str
    path: str
    content: str
    body: str
    commit_message: str
    faq_ids: list[uuid.UUID]
    task_ids: list[uuid.UUID]
    questions: list[str]


@dataclass(frozen=True)
class Proposal:
    id: uuid.UUID
    kind: str
    title: str
    branch: str
    path: str
    state: str
    message: str | None
    pull_number: int | None
    pull_url: str | None
    commit_sha: str | None
    earlier: list[dict[str, Any]]
    faq_ids: list[uuid.UUID]
    task_ids: list[uuid.UUID]
    questions: list[str]
    created_at: datetime
    updated_at: datetime

    def json(self) -> dict[str, Any]:
        found = asdict(self)
        return {**found, "id": str(self.id), "faq_ids": [str(i) for i in self.faq_ids],
                "task_ids": [str(i) for i in self.task_ids],
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat()}


# --- what to write ------------------------------------------------------------------------------

def draft(db: Database, settings: Settings, workspace: str, repo: DocsRepository, kind: str, *,
          title: str | None = None, task_ids: Sequence[uuid.UUID] = ()) -> Draft:
    """The proposal of `kind`: `faq` needs nothing more, `doc` its task (`task_ids[0]`), `gap`
    its suggested `title` and the `task_ids` of its questions."""
    if kind == "faq":
        return _faq_file(db, settings, workspace, repo)
    if kind == "doc":
        if len(task_ids) != 1:
            raise NothingToPropose("a doc is proposed from one task: give its id")
        return _doc_page(db, settings, workspace, repo, task_ids[0])
    if kind == "gap":
        return _gap_page(db, settings, workspace, repo, title or "", task_ids)
    raise NothingToPropose(f"kind: {kind!r} is not one of {', '.join(KINDS)}")


def _faq_file(db: Database, settings: Settings, workspace: str, repo: DocsRepository) -> Draft:
    approved = faqs.listing(db, workspace, "approved")
    if not approved:
        raise NothingToPropose(f"workspace {workspace!r} has no approved FAQs yet: approve some on the FAQs "
                               "page (or with `morningai faq approve ID`), then propose them")
    asked = {row["id"]: row for row in lifecycle.asked(
        db, workspace, [task for faq in approved[:MAX_LISTED] for task in faq.task_ids[:TASKS_PER_FAQ]])}
    lines = [_intro(f"`{repo.faq_path}` with the {_count(approved, 'approved FAQ')} of workspace "
                    f"`{workspace}`, grouped by topic"), "", "## The FAQs and the questions behind them", ""]
    for faq in approved[:MAX_LISTED]:
        lines += [f"### {faq.question}", "",
                  f"Topic: {faq.topic or 'General'}; asked {_count(faq.task_ids, 'time')}.", ""]
        lines += [_task_line(asked[task], settings) for task in faq.task_ids[:TASKS_PER_FAQ] if task in asked]
        lines.append("")
    lines += _more(len(approved), "approved FAQ")
    return Draft(kind="faq", title="FAQ", pull_title=f"FAQ: {_count(approved, 'approved question')} from MorningAI",
                 branch="morningai/faq", path=repo.faq_path, content=faq_export.markdown(approved, workspace),
                 body=_body(lines),
                 commit_message=f"Update {repo.faq_path}: {_count(approved, 'approved FAQ')}",
                 faq_ids=[faq.id for faq in approved], task_ids=[t for faq in approved for t in faq.task_ids],
                 questions=[faq.question for faq in approved])


def _doc_page(db: Database, settings: Settings, workspace: str, repo: DocsRepository, task_id: uuid.UUID) -> Draft:
    task = lifecycle.get(db, task_id)
    if task is None or task["workspace"] != workspace:
        raise NothingToPropose(f"no task {task_id} in workspace {workspace!r}")
    reply = task["reply"] or {}
    meta = reply.get("metadata") or {}
    if meta.get("route") != "docs" or reply.get("is_error"):
        raise NothingToPropose(f"task {task_id} is not a generated document (its answer's route is "
                               f"{meta.get('route') or 'none yet'}): ask with kind docs, e.g. `docs how we deploy`")
    if meta.get("grounded") is False:
        raise NothingToPropose(f"task {task_id}'s document found nothing in the sources to write about")
    text = _FOOTER.sub("", reply["text"]).strip()
    heading = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    if heading:
        text = text[heading.start():]  # what comes before the title is a label for the chat
    title = heading[1] if heading else task["text"].strip()[:80]
    slug = _slug(title)
    asked = lifecycle.asked(db, workspace, [task_id])
    sources = [f"{n}. {faq_export.link(c)}" for n, c in enumerate(reply.get("citations") or [], 1)]
    marker = (f"{OURS.decode()} doc: written by MorningAI from task {task_id} (trace {task['trace_id']}), "
              "reviewed in a pull request -->")
    content = "\n".join([marker, "", text, "",
                         *(["## Sources", "", *sources, ""] if sources else [])])
    lines = [_intro(f"a new page, `{repo.docs_path}{slug}.md`, from a document MorningAI wrote "
                    f"(model: {meta.get('model') or meta.get('provider') or 'unknown'})"), "",
             "## Asked for", "", *(_task_line(row, settings) for row in asked), ""]
    return Draft(kind="doc", title=title, pull_title=f"Docs: {title}", branch=f"morningai/doc-{slug}",
                 path=f"{repo.docs_path}{slug}.md", content=content, body=_body(lines),
                 commit_message=f"Docs: {title}", faq_ids=[],
                 task_ids=[task_id], questions=[task["text"]])


def _gap_page(db: Database, settings: Settings, workspace: str, repo: DocsRepository, title: str,
              task_ids: Sequence[uuid.UUID]) -> Draft:
    title = " ".join(title.split())
    if not title:
        raise NothingToPropose("title: give the gap's suggested title")
    asked = lifecycle.asked(db, workspace, list(task_ids))
    if not asked:
        raise NothingToPropose(f"task_ids: none of them is a question asked in workspace {workspace!r}")
    questions = list(dict.fromkeys(row["text"].strip() for row in asked))
    slug = _slug(title)
    content = "\n".join([
        f"{OURS.decode()} gap: proposed by MorningAI; write the answers, then remove the note below -->", "",
        f"# {title}", "",
        _GAP_NOTE, "",
        "## Questions people asked", "", *(f"- {question}" for question in questions[:MAX_LISTED]), "",
        "## Answer", "", "_Not written yet._", ""])
    lines = [_intro(f"a page stub, `{repo.docs_path}{slug}.md`, for questions the docs do not answer yet: "
                    f"{_count(questions, 'question')} people asked that MorningAI could not answer well "
                    "from the documentation. Write the answers on the branch before merging"), "",
             "## The questions", "", *(_task_line(row, settings) for row in asked[:MAX_LISTED]), "",
             *_more(len(asked), "question")]
    return Draft(kind="gap", title=title, pull_title=f"Docs: {title} (questions the docs do not answer yet)",
                 branch=f"morningai/gap-{slug}", path=f"{repo.docs_path}{slug}.md", content=content,
                 body=_body(lines), commit_message=f"Docs stub: {title}", faq_ids=[],
                 task_ids=[row["id"] for row in asked], questions=questions)


_GAP_NOTE = ("> **Questions the docs do not answer yet.** People asked these and MorningAI could not answer them "
             "well from the documentation (it was unsure, held its answer back, or handed the question to a "
             "person). Answer them on this page, remove this note, and merge; or close the pull request.")


def _slug(title: str) -> str:
    return slugify(title, max_length=60, word_boundary=True) or "page"


def _count(items: Sequence | int, noun: str) -> str:
    n = items if isinstance(items, int) else len(items)
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _intro(what: str) -> str:
    return (f"MorningAI proposes {what}. Review it like any other change: MorningAI never merges it, and "
            "proposing it again updates this pull request.")


def _task_line(row: dict[str, Any], settings: Settings) -> str:
    question = " ".join(row["text"].split())
    question = question if len(question) <= 200 else question[:199] + "…"
    task = f"[`{row['id']}`]({settings.public_url}/tasks/{row['id']})" if settings.public_url else f"`{row['id']}`"
    return f"- “{question}”: task {task}, trace `{row['trace_id']}`"


def _more(total: int, noun: str) -> list[str]:
    return [f"…and {_count(total - MAX_LISTED, noun)} more.", ""] if total > MAX_LISTED else []


def _body(lines: list[str]) -> str:
    body = "\n".join(lines).strip() + "\n"
    return body if len(body) <= MAX_BODY else body[:MAX_BODY] + "\n\n…(cut: too long for a description)\n"


def coverage_gaps(db: Database, embedder: Embedder, workspace: str | None, hours: int) -> list[gaps.Gap]:
    """The questions of the last `hours` the knowledge served badly, grouped (the Overview's
    coverage gaps; `workspace` None: all of them)."""
    weak = analytics.weak_questions(db, workspace, hours, confidence.threshold(embedder.name))
    return gaps.gaps(embedder, weak, faqs.thresholds(embedder.name).cluster)


# --- the table ----------------------------------------------------------------------------------

_COLUMNS = ", ".join(f.name for f in fields(Proposal))


def request(db: Database, space: Workspace, found: Draft) -> Proposal:
    """Record the proposal as `proposing` (its branch's row, if it was proposed before)."""
    with db.workspace(space.id) as conn:
        row = conn.execute(
            f"""INSERT INTO doc_proposals (workspace_id, kind, title, branch, path, faq_ids, task_ids, questions)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (workspace_id, branch) DO UPDATE SET
                    kind = excluded.kind, title = excluded.title, path = excluded.path, state = 'proposing',
                    message = NULL, faq_ids = excluded.faq_ids, task_ids = excluded.task_ids,
                    questions = excluded.questions, updated_at = now()
                RETURNING {_COLUMNS}""",
            (space.id, found.kind, found.title, found.branch, found.path, found.faq_ids, found.task_ids,
             found.questions)).fetchone()
    return Proposal(**row)


def get(db: Database, space: Workspace, proposal_id: uuid.UUID) -> Proposal:
    with db.workspace(space.id) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM doc_proposals WHERE id = %s", (proposal_id,)).fetchone()
    if row is None:
        raise UnknownProposal(f"no proposal {proposal_id} in workspace {space.name!r}")
    return Proposal(**row)


def listing(db: Database, space: Workspace) -> list[Proposal]:
    with db.workspace(space.id) as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM doc_proposals ORDER BY updated_at DESC").fetchall()
    return [Proposal(**row) for row in rows]


def _record(db: Database, space: Workspace, proposal_id: uuid.UUID, **changes: Any) -> Proposal:
    if "earlier" in changes:
        changes["earlier"] = Jsonb(changes["earlier"])
    assignments = ", ".join(f"{name} = %({name})s" for name in changes)
    with db.workspace(space.id) as conn:
        row = conn.execute(f"UPDATE doc_proposals SET {assignments}, updated_at = now() WHERE id = %(id)s "
                           f"RETURNING {_COLUMNS}", {**changes, "id": proposal_id}).fetchone()
    return Proposal(**row)


# --- proposing ----------------------------------------------------------------------------------

def run(db: Database, settings: Settings, space: Workspace, proposal_id: uuid.UUID) -> Proposal:
    """Write the proposal to GitHub as it stands now (the FAQs approved since it was asked for
    included) and record the pull request, or why GitHub refused. Two runs of one proposal (a
    re-proposal while the first still runs) take turns: the second updates what the first opened."""
    key = f"proposal:{proposal_id}"
    with db.connection() as lock:
        # A session lock, released when the run ends or its connection dies with the worker.
        lock.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
        try:
            return _run(db, settings, space, get(db, space, proposal_id))
        finally:
            lock.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))


def _run(db: Database, settings: Settings, space: Workspace, proposal: Proposal) -> Proposal:
    repo = docs_repository.get(db, settings, space, with_token=True)
    if repo is None:
        return _record(db, space, proposal.id, state="failed", message=docs_repository.how_to_set(space.name))
    try:
        found = draft(db, settings, space.name, repo, proposal.kind, title=proposal.title, task_ids=proposal.task_ids)
    except NothingToPropose as exc:
        return _record(db, space, proposal.id, state="failed", message=str(exc))
    github = pull_requests.Repository(repo.api_url, repo.repository, repo.token)
    change = pull_requests.Change(branch=found.branch, path=found.path, content=found.content,
                                  commit_message=found.commit_message, title=found.pull_title, body=found.body,
                                  may_replace=lambda current: current.startswith(OURS))
    motivation = {"title": found.title, "path": found.path, "faq_ids": found.faq_ids, "task_ids": found.task_ids,
                  "questions": found.questions}
    try:
        done = pull_requests.propose(github, repo.base_branch, change)
    except pull_requests.Refused as exc:
        return _record(db, space, proposal.id, state="failed", message=f"GitHub refused: {exc}", **motivation)
    if done.pull is None:
        return _record(db, space, proposal.id, state="unchanged", **motivation,
                       message=f"{found.path} on {repo.base_branch} already says this: nothing to propose")
    earlier = list(proposal.earlier)
    if done.created and proposal.pull_number is not None and proposal.pull_number != done.pull.number:
        earlier.append({"number": proposal.pull_number, "url": proposal.pull_url,
                        "state": _last_state(github, proposal.pull_number)})
    return _record(db, space, proposal.id, state=done.pull.state, message=None, pull_number=done.pull.number,
                   pull_url=done.pull.url, commit_sha=done.commit or proposal.commit_sha, earlier=earlier,
                   **motivation)


def _last_state(github: pull_requests.Repository, number: int) -> str:
    try:
        return github.pull(number).state
    except pull_requests.Refused:
        return "unknown"


def propose(workspace: str, proposal_id: str) -> dict[str, Any]:
    """The job: `run` with the worker's runtime."""
    rt, _ = context()
    space = workspaces.get(rt.db, workspace)
    try:
        proposal = run(rt.db, rt.settings, space, uuid.UUID(proposal_id))
    except Exception as exc:  # shown on the proposal, not left `proposing` for good
        _record(rt.db, space, uuid.UUID(proposal_id), state="failed", message=f"the proposal's job failed: {exc}")
        raise
    return {**proposal.json(), "summary": summary(proposal)}


def summary(proposal: Proposal) -> str:
    if proposal.state == "failed":
        return f"proposal failed: {proposal.message}"
    if proposal.state == "unchanged":
        return proposal.message or "nothing to propose"
    return f"pull request #{proposal.pull_number} ({proposal.state}): {proposal.pull_url}"
