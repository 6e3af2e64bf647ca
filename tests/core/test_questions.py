"""What counts as a question in an `auto` or `draft` channel (core/questions.py)."""

import pytest

from core.questions import is_question

ASKED = [
    "How do we deploy to staging?",
    "what's the on-call rotation this week",
    "Does anyone know where the VPN config lives?",
    "Is there a way to rerun a failed job",
    "I can't log in to the admin panel since this morning",
    "the deploy script doesn't work on my laptop",
    "Getting an error when running make test: connection refused",
    "can someone explain how the cache invalidation works",
]
CHATTER = [
    "thanks!", "thank you so much", "lol", "good morning everyone", "+1", "same here",
    "ok?", "Thanks, that worked?", "nice", "see you tomorrow", "I'll be out on Friday",
    "Merged the PR, deploying now.", "hey", "",
]


@pytest.mark.parametrize("text", ASKED)
def test_questions_and_stated_problems_are_questions(text):
    assert is_question(text)


@pytest.mark.parametrize("text", CHATTER)
def test_conversation_is_not(text):
    assert not is_question(text)
