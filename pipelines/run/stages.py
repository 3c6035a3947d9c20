"""The audit in task-sized stages: what the CLI runs in one process and the DAG task by task.

Each stage takes plain paths and strings, reads its inputs from the run's work folder (see
workdir.py) and writes its results there, returning paths (JSON-serialisable, for XCom). A stage
replaces what it writes, so a retry or a re-run gives the same files. Order:

    discover -> ingest_one (per dataset) -> validate_all -> link_roll -> link_piece (per
    dataset or partition in link_pieces()) -> merge_links -> apply_rules_stage -> publish
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
import yaml

from pipelines.errors import InputError
from pipelines.ingest.dataset import check_headers, find_inputs, ingest_dataset
from pipelines.io.audit_xlsx import write_audit_workbook
from pipelines.io.duck import dump_tables, stage_tables, view_parquet
from pipelines.io.output import move_into_place, output_lock, staging_dir
from pipelines.io.warehouse import Warehouse, describe, open_warehouse, resolve_url
from pipelines.link import linker, probability
from pipelines.outputs import history
from pipelines.outputs.evidence import build_review_bundle
from pipelines.outputs.manifest import (
    build_manifest,
    ingest_facts,
    write_quarantine_rows,
    write_quarantine_summary,
)
from pipelines.outputs.overdue import write_overdue
from pipelines.rules import decisions
from pipelines.rules.runner import apply_rules, column_notes, rule_checks
from pipelines.run import budget, settings
from pipelines.run.workdir import (
    load_parquet,
    read_frame,
    read_json,
    record_time,
    save_table,
    write_frame,
    write_json,
)
from pipelines.sql import materialise
from pipelines.validate.quality import (
    ExpectationOutcome,
    columns_needed,
    raise_on_critical,
    validate,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def _budgeted(name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a stage within the run's memory budget (budget.py): `name` may name the stage's
    `dataset` argument ('ingest {dataset}')."""
    def wrap(stage: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(stage)

        @functools.wraps(stage)
        def run(*args: Any, **kwargs: Any) -> T:
            given = signature.bind(*args, **kwargs).arguments
            resources = settings.of_run(given["work_dir"]).audit.resources
            with budget.budget(name.format_map(given), resources):
                return stage(*args, **kwargs)
        return run
    return wrap


def connect(work: Path) -> Any:
    """The stage's DuckDB, held to its share of the run's memory budget."""
    return budget.connect(work, settings.of_run(work).audit.resources)

PREPARED = ("roll_people", "name_frequency", "roll_counts", "rp_variants")
RESULTS = ("findings", "findings_remove_list", "findings_add_list", "findings_checks",
           "findings_review_members", "findings_review_evidence", "findings_review_staff",
           "findings_review_profile",
           "rules_decisions",
           "history_households", "history_members")
# result table -> file of the review bundle in the output folder (pipelines/evidence.py)
REVIEW_FILES = {"findings_review_members": "members.parquet",
                "findings_review_evidence": "evidence.parquet",
                "findings_review_staff": "staff.parquet",
                "findings_review_profile": "roll_profile.parquet"}


def _plan(work_dir: Path) -> dict[str, Any]:
    plan = work_dir / "run.json"
    if not plan.exists():
        raise FileNotFoundError(f"{plan} is missing: the run's work folder was not prepared "
                                "(run the whole audit again from its first stage)")
    result: dict[str, Any] = read_json(plan)
    return result


def datasets(work_dir: str | Path) -> list[str]:
    """The datasets present in this run's input, in file order."""
    return list(_plan(Path(work_dir))["files"])


def discover(input_dir: str | Path, work_dir: str | Path, as_of: str,
             config_file: str | Path | None = None, review_database: str | None = None
             ) -> list[str]:
    """Start a run: check the input folder, begin a fresh work folder; the datasets present.

    Raises InputError when a required dataset is missing (or a dataset comes in two files).
    """
    work = Path(work_dir)
    run_settings = settings.load(config_file)  # every section checked before any data is read
    config = run_settings.audit
    found, ignored = find_inputs(Path(input_dir), config)
    check_headers(found, config)
    for name in ignored:
        log.info("ignored file %s (not a dataset of the contract)", name)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)  # it holds personal data: for this user only
    work.chmod(0o700)
    write_json(work / "run.json", {
        "as_of": dt.date.fromisoformat(as_of).isoformat(), "input_dir": str(input_dir),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {d: str(p) for d, p in found.items()}, "ignored_files": ignored})
    settings.save(run_settings, work)
    # decisions as they stand when the run starts (contract §6)
    decisions.capture(work, review_database)
    return list(found)


