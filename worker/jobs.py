"""The worker: RQ runs `run_task` for each queued task id.

`run_task` claims the task, answers it (reusing the reply of an earlier run that answered
but did not post), hands the Reply to the platform's poster and records the posted id.
Next to RQ's loop each worker process keeps a heartbeat and runs the reconciler.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid

from rq import Worker, get_current_job

from agents import faqs as faq_drafting
from agents import threads
from agents.graph import Agent
from adapters.discord.poster import DiscordPoster
from adapters.discord.rest import DiscordREST
from agents.llm import choose_chat_model
from adapters.slack.poster import SlackPoster
from hub import channels, dispatcher, limits, logs, model_usage, reconciler, tasks
from hub.config import Settings, load_settings
from hub.db import Database
from hub.installations import SlackInstallations
from hub.models import ChatTask, Reply
from hub.pacing import Pacer
from hub.playground import WebPoster
from hub.posters import ClearsProgress, NoPoster, PosterRegistry, ShowsProgress
from hub.runtime import Runtime
from memory.ingest import Progress, ingest
from memory import faqs, workspaces
from memory.embedders import Embedder, load_before_fork
from memory.search import search

log = logging.getLogger(__name__)

# Set by the process that runs RQ (`serve`); a work-horse forked from it inherits both.
_runtime: Runtime | None = None
_posters: PosterRegistry | None = None
_agents: dict = {}


def build_posters(rt: Runtime) -> PosterRegistry:
    posters = PosterRegistry()
    settings = rt.settings
    posters.register("web", WebPoster(rt.db))
    if settings.slack_bot_token or settings.slack_oauth_enabled:
        posters.register("slack", _slack_poster(rt))
    if settings.discord_bot_token or settings.discord_public_key:
        token = settings.discord_bot_token.get_secret_value() if settings.discord_bot_token else None
        posters.register("discord", DiscordPoster(DiscordREST(settings.discord_api_url, token)))
    return posters


def build_agent(db: Database, embedder: Embedder, settings: Settings, checkpointer=None) -> Agent:
    """The agent wired to memory, the workspace's approved FAQs and the configured model."""
    return Agent(
        search=lambda workspace, query, k, sources: search(db, embedder, workspace, query, k=k, sources=sources),
        has_knowledge=lambda workspace: _has_knowledge(db, workspace),
        embed=embedder.embed, model=choose_chat_model(settings), checkpointer=checkpointer,
        faq_answer=lambda workspace, question: faqs.serving(db, embedder, workspace, question),
        faq_topic=lambda workspace, topic: faqs.about(db, embedder, workspace, topic))


def _slack_poster(rt: Runtime) -> SlackPoster:
    installations = SlackInstallations(rt.db, rt.settings.secret_key, rt.settings.previous_secret_key)
    single = rt.settings.slack_bot_token

    def token_for(target: dict) -> str:
        bot = installations.find_bot(enterprise_id=target.get("enterprise"), team_id=target.get("team"),
                                     is_enterprise_install=target.get("enterprise_install", False))
        if bot is not None:
            return bot.bot_token
        if single is not None:
            return single.get_secret_value()
        raise NoPoster(f"Slack team {target.get('team')} is not installed any more: no token to answer with")

    return SlackPoster(rt.settings.slack_api_url, token_for, Pacer(rt.queue.redis).wait)


def _agent(rt: Runtime) -> Agent:
    """This process's agent. Made per process: its checkpointer holds pooled connections,
    which a forked work-horse must not share with its parent."""
    if _agents.get("pid") != os.getpid():
        _agents.update(pid=os.getpid(), agent=build_agent(rt.db, rt.embedder, rt.settings,
                                                          threads.checkpointer(rt.db.pool())))
    return _agents["agent"]


def _has_knowledge(db: Database, workspace: str) -> bool:
    space = workspaces.find(db, workspace)
    return bool(space and space.embedder)  # an embedder is recorded by the first ingest


def _context() -> tuple[Runtime, PosterRegistry]:
    global _runtime, _posters
    if _runtime is None:  # a job run by a plain `rq worker`: wire up from the environment
        _runtime = Runtime.open(load_settings())
        _posters = build_posters(_runtime)
    return _runtime, _posters


