"""In production mode the commands refuse unsafe settings before they start anything."""

import subprocess
import sys

from conftest import ROOT


def test_the_commands_refuse_before_starting_anything(clean_env, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "MORNINGAI_HOME": str(tmp_path),
           "MORNINGAI_ENV": "production"}
    for command in (["web", "--host", "0.0.0.0"], ["worker"], ["migrate"]):
        run = subprocess.run([sys.executable, "-m", "hub", *command], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 2, run.stderr
        lines = run.stderr.splitlines()
        assert [line.split(" must ")[0] for line in lines] == [
            "configuration error: MORNINGAI_SECRET_KEY", "configuration error: DATABASE_URL",
            "configuration error: REDIS_URL"]
        assert not (tmp_path / "postgres").exists() and not (tmp_path / "redis").exists()
