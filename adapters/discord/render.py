"""A Reply as plain Discord messages: markdown cut into messages of at most 2,000 characters on
paragraph or code-fence boundaries (a fence cut in two is closed and reopened), sources in an
embed, the 👍 / 👎, "Ask a person" and "Resolved" buttons, and mentions switched off on every
message. Also the message an answer grows in while it is written, and the support desk's
messages: a draft before reviewers, people called to a question, the follow-up asking whether an
answer helped. (The one-message Components V2 form is layout.py.)"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from core.models import Citation, Reply

LIMIT = 2000  # Discord's cap on a message's content
EMBED_DESCRIPTION_LIMIT = 4096
# Nothing a model writes may ping: no @everyone/@here, role, user, nor the replied-to user.
NO_MENTIONS: dict[str, Any] = {"parse": [], "replied_user": False}
FEEDBACK_PREFIX = "feedback"
VOTES = {"up": 1, "down": -1}
# The support desk's buttons, `<action>:<task id>` (interactions.parse reads them back): under an
# answer, on the follow-up, and on a draft before reviewers.
ESCALATE, RESOLVE, FOLLOW_UP_RESOLVE = "escalate", "resolve", "follow_up_resolve"
PUBLISH, DISMISS = "draft_publish", "draft_dismiss"
DESK_ACTIONS = (ESCALATE, RESOLVE, FOLLOW_UP_RESOLVE, PUBLISH, DISMISS)

_FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")
# Shown as text even by a client that ignores allowed_mentions: a zero-width space breaks the mention.
_MASS_MENTION = re.compile(r"@(everyone|here)\b")
SOURCES_SHOWN = 5  # titles named under a growing answer; the final message lists them all


def answer_text(reply: Reply) -> str:
    """The answer as one markdown text: its text, then its code blocks, mass mentions defused."""
    text = reply.text.strip()
    for block in reply.code:
        text += f"\n\n```{block.language}\n{block.code.rstrip()}\n```"
    return _defused(text)


def _defused(text: str) -> str:
    return _MASS_MENTION.sub("@\u200b\\1", text)


def messages(reply: Reply, task_id: uuid.UUID, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The message payloads for `reply`, in order, each of at most `limit` characters; the last
    carries the sources and buttons."""
    # Defused before the cut, which then counts the characters this adds.
    text = answer_text(reply)
    parts = [{"content": part, "allowed_mentions": NO_MENTIONS} for part in split(text or "(no answer)", limit)]
    if reply.citations and not reply.is_error:
        parts[-1]["embeds"] = [sources_embed(reply)]
    if not reply.is_error:
        parts[-1]["components"] = [answer_buttons(task_id)]
    return parts


def sources_embed(reply: Reply) -> dict[str, Any]:
    lines = []
    for n, citation in enumerate(reply.citations, 1):
        title = citation.title.replace("]", ")")[:200] or citation.location
        if urlsplit(citation.location).scheme in ("http", "https"):
            lines.append(f"{n}. [{title}]({citation.location})")
        else:
            lines.append(f"{n}. {title} — `{citation.location[:300]}`")
    description = ""
    for line in lines:  # whole lines only: a cut link would render as junk
        if len(description) + len(line) + 1 > EMBED_DESCRIPTION_LIMIT:
            break
        description += line + "\n"
    return {"title": "Sources", "description": description.rstrip()}


FEEDBACK_EMOJI = {"up": "👍", "down": "👎"}


def feedback_id(vote: str, task_id: uuid.UUID) -> str:
    """A feedback button's custom id: the vote and the task, which interactions.parse reads back."""
    return f"{FEEDBACK_PREFIX}:{vote}:{task_id}"


def desk_id(action: str, task_id: uuid.UUID) -> str:
    return f"{action}:{task_id}"


def answer_buttons(task_id: uuid.UUID) -> dict[str, Any]:
    """The action row under an answer: 👍 / 👎, "Ask a person" and "Resolved", whose custom ids
    carry the task."""
    return _row(*({"style": 2, "emoji": {"name": emoji}, "custom_id": feedback_id(vote, task_id)}
                  for vote, emoji in FEEDBACK_EMOJI.items()),
                {"style": 2, "label": "Ask a person", "emoji": {"name": "🙋"}, "custom_id": desk_id(ESCALATE, task_id)},
                {"style": 2, "label": "Resolved", "emoji": {"name": "✅"}, "custom_id": desk_id(RESOLVE, task_id)})


def _row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": [{"type": 2, **button} for button in buttons]}


