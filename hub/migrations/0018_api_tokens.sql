-- API tokens for the MCP server (issue 18): an admin makes one in the dashboard for one
-- workspace, hands it to an MCP client, and revokes it when it leaks or is no longer needed.
-- Only the SHA-256 of a token is kept: tokens are 256 random bits, so a fast hash is enough
-- to make a database dump useless to whoever reads it, and a lookup is one index probe.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- The token's first characters (mai_ and a few more), to recognise it in a list or a log.
    prefix        text NOT NULL,
    hash          text NOT NULL UNIQUE,
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Updated at most once a minute, so a busy client does not write on every request.
    last_used_at  timestamptz,
    -- Revoked tokens stay listed, so an admin can see which one was used until when.
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_by_workspace ON api_tokens (workspace_id, created_at);
GRANT SELECT, INSERT, UPDATE ON api_tokens TO morningai_app;
