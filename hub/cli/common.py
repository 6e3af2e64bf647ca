"""What every `morningai` command shares: where it prints, how it fails, how it names itself.
Only light imports here: every command, the fastest included, starts by importing this."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from rich.console import Console

out = Console(soft_wrap=True)  # a long line stays one line when piped to a script
err = Console(stderr=True, soft_wrap=True)


class CommandError(Exception):
    """Ends the command with one line on stderr and exit code 1."""


class InputError(CommandError):
    """What the user typed is wrong: one line naming it on stderr, and exit code 2."""


def _this_command() -> str:
    """How the user can run `morningai` from where they are (it may not be on PATH)."""
    if shutil.which("morningai"):
        return "morningai"
    return os.path.relpath(Path(sys.executable).parent / "morningai")


def _jsonable(row: dict) -> dict:
    return json.loads(json.dumps(row, default=str))
