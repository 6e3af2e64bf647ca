"""The settings a running process works with, kept up with the dashboard: a secret or setting
saved there reaches every web process, worker and the Discord gateway within seconds, with no
restart.

How: every change to the `settings` or `secrets` table bumps one number in PostgreSQL (a
trigger, migration 0020), which `current()` reads at most once per CHECK_EVERY seconds and,
when it moved, lays the dashboard's settings and secrets over the environment's again. Chosen
over LISTEN/NOTIFY because it needs no connection held open per process (gunicorn's workers,
each worker process, the gateway), cannot miss a notification across a dropped connection or
a PostgreSQL restart, and costs one primary-key read a second at most, on a pooled
connection. Between two checks `current()` is a clock read: Slack's acknowledgement path
(bench/slack_ack.py) pays no query for it, but the first request after a second does, and
then only the one-row read.

Thread-safe: a worker runs many tasks on threads. One thread checks at a time; the others go
on with the settings they have meanwhile instead of queueing behind its query. A Settings
object is never changed, only replaced, so whoever holds one holds a consistent set, and what
is built from settings (posters, the agent, the Slack app) is rebuilt when the object it was
built from is no longer the current one.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from core.config import Settings
from core.db import Database
from hub.admin import settings as admin_settings

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0
# A pooled connection is normally at hand at once; with PostgreSQL away a check gives up soon,
# and the process goes on with the settings it has.
CHECK_TIMEOUT = 2.0
# What the dashboard promises: a check a second here, every two seconds in the Discord gateway
# (adapters/discord/bot.py), and a moment to build the new clients.
LIVE_WITHIN = 5


class LiveSettings:
    def __init__(self, db: Database, environment: Settings, check_every: float = CHECK_EVERY):
        self.db = db
        self.environment = environment
        self.check_every = check_every
        self._settings = environment
        self._version: int | None = None
        self._checked = float("-inf")
        self._checking = threading.Lock()
        self._started = False

    def current(self) -> Settings:
        if time.monotonic() - self._checked < self.check_every or not self._checking.acquire(blocking=False):
            return self._settings
        try:
            self._check()
        finally:
            self._checked = time.monotonic()
            self._checking.release()
        return self._settings

    def refresh(self) -> None:
        with self._checking:  # after a check in flight, which may have read an older version
            try:
                self._check()
            finally:
                self._checked = time.monotonic()

    def _check(self) -> None:
        if not self._started:
            # The start as it always was: a first start before the migrations, or with the
            # database down, runs on the environment's settings and says why.
            self._started = True
            try:
                self._version = self._read_version()
            except psycopg.OperationalError:
                pass  # `applied` says so; the next check reads the version
            self._settings = admin_settings.applied(self.db, self.environment)
            return
        try:
            version = self._read_version()
            if version is None or version == self._version:
                return  # None: not migrated yet, so nothing in the dashboard changed
            settings = admin_settings.overlaid(self.db, self.environment)
        except psycopg.Error as exc:  # never the request's or the task's failure that happened to check
            log.warning("could not check the dashboard's settings for changes (keeping the ones in use): %s", exc)
            return
        self._version, self._settings = version, settings
        log.info("applied the settings and secrets saved in the dashboard (version %s)", version)

    def _read_version(self) -> int | None:
        try:
            with self.db.connection(timeout=CHECK_TIMEOUT) as conn:
                return conn.execute("SELECT version FROM settings_version").fetchone()["version"]
        except psycopg.errors.UndefinedTable:
            return None
