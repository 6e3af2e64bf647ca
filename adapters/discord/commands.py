"""The commands MorningAI defines (the slash commands, and "Ask MorningAI" on a message's
menu), and keeping Discord's copy of them current: globally, or per guild (instant, where global
commands take up to an hour), synced only when they differ."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from adapters.discord.rest import DiscordREST

# What the bot needs in a channel: see it, read the message it answers, reply (in threads too),
# open a thread on a question whose answer is long, embed its sources and react with 🤔 while
# it works (and with a support channel's unsure emoji). Manage Threads: to tag a resolved forum
# post Solved, which only its author or that permission may. Application commands come with the scope.
PERMISSIONS = {"Add Reactions": 1 << 6, "View Channel": 1 << 10, "Send Messages": 1 << 11,
               "Embed Links": 1 << 14, "Read Message History": 1 << 16, "Manage Threads": 1 << 34,
               "Create Public Threads": 1 << 35, "Send Messages in Threads": 1 << 38}
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: str) -> str:
    """The URL that adds the bot to a server, asking for the scopes and permissions it needs."""
    query = urlencode({"client_id": application_id, "scope": " ".join(SCOPES),
                       "permissions": sum(PERMISSIONS.values())})
    return f"https://discord.com/oauth2/authorize?{query}"

_STRING = 3  # option type
CHAT_INPUT, MESSAGE = 1, 3  # command types: a slash command, an entry of a message's menu
ASK_MESSAGE = "Ask MorningAI"  # the message command: asks about the message it was used on
# Where a global command may be used: installed to a guild (0) or by a user (1, who can then use
# it where the bot is not), in guilds (0), the bot's DMs (1) and other DMs and group DMs (2).
# Discord keeps these for global commands only.
INTEGRATION_TYPES = [0, 1]
CONTEXTS = [0, 1, 2]

# (kind, description, option name, option description, required)
_COMMANDS = [
    ("ask", "Ask a question about your team's knowledge", "question", "What do you want to know?", True),
    ("code", "Write code, checked before it is posted", "request", "What should the code do?", True),
    ("docs", "Write a document from your team's knowledge", "topic", "What should the document cover?", True),
    ("faq", "Approved answers to frequently asked questions", "topic", "A topic to narrow them down", False),
    ("help", "What MorningAI can do", None, None, False),
]


def command_definitions(everywhere: bool = True) -> list[dict[str, Any]]:
    """The commands in the shape of a bulk overwrite (PUT .../commands); `everywhere` for the
    global ones, which say where they may be used."""
    definitions = []
    for name, description, option, option_description, required in _COMMANDS:
        command: dict[str, Any] = {"name": name, "description": description, "type": CHAT_INPUT, "options": []}
        if option:
            command["options"].append({"type": _STRING, "name": option, "description": option_description,
                                       "required": required})
        definitions.append(command)
    definitions.append({"name": ASK_MESSAGE, "description": "", "type": MESSAGE, "options": []})
    if everywhere:
        definitions = [{**c, "integration_types": INTEGRATION_TYPES, "contexts": CONTEXTS} for c in definitions]
    return definitions


def commands_differ(registered: list[dict[str, Any]], everywhere: bool = True) -> bool:
    """Whether the commands Discord has differ from ours in anything we define; Discord adds
    ids, versions and defaults, which do not count. Syncing only then keeps restarts cheap."""
    def essence(commands):
        return sorted(
            (c["name"], c.get("description", ""), c.get("type", CHAT_INPUT),
             tuple((o["name"], o.get("description", ""), o["type"], bool(o.get("required")))
                   for o in c.get("options") or ()),
             tuple(sorted(c.get("integration_types") or ())) if everywhere else (),
             tuple(sorted(c.get("contexts") or ())) if everywhere else ())
            for c in commands)
    return essence(registered) != essence(command_definitions(everywhere))


KINDS = {name for name, *_ in _COMMANDS}


def sync_commands(rest: DiscordREST, application_id: str, guild_ids: list[int]) -> list[str]:
    """Overwrite the registered commands where they differ from ours; says what it did per scope."""
    done = []
    for guild in guild_ids or [None]:
        path = "/applications/{application_id}" + ("/guilds/{guild_id}/commands" if guild else "/commands")
        ids = {"application_id": application_id, **({"guild_id": str(guild)} if guild else {})}
        scope = f"guild {guild}" if guild else "global"
        if commands_differ(rest.request("GET", path, **ids), everywhere=not guild):
            rest.request("PUT", path, json=command_definitions(everywhere=not guild), **ids)
            done.append(f"{scope}: commands updated")
        else:
            done.append(f"{scope}: commands already current")
    return done
