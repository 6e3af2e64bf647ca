-- Model tokens spent outside a task: drafting FAQs asks the model too. The daily token budget
-- (hub/limits.py) counts these with the tasks' own, so generation cannot spend around it.
CREATE TABLE model_usage (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces (id),
    purpose       text NOT NULL CHECK (purpose IN ('faq_generation')),
    prompt_tokens      integer NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  integer NOT NULL CHECK (completion_tokens >= 0),
    cost_usd      numeric,  -- null for a model whose price is not known (a local server)
    spent_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_usage_by_day ON model_usage (workspace_id, spent_at);
GRANT SELECT, INSERT ON model_usage TO morningai_app;
