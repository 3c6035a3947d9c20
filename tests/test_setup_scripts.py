"""The set-up scripts: what they tell a person when the machine gets in the way."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body, encoding="utf-8")
    path.chmod(0o755)


def test_apt_waits_for_another_apt_then_says_what_to_do(tmp_path: Path) -> None:
    """Another apt holding the lock: apt is told to wait for it (bounded), and when it still
    fails the script says plainly what to do, not only apt's own message."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    _fake(bin_dir, "dpkg-query", "exit 1\n")  # nothing installed
    _fake(bin_dir, "apt-get", f'echo "$@" >> {calls}\n'
          'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2\nexit 100\n')
    _fake(bin_dir, "sudo", 'exec "$@"\n')
    _fake(bin_dir, "id", "echo 1000\n")  # not root: through sudo, as on a workstation
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOCK_WAIT": "7"}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "system-packages.sh"), "runtime"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "-o DPkg::Lock::Timeout=7 update" in calls.read_text(encoding="utf-8")
    assert "wait for it to finish and run this again" in done.stderr
    assert "sudo apt-get install fonts-noto-cjk" in done.stderr


def test_setup_says_how_to_call_the_command() -> None:
    text = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert ".venv/bin/dibao-audit --help" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`.venv/bin/dibao-audit`" in readme.split("## What it does")[0]