def run_task(task_id: str) -> str:
    rt, posters = _context()
    job = get_current_job()
    worker_name = job.worker_name if job and job.worker_name else socket.gethostname()
    with logs.context(task_id=task_id):
        task = tasks.start(rt.db, uuid.UUID(task_id), worker_name)
        if task is None:
            log.info("task not runnable here (already done, or running elsewhere)")
            return "not runnable (already done, or running elsewhere)"
        with logs.context(trace_id=task.trace_id, platform=task.platform, workspace=task.workspace):
            return _run(rt, posters, job, task)


def _run(rt: Runtime, posters: PosterRegistry, job, task: ChatTask) -> str:
    log.info("running %s task, attempt %s", task.kind, task.attempts)
    try:
        # Read here rather than when the message came in: the platforms' acknowledgement
        # waits on nothing more, and a change applies to tasks already queued.
        # A task in a Discord thread names the thread's channel and the thread: the thread's own
        # settings apply, else its channel's.
        parent = task.reply_target.get("parent_channel")
        rules = channels.for_task(rt.db, task.platform, task.thread if parent else task.channel, parent)
        if not rules.enabled:
            return _skip(rt, posters, task)
        _progress(posters, task)
        reply = tasks.stored_reply(rt.db, task.id)
        if reply is None:
            reply = _answer(rt, task, rules)
            tasks.record_reply(rt.db, task.id, reply)
        posted_id = posters.for_task(task).post(task, reply)
        tasks.mark_posted(rt.db, task.id, posted_id)
        log.info("posted as %s", posted_id)
        return posted_id
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if job is not None and job.retries_left:
            log.warning("run failed, RQ retries it: %s", error)
            tasks.mark_retrying(rt.db, task.id, error)
        elif tasks.mark_failed(rt.db, task.id, error):
            log.error("task failed: %s", error)
            announce_failure(rt, posters, tasks.load(rt.db, task.id))
        raise


def _skip(rt: Runtime, posters: PosterRegistry, task: ChatTask) -> str:
    """A task of a disabled channel: nothing is posted, and the task says why."""
    reason = f"channel disabled: {task.platform} channel {task.channel} is switched off in its settings"
    tasks.mark_skipped(rt.db, task.id, reason)
    log.info("skipped: %s", reason)
    # Progress an adapter showed when the message came in (Discord's 🤔) would stay forever.
    _progress(posters, task, shown=False)
    return "skipped: channel disabled"


def _progress(posters: PosterRegistry, task: ChatTask, *, shown: bool = True) -> None:
    """Let the user see their message was taken up (or, when no answer is coming, take that
    sign back). A courtesy: its failure fails nothing."""
    try:
        poster = posters.for_task(task)
        if shown and isinstance(poster, ShowsProgress):
            poster.working(task)
        elif not shown and isinstance(poster, ClearsProgress):
            poster.clear_progress(task)
    except NoPoster:
        pass  # posting the answer, if one is coming, fails with the reason
    except Exception:
        log.warning("could not %s progress on task %s", "show" if shown else "clear", task.id, exc_info=True)


def ingest_sources(workspace: str, targets: list[str], *, reembed: bool = False,
                   include: list[str] = (), exclude: list[str] = ()) -> dict:
    """The ingest job the dashboard starts; its progress is kept in the job's meta for polling."""
    rt, _ = _context()
    job = get_current_job()
    last_saved = 0.0

    def save_progress(progress: Progress) -> None:
        nonlocal last_saved
        if time.monotonic() - last_saved < 0.5 and progress.files_done < progress.files_total:
            return
        job.meta["progress"] = {"files_total": progress.files_total, "files_done": progress.files_done,
                                "chunks": progress.chunks, "current": progress.current,
                                "embeddings_per_second": round(progress.embeddings_per_second, 1)}
        job.save_meta()
        last_saved = time.monotonic()

    report = ingest(rt.db, rt.embedder, targets, workspace, reembed=reembed, include=include,
                    exclude=exclude, max_bytes=rt.settings.max_file_bytes,
                    fetch_timeout=rt.settings.fetch_timeout,
                    on_progress=save_progress if job else lambda progress: None)
    return {**dataclasses.asdict(report), "summary": report.summary()}


def generate_faqs(workspace: str) -> dict:
    """The FAQ generation job the dashboard starts."""
    rt, _ = _context()
    report = draft_faqs(rt.db, rt.embedder, _agent(rt), rt.settings, workspace)
    return {**dataclasses.asdict(report), "summary": report.summary()}


