"""The Discord gateway suites' fixtures: the fake Discord, with a quick heartbeat, and the
settings that point `morningai discord` and a worker at it (tests/e2e/test_discord_gateway.py,
test_discord_support_desk.py)."""

import pytest
from fakes import FakeDiscord
from fakes.discord_server import APP_ID, GUILD_ID


@pytest.fixture
def discord():
    with FakeDiscord(heartbeat_interval_ms=500) as server:
        yield server


@pytest.fixture
def env(processes, discord) -> dict[str, str]:
    return {**processes.env, "DISCORD_BOT_TOKEN": "test-bot-token", "DISCORD_APPLICATION_ID": APP_ID,
            "DISCORD_GUILD_IDS": GUILD_ID, "DISCORD_API_URL": discord.api_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url}
