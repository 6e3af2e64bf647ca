"""What the web app's blueprints share: the app's Runtime, and the shape of an error."""

from __future__ import annotations

from flask import current_app, jsonify

from hub.runtime import Runtime


def runtime() -> Runtime:
    """The Runtime the app factory (hub/app.py) made this app with."""
    return current_app.config["MORNINGAI"]


def error(message: str, status: int = 400):
    """Every error of ours: JSON with one message that says what to fix."""
    return jsonify(error=message), status
