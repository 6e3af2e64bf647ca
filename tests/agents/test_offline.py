"""The offline, extractive provider: pure functions from hits to a Reply, on a small corpus the
test writes to disk and turns into Hits the way search would return them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.check import citation_for
from agents.offline import LABEL, _sentences, offline_answer, offline_code, offline_docs
from memory.embedders import HashEmbedder
from memory.search import Hit

PRODUCTION = """## Production

Deploys go out from the main branch after review, e.g. Monday to Thursday. Run `make release`
and watch the dashboard. Since v1.2 the release job also tags the container image.
"""

ROLLBACK = """## Rollback

If the error rate climbs after a release, roll back with `make rollback VERSION=previous`.
The on-call engineer decides; nobody needs permission at night.

```bash
make rollback VERSION=previous
```
"""

CREDENTIALS = """# Credentials

## Rotation

- The staging database password is rotated every ninety days by the `rotate_credentials` job.
- If the job fails with error E4012 the vault token expired: renew it with `vault login`.
"""

ROTATION = '''def rotate_credentials(vault, database):
    """Rotate the staging database password; raises E4012 when the vault token expired."""
    token = vault.login()
    return database.set_password(token.new_secret())
'''

HOLIDAYS = """# Holidays

Everyone gets twenty-five days of paid leave a year. Book them in the HR tool two weeks ahead.
"""

META = {"task": "5f0c-task", "trace_id": "9a1e-trace", "workspace": "default"}
SECTIONS = ("## Overview", "## Components", "## Example", "## Related", "## Troubleshooting")
# "sentence [n]": what a cited sentence looks like in a reply.
CITED = re.compile(r"([^\[\]\n]+?) \[(\d+)\]")


@pytest.fixture
def embed():
    return HashEmbedder().embed


@pytest.fixture
def kb(tmp_path) -> Path:
    folder = tmp_path / "kb"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "deploy.md").write_text(f"# Deploy guide\n\n{PRODUCTION}\n{ROLLBACK}")
    (folder / "docs" / "credentials.md").write_text(CREDENTIALS)
    (folder / "rotation.py").write_text(ROTATION)
    (folder / "docs" / "holidays.md").write_text(HOLIDAYS)
    return folder


def _hit(kb: Path, n: int, location: str, heading: str, text: str) -> Hit:
    assert text in (kb / location).read_text()  # a chunk is a piece of the file it cites
    return Hit(chunk_id=n, title=location, location=location, source=str(kb), heading=heading,
               text=text, snippet=" ".join(text.split())[:80], score=1 / n)


@pytest.fixture
def hits(kb) -> list[Hit]:
    """Search's answer: best first, with an off-topic hit on top to show what is not cited."""
    return [_hit(kb, 1, "docs/holidays.md", "Holidays", HOLIDAYS),
            _hit(kb, 2, "docs/deploy.md", "Deploy guide › Production", PRODUCTION),
            _hit(kb, 3, "docs/deploy.md", "Deploy guide › Rollback", ROLLBACK),
            _hit(kb, 4, "docs/credentials.md", "Credentials › Rotation", CREDENTIALS),
            _hit(kb, 5, "rotation.py", "rotation.py › def rotate_credentials", ROTATION)]


def _cited(text: str) -> list[tuple[str, int]]:
    return [(sentence.strip(), int(n)) for sentence, n in CITED.findall(text)]


def _quoted(reply, hits) -> list[tuple[int, int]]:
    """(rank of its hit, place in that hit) of each cited sentence, in the reply's order, checking
    on the way that markers run 1..m over exactly the citations and each sentence is in its hit."""
    cited = _cited(reply.text)
    assert {n for _, n in cited} == set(range(1, len(reply.citations) + 1))
    places = []
    for sentence, n in cited:
        found = [(rank, " ".join(hit.text.split()).find(sentence))
                 for rank, hit in enumerate(hits)
                 if citation_for(hit).location == reply.citations[n - 1].location
                 and (hit.heading or hit.title) == reply.citations[n - 1].title]
        places += [(rank, at) for rank, at in found if at >= 0]
        assert any(at >= 0 for _, at in found), f"{sentence!r} is not in the hit [{n}] cites"
    return places


