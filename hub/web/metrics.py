"""`GET /metrics` in Prometheus' text format.

Two sources. What the web process sees (requests, platform acknowledgement latency) is
counted here, in prometheus_client's multiprocess mode under gunicorn so every web process's
counts add up. What workers do (task outcomes, run time, model usage, retrieval time) and the
queue are read at scrape time from PostgreSQL and Redis, which every process shares: a worker
on another machine needs no metrics endpoint of its own, and a restart loses nothing.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.multiprocess import MultiProcessCollector

from hub.web import common
from tasks import stats

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

# In multiprocess mode values live in files, not in this registry: it is read only without it.
_local = CollectorRegistry()
REQUESTS = Counter("morningai_http_requests", "HTTP requests answered, by endpoint and status",
                   ["method", "endpoint", "status"], registry=_local)
ACK_SECONDS = Histogram("morningai_ack_seconds", "Time to acknowledge an inbound chat message, by platform",
                        ["platform"], registry=_local,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5))

# Requests to a platform endpoint the hub turned away (core/refusals.py's reasons: a small
# fixed set): a platform starting to send something new shows here before anyone complains.
REFUSED = Counter("morningai_platform_requests_refused", "Platform requests refused, by platform and reason",
                  ["platform", "reason"], registry=_local)

# The endpoints where a platform hands the hub a message and waits for the acknowledgement.
INBOUND = {"api.post_message": "web", "slack_events": "slack", "discord.interactions": "discord"}
JOB_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
RETRIEVAL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]


def instrument(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def _count(response):
        endpoint = request.endpoint or "unmatched"  # a 404's path is the client's choice: not a label
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if endpoint in INBOUND and "started" in g:
            ACK_SECONDS.labels(INBOUND[endpoint]).observe(time.perf_counter() - g.started)
        return response


class _HubCollector:
    """Reads the shared state at scrape time."""

    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        up = GaugeMetricFamily("morningai_backend_up", "1 when the backend answered this scrape",
                               labels=["backend"])
        for backend, read in (("postgres", self._tasks), ("redis", self._queue)):
            try:
                families = read()
            except Exception:
                log.warning("metrics: %s did not answer", backend, exc_info=True)
                up.add_metric([backend], 0)
                continue
            yield from families
            up.add_metric([backend], 1)
        yield up

    def _tasks(self):
        totals = stats.metric_totals(self.rt.db, JOB_BUCKETS, RETRIEVAL_BUCKETS)
        by_status = GaugeMetricFamily("morningai_tasks", "Tasks by platform and status",
                                      labels=["platform", "status"])
        for row in totals["by_status"]:
            by_status.add_metric([row["platform"], row["status"]], row["n"])
        tokens = CounterMetricFamily("morningai_model_tokens", "Model tokens spent", labels=["type"])
        tokens.add_metric(["prompt"], totals["usage"]["prompt"])
        tokens.add_metric(["completion"], totals["usage"]["completion"])
        cost = CounterMetricFamily("morningai_model_cost_usd", "Estimated model cost, US dollars")
        cost.add_metric([], float(totals["usage"]["cost"]))
        return [by_status, tokens, cost,
                _histogram("morningai_job_duration_seconds", "Run time of a posted task's last run",
                           totals["durations"]),
                _histogram("morningai_retrieval_seconds", "Memory search time of a task", totals["retrieval"])]

    def _queue(self):
        queue = self.rt.queue
        counts = queue.stats()
        depth = GaugeMetricFamily("morningai_queue_depth", "Jobs waiting in a queue", labels=["queue"])
        depth.add_metric(["chat"], counts["queued"])
        depth.add_metric(["ingest"], queue.ingest.count)
        workers = GaugeMetricFamily("morningai_workers_live", "Workers alive (RQ's registry)")
        workers.add_metric([], counts["workers"])
        failed = GaugeMetricFamily("morningai_jobs_failed", "Jobs in RQ's failed registry")
        failed.add_metric([], counts["failed"])
        return [depth, workers, failed]


def _histogram(name: str, documentation: str, data: dict) -> HistogramMetricFamily:
    buckets = [(str(le), count) for le, count in data["buckets"]] + [("+Inf", data["count"])]
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=data["sum"])


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_local)
    registry.register(_HubCollector(common.runtime()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