@_budgeted("ingest {dataset}")
def ingest_one(dataset: str, work_dir: str | Path) -> str:
    """Read, type, normalise and quarantine one dataset; the path of norm_<dataset>.parquet."""
    started = time.perf_counter()
    work = Path(work_dir)
    path = Path(_plan(work)["files"][dataset])
    config = settings.of_run(work).audit
    target = work / f"norm_{dataset}.parquet"
    result = ingest_dataset(dataset, path, config, target)
    if dataset in config.linked():
        _partition(work, dataset, result.loaded_rows, config.resources.partition_records)
    write_quarantine_rows(result, work / "quality")
    write_json(work / f"ingest_{dataset}.json", ingest_facts(result))
    record_time(work, "ingest", dataset, time.perf_counter() - started)
    return str(target)


def _facts(work: Path) -> dict[str, dict[str, Any]]:
    return {d: read_json(work / f"ingest_{d}.json") for d in datasets(work)}


@_budgeted("validate")
def validate_all(work_dir: str | Path, as_of: str) -> str:
    """Run the expectations on every ingested dataset; the path of the quality folder.

    Raises InputError naming every failed critical expectation (the CLI's message).
    """
    started = time.perf_counter()
    work = Path(work_dir)
    config = settings.of_run(work).audit
    facts = _facts(work)
    # only the columns the suites read: reading whole tables back costs seconds at city scale
    # and one dataset at a time (all at once held 3 GB at 1,000,000 households)
    frames = {d: functools.partial(read_frame, work / f"norm_{d}.parquet", columns_needed(d))
              for d in facts}
    quality = work / "quality"
    outcomes = validate(frames, dt.date.fromisoformat(as_of), config, quality)
    write_quarantine_summary(facts, quality)
    record_time(work, "validate", "all", time.perf_counter() - started)
    raise_on_critical(outcomes, {d: f["file"] for d, f in facts.items()})
    return str(quality)


def _load_norm(con: Any, work: Path, names: list[str] | None = None) -> dict[str, int]:
    wanted = names if names is not None else datasets(work)
    return {f"norm_{d}": load_parquet(con, f"norm_{d}", work / f"norm_{d}.parquet")
            for d in sorted(wanted)}


def _view_norm(con: Any, work: Path, names: list[str]) -> None:
    """norm_ tables as views over their files (io.duck.view_parquet)."""
    for dataset in names:
        view_parquet(con, f"norm_{dataset}", work / f"norm_{dataset}.parquet")


@_budgeted("link roll")
def link_roll(work_dir: str | Path) -> str:
    """Prepare the roll's people once: roll_people, name frequencies, ID variants, the roll
    linked with itself and its persons merged. The path of roll_people.parquet."""
    started = time.perf_counter()
    work = Path(work_dir)
    params = settings.of_run(work).params
    con = connect(work)
    _load_norm(con, work, ["roll"])
    _view_norm(con, work, [d for d in datasets(work) if d != "roll"])  # only their names count
    linker.prepare(con, settings.of_run(work).audit.linked())
    stats = linker.link_dataset(con, "roll", params, linker.population(con, params))
    merged = linker.merge_roll_persons(con)
    if merged:
        log.info("roll: %d rows with a damaged ID joined to the same person elsewhere", merged)
    for name in PREPARED:
        save_table(con, name, work / f"{name}.parquet")
    write_json(work / PIECES, _pieces(work))
    save_table(con, "links_roll", work / "links_roll.parquet")
    write_json(work / "links_roll.json", asdict(stats))
    record_time(work, "link_roll", "all", time.perf_counter() - started)
    return str(work / "roll_people.parquet")


def linkable(work_dir: str | Path) -> list[str]:
    """The evidence datasets of this run that link to the roll, in the linker's order."""
    present = {f"norm_{d}" for d in datasets(work_dir)}
    linked = settings.of_run(work_dir).audit.linked()
    return [d for d, spec in linked.items()
            if all(f"norm_{t}" in present for t in (d, *spec.also))]


