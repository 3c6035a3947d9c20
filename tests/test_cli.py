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


def run(input_dir: Path, output: Path, capsys: pytest.CaptureFixture[str],
        *extra: str) -> tuple[int, str]:
    code = main(["run", "--input", str(input_dir), "--output", str(output), "--as-of", AS_OF,
                 *extra])
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


@pytest.mark.parametrize("workers", [None, 2])
def test_critical_expectation_failure_exits_2_with_plain_message(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: int | None) -> None:
    # A roll exported through a spreadsheet: every ID number turned into 4.20102E+17. With
    # worker processes the validation runs beside the link: its failure is still the one told.
    rows = [[f"H{i}", "张伟", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保",
             "1", "900"] for i in range(10)]
    write_csv(minimal_input / "roll.csv", ROLL_HEADER, rows)
    output = tmp_path / "out" / AS_OF
    extra: list[str] = []
    if workers:
        config = tmp_path / "workers.yaml"
        config.write_text(f"resources:\n  workers: {workers}\n", encoding="utf-8")
        extra = ["--config", str(config)]
    code, err = run(minimal_input, output, capsys, *extra)
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


# --- mistakes on the command line: `dibao-audit <command>: <what to do>`, exit 2 -------------

def _mistake(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a mistaken command: exit 2, one plain line on stderr (no traceback); that line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "input unusable" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


AS_OF_HINT = "write it as YYYY-MM-DD, e.g. 2026-10-31"


@pytest.mark.parametrize("written", [
    "2026-10-31", "2026/10/31", "2026.10.31", "20261031", "2026年10月31日", " 2026-10-31 ",
    "２０２６年１０月３１日", "２０２６－１０－３１", "２０２６１０３１", "2026 年 10 月 31 日"])
def test_as_of_accepts_the_written_forms_of_a_date(written: str) -> None:
    import datetime as dt

    from pipelines.ingest.dates import parse_as_of

    assert parse_as_of(written) == dt.date(2026, 10, 31)
    assert parse_as_of("2026/1/5") == parse_as_of("2026.01.05") == dt.date(2026, 1, 5)


@pytest.mark.parametrize("written", [
    "2026-31-10", "2026-02-30", "31/10/2026", "10/31/2026", "26-10-31", "2026-10/31",
    "2026-10-31T00:00", "2026-10-31 00:00:00", "45961", "45961.0", "2026", "2026-10",
    "2026年10月31", "20261331", "tomorrow", "1899-12-31", "21000101"])
def test_as_of_refuses_anything_else_with_what_to_do(
        written: str, minimal_input: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / AS_OF
    line = _mistake(["run", "--input", str(minimal_input), "--output", str(output),
                     "--as-of", written], capsys)
    assert line.startswith(f"dibao-audit run: --as-of {written.strip()}: "), line
    assert line.endswith("YYYY-MM-DD, e.g. 2026-10-31"), line
    assert not (tmp_path / "out").exists(), "a refused command writes nothing"


def test_as_of_message_is_the_same_for_run_publish_and_synth(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = "2026-31-10"
    expected = f"--as-of {bad}: not a calendar date; {AS_OF_HINT}"
    assert _mistake(["run", "--input", str(minimal_input), "--output", str(tmp_path / "o"),
                     "--as-of", bad], capsys) == f"dibao-audit run: {expected}"
    assert _mistake(["publish", "--output", str(tmp_path / "o"), "--as-of", bad],
                    capsys) == f"dibao-audit publish: {expected}"
    assert _mistake(["synth", "--households", "1", "--out", str(tmp_path / "city"),
                     "--as-of", bad], capsys) == f"dibao-audit synth: {expected}"
    assert not (tmp_path / "city").exists()


def test_as_of_never_echoes_a_full_id_number(minimal_input: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    line = _mistake(["run", "--input", str(minimal_input), "--output", str(tmp_path / "o"),
                     "--as-of", make_id()], capsys)
    assert not FULL_ID.search(line) and "not a calendar date" in line


def test_as_of_written_in_chinese_runs_the_audit_of_that_date(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / AS_OF
    code = main(["run", "--input", str(minimal_input), "--output", str(output),
                 "--as-of", "２０２６年10月31日"])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == AS_OF


def test_input_that_is_a_file_or_missing(minimal_input: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / AS_OF
    roll = minimal_input / "roll.csv"
    line = _mistake(["run", "--input", str(roll), "--output", str(output), "--as-of", AS_OF],
                    capsys)
    assert line == (f"dibao-audit run: --input {roll} is a file, not a folder: give the folder "
                    f"that holds it (--input {minimal_input}), with one file per dataset")
    missing = tmp_path / "no-such-city"
    line = _mistake(["run", "--input", str(missing), "--output", str(output), "--as-of", AS_OF],
                    capsys)
    assert line.startswith(f"dibao-audit run: --input {missing}: no such folder: give the "
                           "folder that holds roll.csv and standards.csv")
    assert not (tmp_path / "out").exists(), "no failure report for a command-line mistake"


def test_config_that_does_not_exist_or_is_a_folder(minimal_input: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--input", str(minimal_input), "--output", str(tmp_path / "out" / AS_OF),
            "--as-of", AS_OF, "--config"]
    missing = tmp_path / "local.yaml"
    assert _mistake([*argv, str(missing)], capsys) == (
        f"dibao-audit run: --config {missing}: no such file: check the path, or leave "
        "--config out to use the default configuration")
    line = _mistake([*argv, str(tmp_path)], capsys)
    assert line.startswith(f"dibao-audit run: --config {tmp_path} is a folder: give the path "
                           "of a YAML file")
    assert not (tmp_path / "out").exists()


def test_output_that_would_replace_the_input_or_is_a_file(
        minimal_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for output in (minimal_input, minimal_input.parent):
        line = _mistake(["run", "--input", str(minimal_input), "--output", str(output),
                         "--as-of", AS_OF], capsys)
        assert line.startswith(f"dibao-audit run: --output {output} is (or holds) the --input "
                               "folder, and a run replaces --output: give another folder")
    assert (minimal_input / "roll.csv").is_file()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    line = _mistake(["run", "--input", str(minimal_input), "--output", str(a_file),
                     "--as-of", AS_OF], capsys)
    assert line.startswith(f"dibao-audit run: --output {a_file} is a file: give a folder")


@pytest.mark.parametrize("households", ["0", "-5"])
def test_synth_needs_at_least_one_household(households: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    line = _mistake(["synth", "--households", households, "--out", str(tmp_path / "city")],
                    capsys)
    assert line == (f"dibao-audit synth: --households {households}: a city needs at least 1 "
                    "household; give e.g. --households 2000")
    assert not (tmp_path / "city").exists()


def test_synth_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "city"
    a_file.write_text("x", encoding="utf-8")
    assert _mistake(["synth", "--households", "1", "--out", str(a_file)], capsys) == (
        f"dibao-audit synth: --out {a_file} is a file: give a folder for the city's files")


def _fake_audit(folder: Path, as_of: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"as_of": as_of}), encoding="utf-8")
    return folder


def test_publish_output_that_holds_no_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DIBAO_WAREHOUSE", raising=False)
    missing = tmp_path / "out" / AS_OF
    line = _mistake(["publish", "--as-of", AS_OF, "--output", str(missing)], capsys)
    assert line == (f"dibao-audit publish: --output {missing} is not a folder (it does not "
                    f"exist): give the audit's output folder (the --output given to "
                    f"`dibao-audit run --as-of {AS_OF}`)")
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _mistake(["publish", "--as-of", "2026/10/31", "--output", str(empty)], capsys)
    assert line == (f"dibao-audit publish: --output {empty} holds no audit (no readable "
                    f"manifest.json): give the output folder of `dibao-audit run --as-of "
                    f"{AS_OF}`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"], "no warehouse made"


def test_publish_as_of_of_another_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DIBAO_WAREHOUSE", raising=False)
    folder = _fake_audit(tmp_path / "out" / AS_OF, AS_OF)
    line = _mistake(["publish", "--as-of", "2026-11-30", "--output", str(folder)], capsys)
    assert line == (f"dibao-audit publish: --output {folder} holds the audit of {AS_OF}, not "
                    f"--as-of 2026-11-30: give --as-of {AS_OF}, or the output folder of the "
                    f"audit of 2026-11-30")
    # the folder is right but the warehouse has no such audit (e.g. another --warehouse)
    line = _mistake(["publish", "--as-of", AS_OF, "--output", str(folder)], capsys)
    assert line.startswith(f"dibao-audit publish: warehouse {tmp_path / 'out'}")
    assert f"holds no audit of {AS_OF} (audits held: none): give --as-of one of those " \
           "dates, or --warehouse" in line
    assert not (folder / "publicity").exists()
    # nothing is left behind: no empty warehouse where none was
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [AS_OF]
    # the parent of the audit's folder given as --output
    line = _mistake(["publish", "--as-of", AS_OF, "--output", str(tmp_path / "out")], capsys)
    assert "holds no audit (no readable manifest.json)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [AS_OF]


def test_publish_config_that_does_not_exist(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = _fake_audit(tmp_path / "out" / AS_OF, AS_OF)
    missing = tmp_path / "local.yaml"
    assert _mistake(["publish", "--as-of", AS_OF, "--output", str(folder), "--config",
                     str(missing)], capsys) == (
        f"dibao-audit publish: --config {missing}: no such file: check the path, or leave "
        "--config out to use the default configuration")


def test_review_import_of_a_folder_that_holds_no_audit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    missing = tmp_path / "out" / AS_OF
    line = _mistake(["review", "import", "--run", str(missing), "--database", url], capsys)
    assert line == (f"dibao-audit review import: --run {missing} is not a folder (it does not "
                    "exist): give an audit's output folder (the --output given to "
                    "`dibao-audit run`)")
    line = _mistake(["review", "import", "--run", str(tmp_path), "--database", url], capsys)
    assert line == (f"dibao-audit review import: --run {tmp_path} holds no audit (manifest.json "
                    "is missing): give an audit's output folder (the --output given to "
                    "`dibao-audit run`)")
    folder = _fake_audit(tmp_path / "out2", AS_OF)
    nowhere = tmp_path / "no" / "such"
    line = _mistake(["review", "import", "--run", str(folder), "--database",
                     f"sqlite:///{nowhere / 'review.sqlite3'}"], capsys)
    assert line == (f"dibao-audit review import: --database sqlite:///{nowhere}/review.sqlite3: "
                    f"the folder {nowhere} does not exist: create it, or give another path")
    assert not (tmp_path / "review.sqlite3").exists(), "nothing opened for a mistake"


def test_unusable_input_is_still_reported_as_such(minimal_input: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (minimal_input / "standards.csv").unlink()
    code, err = run(minimal_input, tmp_path / "out" / AS_OF, capsys)
    assert code == 2 and "dibao-audit: input unusable: required dataset missing" in err


def _parsers(parser: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    import argparse

    found = [(path, parser)]
    for action in parser._actions:  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(_parsers(child, (*path, name)))
    return found


def test_every_option_of_every_command_says_what_it_is_for(
        capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from pipelines.cli import _parser

    silent = [f"{' '.join(path) or 'dibao-audit'} {'/'.join(action.option_strings)}"
              for path, parser in _parsers(_parser())
              for action in parser._actions  # type: ignore[attr-defined]
              if action.option_strings and not isinstance(action, argparse._HelpAction)
              and not action.help]
    assert silent == []
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "as they land" not in top
    for command in ("run", "publish", "synth", "serve", "users", "review"):
        assert command in top
