"""End to end: the real CLI on a generated city, scored per finding code against its truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.synth.evaluation import evaluate_run, table

AS_OF = "2026-10-31"
OUTPUTS = ("findings.csv", "remove_list.csv", "add_list.csv", "审核结果.xlsx")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    assert main(["synth", "--households", "2000", "--seed", "5", "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def audit(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("out") / AS_OF
    assert main(["run", "--input", str(city), "--output", str(output), "--as-of", AS_OF]) == 0
    return output


@pytest.mark.slow
def test_every_code_is_found_with_high_precision_and_recall(city: Path, audit: Path) -> None:
    scores = evaluate_run(audit, city)
    report = table(scores)
    for score in scores:
        assert score.truth > 0 or score.code == "ALL", f"{score.code}: no truth\n{report}"
        assert score.precision >= 0.9, f"{score.code} precision\n{report}"
        assert score.recall >= 0.9, f"{score.code} recall\n{report}"
    assert scores[-1].f1 >= 0.97, report


@pytest.mark.slow
def test_manifest_counts_add_up_and_name_every_check(city: Path, audit: Path) -> None:
    manifest = json.loads((audit / "manifest.json").read_text(encoding="utf-8"))
    for dataset, counts in manifest["inputs"].items():
        assert counts["input_rows"] == counts["loaded_rows"] + counts["quarantined_rows"], dataset
    truth = json.loads((city / "truth" / "summary.json").read_text(encoding="utf-8"))
    for dataset, rows in truth["rows"].items():
        assert manifest["inputs"][dataset]["input_rows"] == rows, dataset
    quarantined = {d: c["quarantined_rows"] for d, c in manifest["inputs"].items()
                   if c["quarantined_rows"]}
    assert quarantined == {d: n for d, n in truth["quarantine"].items() if n}
    assert {c["finding_code"] for c in manifest["checks"]} >= {
        "DECEASED", "ADD_CANDIDATE", "APPROVER_CONFLICT"}
    assert all(c["status"] == "ran" for c in manifest["checks"])


@pytest.mark.slow
def test_rerun_gives_byte_identical_outputs(city: Path, audit: Path, tmp_path: Path) -> None:
    again = tmp_path / AS_OF
    assert main(["run", "--input", str(city), "--output", str(again), "--as-of", AS_OF]) == 0
    for name in OUTPUTS:
        assert (audit / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.parametrize("resources", [
    # a big enough input is ingested and linked in two processes side by side (this small
    # city, in one, unless told)
    "workers: 2",
    # registers of more than 1,500 records linked in partitions, two at a time, then merged:
    # every record's links, and the probabilities measured over each whole dataset, as in one
    "workers: 2\n  partition_records: 1500",
])
def test_worker_processes_and_partitions_give_the_same_outputs(
        city: Path, audit: Path, tmp_path: Path, resources: str) -> None:
    config = tmp_path / "resources.yaml"
    config.write_text(f"resources:\n  {resources}\n", encoding="utf-8")
    other = tmp_path / "other" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(other), "--as-of", AS_OF,
                 "--config", str(config)]) == 0
    for name in (*OUTPUTS, "changes.csv", "summary_by_street.csv"):
        assert (audit / name).read_bytes() == (other / name).read_bytes(), name
    linkage = [json.loads((d / "manifest.json").read_text(encoding="utf-8"))["linkage"]
               for d in (audit, other)]
    pieces = {s["dataset"]: s["pieces"] for s in linkage[1]}
    if "partition_records" in resources:
        assert pieces["property"] > 2 and pieces["vehicles"] > 1, pieces
    else:
        assert set(pieces.values()) == {1}, pieces
    for stats in linkage:
        for dataset in stats:
            dataset.pop("seconds")
            dataset.pop("pieces")
    assert linkage[0] == linkage[1]


@pytest.mark.slow
def test_missing_dataset_skips_its_checks_and_says_why(city: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in city.iterdir():
        if path.is_file() and not path.name.startswith("vehicles."):
            (partial / path.name).write_bytes(path.read_bytes())
    output = tmp_path / "out" / AS_OF
    assert main(["run", "--input", str(partial), "--output", str(output), "--as-of", AS_OF]) == 0
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    vehicle = next(c for c in manifest["checks"] if c["finding_code"] == "VEHICLE")
    assert vehicle["status"] == "skipped" and "vehicles" in vehicle["reason"]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_the_workbook_shows_the_csvs_in_chinese(audit: Path) -> None:
    """审核结果.xlsx: every sheet, Chinese headers and labels, IDs as text, money as numbers
    with two decimals, a frozen and filtered header, printable; the same rows as the CSVs."""
    from openpyxl import load_workbook

    from pipelines.rules import codes

    book = load_workbook(audit / "审核结果.xlsx")
    assert book.sheetnames == ["汇总", "线索", "拟停保减保", "拟纳入", "变动"]
    sheet = book["线索"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["线索编号", "户编号", "身份证号", "姓名", "线索类型"]
    findings = _csv_rows(audit / "findings.csv")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(findings) > 0
    labels = codes.labels()
    column = {name: header.index(name) for name in header}
    for row, found in zip(rows, findings, strict=True):
        assert row[column["线索编号"]] == found["finding_id"]
        assert row[column["线索类型"]] == labels[found["finding_code"]]
        assert row[column["姓名"]] == (found["name"] or None)
        assert (row[column["身份证号"]] or "") == found["id_number"]
        amount = row[column["涉及金额(元/月)"]]
        assert amount == (float(found["amount_at_stake"]) if found["amount_at_stake"] else None)
    ids = [c for c in sheet["C"][1:] if c.value]
    assert ids and all(c.data_type == "s" for c in ids)  # text, never 4.20102E+17
    assert sheet.cell(2, column["涉及金额(元/月)"] + 1).number_format == "#,##0.00"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    remove = book["拟停保减保"]
    listed = _csv_rows(audit / "remove_list.csv")
    actions = {r[8] for r in remove.iter_rows(min_row=2, max_row=len(listed) + 1,
                                               values_only=True)}
    assert actions and all(a and not a.isascii() for a in actions)  # 拟处理 in Chinese
    summary = {r[0]: r for r in book["汇总"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["线索合计"][2] == len(findings)
    assert summary["拟停保减保"][2] == len(listed)
    assert summary["拟纳入（人）"][2] == len(_csv_rows(audit / "add_list.csv"))
    assert any("优先级 = 严重程度权重（高3、中2、低1）" in str(k) for k in summary)


@pytest.mark.slow
def test_the_workbook_reads_back_through_libreoffice(audit: Path, tmp_path: Path) -> None:
    """A real client: LibreOffice opens the workbook and saves each sheet as CSV, values as
    shown; the Chinese headers, names and amounts (two decimals) agree with findings.csv."""
    import shutil
    import subprocess

    source = tmp_path / "audit.xlsx"  # an ASCII name for LibreOffice's output files
    shutil.copy(audit / "审核结果.xlsx", source)
    profile = (tmp_path / "lo-profile").as_uri()
    # CSV filter: comma, double quote, UTF-8, from row 1, formatted as shown, every sheet
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
                    "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=300)
    shown = _csv_rows(tmp_path / "audit-线索.csv")
    findings = _csv_rows(audit / "findings.csv")
    assert len(shown) == len(findings) > 0
    for row, found in zip(shown, findings, strict=True):
        assert row["线索编号"] == found["finding_id"] and row["姓名"] == found["name"]
        assert row["身份证号"] == found["id_number"]
        if found["amount_at_stake"]:
            assert row["涉及金额(元/月)"] == f"{float(found['amount_at_stake']):,.2f}"
    assert (tmp_path / "audit-汇总.csv").read_text(encoding="utf-8").startswith("项目,")


@pytest.mark.slow
def test_the_headline_says_what_was_found_and_how_to_go_on(audit: Path) -> None:
    from pipelines.outputs.headline import headline

    text = headline(audit)
    manifest = json.loads((audit / "manifest.json").read_text(encoding="utf-8"))
    assert f"{sum(manifest['findings'].values())} 条线索" in text
    assert f"拟停保减保: {len(_csv_rows(audit / 'remove_list.csv'))} 户" in text
    assert f"拟纳入: {len(_csv_rows(audit / 'add_list.csv'))} 人" in text
    assert str(audit / "审核结果.xlsx") in text and "dibao-audit serve --database" in text
