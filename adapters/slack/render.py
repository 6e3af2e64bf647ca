"""A Reply as Slack messages in Block Kit: the answer in sections of at most 3,000 characters,
code in fenced blocks, the sources with their links, a footer with the trace id and 👍 / 👎.

Text a model wrote is escaped (& < >) before any markup of ours is added, so a `<!channel>`,
`<!here>` or `<@U123>` in an answer shows as text and pings nobody; sections are `verbatim`, so
Slack does not turn plain `@here` into a mention either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from core.models import Citation, Reply

SECTION_CHARS = 3000  # Slack's limit for a section's text
MAX_BLOCKS = 50  # Slack's limit per message
# Past this a message is a wall of text; the answer continues in the next message of the thread.
MESSAGE_CHARS = 12_000
CONTEXT_ELEMENTS = 10  # Slack's limit per context block
FALLBACK_CHARS = 300  # the notification text; the blocks carry the message

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
# After escaping, a Markdown link or a bare URL; `&amp;` may stand inside a URL.
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)|(?<![|<(])\b(https?://[^\s<>()]+[^\s<>().,;:!?'\"])")


@dataclass(frozen=True)
class Message:
    text: str  # notification / fallback text
    blocks: list[dict]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(markdown: str) -> list[tuple[str, bool]]:
    """Markdown as Slack mrkdwn, in pieces: (text, is_code). Code is escaped but otherwise left
    alone; prose gets Slack's bold, strike, links, bullets, and headings as bold lines."""
    pieces, position = [], 0
    for fence in _FENCE.finditer(markdown):
        pieces.append((_prose(markdown[position:fence.start()]), False))
        pieces.append((escape(fence[1].rstrip("\n")), True))
        position = fence.end()
    pieces.append((_prose(markdown[position:]), False))
    return [(text, is_code) for text, is_code in pieces if text.strip()]


def _prose(text: str) -> str:
    text = escape(text.strip("\n"))
    text = _LINK.sub(lambda m: f"<{m[2]}|{m[1].replace('|', '¦')}>" if m[1] else f"<{m[3]}>", text)
    text = _BOLD.sub(lambda m: f"*{m[1] or m[2]}*", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = _HEADING.sub(lambda m: f"*{m[1].strip('*')}*", text)
    return _BULLET.sub(r"\1• ", text)


def _split(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters: at the last paragraph break, else line
    break, else space in the second half of the window; only as a last resort inside a word
    (never inside an &entity;)."""
    pieces = []
    while len(text) > limit:
        window = text[:limit + 1]
        cut = next((at for at in map(window.rfind, ("\n\n", "\n", " ")) if at > limit // 2), limit)
        if cut == limit:
            amp = text.rfind("&", cut - 5, cut)
            cut = amp if amp > 0 else cut
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    return pieces + ([text] if text.strip() else [])


def sections(markdown: str) -> list[str]:
    """The answer's section texts, each at most SECTION_CHARS, code fences kept closed."""
    out: list[str] = []
    for text, is_code in mrkdwn(markdown):
        if is_code:
            out += [f"```\n{piece}\n```" for piece in _split(text, SECTION_CHARS - 8)]
            continue
        for piece in _split(text, SECTION_CHARS):
            # Short prose joins the section before it, so a paragraph is not a block of its own.
            if out and not out[-1].startswith("```") and len(out[-1]) + 2 + len(piece) <= SECTION_CHARS:
                out[-1] += "\n\n" + piece
            else:
                out.append(piece)
    return out


def _section(text: str) -> dict:
    return SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)).to_dict()


def _context(texts: list[str]) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=text, verbatim=True) for text in texts]).to_dict()


def _citation(number: int, citation: Citation) -> str:
    title = escape(citation.title or citation.location)
    if citation.location.startswith(("http://", "https://")):
        return f"[{number}] <{escape(citation.location)}|{title.replace('|', '¦')}>"
    if citation.location and citation.location != citation.title:
        return f"[{number}] {title} · `{escape(citation.location)}`"
    return f"[{number}] {title}"


def render(reply: Reply, *, task_id: str, trace_id: str, asked_by: str = "", question: str = "") -> list[Message]:
    """The messages that carry `reply`, in order; the last one ends with sources and footer."""
    body = [_section(text) for text in sections(reply.text)]
    for block in reply.code:
        body += [_section(text) for text in sections(f"```\n{block.code}\n```")]
    if not body:
        body = [_section("(no answer)")]
    if asked_by and question:  # a slash command: nobody else saw the question
        body.insert(0, _context([f"<@{asked_by}> asked: {escape(question)}"]))
    return _pack(body, closing_blocks(reply, task_id=task_id, trace_id=trace_id))


