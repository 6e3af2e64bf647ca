"""render.yaml describes the whole system, with commands the CLI really has and every setting
production requires."""

import shlex

import click
import pytest
import typer
import yaml
from conftest import ROOT

from core.config import load_settings
from hub.cli.main import app

BLUEPRINT = yaml.safe_load((ROOT / "render.yaml").read_text())
SERVICES = {service["name"]: service for service in BLUEPRINT["services"]}
CLI = typer.main.get_command(app)


def _env_of(service: dict) -> dict[str, dict]:
    """The service's variables by name, with its groups' variables folded in."""
    groups = {group["name"]: group["envVars"] for group in BLUEPRINT.get("envVarGroups", [])}
    found = {}
    for entry in service.get("envVars", []):
        for var in groups[entry["fromGroup"]] if "fromGroup" in entry else [entry]:
            assert var["key"] not in found, f"{service['name']}: {var['key']} set twice"
            found[var["key"]] = var
    return found


def _check_cli(command: str) -> None:
    """Parse `morningai …` as the real CLI would, without running it."""
    argv = shlex.split(command)
    assert argv[0] == "morningai", command
    group, args = CLI, argv[1:]
    while hasattr(group, "commands"):  # a group: descend to its sub-command
        if not args and group.invoke_without_command:  # a group that runs on its own
            break
        assert args and args[0] in group.list_commands(None), f"{command}: no such command"
        _, group, args = group.resolve_command(click.Context(group), args)
    group.make_context(argv[0], list(args))  # unknown options or bad values raise a usage error


def test_services_have_their_types_and_required_fields():
    kinds = {service["type"] for service in BLUEPRINT["services"]}
    assert {"web", "worker", "keyvalue"} <= kinds
    for service in BLUEPRINT["services"]:
        assert service["name"] and service["plan"]
        if service["type"] in ("web", "worker"):
            assert service["runtime"] == "python"
            assert service["buildCommand"] and service["startCommand"]
    web = SERVICES["morningai-web"]
    assert web["healthCheckPath"] == "/healthz"
    assert "if [ -f dashboard/package.json ]" in web["buildCommand"]
    assert web["preDeployCommand"] == "morningai migrate"  # migrations before the new version serves
    keyvalue = SERVICES["morningai-redis"]
    assert keyvalue["maxmemoryPolicy"] == "noeviction" and keyvalue["ipAllowList"] == []
    assert [db["name"] for db in BLUEPRINT["databases"]] == ["morningai-db"]


@pytest.mark.parametrize("field", ["startCommand", "preDeployCommand"])
def test_every_command_is_a_real_cli_command(field):
    commands = [s[field] for s in BLUEPRINT["services"] if field in s]
    assert commands
    for command in commands:
        _check_cli(command)


def test_a_command_the_cli_lacks_is_caught():
    for command in ("morningai nosuch", "morningai web --no-such-option", "morningai slack nosuch"):
        # typer vendors its own click, whose UsageError is not public: match the message.
        with pytest.raises(Exception, match="no such command|No such option"):
            _check_cli(command)


@pytest.mark.parametrize("name", ["morningai-web", "morningai-worker", "morningai-discord"])
def test_every_setting_production_requires_is_provided(name, clean_env):
    env = _env_of(SERVICES[name])
    assert env["MORNINGAI_ENV"]["value"] == "production"
    assert env["MORNINGAI_SECRET_KEY"] == {"key": "MORNINGAI_SECRET_KEY", "generateValue": True}
    assert env["DATABASE_URL"]["fromDatabase"] == {"name": "morningai-db", "property": "connectionString"}
    assert env["REDIS_URL"]["fromService"] == {"type": "keyvalue", "name": "morningai-redis",
                                               "property": "connectionString"}
    for var in env.values():  # a secret is never written into the file
        if any(word in var["key"] for word in ("SECRET", "TOKEN", "API_KEY")):
            assert var.get("sync") is False or var.get("generateValue") is True, var["key"]

    # What Render would hand the process, with stand-ins for what it fills in, passes production.
    stand_ins = {"fromDatabase": "postgresql://u:p@db:5432/morningai", "fromService": "redis://kv:6379",
                 "generateValue": "generated-secret"}
    for var in env.values():
        value = var.get("value") or next((v for k, v in stand_ins.items() if k in var), None)
        if value is not None:
            clean_env.setenv(var["key"], str(value))
    assert load_settings().production
