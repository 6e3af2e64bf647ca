"""A whole hub under Slack traffic, for the benchmarks that measure it end to end.

`HubRun` starts PostgreSQL and Redis (embedded, in a temporary folder), a fake Slack and a fake
OpenAI-compatible model (tests/fakes) with a configurable delay, ingests one page so every
question costs a model call, and runs `morningai up --workers N` against them. `send` plays
signed `app_mention` events spread over channels and people (and, with `discord=True`, a fake
Discord whose signed slash commands `command` sends); `outcomes` reads back, per event,
when Slack first showed progress (the 👀 reaction), when the first text of an answer showed
in its thread, and when each answer message there was complete.
Everything it starts it stops, embedded servers included.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes import FakeDiscord, FakeOpenAI  # noqa: E402
from fakes.slack_server import FakeSlack  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402
from support import free_port  # noqa: E402

from core.db import Database  # noqa: E402
from hub import migrate  # noqa: E402
from hub.embedded import EmbeddedPostgres, EmbeddedRedis  # noqa: E402
from memory.embedders import HashEmbedder  # noqa: E402
from memory.ingest import ingest  # noqa: E402

TEAM, TOKEN = "T0BENCH", "xoxb-bench"
RUNBOOK = """# On-call

The on-call engineer is paged through PagerDuty, hands over on Mondays at 10:00 and writes up
every incident within two working days. Staging credentials rotate monthly through the vault.
"""


@dataclass
class Event:
    channel: str
    ts: str
    sent: float  # time.monotonic() when its delivery began
    acked: float | None = None  # when the hub answered 200


@dataclass
class Outcome:
    progress: float | None = None  # first reactions.add on the message
    text: float | None = None  # the first text of an answer in its thread (streamed, or posted)
    # One entry per message that carries an answer's first part (the hub's metadata), when it
    # got it: a second message for the same event is a duplicate, however it was delivered.
    answers: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)  # each "sorry, I couldn't answer" message


class HubRun:
    def __init__(self, *, workers: int = 2, engine: str = "threads", concurrency: int | None = None,
                 model_delay: float = 0.0, token_delay: float = 0.0, env: dict[str, str] | None = None,
                 discord: bool = False):
        self.workers, self.engine, self.concurrency = workers, engine, concurrency
        self.discord: FakeDiscord | None = FakeDiscord() if discord else None
        self.discord_key = SigningKey.generate()  # the application's key: the bench signs as Discord
        self.model_delay, self.token_delay = model_delay, token_delay
        self.extra_env = env or {}
        self.events: list[Event] = []
        self._ts = iter(range(1, 10**9))

    # --- lifecycle ---

    def __enter__(self) -> HubRun:
        self._home = tempfile.TemporaryDirectory(prefix="morningai-bench-")
        home = Path(self._home.name)
        self.postgres, self.redis = EmbeddedPostgres(home), EmbeddedRedis(home)
        self.slack = FakeSlack().__enter__()
        if self.discord is not None:
            self.discord.__enter__()
        self.model = FakeOpenAI(dims=8, delay=self.model_delay, token_delay=self.token_delay).start()
        self.up: subprocess.Popen | None = None
        try:
            self.database_url, self.redis_url = self.postgres.start(), self.redis.start()
            self.slack.add_team(TEAM, TOKEN)
            db = Database(self.database_url)
            migrate.migrate(db)
            (home / "oncall.md").write_text(RUNBOOK)
            ingest(db, HashEmbedder(), [str(home / "oncall.md")])
            db.close()
            self._start_hub(home)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_hub(self, home: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "MORNINGAI_HOME": str(home), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
               "SLACK_SIGNING_SECRET": self.slack.signing_secret, "SLACK_BOT_TOKEN": TOKEN,
               "SLACK_API_URL": self.slack.api_url, "MORNINGAI_EMBEDDINGS": "hash",
               "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": self.model.base_url,
               "MORNINGAI_WORKER_ENGINE": self.engine, **self.extra_env}
        if self.discord is not None:
            env.update(DISCORD_PUBLIC_KEY=self.discord_key.verify_key.encode().hex(),
                       DISCORD_API_URL=self.discord.api_url)
        if self.concurrency:
            env["MORNINGAI_WORKER_CONCURRENCY"] = str(self.concurrency)
        self.log = (home / "up.log").open("wb")
        self.up = subprocess.Popen([sys.executable, "-m", "hub", "up", "--workers", str(self.workers),
                                    "--port", str(self.port)], env=env, cwd=ROOT, stdout=self.log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.up.poll() is not None:
                raise SystemExit(f"morningai up exited:\n{(home / 'up.log').read_text()[-3000:]}")
            try:
                ready = requests.get(f"{self.url}/readyz", timeout=2).json()
                if ready.get("status") == "ready" and ready.get("workers") == self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"the hub was not ready within 120 s:\n{(home / 'up.log').read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.up is not None and self.up.poll() is None:
            self.up.send_signal(signal.SIGINT)
            try:
                self.up.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_tree(self.up.pid)
                self.up.wait()
        self.model.stop()
        self.slack.__exit__()
        if self.discord is not None:
            self.discord.__exit__()
        self.redis.stop()
        self.postgres.stop()
        self._home.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_processes(self) -> list[psutil.Process]:
        """`morningai up`'s worker processes (not their work-horses)."""
        return [child for child in psutil.Process(self.up.pid).children()
                if child.cmdline()[-1:] == ["worker"]]

    # --- traffic ---

    def mention(self, channel: str, user: str,
                question: str = "who is on call this week, and when do they hand over?") -> tuple[Event, bytes]:
        ts = f"{1_800_000_000 + next(self._ts)}.000100"
        body = json.dumps({
            "team_id": TEAM, "api_app_id": "ABENCH", "type": "event_callback", "event_time": int(time.time()),
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event": {"type": "app_mention", "user": user, "channel": channel, "ts": ts, "event_ts": ts,
                      "text": f"<@UB{TEAM}> {question}"}})
        return Event(channel, ts, time.monotonic()), body.encode()

    def deliver(self, session: requests.Session, event: Event, body: bytes, retry: int = 0,
                timeout: float = 10) -> requests.Response:
        headers = {"Content-Type": "application/json", **self.slack.signed(body.decode())}
        if retry:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return session.post(f"{self.url}/slack/events", data=body, headers=headers, timeout=timeout)

    def command(self, session: requests.Session, question: str) -> tuple[dict, float, float]:
        """A signed /ask slash command to POST /discord/interactions: the interaction, when it
        was sent, and when the hub's deferral ("thinking…", what the asker sees first) came back."""
        interaction = FakeDiscord.command_interaction("ask", "question", question)
        body = json.dumps(interaction).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Signature-Timestamp": stamp,
                   "X-Signature-Ed25519": self.discord_key.sign(stamp.encode() + body).signature.hex()}
        sent = time.monotonic()
        response = session.post(f"{self.url}/discord/interactions", data=body, headers=headers, timeout=10)
        if response.status_code != 200 or response.json().get("type") != 5:
            raise SystemExit(f"/discord/interactions answered {response.status_code}: {response.text[:200]}")
        return interaction, sent, time.monotonic()

    def send(self, n: int, *, channels: int = 50, users: int = 300, concurrency: int = 16) -> list[Event]:
        """n signed mentions from `concurrency` clients, spread over channels and people."""
        counter = iter(range(n))
        lock = threading.Lock()
        sent: list[Event] = []

        def client() -> None:
            session = requests.Session()
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                event, body = self.mention(f"C{i % channels:05d}", f"U{i % users:05d}")
                response = self.deliver(session, event, body)
                if response.status_code != 200:
                    raise SystemExit(f"/slack/events answered {response.status_code}: {response.text[:200]}")
                event.acked = time.monotonic()
                with lock:
                    sent.append(event)

        in_parallel(client, concurrency)
        self.events += sent
        return sent

    def outcomes(self) -> dict[tuple[str, str], Outcome]:
        """Per (channel, message ts): what the fake Slack saw the hub do about it."""
        found: dict[tuple[str, str], Outcome] = defaultdict(Outcome)
        with self.slack._lock:
            calls = list(self.slack.requests)
            messages = [(channel, dict(m)) for channel, ms in self.slack.messages.items() for m in ms]
        for call in calls:
            body = call.body or {}
            if call.path == "/api/reactions.add" and call.headers.get("x-fake-ok") == "true":
                outcome = found[(body.get("channel"), body.get("timestamp"))]
                outcome.progress = outcome.progress or call.at
        for channel, message in messages:
            outcome = found[(channel, message.get("thread_ts"))]
            shown = message.get("first_text_at") or message.get("settled_at")
            if shown:
                outcome.text = min(outcome.text or shown, shown)
            payload = (message.get("metadata") or {}).get("event_payload", {})
            if payload.get("part") == 0:
                (outcome.errors if payload.get("kind") == "error" else outcome.answers).append(message["settled_at"])
        return found

    def wait_answered(self, events: list[Event], timeout: float) -> float:
        """Wait until every event has an answer (or an error) posted, or timeout; returns when
        the last one came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcomes = self.outcomes()
            done = [outcomes.get((e.channel, e.ts)) for e in events]
            if all(o and (o.answers or o.errors) for o in done):
                return max(min(o.answers + o.errors) for o in done)
            time.sleep(0.25)
        return time.monotonic()


class RssSampler:
    """Samples the RSS of each worker process with its work-horses, keeping each one's peak."""

    def __init__(self, run: HubRun, every: float = 0.25):
        self.run, self.every = run, every
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            for worker in self.run.worker_processes():
                try:
                    tree = [worker, *worker.children(recursive=True)]
                    rss = sum(process.memory_info().rss for process in tree)
                except psutil.NoSuchProcess:
                    continue
                self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0), rss)


def in_parallel(work: Callable[[], None], n: int) -> None:
    """Run `work` on n threads at once, and wait for them all."""
    threads = [threading.Thread(target=work) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q * 100) - 1]


def _kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
        victims = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for victim in victims:
        try:
            victim.kill()
        except psutil.NoSuchProcess:
            pass
