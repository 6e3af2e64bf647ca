"""The answerer the hub runs today.

There is no knowledge base yet (memory and the LangGraph agent come next), so the honest
answer to a question is that there is nothing to answer it from; `help` explains the bot.
"""

from __future__ import annotations

from hub.models import ChatTask, Reply

HELP = """\
**MorningAI** answers from your team's own knowledge.

- `ask <question>`: an answer with citations to your documents
- `code <request>`: code grounded in your repositories
- `docs <topic>`: a structured document
- `faq <topic>`: frequently asked questions
- `help`: this message"""


def answer(task: ChatTask) -> Reply:
    if task.kind == "help":
        return Reply(text=HELP, metadata={"answerer": "help"})
    return Reply(
        text=("No knowledge base yet: this hub has no documents to search, so I can't answer "
              f"“{_shorten(task.text)}” from your team's knowledge, and I won't guess."),
        metadata={"answerer": "no-knowledge-base"},
    )


def _shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
