"""gunicorn settings for the web side (`gunicorn -c python:hub.gunicorn_conf 'hub.web.app:create_app()'`).

The master resolves the database and Redis before forking, starting embedded servers when
DATABASE_URL / REDIS_URL are unset, so every web worker shares the same ones.
"""

import os
import shutil
from pathlib import Path

import psutil

from core import logs
from core.config import load_settings
from hub.embedded import EmbeddedServices

_settings = load_settings()
_services = EmbeddedServices(_settings.home)


def _metrics_folder(home: Path) -> Path:
    """Where prometheus_client keeps each web process's counts, so /metrics, answered by any one
    process, adds them all up: a folder of this master's own under the hub's home, fresh on every
    start (counts of an earlier run's processes would be read as current). Folders of masters
    that are gone without cleaning up (killed) are removed here, rather than left to pile up."""
    base = home.absolute() / "metrics"
    base.mkdir(parents=True, exist_ok=True)
    for folder in base.iterdir():
        if folder.name.isdigit() and not psutil.pid_exists(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
    mine = base / str(os.getpid())
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir()
    return mine


# Set before the workers import prometheus_client.
_metrics_dir = _metrics_folder(_settings.home)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_concurrency
# Threads let one process wait on Postgres and Redis for several requests at once.
worker_class = "gthread"
threads = _settings.web_threads
timeout = 30
# On SIGTERM gunicorn stops accepting and lets in-flight requests finish for this long. Render
# waits 30 s before SIGKILL; on a laptop Ctrl-C should not hang.
graceful_timeout = 25 if _settings.production else 5
loglevel = _settings.log_level.lower()
logconfig_dict = logs.config(_settings)


def on_starting(server):
    database_url, redis_url = _services.start(_settings.database_url, _settings.redis_url)
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database_url, redis_url


def child_exit(server, worker):
    from prometheus_client import multiprocess  # here: only once the directory is set

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    _services.stop()
    shutil.rmtree(_metrics_dir, ignore_errors=True)
