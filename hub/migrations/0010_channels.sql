-- One table of per-channel settings for every platform: Slack's channel_settings (0007) takes
-- Discord's discord_channels (0008), which had the same shape, and both gain what an admin
-- sets per channel in the dashboard: whether the bot answers there at all, which knowledge
-- sources it may search and which kinds of task it takes.

ALTER TABLE channel_settings
    -- false: the worker ends the channel's tasks as `skipped`, posting nothing.
    ADD COLUMN enabled boolean NOT NULL DEFAULT true,
    -- Source ids the channel's answers may search; NULL: every source of the workspace.
    ADD COLUMN sources uuid[] CHECK (cardinality(sources) > 0),
    -- Task kinds the channel takes; NULL: all of them.
    ADD COLUMN kinds text[] CHECK (cardinality(kinds) > 0
                                   AND kinds <@ ARRAY['ask', 'code', 'docs', 'faq', 'help']),
    -- The ids each platform gives its channels (and Discord its threads), so a typo is refused
    -- rather than stored as a setting nothing will ever read.
    ADD CONSTRAINT channel_settings_channel_id CHECK (
        (platform = 'slack' AND channel ~ '^[CGD][A-Z0-9]{2,30}$')
        OR (platform = 'discord' AND channel ~ '^[0-9]{1,22}$')
        OR platform = 'web');

INSERT INTO channel_settings (platform, channel, follow_ups, updated_at)
SELECT 'discord', channel_id, follow_ups, updated_at FROM discord_channels;
DROP TABLE discord_channels;

-- "Reset" in the dashboard deletes a channel's row: it is back to the defaults.
GRANT DELETE ON channel_settings TO morningai_app;

-- A task of a disabled channel is `skipped`: done, nothing posted, nobody to tell.
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check,
    ADD CONSTRAINT tasks_status_check
        CHECK (status IN ('received', 'queued', 'running', 'posted', 'failed', 'skipped'));
