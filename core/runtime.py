"""The infrastructure one process of the hub works with: settings, database and queue,
with embedded servers started for whatever the settings leave unset."""

from __future__ import annotations

from functools import cached_property

from hub import admin_settings
from hub.config import Settings
from hub.db import Database
from hub.embedded import EmbeddedServices
from hub.queue import TaskQueue
from memory.embedders import Embedder, choose_embedder


class Runtime:
    def __init__(self, settings: Settings, database_url: str, redis_url: str,
                 services: EmbeddedServices | None = None):
        self.settings = settings
        # What the environment says, before the dashboard's settings and secrets are applied.
        self.environment = settings
        self.database_url = database_url
        self.redis_url = redis_url
        self.services = services
        self.db = Database(database_url)
        self.queue = TaskQueue(redis_url, settings.queue_name, job_timeout=settings.task_timeout,
                               max_attempts=settings.max_attempts)

    @classmethod
    def open(cls, settings: Settings, *, dashboard_settings: bool = False) -> Runtime:
        """With dashboard_settings (the web app and the workers, started once the database is
        migrated), the settings changed in the dashboard apply on top of `settings`."""
        services = EmbeddedServices(settings.home)
        database_url, redis_url = services.start(settings.database_url, settings.redis_url)
        runtime = cls(settings, database_url, redis_url, services)
        if dashboard_settings:
            runtime.settings = admin_settings.applied(runtime.db, settings)
        return runtime

    @cached_property
    def embedder(self) -> Embedder:
        """The configured embedder, made on first use (the local model takes seconds to load)."""
        return choose_embedder(self.settings)

    @property
    def embedded(self) -> list[str]:
        """Which embedded servers this process started (and will stop on close)."""
        if self.services is None:
            return []
        return [name for name, service in (("PostgreSQL", self.services.postgres),
                                           ("Redis", self.services.redis)) if service.started]

    def close(self) -> None:
        self.db.close()
        self.queue.redis.close()
        if self.services is not None:
            self.services.stop()
