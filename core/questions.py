"""Is a message in a support channel a question for the bot? The rule every platform's adapter
applies to messages nobody addressed to the bot, in channels whose answer mode is `auto` or
`draft` (worker/channels.py).

A cheap rule, on purpose: it runs on the platform's acknowledgement path for every message in
those channels, and a task is stored only for what passes it. It leans towards asking: a
question it lets through costs one answer that `auto` mode withholds when unsure, while one it
drops is a person left waiting. What it keeps out is conversation: thanks, greetings, +1s,
one-word replies.
"""

from __future__ import annotations

import re

MIN_WORDS = 3  # "thanks?" and "lol?" are not questions; "how to deploy?" is
_WORD = re.compile(r"[\w'’-]+")
_OPENERS = (
    "how", "what", "why", "where", "when", "who", "whom", "whose", "which",
    "can", "could", "should", "would", "will", "is", "are", "am", "was", "were", "do", "does", "did",
    "has", "have", "had", "may", "might", "shall", "anyone", "anybody", "someone", "somebody",
)
# A problem stated rather than asked is a request for help all the same.
_TROUBLE = re.compile(
    r"\b(i|we) (can'?t|cannot|couldn'?t|am unable|are unable|don'?t know|do not know|need help|keep getting|get|got)\b"
    r"|\b(doesn'?t|does not|won'?t|will not|isn'?t|is not) work(ing)?\b"
    r"|\b(any ideas?|help me|please help|is there a way|how come)\b"
    r"|\berror\b|\bexception\b|\bfail(s|ed|ing)?\b",
    re.IGNORECASE)
_CHATTER = re.compile(
    r"^(thanks?|thank you|thx|ty|cheers|lol|haha|ok(ay)?|cool|nice|great|good (morning|night|evening|afternoon)"
    r"|hi|hello|hey|bye|\+1|same|yes|no|yep|nope|sure)\b",
    re.IGNORECASE)


def is_question(text: str) -> bool:
    """Whether `text` (a message as a person reads it) asks something the bot might answer."""
    words = _WORD.findall(text)
    if len(words) < MIN_WORDS:
        return False
    first = re.split("['’]", words[0].lower())[0]  # what's, how's, who'd
    if "?" in text:
        # "Thanks, that worked?" is still chatter; a question mark after real words asks.
        return not (_CHATTER.match(text.strip()) and len(words) < 6)
    if first in _OPENERS and len(words) >= 4:
        return True
    return bool(_TROUBLE.search(text)) and not _CHATTER.match(text.strip())
