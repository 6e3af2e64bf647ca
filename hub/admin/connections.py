"""Test connection: ask each platform, with the secrets in force, who we are (Slack's
`auth.test`, Discord's `GET /users/@me`, the model server's `GET /models`), and report its
own answer, or its own words of refusal (Slack's `invalid_auth`, Discord's `401: Unauthorized`,
OpenAI's "Incorrect API key provided"), so that an admin who just pasted a secret sees at once
whether it works, and why not.

A short timeout, no retry: an admin is waiting on the page, and a platform that does not answer
in that time is itself the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openai
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.discord.rest import DiscordError, DiscordREST
from core.config import Settings

TIMEOUT = 5.0
PLATFORMS = ("slack", "discord", "model")


class NotConfigured(ValueError):
    """Nothing to test with: the secret the test needs is not set."""


@dataclass(frozen=True)
class Tested:
    ok: bool
    message: str  # in words, for the page
    answer: Any  # the platform's own answer (JSON), or its error text


def test(settings: Settings, platform: str) -> Tested:
    """`platform` is one of PLATFORMS (the caller checks)."""
    return {"slack": _slack, "discord": _discord, "model": _model}[platform](settings)


def _slack(settings: Settings) -> Tested:
    if not settings.slack_bot_token:
        raise NotConfigured("SLACK_BOT_TOKEN is not set: set the app's Bot User OAuth Token (xoxb-…) first "
                            "(teams installed through OAuth are tested by asking the bot in them)")
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                       timeout=TIMEOUT)
    try:
        answer = client.auth_test().data
    except SlackApiError as exc:
        error = exc.response.get("error") or str(exc)
        return Tested(False, f"Slack refused SLACK_BOT_TOKEN: {error}", exc.response.data)
    except (SlackClientError, OSError) as exc:
        return Tested(False, f"no answer from Slack at {settings.slack_api_url}: {exc}", str(exc))
    return Tested(True, f"connected to Slack team {answer.get('team')} as @{answer.get('user')}", answer)


def _discord(settings: Settings) -> Tested:
    if not settings.discord_bot_token:
        raise NotConfigured("DISCORD_BOT_TOKEN is not set: set the application's bot token first "
                            "(Developer Portal → Bot → Reset Token)")
    rest = DiscordREST(settings.discord_api_url, settings.discord_bot_token.get_secret_value(), timeout=TIMEOUT,
                       max_wait=0)
    try:
        answer = rest.request("GET", "/users/@me")
    except DiscordError as exc:
        said = exc.body.get("message") if isinstance(exc.body, dict) else exc.body
        return Tested(False, f"Discord refused DISCORD_BOT_TOKEN ({exc.status}): {said}", exc.body)
    except requests.RequestException as exc:
        return Tested(False, f"no answer from Discord at {settings.discord_api_url}: {exc}", str(exc))
    return Tested(True, f"connected to Discord as {answer.get('username')} ({answer.get('id')})", answer)


def _model(settings: Settings) -> Tested:
    if not settings.openai_api_key:
        raise NotConfigured("OPENAI_API_KEY is not set: without a model key the hub answers offline, "
                            "from the passages it finds")
    client = openai.OpenAI(api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url,
                           timeout=TIMEOUT, max_retries=0)
    where = str(client.base_url).rstrip("/")
    try:
        models = [model.id for model in client.models.list()]
    except openai.APIStatusError as exc:
        # The SDK hands over the `error` object of OpenAI's body; other servers send other shapes.
        said = exc.body.get("message") if isinstance(exc.body, dict) else exc.body or exc.message
        return Tested(False, f"{where} refused OPENAI_API_KEY ({exc.status_code}): {said}", exc.body)
    except openai.APIError as exc:  # no answer: refused connection, timeout
        return Tested(False, f"no answer from {where}: {exc}", str(exc))
    offered = "offers" if settings.chat_model in models else "does not list"
    return Tested(True, f"{where} answers with {len(models)} models, and {offered} {settings.chat_model}", models)
