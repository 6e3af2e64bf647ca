"""The answering core: a task's text in, a Reply out. Knows no platform and no web framework."""

from agents.answer import answer

__all__ = ["answer"]
