"""The rooms' import rules (pyproject.toml's import-linter contracts; README: Architecture)."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PACKAGES = ("core", "adapters", "tasks", "memory", "agents", "worker", "hub")
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def _lint(root: Path) -> subprocess.CompletedProcess:
    # A fresh interpreter in `root`, so the packages it reads are the ones there.
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


def test_every_import_keeps_to_the_rooms():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_worker_importing_an_adapter_is_caught(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    jobs = tmp_path / "worker" / "jobs.py"
    jobs.write_text(jobs.read_text() + "\nfrom adapters.slack.poster import SlackPoster  # noqa\n")

    run = _lint(tmp_path)

    assert run.returncode == 1
    assert "worker is not allowed to import adapters" in run.stdout
    assert "worker.jobs -> adapters.slack.poster" in run.stdout


def test_test_modules_have_names_of_their_own():
    # pytest imports test files by their base name ("rootdir" layout, no packages): two folders
    # holding test_x.py stop the whole run at collection, which `make test-fast` (no e2e) misses.
    names: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
