"""The task-sized stages the CLI and the DAG share: paths in, paths out, retries replace."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.errors import InputError
from pipelines.run import settings, stages
from tests.conftest import ROLL_HEADER, write_csv

AS_OF = "2026-10-31"


def test_stages_hand_over_named_parquet_files_and_publish(minimal_input: Path,
                                                          tmp_path: Path) -> None:
    work = tmp_path / "out" / ".work" / AS_OF
    assert stages.discover(minimal_input, work, AS_OF) == ["roll", "standards"]
    path = stages.ingest_one("roll", work)
    assert path == str(work / "norm_roll.parquet")
    json.dumps(path)  # XCom-safe
    first = Path(path).read_bytes()
    assert stages.ingest_one("roll", work) == path  # a retry replaces the same file
    assert Path(path).read_bytes() == first
    stages.ingest_one("standards", work)
    assert Path(stages.validate_all(work, AS_OF)) == work / "quality"
    assert Path(stages.link_roll(work)).name == "roll_people.parquet"
    assert (work / "links_roll.parquet").exists()
    assert stages.linkable(work) == []
    assert Path(stages.apply_rules_stage(work, AS_OF)).name == "findings.parquet"
    published = Path(stages.write_audit(work, tmp_path / "out" / AS_OF))
    assert (published / "findings.csv").exists()
    assert (published / "quality" / "validation.json").exists()
    assert not work.exists(), "the work folder goes once the outputs are published"


def test_discover_refuses_a_folder_without_the_roll(minimal_input: Path, tmp_path: Path) -> None:
    (minimal_input / "roll.csv").unlink()
    with pytest.raises(InputError, match="required dataset missing"):
        stages.discover(minimal_input, tmp_path / "work", AS_OF)


def test_validate_all_raises_the_plain_message(minimal_input: Path, tmp_path: Path) -> None:
    # every ID mangled by a spreadsheet: the critical roll.id_number.usable fails
    rows = [[f"H{i}", "张伟", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保",
             "1", "900"] for i in range(5)]
    write_csv(minimal_input / "roll.csv", ROLL_HEADER, rows)
    work = tmp_path / "work"
    for dataset in stages.discover(minimal_input, work, AS_OF):
        stages.ingest_one(dataset, work)
    with pytest.raises(InputError, match="roll.csv: expectation roll.id_number.usable failed"):
        stages.validate_all(work, AS_OF)
    report = stages.record_failure(tmp_path / "_failed", AS_OF, InputError("x", dataset="roll"),
                                   work, task_id="validate")
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert saved["dataset"] == "roll" and saved["task_id"] == "validate"
    assert (tmp_path / "_failed" / f"{AS_OF}.quality" / "validation.json").exists()


def test_a_mistake_in_any_configuration_section_stops_the_run_before_any_data_is_read(
        minimal_input: Path, tmp_path: Path) -> None:
    user = tmp_path / "local.yaml"
    user.write_text("linkage:\n  threshold: 1.5\n", encoding="utf-8")  # a probability above 1
    work = tmp_path / "work"
    with pytest.raises(InputError, match=r"(?s)matcher configuration .* is not valid.*threshold"):
        stages.discover(minimal_input, work, AS_OF, user)
    assert not work.exists()


def test_later_stages_use_the_configuration_the_run_started_with(minimal_input: Path,
                                                                 tmp_path: Path) -> None:
    user = tmp_path / "local.yaml"
    user.write_text("publicity:\n  office: 甲区民政局\n", encoding="utf-8")
    work = tmp_path / "work"
    stages.discover(minimal_input, work, AS_OF, user)
    user.write_text("publicity:\n  office: 乙区民政局\n", encoding="utf-8")  # edited mid-run
    assert settings.of_run(work).audit.publicity.office == "甲区民政局"


def test_a_failure_while_writing_outputs_leaves_no_new_warehouse_and_reports_it(
        minimal_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.outputs import history
    from pipelines.run.audit import run_audit

    def broken(*args: object, **kwargs: object) -> None:
        raise InputError("the previous audit cannot be compared (test)")

    monkeypatch.setattr(history, "compare_and_write", broken)
    output = tmp_path / "out" / AS_OF
    with pytest.raises(InputError):
        run_audit(minimal_input, output, dt.date.fromisoformat(AS_OF))
    assert sorted(p.name for p in output.parent.iterdir()) == ["_failed"]  # no warehouse.duckdb
    assert (output.parent / "_failed" / f"{AS_OF}.json").exists()


def test_the_stored_configuration_keeps_every_order(minimal_input: Path, tmp_path: Path) -> None:
    """Column order is meaning (outputs list a dataset's columns in the contract's order)."""
    work = tmp_path / "work"
    stages.discover(minimal_input, work, AS_OF)
    stored, fresh = settings.of_run(work), settings.load()
    assert stored == fresh
    assert list(stored.audit.datasets["roll"].columns) == list(fresh.audit.datasets["roll"].columns)
    assert list(stored.linkage["prior"]) == list(fresh.linkage["prior"])


def test_decisions_copied_from_the_review_database_are_read_by_the_rules(
        minimal_input: Path, tmp_path: Path) -> None:
    """The review app's decisions arrive as a Parquet copy in the work folder (as when
    $DIBAO_REVIEW_DATABASE_URL is set); the rules stage reads them (a DuckDB view cannot take
    the file as a parameter: this path once failed only under Airflow with a review database)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.rules import decisions

    work = tmp_path / "work"
    stages.discover(minimal_input, work, AS_OF)
    for dataset in stages.datasets(work):
        stages.ingest_one(dataset, work)
    stages.validate_all(work, AS_OF)
    stages.link_roll(work)
    rows = [{"finding_id": "F0000000000000001", "decision": "confirmed", "decided_by": "u1",
             "decided_at": "2026-10-01", "reason": None, "approved_by": "u2"}]
    pq.write_table(pa.Table.from_pylist(rows, schema=decisions.SCHEMA), work / decisions.FILE)
    stages.apply_rules_stage(work, AS_OF)
    read = pq.read_table(work / "rules_decisions.parquet").to_pylist()
    assert [(r["finding_id"], r["decision"]) for r in read] == [("F0000000000000001",
                                                                 "confirmed")]
