"""The API tokens MCP clients connect with (hub/mcp/): list, create (the one time a token is
shown), revoke. Viewers may list; only admins create and revoke (hub/web/auth.py's guard)."""

from __future__ import annotations

import uuid

from flask import Blueprint, g, jsonify, request

from hub.admin import tokens
from hub.web import common

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")


@bp.get("")
def list_tokens():
    found = tokens.listing(common.runtime().db, request.args.get("workspace") or None)
    return jsonify(tokens=[token.to_json() for token in found])


@bp.post("")
def create_token():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return common.error('send JSON {"name": "Claude Code", "workspace": "default"}')
    try:
        token, record = tokens.create(common.runtime().db, body.get("workspace", "default"), body.get("name"),
                                      g.user.id)
    except tokens.TokenError as exc:
        return common.error(str(exc))
    # The only time the token is sent: it is not stored, so it cannot be shown again.
    return jsonify(token=token, **record.to_json()), 201


@bp.delete("/<uuid:token_id>")
def revoke_token(token_id: uuid.UUID):
    db = common.runtime().db
    if not tokens.revoke(db, token_id):
        found = tokens.get(db, token_id)
        if found is None:
            return common.error(f"no token with id {token_id}", 404)
        return common.error(f"token {found.prefix}… was already revoked on {found.revoked_at.isoformat()}", 409)
    return jsonify(tokens.get(db, token_id).to_json())
