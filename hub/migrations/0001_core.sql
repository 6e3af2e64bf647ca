-- The core schema: workspaces, tasks, the web playground's messages, and the runtime role.

CREATE EXTENSION IF NOT EXISTS vector;

-- The hub runs as this role (SET ROLE after connecting), never as the owner, so that Row
-- Level Security applies to it. NOLOGIN: it is reached through the owner's connection.
DO $$
BEGIN
    CREATE ROLE morningai_app NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
    NULL;  -- another database on this server created it first
END
$$;

DO $$
DECLARE
    -- PostgreSQL 16 split membership into options; SET is the one SET ROLE needs.
    needed text := CASE WHEN current_setting('server_version_num')::int >= 160000
                        THEN 'SET' ELSE 'MEMBER' END;
BEGIN
    IF NOT pg_has_role(current_user, 'morningai_app', needed) THEN
        EXECUTE format('GRANT morningai_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO morningai_app;
GRANT SELECT ON schema_migrations TO morningai_app;

CREATE TABLE workspaces (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO workspaces (name) VALUES ('default');
GRANT SELECT, INSERT ON workspaces TO morningai_app;

CREATE TABLE tasks (
    id                 uuid PRIMARY KEY,
    platform           text NOT NULL CHECK (platform IN ('slack', 'discord', 'web')),
    platform_event_id  text NOT NULL,
    workspace_id       uuid NOT NULL REFERENCES workspaces (id),
    channel            text NOT NULL DEFAULT '',
    thread             text,
    user_id            text NOT NULL DEFAULT '',
    text               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('ask', 'code', 'docs', 'faq', 'help')),
    reply_target       jsonb NOT NULL DEFAULT '{}',
    trace_id           uuid NOT NULL,
    status             text NOT NULL DEFAULT 'received'
                       CHECK (status IN ('received', 'queued', 'running', 'posted', 'failed')),
    attempts           integer NOT NULL DEFAULT 0,
    worker             text,
    reply              jsonb,
    posted_id          text,
    error              text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    queued_at          timestamptz,
    started_at         timestamptz,
    posted_at          timestamptz,
    failed_at          timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- A platform that redelivers an event finds its task here instead of making another.
    UNIQUE (platform, platform_event_id)
);
-- The reconciler's sweep reads only unfinished tasks (and failures not yet announced).
CREATE INDEX tasks_unfinished ON tasks (status, updated_at)
    WHERE status IN ('received', 'queued', 'running') OR (status = 'failed' AND posted_id IS NULL);
CREATE INDEX tasks_by_workspace ON tasks (workspace_id, received_at DESC);
GRANT SELECT, INSERT, UPDATE ON tasks TO morningai_app;

-- What the hub posted in the web playground, one row per task, as Slack keeps a message per ts.
CREATE TABLE web_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     uuid NOT NULL UNIQUE REFERENCES tasks (id),
    thread      text,
    reply       jsonb NOT NULL,
    posted_at   timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON web_messages TO morningai_app;
