"""The support desk's jobs, after an answer is posted: calling the channel's people to a thread
when someone asks for a person, and asking a while later whether an answer helped. Each goes
through the platform's poster, where it can (worker/posters.py: HandsOver, FollowsUp)."""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from core.models import ChatTask, Reply
from core.runtime import Runtime
from tasks import lifecycle, support
from worker import channels, jobs
from worker.posters import FollowsUp, HandsOver

log = logging.getLogger(__name__)


def hand_over(task_id: str, by: str) -> str:
    """Call the people of the task's channel to its thread: someone pressed "Ask a person"."""
    rt, task, poster = _poster_of(task_id, HandsOver, "call people to a thread")
    if task is None:
        return poster
    people = channels.of_task(rt.db, task).people
    posted = poster.hand_over(task, people, by.split(":", 1)[-1])
    log.info("handed task %s over to %s", task.id, ", ".join(people) or "nobody (none set up)")
    return posted


def plan_follow_up(rt: Runtime, task: ChatTask, rules: channels.ChannelSettings, reply: Reply) -> None:
    """Where the channel asks for it, a question later on whether the answer helped."""
    if not rules.follow_up_minutes or reply.is_error or (task.reply_target.get("direct") and not rules.follow_up_dms):
        return
    try:
        rt.queue.enqueue_follow_up(task.id, rules.follow_up_minutes)
    except RedisError as exc:  # a courtesy: the answer is posted
        log.warning("no follow-up planned for task %s: %s", task.id, exc)


def follow_up(task_id: str) -> str:
    """Ask in the task's thread whether its answer helped, unless someone said so already."""
    rt, task, poster = _poster_of(task_id, FollowsUp, "follow up")
    if task is None:
        return poster
    if not support.claim_follow_up(rt.db, task.id):
        return "no follow-up: someone voted, resolved it or asked for a person already"
    return poster.follow_up(task)


def _poster_of(task_id: str, able: type, what: str):
    """(runtime, task, its poster), or (runtime, None, why not) when the task is gone or its
    platform cannot do `what`."""
    rt, posters = jobs.context()
    task = lifecycle.load(rt.db, uuid.UUID(task_id))
    if task is None:
        return rt, None, "no such task"
    poster = posters.for_task(task)
    if not isinstance(poster, able):
        return rt, None, f"{task.platform} cannot {what}"
    return rt, task, poster
