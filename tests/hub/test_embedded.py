"""Embedded PostgreSQL and Redis: started when no URL is set, reused, and recovered after a crash."""

import os
import signal

import psutil
import psycopg
from redis import Redis

from hub.embedded import EmbeddedPostgres, EmbeddedRedis


def _crash(pid: int) -> None:
    process = psutil.Process(pid)
    os.kill(pid, signal.SIGKILL)
    process.wait(10)


def test_postgres_keeps_its_data_is_reused_and_survives_a_crash(tmp_path):
    first = EmbeddedPostgres(tmp_path)
    url = first.start()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")
        assert conn.execute("SELECT default_version FROM pg_available_extensions "
                            "WHERE name = 'vector'").fetchone()[0].startswith("0.8")

    second = EmbeddedPostgres(tmp_path)  # a second `morningai up` finds it running
    assert second.start() == url and not second.started

    pid_file = first.data / "postmaster.pid"
    _crash(int(pid_file.read_text().split()[0]))
    assert pid_file.exists()  # stale: its process is gone

    third = EmbeddedPostgres(tmp_path)
    url_after = third.start()
    try:
        assert third.started
        with psycopg.connect(url_after) as conn:
            assert conn.execute("SELECT body FROM notes").fetchone()[0] == "kept"
    finally:
        third.stop()
    assert not pid_file.exists()


def test_redis_keeps_its_data_is_reused_and_survives_a_crash(tmp_path):
    first = EmbeddedRedis(tmp_path)
    url = first.start()
    Redis.from_url(url).set("queued", "job-1")
    assert EmbeddedRedis(tmp_path).start() == url

    _crash(int(first.pid_file.read_text()))
    assert first.pid_file.exists()

    again = EmbeddedRedis(tmp_path)
    try:
        assert again.start() == url and again.started
        assert Redis.from_url(url).get("queued") == b"job-1"  # appendonly: nothing lost
    finally:
        again.stop()
