"""The slash commands MorningAI defines, and keeping Discord's copy of them current: globally,
or per guild (instant, where global commands take up to an hour), synced only when they differ."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from adapters.discord.rest import DiscordREST

# What the bot needs in a channel: see it, read the message it answers, reply (in threads too),
# open a thread on a question whose answer is long, embed its sources and react with 🤔 while
# it works. Application commands come with the scope.
PERMISSIONS = {"Add Reactions": 1 << 6, "View Channel": 1 << 10, "Send Messages": 1 << 11,
               "Embed Links": 1 << 14, "Read Message History": 1 << 16, "Create Public Threads": 1 << 35,
               "Send Messages in Threads": 1 << 38}
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: str) -> str:
    """The URL that adds the bot to a server, asking for the scopes and permissions it needs."""
    query = urlencode({"client_id": application_id, "scope": " ".join(SCOPES),
                       "permissions": sum(PERMISSIONS.values())})
    return f"https://discord.com/oauth2/authorize?{query}"

_STRING = 3  # option type

# (kind, description, option name, option description, required)
_COMMANDS = [
    ("ask", "Ask a question about your team's knowledge", "question", "What do you want to know?", True),
    ("code", "Write code, checked before it is posted", "request", "What should the code do?", True),
    ("docs", "Write a document from your team's knowledge", "topic", "What should the document cover?", True),
    ("faq", "Approved answers to frequently asked questions", "topic", "A topic to narrow them down", False),
    ("help", "What MorningAI can do", None, None, False),
]


def command_definitions() -> list[dict[str, Any]]:
    """The slash commands in the shape of a bulk overwrite (PUT .../commands)."""
    definitions = []
    for name, description, option, option_description, required in _COMMANDS:
        command: dict[str, Any] = {"name": name, "description": description, "type": 1, "options": []}
        if option:
            command["options"].append({"type": _STRING, "name": option, "description": option_description,
                                       "required": required})
        definitions.append(command)
    return definitions


def commands_differ(registered: list[dict[str, Any]]) -> bool:
    """Whether the commands Discord has differ from ours in anything we define; Discord adds
    ids, versions and defaults, which do not count. Syncing only then keeps restarts cheap."""
    def essence(commands):
        return sorted(
            (c["name"], c.get("description", ""), c.get("type", 1),
             tuple((o["name"], o.get("description", ""), o["type"], bool(o.get("required")))
                   for o in c.get("options") or ()))
            for c in commands)
    return essence(registered) != essence(command_definitions())


KINDS = {name for name, *_ in _COMMANDS}


def sync_commands(rest: DiscordREST, application_id: str, guild_ids: list[int]) -> list[str]:
    """Overwrite the registered commands where they differ from ours; says what it did per scope."""
    done = []
    for guild in guild_ids or [None]:
        path = "/applications/{application_id}" + ("/guilds/{guild_id}/commands" if guild else "/commands")
        ids = {"application_id": application_id, **({"guild_id": str(guild)} if guild else {})}
        scope = f"guild {guild}" if guild else "global"
        if commands_differ(rest.request("GET", path, **ids)):
            rest.request("PUT", path, json=command_definitions(), **ids)
            done.append(f"{scope}: commands updated")
        else:
            done.append(f"{scope}: commands already current")
    return done
