"""In production every process logs one JSON object per line, and one inbound message's lines,
from the web process through the worker to the posted reply, share its trace id."""

import json

from conftest import ADMIN
from support import admin_session, answers, free_port, wait_for

from tasks import lifecycle

PRODUCTION = {"MORNINGAI_ENV": "production", "MORNINGAI_SECRET_KEY": "k" * 48}


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # a line that is not one JSON object fails here


def test_one_messages_lines_share_its_trace_id(rt, processes, hub_env):
    env = {**hub_env, **PRODUCTION, "MORNINGAI_ADMIN_EMAIL": ADMIN[0], "MORNINGAI_ADMIN_PASSWORD": ADMIN[1]}
    port = free_port()
    web = processes.start("-m", "hub", "web", "--port", str(port), "--workers", "1", env=env, name="web")
    worker = processes.start("-m", "hub", "worker", env=env, name="worker")
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{url}/readyz"), what="the hub to be ready")

    admin = admin_session(url, *ADMIN)
    task_id = admin.post(f"{url}/api/messages", json={"text": "how do we deploy?"}, timeout=10).json()["id"]
    wait_for(lambda: lifecycle.get(rt.db, task_id)["status"] == "posted", what="the task to be posted")
    row = lifecycle.get(rt.db, task_id)
    trace = str(row["trace_id"])
    assert row["reply"]["metadata"]["trace_id"] == trace

    web_lines = _json_lines(processes.output(web))
    worker_lines = _json_lines(wait_for(lambda: _logged(processes, worker, "posted as"),
                                        what="the worker to log the post"))
    request = [line for line in web_lines if line["message"].startswith("POST /api/messages 202")]
    received = [line for line in web_lines if line.get("task_id") == task_id]
    ran = [line for line in worker_lines if line.get("task_id") == task_id]
    assert len(request) == 1 and received and ran
    assert {line["message"] for line in ran} >= {"running ask task, attempt 1", f"posted as {row['posted_id']}"}
    for line in [*request, *received, *ran]:
        assert line["trace_id"] == trace, line
        assert line["platform"] == "web" and line["workspace"] == "default", line
        assert {"timestamp", "level", "logger"} <= line.keys()
    # The id is this message's alone: no other line of the web service carries it.
    assert [line for line in web_lines if line.get("trace_id") == trace] == received
    assert request[0] in received  # the request line names the task it made


def _logged(processes, process, text: str) -> str | None:
    output = processes.output(process)
    return output if text in output else None
