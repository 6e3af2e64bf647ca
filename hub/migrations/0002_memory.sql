-- Memory: a workspace's sources, their documents, and the chunks that are embedded and searched.
-- Every table here holds one workspace's knowledge, so Row Level Security is enabled and forced:
-- the runtime role sees only the rows of the workspace named in `app.workspace_id`, which the hub
-- sets per transaction; a connection that has not set it sees nothing.

-- The embedder a workspace's chunks were made with: a workspace never mixes two.
ALTER TABLE workspaces ADD COLUMN embedder text, ADD COLUMN embedding_dims integer;
GRANT UPDATE (embedder, embedding_dims) ON workspaces TO morningai_app;

CREATE FUNCTION current_workspace() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.workspace_id', true), '')::uuid $$;

CREATE TABLE sources (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('file', 'folder', 'git', 'url', 'attachment')),
    location      text NOT NULL,  -- an absolute path or a URL
    options       jsonb NOT NULL DEFAULT '{}',  -- include / exclude globs
    status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ingesting', 'ready', 'error')),
    documents     integer NOT NULL DEFAULT 0,
    chunks        integer NOT NULL DEFAULT 0,
    skipped       jsonb NOT NULL DEFAULT '[]',  -- [{"location", "reason"}] of the last run
    commit        text,
    last_run_at   timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, location)
);

CREATE TABLE documents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    source_id     uuid NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    location      text NOT NULL,  -- path within the source, or the URL
    title         text NOT NULL,
    format        text NOT NULL,
    content_hash  text NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, location)
);

CREATE TABLE chunks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    document_id   uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    heading       text NOT NULL DEFAULT '',  -- the title path, joined with ' › '
    text          text NOT NULL,
    tokens        integer NOT NULL,
    -- One column for every embedder; the dims column lets each size have its own HNSW index.
    dims          integer NOT NULL,
    embedding     vector NOT NULL CHECK (vector_dims(embedding) = dims),
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('english', heading || ' ' || text)) STORED
);

CREATE INDEX sources_workspace ON sources (workspace_id);
CREATE INDEX documents_workspace ON documents (workspace_id);
CREATE INDEX chunks_workspace ON chunks (workspace_id);
CREATE INDEX chunks_document ON chunks (document_id);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
-- HNSW (cosine) for the sizes the shipped embedders produce: 384 (local, hash) and 1536
-- (OpenAI's small model). Other sizes are searched exactly: slower, never wrong.
CREATE INDEX chunks_embedding_384 ON chunks USING hnsw ((embedding::vector(384)) vector_cosine_ops)
    WHERE dims = 384;
CREATE INDEX chunks_embedding_1536 ON chunks USING hnsw ((embedding::vector(1536)) vector_cosine_ops)
    WHERE dims = 1536;

ALTER TABLE sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE sources FORCE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;

CREATE POLICY workspace_isolation ON sources
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());
CREATE POLICY workspace_isolation ON documents
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());
CREATE POLICY workspace_isolation ON chunks
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());

GRANT SELECT, INSERT, UPDATE, DELETE ON sources, documents, chunks TO morningai_app;
