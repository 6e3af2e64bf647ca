-- Discord: which workspace a guild is answered from, per-channel settings, and feedback on
-- answers. Prefixed discord_ because Slack's tables were built at the same time on another
-- branch; channel settings and feedback have the same shape there and may become one table.

-- A guild not listed here is answered from the `default` workspace.
CREATE TABLE discord_guilds (
    guild_id      text PRIMARY KEY CHECK (guild_id ~ '^[0-9]{1,22}$'),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON discord_guilds TO morningai_app;

-- Settings of one channel (or thread); today whether messages in a thread the bot answered in
-- are answered without a mention.
CREATE TABLE discord_channels (
    channel_id  text PRIMARY KEY CHECK (channel_id ~ '^[0-9]{1,22}$'),
    follow_ups  boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON discord_channels TO morningai_app;

-- A user's 👍 (1) or 👎 (-1) on one answer; a second click changes their vote.
CREATE TABLE discord_feedback (
    task_id     uuid NOT NULL REFERENCES tasks (id),
    user_id     text NOT NULL,
    vote        smallint NOT NULL CHECK (vote IN (-1, 1)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, user_id)
);
GRANT SELECT, INSERT, UPDATE ON discord_feedback TO morningai_app;
