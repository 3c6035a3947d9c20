"""The audit run of `dibao-audit run`: the stages of stages.py, as the DAG runs them as tasks.

A small input runs them one after the other in this process. A large one (see `workers`) runs
the per-dataset stages (ingest, link pieces) in two worker processes side by side, the
validation beside the link, and every heavy stage in a fresh worker process of its own, so
that the memory it held is returned when it ends; this process only publishes. Intermediate tables go through a work folder beside
`--output` (removed at the end); outputs are written to a staging folder and moved into place
only when the run succeeds, so a failed run leaves nothing half-written in `--output`. The
failure report goes to `<output parent>/_failed/<as_of>.json`.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pipelines.errors import InputError
from pipelines.io.output import output_lock, staging_dir
from pipelines.progress import progress
from pipelines.run import stages
from pipelines.run.workdir import read_json

log = logging.getLogger(__name__)
T = TypeVar("T")


@contextmanager
def _step(name: str) -> Iterator[None]:
    log.info("step %s ...", name)
    yield
    log.info("step %s done", name)


def _child_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(message)s",
                        datefmt="%H:%M:%S")


#: Below this many bytes of input files, the per-dataset stages run in this process: starting
#: worker processes (about a second, importing the pipeline) costs more than they save.
PARALLEL_FROM = 20_000_000


def workers(work: Path) -> int:
    """Processes for the per-dataset stages: resources.workers when set; else one per CPU, at
    most 2, once the input files reach PARALLEL_FROM bytes (about 15,000 households)."""
    from pipelines.run import settings

    given = settings.of_run(work).audit.resources.workers
    if given:
        return given
    files = read_json(work / "run.json")["files"]
    size = sum(Path(p).stat().st_size for p in files.values() if Path(p).exists())
    return max(1, min(2, os.cpu_count() or 1)) if size >= PARALLEL_FROM else 1


def _pool(count: int) -> ProcessPoolExecutor:
    """Worker processes, a fresh one for every stage run in them: the memory a stage held goes
    back to the system when it ends, instead of staying mapped in a long-lived process."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.run.preload"])
    return ProcessPoolExecutor(count, mp_context=context, initializer=_child_logging,
                               initargs=(logging.getLogger().getEffectiveLevel(),),
                               max_tasks_per_child=1)


def alone(stage: Callable[..., T], work: Path, *args: Any) -> T:
    """Run `stage(*args)` in a worker process of its own when the run is large enough for
    worker processes (see `workers`), so that this process, which publishes the outputs, holds
    none of what the stage held; else here."""
    if workers(work) <= 1:
        return stage(*args)
    with _pool(1) as pool:
        try:
            return pool.submit(stage, *args).result()
        except BrokenProcessPool as exc:
            if exc.__cause__ is not None:  # a result that could not be read back: a bug
                raise
            raise _killed(stage.__name__.strip("_").replace("_", " "), work) from None


def _killed(what: str, work: Path) -> InputError:
    """The plain message for a worker process the system killed (the kernel's OOM killer):
    the pool breaks with no cause (a result that could not be read back has one)."""
    from pipelines.run import settings

    resources = settings.of_run(work).audit.resources
    return InputError(
        f"{what}: its worker process was killed by the system, most often for lack of memory "
        f"(each of the run's {workers(work)} worker processes may use the budget of "
        f"{resources.memory_limit}, resources.memory_limit): give the run fewer workers "
        "(resources: {workers: 1}) or a smaller budget, or run it on a machine with more memory")