def link(guild_id: str | None, channel_id: str, message_id: str) -> str:
    """Where a message is read in Discord (a direct message's guild is @me)."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def hand_over(people: Sequence[str], asked_by: str) -> dict[str, Any]:
    """People called to a question ("role:<id>" or "user:<id>", as the channel's settings name
    them): pinged, and nobody else (the asker is named, not pinged again)."""
    roles = [p.split(":", 1)[1] for p in people if p.startswith("role:")]
    users = [p.split(":", 1)[1] for p in people if p.startswith("user:")]
    called = " ".join([*(f"<@&{role}>" for role in roles), *(f"<@{user}>" for user in users)])
    content = (f"{called} <@{asked_by}> asked for a person to help with this." if called else
               f"<@{asked_by}> asked for a person, but nobody is set up to be called in this channel yet: an admin "
               "can name people for it on the MorningAI dashboard's Integrations page.")
    return {"content": content, "allowed_mentions": {"parse": [], "roles": roles, "users": users,
                                                     "replied_user": False}}


def follow_up(task_id: uuid.UUID, asked_by: str) -> dict[str, Any]:
    """A while after an answer: did it help?"""
    return {"content": f"<@{asked_by}>, did this answer your question?", "allowed_mentions": NO_MENTIONS,
            "components": [_row(
                {"style": 3, "label": "Yes, resolved", "emoji": {"name": "✅"},
                 "custom_id": desk_id(FOLLOW_UP_RESOLVE, task_id)},
                {"style": 2, "label": "No, ask a person", "emoji": {"name": "🙋"},
                 "custom_id": desk_id(ESCALATE, task_id)})]}


def review(reply: Reply, task_id: uuid.UUID, *, asked_by: str, question: str, where: str | None) -> dict[str, Any]:
    """A drafted answer before reviewers: whose question, where (a link to it), the draft as it
    would be posted (cut to an embed's size: the dashboard has all of it, and Publish posts all of
    it), and Publish / Dismiss."""
    head = f"**Draft answer** to <@{asked_by}>" + (f" · [the question]({where})" if where else "")
    quoted = _defused(" ".join(question.split()))[:LIMIT - len(head) - 10]
    text = answer_text(reply) or "(no answer)"
    if len(text) > EMBED_DESCRIPTION_LIMIT:
        text = text[:EMBED_DESCRIPTION_LIMIT - 1] + "…"
    embeds = [{"description": text}]
    if reply.citations:
        embeds.append(sources_embed(reply))
    return {"content": f"{head}\n> {quoted}", "embeds": embeds, "allowed_mentions": NO_MENTIONS,
            "components": [_row({"style": 3, "label": "Publish", "custom_id": desk_id(PUBLISH, task_id)},
                                {"style": 2, "label": "Dismiss", "custom_id": desk_id(DISMISS, task_id)})]}


def progress(text: str, words: str, sources: Sequence[Citation]) -> dict[str, Any]:
    """The message an answer grows in: the text written so far, then in small print what the
    agent is doing (the message's first line until there is text) and the sources it works
    from. Text past one message is cut off here; the final answer (layout.py, or messages)
    carries all of it."""
    body = _defused(text.strip())
    notes = [f"{'-# ' if body else ''}⏳ {words}"] if words else []
    titles = [" ".join((c.title or c.location).split())[:80] for c in sources[:SOURCES_SHOWN]]
    if titles:
        more = len(sources) - len(titles)
        notes.append("-# 📚 " + " · ".join(titles) + (f" (+{more})" if more > 0 else ""))
    footer = _defused("\n".join(notes))
    room = LIMIT - len(footer) - 2
    if len(body) > room:
        body = body[:room - 1] + "…"
    return {"content": "\n\n".join(part for part in (body, footer) if part) or "⏳",
            "allowed_mentions": NO_MENTIONS}


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, preferring blank lines between
    paragraphs, then line ends, then spaces; a code fence is never left open in a piece."""
    pieces: list[str] = []
    current = ""
    for block in _blocks(text):
        for part in _fit(block, limit):
            joined = f"{current}\n\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _blocks(text: str) -> list[str]:
    """Paragraphs and whole code fences (which may hold blank lines), in order."""
    blocks: list[str] = []
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        marker = _FENCE.match(line)
        if fence is None and marker:
            if lines:
                blocks.append("\n".join(lines))
            lines, fence = [line], marker[1]
        elif fence is not None:
            lines.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                blocks.append("\n".join(lines))
                lines, fence = [], None
        elif line.strip():
            lines.append(line)
        elif lines:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        if fence is not None:  # the text left it open: close it, as Discord would render it
            lines.append(fence)
        blocks.append("\n".join(lines))
    return blocks


def _fit(block: str, limit: int) -> list[str]:
    """The block as it is, or cut into pieces that fit; a fence's pieces each open and close it."""
    if len(block) <= limit:
        return [block]
    marker = _FENCE.match(block.split("\n", 1)[0])
    if marker is None:
        return _cut(block, limit, separators=("\n", " "))
    lines = block.split("\n")
    opening, closing = lines[0], marker[1]
    room = limit - len(opening) - len(closing) - 2  # the two newlines around the body
    return [f"{opening}\n{body}\n{closing}" for body in _cut("\n".join(lines[1:-1]), room, separators=("\n",))]


def _cut(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    pieces = []
    while len(text) > limit:
        window = text[:limit + 1]
        at = max((window.rfind(sep) for sep in separators), default=-1)
        if at <= 0:  # one word (or code line) longer than a message: cut it where it must be
            pieces.append(text[:limit])
            text = text[limit:]
        else:  # the separator itself goes: it is where one piece ends and the next begins
            pieces.append(text[:at])
            text = text[at + 1:]
    return [*pieces, text] if text else pieces
