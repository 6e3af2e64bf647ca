-- The agent's trace: one row per graph node a task's run went through, with its time, for the
-- dashboard. A re-run of the task replaces them.
CREATE TABLE task_steps (
    task_id      uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    node         text NOT NULL,
    ms           double precision NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, position)
);
GRANT SELECT, INSERT, DELETE ON task_steps TO morningai_app;
