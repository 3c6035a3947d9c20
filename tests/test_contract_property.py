"""`dibao-audit run` survives any input folder the contract allows (docs/contract.md §2, §6).

Folders are written straight from the contract's dataset table by tests/contract_files.py, never
through `pipelines.synth`. The property: exit 0, or exit 2 with a message naming the file (and
the column); never an exception (exit 1 is a bug). On exit 0 every row written is accounted for
(read and loaded or quarantined, or skipped as blank and counted) and the manifest's counts add
up; on exit 2 nothing is left at --output and no work or staging folder beside it.

The long run of the same property is benchmarks/contract_fuzz.py.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings

from pipelines.config import ColumnSpec
from tests.contract_files import (
    AS_OF,
    Folder,
    baseline_folder,
    check_outcome,
    contract,
    folders,
    optional_columns,
    run_cli,
)

# ~2 s per folder on a 2-core machine. The test command draws 16 + 5 folders (half a minute;
# the long random run covers thousands, see docs/benchmarks.md), the other profiles 24 + 8. It
# draws the same folders every time (derandomized: a red build is reproducible, and a green one
# is not luck); DIBAO_HYPOTHESIS_PROFILE=contract draws new ones and keeps a failing example in
# .hypothesis/ to replay first next time (benchmarks/contract_fuzz.py is the long random run). No shrinking by default: each
# step is a whole run (~2 s) and a shrink takes minutes; the failing folder is printed as drawn
# (DIBAO_HYPOTHESIS_PROFILE=contract-shrink shrinks it, for a minimal reproduction).
settings.register_profile(
    "contract", max_examples=24, deadline=None, print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example])
settings.register_profile("contract-ci", settings.get_profile("contract"), derandomize=True,
                          database=None, max_examples=16)
settings.register_profile("contract-shrink", settings.get_profile("contract"),
                          phases=list(Phase))
PROFILE = settings.get_profile(os.environ.get("DIBAO_HYPOTHESIS_PROFILE") or "contract-ci")


def run_folder(folder: Folder) -> tuple[str, dict[str, Any] | None]:
    """Write the folder, run the audit on it in-process, check the property; the outcome and,
    on exit 0, the manifest."""
    with tempfile.TemporaryDirectory(prefix="contract-") as tmp:
        input_dir = Path(tmp) / "input"
        output_dir = Path(tmp) / "out" / AS_OF
        folder.write(input_dir)
        result = run_cli(input_dir, output_dir)
        outcome = check_outcome(folder, result, input_dir, output_dir)
        manifest = None
        if outcome == "exit0":
            manifest = json.loads((output_dir / "manifest.json").read_text(encoding="utf-8"))
        return outcome, manifest


@pytest.mark.slow
@settings(PROFILE)
@given(folder=folders())
def test_any_contract_folder_ends_in_exit_0_or_a_plain_exit_2(folder: Folder) -> None:
    outcome, _ = run_folder(folder)
    event(outcome)
    event("with a fault" if folder.fault else ("clean" if folder.clean else "messy"))


@pytest.mark.slow
@settings(PROFILE, max_examples=max(1, PROFILE.max_examples // 3))
@given(folder=folders(faults=True))
def test_unusable_input_ends_in_exit_2_naming_the_file_and_column(folder: Folder) -> None:
    assert folder.fault is not None
    assert run_folder(folder)[0] == "exit2"
    event(folder.fault.kind)


# --- regressions: optional columns absent, or present and blank in every row -----------------

def _assert_clean_run(folder: Folder) -> dict[str, Any]:
    outcome, manifest = run_folder(folder)
    assert outcome == "exit0" and manifest is not None
    return manifest


def _links(manifest: dict[str, Any], dataset: str) -> int:
    return sum(int(s["links"]) for s in manifest["linkage"] if s["dataset"] == dataset)


@pytest.mark.slow
def test_businesses_without_subscribed_capital() -> None:
    """businesses.csv lacking the optional 认缴出资额(万元) once crashed every run."""
    folder = baseline_folder(datasets=["roll", "standards", "businesses"],
                             states={("businesses", "subscribed_capital"): "absent"})
    assert "subscribed_capital" not in folder.file("businesses").columns
    manifest = _assert_clean_run(folder)
    assert manifest["inputs"]["businesses"]["absent_columns"] == ["subscribed_capital"]
    assert _links(manifest, "businesses"), "the business rule must see linked rows"


@pytest.mark.slow
def test_vehicles_without_purchase_price() -> None:
    """vehicles.csv lacking the optional 购置价格(元) once crashed every run."""
    folder = baseline_folder(datasets=["roll", "standards", "vehicles"],
                             states={("vehicles", "purchase_price"): "absent"})
    assert "purchase_price" not in folder.file("vehicles").columns
    manifest = _assert_clean_run(folder)
    assert manifest["inputs"]["vehicles"]["absent_columns"] == ["purchase_price"]
    assert _links(manifest, "vehicles"), "the vehicle rule must see linked rows"


def _kind(col: ColumnSpec) -> str:
    return "vocabulary" if col.vocab is not None else col.type


KINDS = ("decimal", "integer", "date", "phone", "vocabulary", "id", "text")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_optional_columns_of_each_type_present_but_blank(kind: str) -> None:
    """Every optional column of one type present in its file with no value in any row.

    The contract has no optional integer column: for `integer` the required ones (家庭人口 of
    the roll and the low-income register) are present and blank, which must still run.
    """
    states = {(d, c): "blank" for d, c, col in optional_columns() if _kind(col) == kind}
    if not states:
        states = {(d, c): "blank" for d, spec in contract().datasets.items()
                  for c, col in spec.columns.items() if _kind(col) == kind}
    assert states, f"no column of type {kind} in config/datasets.yaml"
    datasets = ["roll", "standards", *sorted({d for d, _ in states} - {"roll", "standards"})]
    folder = baseline_folder(datasets=datasets, states=states)
    for dataset, column in states:
        data_file = folder.file(dataset)
        index = data_file.columns.index(column)
        assert all(row[index] is None for row in data_file.rows)
    manifest = _assert_clean_run(folder)
    for dataset, column in states:
        col = contract().datasets[dataset].columns[column]
        if not col.required:
            assert column in manifest["inputs"][dataset]["blank_columns"]


@pytest.mark.slow
@pytest.mark.parametrize("state", ["absent", "blank"])
def test_every_optional_column_absent_or_blank_at_once(state: str) -> None:
    folder = baseline_folder(states={(d, c): state for d, c, _ in optional_columns()})
    _assert_clean_run(folder)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_baseline_in_other_formats(fmt: str) -> None:
    _assert_clean_run(baseline_folder(fmt=fmt))


# --- failures the property tests found, kept as regression tests ----------------------------

def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_repeated_header_under_a_serial_number_column_is_quarantined(tmp_path: Path) -> None:
    """A 花名册 with 序号 as its first column and the header repeated on the next printed page:
    contract §2 quarantines the repeated header ('the header's first label again'). Found by the
    property test: it was loaded as a roll member named 姓名 whose 保障类别 is '保障类别', and the
    run stopped (exit 2) on roll.category.known."""
    from tests.conftest import make_id

    folder = tmp_path / "input"
    folder.mkdir()
    header = ["序号", "户编号", "姓名", "身份证号", "与户主关系", "区", "社区", "保障类别", "家庭人口",
              "月保障金额(元)"]
    _write(folder / "roll.csv", [
        header,
        ["1", "H001", "张伟", make_id(seq="011"), "户主", "江岸区", "幸福社区", "城市低保", "1", "800"],
        header,
        ["2", "H002", "李娜", make_id(seq="022"), "户主", "江岸区", "幸福社区", "城市低保", "1", "700"],
    ])
    _write(folder / "standards.csv", [["区", "保障类别", "月保障标准"], ["江岸区", "城市低保", "1050"]])
    output = tmp_path / "out" / AS_OF
    result = run_cli(folder, output)
    assert result.error is None and result.code == 0, result.stderr[-2000:]
    with (output / "quality" / "quarantine_summary.csv").open(encoding="utf-8") as handle:
        reasons = {r["reason"]: int(r["rows"]) for r in csv.DictReader(handle)
                   if r["dataset"] == "roll"}
    assert sum(n for r, n in reasons.items() if "header row repeated" in r) == 1, reasons
