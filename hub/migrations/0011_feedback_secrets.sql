-- One feedback table for every platform, with a review mark; and the secrets an admin sets in
-- the dashboard.

-- Discord's votes join Slack's: the two tables had the same shape (they were built at the same
-- time on two branches). Should one user's vote on one answer be in both, the later one wins.
INSERT INTO feedback (task_id, user_id, vote, created_at, updated_at)
SELECT task_id, user_id, vote, created_at, updated_at FROM discord_feedback
ON CONFLICT (task_id, user_id) DO UPDATE
    SET vote = excluded.vote, updated_at = excluded.updated_at
    WHERE excluded.updated_at > feedback.updated_at;
DROP TABLE discord_feedback;

-- Reviewing an answer's feedback in the dashboard marks its votes; a vote given or changed
-- afterwards is unreviewed again, so the answer comes back to the review queue.
ALTER TABLE feedback
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN reviewed_by uuid REFERENCES users (id) ON DELETE SET NULL;
-- The overview's votes-over-time chart reads votes by time.
CREATE INDEX feedback_by_time ON feedback (updated_at);

-- Secrets set in the dashboard (write-only there), by Settings field name, sealed with Fernet
-- under a key derived from MORNINGAI_SECRET_KEY. They take precedence over the environment.
CREATE TABLE secrets (
    name        text PRIMARY KEY,
    sealed      bytea NOT NULL,
    updated_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON secrets TO morningai_app;
