-- FAQs drafted from the questions people asked, reviewed by an admin, and (once approved)
-- served as answers without calling the model. One workspace's FAQs are its knowledge, so Row
-- Level Security is enabled and forced exactly as on the memory tables (0002).

CREATE TABLE faqs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question      text NOT NULL CHECK (question <> ''),  -- the canonical wording
    answer        text NOT NULL,  -- Markdown, with [n] markers into `sources`
    sources       jsonb NOT NULL DEFAULT '[]',  -- [{"title", "location", "snippet"}], the citations
    topic         text NOT NULL DEFAULT '',  -- the heading `morningai faq export` groups it under
    -- draft: written by `faq generate`, unreviewed; only approved FAQs are served or exported.
    -- rejected ones are kept so that the same questions are not drafted again.
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'rejected')),
    task_ids      uuid[] NOT NULL DEFAULT '{}',  -- the asked questions (tasks) it stands for
    askers        text[] NOT NULL DEFAULT '{}',  -- distinct "platform:user" who asked them
    confidence    real,  -- the draft answer's retrieval similarity, 0 when it found nothing
    -- The question's vector, made by `embedder`; compared only with vectors of the same one.
    embedder      text NOT NULL,
    dims          integer NOT NULL,
    embedding     vector NOT NULL CHECK (vector_dims(embedding) = dims),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    approved_at   timestamptz
);

-- A workspace has a few hundred FAQs at most: they are compared exactly, no vector index.
CREATE INDEX faqs_workspace ON faqs (workspace_id, status);

ALTER TABLE faqs ENABLE ROW LEVEL SECURITY;
ALTER TABLE faqs FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON faqs
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());

GRANT SELECT, INSERT, UPDATE, DELETE ON faqs TO morningai_app;
