"""Memory end to end on the real database: ingest, incremental re-ingest, search, isolation."""

import psycopg
import pytest
from fakes import FakeOpenAI

from core import workspaces
from memory.embedders import HashEmbedder, LocalEmbedder, OpenAIEmbedder
from memory.ingest import ingest
from memory.search import search

DEPLOY = """# Deploy guide

How the team ships the web app.

## Production

Deploys go out from the main branch after review. Run `make release` and watch the dashboard.

## Rollback

If the error rate climbs after a release, roll back with `make rollback VERSION=previous`.
The on-call engineer decides; nobody needs to ask for permission at night.
"""

CREDENTIALS = """# Credentials

## Rotation

The staging database password is rotated every ninety days by the `rotate_credentials` job.
If the job fails with error E4012 the vault token expired: renew it with `vault login`.
"""

HOLIDAYS = """# Holidays

Everyone gets twenty-five days of paid leave a year. Book them in the HR tool two weeks ahead.
"""


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "handbook"
    folder.mkdir()
    for name, text in (("deploy.md", DEPLOY), ("credentials.md", CREDENTIALS), ("holidays.md", HOLIDAYS)):
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def embedder():
    return HashEmbedder()


def _locations(hits):
    return [hit.location for hit in hits]


def test_ingest_then_search_finds_the_passage_with_its_citation(rt, docs, embedder):
    report = ingest(rt.db, embedder, [str(docs)])
    assert (report.added, report.unchanged, report.skipped, report.created_workspace) == (3, 0, [], False)

    hits = search(rt.db, embedder, "default", "how do I roll back a bad release?", k=3)
    assert hits[0].location == "deploy.md"
    assert hits[0].heading.startswith("Deploy guide") and "make rollback" in hits[0].text
    assert hits[0].title == "Deploy guide" and hits[0].source == str(docs)
    assert "**" in hits[0].snippet  # the query's words are marked


def test_reingesting_unchanged_files_skips_them_and_changes_are_applied(rt, docs, embedder, owner):
    ingest(rt.db, embedder, [str(docs)])
    chunk_ids = owner.execute("SELECT array_agg(id ORDER BY id) FROM chunks").fetchone()[0]

    again = ingest(rt.db, embedder, [str(docs)])
    assert (again.unchanged, again.added, again.updated, again.embedded) == (3, 0, 0, 0)
    assert owner.execute("SELECT array_agg(id ORDER BY id) FROM chunks").fetchone()[0] == chunk_ids

    (docs / "holidays.md").write_text(HOLIDAYS.replace("twenty-five", "thirty"))
    (docs / "credentials.md").unlink()
    changed = ingest(rt.db, embedder, [str(docs)])
    assert (changed.unchanged, changed.updated, changed.deleted) == (1, 1, 1)
    texts = " ".join(r[0] for r in owner.execute("SELECT text FROM chunks"))
    assert "thirty days" in texts and "twenty-five" not in texts and "E4012" not in texts
    source = owner.execute("SELECT status, documents, skipped FROM sources").fetchone()
    assert source == ("ready", 2, [])


