"""The support desk's jobs, after an answer is posted: calling the channel's people to a thread
when someone asks for a person, asking a while later whether an answer helped (each through the
platform's poster, where it can: worker/posters.py: HandsOver, FollowsUp), and learning from a
resolved thread in which a person gave the answer: a draft FAQ for review, linked to it."""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from core.models import ChatTask, Reply
from core.runtime import Runtime
from memory import faqs
from tasks import lifecycle, support
from worker import channels, jobs
from worker.posters import FollowsUp, HandsOver, MarksResolved, courtesy

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


LEARNED_TOPIC = "Answered by people"


def resolved(task_id: str) -> str:
    """A thread was marked resolved: the platform is told, where it shows it, and an FAQ is
    drafted from the answer a person gave there, if one did."""
    rt, posters = jobs.context()
    task = lifecycle.load(rt.db, uuid.UUID(task_id))
    if task is None:
        return "no such task"
    courtesy(posters, task, MarksResolved, lambda poster: poster.mark_resolved(task), "show it resolved")
    return learn(rt, task)


def learn(rt: Runtime, task: ChatTask) -> str:
    """Draft an FAQ from a resolved thread's question and the answer a person gave in it."""
    answer = support.person_answer(rt.db, task.id)
    if answer is None:
        return "nothing to learn: no person answered in the thread"
    draft = faqs.Draft(question=task.text, answer=answer["text"], topic=LEARNED_TOPIC,
                       sources=[{"title": f"{task.platform.capitalize()} thread, answered by "
                                          f"{answer['user_id'].split(':', 1)[-1]}", "location": answer["link"],
                                 "snippet": answer["text"][:300]}],
                       confidence=1.0,  # a person's answer; a reviewer approves it or not
                       task_ids=[task.id], askers=[f"{task.platform}:{task.user}"])
    faq = faqs.add(rt.db, rt.embedder, task.workspace, draft, rt.embedder.embed([task.text])[0])
    log.info("drafted FAQ %s from the thread of task %s", faq.id, task.id)
    return f"drafted FAQ {faq.id}"


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
