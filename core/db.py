"""Connections to PostgreSQL: a per-process pool that acts as the runtime role, and the owner's
connection that only migrations use."""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

APP_ROLE = "morningai_app"


def _configure(conn: psycopg.Connection) -> None:
    # Everything but migrations runs as the non-owner role, so Row Level Security binds it.
    # (The role and the vector type both come with the first migration.)
    conn.execute(f"SET ROLE {APP_ROLE}")
    register_vector(conn)


# A connection given back less than this long ago is handed out again unchecked: it worked a
# moment ago, and the check's round trip would otherwise double the cost of a one-statement
# request (a Slack acknowledgement is one INSERT). One idle for longer, as after a PostgreSQL
# restart, is checked first. The trade HikariCP makes with its aliveBypassWindowMs.
CHECK_AFTER_IDLE = 1.0


class Database:
    """The hub's database. Safe across fork: a child process opens a pool of its own."""

    def __init__(self, url: str, *, max_size: int = 8, connect_timeout: float = 5):
        self.url = url
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self._pool: ConnectionPool | None = None
        self._inherited: ConnectionPool | None = None
        self._pid: int | None = None
        self._making_pool = threading.Lock()
        self._lock_pid = os.getpid()
        self._last_used: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()

    def pool(self) -> ConnectionPool:
        if self._pool is not None and self._pid == os.getpid():
            return self._pool
        # Threads (a worker's dispatcher and reconciler) may ask for the first pool at once: one
        # makes it. A lock inherited through fork may be held by a thread the child does not have.
        if self._lock_pid != os.getpid():
            self._making_pool, self._lock_pid = threading.Lock(), os.getpid()
        with self._making_pool:
            if self._pool is None or self._pid != os.getpid():
                # A pool inherited through fork shares sockets with the parent: never reuse it,
                # and never let it be collected here either, or its finaliser tries to stop
                # threads that only exist in the parent.
                self._inherited = self._pool
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_size,
                    # Autocommit: most statements stand alone, and each then costs one round trip;
                    # code that needs several in one transaction opens `conn.transaction()`.
                    kwargs={"row_factory": dict_row, "autocommit": True,
                            "connect_timeout": int(self.connect_timeout)},
                    configure=_configure,
                    check=self._check_if_idle,
                    name="morningai",
                    open=True,
                    timeout=self.connect_timeout,
                )
                self._pid = os.getpid()
        return self._pool

    def grow(self, max_size: int) -> None:
        """Allow up to max_size connections (a worker with many tasks in flight needs more)."""
        if max_size > self.max_size:
            self.max_size = max_size
            if self._pool is not None and self._pid == os.getpid():
                self._pool.resize(self._pool.min_size, max_size)

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A connection as the runtime role, in autocommit mode."""
        with self.pool().connection(timeout=timeout) as conn:
            try:
                yield conn
            finally:
                self._last_used[conn] = time.monotonic()

    def _check_if_idle(self, conn: psycopg.Connection) -> None:
        if time.monotonic() - self._last_used.get(conn, float("-inf")) > CHECK_AFTER_IDLE:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def workspace(self, workspace_id: uuid.UUID) -> Iterator[psycopg.Connection]:
        """A transaction that sees one workspace's rows only: Row Level Security keys on
        `app.workspace_id`, set here for this transaction alone."""
        with self.connection() as conn, conn.transaction():
            conn.execute("SELECT set_config('app.workspace_id', %s, true)", (str(workspace_id),))
            yield conn

    def owner_connection(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=int(self.connect_timeout))

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None
