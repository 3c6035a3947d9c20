"""Write outputs atomically: a staging folder beside the target, moved into place on success."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staging_dir(target: Path) -> Iterator[Path]:
    """A fresh private folder (0700) beside `target` (same file system), named with this
    process's id; removed if still there on exit. Folders a killed run left beside `target`
    (staging or moved-aside, of a process no longer alive, for any date) are removed first:
    they hold personal data."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-{os.getpid()}-",
                                  dir=target.parent))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:staging|old)-(?P<pid>\d+)(?:-.*)?")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def sweep_leftovers(target: Path) -> list[Path]:
    """Remove `.<name>.staging-<pid>-*` and `.<name>.old-<pid>` folders beside `target` (of
    any name: a killed run of another date left them too) whose process is gone; the folders
    removed."""
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.iterdir():
        match = _LEFTOVER.fullmatch(path.name)
        if not match or not path.is_dir():
            continue
        if _alive(int(match["pid"])):  # this process's own, or a run still going
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def move_into_place(stage: Path, target: Path) -> None:
    """Replace `target` with `stage`: the old folder is moved aside first, then removed."""
    old = None
    sweep_leftovers(target)
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    try:
        stage.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
