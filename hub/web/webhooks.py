"""GitHub's push webhook: `POST /webhooks/github`. A delivery signed (X-Hub-Signature-256) with
the webhook secret of a GitHub source of its repository queues a sync of that source narrowed to
the paths the push touched; anything unsigned or mis-signed is a 401 and syncs nothing. Outside
/api/, so the dashboard's login and CSRF check do not apply: the signature is the authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from flask import Blueprint, jsonify, request

from core import workspaces
from hub.web import common
from memory import credentials, store

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

MAX_PAYLOAD = 25 * 1024 * 1024  # GitHub sends at most 25 MB
# A push lists at most this many commits; one that long may have left some out.
MAX_COMMITS = 2048
UNSIGNED = ("X-Hub-Signature-256 is missing or does not match the webhook secret of a GitHub source "
            "of this repository: set the webhook's secret to the source's webhook_secret")


@bp.post("/webhooks/github")
def github():
    request.max_content_length = MAX_PAYLOAD
    body = request.get_data()
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature.startswith("sha256="):
        return common.error(UNSIGNED, 401)
    try:
        payload = json.loads(body)
        repository = payload["repository"]["full_name"]
    except (ValueError, KeyError, TypeError):
        return common.error("the body is not a GitHub delivery in JSON: set the webhook's content type "
                            "to application/json", 400)
    rt = common.runtime()
    sources = [(space, row) for space, row in _sources(rt, repository)
               if _signed(credentials.open_sealed(rt.settings, row["credentials"]).get("webhook_secret"),
                          body, signature)]
    if not sources:
        return common.error(UNSIGNED, 401)
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return jsonify(ok=True, sources=[str(row["id"]) for _, row in sources])
    if event != "push":
        return jsonify(ignored=f"a {event or 'nameless'} event: only push deliveries start a sync"), 200
    queued, ignored = [], []
    for space, row in sources:
        branch = row["options"].get("branch") or payload["repository"].get("default_branch")
        if payload.get("ref") != f"refs/heads/{branch}":
            ignored.append({"source": str(row["id"]), "reason": f"{payload.get('ref')} is not the synced branch {branch}"})
            continue
        if payload.get("deleted"):
            ignored.append({"source": str(row["id"]), "reason": f"the branch {branch} was deleted"})
            continue
        job = rt.queue.enqueue_sync(space.name, row["id"], _changed(payload))
        queued.append({"source": str(row["id"]), "job": job.id})
    log.info("GitHub push to %s (%s): %d sync(s) queued, %d ignored", repository, payload.get("ref"),
             len(queued), len(ignored))
    return jsonify(queued=queued, ignored=ignored), 202 if queued else 200


def _sources(rt, repository: str) -> list[tuple[workspaces.Workspace, dict[str, Any]]]:
    """Every workspace's GitHub sources of the repository (sources live under Row Level Security)."""
    found = []
    for space in workspaces.every(rt.db):
        with rt.db.workspace(space.id) as conn:
            found += [(space, row) for row in store.github_sources(conn, repository)]
    return found


def _signed(secret: Any, body: bytes, signature: str) -> bool:
    if not isinstance(secret, str) or not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _changed(payload: dict[str, Any]) -> dict[str, Any] | None:
    """What the push touched, commit by commit (a file added then removed ends up removed); None
    (a full sync) when the push cannot tell: a new branch, a force push, a push too long to list."""
    commits = payload.get("commits") or []
    if payload.get("created") or payload.get("forced") or len(commits) >= MAX_COMMITS:
        return None
    paths: dict[str, None] = {}
    removed: dict[str, None] = {}
    for commit in commits:
        for path in (commit.get("added") or []) + (commit.get("modified") or []):
            paths[path] = None
            removed.pop(path, None)
        for path in commit.get("removed") or []:
            removed[path] = None
            paths.pop(path, None)
    return {"paths": list(paths), "removed": list(removed), "before": payload.get("before"),
            "after": payload.get("after")}
