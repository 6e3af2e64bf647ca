"""The benchmark's baseline: a bare slack-bolt app on Flask that only acknowledges app_mention.

Same Bolt settings as the hub's (signature verification, one auth.test per process, listeners
run before the response), so the difference measured is what the hub does: authorize from its
tables and store the task. Served by `bench/slack_ack.py` under hub/gunicorn_conf.py.
"""

import os

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

bolt = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"],
           client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
           process_before_response=True)


@bolt.event("app_mention")
def on_mention(ack):
    ack()


handler = SlackRequestHandler(bolt)
app = Flask("bare-bolt")
app.add_url_rule("/slack/events", "events", lambda: handler.handle(request), methods=["POST"])
