-- Sources that sync (issue 18): a connector's source (GitHub, Confluence, Notion, a web site)
-- is listed and re-synced on a schedule; only items whose version changed are fetched and embedded.
ALTER TABLE sources DROP CONSTRAINT sources_kind_check,
    ADD CONSTRAINT sources_kind_check
        CHECK (kind IN ('file', 'folder', 'git', 'url', 'attachment', 'github', 'confluence', 'notion', 'web'));
-- `syncing`: a sync is running. `failing`: the last sync failed (`last_error` says why); the
-- knowledge of the sync before it is kept.
ALTER TABLE sources DROP CONSTRAINT sources_status_check,
    ADD CONSTRAINT sources_status_check
        CHECK (status IN ('new', 'ingesting', 'ready', 'error', 'syncing', 'failing'));
ALTER TABLE sources
    ADD COLUMN name text,  -- how people call it: acme/handbook, the ENG space, docs.acme.com
    -- The connector's credentials (a token, an email and API token), JSON sealed with
    -- MORNINGAI_SECRET_KEY; never sent back by the API.
    ADD COLUMN credentials bytea,
    -- Re-synced this often; NULL: only when asked (or when a webhook says something changed).
    ADD COLUMN schedule_minutes integer CHECK (schedule_minutes BETWEEN 5 AND 10080),
    ADD COLUMN cursor jsonb NOT NULL DEFAULT '{}',  -- what the connector saved after its last sync
    ADD COLUMN next_sync_at timestamptz,
    ADD COLUMN last_synced_at timestamptz,  -- the last sync that finished without failing
    ADD COLUMN progress jsonb,  -- {"done", "total", "current"} while syncing
    ADD COLUMN last_sync jsonb;  -- the last run's counts: added, updated, unchanged, deleted, embedded

-- An item's version as the connector's listing gives it (a blob sha, a page version, an ETag):
-- an item whose version is unchanged is neither fetched nor embedded again.
ALTER TABLE documents ADD COLUMN version text;

CREATE INDEX sources_due ON sources (next_sync_at) WHERE schedule_minutes IS NOT NULL;
