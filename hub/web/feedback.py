"""The feedback review API the dashboard uses: answers people voted on, 👎 first, filtered; and
marking one reviewed, which takes it off the queue until someone votes on it again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request, url_for

from core.models import PLATFORMS
from hub.web import common
from tasks import feedback

bp = Blueprint("feedback", __name__, url_prefix="/api/feedback")

VOTES = ("up", "down")
REVIEWED = {"true": True, "false": False}


def _since() -> datetime | None:
    value = request.args.get("since") or None
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise common.BadQuery(f"since: {value!r} is not a date or time (ISO 8601, e.g. 2025-06-01 "
                           "or 2025-06-01T09:00:00Z)") from None
    # A date or time without a zone is UTC, the zone the hub's times are shown in.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("")
def list_feedback():
    """Answers with votes: those with a 👎 first, then the most recently voted on."""
    try:
        reviewed = common.choice("reviewed", tuple(REVIEWED))
        filters = {"vote": common.choice("vote", VOTES), "platform": common.choice("platform", PLATFORMS),
                   "since": _since(), "reviewed": REVIEWED.get(reviewed),
                   "limit": common.whole("limit", 50, 1, 200), "offset": common.whole("offset", 0, 0, 10_000_000)}
    except common.BadQuery as exc:
        return common.error(str(exc))
    rows, total = feedback.listing(common.runtime().db, **filters, workspace=request.args.get("workspace") or None)
    return jsonify(total=total, feedback=[
        {**common.row_json(row), "task_url": url_for("api.get_task", task_id=row["task_id"])} for row in rows])


@bp.post("/<uuid:task_id>/review")
def review(task_id: uuid.UUID):
    reviewed_at = feedback.mark_reviewed(common.runtime().db, task_id, g.user.id)
    if reviewed_at is None:
        return common.error(f"nobody voted on task {task_id}: nothing to review", 404)
    return jsonify(task_id=str(task_id), reviewed_at=reviewed_at.isoformat())
