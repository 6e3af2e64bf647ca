"""The jobs RQ runs, by name: `run_task` for each queued task id, `ingest_sources` and
`generate_faqs` for the dashboard's long jobs.

`run_task` claims the task, applies its channel's rules and the spending limits, answers it
(reusing the reply of an earlier run that answered but did not post), hands the Reply to the
platform's poster and records the posted id. The posters and the agent come from the process
that runs RQ (`install`: worker/process.py, with what hub/wiring.py made), so this package knows
no platform.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from rq import get_current_job

from agents import faqs as faq_drafting
from agents.graph import Agent
from core import logs
from core.config import Settings
from core.db import Database
from core.models import ChatTask, Citation, Reply
from core.runtime import Runtime
from memory.embedders import Embedder
from memory.ingest import Progress, ingest
from tasks import events, lifecycle, usage
from worker import channels, desk, limits, modes, progress
from worker.posters import AnswerStream, NoPoster, PosterRegistry, Streams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wiring:
    """What a worker process runs its jobs with, made by the composition root."""
    runtime: Runtime
    posters: PosterRegistry
    # Called once per process: the agent's checkpointer holds pooled connections, which a
    # forked work-horse must not share with its parent.
    make_agent: Callable[[], Agent]


# Set before RQ starts working (`install`); a work-horse forked from that process inherits it.
_wiring: Wiring | None = None
_agents: dict = {}
_making_agent = threading.Lock()
# The tasks this process's threads are running: the same job delivered again while its first
# delivery is still running here must not run beside it.
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


def install(wiring: Wiring) -> None:
    global _wiring
    _wiring = wiring


def context() -> tuple[Runtime, PosterRegistry]:
    """This process's runtime and posters, as `install` was handed them."""
    if _wiring is None:
        raise RuntimeError("no worker wiring in this process: run jobs with `morningai worker` (or `morningai up`), "
                           "which hands them the platforms' posters and the agent")
    return _wiring.runtime, _wiring.posters


def _agent() -> Agent:
    """This process's agent (see Wiring.make_agent), shared by its threads; made again when the
    settings in force change (a model key saved in the dashboard), for the tasks that start
    after that."""
    settings = _wiring.runtime.settings
    with _making_agent:
        if _agents.get("key") != (os.getpid(), id(_wiring)) or _agents.get("settings") is not settings:
            _agents.update(key=(os.getpid(), id(_wiring)), settings=settings, agent=_wiring.make_agent())
        return _agents["agent"]


def run_task(task_id: str) -> str:
    rt, posters = context()
    job = get_current_job()
    worker_name = job.worker_name if job and job.worker_name else socket.gethostname()
    with logs.context(task_id=task_id):
        with _in_flight_lock:
            if task_id in _in_flight:
                log.info("task already running in this process")
                return "not runnable (already running here)"
            _in_flight.add(task_id)
        try:
            task = lifecycle.start(rt.db, uuid.UUID(task_id), worker_name)
            if task is None:
                log.info("task not runnable here (already done, or running elsewhere)")
                return "not runnable (already done, or running elsewhere)"
            with logs.context(trace_id=task.trace_id, platform=task.platform, workspace=task.workspace):
                return _run(rt, posters, job, task)
        finally:
            with _in_flight_lock:
                _in_flight.discard(task_id)


