-- Doc changes proposed as GitHub pull requests (issue 18): each workspace may name the
-- repository its docs live in, and each proposal (the FAQ file, a page from a docs answer, a
-- page of the questions a coverage gap holds) keeps one branch and its open pull request.
-- A workspace's repository and proposals are its own: Row Level Security as on the FAQs (0006).

CREATE TABLE docs_repositories (
    workspace_id  uuid PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    repository    text NOT NULL CHECK (repository ~ '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$'),  -- owner/name
    base_branch   text NOT NULL DEFAULT 'main',  -- pull requests go into it; branches start at its head
    docs_path     text NOT NULL DEFAULT 'docs/',  -- the folder new pages are written to
    faq_path      text NOT NULL DEFAULT 'FAQ.md',
    api_url       text NOT NULL DEFAULT 'https://api.github.com',
    -- A token with contents:write and pull_requests:write, sealed with MORNINGAI_SECRET_KEY;
    -- never sent back by the API.
    token         bytea NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE doc_proposals (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('faq', 'doc', 'gap')),
    title         text NOT NULL,
    -- One proposal per branch: proposing the same thing again updates its open pull request.
    branch        text NOT NULL,
    path          text NOT NULL,  -- the file it writes in the repository
    -- proposing: a job is writing it; open: its pull request is open; unchanged: the base
    -- branch already says this; merged / closed: as GitHub last told; failed: `message` says why.
    state         text NOT NULL DEFAULT 'proposing'
                  CHECK (state IN ('proposing', 'open', 'unchanged', 'merged', 'closed', 'failed')),
    message       text,
    pull_number   integer,
    pull_url      text,
    commit_sha    text,  -- the last commit written to the branch
    earlier       jsonb NOT NULL DEFAULT '[]',  -- earlier pull requests of this branch: [{"number", "url", "state"}]
    -- What motivated it: the approved FAQs, the tasks (a docs answer, a gap's questions).
    faq_ids       uuid[] NOT NULL DEFAULT '{}',
    task_ids      uuid[] NOT NULL DEFAULT '{}',
    questions     text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, branch)
);

ALTER TABLE docs_repositories ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs_repositories FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON docs_repositories
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());
ALTER TABLE doc_proposals ENABLE ROW LEVEL SECURITY;
ALTER TABLE doc_proposals FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON doc_proposals
    USING (workspace_id = current_workspace()) WITH CHECK (workspace_id = current_workspace());

GRANT SELECT, INSERT, UPDATE, DELETE ON docs_repositories, doc_proposals TO morningai_app;