def test_answer_quotes_the_most_relevant_sentence_and_cites_only_what_it_used(hits, kb, embed):
    reply = offline_answer("How do I roll back a bad release?", hits, embed)
    assert reply.text.startswith(LABEL + "\n")
    n = dict(_cited(reply.text))[
        "If the error rate climbs after a release, roll back with `make rollback VERSION=previous`."]
    assert reply.citations[n - 1].title == "Deploy guide › Rollback"
    assert reply.citations[n - 1].location == f"{kb.name}/docs/deploy.md"
    places = _quoted(reply, hits)
    assert places == sorted(places)  # in search order, then the chunk's order; not by similarity
    assert f"{kb}/docs/holidays.md" not in [c.location for c in reply.citations]
    assert reply.metadata == {"provider": "offline", "grounded": True}
    assert "```" not in reply.text and "##" not in reply.text  # code and headings are not prose


def test_answer_quotes_list_items_as_sentences_in_their_order(hits, embed):
    reply = offline_answer("What does error E4012 from the rotate_credentials job mean?", hits, embed)
    rotated = reply.text.index("The staging database password is rotated every ninety days")
    expired = reply.text.index("If the job fails with error E4012 the vault token expired")
    assert rotated < expired and "\n- " not in reply.text  # bullets stripped, the list's order kept
    places = _quoted(reply, hits)
    assert places == sorted(places)


def test_sentences_follow_search_rank_not_similarity(embed):
    tagging = Hit(1, "Releases", "releases.md", "/kb", "Releases",
                  "Every release is tagged, so a roll back can find the previous release.", "", 1.0)
    rollback = Hit(2, "Rollback", "rollback.md", "/kb", "Rollback",
                   "To roll back a bad release, run make rollback.", "", 0.5)
    # The second hit's sentence is the closer match (0.74 against 0.63), yet it reads second.
    reply = offline_answer("How do I roll back a bad release?", [tagging, rollback], embed)
    assert reply.text.endswith("Every release is tagged, so a roll back can find the previous release. [1]\n\n"
                               "To roll back a bad release, run make rollback. [2]")
    assert [c.location for c in reply.citations] == ["kb/releases.md", "kb/rollback.md"]


def test_a_sentence_repeated_by_overlapping_chunks_is_quoted_once(hits, kb, embed):
    overlap = _hit(kb, 6, "docs/deploy.md", "Deploy guide › Rollback", ROLLBACK)
    reply = offline_answer("How do I roll back a bad release?", [hits[2], overlap], embed)
    assert reply.text.count("If the error rate climbs") == 1
    assert len(reply.citations) == 1


@pytest.mark.parametrize("question", ["What is the airspeed velocity of an unladen swallow?",
                                      "What is the capital of France?"])
def test_weak_retrieval_says_it_does_not_know_and_what_it_searched(hits, embed, question):
    reply = offline_answer(question, hits, embed)
    assert reply.text.startswith(LABEL)
    assert "don't know" in reply.text and f"“{question}”" in reply.text
    assert reply.citations == () and reply.code == ()
    assert reply.metadata == {"provider": "offline", "grounded": False}
    assert "leave" not in reply.text  # nothing from the hits is passed off as an answer


def test_no_hits_says_it_does_not_know(embed):
    reply = offline_answer("How do I roll back?", [], embed)
    assert "don't know" in reply.text and "“How do I roll back?”" in reply.text
    assert "found no passages" in reply.text
    assert reply.citations == () and reply.metadata["grounded"] is False


def test_citation_locations_for_folders_single_files_and_urls(embed):
    url = "https://wiki.example.com/e4012"
    hits = [Hit(1, "Runbook", url, url, "", "Error E4012 means the vault token expired.", "", 1.0),
            Hit(2, "oncall.md", "oncall.md", "/srv/notes/oncall.md", "On call › E4012",
                "On error E4012, page the platform team.", "", 0.5),
            Hit(3, "vault.md", "ops/vault.md", "/srv/repo/", "Vault",
                "Renew the token after error E4012.", "", 0.3),
            Hit(4, "tokens.md", "docs/tokens.md", "https://git.example.com/ops/platform.git", "Tokens",
                "Error E4012: a vault token older than a day.", "", 0.2)]
    reply = offline_answer("What does error E4012 mean?", hits, embed)
    assert [(c.title, c.location) for c in reply.citations] == [
        ("Runbook", "https://wiki.example.com/e4012"),  # a URL as it is; no heading: the title
        ("On call › E4012", "oncall.md"),  # the source is that one file: its name, not the server's path
        ("Vault", "repo/ops/vault.md"),  # a folder's file: its path under the folder's name
        ("Tokens", "https://git.example.com/ops/platform.git/docs/tokens.md")]  # under a remote repository


