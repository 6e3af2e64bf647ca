"""The FAQ admin API the dashboard uses: list a workspace's FAQs, start drafting them from the
questions asked, approve, reject, edit and export them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents import faq_export
from core import workspaces
from hub.web import common
from memory import faqs

bp = Blueprint("faqs", __name__, url_prefix="/api/faqs")


@bp.errorhandler(workspaces.UnknownWorkspace)
@bp.errorhandler(faqs.UnknownFaq)
def _not_found(exc):
    return common.error(str(exc), 404)


class FaqEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str | None = Field(default=None, min_length=1, max_length=1000)
    answer: str | None = Field(default=None, min_length=1, max_length=20000)
    topic: str | None = Field(default=None, max_length=200)


@bp.get("")
def list_faqs():
    status = request.args.get("status") or None
    if status is not None and status not in faqs.STATUSES:
        return common.error(f"status: {status!r} is not one of {', '.join(faqs.STATUSES)}")
    workspace = request.args.get("workspace", "default")
    listed = faqs.listing(common.runtime().db, workspace, status)
    return jsonify(workspace=workspace, faqs=[_json(faq) for faq in listed])


@bp.get("/export")
def export():
    """The approved FAQs as Markdown grouped by topic, as `morningai faq export` writes them."""
    workspace = _workspace()
    approved = faqs.listing(common.runtime().db, workspace, "approved")
    return Response(faq_export.markdown(approved, workspace), mimetype="text/markdown",
                    headers={"Content-Disposition": f'attachment; filename="faqs-{workspace}.md"'})


@bp.post("/generate")
def generate():
    """Start drafting FAQs; poll the job at the returned URL (the knowledge API's jobs)."""
    body = request.get_json(silent=True) or {}
    workspace = body.get("workspace", "default") if isinstance(body, dict) else None
    if not isinstance(workspace, str) or workspaces.find(common.runtime().db, workspace) is None:
        return common.error(f"workspace: no workspace named {workspace!r}")
    job = common.runtime().queue.enqueue_faqs(workspace)
    location = url_for("knowledge.job_status", job_id=job.id)
    return jsonify(job=job.id, status=job.get_status(), url=location), 202, {"Location": location}


@bp.post("/<uuid:faq_id>/approve")
def approve(faq_id: uuid.UUID):
    return jsonify(_json(faqs.review(common.runtime().db, _workspace(), faq_id, "approved")))


@bp.post("/<uuid:faq_id>/reject")
def reject(faq_id: uuid.UUID):
    return jsonify(_json(faqs.review(common.runtime().db, _workspace(), faq_id, "rejected")))


@bp.patch("/<uuid:faq_id>")
def edit(faq_id: uuid.UUID):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return common.error('send a JSON object with any of "question", "answer", "topic"')
    try:
        change = FaqEdit.model_validate(body)
    except ValidationError as exc:
        return common.error("; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                                for e in exc.errors()))
    for name in ("question", "answer"):
        if getattr(change, name) is not None and not getattr(change, name).strip():
            return common.error(f"{name}: must not be blank")
    rt = common.runtime()
    return jsonify(_json(faqs.edit(rt.db, rt.embedder, _workspace(), faq_id, **change.model_dump())))


def _workspace() -> str:
    return request.args.get("workspace", "default")


def _json(faq: faqs.Faq) -> dict[str, Any]:
    return {"id": str(faq.id), "question": faq.question, "answer": faq.answer, "sources": faq.sources,
            "topic": faq.topic, "status": faq.status, "asked_count": faq.asked_count,
            "askers": len(faq.askers), "confidence": faq.confidence,
            "task_ids": [str(task_id) for task_id in faq.task_ids],
            **{key: value.isoformat() if value else None
               for key, value in (("created_at", faq.created_at), ("updated_at", faq.updated_at),
                                  ("approved_at", faq.approved_at))}}