def each(stage: Callable[[str, Path], str], items: Sequence[str], work: Path, desc: str,
         size: Callable[[str], float] | None = None, apart: bool = False) -> None:
    """Run `stage(item, work)` for every item, in `workers(work)` processes side by side (the
    DAG's mapped tasks, here), the largest by `size` first (so that no large one starts last
    and runs alone); with `apart`, the largest first and then the others smallest first, so
    that the two largest do not start side by side (ingest holds a whole file: the two largest
    together were the run's peak of memory). If any fails, the error of the first failing item
    in `items` order is raised once all have finished, so the message does not depend on
    timing."""
    count = workers(work)
    if count <= 1:
        for item in progress(items, desc=desc, unit="part"):
            stage(item, work)
        return
    order = sorted(items, key=size, reverse=True) if size is not None else list(items)
    if apart and order:
        order = [order[0], *reversed(order[1:])]
    with _pool(min(count, max(len(items), 1))) as pool:
        futures: dict[Future[str], str] = {pool.submit(stage, item, work): item
                                           for item in order}
        for _ in progress(as_completed(futures), desc=desc, unit="part", total=len(items)):
            pass
    failed = [(items.index(futures[f]), f.exception()) for f in futures if f.exception()]
    if failed:
        index, exc = min(failed, key=lambda pair: pair[0])
        if isinstance(exc, BrokenProcessPool) and exc.__cause__ is None:  # not a bug's
            raise _killed(f"{desc} {items[index]}", work) from None
        raise exc  # type: ignore[misc]


#: Peak memory of ingesting a file, per byte of it as CSV (measured at 1,000,000 households,
#: typed 250,000 rows at a time: property.csv 434 MB held 2.1 GB, roll.csv 361 MB 2.2 GB;
#: 4.5 and 4.3 GB when a file was typed whole)
INGEST_BYTES_PER_BYTE = 7


def _too_big_together(sizes: dict[str, float], work: Path) -> bool:
    """Would the two largest files, ingested side by side, hold more than one stage's memory
    budget? Then they are kept apart (each, `apart`), at some cost in time."""
    from pipelines.run import settings

    largest = sorted(sizes.values(), reverse=True)[:2]
    budget = settings.of_run(work).audit.resources.memory_bytes()
    return sum(largest) * INGEST_BYTES_PER_BYTE > budget


def _input_size(path: Path) -> float:
    """About how much work a file is to ingest, in bytes of CSV: a Parquet file's rows at about
    100 bytes each (it is several times smaller than the same rows as CSV)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return float(pq.ParquetFile(path).metadata.num_rows * 100)
    return float(path.stat().st_size)


def _validate_and_link(work: Path, day: str) -> None:
    """Validate, and link the datasets. With worker processes, the validation runs in one of its
    own beside the link (it takes one core for a while, the roll's link mostly one too); its
    verdict is awaited before anything else: a run whose input fails a critical expectation
    stops with that failure, as if it had been checked first."""
    if workers(work) <= 1:
        stages.validate_all(work, day)
        _link(work)
        return
    with _pool(1) as side:
        checked = side.submit(stages.validate_all, work, day)
        try:
            _link(work)
        except Exception:
            checked.result()  # the validation's failure, if any, is the one to report
            raise
        checked.result()


def _link(work: Path) -> None:
    alone(stages.link_roll, work, work)
    each(stages.link_piece, stages.link_pieces(work), work, "link",
         lambda piece: stages.piece_records(work, piece))
    alone(stages.merge_links, work, work)


def run_audit(input_dir: Path, output_dir: Path, as_of: dt.date, config_file: Path | None = None,
              debug_dir: Path | None = None, warehouse: str | None = None,
              review_database: str | None = None) -> dict[str, Any]:
    """Run the audit end to end and return the manifest. Raises InputError on unusable input.

    With `debug_dir`, every stage table is also written there as Parquet with its row count.
    `review_database`: the review app's database, whose decisions the audit reads (none: a
    decisions.csv in the input folder, if any).
    """
    day = as_of.isoformat()
    with output_lock(output_dir), \
            staging_dir(output_dir.with_name(f"{output_dir.name}.work")) as work:
        try:
            with _step("ingest"):
                found = stages.discover(input_dir, work, day, config_file, review_database)
                files = read_json(work / "run.json")["files"]
                sizes = {d: _input_size(Path(files[d])) for d in found}
                each(stages.ingest_one, found, work, "ingest", sizes.__getitem__,
                     apart=_too_big_together(sizes, work))
            with _step("validate and link"):
                _validate_and_link(work, day)
            with _step("rules"):
                alone(stages.apply_rules_stage, work, work, day, debug_dir)
            with _step("outputs"):
                published = stages.write_audit(work, output_dir, warehouse)
        except InputError as exc:  # at any stage: the report goes beside the output folder
            stages.record_failure(output_dir.parent / "_failed", day, exc, work)
            raise
    manifest: dict[str, Any] = read_json(Path(published) / "manifest.json")
    return manifest