def test_a_bad_file_is_skipped_with_its_reason_and_the_rest_ingested(rt, docs, embedder, owner):
    (docs / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (docs / "legacy.txt").write_bytes("caf\xe9 menu".encode("latin-1"))
    report = ingest(rt.db, embedder, [str(docs)])
    assert report.added == 3
    reasons = {s["location"].rsplit(": ", 1)[-1]: s["reason"] for s in report.skipped}
    assert reasons == {"legacy.txt": "not UTF-8 text", "logo.png": "binary file"}
    skipped = owner.execute("SELECT skipped FROM sources").fetchone()[0]
    assert {s["location"] for s in skipped} == {"legacy.txt", "logo.png"}


def test_an_unknown_workspace_is_created_and_isolated_from_others(rt, docs, tmp_path, embedder):
    other = tmp_path / "other"
    other.mkdir()
    (other / "secret.md").write_text("# Secret plans\n\nThe rollback plan for project Falcon is classified.\n")
    report = ingest(rt.db, embedder, [str(other)], workspace="falcon")
    assert report.created_workspace
    ingest(rt.db, embedder, [str(docs)])

    assert "secret.md" not in _locations(search(rt.db, embedder, "default", "rollback plan", k=8))
    assert _locations(search(rt.db, embedder, "falcon", "rollback plan", k=8)) == ["secret.md"]
    with pytest.raises(workspaces.UnknownWorkspace):
        search(rt.db, embedder, "nowhere", "rollback")


def test_row_level_security_binds_the_runtime_role(rt, docs, embedder):
    ingest(rt.db, embedder, [str(docs)])
    default = workspaces.get(rt.db, "default")
    falcon, _ = workspaces.ensure(rt.db, "falcon")

    with rt.db.connection() as conn:  # no workspace set: nothing is visible
        assert conn.execute("SELECT current_user AS u").fetchone()["u"] == "morningai_app"
        assert conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"] == 0
        assert conn.execute("SELECT count(*) AS n FROM documents").fetchone()["n"] == 0
    with rt.db.workspace(falcon.id) as conn:
        assert conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"] == 0
    with rt.db.workspace(default.id) as conn:
        assert conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"] > 0

    # Writing into another workspace while set to this one is refused.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with rt.db.workspace(falcon.id) as conn:
            conn.execute("INSERT INTO sources (workspace_id, kind, location) VALUES (%s, 'file', '/x')",
                         (default.id,))
    with rt.db.workspace(falcon.id) as conn:
        assert conn.execute("UPDATE chunks SET text = 'gone'").rowcount == 0


def test_switching_embedder_is_refused_until_reembed(rt, docs, embedder, owner):
    class Wider(HashEmbedder):  # another embedder: a different name and size
        name, dims = "hash-wide", 512

    ingest(rt.db, embedder, [str(docs)])
    with pytest.raises(workspaces.EmbedderMismatch, match="--reembed"):
        ingest(rt.db, Wider(), [str(docs)])
    with pytest.raises(workspaces.EmbedderMismatch):
        search(rt.db, Wider(), "default", "rollback")

    report = ingest(rt.db, Wider(), [str(docs)], reembed=True)
    assert report.reembedded > 0
    assert owner.execute("SELECT array_agg(DISTINCT dims) FROM chunks").fetchone()[0] == [512]
    assert search(rt.db, Wider(), "default", "roll back a release", k=1)[0].location == "deploy.md"


def test_hybrid_search_beats_vector_alone_on_an_error_code(rt, docs):
    # A semantic embedder blurs an error code's few characters; full text does not.
    if not LocalEmbedder.available():
        pytest.skip("the local embedder is an optional extra: pip install 'morningai[local]'")
    embedder = LocalEmbedder()
    # Incidents that read almost the same, but for their error codes.
    for n in range(30):
        (docs / f"incident-{n}.md").write_text(
            f"# Incident {n}\n\nThe nightly job failed with error E{5100 + n}. What now? "
            "Restart the job and read its logs before paging anyone.\n")
    ingest(rt.db, embedder, [str(docs)])
    query = "E4012"
    hybrid = _locations(search(rt.db, embedder, "default", query, k=5))
    vector = _locations(search(rt.db, embedder, "default", query, k=5, mode="vector"))
    assert hybrid[0] == "credentials.md"
    assert "credentials.md" not in vector[:1]


def test_a_workspace_with_no_knowledge_returns_nothing(rt, embedder):
    assert search(rt.db, embedder, "default", "anything") == []


def test_bad_targets_are_clear_errors(rt, embedder, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        ingest(rt.db, embedder, [str(tmp_path / "nope")])
    with pytest.raises(ValueError, match="workspace name"):
        ingest(rt.db, embedder, [str(tmp_path)], workspace="Bad Name!")


def test_reingesting_unchanged_files_makes_no_embedding_calls(rt, docs):
    with FakeOpenAI(dims=1536) as server:
        embedder = OpenAIEmbedder(api_key="sk-test", base_url=server.base_url)
        ingest(rt.db, embedder, [str(docs)])
        calls = len(server.requests_to("/v1/embeddings"))
        assert calls >= 1
        ingest(rt.db, embedder, [str(docs)])
        assert len(server.requests_to("/v1/embeddings")) == calls
        (docs / "holidays.md").write_text(HOLIDAYS + "\nUnused days expire in March.\n")
        ingest(rt.db, embedder, [str(docs)])
        assert len(server.requests_to("/v1/embeddings")) == calls + 1  # the changed file alone
        assert search(rt.db, embedder, "default", "holidays", k=1)  # a 1536-dims workspace searches too


PARAPHRASES = [  # (question in other words, the passage's file)
    ("what is the cap on a team meal?", "expenses.md"),
    ("how long until a new computer shows up?", "laptops.md"),
    ("who decides to undo a deployment at night?", "deploy.md"),
]


@pytest.mark.parametrize("kind", ["hash", "local"])
def test_a_paraphrased_question_finds_its_passage_in_the_top_3(rt, docs, kind):
    if kind == "local" and not LocalEmbedder.available():
        pytest.skip("the local embedder is an optional extra: pip install 'morningai[local]'")
    embedder = HashEmbedder() if kind == "hash" else LocalEmbedder()
    (docs / "expenses.md").write_text("# Expenses\n\nReceipts go to finance within thirty days. "
                                      "A team dinner may cost at most 60 euros per person.\n")
    (docs / "laptops.md").write_text("# Laptops\n\nA new laptop ordered through the IT desk "
                                     "arrives within five working days.\n")
    ingest(rt.db, embedder, [str(docs)])
    for question, expected in PARAPHRASES:
        assert expected in _locations(search(rt.db, embedder, "default", question, k=3)), question
