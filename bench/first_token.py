"""How soon does an asker see something? Questions to a whole hub (`morningai up --workers 2`)
whose fake model writes its answer a piece at a time (`--token-delay` seconds apart), asked from
the dashboard's playground (the web platform, watched through GET /api/tasks/<id>/events), as
signed Slack mentions and as signed Discord slash commands, a few at a time.

    python -m bench.first_token [--n 60] [--token-delay 0.05] [--concurrency 2]

Prints per platform, p50 / p95: event → first visible status (web: the first `status` event a
watcher gets; Slack: the 👀 reaction; Discord: the deferral's "thinking…"), the model's first
piece of text → the first text the asker sees (web: the first `text` event; Slack: the first
text appended to the answer's stream; Discord: the first edit of @original showing text), and
event → answer complete. The targets (issue 16): status ≤ 1 s and text ≤ 300 ms at p95.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.hub_run import HubRun, in_parallel, percentile
from fakes.discord_server import settled

EMAIL, PASSWORD = "bench@example.com", "a long bench password"
TARGETS = {"status": 1.0, "text": 0.3}


def _web_question(run: HubRun, n: int) -> dict:
    """Ask in the playground and watch the task's events; the moments that matter, in
    time.monotonic()."""
    session = requests.Session()
    login = session.post(f"{run.url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=10)
    login.raise_for_status()
    question = f"Who is on call this week, question {n}, and when do they hand over?"
    asked = time.monotonic()
    posted = session.post(f"{run.url}/api/messages", json={"text": question, "thread": f"bench-{n}"},
                          headers={"X-CSRF-Token": login.json()["csrf_token"]}, timeout=10)
    posted.raise_for_status()
    moments = {"asked": asked, "question": question}
    with session.get(f"{run.url}/api/tasks/{posted.json()['id']}/events", stream=True, timeout=60) as events:
        events.raise_for_status()
        kind = None
        for line in events.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind in ("status", "text", "reply"):
                moments.setdefault(kind, time.monotonic())
                if kind == "reply":
                    break
    return moments


def _first_pieces(run: HubRun) -> dict[str, float]:
    """When the model sent the first piece of each answer, by the end of its prompt (which ends
    with the question)."""
    return {call.body["messages"][-1]["content"][-400:]: call.first_piece_at
            for call in run.model.requests_to("/v1/chat/completions")
            if call.first_piece_at and call.body.get("messages")}


def _piece_for(pieces: dict[str, float], question: str) -> float | None:
    return next((at for prompt, at in pieces.items() if question in prompt), None)


def _asked_by(concurrency: int, n: int, progress: Progress, label: str, ask: Callable[[int], dict]) -> list[dict]:
    """`ask(i)` for i in range(n), `concurrency` at a time; what each returned."""
    results: list[dict] = []
    lock = threading.Lock()
    numbers = iter(range(n))
    bar = progress.add_task(label, total=n)

    def asker() -> None:
        while True:
            with lock:
                i = next(numbers, None)
            if i is None:
                return
            moments = ask(i)
            with lock:
                results.append(moments)
            progress.advance(bar)

    in_parallel(asker, concurrency)
    return results


def web(run: HubRun, n: int, concurrency: int, progress: Progress) -> dict[str, list[float]]:
    results = _asked_by(concurrency, n, progress, "web: playground questions", lambda i: _web_question(run, i))
    pieces = _first_pieces(run)
    status, text, done = [], [], []
    for moments in results:
        piece = _piece_for(pieces, moments["question"])
        status.append(moments["status"] - moments["asked"])
        if piece is not None and "text" in moments:
            text.append(moments["text"] - piece)
        done.append(moments["reply"] - moments["asked"])
    return {"status": status, "text": text, "done": done}


def slack(run: HubRun, n: int, concurrency: int, progress: Progress) -> dict[str, list[float]]:
    session_of = threading.local()

    def mention(i: int) -> dict:
        question = f"who is on call this week, mention {i}, and when do they hand over?"
        event, body = run.mention(f"C{i % 50:05d}", f"U{i:05d}", question)
        session_of.session = getattr(session_of, "session", None) or requests.Session()
        run.deliver(session_of.session, event, body).raise_for_status()
        run.wait_answered([event], timeout=120)
        return {"event": event, "question": question}

    results = _asked_by(concurrency, n, progress, "slack: mentions", mention)
    outcomes, pieces = run.outcomes(), _first_pieces(run)
    status, text, done = [], [], []
    for moments in results:
        event = moments["event"]
        outcome = outcomes[(event.channel, event.ts)]
        status.append(outcome.progress - event.sent)
        piece = _piece_for(pieces, moments["question"])
        if piece is not None and outcome.text is not None:
            text.append(outcome.text - piece)
        done.append(min(outcome.answers) - event.sent)
    return {"status": status, "text": text, "done": done}


def discord(run: HubRun, n: int, concurrency: int, progress: Progress) -> dict[str, list[float]]:
    session_of = threading.local()

    def command(i: int) -> dict:
        question = f"who is on call this week, command {i}, and when do they hand over?"
        session_of.session = getattr(session_of, "session", None) or requests.Session()
        interaction, sent, deferred = run.command(session_of.session, question)
        deadline = time.monotonic() + 120
        while not settled(run.discord.originals.get(interaction["token"])) and time.monotonic() < deadline:
            time.sleep(0.05)
        return {"token": interaction["token"], "sent": sent, "status": deferred, "question": question}

    results = _asked_by(concurrency, n, progress, "discord: slash commands", command)
    pieces = _first_pieces(run)
    edits = [call for call in run.discord.requests if call.route.startswith("PATCH /webhooks/")]
    status, text, done = [], [], []
    for moments in results:
        mine = [call for call in edits if f"/{moments['token']}/" in call.path]
        # Text shows once an edit's content starts with the answer rather than the ⏳ step.
        shown = next((call.at for call in mine if not (call.body.get("content") or "⏳").startswith("⏳")), None)
        piece = _piece_for(pieces, moments["question"])
        status.append(moments["status"] - moments["sent"])
        if piece is not None and shown is not None:
            text.append(shown - piece)
        done.append(mine[-1].at - moments["sent"])
    return {"status": status, "text": text, "done": done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=60, help="questions per platform")
    parser.add_argument("--token-delay", type=float, default=0.05, help="seconds between the model's pieces")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="questions in flight at once (a web process serves 2 live views by default)")
    args = parser.parse_args()
    # One asker asks them all: the per-person limit (20 a minute by default) would refuse most.
    env = {"MORNINGAI_ADMIN_EMAIL": EMAIL, "MORNINGAI_ADMIN_PASSWORD": PASSWORD, "MORNINGAI_USER_RATE_LIMIT": "0"}
    with HubRun(token_delay=args.token_delay, env=env, discord=True) as run, Progress() as progress:
        _web_question(run, -1)  # warm up: each process's agent and connections
        rows = {"web (playground, live events)": web(run, args.n, args.concurrency, progress),
                "slack (mention, streamed)": slack(run, args.n, args.concurrency, progress),
                "discord (slash command, edits paced 1.5 s)": discord(run, args.n, args.concurrency, progress)}
    table = Table(title=f"Time to first sight: {args.n} questions per platform, {args.concurrency} at a time, "
                        f"model pieces {args.token_delay} s apart, 2 cores")
    for column in ("platform", "event → first status p50 / p95 (s)", "first token → first text p50 / p95 (s)",
                   "event → complete p50 / p95 (s)"):
        table.add_column(column, justify="right")
    for platform, found in rows.items():
        table.add_row(platform, *(f"{percentile(found[key], 0.5):.3f} / {percentile(found[key], 0.95):.3f}"
                                  if found[key] else "the whole answer at once" for key in ("status", "text", "done")))
    Console().print(table)
    for platform, found in rows.items():
        for key, target in TARGETS.items():
            p95 = percentile(found[key], 0.95)
            print(f"{platform.split()[0]} {key} p95 {p95:.3f} s: {'met' if p95 <= target else 'missed'} "
                  f"(target ≤ {target} s)")

if __name__ == "__main__":
    main()
