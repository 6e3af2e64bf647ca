"""Liveness (`/healthz`) and readiness (`/readyz`): can this hub take and answer messages?"""

from __future__ import annotations

from flask import Blueprint, jsonify

from hub import migrate
from hub.web import common

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def readiness(rt) -> tuple[bool, dict]:
    """Each check in plain words; the hub is ready when none of them reports a problem."""
    problems: list[str] = []
    report: dict = {}
    try:
        pending = migrate.pending(rt.db)
        report["migrations"] = "current" if not pending else [f"{m.version}_{m.name}" for m in pending]
        if pending:
            problems.append(f"{len(pending)} migration(s) not applied: run `morningai migrate`")
        else:  # the runtime role exists once migrated: check the hub's own connections too
            with rt.db.connection(timeout=3) as conn:
                conn.execute("SELECT 1")
        report["postgres"] = "ok"
    except Exception as exc:
        report["postgres"] = f"unreachable: {type(exc).__name__}: {exc}".strip()
        problems.append("PostgreSQL is unreachable: check DATABASE_URL and that the server is up")
    try:
        rt.queue.redis.ping()
        report["redis"] = "ok"
        report.update(rt.queue.stats())
        if report["workers"] == 0:
            problems.append("no live worker: start one with `morningai worker` (or use `morningai up`)")
    except Exception as exc:
        report["redis"] = f"unreachable: {type(exc).__name__}: {exc}"
        problems.append("Redis is unreachable: check REDIS_URL and that the server is up")
    report["problems"] = problems
    return not problems, report


@bp.get("/readyz")
def readyz():
    ready, report = readiness(common.runtime())
    return jsonify(status="ready" if ready else "not ready", **report), (200 if ready else 503)
