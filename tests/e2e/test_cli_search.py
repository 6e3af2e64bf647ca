"""`morningai search` asks the running hub when there is one, with the same hits as searching
in its own process, and without loading what the in-process search needs (the database driver,
the embedders and, for the local model, torch)."""

import json
from pathlib import Path

import faq_support
from conftest import ADMIN
from support import answers, free_port, wait_for

# What searching in this process loads and a search through the hub must not: the embedders'
# module (which loads torch for the local model), torch itself, the database driver.
IN_PROCESS_ONLY = ("memory.embedders", "torch", "psycopg")


def _imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` reported importing, from a child's stderr."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def _search(env: dict, *args: str):
    return faq_support.morningai("search", "roll back a bad release", *args, env=env, python_options=("-X", "importtime"))


def test_search_through_the_running_hub_matches_in_process_and_loads_no_embedder(rt, tmp_path, cli_env, processes):
    faq_support.ingest_docs(rt, tmp_path)
    port = free_port()
    env = {**cli_env, "PORT": str(port), "MORNINGAI_HOST": "127.0.0.1",
           "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]}

    here = _search(env, "--json")
    assert here.returncode == 0, here.stderr
    assert "no hub running" in here.stderr and "searching in this process" in here.stderr
    assert set(IN_PROCESS_ONLY[:1]) <= _imported(here.stderr)  # the check below can fail
    local_hits = json.loads(here.stdout)
    assert local_hits and local_hits[0]["title"] == "Deploy guide"

    processes.start("-m", "hub", "web", "--port", str(port), "--workers", "1", env=env, name="web")
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{url}/healthz"), timeout=60, what="the hub to answer")

    hub = _search(env, "--json")
    assert hub.returncode == 0, hub.stderr
    assert f"searched by the hub at {url}" in hub.stderr
    assert json.loads(hub.stdout) == local_hits and hub.stdout == here.stdout
    assert not _imported(hub.stderr) & set(IN_PROCESS_ONLY)

    # The session is kept for the next command, readable by its owner only; one the hub no
    # longer knows is replaced by a new login.
    kept = Path(env["MORNINGAI_HOME"]) / "cli-session.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    session = json.loads(kept.read_text())
    kept.write_text(json.dumps({**session, "cookies": {name: "ended" for name in session["cookies"]}}))
    plain = faq_support.morningai("search", "roll back a bad release", env=env)
    assert json.loads(kept.read_text())["cookies"] != {name: "ended" for name in session["cookies"]}
    assert plain.returncode == 0 and "[1] Deploy guide  deploy.md" in plain.stdout

    elsewhere = faq_support.morningai("search", "deploy", "--workspace", "nowhere", env=env)
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.strip().startswith(f"error: the hub at {url} could not search:") and "nowhere" in elsewhere.stderr
