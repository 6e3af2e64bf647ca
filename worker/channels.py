"""Per-channel settings (the `channel_settings` table), the same for every platform: whether
the bot answers in a channel at all, whether it answers thread follow-ups there without a new
mention, which of the workspace's knowledge sources its answers may search, and which kinds of
task it takes. A channel without a row of its own has the defaults: enabled, mention-only,
every source, every kind.

Adapters read only `follow_ups`, inbound, to tell whether a thread reply is for the bot. The
rest is read by the worker when it runs a task (`for_task`), off the platforms' clock: Slack's
acknowledgement pays no extra round trip for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core import workspaces
from core.db import Database
from core.models import KINDS, SLACK_CHANNEL, SNOWFLAKE, ChatTask
from memory import store
from tasks import stats

# The platforms whose messages come from channels an admin can set up.
PLATFORMS = ("slack", "discord")
NAMES = {"slack": "Slack", "discord": "Discord"}
CHANNEL_IDS = {"slack": SLACK_CHANNEL, "discord": SNOWFLAKE}
WHERE_TO_FIND = {"slack": "like C0123ABCD, in the channel's details",
                 "discord": "a number like 1234567890123456789: right-click the channel → Copy Channel ID"}
FIELDS = ("enabled", "follow_ups", "sources", "kinds")


class SettingsError(ValueError):
    """Input that cannot be stored; the message names the field and what would be valid."""


@dataclass(frozen=True)
class ChannelSettings:
    enabled: bool = True
    follow_ups: bool = False
    sources: tuple[uuid.UUID, ...] | None = None  # None: every source of the workspace
    kinds: tuple[str, ...] | None = None  # None: every kind

    def allows(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


def check_channel(platform: str, channel: str) -> None:
    if platform not in PLATFORMS:
        raise SettingsError(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    if not CHANNEL_IDS[platform].match(channel):
        raise SettingsError(f"channel: {channel!r} is not a {NAMES[platform]} channel id ({WHERE_TO_FIND[platform]})")


def follow_ups(db: Database, platform: str, channel: str) -> bool:
    with db.connection() as conn:
        row = conn.execute("SELECT follow_ups FROM channel_settings WHERE platform = %s AND channel = %s",
                           (platform, channel)).fetchone()
    return bool(row and row["follow_ups"])


def for_task(db: Database, platform: str, channel: str, parent: str | None = None) -> ChannelSettings:
    """The settings a task of `channel` runs under: the channel's own, else those of the channel
    it is a thread of (`parent`: a Discord thread is a channel of its own), else the defaults."""
    with db.connection() as conn:
        row = conn.execute(
            "SELECT * FROM channel_settings WHERE platform = %s AND channel = ANY(%s) "
            "ORDER BY channel = %s DESC LIMIT 1",
            (platform, [c for c in (channel, parent) if c], channel)).fetchone()
    return _settings(row) if row else ChannelSettings()


def _channel_of(task: ChatTask) -> tuple[str, str | None]:
    """(the task's channel, the channel it is a thread of). A task in a Discord thread names the
    thread's channel and the thread: the thread's own settings apply, else its channel's."""
    parent = task.reply_target.get("parent_channel")
    return (task.thread if parent else task.channel), parent


def of_task(db: Database, task: ChatTask) -> ChannelSettings:
    """The settings `task` runs under."""
    return for_task(db, task.platform, *_channel_of(task))


def switched_on(db: Database, tasks: list[ChatTask]) -> list[ChatTask]:
    """Those of `tasks` whose channel is enabled (as `of_task` decides, in one query)."""
    wanted = {(t.platform, c) for t in tasks for c in _channel_of(t) if c}
    with db.connection() as conn:
        rows = conn.execute("SELECT platform, channel, enabled FROM channel_settings "
                            "WHERE (platform, channel) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                            ([p for p, _ in wanted], [c for _, c in wanted])).fetchall()
    enabled = {(row["platform"], row["channel"]): row["enabled"] for row in rows}

    def on(task: ChatTask) -> bool:
        own, parent = _channel_of(task)
        return enabled.get((task.platform, own), enabled.get((task.platform, parent), True))

    return [task for task in tasks if on(task)]


def validate(db: Database, platform: str, channel: str, body: Any) -> dict[str, Any]:
    """The changes `body` asks for, checked: any of enabled, follow_ups (booleans), sources
    (source ids of the channel's workspace, or null for all) and kinds (or null for all).
    `workspace` names the workspace whose sources are meant, when the channel has not been
    asked anything yet (else it is the workspace its last task was answered from)."""
    check_channel(platform, channel)
    example = '{"enabled": true, "follow_ups": false, "sources": null, "kinds": ["ask", "docs"]}'
    if not isinstance(body, dict) or not set(body) & set(FIELDS):
        raise SettingsError(f"send a JSON object with any of {', '.join(FIELDS)}, e.g. {example}")
    unknown = sorted(set(body) - {*FIELDS, "workspace"})
    if unknown:
        raise SettingsError(f"{unknown[0]}: not a channel setting; the settings are {', '.join(FIELDS)}")
    changes: dict[str, Any] = {}
    for name in ("enabled", "follow_ups"):
        if name in body:
            if not isinstance(body[name], bool):
                raise SettingsError(f"{name}: must be true or false")
            changes[name] = body[name]
    if "kinds" in body:
        changes["kinds"] = _kinds(body["kinds"])
    if "sources" in body:
        changes["sources"] = _sources(db, body["sources"], _workspace_of(db, platform, channel, body.get("workspace")))
    return changes


def _kinds(value: Any) -> list[str] | None:
    if value is None:
        return None
    valid = ", ".join(KINDS)
    if not isinstance(value, list) or not value or not all(isinstance(kind, str) for kind in value):
        raise SettingsError(f"kinds: a non-empty list of {valid}, or null for all "
                            "(to answer nothing, set enabled to false)")
    wrong = [kind for kind in value if kind not in KINDS]
    if wrong:
        raise SettingsError(f"kinds: {wrong[0]!r} is not a kind; the kinds are {valid}")
    return sorted(set(value), key=KINDS.index)


def _workspace_of(db: Database, platform: str, channel: str, named: Any) -> workspaces.Workspace:
    if named is not None and not isinstance(named, str):
        raise SettingsError("workspace: must be a workspace name")
    name = named or stats.channel_workspace(db, platform, channel) or "default"
    space = workspaces.find(db, name)
    if space is None:
        raise SettingsError(f"workspace: no workspace named {name!r}")
    return space


def _sources(db: Database, value: Any, space: workspaces.Workspace) -> list[uuid.UUID] | None:
    if value is None:
        return None
    with db.workspace(space.id) as conn:
        known = {str(row["id"]): row["location"] for row in store.sources(conn)}
    listed = "; ".join(f"{id_} ({location})" for id_, location in known.items())
    valid = (f"workspace {space.name!r} has: {listed}" if known else
             f"workspace {space.name!r} has no sources yet: add knowledge first")
    if not isinstance(value, list) or not value or not all(isinstance(source, str) for source in value):
        raise SettingsError(f"sources: a non-empty list of source ids, or null for all; {valid}")
    wrong = [source for source in value if source not in known]
    if wrong:
        raise SettingsError(f"sources: {wrong[0]!r} is not a source of workspace {space.name!r}; {valid}")
    return sorted({uuid.UUID(source) for source in value})


def update(db: Database, platform: str, channel: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Store `changes` (checked by `validate`); settings not named keep their value, or their
    default for a channel new here. Returns the channel's settings."""
    check_channel(platform, channel)
    columns = [name for name in FIELDS if name in changes]  # names from FIELDS only: safe in SQL
    with db.connection() as conn:
        row = conn.execute(
            f"""INSERT INTO channel_settings (platform, channel, {', '.join(columns)})
                VALUES (%s, %s, {', '.join(['%s'] * len(columns))})
                ON CONFLICT (platform, channel) DO UPDATE
                SET {', '.join(f'{name} = excluded.{name}' for name in columns)}, updated_at = now()
                RETURNING *""",
            (platform, channel, *(changes[name] for name in columns))).fetchone()
    return _json(row)


def reset(db: Database, platform: str, channel: str) -> bool:
    """Back to the defaults; False when the channel had no settings of its own."""
    check_channel(platform, channel)
    with db.connection() as conn:
        cur = conn.execute("DELETE FROM channel_settings WHERE platform = %s AND channel = %s", (platform, channel))
    return cur.rowcount == 1


def listing(db: Database, platform: str) -> list[dict[str, Any]]:
    """Channels with settings of their own, and channels the bot was asked in, each with its
    settings (defaults where it has none), the workspace its last task was answered from and
    when that was."""
    with db.connection() as conn:
        rows = {row["channel"]: row for row in conn.execute(
            "SELECT * FROM channel_settings WHERE platform = %s", (platform,))}
    seen = {row["channel"]: row for row in stats.channels_seen(db, platform)}
    channels = []
    for channel in sorted(rows.keys() | seen.keys()):
        own, last = rows.get(channel), seen.get(channel) or {}
        channels.append({**(_json(own) if own else {**_json_settings(ChannelSettings()), "channel": channel,
                                                     "custom": False, "updated_at": None}),
                         "workspace": last.get("workspace"),
                         "last_task_at": last["last_seen"].isoformat() if last else None})
    return channels


def _settings(row: dict[str, Any]) -> ChannelSettings:
    return ChannelSettings(enabled=row["enabled"], follow_ups=row["follow_ups"],
                           sources=tuple(row["sources"]) if row["sources"] is not None else None,
                           kinds=tuple(row["kinds"]) if row["kinds"] is not None else None)


def _json_settings(settings: ChannelSettings) -> dict[str, Any]:
    return {"enabled": settings.enabled, "follow_ups": settings.follow_ups,
            "sources": None if settings.sources is None else [str(source) for source in settings.sources],
            "kinds": None if settings.kinds is None else list(settings.kinds)}


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {"channel": row["channel"], **_json_settings(_settings(row)), "custom": True,
            "updated_at": row["updated_at"].isoformat()}
