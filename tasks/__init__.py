"""The task lifecycle, second on the data path: one row per platform event (a redelivery finds
its task), received → queued → running → posted | failed | skipped; the dispatcher that queues
stored tasks on RQ, the reconciler that re-queues what a dead worker held, and what a task cost
and how people rated it. Owns the `tasks`, `task_steps`, `model_usage` and `feedback` tables.
Imports `core` only."""