def _run(rt: Runtime, posters: PosterRegistry, job, task: ChatTask) -> str:
    log.info("running %s task, attempt %s", task.kind, task.attempts)
    try:
        # Read here rather than when the message came in: the platforms' acknowledgement
        # waits on nothing more, and a change applies to tasks already queued.
        rules = channels.of_task(rt.db, task)
        if not rules.enabled:
            return _skip(rt, posters, task)
        if task.attempts > 1:
            # The sign of work went up when the task was first queued (worker/progress.py); an
            # earlier run that died may have taken it down again.
            progress.show(posters, task)
        stream = None
        unasked = modes.unasked(task)
        reply = lifecycle.stored_reply(rt.db, task.id)
        if reply is None:
            # An unasked question's answer may never be posted: nothing shows before that is known.
            stream = None if unasked else _stream(rt, posters, task)
            reply = _answer(rt, task, rules, stream)
            lifecycle.record_reply(rt.db, task.id, reply)
        held = modes.serve(rt, posters, task, rules, reply) if unasked else None
        if held is not None:
            events.publish(rt.queue.redis, task.id, {"type": "done", "status": held.status})
            log.info("%s", held.reason)
            return held.reason
        # A reply recorded by an earlier run goes through `post`, which replaces the message
        # that run streamed into (task.streamed_id), if any.
        posted_id = stream.finish(reply) if stream else posters.for_task(task).post(task, reply)
        lifecycle.mark_posted(rt.db, task.id, posted_id)
        events.publish(rt.queue.redis, task.id, {"type": "done", "status": "posted"})  # wakes watchers at once
        progress.finished(posters, task)
        desk.plan_follow_up(rt, task, rules, reply)
        log.info("posted as %s", posted_id)
        return posted_id
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if job is not None and job.retries_left:
            log.warning("run failed, RQ retries it: %s", error)
            lifecycle.mark_retrying(rt.db, task.id, error)
        elif lifecycle.mark_failed(rt.db, task.id, error):
            log.error("task failed: %s", error)
            events.publish(rt.queue.redis, task.id, {"type": "done", "status": "failed"})
            announce_failure(rt, posters, lifecycle.load(rt.db, task.id))
        raise


def _skip(rt: Runtime, posters: PosterRegistry, task: ChatTask) -> str:
    """A task of a disabled channel: nothing is posted, and the task says why."""
    reason = f"channel disabled: {task.platform} channel {task.channel} is switched off in its settings"
    lifecycle.mark_skipped(rt.db, task.id, reason)
    log.info("skipped: %s", reason)
    # Progress an adapter showed when the message came in (Discord's 🤔) would stay forever.
    progress.withdrawn(posters, task)
    return "skipped: channel disabled"


def ingest_sources(workspace: str, targets: list[str], *, reembed: bool = False,
                   include: list[str] = (), exclude: list[str] = ()) -> dict:
    """The ingest job the dashboard starts; its progress is kept in the job's meta for polling."""
    rt, _ = context()
    job = get_current_job()
    last_saved = 0.0

    def save_progress(so_far: Progress) -> None:
        nonlocal last_saved
        if time.monotonic() - last_saved < 0.5 and so_far.files_done < so_far.files_total:
            return
        job.meta["progress"] = {"files_total": so_far.files_total, "files_done": so_far.files_done,
                                "chunks": so_far.chunks, "current": so_far.current,
                                "embeddings_per_second": round(so_far.embeddings_per_second, 1)}
        job.save_meta()
        last_saved = time.monotonic()

    report = ingest(rt.db, rt.embedder, targets, workspace, reembed=reembed, include=include,
                    exclude=exclude, max_bytes=rt.settings.max_file_bytes,
                    fetch_timeout=rt.settings.fetch_timeout,
                    on_progress=save_progress if job else lambda so_far: None)
    return {**dataclasses.asdict(report), "summary": report.summary()}


def generate_faqs(workspace: str) -> dict:
    """The FAQ generation job the dashboard starts."""
    rt, _ = context()
    report = draft_faqs(rt.db, rt.embedder, _agent(), rt.settings, workspace)
    return {**dataclasses.asdict(report), "summary": report.summary()}


