"""The `morningai` command: `main.py` is the root command (up, web, worker, migrate, ingest,
search, …) and each other module one command group (ask, faq, channels, slack, discord)."""
