"""What keeps search fast as workspaces grow: each workspace's own HNSW index, and word counts
kept in step with the chunks (migration 0005)."""

import numpy as np

from core import workspaces
from memory import store
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from memory.search import MATCHES, nearest_sql, search

GUIDE = """# Release guide

## Shipping

Run `make release` from the main branch; the canary takes ten minutes.

## Rollback

Roll back with `make rollback VERSION=previous` when the error rate climbs.
"""


def _write(folder, **files):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _indexes(owner) -> set[str]:
    return {r[0] for r in owner.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'chunks_hnsw_%'")}


def _index_of(space, dims: int) -> str:
    return f"chunks_hnsw_{space.id.hex}_{dims}"


def test_each_workspace_is_searched_through_its_own_index(rt, tmp_path, owner):
    embedder = HashEmbedder()
    ingest(rt.db, embedder, [str(_write(tmp_path / "a", **{"guide.md": GUIDE}))])
    ingest(rt.db, embedder, [str(_write(tmp_path / "b", **{"notes.md": "# Notes\n\nFalcon ships on Fridays.\n"}))],
           workspace="falcon")
    default, falcon = workspaces.get(rt.db, "default"), workspaces.get(rt.db, "falcon")
    assert _indexes(owner) == {_index_of(default, 384), _index_of(falcon, 384)}

    with rt.db.workspace(default.id) as conn:
        conn.execute("SET LOCAL enable_seqscan = off")  # a three-chunk table would rather be scanned
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
            "EXPLAIN " + nearest_sql(default), {"q": embedder.embed(["rollback"])[0], "n": 5}))
    assert _index_of(default, 384) in plan and _index_of(falcon, 384) not in plan

    class Wider(HashEmbedder):
        name, dims = "hash-wide", 512

    ingest(rt.db, Wider(), [str(tmp_path / "a")], reembed=True)  # the old size's index goes
    assert _indexes(owner) == {_index_of(default, 512), _index_of(falcon, 384)}
    assert search(rt.db, Wider(), "default", "roll back", k=1)[0].location == "guide.md"


def _counts_match_a_recount(owner) -> None:
    kept = {(w, lexeme): n for w, lexeme, n in owner.execute(
        "SELECT workspace_id, lexeme, chunks FROM chunk_terms WHERE chunks <> 0")}
    recount = {(w, lexeme): n for w, lexeme, n in owner.execute(
        "SELECT workspace_id, lexeme, count(*) FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme GROUP BY 1, 2")}
    assert kept == recount
    totals = dict(owner.execute("SELECT workspace_id, chunks FROM chunk_counts WHERE chunks <> 0").fetchall())
    assert totals == dict(owner.execute("SELECT workspace_id, count(*) FROM chunks GROUP BY 1").fetchall())


def test_word_counts_follow_every_change_to_the_chunks(rt, tmp_path, owner):
    embedder = HashEmbedder()
    folder = _write(tmp_path / "docs", **{"guide.md": GUIDE, "oncall.md": "# On call\n\nPage the owner of E4012.\n"})
    ingest(rt.db, embedder, [str(folder)])
    ingest(rt.db, embedder, [str(_write(tmp_path / "f", **{"x.md": "# Falcon\n\nFalcon release notes.\n"}))],
           workspace="falcon")
    _counts_match_a_recount(owner)
    assert owner.execute("SELECT chunks FROM chunk_terms WHERE lexeme = 'e4012'").fetchone() == (1,)

    (folder / "guide.md").write_text(GUIDE.replace("canary", "smoke test"))  # replaced chunks
    (folder / "oncall.md").unlink()  # a deleted document
    ingest(rt.db, embedder, [str(folder)])
    _counts_match_a_recount(owner)
    assert owner.execute("SELECT chunks FROM chunk_terms WHERE lexeme = 'e4012'").fetchone() == (0,)

    default = workspaces.get(rt.db, "default")
    with rt.db.workspace(default.id) as conn:  # re-embedding leaves the text, and the counts, alone
        for ids, texts in store.chunk_batches(conn):
            store.set_embeddings(conn, ids, np.asarray(embedder.embed(texts)))
        # Counts are workspace data like any other: another workspace's are invisible.
        assert conn.execute("SELECT count(*) AS n FROM chunk_terms WHERE lexeme = 'falcon'").fetchone()["n"] == 0
        source_id = store.sources(conn)[0]["id"]
    _counts_match_a_recount(owner)

    with rt.db.workspace(default.id) as conn:  # a source's chunks go by cascade
        store.delete_source(conn, source_id)
    _counts_match_a_recount(owner)
    assert owner.execute("SELECT chunks FROM chunk_counts WHERE workspace_id = %s", (default.id,)).fetchone() == (0,)


