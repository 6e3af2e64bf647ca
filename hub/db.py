"""Connections to PostgreSQL: a per-process pool that acts as the runtime role, and the owner's
connection that only migrations use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

APP_ROLE = "morningai_app"


def _act_as_app_role(conn: psycopg.Connection) -> None:
    # Everything but migrations runs as the non-owner role, so Row Level Security binds it.
    conn.execute(f"SET ROLE {APP_ROLE}")


class Database:
    """The hub's database. Safe across fork: a child process opens a pool of its own."""

    def __init__(self, url: str, *, max_size: int = 8, connect_timeout: float = 5):
        self.url = url
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None

    def pool(self) -> ConnectionPool:
        if self._pool is None or self._pid != os.getpid():
            # A pool inherited through fork shares sockets with the parent: never reuse it.
            self._pool = ConnectionPool(
                self.url,
                min_size=1,
                max_size=self.max_size,
                # Autocommit: most statements stand alone, and each then costs one round trip;
                # code that needs several in one transaction opens `conn.transaction()`.
                kwargs={"row_factory": dict_row, "autocommit": True,
                        "connect_timeout": int(self.connect_timeout)},
                configure=_act_as_app_role,
                check=ConnectionPool.check_connection,
                name="morningai",
                open=True,
                timeout=self.connect_timeout,
            )
            self._pid = os.getpid()
        return self._pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A connection as the runtime role, in autocommit mode."""
        with self.pool().connection(timeout=timeout) as conn:
            yield conn

    def owner_connection(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=int(self.connect_timeout))

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None