#: the pieces link_piece links, written by link_roll: a dataset, or one partition of it
PIECES = "link_pieces.json"


def _split(piece: str) -> tuple[str, int | None]:
    """'vehicles' -> ('vehicles', None); 'vehicles#1' -> ('vehicles', 1)."""
    dataset, _, part = piece.partition("#")
    return dataset, (int(part) if part else None)


def _partition(work: Path, dataset: str, records: int, per_part: int) -> None:
    """Split an evidence dataset of more than `per_part` records into partitions, Parquet files
    by a hash of the row (`COPY ... PARTITION_BY`), for link_piece; note how many."""
    parts = max(1, -(-records // per_part))
    folder = work / "parts" / dataset
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if parts > 1:
        norm = work / f"norm_{dataset}.parquet"
        source = norm.as_posix().replace("'", "''")
        target = folder.as_posix().replace("'", "''")
        # by the record's key as the link SQL makes it (sql/link/located_*.sql): rows that
        # repeat a record_id are one record, in one partition
        key = ("coalesce(record_id, 'row:' || _row)" if "record_id" in pq.read_schema(norm).names
               else "_row")
        connect(work).execute(
            f"COPY (SELECT *, hash({key}) % {parts} AS part FROM read_parquet('{source}')) "
            f"TO '{target}' (FORMAT parquet, PARTITION_BY (part), OVERWRITE)").fetchall()
        log.info("%s: %d records split into %d partitions for linking", dataset, records, parts)
    write_json(folder / "partitions.json", {"records": records, "partitions": parts})


def _pieces(work: Path) -> list[str]:
    """Every linkable dataset, or each of its partitions ('vehicles#0', 'vehicles#1')."""
    pieces: list[str] = []
    for dataset in linkable(work):
        facts = work / "parts" / dataset / "partitions.json"
        parts = int(read_json(facts)["partitions"]) if facts.exists() else 1
        pieces.extend([dataset] if parts == 1 else [f"{dataset}#{i}" for i in range(parts)])
    return pieces


def piece_records(work_dir: str | Path, piece: str) -> int:
    """About how many records a piece holds (for scheduling the largest first)."""
    dataset, part = _split(piece)
    facts = Path(work_dir) / "parts" / dataset / "partitions.json"
    if not facts.exists():
        return 0
    split = read_json(facts)
    return int(split["records"]) // (1 if part is None else int(split["partitions"]))


def link_pieces(work_dir: str | Path) -> list[str]:
    """What link_piece links in this run, in the linker's order (link_roll decides)."""
    pieces: list[str] = read_json(Path(work_dir) / PIECES)
    return pieces


def _piece_files(work: Path, piece: str) -> tuple[Path, Path]:
    label = piece.replace("#", ".")
    return work / "parts" / f"pairs_{label}.parquet", work / "parts" / f"part_{label}.json"


@_budgeted("link {piece}")
def link_piece(piece: str, work_dir: str | Path) -> str:
    """Link one evidence dataset, or one partition of it ('vehicles#1'), to the prepared roll:
    its records' decisions, before the match probabilities merge_links measures over the whole
    dataset. The path of its pairs file."""
    started = time.perf_counter()
    work = Path(work_dir)
    dataset, part = _split(piece)
    params = settings.of_run(work).params
    con = connect(work)
    spec = settings.of_run(work).audit.linked()[dataset]
    # the records are read once (into the evidence table): views over their files
    _view_norm(con, work, [*spec.also, *([dataset] if part is None else [])])
    if part is not None:
        files = (work / "parts" / dataset).as_posix().replace("'", "''") + "/*/*.parquet"
        con.execute(f'CREATE OR REPLACE VIEW "norm_{dataset}" AS SELECT * EXCLUDE (part) '
                    f"FROM read_parquet('{files}', hive_partitioning = true) "
                    f"WHERE part = {part} ORDER BY _row").fetchall()
    for name in PREPARED:  # the roll's people are joined in every pass: a table
        (load_parquet if name == "roll_people" else view_parquet)(
            con, name, work / f"{name}.parquet")
    result = linker.link_part(con, dataset, params, linker.population(con, params), spec)
    pairs_file, facts_file = _piece_files(work, piece)
    pairs_file.parent.mkdir(parents=True, exist_ok=True)
    write_frame(pairs_file, result.pairs)
    write_json(facts_file, {
        "stats": asdict(result.stats), "seen": linker.seen_names(con),
        "pass_keys": result.pass_keys,
        "counts": None if result.counts is None else result.counts.to_json()})
    seconds = time.perf_counter() - started
    log.info("linked %s: %d records, %d candidate pairs (%.1fs)", piece, result.stats.records,
             result.stats.pairs, seconds)
    record_time(work, "link", piece.replace("#", "."), seconds)
    return str(pairs_file)


@_budgeted("merge links")
def merge_links(work_dir: str | Path) -> list[str]:
    """Merge the linked pieces of every dataset: match probabilities measured over all of a
    dataset's records, links_<dataset>.parquet and .json. The paths of the links files."""
    started = time.perf_counter()
    work = Path(work_dir)
    params = settings.of_run(work).params
    by_dataset: dict[str, list[str]] = {}
    for piece in link_pieces(work):
        by_dataset.setdefault(_split(piece)[0], []).append(piece)
    written: list[str] = []
    for dataset, pieces in by_dataset.items():
        parts: list[linker.LinkPart] = []
        seen = 1.0
        for piece in pieces:
            pairs_file, facts_file = _piece_files(work, piece)
            facts = read_json(facts_file)
            seen = float(facts["seen"])
            counts = facts["counts"]
            parts.append(linker.LinkPart(
                linker.LinkStats(**facts["stats"]),
                None if counts is None else probability.Counts.from_json(counts),
                read_frame(pairs_file), facts["pass_keys"]))
        table, stats = linker.finish(dataset, parts, params, seen)
        target = work / f"links_{dataset}.parquet"
        pq.write_table(table, target)
        write_json(work / f"links_{dataset}.json", asdict(stats))
        log.info("linked %s: %d records in %d piece(s), %d candidate pairs, %d links "
                 "(%d ambiguous)", dataset, stats.records, len(pieces), stats.pairs,
                 stats.links, stats.ambiguous_records)
        written.append(str(target))
    record_time(work, "link", "merge", time.perf_counter() - started)
    return written


def _load_linked(con: Any, work: Path) -> None:
    """The rules stage's inputs: the norm_ tables (the registers as views), the roll's people,
    every dataset's links."""
    _load_norm(con, work, ["roll"])
    _view_norm(con, work, [d for d in datasets(work) if d != "roll"])
    load_parquet(con, "roll_people", work / "roll_people.parquet")
    parts = [work / f"links_{d}.parquet" for d in ["roll", *linkable(work)]]
    missing = [p.name for p in parts if not p.exists()]
    if missing:
        raise FileNotFoundError(f"links missing from {work}: {', '.join(missing)}")
    materialise(con, "rules", "links", params={"paths": [p.as_posix() for p in parts]})


@_budgeted("rules")
def apply_rules_stage(work_dir: str | Path, as_of: str,
                      debug_dir: str | Path | None = None) -> str:
    """Apply the finding rules to the linked roll; the path of findings.parquet.

    Also builds the review bundle and the history snapshot (both from the findings). With
    `debug_dir`, every stage table is also written there as Parquet.
    """
    started = time.perf_counter()
    work = Path(work_dir)
    run_settings = settings.of_run(work)
    con = connect(work)
    _load_linked(con, work)
    decisions.load(con, work)
    without = column_notes(run_settings.audit, _facts(work))
    apply_rules(con, dt.date.fromisoformat(as_of), run_settings.rules, without)
    build_review_bundle(con, run_settings.audit, dt.date.fromisoformat(as_of))
    history.build_snapshot(con)
    for name in RESULTS:
        save_table(con, name, work / f"{name}.parquet")
    if debug_dir is not None:
        dump_tables(con, stage_tables(con), Path(debug_dir))
    record_time(work, "rules", "all", time.perf_counter() - started)
    return str(work / "findings.parquet")


def _write_files(con: Any, store: Warehouse, as_of: dt.date, work: Path, stage: Path
                 ) -> tuple[dict[str, int], dict[str, Any]]:
    """The audit's files into `stage`: findings and lists, the review bundle, changes and
    summaries, overdue.csv, 审核结果.xlsx, the quality folder. (Counts per code, what the changes compared with.)"""
    from pipelines.rules.findings import write_outputs

    counts = write_outputs(con, stage)
    (stage / "review").mkdir()
    for table, filename in REVIEW_FILES.items():
        save_table(con, table, stage / "review" / filename)
    compared = history.compare_and_write(con, store, as_of, stage)
    compared["overdue"] = write_overdue(con, store, as_of, stage,
                                        settings.of_run(work).audit.accountability)
    # the same lists for the office, in Chinese (read from the CSVs just written)
    write_audit_workbook(stage, as_of, settings.of_run(work).rules.severity_weights)
    shutil.copytree(work / "quality", stage / "quality")
    return counts, compared


def _write_manifest(con: Any, work: Path, target: Path, stage: Path, url: str,
                    counts: dict[str, int], compared: dict[str, Any]) -> None:
    """manifest.json and config.effective.yaml into `stage`."""
    run_settings = settings.of_run(work)
    facts = _facts(work)
    outcomes = [ExpectationOutcome(**o)
                for o in read_json(work / "quality" / "validation.json")]
    manifest = build_manifest(work, target, run_settings.audit, facts, outcomes)
    manifest["tables"] = {f"norm_{d}": int(f["loaded_rows"]) for d, f in sorted(facts.items())}
    manifest["checks"] = rule_checks(con)
    manifest["findings"] = counts
    manifest["linkage"] = [read_json(work / f"links_{d}.json")
                           for d in ["roll", *linkable(work)]]
    (stage / "config.effective.yaml").write_text(
        yaml.safe_dump(run_settings.effective(), allow_unicode=True, sort_keys=True),
        encoding="utf-8")
    manifest["history"] = {"warehouse": describe(url), **compared}
    write_json(stage / "manifest.json", manifest)


@_budgeted("outputs")
def write_audit(work_dir: str | Path, output_dir: str | Path, warehouse: str | None = None
                ) -> str:
    """Write the output files, record the audit in the warehouse, and move the files into
    `output_dir` at once; remove the work folder.

    Returns the published folder. `output_dir` is replaced as a whole, so a re-run for the same
    date leaves exactly that run's files (and replaces that date in the warehouse). `warehouse`:
    a DuckDB file or PostgreSQL URL; default $DIBAO_WAREHOUSE, the configuration, else
    `<output_dir parent>/warehouse.duckdb`.
    """
    started = time.perf_counter()
    work, target = Path(work_dir), Path(output_dir)
    as_of = dt.date.fromisoformat(str(read_json(work / "run.json")["as_of"]))
    url = resolve_url(warehouse, settings.of_run(work).audit.warehouse.url, target)
    with output_lock(target), staging_dir(target) as stage, open_warehouse(url) as store:
        con = connect(work)
        for name in RESULTS:
            load_parquet(con, name, work / f"{name}.parquet")
        counts, compared = _write_files(con, store, as_of, work, stage)
        record_time(work, "outputs", "all", time.perf_counter() - started)
        _write_manifest(con, work, target, stage, url, counts, compared)
        # the warehouse last: a date is recorded only once its files are complete
        store.replace(as_of, history.history_tables(con, as_of, target))
        move_into_place(stage, target)
    shutil.rmtree(work, ignore_errors=True)
    log.info("audit published to %s", target)
    return str(target)


def record_failure(failed_dir: str | Path, as_of: str, exc: BaseException,
                   work_dir: str | Path | None = None, **details: Any) -> Path:
    """Write the failure report to <failed_dir>/<as_of>.json (never into the run's own folder),
    with the quality files so far beside it as <as_of>.quality/."""
    folder = Path(failed_dir)
    report: dict[str, Any] = {
        "as_of": as_of, "dataset": getattr(exc, "dataset", None),
        "file": getattr(exc, "file", None), "message": str(exc),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    report.update(details)
    path = write_json(folder / f"{as_of}.json", report)
    quality = Path(work_dir) / "quality" if work_dir is not None else None
    if quality is not None and quality.exists():
        target = folder / f"{as_of}.quality"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(quality, target)
    return path


__all__ = ["InputError", "apply_rules_stage", "datasets", "discover", "ingest_one", "link_piece",
           "link_pieces", "link_roll", "linkable", "merge_links", "record_failure",
           "validate_all", "write_audit"]
