"""Write outputs atomically: a staging folder beside the target, moved into place on success;
one run at a time per output folder (`output_lock`)."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import ServiceUnavailable


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


# `.<name>.staging-<pid>-<random>` and `.<name>.old-<pid>`, where <name> is an output folder's
# name (an as-of date, or a date's `.work`) or the target's own
_LEFTOVER = re.compile(r"\.(?P<name>.+?)\.(?:staging|old)-(?P<pid>\d+)(?:-.*)?")
_DATE_NAME = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.work)?")


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
        if not match or not path.is_dir() or not (
                match["name"] == target.name or _DATE_NAME.fullmatch(match["name"])):
            continue
        if _alive(int(match["pid"])):  # this process's own, or a run still going
            continue
        # a process id of another container (a shared data folder) says nothing here: a run
        # writing that output holds its lock, whichever host or container it runs in
        output = target.parent / match["name"].removesuffix(".work")
        try:
            with output_lock(output):
                shutil.rmtree(path, ignore_errors=True)
        except OutputBusy:
            continue
        removed.append(path)
    return removed


def move_into_place(stage: Path, target: Path) -> None:
    """Replace `target` with `stage`: the old folder is moved aside first, then removed."""
    old = None
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


class OutputBusy(ServiceUnavailable):
    """Another run is writing the same output folder: try again when it has finished (the
    command line exits 2 saying so; an Airflow task retries later)."""


_HELD = threading.local()  # the output folders this thread holds (re-entrant per thread)


def _held() -> set[Path]:
    if not hasattr(_HELD, "targets"):
        _HELD.targets = set()
    held: set[Path] = _HELD.targets
    return held


@contextmanager
def output_lock(target: Path) -> Iterator[None]:
    """Hold the lock of output folder `target` (a file `.<name>.lock` beside it, holding the
    process id and start time, removed on release) or raise OutputBusy at once. Re-entrant
    within a process."""
    target = target.absolute()
    if target in _held():
        yield
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    while True:
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise OutputBusy(f"another run is writing {target} ({holder}); wait for it to "
                             "finish, then run again") from None
        try:  # the file we locked may have been removed by its last holder meanwhile
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"run pid {os.getpid()} since "
                 f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    handle.flush()
    _held().add(target)
    try:
        yield
    finally:
        _held().discard(target)
        path.unlink(missing_ok=True)
        handle.close()
