"""The admin API for Slack: which channels answer thread follow-ups without a mention. Behind the
admin login, like every /api route (hub/auth.py)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hub import channels, web

bp = Blueprint("slack_admin", __name__, url_prefix="/api/slack")


@bp.get("/channels")
def list_channels():
    rows = channels.all_settings(web.runtime().db, "slack")
    return jsonify(channels=[{"channel": row["channel"], "follow_ups": row["follow_ups"],
                              "updated_at": row["updated_at"].isoformat()} for row in rows])


@bp.put("/channels/<channel>")
def set_channel(channel: str):
    if not channels.SLACK_CHANNEL_ID.match(channel):
        return jsonify(error=f"channel: {channel!r} is not a Slack channel id (like C0123ABCD); "
                             "find it in the channel's details"), 400
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("follow_ups"), bool) or set(data) - {"follow_ups"}:
        return jsonify(error='send a JSON object {"follow_ups": true} or {"follow_ups": false}'), 400
    channels.set_follow_ups(web.runtime().db, "slack", channel, data["follow_ups"])
    return jsonify(channel=channel, follow_ups=data["follow_ups"])
