"""The infrastructure one process of the hub works with: settings, database and queue, and
the embedder, made on first use by the factory the composition root hands in."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, Protocol

from core.config import Settings
from core.db import Database
from core.queue import TaskQueue


class Services(Protocol):
    """Embedded servers this process started (hub/embedded.py), stopped when it closes."""

    def stop(self) -> None: ...


class SettingsSource(Protocol):
    """Settings kept up with the dashboard (hub/admin/live.py)."""

    def current(self) -> Settings:
        """The settings in force, checked for changes now and then: cheap enough for every read."""

    def refresh(self) -> None:
        """Check for changes now."""


class Runtime:
    def __init__(self, settings: Settings, database_url: str, redis_url: str,
                 services: Services | None = None, *, embedder: Callable[[Settings], Any] | None = None,
                 embedded: tuple[str, ...] = ()):
        self._settings = settings
        self._follow: SettingsSource | None = None
        # What the environment says, before the dashboard's settings and secrets are applied.
        self.environment = settings
        self.database_url = database_url
        self.redis_url = redis_url
        self.services = services
        # Which embedded servers this process started (and will stop on close).
        self.embedded = list(embedded)
        self.db = Database(database_url)
        self.queue = TaskQueue(redis_url, settings.queue_name, job_timeout=settings.task_timeout,
                               max_attempts=settings.max_attempts)
        self._make_embedder = embedder

    @property
    def settings(self) -> Settings:
        """The settings in force: those handed in, or the latest of what `follow` was given."""
        return self._settings if self._follow is None else self._follow.current()

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._settings, self._follow = settings, None

    def follow(self, source: SettingsSource) -> None:
        """Take the settings from `source` on every read from now on: the composition root's
        settings kept up with the dashboard (hub/admin/live.py)."""
        self._follow = source

    def refresh_settings(self) -> None:
        """Bring the settings up to what is saved now, not within the second the source allows
        itself: for a person who saved a secret and at once tests it (perhaps through another
        web process), the check's delay would be the answer they see."""
        if self._follow is not None:
            self._follow.refresh()

    @cached_property
    def embedder(self):
        """The configured embedder (memory/embedders.py), made on first use: the local model
        takes seconds to load, and most processes never embed."""
        if self._make_embedder is None:
            raise RuntimeError("this Runtime was made without an embedder factory (see hub/wiring.py)")
        return self._make_embedder(self.settings)

    def close(self) -> None:
        self.db.close()
        self.queue.redis.close()
        if self.services is not None:
            self.services.stop()
