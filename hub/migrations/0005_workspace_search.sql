-- Search that stays fast as workspaces grow: an HNSW index per workspace, and per-workspace word
-- statistics for full-text ranking.

-- One HNSW index over every workspace's chunks makes a search walk the other workspaces' rows
-- too, only for Row Level Security to discard them: at ten workspaces, nine steps in ten are
-- wasted and recall suffers. A partial index per workspace holds only its rows. The ingest builds
-- it after a workspace's first load (one bulk build instead of row-by-row upkeep); until then
-- a search is exact, which is fast at that size.
DROP INDEX chunks_embedding_384;
DROP INDEX chunks_embedding_1536;

-- SECURITY DEFINER: creating an index needs the table's owner, which the runtime role is not.
-- The function builds only this one kind of index, for the workspace of the caller's transaction.
CREATE FUNCTION index_workspace_chunks(dims integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    workspace uuid := current_workspace();
    wanted text := format('chunks_hnsw_%s_%s', replace(workspace::text, '-', ''), dims);
    other text;
BEGIN
    IF workspace IS NULL THEN
        RAISE EXCEPTION 'index_workspace_chunks: app.workspace_id is not set';
    END IF;
    -- A re-embedded workspace leaves its index of the old size empty.
    FOR other IN SELECT indexname FROM pg_indexes
                 WHERE tablename = 'chunks' AND schemaname = current_schema()
                   AND indexname LIKE format('chunks_hnsw_%s_%%', replace(workspace::text, '-', ''))
                   AND indexname <> wanted LOOP
        EXECUTE format('DROP INDEX %I', other);
    END LOOP;
    -- pgvector indexes vectors of up to 2,000 dimensions; larger ones are searched exactly.
    IF dims > 2000 OR to_regclass(wanted) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Room to build the graph in memory; past it the build slows down several times.
    PERFORM set_config('maintenance_work_mem', '256MB', true);
    EXECUTE format('CREATE INDEX %I ON chunks USING hnsw ((embedding::vector(%s)) vector_cosine_ops) '
                   'WHERE workspace_id = %L AND dims = %s', wanted, dims, workspace, dims);
    RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION index_workspace_chunks(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION index_workspace_chunks(integer) TO morningai_app;

-- Workspaces ingested before this migration get their index now.
DO $$
DECLARE
    space record;
BEGIN
    FOR space IN SELECT id, embedding_dims FROM workspaces WHERE embedding_dims IS NOT NULL LOOP
        PERFORM set_config('app.workspace_id', space.id::text, true);
        PERFORM index_workspace_chunks(space.embedding_dims);
    END LOOP;
    PERFORM set_config('app.workspace_id', '', true);
END
$$;

-- Under Row Level Security PostgreSQL uses an index only for operators that are leakproof, and
-- full text's @@ is not (declaring it so takes a superuser): every text search would read the
-- whole workspace. So RLS on chunks is not forced on the table's owner, and this one SECURITY
-- DEFINER function, which applies the workspace filter itself, finds the chunks holding any of
-- a query's words through the GIN index. It returns ids alone; the caller reads the rows under
-- RLS. The runtime role is bound by RLS as before.
ALTER TABLE chunks NO FORCE ROW LEVEL SECURITY;
CREATE FUNCTION chunks_matching(words tsquery, cap integer) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM chunks WHERE workspace_id = current_workspace() AND tsv @@ words LIMIT cap
$$;
REVOKE EXECUTE ON FUNCTION chunks_matching(tsquery, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chunks_matching(tsquery, integer) TO morningai_app;

-- Full-text ranking weighs each query word by its rarity in the workspace (idf). Counting a
-- word's chunks at query time costs as much as the word is common; these counts are kept as
-- chunks come and go instead, by statement-level triggers that see each statement's rows at once.
CREATE TABLE chunk_terms (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lexeme        text NOT NULL,
    chunks        integer NOT NULL,  -- the workspace's chunks that hold the lexeme (rows left at 0 are kept)
    PRIMARY KEY (workspace_id, lexeme)
);

CREATE TABLE chunk_counts (
    workspace_id  uuid PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    chunks        bigint NOT NULL
);

ALTER TABLE chunk_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunk_terms FORCE ROW LEVEL SECURITY;
ALTER TABLE chunk_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunk_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON chunk_terms
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());
CREATE POLICY workspace_isolation ON chunk_counts
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());
GRANT SELECT, INSERT, UPDATE ON chunk_terms, chunk_counts TO morningai_app;

CREATE FUNCTION count_chunk_terms() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- The statement's rows, +1 for each one added and -1 for each one removed. An UPDATE moves
    -- the counts only for rows whose text changed (re-embedding moves none).
    delta text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT workspace_id, tsv, 1 AS sign FROM added'
        WHEN 'DELETE' THEN 'SELECT workspace_id, tsv, -1 AS sign FROM removed'
        ELSE 'SELECT n.workspace_id, n.tsv, 1 AS sign FROM added n JOIN removed o USING (id) WHERE n.tsv <> o.tsv
              UNION ALL
              SELECT o.workspace_id, o.tsv, -1 FROM added n JOIN removed o USING (id) WHERE n.tsv <> o.tsv'
    END;
BEGIN
    -- Rows in key order, so concurrent ingests into one workspace lock them in the same order.
    EXECUTE format($sql$
        WITH delta AS MATERIALIZED (%s),
        terms AS (
            INSERT INTO chunk_terms AS t (workspace_id, lexeme, chunks)
            SELECT workspace_id, lexeme, sum(sign) FROM delta, unnest(tsvector_to_array(tsv)) AS lexeme
            GROUP BY 1, 2 HAVING sum(sign) <> 0 ORDER BY 1, 2
            ON CONFLICT (workspace_id, lexeme) DO UPDATE SET chunks = t.chunks + EXCLUDED.chunks)
        INSERT INTO chunk_counts AS c (workspace_id, chunks)
        SELECT workspace_id, sum(sign) FROM delta GROUP BY 1 HAVING sum(sign) <> 0 ORDER BY 1
        ON CONFLICT (workspace_id) DO UPDATE SET chunks = c.chunks + EXCLUDED.chunks
        $sql$, delta);
    RETURN NULL;
END
$$;

CREATE TRIGGER chunk_terms_insert AFTER INSERT ON chunks REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_chunk_terms();
CREATE TRIGGER chunk_terms_delete AFTER DELETE ON chunks REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_chunk_terms();
CREATE TRIGGER chunk_terms_update AFTER UPDATE ON chunks REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_chunk_terms();

-- Chunks stored before this migration.
INSERT INTO chunk_terms (workspace_id, lexeme, chunks)
    SELECT workspace_id, lexeme, count(*) FROM chunks, unnest(tsvector_to_array(tsv)) AS lexeme GROUP BY 1, 2;
INSERT INTO chunk_counts (workspace_id, chunks) SELECT workspace_id, count(*) FROM chunks GROUP BY 1;