def _big_and_small_source(rt, tmp_path):
    """A workspace where one source holds more chunks with "deploy" than a text search takes
    (MATCHES) and another a few: the small one's source id. Its files are the only text files
    and the only ones under runbooks/; "rollback", rarer than "deploy" workspace-wide, is only
    in the big one."""
    big = _write(tmp_path / "big", **{
        f"note-{i}.md": f"# Note {i}\n\nWe deploy service {i} after review."
                        + (" Rollback is manual." if i % 10 == 0 else "") + "\n"
        for i in range(MATCHES + 30)})
    small = tmp_path / "small"
    _write(small)
    _write(small / "runbooks", **{f"{name}.txt": f"Deploy the {name} with one command.\n"
                                  for name in ("gateway", "scheduler", "billing")})
    ingest(rt.db, HashEmbedder(), [str(big), str(small)])
    with rt.db.workspace(workspaces.get(rt.db, "default").id) as conn:
        return next(s["id"] for s in store.sources(conn) if s["location"] == str(small))


SMALL_SOURCE = {"runbooks/gateway.txt", "runbooks/scheduler.txt", "runbooks/billing.txt"}


def test_a_filtered_text_search_finds_the_allowed_documents_however_many_others_match(rt, tmp_path):
    small = _big_and_small_source(rt, tmp_path)

    def found(query, **filters):
        return {hit.location for hit in search(rt.db, HashEmbedder(), "default", query, mode="text", **filters)}

    for query in ("deploy", "deploy rollback"):  # too many matches; a rarer word the filter excludes
        assert found(query, sources=[small]) == SMALL_SOURCE
        assert found(query, formats=["text"]) == SMALL_SOURCE
        assert found(query, location_prefix="runbooks/") == SMALL_SOURCE
    assert found("rollback", sources=[small]) == set()
    assert found("deploy", location_prefix="nowhere/") == set()
    assert len(found("deploy rollback")) == 8  # unfiltered, as before: the rarest word's chunks
    assert found("deploy rollback") <= {f"note-{i}.md" for i in range(0, MATCHES + 30, 10)}


def test_a_filtered_vector_search_is_not_starved_by_the_other_sources(rt, tmp_path):
    small = _big_and_small_source(rt, tmp_path)
    # The big source's chunks are all nearer than the small one's: ef_search (100) of them fill
    # the index's first pass, and only its iterative scan goes on to the small source.
    hits = search(rt.db, HashEmbedder(), "default", "we deploy service after review", mode="vector",
                  sources=[small])
    assert {hit.location for hit in hits} == SMALL_SOURCE


def test_the_filtered_text_candidates_never_come_from_another_workspace(rt, tmp_path):
    """chunks_matching_in reads chunks as their owner, past Row Level Security: document ids of
    another workspace must find nothing."""
    embedder = HashEmbedder()
    ingest(rt.db, embedder, [str(_write(tmp_path / "a", **{"guide.md": GUIDE}))])
    ingest(rt.db, embedder, [str(_write(tmp_path / "b", **{"notes.md": "# Notes\n\nFalcon rollback on Fridays.\n"}))],
           workspace="falcon")
    default, falcon = workspaces.get(rt.db, "default"), workspaces.get(rt.db, "falcon")
    with rt.db.workspace(falcon.id) as conn:
        theirs = [r["id"] for r in conn.execute("SELECT id FROM documents")]
        assert len(conn.execute("SELECT chunks_matching_in('rollback', 10, %s)", (theirs,)).fetchall()) == 1
    with rt.db.workspace(default.id) as conn:
        assert conn.execute("SELECT chunks_matching_in('rollback', 10, %s)", (theirs,)).fetchall() == []
