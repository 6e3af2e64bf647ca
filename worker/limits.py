"""Spending limits, checked before a task reaches the model: a daily token budget per workspace
and a request rate per user. Over either, the user gets a polite reply saying when to come back.
The budget counts every token the workspace spent today: its tasks', and FAQ generation's
(tasks/usage.py), which is refused once the budget is spent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.config import Settings
from core.db import Database
from core.models import ChatTask, Reply
from tasks import lifecycle, usage

# US dollars per million (prompt, completion) tokens, for the cost estimate stored per task.
PRICES = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
}


class OverBudget(Exception):
    """The workspace spent today's budget: the message says until when."""


def refusal(db: Database, settings: Settings, task: ChatTask) -> Reply | None:
    """The reply for a task over a limit; None when it may go ahead."""
    if settings.user_rate_limit and task.user:
        recent = lifecycle.requests_last_minute(db, task)
        if recent >= settings.user_rate_limit:
            return Reply(text=f"You've sent {recent + 1} requests in the last minute, more than the "
                              f"{settings.user_rate_limit} this hub allows. Please try again in a minute.",
                         metadata={"limited": "rate"})
    try:
        check_budget(db, settings, task.workspace)
    except OverBudget as exc:
        return Reply(text=str(exc), metadata={"limited": "budget"})
    return None


def check_budget(db: Database, settings: Settings, workspace: str) -> None:
    """Raise OverBudget when `workspace` has spent today's model tokens."""
    if not settings.daily_token_budget:
        return
    spent = lifecycle.tokens_today(db, workspace) + usage.tokens_today(db, workspace)
    if spent >= settings.daily_token_budget:
        raise OverBudget(f"Workspace `{workspace}` has used today's budget of {settings.daily_token_budget:,} "
                         f"model tokens. Please try again after midnight UTC (in {_until_midnight_utc()}), or "
                         "ask an admin to raise MORNINGAI_DAILY_TOKEN_BUDGET.")


def cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Estimated cost in US dollars; None for a model whose price we don't know (a local server)."""
    price = PRICES.get(model)
    if price is None:
        return None
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000, 6)


def _until_midnight_utc() -> str:
    now = datetime.now(UTC)
    left = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - now
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
