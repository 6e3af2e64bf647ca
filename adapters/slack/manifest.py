"""The Slack app's manifest (manifest.yml beside this file) with a hub's public URL in every
URL Slack calls, and the link that opens Slack's "create an app from a manifest" page with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

SOURCE = Path(__file__).with_name("manifest.yml")
PLACEHOLDER = "https://YOUR-HUB.example.com"
# Slack's "Create New App" page (https://api.slack.com/apps?new_app=1, in Slack's guide to
# manifests) opens on its "From a manifest" step, filled in, when given the manifest as JSON.
CREATE_APP = "https://api.slack.com/apps?new_app=1&manifest_json="


def filled(public_url: str) -> tuple[str, dict[str, Any]]:
    """The manifest for a hub at `public_url` (no trailing slash): as YAML, keeping the file's
    comments on why each scope is asked for, and as the object it parses to."""
    text = SOURCE.read_text()
    # The file's opening comment tells how to fill it in by hand; this copy is filled in.
    body = text[text.index("display_information:"):]
    text = f"# MorningAI's Slack app for the hub at {public_url} (adapters/slack/manifest.yml)\n" \
           + body.replace(PLACEHOLDER, public_url)
    return text, yaml.safe_load(text)


def create_app_url(manifest: dict[str, Any]) -> str:
    return CREATE_APP + quote(json.dumps(manifest, separators=(",", ":")), safe="")
