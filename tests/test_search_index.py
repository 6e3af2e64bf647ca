"""What keeps search fast as workspaces grow: each workspace's own HNSW index, and word counts
kept in step with the chunks (migration 0005)."""

import numpy as np

from memory import store, workspaces
from memory.embedders import HashEmbedder
from memory.ingest import ingest
from memory.search import nearest_sql, search

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
