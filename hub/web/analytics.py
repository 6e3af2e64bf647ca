"""The Overview's numbers over the last hours: tasks per hour by platform, latency, top
questions and votes over time; and the support desk's: what the bot answered on its own, handed
over, resolved, the deflection rate, the median time to a first answer, and the coverage gaps
(questions the knowledge served badly, grouped, each with a suggested document title). The
support numbers and the gaps also come as CSV, for a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from flask import Blueprint, Response, jsonify, request

from agents import gaps
from core import workspaces
from hub.web import common
from tasks import analytics, feedback, stats
from worker import proposals

bp = Blueprint("analytics", __name__, url_prefix="/api/analytics")

MAX_HOURS = 720  # 30 days


@bp.errorhandler(common.BadQuery)
def _bad_query(exc: common.BadQuery):
    return common.error(str(exc))


def _scope() -> tuple[str | None, int]:
    workspace = request.args.get("workspace") or None
    if workspace is not None and workspaces.find(common.runtime().db, workspace) is None:
        raise common.BadQuery(f"workspace: no workspace named {workspace!r}")
    return workspace, common.whole("hours", 24, 1, MAX_HOURS)


def _support(workspace: str | None, hours: int) -> tuple[dict, list[gaps.Gap]]:
    rt = common.runtime()
    return analytics.summary(rt.db, workspace, hours), proposals.coverage_gaps(rt.db, rt.embedder, workspace, hours)


@bp.get("")
def overview():
    """The Overview's numbers over the last `hours` (1 to 720, default 24); `support` for the
    `workspace` named, else all of them."""
    workspace, hours = _scope()
    db = common.runtime().db
    votes = feedback.over_time(db, hours)
    summary, found = _support(workspace, hours)
    return jsonify(hours=hours, totals=stats.totals(db, hours),
                   per_hour=[{**row, "hour": row["hour"].isoformat()} for row in stats.per_hour(db, hours)],
                   top_questions=stats.top_questions(db, hours),
                   feedback={**votes, "series": [common.row_json(row) for row in votes["series"]]},
                   support={**summary, "gaps": [{**asdict(gap), "task_ids": [str(t) for t in gap.task_ids]}
                                                for gap in found]})


@bp.get("/support.csv")
def support_csv():
    workspace, hours = _scope()
    summary, _ = _support(workspace, hours)
    return _csv(["metric", "value"], [["hours", hours], *summary.items()], "morningai-support.csv")


@bp.get("/gaps.csv")
def gaps_csv():
    workspace, hours = _scope()
    _, found = _support(workspace, hours)
    return _csv(["suggested title", "questions", "handed to a person", "examples"],
                [[gap.title, gap.questions, gap.escalated, " | ".join(gap.examples)] for gap in found],
                "morningai-coverage-gaps.csv")


def _csv(header: list[str], rows: list, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
