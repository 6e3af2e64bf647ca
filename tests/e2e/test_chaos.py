"""The short chaos run (bench/chaos.py): signed Slack mentions against `morningai up` while a
worker, a gunicorn worker, Redis and PostgreSQL are each killed in turn and Slack redelivers;
every accepted event is answered exactly once and the hub keeps running."""

import pytest

from bench.chaos import FAULTS, chaos


@pytest.mark.timeout(420)
def test_a_short_chaos_run_loses_nothing_and_answers_nothing_twice():
    report = chaos(150, rate=10, every=2.5, kinds=list(FAULTS), redeliver_share=0.1, settle=120)

    assert report.hub_alive
    assert sum(report.faults.values()) >= len(FAULTS) and set(report.faults) == set(FAULTS)
    assert report.redeliveries >= 10
    assert report.accepted == report.sent == 150
    assert not report.lost, [f"{e.channel}/{e.ts}" for e in report.lost]
    assert not report.duplicated, [f"{e.channel}/{e.ts}" for e in report.duplicated]
    assert report.answered + report.told == 150
