"""The support desk on Discord, from the worker (worker/posters.py: HandsOver, FollowsUp, Reacts,
Reviews, MarksResolved): people called to a question, the follow-up asking whether an answer
helped, the unsure sign on a question, a draft put before reviewers, a resolved forum post tagged
"Solved"; and what only Discord can tell about a channel's settings (worker/channels.py:
Platforms). DiscordPoster has these parts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from adapters.discord import render
from adapters.discord.rest import UNKNOWN_WEBHOOK, DiscordError, DiscordREST
from core.models import ChatTask, Reply

SOLVED = "solved"  # the forum tag a resolved post gets, whatever its case
MAX_APPLIED_TAGS = 5  # Discord's limit on a thread
_CUSTOM_EMOJI = re.compile(r"^<?a?:?(\w+):(\d+)>?$")  # <:name:id>, <a:name:id> or name:id


class SupportDesk:
    rest: DiscordREST

    def hand_over(self, task: ChatTask, people: Sequence[str], asked_by: str) -> str:
        """Call `people` ("role:<id>", "user:<id>") to the question, pinging exactly them."""
        return self._say(task, render.hand_over(people, asked_by), "ho")

    def follow_up(self, task: ChatTask) -> str:
        """Ask under the question whether its answer helped: "Yes, resolved" / "No, ask a person"."""
        return self._say(task, render.follow_up(task.id, task.user), "fu")

    def react(self, task: ChatTask, emoji: str) -> None:
        """An emoji (Unicode, or a server's own as name:id) on the question: "seen, not sure"."""
        target = task.reply_target
        if target.get("via") != "message" or not target.get("message_id"):
            return  # a command has no message of the asker's to react on
        custom = _CUSTOM_EMOJI.match(emoji)
        self.rest.request("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                          channel_id=target["channel_id"], message_id=target["message_id"],
                          emoji=f"{custom[1]}:{custom[2]}" if custom else emoji)

    def review(self, task: ChatTask, reply: Reply, channel: str) -> str:
        """Put a drafted answer before the reviewers in `channel`, with Publish and Dismiss."""
        target = task.reply_target
        where = (render.link(target.get("guild_id"), target["channel_id"], target["message_id"])
                 if target.get("message_id") else None)
        payload = render.review(reply, task.id, asked_by=task.user, question=task.text, where=where)
        message = self.rest.request("POST", "/channels/{channel_id}/messages", channel_id=channel,
                                    json={**payload, "nonce": _nonce(task, "rv"), "enforce_nonce": True})
        return f"discord:{message['id']}"

    def mark_resolved(self, task: ChatTask) -> None:
        """A question in a forum post: the forum's "Solved" tag goes on the post, beside its others.
        A forum without such a tag, or a question elsewhere, shows nothing."""
        target = task.reply_target
        forum, post = target.get("parent_channel"), target.get("channel_id")
        if not forum or target.get("user_install"):
            return
        tags = self.rest.request("GET", "/channels/{channel_id}", channel_id=forum).get("available_tags") or []
        solved = next((tag["id"] for tag in tags if str(tag.get("name", "")).strip().lower() == SOLVED), None)
        if solved is None:
            return
        applied = self.rest.request("GET", "/channels/{channel_id}", channel_id=post).get("applied_tags") or []
        if solved not in applied:
            self.rest.request("PATCH", "/channels/{channel_id}", channel_id=post,
                              json={"applied_tags": [*applied[:MAX_APPLIED_TAGS - 1], solved]})

    def _say(self, task: ChatTask, payload: dict[str, Any], kind: str) -> str:
        """Post `payload` where the question is: a reply to its message (in its thread, for a
        thread's or forum post's), or a follow-up of the command's response. A command's token
        lasts 15 minutes; after that the bot says it in the channel, where it is there (not for
        an app only a user installed)."""
        target = task.reply_target
        if target.get("via") == "interaction":
            try:
                message = self.rest.request("POST", "/webhooks/{webhook_id}/{webhook_token}", json=payload,
                                            params={"wait": "true"}, auth=False,
                                            webhook_id=target["application_id"], webhook_token=target["token"])
                return f"discord:{message['id']}"
            except DiscordError as exc:
                if (exc.code != UNKNOWN_WEBHOOK or target.get("user_install") or not self.rest.bot_token
                        or not target.get("channel_id")):
                    raise
        body = {**payload, "nonce": _nonce(task, kind), "enforce_nonce": True}
        if target.get("message_id"):
            body["message_reference"] = {"message_id": target["message_id"], "fail_if_not_exists": False}
        message = self.rest.request("POST", "/channels/{channel_id}/messages", json=body,
                                    channel_id=target["channel_id"])
        return f"discord:{message['id']}"

    # --- what only Discord can tell about a channel's settings (worker/channels.py: Platforms) ---

    def cannot_post(self, channel: str, near: dict[str, Any]) -> str | None:
        """Why the bot could not post in `channel` (of the same server as `near`'s channel)."""
        if not self.rest.bot_token:
            return "the hub has no Discord bot token (DISCORD_BOT_TOKEN) to post there with"
        try:
            found = self.rest.request("GET", "/channels/{channel_id}", channel_id=channel)
        except DiscordError as exc:
            if exc.status == 404:
                return f"MorningAI cannot see channel {channel}: check the id, and that the bot is in that server"
            if exc.status == 403:
                return (f"MorningAI may not see channel {channel}: let its role View Channel and Send Messages "
                        "there (Edit Channel → Permissions)")
            return f"Discord would not say whether MorningAI can post in {channel}: {exc}"
        guild = near.get("guild_id")
        if guild and found.get("guild_id") and found["guild_id"] != guild:
            return f"channel {channel} is in another Discord server than the channel it reviews for"
        return None

    def unknown_people(self, people: list[str], near: dict[str, Any]) -> str | None:
        """Which of `people` ("role:<id>", "user:<id>") `near`'s server does not know."""
        guild = near.get("guild_id")
        if not guild:
            return "the hub cannot tell yet which Discord server this channel is in: ask the bot something there first"
        person = "its roles"
        try:
            roles = ({role["id"] for role in self.rest.request("GET", "/guilds/{guild_id}/roles", guild_id=guild)}
                     if any(person.startswith("role:") for person in people) else set())
            for person in people:
                kind, _, id_ = person.partition(":")
                if kind == "role" and id_ not in roles:
                    return f"{person} is not a role of this Discord server (Server Settings → Roles → Copy Role ID)"
                if kind == "user":
                    self.rest.request("GET", "/guilds/{guild_id}/members/{user_id}", guild_id=guild, user_id=id_)
        except DiscordError as exc:
            if exc.status == 404 and person.startswith("user:"):
                return f"{person} is not a member of this Discord server"
            return f"Discord would not tell about {person}: {exc}"
        return None


def _nonce(task: ChatTask, kind: str) -> str:
    """Discord drops a second message with the same nonce from us for a few minutes: a job retried
    after a lost response posts once. Apart from the answer's parts (poster._send), at most 25
    characters."""
    return f"{task.id.hex[:22]}{kind}"
