-- The support desk (issue 17). A channel's answer mode: `mention` answers only what is addressed
-- to the bot; `auto` also answers questions nobody tagged it in, when sure enough; `draft`
-- holds those answers for a person to publish. Escalations go to the channel's people.
ALTER TABLE channel_settings
    ADD COLUMN mode text NOT NULL DEFAULT 'mention' CHECK (mode IN ('mention', 'auto', 'draft')),
    -- The confidence an unasked question's answer needs in `auto` mode; NULL: the embedder's
    -- calibrated default.
    ADD COLUMN threshold real CHECK (threshold >= 0 AND threshold <= 1),
    -- `auto` mode, not sure enough: react with this emoji (Slack's name, or a Unicode emoji)
    -- rather than stay silent; NULL: silent.
    ADD COLUMN unsure_reaction text CHECK (length(unsure_reaction) BETWEEN 1 AND 100),
    -- `draft` mode: the channel reviewers publish from; NULL: the dashboard only.
    ADD COLUMN review_channel text CHECK (length(review_channel) BETWEEN 1 AND 40),
    -- Who "Ask a person" calls on: Slack user group or user ids, a Discord role or user ids.
    ADD COLUMN people text[] CHECK (cardinality(people) BETWEEN 1 AND 20),
    -- Ask once whether an answer helped, this many minutes after it when nobody reacted; NULL: never.
    ADD COLUMN follow_up_minutes integer CHECK (follow_up_minutes BETWEEN 1 AND 10080),
    ADD COLUMN follow_up_dms boolean NOT NULL DEFAULT false;

-- `drafted`: answered, held for a person to publish or dismiss. `withheld`: answered in `auto`
-- mode below the channel's threshold, so nothing was posted.
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check,
    ADD CONSTRAINT tasks_status_check
        CHECK (status IN ('received', 'queued', 'running', 'posted', 'failed', 'skipped', 'drafted', 'withheld'));

-- What happened to a question after the bot answered it: handed over to a person, resolved,
-- asked whether it helped, a draft reviewed. One row per task that has any of it.
CREATE TABLE task_support (
    task_id        uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    escalated_at   timestamptz,
    escalated_by   text,
    resolved_at    timestamptz,
    resolved_by    text,
    resolved_how   text CHECK (resolved_how IN ('button', 'reaction', 'follow_up', 'dashboard')),
    followed_up_at timestamptz,
    reviewed_at    timestamptz,
    reviewed_by    text,
    review         text CHECK (review IN ('published', 'dismissed')),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_support_escalated ON task_support (escalated_at) WHERE escalated_at IS NOT NULL AND resolved_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON task_support TO morningai_app;

-- What people (not the bot) wrote in the threads of a support channel's answers, captured as it
-- is posted: when such a thread is resolved, the question and the person's answer become a draft
-- FAQ for review, linked to the thread (worker/desk.py: learn).
CREATE TABLE thread_replies (
    task_id  uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    ts       text NOT NULL,  -- the reply's platform id
    user_id  text NOT NULL,
    text     text NOT NULL,
    link     text NOT NULL,  -- where the reply can be read, in its thread
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, ts)
);
GRANT SELECT, INSERT ON thread_replies TO morningai_app;
