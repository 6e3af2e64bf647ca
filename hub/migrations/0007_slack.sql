-- Slack: installed teams (OAuth), the OAuth flow's one-time states, per-channel settings and
-- feedback on answers.

-- One row per installed team (or Enterprise Grid organisation, for an org-wide install), with
-- the hub workspace its questions are answered from. The bot token is Fernet ciphertext.
CREATE TABLE slack_installations (
    install_key            text PRIMARY KEY,  -- the team id, or the enterprise id of an org install
    enterprise_id          text,
    team_id                text,
    team_name              text,
    app_id                 text,
    is_enterprise_install  boolean NOT NULL DEFAULT false,
    workspace_id           uuid NOT NULL REFERENCES workspaces (id),
    bot_id                 text NOT NULL,
    bot_user_id            text NOT NULL,
    bot_scopes             text NOT NULL DEFAULT '',
    bot_token              bytea NOT NULL,
    installer_user_id      text,
    installed_at           timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON slack_installations TO morningai_app;

-- The OAuth `state` parameter: issued by /slack/install, consumed once by the redirect.
CREATE TABLE slack_oauth_states (
    state       text PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
GRANT SELECT, INSERT, DELETE ON slack_oauth_states TO morningai_app;

-- Settings of one chat channel; today whether thread follow-ups are answered without a mention.
CREATE TABLE channel_settings (
    platform    text NOT NULL CHECK (platform IN ('slack', 'discord', 'web')),
    channel     text NOT NULL,
    follow_ups  boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, channel)
);
GRANT SELECT, INSERT, UPDATE ON channel_settings TO morningai_app;

-- A user's thumbs up (1) or down (-1) on one answer; a second click changes their vote.
CREATE TABLE feedback (
    task_id     uuid NOT NULL REFERENCES tasks (id),
    user_id     text NOT NULL,
    vote        smallint NOT NULL CHECK (vote IN (-1, 1)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, user_id)
);
GRANT SELECT, INSERT, UPDATE ON feedback TO morningai_app;

-- A thread reply is a follow-up when the bot already answered in that thread.
CREATE INDEX tasks_by_thread ON tasks (platform, channel, thread) WHERE thread IS NOT NULL;
