"""The composition root: it wires the rooms together (hub/wiring.py: which posters, which
agent, what each adapter may ask), starts embedded PostgreSQL and Redis, runs migrations and
supervises `morningai up`'s processes; `hub/web/` is the Flask app (blueprints by feature),
`hub/cli/` the `morningai` command, `hub/admin/` accounts, settings and secrets. It may import
everything; nothing imports it."""
