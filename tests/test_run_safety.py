"""What a killed or doubled run leaves: no folders of personal data from a dead process, a
private work folder, and one run per output folder at a time."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.io.output import OutputBusy, output_lock
from pipelines.run import audit, stages

AS_OF = "2026-10-31"
HOLD = """
import sys
from pathlib import Path
from pipelines.io.output import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_killed_runs_folders_are_removed_by_the_next_run(minimal_input: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = _dead_pid()
    leftovers = [out / f".{AS_OF}.work.staging-{dead}-abc123",   # killed mid-run
                 out / f".2026-09-30.staging-{dead}-x9",          # another date's, killed
                 out / f".{AS_OF}.old-{dead}"]                    # killed while moving
    alive = out / f".2026-09-30.staging-{os.getppid()}-running"  # a run still going
    for folder in [*leftovers, alive]:
        folder.mkdir(parents=True)
        (folder / "norm_roll.parquet").write_bytes(b"personal data")
    assert main(["run", "--input", str(minimal_input), "--output", str(out / AS_OF),
                 "--as-of", AS_OF]) == 0
    assert [p for p in leftovers if p.exists()] == []
    assert alive.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([AS_OF, alive.name,
                                                            "warehouse.duckdb"])


def test_the_work_folder_is_private(minimal_input: Path, tmp_path: Path) -> None:
    from pipelines.run import stages

    work = tmp_path / "dag" / ".work" / AS_OF
    old = os.umask(0o022)
    try:
        stages.discover(minimal_input, work, AS_OF)
    finally:
        os.umask(old)
    assert stat.S_IMODE(work.stat().st_mode) == 0o700


def test_a_second_run_on_the_same_output_is_refused_plainly(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / AS_OF
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code = main(["run", "--input", str(minimal_input), "--output", str(target),
                     "--as-of", AS_OF])
        err = capsys.readouterr().err
        assert code == 2
        assert f"another run is writing {target} (run pid {holder.pid} since " in err, err
        assert not target.exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not (target.parent / f".{AS_OF}.lock").exists()
    assert main(["run", "--input", str(minimal_input), "--output", str(target),
                 "--as-of", AS_OF]) == 0


def test_the_lock_is_reentrant_in_one_process_and_exclusive_across(tmp_path: Path) -> None:
    target = tmp_path / AS_OF
    with output_lock(target), output_lock(target):
        assert (tmp_path / f".{AS_OF}.lock").read_text(encoding="utf-8").startswith(
            f"run pid {os.getpid()} since ")
    assert not (tmp_path / f".{AS_OF}.lock").exists()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputBusy), output_lock(target):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_budget_too_small_stops_with_exit_2_and_leaves_no_personal_data(
        minimal_input: Path, tmp_path: Path) -> None:
    # as users run it: its own process (the limit is the process's)
    small = tmp_path / "small.yaml"
    small.write_text("resources:\n  memory_limit: 100MB\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--input",
                           str(minimal_input), "--output", str(out / AS_OF), "--as-of", AS_OF,
                           "--config", str(small)], capture_output=True, text=True, check=False)
    message = done.stderr
    assert done.returncode == 2, message[-2000:]
    assert "needs more memory than the budget of 100MB" in message
    assert "stage ingest" in message and "resources" in message
    # the failure report only: no output, no work or spill folder
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert left == ["_failed", f"_failed/{AS_OF}.json"], left
    # the same input with the default budget runs
    assert main(["run", "--input", str(minimal_input), "--output", str(out / AS_OF),
                 "--as-of", AS_OF]) == 0


def test_sizes_are_read_like_duckdb_writes_them() -> None:
    from pipelines.config import parse_size

    assert parse_size("6GB") == 6_000_000_000 and parse_size("512 MiB") == 512 * 2**20
    with pytest.raises(ValueError, match="not a size"):
        parse_size("six gigs")


def _killed_by_the_system(item: str, work: Path) -> str:
    """A stage whose process the kernel kills (as its OOM killer would)."""
    os.kill(os.getpid(), signal.SIGKILL)
    return item


@pytest.mark.parametrize("through", ["each", "alone"])
def test_a_worker_killed_by_the_system_is_a_plain_exit_2_naming_the_stage(
        minimal_input: Path, tmp_path: Path, through: str) -> None:
    config = tmp_path / "workers.yaml"
    config.write_text("resources:\n  workers: 2\n", encoding="utf-8")
    work = tmp_path / "work"
    stages.discover(minimal_input, work, "2026-10-31", config)
    with pytest.raises(InputError) as raised:
        if through == "each":
            audit.each(_killed_by_the_system, ["roll", "standards"], work, "ingest")
        else:
            audit.alone(_killed_by_the_system, work, "roll", work)
    message = str(raised.value)
    stage = "ingest roll" if through == "each" else "killed by the system"
    assert message.startswith(f"{stage}: its worker process was killed by the system"), message
    assert "resources: {workers: 1}" in message and "6GB" in message, message