@pytest.mark.parametrize(("paragraph", "expected"), [
    ("Use a managed store, e.g. Vault or AWS Secrets Manager. Rotate it often.",
     ["Use a managed store, e.g. Vault or AWS Secrets Manager.", "Rotate it often."]),
    ("Upgrade to v1.2 before Friday. Version 2.0.1 drops Python 3.9 support!",
     ["Upgrade to v1.2 before Friday.", "Version 2.0.1 drops Python 3.9 support!"]),
    ("Ask J. Smith about it. Is the job done? See config.yaml for the keys.",
     ["Ask J. Smith about it.", "Is the job done?", "See config.yaml for the keys."]),
])
def test_sentences_split_at_ends_not_at_abbreviations_or_versions(paragraph, expected):
    assert _sentences(paragraph) == expected


def test_code_returns_the_most_relevant_snippet_with_its_language_and_source(hits, kb, embed):
    reply = offline_code("rotate the staging credentials", hits, embed)
    assert reply.text.startswith(LABEL)
    assert reply.code[0].language == "python" and reply.code[0].code == ROTATION.strip("\n")
    assert reply.citations[0].location == f"{kb.name}/rotation.py"
    assert f"From `{kb.name}/rotation.py` [1]:" in reply.text
    assert all(block.code in reply.text for block in reply.code)
    assert re.findall(r"\[(\d+)\]", reply.text) == [str(n) for n in range(1, len(reply.citations) + 1)]


def test_code_takes_the_language_from_a_fence(hits, kb, embed):
    reply = offline_code("the command to roll back a bad release", hits, embed)
    assert reply.code[0].language == "bash" and reply.code[0].code == "make rollback VERSION=previous"
    assert reply.citations[0].location == f"{kb.name}/docs/deploy.md"


def test_code_without_any_says_so_and_invents_none(hits, embed):
    prose_only = [hit for hit in hits if "```" not in hit.text and not hit.location.endswith(".py")]
    reply = offline_code("rotate the staging credentials", prose_only, embed)
    assert reply.text.startswith(LABEL) and "no code" in reply.text
    assert reply.code == () and reply.citations == () and reply.metadata["grounded"] is False


def test_docs_has_every_section_in_order_and_the_footer(hits, kb, embed):
    reply = offline_docs("deployments and rollbacks", hits, embed, meta=META)
    text = reply.text
    assert text.startswith(f"{LABEL}\n\n# Deployments and rollbacks\n")
    assert [text.index(section) for section in SECTIONS] == sorted(text.index(section) for section in SECTIONS)
    assert text.endswith("---\n_task 5f0c-task · trace 9a1e-trace · model offline · workspace default_")
    assert "### Deploy guide › Rollback" in text and "### Holidays" not in text  # off-topic hit left out
    example = text[text.index("## Example"):text.index("## Related")]
    assert f"From `{kb.name}/docs/deploy.md`" in example and "```bash\nmake rollback VERSION=previous\n```" in example
    assert "- If the error rate climbs after a release" in text  # an error sentence: troubleshooting
    assert reply.metadata == {"provider": "offline", "grounded": True}


def test_docs_related_lists_only_the_cited_sources(hits, kb, embed):
    reply = offline_docs("staging credentials rotation", hits, embed, meta=META)
    related = reply.text[reply.text.index("## Related"):reply.text.index("## Troubleshooting")]
    listed = re.findall(r"^- `([^`]+)`", related, flags=re.MULTILINE)
    assert sorted(listed) == sorted({c.location for c in reply.citations})
    assert f"{kb}/docs/holidays.md" not in reply.text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    assert markers == set(range(1, len(reply.citations) + 1))
    trouble = reply.text[reply.text.index("## Troubleshooting"):]
    assert "error E4012" in trouble


def test_docs_on_an_unknown_topic_keeps_every_section_and_cites_nothing(hits, embed):
    reply = offline_docs("swallow airspeed", hits, embed, meta=META)
    assert all(section in reply.text for section in SECTIONS)
    assert "No troubleshooting notes were found in the sources." in reply.text
    assert "No code example was found in the sources." in reply.text
    assert "workspace default" in reply.text and reply.citations == ()
    assert reply.metadata == {"provider": "offline", "grounded": False}


def test_replies_are_deterministic(hits, embed):
    fresh = HashEmbedder().embed
    for make in (lambda e: offline_answer("How do I roll back a bad release?", hits, e),
                 lambda e: offline_code("rotate the staging credentials", hits, e),
                 lambda e: offline_docs("deployments and rollbacks", hits, e, meta=META)):
        assert make(embed) == make(fresh) == make(embed)
