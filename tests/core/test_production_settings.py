"""MORNINGAI_ENV=production refuses what is only safe on one machine, one line per problem."""


import pytest

from core.config import ConfigError, load_settings

SAFE = {"MORNINGAI_ENV": "production", "MORNINGAI_SECRET_KEY": "s" * 48,
        "DATABASE_URL": "postgresql://u:p@db:5432/morningai", "REDIS_URL": "redis://kv:6379"}


def _settings(clean_env, **env):
    for name in ("DATABASE_URL", "REDIS_URL", "FLASK_DEBUG"):
        clean_env.delenv(name, raising=False)
    for name, value in {**SAFE, **env}.items():
        if value is not None:
            clean_env.setenv(name, value)
    return load_settings()


def test_safe_production_settings_are_accepted(clean_env):
    settings = _settings(clean_env)
    assert settings.production and not settings.debug


@pytest.mark.parametrize("env, message", [
    ({"MORNINGAI_SECRET_KEY": None}, "MORNINGAI_SECRET_KEY must be set in production"),
    ({"DATABASE_URL": None}, "DATABASE_URL must be set in production: the embedded PostgreSQL"),
    ({"REDIS_URL": None}, "REDIS_URL must be set in production: the embedded Redis"),
    ({"MORNINGAI_DEBUG": "1"}, "MORNINGAI_DEBUG / FLASK_DEBUG must be unset"),
    ({"FLASK_DEBUG": "true"}, "MORNINGAI_DEBUG / FLASK_DEBUG must be unset"),
])
def test_each_unsafe_setting_is_refused_with_its_line(clean_env, env, message):
    with pytest.raises(ConfigError) as refused:
        _settings(clean_env, **env)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_development_allows_all_of_it(clean_env):
    settings = _settings(clean_env, MORNINGAI_ENV="development", MORNINGAI_SECRET_KEY=None,
                         DATABASE_URL=None, REDIS_URL=None, MORNINGAI_DEBUG="1")
    assert not settings.production and settings.debug
