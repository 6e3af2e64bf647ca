"""What stands between this set-up and an answer: one small check per part (the database and
its migrations, Redis, the workers, the embedder, the model key, Slack, Discord, the public
URL), each a Finding that says what it saw and, when something is wrong, what to do.

A Finding that `blocks` means the hub cannot answer at all (no database, no Redis, no worker,
no embedder); the others are warnings: the hub answers, less well or not on one platform.
`morningai doctor` prints them; the dashboard can show the same list.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from redis import Redis
from redis.exceptions import RedisError

from core import workspaces
from core.config import ConfigError, Settings, load_settings, mask_url
from core.db import Database
from core.queue import TaskQueue
from hub import migrate
from hub.admin import connections
from memory.embedders import choose_embedder

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
TIMEOUT = 5.0  # seconds: a part that does not answer in that time is itself the answer


@dataclass(frozen=True)
class Finding:
    part: str  # "database", "Slack", …
    state: str  # OK, FAILED or SKIPPED (not set up, or not checkable because of another part)
    said: str  # what the check saw, in words
    fix: str = ""  # what to do, when FAILED (or SKIPPED and worth doing)
    blocks: bool = False  # FAILED and the hub cannot answer because of it


def _failed(part: str, said: str, fix: str, *, blocks: bool = False) -> Finding:
    return Finding(part, FAILED, said, fix, blocks)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def configuration() -> tuple[Settings | None, Finding]:
    """The settings, as every command loads them (production refuses a missing
    MORNINGAI_SECRET_KEY, DATABASE_URL or REDIS_URL), or None and why not."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        return None, _failed("configuration", str(exc).replace("\n", "; "),
                             "fix the variables named, in the environment or .env", blocks=True)
    key = ("MORNINGAI_SECRET_KEY set" if settings.secret_key_value else
           "MORNINGAI_SECRET_KEY unset, fine on one machine, required in production")
    return settings, Finding("configuration", OK, f"settings load ({settings.env}; {key})")


def database(db: Database) -> Iterator[Finding]:
    """Reachable, then migrated."""
    try:
        pending = migrate.pending(db)
    except Exception as exc:  # psycopg's errors, and a URL it cannot parse
        yield _failed("database", f"cannot reach PostgreSQL at {mask_url(db.url)}: {_first_line(exc)}",
                      "check DATABASE_URL and that the server is up", blocks=True)
        return
    yield Finding("database", OK, f"PostgreSQL answers at {mask_url(db.url)}")
    if pending:
        names = ", ".join(f"{m.version}_{m.name}" for m in pending)
        yield _failed("migrations", f"{len(pending)} not applied: {names}", "run `morningai migrate`", blocks=True)
    else:
        yield Finding("migrations", OK, "all applied")


def redis(queue: TaskQueue) -> Iterator[Finding]:
    """Reachable, then served by at least one live worker (its own heartbeat fresh)."""
    try:
        queue.redis.ping()
        workers = queue.workers()
    except RedisError as exc:
        yield _failed("Redis", f"cannot reach Redis: {_first_line(exc)}", "check REDIS_URL and that the server is up",
                      blocks=True)
        yield Finding("workers", SKIPPED, "not checked: Redis is unreachable")
        return
    yield Finding("Redis", OK, "Redis answers")
    alive = [w["name"] for w in workers if w["alive"]]
    if not alive:
        yield _failed("workers", "no live worker: messages would wait in the queue",
                      "start one with `morningai worker` (or run the whole hub with `morningai up`)", blocks=True)
    else:
        yield Finding("workers", OK, f"{len(alive)} live: {', '.join(alive)}")


def embedder(settings: Settings, db: Database | None) -> Iterator[Finding]:
    """The configured embedder loads and embeds, and is the one each workspace's vectors were
    made with (`db` None: the database is unreachable or not migrated, so that part is not
    checked)."""
    try:
        chosen = choose_embedder(settings)
        chosen.embed(["morningai doctor"])
    except Exception as exc:  # whatever stops it (a missing package, a model that will not load) is the finding
        yield _failed("embedder", f"does not load: {_first_line(exc)}",
                      "fix MORNINGAI_EMBEDDINGS (hash, local or openai) or what the message names", blocks=True)
        return
    if db is None:
        yield Finding("embedder", OK, f"{chosen.name} loads; workspaces not checked (the database is not ready)")
        return
    spaces = workspaces.every(db)
    mismatched = [s for s in spaces if s.embedder not in (None, chosen.name) or s.embedding_dims not in (None, chosen.dims)]
    if mismatched:
        names = ", ".join(f"{s.name} ({s.embedder})" for s in mismatched)
        yield _failed("embedder", f"{chosen.name} loads, but workspaces were embedded with another: {names}",
                      "set MORNINGAI_EMBEDDINGS back to theirs, or re-embed: `morningai ingest PATH --reembed "
                      "--workspace NAME`", blocks=True)
    else:
        yield Finding("embedder", OK, f"{chosen.name} loads, and matches the {len(spaces)} workspace(s)")


def platform(settings: Settings, name: str, part: str) -> Finding:
    """Slack's auth.test, Discord's /users/@me or the model's /models, as Test connection asks
    them (hub/admin/connections.py); a platform not set up is skipped."""
    try:
        tested = connections.test(settings, name)
    except connections.NotConfigured as exc:
        said, _, fix = str(exc).partition(": ")
        return Finding(part, SKIPPED, said, fix)
    if tested.ok:
        return Finding(part, OK, tested.message)
    return _failed(part, tested.message, _PLATFORM_FIX[name])


_PLATFORM_FIX = {
    "slack": "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…), in the dashboard or the environment",
    "discord": "set DISCORD_BOT_TOKEN to the bot's token (Developer Portal → Bot → Reset Token)",
    "model": "set OPENAI_API_KEY (and OPENAI_BASE_URL for another server) to a key it accepts; "
             "without one the hub answers offline, from the passages it finds",
}


def public_url(settings: Settings) -> Finding:
    """What can be told here of whether Slack and Discord reach MORNINGAI_PUBLIC_URL: https, a
    name that resolves to a public address, and /healthz answering there."""
    url = settings.public_url
    if not url:
        return Finding("public URL", SKIPPED, "MORNINGAI_PUBLIC_URL is not set",
                       "set it to the https address Slack and Discord reach this hub at")
    parts = urlsplit(url)
    if parts.scheme != "https":
        return _failed("public URL", f"{url} is not https: Slack and Discord deliver only to https",
                       "put the hub behind https (a reverse proxy, a tunnel, or a host that terminates TLS)")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as exc:
        return _failed("public URL", f"{parts.hostname} does not resolve: {exc}", "check the name's DNS record")
    private = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global)
    if private:
        return _failed("public URL", f"{parts.hostname} resolves to {', '.join(private)}, which the platforms "
                       "cannot reach", "point the name at the hub's public address, or use a tunnel")
    try:
        answer = requests.get(f"{url}/healthz", timeout=TIMEOUT)
    except requests.RequestException as exc:
        return _failed("public URL", f"{url}/healthz does not answer: {_first_line(exc)}",
                       "check that the hub is running and reachable from the internet at this address")
    if answer.status_code != 200:
        return _failed("public URL", f"{url}/healthz answers {answer.status_code}",
                       "check that this address serves the hub (its web service), not another site")
    return Finding("public URL", OK, f"{url} resolves to a public address and answers /healthz")
