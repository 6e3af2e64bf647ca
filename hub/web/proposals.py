"""The doc proposals API: propose the approved FAQs, a generated document or a coverage gap to the
workspace's docs repository as a GitHub pull request (worker/proposals.py; a job writes it), list
the proposals with their pull requests, and set the docs repository itself."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request, url_for

from core import workspaces
from core.crypto import UnreadableSecret
from hub.web import common
from tasks import lifecycle
from worker import docs_repository, proposals

bp = Blueprint("proposals", __name__, url_prefix="/api/proposals")

MAX_GAP_TASKS = 2000  # a gap holds at most the weak questions analytics reads


@bp.errorhandler(workspaces.UnknownWorkspace)
@bp.errorhandler(proposals.UnknownProposal)
def _not_found(exc):
    return common.error(str(exc), 404)


class BadInput(ValueError):
    pass


@bp.errorhandler(BadInput)
@bp.errorhandler(docs_repository.RepositoryError)
def _bad_input(exc):
    return common.error(str(exc))


@bp.errorhandler(proposals.NothingToPropose)
def _nothing(exc):
    return common.error(str(exc), 409)


@bp.errorhandler(UnreadableSecret)
def _unreadable(exc):
    return common.error(f"the docs repository's token does not open: {exc}; set the token again", 409)


def _space(workspace=None) -> workspaces.Workspace:
    workspace = workspace or request.args.get("workspace") or "default"
    if not isinstance(workspace, str):
        raise BadInput("workspace: give the workspace's name")
    return workspaces.get(common.runtime().db, workspace)


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadInput("send a JSON object")
    return body


@bp.get("")
def list_proposals():
    """The workspace's proposals, the latest first, with their pull requests and states (as
    GitHub told at the last proposal), and whether a docs repository is set."""
    rt, space = common.runtime(), _space()
    repo = docs_repository.get(rt.db, rt.settings, space)
    return jsonify(workspace=space.name, repository=repo.shown() if repo else None,
                   proposals=[found.json() for found in proposals.listing(rt.db, space)])


@bp.get("/<uuid:proposal_id>")
def get_proposal(proposal_id: uuid.UUID):
    return jsonify(proposals.get(common.runtime().db, _space(), proposal_id).json())


@bp.post("/faq")
def propose_faq():
    """The approved FAQs as the FAQ file, grouped by topic."""
    return _propose(_space(_body().get("workspace")), "faq")


@bp.post("/doc")
def propose_doc():
    """A generated document (`{"task_id"}`) as a new page under the docs path."""
    task_id = _uuid(_body().get("task_id"), "task_id")
    task = lifecycle.get(common.runtime().db, task_id)
    if task is None:
        return common.error(f"task_id: no task {task_id}", 404)
    return _propose(_space(task["workspace"]), "doc", task_ids=[task_id])


@bp.post("/gap")
def propose_gap():
    """A coverage gap (`{"title", "task_ids", "workspace"?}`, as GET /api/analytics lists it) as a
    page stub of the questions the docs do not answer yet; without `workspace`, the workspace its
    first question was asked in."""
    body = _body()
    title, task_ids = body.get("title"), body.get("task_ids")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        return common.error("title: give the gap's suggested title (1 to 200 characters)")
    if not isinstance(task_ids, list) or not task_ids or len(task_ids) > MAX_GAP_TASKS:
        return common.error(f"task_ids: give the gap's task ids (1 to {MAX_GAP_TASKS})")
    ids = [_uuid(task_id, "task_ids") for task_id in task_ids]
    workspace = body.get("workspace")
    if workspace is None:  # the Overview's gaps span every workspace: the one its questions were asked in
        first = lifecycle.get(common.runtime().db, ids[0])
        workspace = first["workspace"] if first else "default"
    return _propose(_space(workspace), "gap", title=title, task_ids=ids)


def _uuid(value, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise BadInput(f"{name}: {value!r} is not a task id (a UUID)") from None


def _propose(space: workspaces.Workspace, kind: str, **subject):
    rt = common.runtime()
    repo = docs_repository.get(rt.db, rt.settings, space)
    if repo is None:
        return common.error(docs_repository.how_to_set(space.name), 409)
    found = proposals.request(rt.db, space, proposals.draft(rt.db, rt.settings, space.name, repo, kind, **subject))
    job = rt.queue.enqueue_proposal(space.name, found.id)
    location = url_for("proposals.get_proposal", proposal_id=found.id, workspace=space.name)
    return jsonify({**found.json(), "job": job.id, "url": location}), 202, {"Location": location}


@bp.get("/repository")
def get_repository():
    rt, space = common.runtime(), _space()
    repo = docs_repository.get(rt.db, rt.settings, space)
    return jsonify(workspace=space.name, repository=repo.shown() if repo else None)


@bp.put("/repository")
def put_repository():
    """`{"repository", "base_branch"?, "docs_path"?, "faq_path"?, "api_url"?, "token"?}`: the token
    is needed the first time, and kept when left out later; it is never sent back."""
    body = _body()
    rt, space = common.runtime(), _space(body.pop("workspace", None))
    repo = docs_repository.save(rt.db, rt.settings, space, body)
    return jsonify(workspace=space.name, repository=repo.shown())


@bp.delete("/repository")
def delete_repository():
    if not docs_repository.delete(common.runtime().db, _space()):
        return common.error("no docs repository is set for this workspace", 404)
    return "", 204
