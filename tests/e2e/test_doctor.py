"""`morningai doctor` names each broken part of a deliberately broken set-up on a line of its
own, with the platform's own words where a platform refuses, and exits non-zero only when the
hub cannot answer at all."""

import faq_support
from fakes.discord_server import FakeDiscord
from support import free_port

ME = "GET /users/@me"


def _doctor(env: dict, **changes: str):
    env = {**env, **changes}
    done = faq_support.morningai("doctor", env=env)
    lines = {line.split(":", 1)[0]: line for line in done.stdout.splitlines() if line[:2] in ("✓ ", "✗ ", "– ")}
    return done, lines


def test_a_working_set_up_passes_and_a_refused_token_is_a_warning_in_the_platforms_words(
        rt, cli_env, processes, slack):
    processes.worker(MORNINGAI_EMBEDDINGS="hash")
    with FakeDiscord() as discord:
        env = {**cli_env, "SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": "xoxb-one-team",
               "SLACK_SIGNING_SECRET": "s3cret", "DISCORD_API_URL": discord.api_url, "DISCORD_BOT_TOKEN": "a-bot-token"}

        fine, lines = _doctor(env)
        assert fine.returncode == 0, fine.stdout + fine.stderr
        for part in ("configuration", "database", "migrations", "Redis", "workers", "embedder", "Slack", "Discord"):
            assert lines[f"✓ {part}"], fine.stdout
        assert "hash-v1 loads" in lines["✓ embedder"]
        assert "Team T1" in lines["✓ Slack"] and "MorningAI" in lines["✓ Discord"]
        assert lines["– model key"].startswith("– model key: OPENAI_API_KEY is not set")
        assert lines["– public URL"] == ("– public URL: MORNINGAI_PUBLIC_URL is not set → set it to the https "
                                         "address Slack and Discord reach this hub at")
        assert fine.stdout.splitlines()[-1] == "all good"

        discord.fail_next(ME, 401, code=0, message="401: Unauthorized")
        refused, lines = _doctor(env, SLACK_BOT_TOKEN="xoxb-revoked", MORNINGAI_PUBLIC_URL="http://hub.example.com")
        assert refused.returncode == 0, refused.stdout + refused.stderr
        assert lines["✗ Slack"].startswith("✗ Slack: Slack refused SLACK_BOT_TOKEN: invalid_auth → set SLACK_BOT_TOKEN")
        assert lines["✗ Discord"].startswith("✗ Discord: Discord refused DISCORD_BOT_TOKEN (401): 401: Unauthorized")
        assert "is not https" in lines["✗ public URL"]
        assert refused.stdout.splitlines()[-1] == "the hub can answer; to look at: Slack, Discord, public URL"

        local, lines = _doctor(env, MORNINGAI_PUBLIC_URL="https://localhost")
        assert "resolves to 127.0.0.1" in lines["✗ public URL"] and "cannot reach" in lines["✗ public URL"]


def test_each_part_that_stops_answering_fails_the_check_on_a_line_of_its_own(rt, cli_env):
    no_database = f"postgresql://morningai@127.0.0.1:{free_port()}/morningai"
    broken, lines = _doctor(cli_env, DATABASE_URL=no_database)
    assert broken.returncode == 1
    database = [line for line in broken.stdout.splitlines() if "database" in line.split(":", 1)[0]]
    assert database == [lines["✗ database"]] and "cannot reach PostgreSQL at" in database[0]
    assert "check DATABASE_URL" in database[0] and "migrations" not in " ".join(lines)
    assert "workspaces not checked (the database is not ready)" in lines["✓ embedder"]

    no_worker, lines = _doctor(cli_env)
    assert no_worker.returncode == 1 and "✓ database" in lines and "✓ Redis" in lines
    assert lines["✗ workers"].startswith("✗ workers: no live worker") and "morningai worker" in lines["✗ workers"]
    assert no_worker.stdout.splitlines()[-1] == "the hub cannot answer until this is fixed: workers"

    no_redis, lines = _doctor(cli_env, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert no_redis.returncode == 1
    assert lines["✗ Redis"].startswith("✗ Redis: cannot reach Redis") and "check REDIS_URL" in lines["✗ Redis"]
    assert lines["– workers"] == "– workers: not checked: Redis is unreachable"

    no_embedder, lines = _doctor(cli_env, MORNINGAI_EMBEDDINGS="openai")
    assert no_embedder.returncode == 1
    assert "does not load: MORNINGAI_EMBEDDINGS=openai needs OPENAI_API_KEY" in lines["✗ embedder"]

    production, lines = _doctor(cli_env, MORNINGAI_ENV="production")
    assert production.returncode == 1 and list(lines) == ["✗ configuration"]
    assert "MORNINGAI_SECRET_KEY must be set in production" in lines["✗ configuration"]


def test_an_embedder_other_than_the_workspaces_is_named_with_the_way_back(rt, cli_env, owner):
    owner.execute("UPDATE workspaces SET embedder = 'local:all-MiniLM-L6-v2', embedding_dims = 384 "
                  "WHERE name = 'default'")
    mismatched, lines = _doctor(cli_env)
    assert mismatched.returncode == 1
    assert "hash-v1 loads, but workspaces were embedded with another: default (local:all-MiniLM-L6-v2)" in \
        lines["✗ embedder"] and "--reembed" in lines["✗ embedder"]


def test_a_database_not_migrated_is_named_with_the_command_that_migrates_it(cli_env, empty_database):
    unmigrated, lines = _doctor(cli_env, DATABASE_URL=empty_database)
    assert unmigrated.returncode == 1 and "✓ database" in lines
    assert lines["✗ migrations"].endswith("→ run `morningai migrate`") and "0001_core" in lines["✗ migrations"]
    assert "workspaces not checked (the database is not ready)" in lines["✓ embedder"]
