"""The memory budget of a stage (config/audit.yaml `resources.memory_limit`, default 6GB).

Inside `budget(stage, resources)` (every stage of stages.py runs in one):
- the process may map at most twice the budget for data (the soft RLIMIT_DATA: heap and
  private mappings, which allocators reserve well beyond what they touch: a 1,000,000-household
  roll's ingest reached a 6 GB data limit at 3.5 GB resident), so a stage that outgrows it gets
  a MemoryError instead of the kernel's OOM killer;
- DuckDB connections made with `connect(work)` may use half of it (`memory_limit`) and spill
  beyond that to a folder in the run's work folder (removed with it), leaving the other half
  for the stage's own frames;
- running out of either becomes an InputError naming the stage and the budget: exit 2 and the
  usual failure report, never a killed process.
"""

from __future__ import annotations

import logging
import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from pyarrow import ArrowException

from pipelines.config import ResourcesConfig
from pipelines.errors import InputError
from pipelines.io import duck

log = logging.getLogger(__name__)

SPILL = "duckdb-spill"  # inside the work folder
_LIMIT = resource.RLIMIT_DATA
DATA_FACTOR = 2  # data the process may map, per byte of budget (see above)


def duckdb_limit(resources: ResourcesConfig) -> int:
    """Bytes DuckDB may use in one stage: half of the budget."""
    return resources.memory_bytes() // 2


def connect(work: Path, resources: ResourcesConfig) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB held to the stage's share of the budget, spilling into the work
    folder (or `resources.temp_directory`)."""
    spill = Path(resources.temp_directory) if resources.temp_directory else Path(work) / SPILL
    # one folder per process: DuckDB instances sharing a temp directory may clash on its
    # file names (duckdb/duckdb#15173)
    spill = spill / f"p{os.getpid()}"
    spill.mkdir(parents=True, exist_ok=True)
    con = duck.connect()
    con.execute(f"SET memory_limit = '{duckdb_limit(resources)}B'")
    quoted = str(spill).replace("'", "''")
    con.execute(f"SET temp_directory = '{quoted}'")
    return con


# what running out looks like besides MemoryError: a thread whose stack cannot be mapped
_SYMPTOMS = ("Resource temporarily unavailable", "can't start new thread",
             "Failed to allocate", "std::bad_alloc")


def _out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError | duckdb.OutOfMemoryException):
        return True
    return isinstance(exc, RuntimeError | OSError | ArrowException) and any(
        s in str(exc) for s in _SYMPTOMS)


@contextmanager
def budget(stage: str, resources: ResourcesConfig) -> Iterator[None]:
    """Hold the stage to the memory budget; running out raises InputError (exit 2)."""
    limit = DATA_FACTOR * resources.memory_bytes()
    soft, hard = resource.getrlimit(_LIMIT)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    lowered = soft == resource.RLIM_INFINITY or wanted < soft
    if lowered:
        resource.setrlimit(_LIMIT, (wanted, hard))
    try:
        yield
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        if lowered:
            resource.setrlimit(_LIMIT, (soft, hard))
            lowered = False
        what = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
        raise InputError(
            f"stage {stage} needs more memory than the budget of {resources.memory_limit} "
            f"(resources.memory_limit; DuckDB may use half of it and spills to disk beyond "
            f"that); the process held {peak:,.0f} MiB at most when it ran out ({what}). Give "
            "the run a larger budget with --config (resources: {memory_limit: 12GB}) on a "
            "machine that has it.") from None
    finally:
        if lowered:
            resource.setrlimit(_LIMIT, (soft, hard))
