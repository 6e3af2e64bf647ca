"""The job names of the release before the rooms (`hub.worker.run_task`, …), kept for one
release: jobs queued under them before an upgrade still run after it. New jobs are queued
under worker.jobs; remove this module in the release after."""

from worker.jobs import generate_faqs, ingest_sources, run_task

__all__ = ["generate_faqs", "ingest_sources", "run_task"]
