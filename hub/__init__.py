"""The hub: configuration, storage, the task lifecycle, the queue, the worker, the web app, the CLI."""
