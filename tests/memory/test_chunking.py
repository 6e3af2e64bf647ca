"""The chunker on documents built here: heading paths, sizes, fences kept whole or split into
valid fences, overlap inside a section only, Python split at top-level definitions."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from memory.chunking import chunk, count_tokens, rejoin
from memory.documents import Chunk, Document
from memory.loaders import parse

LIMITS = {"target_tokens": 120, "max_tokens": 160, "overlap_tokens": 25}


def paragraph(topic: str, sentences: int = 4) -> str:
    return " ".join(f"The {topic} step number {n} needs care and a second look before moving on."
                    for n in range(sentences))


def markdown(text: str, title: str = "Deploy guide") -> Document:
    return Document("deploy.md", title, text, "markdown")


def fences(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("```")]


def guide() -> Document:
    return markdown("\n\n".join([
        "# Deploy guide", paragraph("intro", 3),
        "## Production", paragraph("production", 6), paragraph("database", 6),
        "### Rollback", paragraph("rollback", 6), paragraph("migration", 6),
        "## Monitoring", paragraph("alerting", 2),
    ]))


def test_count_tokens_is_a_word_and_punctuation_estimate():
    assert count_tokens("") == 0
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("internationalization") == 3  # long words count as several tokens
    assert count_tokens("数据库") == 3  # one per CJK character


def test_heading_paths_follow_the_sections():
    chunks = chunk(guide(), **LIMITS)
    headings = [c.heading for c in chunks]
    assert headings[0] == ("Deploy guide",)
    assert ("Deploy guide", "Production") in headings
    assert ("Deploy guide", "Production", "Rollback") in headings
    assert headings[-1] == ("Deploy guide", "Monitoring")
    assert headings == sorted(headings, key=headings.index)  # sections appear in order, contiguous
    firsts = {c.heading: c for c in reversed(chunks)}  # the first chunk of each section
    assert firsts[("Deploy guide", "Production", "Rollback")].text.startswith("### Rollback\n\n")
    assert firsts[("Deploy guide", "Monitoring")].text.startswith("## Monitoring\n\n")


def test_heading_only_section_joins_the_next():
    doc = markdown("# Guide\n\n## Install\n\n" + paragraph("install", 12), title="Guide")
    first = chunk(doc, **LIMITS)[0]
    assert first.heading == ("Guide", "Install")
    assert first.text.startswith("# Guide\n\n## Install\n\nThe install step")


def test_chunks_stay_within_bounds_and_are_numbered():
    text = "\n\n".join(f"## Part {n}\n\n" + "\n\n".join(paragraph(f"part{n}x{m}", 1 + (n * m) % 9)
                                                        for m in range(5)) for n in range(8))
    chunks = chunk(markdown(text), **LIMITS)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for piece in chunks:
        assert piece.text.strip() and piece.tokens == count_tokens(piece.text)
        assert piece.tokens <= LIMITS["max_tokens"]
    assert chunk(markdown(text), **LIMITS) == chunks  # deterministic


def test_small_document_is_one_chunk():
    doc = markdown("# Deploy guide\n\nShort.\n\n## Production\n\nAlso short.\n")
    assert chunk(doc) == [Chunk(doc.text.strip(), ("Deploy guide",), 0, count_tokens(doc.text))]
    assert chunk(markdown("  \n")) == []


def test_fence_that_fits_is_never_cut():
    code = "\n".join(f"run_step({n}, retries=3)" for n in range(14))
    fence = f"```python\n{code}\n```"
    assert 100 < count_tokens(fence) <= LIMITS["max_tokens"]
    doc = markdown("\n\n".join(["# Deploy guide", paragraph("before", 5), fence, paragraph("after", 5)]))
    chunks = chunk(doc, **LIMITS)
    assert [c for c in chunks if fence in c.text]
    for piece in chunks:
        assert len(fences(piece.text)) % 2 == 0, piece.text


def test_oversized_fence_becomes_several_valid_fences():
    lines = [f"echo 'deploying service number {n} to the cluster'" for n in range(60)]
    doc = markdown("# Deploy guide\n\nRun this:\n\n~~~~bash\n" + "\n".join(lines) + "\n~~~~\n")
    chunks = chunk(doc, **LIMITS)
    pieces = [c for c in chunks if "~~~~" in c.text]
    assert len(pieces) >= 3
    recovered = []
    for piece in pieces:
        assert piece.tokens <= LIMITS["max_tokens"]
        start = piece.text.index("~~~~bash")
        tokens = [t for t in MarkdownIt("commonmark").parse(piece.text[start:]) if t.type == "fence"]
        assert len(tokens) == 1 and tokens[0].info == "bash"
        assert piece.text.endswith("\n~~~~")
        recovered += tokens[0].content.rstrip("\n").split("\n")
    assert recovered == lines


def test_overlap_within_a_section_and_not_across():
    chunks = chunk(guide(), **LIMITS)
    assert any(a.heading == b.heading for a, b in zip(chunks, chunks[1:]))
    for previous, current in zip(chunks, chunks[1:]):
        first_sentence = re.split(r"(?<=\.) ", current.text.split("\n\n")[0])[0]
        if current.heading == previous.heading:
            assert first_sentence in previous.text, (previous.text, current.text)
            overlap = count_tokens(current.text.split("\n\n")[0])
            assert overlap <= LIMITS["overlap_tokens"]
        else:  # the heading line, then the section's own first sentence: nothing repeated
            heading_line, first_block = current.text.split("\n\n")[:2]
            assert heading_line.startswith("#") and " step number 0 " in first_block.split(".")[0]


def test_overlap_never_splits_a_fence():
    fence = "```\n" + "\n".join(f"step {n} of the long deployment" for n in range(12)) + "\n```"
    doc = markdown("\n\n".join(["# T", paragraph("a", 6), fence, paragraph("b", 6), paragraph("c", 6)]),
                   title="T")
    for piece in chunk(doc, **LIMITS):
        assert len(fences(piece.text)) % 2 == 0


def test_python_splits_at_top_level_definitions():
    body = "".join(f"    value_{n} = os.environ.get(name + '_{n}', 'default value')\n"
                   for n in range(12))
    methods = "".join(f"    def method_{n}(self, key):\n        return self.items.get(key, {n})\n\n"
                      for n in range(12))
    source = '''"""Tools."""

import os

LIMIT = 3


# Reads the environment, politely.
@cache
@other(decorator=True)
def read_env(name):
''' + body + '''    return value_0


class Store:
    """Keeps things."""

''' + methods + '''

async def serve():
    return None

print(LIMIT)
'''
    doc = parse("tools/env.py", source.encode())
    chunks = chunk(doc, target_tokens=150, max_tokens=200, overlap_tokens=0)
    assert chunks[0].heading == ("tools/env.py",)
    assert chunks[0].text.startswith('"""Tools."""\n\nimport os\n\nLIMIT = 3')
    read_env = [c for c in chunks if c.heading == ("tools/env.py", "def read_env")]
    assert read_env[0].text.startswith(
        "# Reads the environment, politely.\n@cache\n@other(decorator=True)\ndef read_env(name):")
    store = [c for c in chunks if c.heading == ("tools/env.py", "class Store")]
    assert len(store) >= 2 and store[0].text.startswith("class Store:")
    assert all(c.text.startswith("    def method_") for c in store[1:])  # cut between methods
    assert all(c.tokens <= 200 for c in chunks)
    assert chunks[-1].text.endswith("async def serve():\n    return None\n\nprint(LIMIT)")
    assert "\n".join(c.text for c in chunks).count("def method_") == 12  # nothing lost or repeated


def test_small_definitions_are_packed_together():
    source = "\n\n".join(f"def f{n}(x):\n    return x + {n}\n" for n in range(30))
    chunks = chunk(parse("small.py", source.encode()), target_tokens=60, max_tokens=80, overlap_tokens=0)
    assert 1 < len(chunks) < 30
    assert chunks[0].heading == ("small.py", "def f0") and "def f1(" in chunks[0].text


def test_other_languages_split_at_column_zero_definitions():
    source = "package main\n\n" + "\n".join(
        f"// Handler {n} serves.\nfunc handle{n}(w http.ResponseWriter) {{\n"
        + "".join(f"\tw.Write([]byte(\"line {m}\"))\n" for m in range(3)) + "}\n" for n in range(4))
    doc = parse("server.go", source.encode())
    chunks = chunk(doc, target_tokens=70, max_tokens=100, overlap_tokens=0)
    assert [c.heading[1] for c in chunks] == [f"func handle{n}(w http.ResponseWriter)" for n in range(4)]
    assert chunks[0].text.startswith("package main\n\n// Handler 0 serves.\nfunc handle0")
    assert chunks[2].text.startswith("// Handler 2 serves.\nfunc handle2")


def test_text_and_pdf_split_at_paragraphs_with_overlap():
    text = "\n\n".join(paragraph(f"topic{n}", 3) for n in range(12))
    for fmt in ("text", "pdf"):
        chunks = chunk(Document("notes.txt", "notes", text, fmt), **LIMITS)
        assert len(chunks) > 2 and {c.heading for c in chunks} == {("notes",)}
        assert all(c.tokens <= LIMITS["max_tokens"] for c in chunks)
        for previous, current in zip(chunks, chunks[1:]):
            assert current.text.split("\n\n")[0] in previous.text


def test_huge_paragraph_without_breaks_is_split_within_max():
    text = "word " * 2000 + "x" * 5000
    chunks = chunk(Document("blob.txt", "blob", text, "text"), **LIMITS)
    assert all(0 < c.tokens <= LIMITS["max_tokens"] for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 5000


@pytest.mark.parametrize("limits", [
    {"target_tokens": 10}, {"target_tokens": 600, "max_tokens": 500}, {"overlap_tokens": 400},
])
def test_rejects_inconsistent_limits(limits):
    with pytest.raises(ValueError):
        chunk(guide(), **limits)


def test_rejoined_chunks_are_the_document_once_over():
    doc = guide()
    chunks = chunk(doc, **LIMITS)
    assert any(a.heading == b.heading for a, b in zip(chunks, chunks[1:]))  # there is overlap to drop
    stored = [(" › ".join(piece.heading), piece.text) for piece in chunks]
    assert rejoin(stored, "markdown").split() == doc.text.split()
    assert len(" ".join(text for _, text in stored).split()) > len(doc.text.split())
    # Code has no overlap: a chunk that starts like the previous one ends is kept whole.
    assert rejoin([("f", "x = 1\n\ny = 2"), ("f", "y = 2\n\nz = 3")], "code") == "x = 1\n\ny = 2\n\ny = 2\n\nz = 3"
