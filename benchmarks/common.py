"""Shared helpers for benchmark scripts: cached synthetic cities and child-process measurement."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "_work"
CLI = [sys.executable, "-m", "pipelines.cli"]


def generator_version() -> str:
    """A digest of the generator's code: a cached city is made again when the generator changes."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "pipelines" / "synth").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def city(households: int, seed: int) -> Path:
    """Generate (once per generator version) and return a synthetic city folder."""
    folder = WORK / f"city-{households}-s{seed}-{generator_version()}"
    if not (folder / "truth" / "summary.json").exists():
        subprocess.run([*CLI, "synth", "--households", str(households), "--seed", str(seed),
                        "--out", str(folder)], check=True)
    return folder


def measure(command: list[str]) -> tuple[float, float]:
    """Run a command as a child process; return (wall seconds, peak RSS in MiB of the child)."""
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024


def measure_tree(command: list[str], every: float = 0.1) -> tuple[float, float, float]:
    """Run a command; return (wall seconds, peak MiB of the summed RSS of it and every process
    it started, peak MiB of their summed PSS), sampled every `every` seconds: worker processes
    run side by side. RSS counts the pages processes share (the libraries of a forkserver's
    children) once in each; PSS splits them between the sharers, so its sum is the memory the
    run holds."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(command)
    parent = psutil.Process(child.pid)
    peak = peak_pss = 0
    sample = 0
    while child.poll() is None:
        # PSS reads every mapping of every process: once a second, RSS ten times as often
        full = sample % 10 == 0
        sample += 1
        total = total_pss = 0
        parts: list[str] = []
        with contextlib.suppress(psutil.Error):
            for proc in [parent, *parent.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    if full:
                        info = proc.memory_full_info()
                        total_pss += info.pss
                        parts.append(f"{proc.pid}:{info.pss / 2**20:,.0f}")
                    else:
                        info = proc.memory_info()
                    total += info.rss
        peak = max(peak, total)
        if total_pss > peak_pss:
            peak_pss = total_pss
            at = f"{time.perf_counter() - started:.0f} s: " + " ".join(parts)
        time.sleep(every)
    if peak_pss:
        print(f"peak PSS {peak_pss / 2**20:,.0f} MiB at {at} (pid:MiB)", file=sys.stderr)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"benchmark command failed ({child.returncode}): {' '.join(command)}")
    return wall, peak / 2**20, peak_pss / 2**20


def machine() -> str:
    """One line describing the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


_ = resource  # ru_maxrss of children is read through os.wait4 above
