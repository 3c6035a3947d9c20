"""The `dibao-audit run` command: exit codes, messages, atomic outputs, manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.conftest import ROLL_HEADER, make_id, write_csv

AS_OF = "2026-10-31"
FULL_ID = re.compile(r"\d{17}[\dXx]")


def run(input_dir: Path, output: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", "--input", str(input_dir), "--output", str(output), "--as-of", AS_OF])
    captured = capsys.readouterr()
    return code, captured.err


def test_run_writes_manifest_and_quality(minimal_input: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / AS_OF
    code, err = run(minimal_input, output, capsys)
    assert code == 0, err
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["roll"]["input_rows"] == 3
    assert manifest["inputs"]["roll"]["loaded_rows"] == 3
    assert manifest["totals"] == {"input_rows": 7, "loaded_rows": 7, "quarantined_rows": 0}
    assert "deaths" in manifest["absent_datasets"]
    assert (output / "quality" / "validation.json").exists()
    assert (output / "quality" / "data_docs" / "index.html").exists()
    assert (output / "config.effective.yaml").exists()
    assert not FULL_ID.search(err), "logs must never print a full ID number"
    leftovers = [p.name for p in output.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_rerun_replaces_the_output_folder(minimal_input: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / AS_OF
    assert run(minimal_input, output, capsys)[0] == 0
    (output / "stale.txt").write_text("from an earlier run")
    assert run(minimal_input, output, capsys)[0] == 0
    assert not (output / "stale.txt").exists()


def _assert_failed_cleanly(output: Path) -> None:
    assert not output.exists(), "a failed run must not leave --output behind"
    assert [p for p in output.parent.iterdir() if p.name.startswith(".")] == []


def test_missing_roll_exits_2_naming_the_dataset(minimal_input: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (minimal_input / "roll.csv").unlink()
    output = tmp_path / "out" / AS_OF
    code, err = run(minimal_input, output, capsys)
    assert code == 2
    assert "required dataset missing" in err and "roll.csv" in err
    _assert_failed_cleanly(output)


def test_missing_standards_exits_2(minimal_input: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (minimal_input / "standards.csv").unlink()
    code, err = run(minimal_input, tmp_path / "out" / AS_OF, capsys)
    assert code == 2 and "standards.csv" in err


def test_missing_required_column_exits_2(minimal_input: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    header = [h for h in ROLL_HEADER if h != "户编号"]
    write_csv(minimal_input / "roll.csv", header, [["张伟", make_id(), "户主", "江岸区", "大智街道",
                                                    "幸福社区", "城市低保", "1", "900"]])
    output = tmp_path / "out" / AS_OF
    code, err = run(minimal_input, output, capsys)
    assert code == 2
    assert "roll.csv: required column missing: household_id" in err
    _assert_failed_cleanly(output)


def test_undecodable_file_exits_2(minimal_input: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    (minimal_input / "deaths.csv").write_bytes(b"\xff\xfe\xfa\xfb,\x81\n")
    code, err = run(minimal_input, tmp_path / "out" / AS_OF, capsys)
    assert code == 2 and "deaths.csv: cannot be decoded" in err


def test_empty_roll_exits_2(minimal_input: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(minimal_input / "roll.csv", ROLL_HEADER, [])
    code, err = run(minimal_input, tmp_path / "out" / AS_OF, capsys)
    assert code == 2 and "roll.csv: the roll has no usable rows" in err


def test_critical_expectation_failure_exits_2_with_plain_message(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A roll exported through a spreadsheet: every ID number turned into 4.20102E+17.
    rows = [[f"H{i}", "张伟", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保",
             "1", "900"] for i in range(10)]
    write_csv(minimal_input / "roll.csv", ROLL_HEADER, rows)
    output = tmp_path / "out" / AS_OF
    code, err = run(minimal_input, output, capsys)
    assert code == 2
    assert "critical data-quality expectation failed" in err
    assert "roll.csv: expectation roll.id_number.usable failed" in err
    assert "10 of 10 rows (100.0%)" in err
    assert "e.g. rows 1, 2, 3, 4, 5" in err
    _assert_failed_cleanly(output)
    report = json.loads((output.parent / "_failed" / f"{AS_OF}.json").read_text(encoding="utf-8"))
    assert report["dataset"] == "roll"
    assert (output.parent / "_failed" / f"{AS_OF}.quality" / "validation.json").exists()


def test_warning_expectation_is_reported_not_fatal(minimal_input: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(minimal_input / "pensions.csv", ["记录编号", "姓名", "身份证号", "待遇类型", "月金额"], [
        ["P1", "张伟", make_id(seq="011"), "城镇职工基本养老保险", "2500"],
        ["P1", "李娜", make_id(birth="19820304", seq="022"), "城镇职工基本养老保险", "2600"],
    ])
    output = tmp_path / "out" / AS_OF
    code, err = run(minimal_input, output, capsys)
    assert code == 0, err
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    assert "pensions.record_id.unique" in manifest["validation"]["failed_warnings"]


def test_severity_override_from_config_makes_a_warning_critical(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(minimal_input / "pensions.csv", ["记录编号", "姓名", "身份证号", "待遇类型", "月金额"], [
        ["P1", "张伟", make_id(seq="011"), "城镇职工基本养老保险", "2500"],
        ["P1", "李娜", make_id(birth="19820304", seq="022"), "城镇职工基本养老保险", "2600"],
    ])
    config = tmp_path / "strict.yaml"
    config.write_text("validation:\n  severity:\n    pensions.record_id.unique: critical\n",
                      encoding="utf-8")
    code = main(["run", "--input", str(minimal_input), "--output", str(tmp_path / "o" / AS_OF),
                 "--as-of", AS_OF, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert "pensions.csv: expectation pensions.record_id.unique failed" in err
    assert "1 of 2 rows" in err or "2 of 2 rows" in err


def test_canonical_tables_land_in_duckdb_and_debug_dir(minimal_input: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    debug = tmp_path / "debug"
    code = main(["run", "--input", str(minimal_input), "--output", str(tmp_path / "o" / AS_OF),
                 "--as-of", AS_OF, "--debug-dir", str(debug)])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "o" / AS_OF / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"] == {"norm_roll": 3, "norm_standards": 4}
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM '{debug / 'norm_roll.parquet'}'").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["p_birth_date"] == "DATE"
    assert types["household_size"] == "BIGINT"
    assert types["monthly_amount"] == "DOUBLE"


def test_masking_reaches_handlers_of_any_logger(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from pipelines.logs import mask_all_handlers

    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        mask_all_handlers()
        mask_all_handlers()  # idempotent
        assert len(handler.filters) == 1
        record = logging.LogRecord("airflow.task", logging.INFO, __file__, 1,
                                   "person %s", (make_id(),), None)
        assert handler.filters[0].filter(record)  # type: ignore[union-attr]
        assert record.getMessage() == "person 4201************" + make_id()[-2:]
    finally:
        logging.getLogger().removeHandler(handler)