def draft_faqs(db: Database, embedder: Embedder, agent: Agent, settings: Settings,
               workspace: str) -> faq_drafting.Report:
    """Draft FAQs from the questions asked in `workspace` (`morningai faq generate` and the job).
    With a model, the tokens it spends count against the workspace's daily budget, and a spent
    budget refuses the run (limits.OverBudget)."""
    if agent.model is not None:
        limits.check_budget(db, settings, workspace)
    asked = [faq_drafting.Asked(row["id"], row["text"], row["asker"], row["confidence"])
             for row in tasks.asked_questions(db, workspace, faq_drafting.MAX_QUESTIONS)]
    report = faq_drafting.generate(db, embedder, agent, workspace, asked)
    if report.tokens:
        model_usage.record(db, workspace, "faq_generation", report.prompt_tokens, report.completion_tokens,
                           limits.cost(agent.model.name, report.prompt_tokens, report.completion_tokens))
    return report


def _answer(rt: Runtime, task: ChatTask, rules: channels.ChannelSettings) -> Reply:
    if not rules.allows(task.kind):
        allowed = ", ".join(f"`{kind}`" for kind in rules.kinds)
        return Reply(text=f"This channel doesn't take `{task.kind}` requests; it takes {allowed}. "
                          "Ask an admin to change the channel's settings if you need more.",
                     metadata={"refused": "kind", "allowed_kinds": list(rules.kinds)})
    agent = _agent(rt)
    # Limits guard spending: offline answers cost nothing, and over a limit the agent still
    # serves what costs nothing (help, approved FAQs).
    refusal = limits.refusal(rt.db, rt.settings, task) if agent.model is not None else None
    began = time.perf_counter()
    reply = agent.run(task, sources=rules.sources, refusal=refusal, kinds=rules.kinds)
    tokens = reply.metadata.get("tokens") or {}
    prompt, completion = tokens.get("prompt", 0), tokens.get("completion", 0)
    tasks.record_steps(rt.db, task.id, reply.metadata.get("steps", []))
    tasks.record_usage(rt.db, task.id, prompt, completion,
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
        tasks.record_failure_posted(rt.db, task.id, posters.for_task(task).post(task, reply))
    except NoPoster as exc:
        log.warning("cannot tell the user task %s failed: %s", task.id, exc)
    except Exception:
        log.exception("could not tell the user task %s failed; the reconciler will retry", task.id)


def _keep_watch(rt: Runtime, posters: PosterRegistry, worker_name: str, stop: threading.Event) -> None:
    interval = rt.settings.reconcile_interval
    while not stop.is_set():
        try:
            rt.queue.beat(worker_name, ttl=3 * interval)
            reconciler.sweep(rt, lambda task: announce_failure(rt, posters, task))
        except Exception:
            log.exception("reconciler sweep failed; next one in %ss", interval)
        stop.wait(interval)


def serve(settings: Settings | None = None, *, burst: bool = False) -> None:
    """Run one RQ worker (with RQ's scheduler, for retries with intervals) until stopped, with
    two threads beside it: the dispatcher, which queues stored tasks, and the reconciler."""
    global _runtime, _posters
    settings = settings or load_settings()
    _runtime = Runtime.open(settings, dashboard_settings=True)
    _posters = build_posters(_runtime)
    load_before_fork(_runtime.embedder)
    name = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    worker = Worker([_runtime.queue.rq, _runtime.queue.ingest], connection=_runtime.queue.redis, name=name)
    stop = threading.Event()
    helpers = [threading.Thread(target=_keep_watch, args=(_runtime, _posters, name, stop),
                                name="reconciler", daemon=True),
               threading.Thread(target=dispatcher.run, args=(_runtime, stop), name="dispatcher", daemon=True)]
    for helper in helpers:
        helper.start()
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
    finally:
        stop.set()
        for helper in helpers:
            helper.join(timeout=5)
        _runtime.close()


def run_in_process(rt: Runtime) -> None:
    """Work the queue until it is empty, here (`morningai ask` when no hub is running)."""
    global _runtime, _posters
    _runtime, _posters = rt, build_posters(rt)
    Worker([rt.queue.rq, rt.queue.ingest], connection=rt.queue.redis).work(burst=True, logging_level="WARNING")