def draft_faqs(db: Database, embedder: Embedder, agent: Agent, settings: Settings,
               workspace: str) -> faq_drafting.Report:
    """Draft FAQs from the questions asked in `workspace` (`morningai faq generate` and the job).
    With a model, the tokens it spends count against the workspace's daily budget, and a spent
    budget refuses the run (limits.OverBudget)."""
    if agent.model is not None:
        limits.check_budget(db, settings, workspace)
    asked = [faq_drafting.Asked(row["id"], row["text"], row["asker"], row["confidence"])
             for row in lifecycle.asked_questions(db, workspace, faq_drafting.MAX_QUESTIONS)]
    report = faq_drafting.generate(db, embedder, agent, workspace, asked)
    if report.tokens:
        usage.record(db, workspace, "faq_generation", report.prompt_tokens, report.completion_tokens,
                           limits.cost(agent.model.name, report.prompt_tokens, report.completion_tokens))
    return report


def _stream(rt: Runtime, posters: PosterRegistry, task: ChatTask) -> AnswerStream | None:
    """Where the platform can show the answer as it is written, the stream it is shown in."""
    try:
        poster = posters.for_task(task)
    except NoPoster:
        # Answered all the same: posting then says why it cannot, and a retry once the platform
        # is set up posts the recorded reply without asking again.
        return None
    if not isinstance(poster, Streams):
        return None
    return poster.stream(task, started=lambda message_id: lifecycle.record_streamed(rt.db, task.id, message_id))


def _shown(rt: Runtime, task: ChatTask, stream: AnswerStream | None):
    """The agent's events, to the task's watchers (the dashboard) and to its stream."""
    def on_event(event: dict) -> None:
        events.publish(rt.queue.redis, task.id, event)
        if stream is None:
            return
        if event["type"] == "status":
            stream.step(event["text"], [Citation(**source) for source in event["sources"]])
        elif event["type"] == "text":
            stream.write(event["text"])
    return on_event


def _answer(rt: Runtime, task: ChatTask, rules: channels.ChannelSettings,
            stream: AnswerStream | None) -> Reply:
    if not rules.allows(task.kind):
        allowed = ", ".join(f"`{kind}`" for kind in rules.kinds)
        return Reply(text=f"This channel doesn't take `{task.kind}` requests; it takes {allowed}. "
                          "Ask an admin to change the channel's settings if you need more.",
                     metadata={"refused": "kind", "allowed_kinds": list(rules.kinds)})
    agent = _agent()
    # Limits guard spending: offline answers cost nothing, and over a limit the agent still
    # serves what costs nothing (help, approved FAQs).
    refusal = limits.refusal(rt.db, rt.settings, task) if agent.model is not None else None
    began = time.perf_counter()
    reply = agent.run(task, sources=rules.sources, refusal=refusal, kinds=rules.kinds,
                      on_event=_shown(rt, task, stream))
    tokens = reply.metadata.get("tokens") or {}
    prompt, completion = tokens.get("prompt", 0), tokens.get("completion", 0)
    lifecycle.record_steps(rt.db, task.id, reply.metadata.get("steps", []))
    lifecycle.record_usage(rt.db, task.id, prompt, completion,
                       limits.cost(agent.model.name, prompt, completion) if agent.model else None)
    return dataclasses.replace(reply, metadata={
        **reply.metadata, "answer_seconds": round(time.perf_counter() - began, 4)})


def announce_failure(rt: Runtime, posters: PosterRegistry, task: ChatTask) -> None:
    """Tell the user their message could not be answered; never leave them in silence."""
    reply = Reply(
        text=f"Sorry, I couldn't answer this. Please try again; if it keeps failing, give your "
             f"admin this trace id: `{task.trace_id}`.",
        metadata={"trace_id": str(task.trace_id), "error": task.error},
        is_error=True,
    )
    try:
        lifecycle.record_failure_posted(rt.db, task.id, posters.for_task(task).post(task, reply))
        progress.finished(posters, task)
    except NoPoster as exc:
        log.warning("cannot tell the user task %s failed: %s", task.id, exc)
    except Exception:
        log.exception("could not tell the user task %s failed; the reconciler will retry", task.id)
