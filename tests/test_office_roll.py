"""A roll sent as a street office's workbook (a sheet per street under title rows, 小计 rows,
notes, an instructions and a summary sheet) gives the same audit as the same roll as one CSV."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.office_export import office_workbook

AS_OF = "2026-10-31"
OUTPUTS = ("findings.csv", "remove_list.csv", "add_list.csv")


@pytest.mark.slow
def test_multi_sheet_workbook_roll_gives_the_same_findings_as_the_csv(tmp_path: Path) -> None:
    city = tmp_path / "city"
    assert main(["synth", "--households", "600", "--seed", "11", "--out", str(city)]) == 0
    office = tmp_path / "office"
    shutil.copytree(city, office, ignore=shutil.ignore_patterns("truth", "roll.*"))
    sheets = office_workbook(city / "roll.csv", office / "roll.xlsx")
    assert sheets >= 5
    plain, book = tmp_path / "plain" / AS_OF, tmp_path / "book" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(plain), "--as-of", AS_OF]) == 0
    assert main(["run", "--input", str(office), "--output", str(book), "--as-of", AS_OF]) == 0
    for name in OUTPUTS:
        assert (plain / name).read_bytes() == (book / name).read_bytes(), name
    first = json.loads((plain / "manifest.json").read_text(encoding="utf-8"))["inputs"]["roll"]
    second = json.loads((book / "manifest.json").read_text(encoding="utf-8"))["inputs"]["roll"]
    assert second["loaded_rows"] == first["loaded_rows"]
    layout = second["layout"]
    assert len(layout["sheets"]) == sheets
    assert [s["name"] for s in layout["sheets_skipped"]] == ["填表说明", "汇总"]
    assert all(s["rows_skipped"]["title rows above the header"] == 2 for s in layout["sheets"])
    # every 小计 row and the note are quarantined as what they are, nothing else is added
    reasons = second["quarantined_rows"] - first["quarantined_rows"]
    assert reasons == sheets + 1
