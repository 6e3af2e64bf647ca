"""A source's credentials (a token, an email and API token), sealed at rest with a key derived
from MORNINGAI_SECRET_KEY; opened only by the worker that syncs the source."""

from __future__ import annotations

import json
from typing import Any

from core.config import Settings
from core.crypto import SecretBox

PURPOSE = "source credentials"


def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_key, PURPOSE, settings.previous_secret_key)


def seal(settings: Settings, credentials: dict[str, Any]) -> bytes | None:
    return box(settings).seal(json.dumps(credentials)) if credentials else None


def open_sealed(settings: Settings, sealed: bytes | None) -> dict[str, Any]:
    return json.loads(box(settings).open(sealed)) if sealed else {}
