"""What a user watches appear is what is posted: the checked text, shown as the model writes it,
adds up to `check_reply`'s text of the whole answer, whatever pieces the model sends."""

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.check import CheckedStream, check_reply, citation_for
from core.models import Reply
from memory.search import Hit

HITS = [Hit(chunk_id=n, title=f"Guide {n}", location=f"guide{n}.md", source="/docs", heading="", text=text,
            snippet="", score=1.0) for n, text in enumerate(
    ["Deploys run with make deploy; see https://wiki.example.com/deploy for the checklist.",
     "Rotate keys every 90 days.", "On-call hands over on Mondays."], 1)]

# The pieces answers are made of, the awkward ones included: markers in and out of range, known
# and unknown links and URLs, fences with markers inside, brackets that are no marker, a `[` never closed.
PIECES = ["Deploys run with `make deploy` [2]. ", "Keys rotate [1][3] ", "[7] ", "[12]", "[x]", " arr[0] ",
          "see [the checklist](https://wiki.example.com/deploy)", " [made up](https://evil.example.net/x) ",
          " https://wiki.example.com/deploy ", "https://nowhere.example.org/a.", " (https://evil.example.net)",
          "\n```python\nprint(argv[1])  # [2]\n```\n", "```", "\n", " ", "and [", "so ] ", "done.", "[3]"]


@st.composite
def written(draw) -> tuple[str, list[str]]:
    """An answer, and the pieces the model sends it in."""
    text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=25)))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=40)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=400, derandomize=True, deadline=None)
@given(written(), st.booleans())
def test_what_is_shown_adds_up_to_what_is_posted(answer, sources_found):
    text, pieces = answer
    hits = HITS if sources_found else []  # with no sources, markers are left alone
    stream = CheckedStream(hits)
    shown = ""
    for piece in pieces:
        stream.add(piece)
        shown += stream.take()
    shown += stream.close()
    posted = check_reply(Reply(text=text, citations=tuple(citation_for(hit) for hit in hits)), hits).text
    assert shown == posted


def _fed(stream: CheckedStream, piece: str) -> str:
    stream.add(piece)
    return stream.take()


def test_text_is_shown_while_it_is_written_and_an_unfinished_marker_waits():
    stream = CheckedStream(HITS)
    assert _fed(stream, "Deploys run with make ") == "Deploys run with make "
    assert _fed(stream, "deploy [") == "deploy "  # a marker is being written
    assert _fed(stream, "2") == ""
    assert _fed(stream, "] and") == "[1] "  # the first source cited is [1]; `and` may go on
    assert _fed(stream, " then [9] stop") == "and then  "  # [9] cites nothing retrieved: dropped
    assert stream.close() == "stop"
