"""Per-channel settings (the `channel_settings` table), the same for every platform: whether
the bot answers in a channel at all, whether it answers thread follow-ups there without a new
mention, which of the workspace's knowledge sources its answers may search, which kinds of task
it takes, and how it serves as a support desk there: its answer mode (`mention`: only what is
addressed to it; `auto`: also questions nobody tagged it in, when sure enough; `draft`: those
answers held for a person to publish), the people "Ask a person" calls on, and whether it asks
later if an answer helped. A channel without a row of its own has the defaults: enabled,
mention-only, every source, every kind, nobody to hand over to, no follow-up.

Adapters read only `listening`, to tell whether a message nobody addressed to the bot is for it
(a thread follow-up, a question in an `auto` or `draft` channel). The rest is read by the worker
when it runs a task (`for_task`), off the platforms' clock.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from core import workspaces
from core.db import Database
from core.models import KINDS, SLACK_CHANNEL, SNOWFLAKE, ChatTask, Listening
from memory import store
from tasks import stats

# The platforms whose messages come from channels an admin can set up.
PLATFORMS = ("slack", "discord")
NAMES = {"slack": "Slack", "discord": "Discord"}
CHANNEL_IDS = {"slack": SLACK_CHANNEL, "discord": SNOWFLAKE}
WHERE_TO_FIND = {"slack": "like C0123ABCD, in the channel's details",
                 "discord": "a number like 1234567890123456789: right-click the channel → Copy Channel ID"}
FIELDS = ("enabled", "follow_ups", "sources", "kinds", "mode", "threshold", "unsure_reaction", "review_channel",
          "people", "follow_up_minutes", "follow_up_dms")
MODES = ("mention", "auto", "draft")
# Who "Ask a person" calls on, as each platform names them.
PEOPLE = {"slack": ("a Slack user group id (S0123ABCD) or user id (U0123ABCD)", r"^[SUW][A-Z0-9]{2,30}$"),
          "discord": ("role:<role id> or user:<user id>", r"^(role|user):[0-9]{15,22}$")}
MAX_FOLLOW_UP_MINUTES = 7 * 24 * 60


class SettingsError(ValueError):
    """Input that cannot be stored; the message names the field and what would be valid."""


class Platforms(Protocol):
    """What only the platform can tell about settings (handed in by the hub, from the adapters):
    each returns None when all is well, else what is wrong and how to fix it."""

    def cannot_post(self, platform: str, channel: str, near: str) -> str | None:
        """Why the bot could not post in `channel` (of the same team or guild as `near`)."""

    def unknown_people(self, platform: str, channel: str, people: list[str]) -> str | None:
        """Which of `people` the platform does not know, where `channel` is."""


@dataclass(frozen=True)
class ChannelSettings:
    enabled: bool = True
    follow_ups: bool = False
    sources: tuple[uuid.UUID, ...] | None = None  # None: every source of the workspace
    kinds: tuple[str, ...] | None = None  # None: every kind
    mode: str = "mention"
    threshold: float | None = None  # None: the embedder's calibrated default
    unsure_reaction: str | None = None  # None: stay silent when not sure
    review_channel: str | None = None  # None: drafts wait in the dashboard only
    people: tuple[str, ...] = ()
    follow_up_minutes: int | None = None
    follow_up_dms: bool = False

    def allows(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


def check_channel(platform: str, channel: str) -> None:
    if platform not in PLATFORMS:
        raise SettingsError(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    if not CHANNEL_IDS[platform].match(channel):
        raise SettingsError(f"channel: {channel!r} is not a {NAMES[platform]} channel id ({WHERE_TO_FIND[platform]})")


def listening(db: Database, platform: str, channel: str) -> Listening:
    """What the bot listens for in `channel` beyond what is addressed to it."""
    with db.connection() as conn:
        row = conn.execute("SELECT follow_ups, mode, people FROM channel_settings WHERE platform = %s AND channel = %s",
                           (platform, channel)).fetchone()
    if row is None:
        return Listening()
    return Listening(follow_ups=row["follow_ups"], unasked=row["mode"] != "mention",
                     support=row["mode"] != "mention" or bool(row["people"]))


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


def validate(db: Database, platform: str, channel: str, body: Any,
             platforms: Platforms | None = None) -> dict[str, Any]:
    """The changes `body` asks for, checked: any of enabled, follow_ups (booleans), sources
    (source ids of the channel's workspace, or null for all), kinds (or null for all), and the
    support desk's mode, threshold, unsure_reaction, review_channel, people, follow_up_minutes
    and follow_up_dms. `workspace` names the workspace whose sources are meant, when the channel
    has not been asked anything yet (else it is the workspace its last task was answered from).
    With `platforms`, a review channel the bot cannot post in and people the platform does not
    know are refused."""
    check_channel(platform, channel)
    example = '{"enabled": true, "follow_ups": false, "sources": null, "kinds": ["ask", "docs"], "mode": "auto"}'
    if not isinstance(body, dict) or not set(body) & set(FIELDS):
        raise SettingsError(f"send a JSON object with any of {', '.join(FIELDS)}, e.g. {example}")
    unknown = sorted(set(body) - {*FIELDS, "workspace"})
    if unknown:
        raise SettingsError(f"{unknown[0]}: not a channel setting; the settings are {', '.join(FIELDS)}")
    changes: dict[str, Any] = {}
    for name in ("enabled", "follow_ups", "follow_up_dms"):
        if name in body:
            if not isinstance(body[name], bool):
                raise SettingsError(f"{name}: must be true or false")
            changes[name] = body[name]
    if "kinds" in body:
        changes["kinds"] = _kinds(body["kinds"])
    if "sources" in body:
        changes["sources"] = _sources(db, body["sources"], _workspace_of(db, platform, channel, body.get("workspace")))
    changes.update(_desk(platform, channel, body, platforms))
    return changes


def _desk(platform: str, channel: str, body: dict[str, Any], platforms: Platforms | None) -> dict[str, Any]:
    """The support desk's settings among `body`, checked."""
    changes: dict[str, Any] = {}
    if "mode" in body:
        if body["mode"] not in MODES:
            raise SettingsError(f"mode: {body['mode']!r} is not one of {', '.join(MODES)}")
        changes["mode"] = body["mode"]
    if "threshold" in body:
        value = body["threshold"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1):
            raise SettingsError(f"threshold: {value!r} is not a confidence between 0 and 1 "
                                "(or null for the embedder's calibrated default)")
        changes["threshold"] = value
    if "unsure_reaction" in body:
        value = body["unsure_reaction"]
        name = value.strip().strip(":") if isinstance(value, str) else value
        if value is not None and (not name or len(name) > 100 or any(c.isspace() for c in name)):
            raise SettingsError(f"unsure_reaction: {value!r} is not an emoji (a name like thinking_face, "
                                "or the emoji itself), or null to stay silent")
        changes["unsure_reaction"] = name
    if "follow_up_minutes" in body:
        value = body["follow_up_minutes"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_FOLLOW_UP_MINUTES):
            raise SettingsError(f"follow_up_minutes: {value!r} is not a whole number of minutes from 1 to "
                                f"{MAX_FOLLOW_UP_MINUTES} (a week), or null for no follow-up")
        changes["follow_up_minutes"] = value
    if body.get("review_channel") is not None:
        review = body["review_channel"]
        if not isinstance(review, str) or not CHANNEL_IDS[platform].match(review):
            raise SettingsError(f"review_channel: {review!r} is not a {NAMES[platform]} channel id "
                                f"({WHERE_TO_FIND[platform]})")
        problem = platforms.cannot_post(platform, review, channel) if platforms else None
        if problem:
            raise SettingsError(f"review_channel: {problem}")
    if "review_channel" in body:
        changes["review_channel"] = body["review_channel"]
    if "people" in body:
        changes["people"] = _people(platform, channel, body["people"], platforms)
    return changes


def _people(platform: str, channel: str, value: Any, platforms: Platforms | None) -> list[str] | None:
    if value is None or value == []:
        return None
    described, pattern = PEOPLE[platform]
    if not isinstance(value, list) or len(value) > 20 or not all(isinstance(p, str) for p in value):
        raise SettingsError(f"people: a list of up to 20 of {described}, or null for nobody")
    wrong = [person for person in value if not re.match(pattern, person)]
    if wrong:
        raise SettingsError(f"people: {wrong[0]!r} is not {described}")
    people = list(dict.fromkeys(value))
    problem = platforms.unknown_people(platform, channel, people) if platforms else None
    if problem:
        raise SettingsError(f"people: {problem}")
    return people


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
    name = named or (stats.latest_in_channel(db, platform, channel) or {}).get("workspace") or "default"
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
                           kinds=tuple(row["kinds"]) if row["kinds"] is not None else None,
                           mode=row["mode"], threshold=row["threshold"], unsure_reaction=row["unsure_reaction"],
                           review_channel=row["review_channel"], people=tuple(row["people"] or ()),
                           follow_up_minutes=row["follow_up_minutes"], follow_up_dms=row["follow_up_dms"])


def _json_settings(settings: ChannelSettings) -> dict[str, Any]:
    return {"enabled": settings.enabled, "follow_ups": settings.follow_ups,
            "sources": None if settings.sources is None else [str(source) for source in settings.sources],
            "kinds": None if settings.kinds is None else list(settings.kinds),
            "mode": settings.mode, "threshold": settings.threshold, "unsure_reaction": settings.unsure_reaction,
            "review_channel": settings.review_channel, "people": list(settings.people),
            "follow_up_minutes": settings.follow_up_minutes, "follow_up_dms": settings.follow_up_dms}


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {"channel": row["channel"], **_json_settings(_settings(row)), "custom": True,
            "updated_at": row["updated_at"].isoformat()}