def closing_blocks(reply: Reply, *, task_id: str, trace_id: str) -> list[dict]:
    """What ends an answer's last message: its sources, then the trace footer, 👍 / 👎, "Ask a
    person" and "Resolved" (an error: the trace id to give an admin)."""
    tail: list[dict] = []
    if reply.citations:
        lines = [_citation(n, c) for n, c in enumerate(reply.citations, 1)]
        tail.append(_context(["*Sources*"]))
        tail += [_context(lines[i:i + CONTEXT_ELEMENTS]) for i in range(0, len(lines), CONTEXT_ELEMENTS)]
    if reply.is_error:
        tail.append(_context([f"trace id `{escape(trace_id)}`"]))
    else:
        footer = f"MorningAI · trace `{escape(trace_id)}`"
        tail += [DividerBlock().to_dict(), _context([footer]), ActionsBlock(block_id="feedback", elements=[
            ButtonElement(text="👍 Helpful", action_id="feedback_up", value=task_id),
            ButtonElement(text="👎 Not helpful", action_id="feedback_down", value=task_id),
            ButtonElement(text="🙋 Ask a person", action_id="escalate", value=task_id),
            ButtonElement(text="✅ Resolved", action_id="resolve", value=task_id),
        ]).to_dict()]
    return tail


def _chars(block: dict) -> int:
    return len((block.get("text") or {}).get("text", ""))


def _pack(body: list[dict], tail: list[dict]) -> list[Message]:
    messages: list[list[dict]] = [[]]
    for block in body:
        current = messages[-1]
        if current and (len(current) + 1 > MAX_BLOCKS
                        or sum(map(_chars, current)) + _chars(block) > MESSAGE_CHARS):
            messages.append([])
        messages[-1].append(block)
    if len(messages[-1]) + len(tail) > MAX_BLOCKS:
        messages.append([])
    messages[-1] += tail
    return [Message(text=_fallback(blocks), blocks=blocks) for blocks in messages]


def _fallback(blocks: list[dict]) -> str:
    text = next((b["text"]["text"] for b in blocks if b["type"] == "section"), "MorningAI")
    return text if len(text) <= FALLBACK_CHARS else text[:FALLBACK_CHARS - 1] + "…"


def in_progress(markdown: str, status: str) -> Message:
    """An answer still being written, as a message edited in place: the text so far (at most one
    message's worth), then what the agent is doing."""
    body = [_section(text) for text in sections(markdown)]
    while body and sum(map(_chars, body)) > MESSAGE_CHARS:
        body.pop()
    blocks = [*body, _context([f"_{escape(status)}_"])]
    return Message(text=_fallback(blocks) if body else status, blocks=blocks)


def permalink(channel: str, ts: str, thread_ts: str | None = None) -> str:
    """Where a message can be read (Slack redirects this to the workspace's own host)."""
    link = f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return f"{link}?thread_ts={thread_ts}&cid={channel}" if thread_ts else link


def review(reply: Reply, *, task_id: str, trace_id: str, asked_by: str, channel: str, message_ts: str,
           question: str) -> Message:
    """A drafted answer put before reviewers: whose question, where (with a link to it), the draft
    as it would be posted, and Publish / Dismiss. A draft too long for one message is shown cut:
    the dashboard has all of it, and Publish posts all of it."""
    link = permalink(channel, message_ts)
    head = [_context([f"Draft answer to <@{asked_by}> in <#{channel}> · <{link}|the question>"]),
            _section(f">{escape(question)[:SECTION_CHARS - 1]}")]
    answer = [_section(text) for text in sections(reply.text)] or [_section("(no answer)")]
    tail = []
    if reply.citations:
        tail.append(_context([_citation(n, c) for n, c in enumerate(reply.citations, 1)][:CONTEXT_ELEMENTS]))
    tail += [_context([f"confidence {reply.metadata.get('confidence', 0):.2f} · trace `{escape(trace_id)}`"]),
             ActionsBlock(block_id="draft_review", elements=[
                 ButtonElement(text="Publish", action_id="draft_publish", value=task_id, style="primary"),
                 ButtonElement(text="Dismiss", action_id="draft_dismiss", value=task_id),
             ]).to_dict()]
    room = MAX_BLOCKS - len(head) - len(tail)
    while len(answer) > room or sum(map(_chars, answer)) > MESSAGE_CHARS:
        answer.pop()
    blocks = [*head, *answer, *tail]
    return Message(text=f"Draft answer for review: {question[:FALLBACK_CHARS - 30]}", blocks=blocks)


def follow_up(*, task_id: str, asked_by: str) -> Message:
    """Asked in an answer's thread a while after it, when nobody said whether it helped."""
    question = f"<@{asked_by}>, did this answer your question?" if asked_by else "Did this answer the question?"
    return Message(text=question, blocks=[_section(question), ActionsBlock(block_id="follow_up", elements=[
        ButtonElement(text="✅ Yes, resolved", action_id="follow_up_resolve", value=task_id, style="primary"),
        ButtonElement(text="🙋 No, ask a person", action_id="escalate", value=task_id),
    ]).to_dict()])
