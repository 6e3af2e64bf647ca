"""Secrets saved through the API reach processes already running, with no restart: a
`morningai worker` posts the next task with the new Slack token, and `morningai discord`
identifies anew on the gateway with the new bot token, waits while there is none, and closes
its connection when it is removed."""

import time
import uuid

import pytest
from discord_support import discord  # noqa: F401
from fakes.discord_server import APP_ID, GUILD_ID
from fakes.slack_server import FakeSlack
from support import wait_for

from core.models import ChatTask
from hub.admin.live import CHECK_EVERY, LIVE_WITHIN
from tasks import lifecycle

SLACK_CALLS = ("chat.postMessage", "chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update")


def _ask_in_slack(rt, channel: str):
    ts = f"{time.time():.6f}"
    return lifecycle.submit(rt.db, rt.queue, ChatTask(
        platform="slack", workspace="default", platform_event_id=uuid.uuid4().hex, text="How do we deploy?",
        channel=channel, thread=ts, user="U0ASKER",
        reply_target={"channel": channel, "thread_ts": ts, "message_ts": ts, "team": "T1"})).task_id


def _tokens_used_in(slack, channel: str) -> set[str]:
    return {call.headers["authorization"] for method in SLACK_CALLS for call in slack.calls(method)
            if call.body.get("channel") == channel}


def _posted(rt, task_id) -> bool:
    return lifecycle.get(rt.db, task_id)["status"] == "posted"


def test_a_running_worker_answers_the_next_task_with_the_slack_token_just_saved(rt, client, processes):
    with FakeSlack() as slack:
        slack.add_team("T1", "xoxb-before")
        slack.add_team("T1", "xoxb-after")
        processes.worker(SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-before", SLACK_API_URL=slack.api_url)
        first = _ask_in_slack(rt, "C0BEFORE")
        wait_for(lambda: _posted(rt, first), timeout=60, what="the first answer")
        assert _tokens_used_in(slack, "C0BEFORE") == {"Bearer xoxb-before"}

        assert client.put("/api/secrets/SLACK_BOT_TOKEN", json={"value": "xoxb-after"}).status_code == 200
        time.sleep(CHECK_EVERY + 0.5)  # the promise: a running process checks for changes once a second
        second = _ask_in_slack(rt, "C0AFTER")
        wait_for(lambda: _posted(rt, second), timeout=60, what="the next answer")
        assert _tokens_used_in(slack, "C0AFTER") == {"Bearer xoxb-after"}

        # Cleared in the dashboard: back to the environment's token, again without a restart.
        assert client.delete("/api/secrets/SLACK_BOT_TOKEN").status_code == 200
        time.sleep(CHECK_EVERY + 0.5)
        third = _ask_in_slack(rt, "C0CLEARED")
        wait_for(lambda: _posted(rt, third), timeout=60, what="the answer after clearing")
        assert _tokens_used_in(slack, "C0CLEARED") == {"Bearer xoxb-before"}


@pytest.fixture
def tokenless_gateway(processes, discord):  # noqa: F811
    """`morningai discord` started with an application id and no bot token anywhere."""
    env = {**processes.env, "DISCORD_APPLICATION_ID": APP_ID, "DISCORD_GUILD_IDS": GUILD_ID,
           "DISCORD_API_URL": discord.api_url, "DISCORD_GATEWAY_URL": discord.gateway_url}
    return processes.start("-m", "hub", "discord", env=env, name="discord")


def test_the_gateway_connects_when_a_token_is_saved_reconnects_when_it_changes_and_closes_when_removed(
        tokenless_gateway, discord, client, processes):  # noqa: F811
    time.sleep(2 * CHECK_EVERY)
    assert tokenless_gateway.poll() is None, processes.output(tokenless_gateway)
    assert discord.identified_with() == [] and not discord.connected  # waiting, not failing

    assert client.put("/api/secrets/DISCORD_BOT_TOKEN", json={"value": "first-bot-token"}).status_code == 200
    wait_for(lambda: discord.identified_with() == ["first-bot-token"] and discord.connected,
             timeout=LIVE_WITHIN + 10, what="an IDENTIFY with the saved token")

    assert client.put("/api/secrets/DISCORD_BOT_TOKEN", json={"value": "second-bot-token"}).status_code == 200
    wait_for(lambda: discord.identified_with() == ["first-bot-token", "second-bot-token"] and discord.connected,
             timeout=LIVE_WITHIN + 10, what="a new IDENTIFY with the changed token")

    assert client.delete("/api/secrets/DISCORD_BOT_TOKEN").status_code == 200
    wait_for(lambda: not discord.connected, timeout=LIVE_WITHIN, what="the gateway connection closed")
    assert tokenless_gateway.poll() is None, processes.output(tokenless_gateway)
    assert discord.identified_with() == ["first-bot-token", "second-bot-token"]
