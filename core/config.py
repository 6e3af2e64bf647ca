"""Settings, read once from the environment (and `.env`), documented in `.env.example`."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and says how to fix it."""


def _public_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL, e.g. https://morningai.example.com")
    return value.rstrip("/") if value else None


def _env(name: str, *, default, description: str, **kwargs):
    return Field(default, validation_alias=AliasChoices(name), description=description, **kwargs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    env: Literal["development", "production"] = _env(
        "MORNINGAI_ENV", default="development",
        description="production: refuse unsafe settings, log JSON lines; development: readable logs")
    debug: bool = Field(False, validation_alias=AliasChoices("MORNINGAI_DEBUG", "FLASK_DEBUG"),
                        description="Flask debug mode: errors propagate with their tracebacks (never in production)")

    database_url: str | None = _env(
        "DATABASE_URL", default=None,
        description="PostgreSQL (with pgvector) URL; unset starts an embedded server under MORNINGAI_HOME")
    redis_url: str | None = _env(
        "REDIS_URL", default=None,
        description="Redis URL for the task queue; unset starts an embedded server under MORNINGAI_HOME")
    home: Path = _env(
        "MORNINGAI_HOME", default=Path(".morningai"),
        description="Data directory of the embedded services and the generated secret key")
    secret_key_value: SecretStr | None = _env(
        "MORNINGAI_SECRET_KEY", default=None,
        description="Signs sessions and encrypts stored tokens; unset generates one into MORNINGAI_HOME")
    previous_secret_key_value: SecretStr | None = _env(
        "MORNINGAI_PREVIOUS_SECRET_KEY", default=None,
        description="While rotating MORNINGAI_SECRET_KEY: the old key, so tokens it sealed stay readable")
    host: str = _env("MORNINGAI_HOST", default="127.0.0.1",
                     description="Address the web server binds (`up` and `web`)")
    port: int = _env("PORT", default=8000, ge=1, le=65535, description="Port the web server listens on")
    web_concurrency: int = _env("WEB_CONCURRENCY", default=2, ge=1, le=64,
                                description="gunicorn worker processes")
    web_threads: int = _env("WEB_THREADS", default=4, ge=1, le=64,
                            description="Threads per gunicorn worker process")
    queue_name: str = _env("MORNINGAI_QUEUE", default="morningai", min_length=1,
                           description="Name of the RQ queue tasks go on")
    task_timeout: int = _env("MORNINGAI_TASK_TIMEOUT", default=300, ge=1,
                             description="Seconds one task may run before it is stopped and retried")
    max_attempts: int = _env("MORNINGAI_MAX_ATTEMPTS", default=3, ge=1, le=20,
                             description="Runs of one task before it is marked failed and the user told")
    worker_engine: Literal["threads", "fork"] = _env(
        "MORNINGAI_WORKER_ENGINE", default="threads",
        description="How a worker runs jobs: `threads` keeps many in flight per process; `fork` is "
                    "RQ's own fork-per-job worker, one at a time (the baseline bench/throughput.py compares)")
    worker_concurrency: int = _env(
        "MORNINGAI_WORKER_CONCURRENCY", default=64, ge=1, le=1024,
        description="Jobs one worker process keeps in flight (the threads engine)")
    reconcile_interval: float = _env(
        "MORNINGAI_RECONCILE_INTERVAL", default=10.0, gt=0,
        description="Seconds between reconciler sweeps; a worker silent for 3x this is presumed dead")
    max_message_chars: int = _env("MORNINGAI_MAX_MESSAGE_CHARS", default=20_000, ge=1,
                                  description="Longest message text accepted")
    mcp_ask_seconds: float = _env(
        "MORNINGAI_MCP_ASK_SECONDS", default=120, gt=0, le=3600,
        description="How long the MCP server's `ask` tool waits for a worker's answer before it says it is late")
    log_level: str = _env("LOG_LEVEL", default="INFO", description="Logging level")
    openai_api_key: SecretStr | None = _env(
        "OPENAI_API_KEY", default=None, description="Key for OpenAI or a compatible server")
    openai_base_url: str | None = _env(
        "OPENAI_BASE_URL", default=None,
        description="OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, a gateway); unset: OpenAI")
    embeddings: Literal["openai", "local", "hash"] | None = _env(
        "MORNINGAI_EMBEDDINGS", default=None,
        description="Embedder: openai, local or hash; unset: openai with a key, else local if installed, else hash")
    embedding_model: str = _env("MORNINGAI_EMBEDDING_MODEL", default="text-embedding-3-small",
                                description="Model the openai embedder asks for")
    chat_model: str = _env("MORNINGAI_CHAT_MODEL", default="gpt-4.1-mini",
                           description="Chat model asked for answers, code, docs and FAQs (with an API key)")
    llm_timeout: float = _env("MORNINGAI_LLM_TIMEOUT", default=60.0, gt=0,
                              description="Seconds one model call may take before it is abandoned")
    daily_token_budget: int = _env(
        "MORNINGAI_DAILY_TOKEN_BUDGET", default=500_000, ge=0,
        description="Model tokens one workspace may spend per day (UTC); 0 means no limit")
    user_rate_limit: int = _env("MORNINGAI_USER_RATE_LIMIT", default=20, ge=0,
                                description="Requests one user may make per minute; 0 means no limit")
    max_file_bytes: int = _env("MORNINGAI_MAX_FILE_BYTES", default=10_000_000, ge=1,
                               description="Largest file or URL body ingest reads; larger ones are skipped")
    fetch_timeout: float = _env("MORNINGAI_FETCH_TIMEOUT", default=20.0, gt=0,
                                description="Seconds ingest waits for a URL")
    # Checked in its annotation, not a field_validator, so that the dashboard's Settings page
    # (which checks a value with field_adapter) refuses what the environment would.
    public_url: Annotated[str | None, AfterValidator(_public_url)] = _env(
        "MORNINGAI_PUBLIC_URL", default=None,
        description="The hub's address as people and Slack or Discord reach it (https://morningai.example.com): "
                    "the Slack app manifest and Discord's interactions URL are built on it; pull requests link "
                    "the tasks that motivated them")
    admin_email: str | None = _env(
        "MORNINGAI_ADMIN_EMAIL", default=None,
        description="The first admin's login, created when nobody has an account yet; `ask` logs in with it")
    admin_password: SecretStr | None = _env(
        "MORNINGAI_ADMIN_PASSWORD", default=None,
        description="The first admin's password (at least 10 characters); unset: the dashboard asks for one")
    slack_signing_secret: SecretStr | None = _env(
        "SLACK_SIGNING_SECRET", default=None,
        description="Verifies requests from Slack; unset: the Slack endpoints are off")
    slack_bot_token: SecretStr | None = _env(
        "SLACK_BOT_TOKEN", default=None,
        description="Single-workspace mode: the bot token (xoxb-...) of the one team, answered in workspace default")
    slack_client_id: str | None = _env(
        "SLACK_CLIENT_ID", default=None,
        description="Multi-workspace mode (OAuth): the app's client id; teams install at /slack/install")
    slack_client_secret: SecretStr | None = _env(
        "SLACK_CLIENT_SECRET", default=None, description="Multi-workspace mode (OAuth): the app's client secret")
    slack_redirect_uri: str | None = _env(
        "SLACK_REDIRECT_URI", default=None,
        description="OAuth redirect URL, https://HOST/slack/oauth_redirect; unset: the one in the app's settings")
    slack_api_url: str = _env("SLACK_API_URL", default="https://slack.com/api/",
                              description="Base URL of the Slack Web API (tests, Slack-compatible gateways)")
    discord_bot_token: SecretStr | None = _env(
        "DISCORD_BOT_TOKEN", default=None,
        description="The bot's token: `morningai discord` logs in with it; the worker replies to mentions with it")
    discord_application_id: str | None = _env(
        "DISCORD_APPLICATION_ID", default=None, pattern=r"^\d{15,22}$",
        description="The Discord application's id (General Information page)")
    discord_public_key: str | None = _env(
        "DISCORD_PUBLIC_KEY", default=None, pattern=r"^[0-9a-fA-F]{64}$",
        description="Verifies POST /discord/interactions; unset: that endpoint is off")
    discord_guild_ids: Annotated[list[int], NoDecode] = _env(
        "DISCORD_GUILD_IDS", default=[],
        description="Guilds (comma-separated ids) that get the slash commands at once; unset: global commands")
    discord_api_url: str = _env("DISCORD_API_URL", default="https://discord.com/api/v10",
                                description="Base URL of Discord's REST API (tests, proxies)")
    discord_gateway_url: str | None = _env(
        "DISCORD_GATEWAY_URL", default=None,
        description="Gateway websocket URL; unset: Discord's own (tests point it at a fake)")

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("postgres", "postgresql"):
            raise ValueError("must start with postgresql:// (e.g. postgresql://user:pass@host:5432/db)")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix:// (e.g. redis://localhost:6379/0)")
        return value or None

    @field_validator("slack_api_url")
    @classmethod
    def _api_base(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"  # slack_sdk joins method names to it

    @field_validator("discord_guild_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        # Ids separated by commas, as people write them (NoDecode: not JSON).
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("discord_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL, e.g. https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError("must be a ws:// or wss:// URL, e.g. wss://gateway.discord.gg/")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        levels = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        if value.upper() not in levels:
            raise ValueError(f"must be one of {', '.join(levels)}")
        return value.upper()

    @model_validator(mode="after")
    def _slack_complete(self) -> Settings:
        # A half-configured Slack would otherwise be silently off.
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise ValueError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both "
                             "(the app's Basic Information page) or neither")
        if self.slack_signing_secret is None and (self.slack_bot_token or self.slack_client_id):
            raise ValueError("SLACK_SIGNING_SECRET is needed with SLACK_BOT_TOKEN or SLACK_CLIENT_ID: "
                             "copy it from the app's Basic Information page")
        return self

    def unsafe_in_production(self) -> list[str]:
        """What production refuses, one line each: each works on a laptop and loses data or
        leaks secrets on a server."""
        if self.env != "production":
            return []
        problems = []
        if self.secret_key_value is None:
            problems.append("MORNINGAI_SECRET_KEY must be set in production, the same for the web service and "
                            "every worker (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if self.database_url is None:
            problems.append("DATABASE_URL must be set in production: the embedded PostgreSQL is for one machine")
        if self.redis_url is None:
            problems.append("REDIS_URL must be set in production: the embedded Redis is for one machine")
        if self.debug:
            problems.append("MORNINGAI_DEBUG / FLASK_DEBUG must be unset (or 0) in production")
        return problems

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_signing_secret is not None and (
            self.slack_bot_token is not None or self.slack_oauth_enabled)

    @property
    def slack_oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @cached_property
    def secret_key(self) -> str:
        """The configured key, or one generated on first use and kept in MORNINGAI_HOME."""
        if self.secret_key_value is not None:
            return self.secret_key_value.get_secret_value()
        path = self.home / "secret_key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def previous_secret_key(self) -> str | None:
        return self.previous_secret_key_value.get_secret_value() if self.previous_secret_key_value else None

    def described(self) -> list[tuple[str, str, str]]:
        """(variable, effective value with secrets masked, description) for `morningai config`."""
        rows = []
        for name, info in type(self).model_fields.items():
            variable = info.validation_alias.choices[0]
            value = getattr(self, name)
            if name == "secret_key_value":
                shown = "(set)" if value else f"(generated, in {self.home / 'secret_key'})"
            elif info.annotation == SecretStr | None:
                shown = "(set)" if value else "(not set)"
            elif name in ("database_url", "redis_url"):
                shown = mask_url(value) if value else "(embedded)"
            else:
                shown = str(value)
            rows.append((variable, shown, info.description or ""))
        return rows


def variable(name: str) -> str:
    """The environment variable of a Settings field."""
    return Settings.model_fields[name].validation_alias.choices[0]


def field_adapter(name: str) -> TypeAdapter:
    """Checks a value the way the field's environment variable is checked: same type, same bounds."""
    field = Settings.model_fields[name]
    return TypeAdapter(Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation)


def mask_url(url: str) -> str:
    """The URL with its password replaced, so it can be printed and logged."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:****@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def said(error) -> str:
    """What a validation error says, without pydantic's "Value error, " before our own words."""
    return error["msg"].removeprefix("Value error, ")


def load_settings(**overrides) -> Settings:
    """Read the settings, turning validation errors into one line per bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "settings"
            given = error.get("input")
            shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
            problems.append(f"{variable}: {said(error)}{shown}")
        raise ConfigError("; ".join(problems)) from None
    if unsafe := settings.unsafe_in_production():
        raise ConfigError("\n".join(unsafe))
    return settings
