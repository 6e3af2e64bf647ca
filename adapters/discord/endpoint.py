"""`POST /discord/interactions`: Discord's HTTP way of delivering interactions, for hubs that
run no gateway process. Every request is verified (Ed25519 over timestamp + raw body) before
anything is read from it; Discord probes with bad signatures and drops endpoints that accept them."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

from flask import Blueprint, jsonify, request
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import VerifyKey

from adapters.discord import envelope
from adapters.discord.interactions import BadInteraction, Hub, Replayed, accept, parse
from core.refusals import Refused

# A signed request older (or newer) than this is refused, so a captured one cannot be replayed
# later; Discord sends interactions as they happen.
MAX_CLOCK_SKEW = 300
# Where the blueprint below answers: the Interactions Endpoint URL the Developer Portal is given
# is the hub's public URL followed by this.
PATH = "/discord/interactions"


def verify(key: VerifyKey, signature: str, timestamp: str, body: bytes) -> bool:
    try:
        key.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (BadSignatureError, NaclValueError, ValueError):
        return False
    return True


@lru_cache(maxsize=4)
def _verify_key(public_key: str) -> VerifyKey:
    return VerifyKey(bytes.fromhex(public_key))


def blueprint(hub: Hub, public_key: Callable[[], str | None]) -> Blueprint:
    """The endpoint, verifying with the application's public key in force (`public_key()`,
    asked on each request: an admin may set or change it while the hub runs)."""
    bp = Blueprint("discord", __name__, url_prefix="/discord")

    @bp.post("/interactions")
    def interactions():
        current = public_key()
        if not current:
            return jsonify(error="Discord interactions are not configured here: set DISCORD_PUBLIC_KEY"), 404
        key = _verify_key(current)
        signature = request.headers.get("X-Signature-Ed25519", "")
        timestamp = request.headers.get("X-Signature-Timestamp", "")
        body = request.get_data(cache=False)
        if not verify(key, signature, timestamp, body):
            raise Refused("bad_signature", 401, "invalid request signature")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW:
            raise Refused("bad_signature", 401, f"X-Signature-Timestamp is more than {MAX_CLOCK_SKEW}s away from now")
        payload = envelope.check(body)
        try:
            interaction = parse(payload)
        except BadInteraction as exc:  # of a handled shape, but not one of our commands or buttons
            raise Refused("unknown_type", 400, f"{envelope.SAYING}{exc}") from None
        try:
            return jsonify(accept(hub, interaction))
        except Replayed as exc:
            return jsonify(error=str(exc)), 409
        except BadInteraction as exc:  # ours, but not answerable: a command without its text
            raise Refused("bad_envelope", 400, f"{envelope.SAYING}{exc}") from None

    return bp
