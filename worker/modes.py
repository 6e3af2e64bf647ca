"""How a question nobody addressed to the bot is served, by its channel's answer mode
(worker/channels.py): `auto` posts the answer only when its confidence reaches the channel's
threshold, and otherwise stays silent (or reacts with the channel's emoji); `draft` holds the
answer for a person, in the dashboard and, where the channel names one, in a review channel with
Publish and Dismiss. A question addressed to the bot (a mention, a DM, a command) is always
answered, whatever the mode, and so is a draft a person published.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents import confidence
from core.models import ChatTask, Reply
from core.runtime import Runtime
from tasks import lifecycle
from worker.channels import ChannelSettings
from worker.posters import PosterRegistry, Reacts, Reviews, courtesy


@dataclass(frozen=True)
class Held:
    """An unasked question's answer that is not posted (yet), and why."""
    status: str  # withheld, drafted or skipped
    reason: str


def unasked(task: ChatTask) -> bool:
    """A question nobody addressed to the bot, not (yet) published by a person."""
    return bool(task.reply_target.get("unasked")) and not task.reply_target.get("published_by")


def threshold(rt: Runtime, rules: ChannelSettings) -> float:
    """The confidence an unasked question's answer needs in `auto` mode: the channel's, else the
    one calibrated for the embedder its knowledge is searched with (agents/confidence.py)."""
    return rules.threshold if rules.threshold is not None else confidence.threshold(rt.embedder.name)


def serve(rt: Runtime, posters: PosterRegistry, task: ChatTask, rules: ChannelSettings, reply: Reply) -> Held | None:
    """None: post `reply` as any answer. Else the task is settled another way, as returned."""
    if rules.mode == "mention":
        # The channel went back to mentions after the question came in.
        reason = "not answered: the channel answers only questions addressed to the bot now"
        lifecycle.mark_skipped(rt.db, task.id, reason)
        return Held("skipped", reason)
    if rules.mode == "draft":
        lifecycle.mark_drafted(rt.db, task.id)
        if rules.review_channel:  # the draft waits in the dashboard whatever happens there
            courtesy(posters, task, Reviews, lambda poster: poster.review(task, reply, rules.review_channel),
                     f"post the draft to review channel {rules.review_channel}")
        return Held("drafted", f"drafted for review in {rules.review_channel or 'the dashboard'}")
    confidence, needed = reply.metadata.get("confidence") or 0.0, threshold(rt, rules)
    if confidence >= needed and not reply.metadata.get("abstained"):
        return None
    reason = f"withheld: confidence {confidence:.2f} is below the channel's threshold {needed:.2f}"
    lifecycle.mark_withheld(rt.db, task.id, reason)
    if rules.unsure_reaction:
        courtesy(posters, task, Reacts, lambda poster: poster.react(task, rules.unsure_reaction),
                 f"react {rules.unsure_reaction} to the question")
    return Held("withheld", reason)
