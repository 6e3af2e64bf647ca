"""A Reply as one Components V2 message, built with discord.py's layout components (no client
needed): a container with the answer, a section per source (with a link button where the source
is a URL), and the 👍 / 👎, "Ask a person" and "Resolved" buttons. An answer past what Discord lets such a message hold goes as
plain messages instead (render.messages), as does one Discord refuses in this form."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from discord import ButtonStyle, ui

from adapters.discord import render
from core.models import Citation, Reply

IS_COMPONENTS_V2 = 1 << 15  # message flag
MAX_TEXT = 4000  # characters across a message's text displays
_URL_LIMIT = 512  # a link button's URL
# Editing a message into Components V2 must empty what it showed the old way, or Discord answers
# 400: content goes to null, embeds to [] (a null there is refused).
_CLEARED = {"content": None, "embeds": []}


def message(reply: Reply, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The message payload for `reply`, or None when it does not fit one Components V2 message."""
    box = ui.Container(ui.TextDisplay(render.answer_text(reply) or "(no answer)"))
    if reply.citations and not reply.is_error:
        box.add_item(ui.Separator())
        for n, citation in enumerate(reply.citations, 1):
            box.add_item(_source(n, citation))
    if not reply.is_error:
        box.add_item(ui.ActionRow(*(ui.Button(style=ButtonStyle.secondary, emoji=emoji,
                                              custom_id=render.feedback_id(vote, task_id))
                                    for vote, emoji in render.FEEDBACK_EMOJI.items()),
                                  ui.Button(style=ButtonStyle.secondary, label="Ask a person", emoji="🙋",
                                            custom_id=render.desk_id(render.ESCALATE, task_id)),
                                  ui.Button(style=ButtonStyle.secondary, label="Resolved", emoji="✅",
                                            custom_id=render.desk_id(render.RESOLVE, task_id))))
    view = ui.LayoutView(timeout=None)
    try:
        view.add_item(box)
    except ValueError:  # more than the 40 components a message may have
        return None
    if view.content_length() > MAX_TEXT:
        return None
    return {"flags": IS_COMPONENTS_V2, "components": view.to_components(), "allowed_mentions": render.NO_MENTIONS}


def as_edit(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` as an edit of a message that may have shown content or embeds."""
    return {**_CLEARED, **payload} if is_v2(payload) else payload


def is_v2(payload: dict[str, Any]) -> bool:
    return bool(payload.get("flags", 0) & IS_COMPONENTS_V2)


def _source(n: int, citation: Citation) -> ui.Item:
    title = " ".join((citation.title or citation.location).split())[:200]
    location = citation.location
    if urlsplit(location).scheme in ("http", "https") and len(location) <= _URL_LIMIT:
        return ui.Section(ui.TextDisplay(f"**{n}.** {title}"),
                          accessory=ui.Button(style=ButtonStyle.link, label="Open", url=location))
    return ui.TextDisplay(f"**{n}.** {title} — `{location[:300]}`")
