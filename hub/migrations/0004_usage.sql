-- What each task cost: model tokens and an estimate in US dollars, for budgets and the dashboard.
ALTER TABLE tasks ADD COLUMN prompt_tokens integer NOT NULL DEFAULT 0,
                  ADD COLUMN completion_tokens integer NOT NULL DEFAULT 0,
                  ADD COLUMN cost_usd numeric(12, 6);
-- The per-user rate limit counts a user's recent tasks.
CREATE INDEX tasks_by_user ON tasks (platform, user_id, received_at DESC);
