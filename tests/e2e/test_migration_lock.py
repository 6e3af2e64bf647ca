"""Two processes migrating at once: the second waits on the advisory lock."""

import subprocess
import sys
import time

import psycopg
from support import wait_for

from hub import migrate


def test_a_second_process_waits_on_the_advisory_lock(empty_database, tmp_path):
    with psycopg.connect(empty_database, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.LOCK_KEY,))
        other = subprocess.Popen(
            [sys.executable, "-m", "hub", "migrate"],
            env={"DATABASE_URL": empty_database, "MORNINGAI_HOME": str(tmp_path),
                 "REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The other process is inside PostgreSQL, waiting for our lock...
        wait_for(lambda: holder.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone(),
            what="the migrating process to wait on the advisory lock")
        time.sleep(0.3)
        assert other.poll() is None
        assert holder.execute("SELECT to_regclass('tasks')").fetchone()[0] is None
        holder.execute("SELECT pg_advisory_unlock(%s)", (migrate.LOCK_KEY,))
        # ...and applies everything once we let go.
        output, _ = other.communicate(timeout=30)
        assert other.returncode == 0, output
        names = ", ".join(f"{m.version}_{m.name}" for m in migrate.available())
        assert f"applied {len(migrate.available())} migration(s): {names}" in output
        assert holder.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(migrate.available())
