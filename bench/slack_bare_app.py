"""The benchmark's baselines: bare slack-bolt apps on Flask, served by `bench/slack_ack.py`
under hub/gunicorn_conf.py.

- `app` only acknowledges app_mention: the named baseline.
- `storing_app()` also writes the event to the hub's `tasks` table with one autocommit INSERT
  on a pooled connection before acknowledging: the least any acknowledgement that is never
  given before the event is stored can cost, with none of the hub's code.

Same Bolt settings as the hub's (signature verification, one auth.test per process, listeners
run before the response), so the differences measured are what the hub does beyond them.
"""

import os
import uuid
from collections.abc import Callable

from flask import Flask, request
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

INSERT = """
    INSERT INTO tasks (id, platform, platform_event_id, workspace_id, channel, thread, user_id, text,
                       kind, reply_target, trace_id)
    SELECT %s, 'slack', %s, w.id, %s, %s, %s, %s, 'ask', %s, %s FROM workspaces w WHERE w.name = 'default'
    ON CONFLICT (platform, platform_event_id) DO NOTHING
"""


def _served(on_mention: Callable) -> Flask:
    bolt = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"],
               client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
               process_before_response=True)
    bolt.event("app_mention")(on_mention)
    handler = SlackRequestHandler(bolt)
    flask_app = Flask("bare-bolt")
    flask_app.add_url_rule("/slack/events", "events", lambda: handler.handle(request), methods=["POST"])
    return flask_app


def _ack(ack):
    ack()


app = _served(_ack)


def storing_app() -> Flask:
    # Opened in each gunicorn worker, after the fork. No check before handing out a connection,
    # as the hub skips it for one used within the last second.
    pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=8, open=True,
                          kwargs={"autocommit": True},
                          configure=lambda conn: conn.execute("SET ROLE morningai_app"))

    def store_then_ack(ack, body, event):
        with pool.connection() as conn:
            conn.execute(INSERT, (uuid.uuid4(), f"{body['team_id']}:{body['event_id']}", event["channel"],
                                  event["ts"], event.get("user", ""), event.get("text", ""),
                                  Jsonb({"channel": event["channel"], "thread_ts": event["ts"]}), uuid.uuid4()))
        ack()

    return _served(store_then_ack)
