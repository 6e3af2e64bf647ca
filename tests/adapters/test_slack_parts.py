"""Slack's parts without a running hub: Block Kit rendering, pacing, the manifest, the settings."""

import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from fakes.slack_server import FakeSlack
from redis import Redis

from adapters.slack import bolt_app, inbound
from adapters.slack.inbound import question_text
from adapters.slack.pacing import Pacer
from adapters.slack.poster import SlackPoster
from adapters.slack.render import MAX_BLOCKS, SECTION_CHARS, render, sections
from core.config import ConfigError, load_settings
from core.models import ChatTask, Citation, CodeBlock, Reply


def _blocks(reply: Reply) -> list[dict]:
    return [block for message in render(reply, task_id="t", trace_id="tr") for block in message.blocks]


def test_markdown_becomes_mrkdwn_and_what_a_model_wrote_stays_text():
    [section] = sections("## Deploy\n\n**Run** [the guide](https://x.io/a?b=1&c=2), not <!here> or <@U1>.\n\n- one")
    assert section == ("*Deploy*\n\n*Run* <https://x.io/a?b=1&amp;c=2|the guide>, not &lt;!here&gt; or "
                       "&lt;@U1&gt;.\n\n• one")


def test_a_long_code_block_is_split_into_closed_fences():
    code = "\n".join(f"print({n})  # {'x' * 60}" for n in range(200))
    texts = sections(f"Here:\n\n```python\n{code}\n```")
    fenced = [text for text in texts if text.startswith("```")]
    assert len(fenced) >= 2 and all(text.endswith("\n```") and len(text) <= SECTION_CHARS for text in fenced)
    assert "\n".join(text[4:-4] for text in fenced) == code


def test_sources_are_linked_and_listed_ten_to_a_context_block():
    citations = tuple(Citation(f"Doc {n}", f"https://docs.example.com/{n}") for n in range(12))
    blocks = _blocks(Reply(text="See [1].", citations=citations + (Citation("Notes", "docs/notes.md"),)))
    source_blocks = [b for b in blocks if b["type"] == "context" and b["elements"][0]["text"].startswith("[")]
    assert [len(b["elements"]) for b in source_blocks] == [10, 3]
    assert source_blocks[0]["elements"][0]["text"] == "[1] <https://docs.example.com/0|Doc 0>"
    assert source_blocks[1]["elements"][-1]["text"] == "[13] Notes · `docs/notes.md`"


def test_an_answer_longer_than_one_message_continues_in_the_next():
    reply = Reply(text="\n\n".join("word " * 500 for _ in range(60)), code=(CodeBlock("x = 1", "python"),))
    messages = render(reply, task_id="t", trace_id="tr")
    assert len(messages) > 1 and all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert all(len(json.dumps(m.blocks)) < 16_000 for m in messages)
    assert messages[-1].blocks[-1]["type"] == "actions"  # the buttons come once, at the end
    assert sum(b["type"] == "actions" for m in messages for b in m.blocks) == 1


def test_an_error_has_its_trace_id_and_no_buttons():
    blocks = _blocks(Reply(text="Sorry, I couldn't answer this.", is_error=True))
    assert [b["type"] for b in blocks] == ["section", "context"] and "`tr`" in blocks[1]["elements"][0]["text"]


def _asked(channel: str, thread: str | None) -> ChatTask:
    return ChatTask(platform="slack", workspace="default", platform_event_id=f"T1:{channel}", text="how?",
                    channel=channel, attempts=1, reply_target={"channel": channel, "thread_ts": thread,
                                                               "message_ts": "1700000000.000001", "team": "T1"})


@pytest.mark.parametrize("thread", ["1700000000.000001", None], ids=["in a thread", "beside a DM"])
def test_a_re_run_posts_only_the_parts_an_earlier_run_did_not(thread):
    long = Reply(text="\n\n".join("word " * 500 for _ in range(8)))
    assert len(render(long, task_id="t", trace_id="tr")) == 2
    with FakeSlack() as slack:
        slack.add_team("T1", "xoxb-t1")
        poster = SlackPoster(slack.api_url, lambda target: "xoxb-t1", pace=lambda key: None)
        task = _asked("C1", thread)
        first = poster.post(task, long)
        assert len(slack.posted("C1")) == 2 and not slack.calls("conversations.replies")

        # The worker died before marking the task posted: the re-run finds both parts.
        assert poster.post(replace(task, attempts=2), long) == first
        assert len(slack.posted("C1")) == 2

        # It died after Slack took the first part: the re-run posts the second only, and an
        # error announced afterwards is a message of its own.
        task = _asked("C2", thread)
        poster.post(task, long)
        slack.messages["C2"].pop()
        poster.post(replace(task, attempts=2), long)
        assert len(slack.posted("C2")) == 3
        assert [m["metadata"]["event_payload"]["part"] for m in slack.messages["C2"]] == [0, 1]
        poster.post(replace(task, attempts=2), Reply(text="Sorry", is_error=True))
        assert [m["metadata"]["event_payload"]["kind"] for m in slack.messages["C2"]] == ["answer", "answer", "error"]
        assert len(slack.posted("C2")) == 4


def test_slack_markup_in_a_question_reads_as_plain_text():
    assert question_text("<@UBOT> is <https://x.io|the site> &amp; <https://y.io> up?", "UBOT") == \
        "is the site (https://x.io) & https://y.io up?"


def test_messages_to_one_channel_are_spaced_across_callers(redis_url):
    first, second = Pacer(Redis.from_url(redis_url), interval=0.3), Pacer(Redis.from_url(redis_url), interval=0.3)
    began = time.monotonic()
    waits = [first.wait("slack:C1"), second.wait("slack:C1"), first.wait("slack:C1"), second.wait("slack:C2")]
    assert waits[0] == 0 and waits[3] == 0  # another channel does not wait
    assert time.monotonic() - began >= 0.55  # the second and third message waited their turn


def test_the_manifest_asks_for_exactly_the_scopes_and_names_the_hub_uses():
    manifest = yaml.safe_load((Path(bolt_app.__file__).parent / "manifest.yml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == bolt_app.SCOPES
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [inbound.COMMAND]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [inbound.SHORTCUT_ID]
    # The agent messaging experience, and the events its listeners take (agent_view.py).
    assert manifest["features"]["agent_view"]["agent_description"]
    assert {"app_home_opened", "app_context_changed", "message.im"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"])
    urls = {manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"],
            manifest["features"]["slash_commands"][0]["url"]}
    assert urls == {"https://YOUR-HUB.example.com/slack/events"}


@pytest.mark.parametrize(("given", "complaint"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is needed"),
    ({"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
    ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "x", "SLACK_API_URL": "slack.com/api"}, "http(s) URL"),
])
def test_a_half_configured_slack_is_a_configuration_error(clean_env, given, complaint):
    for name, value in given.items():
        clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_settings()


def test_without_slack_settings_the_slack_endpoints_say_what_to_set(clean_env, client):
    response = client.post("/slack/events", json={"type": "url_verification", "challenge": "x"})
    assert response.status_code == 404 and "SLACK_SIGNING_SECRET" in response.get_json()["error"]
