"""Ingest: header aliases, required columns, quarantine, typing, counts that add up."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.config import load_config
from pipelines.errors import InputError
from pipelines.ingest.dataset import check_headers, find_inputs, ingest_dataset, map_headers
from pipelines.io.readers import RawTable
from tests.conftest import ROLL_HEADER, make_id, write_csv

CONFIG = load_config()


def _raw(headers: list[str], rows: list[list[str | None]]) -> RawTable:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in headers]
    arrays = [pa.array(list(c), pa.string()) for c in columns]
    table = pa.table([*arrays, pa.array(range(1, len(rows) + 1), pa.int64())],
                     names=[*headers, "_row"])
    return RawTable(Path("x.csv"), table, headers)


ALIASES = [(dataset, column, alias)
           for dataset, spec in CONFIG.datasets.items()
           for column, col in spec.columns.items()
           for alias in (column, *col.aliases)]


@pytest.mark.parametrize(("dataset", "column", "alias"), ALIASES,
                         ids=[f"{d}-{a}" for d, _, a in ALIASES])
def test_every_header_alias_maps_to_its_canonical_column(dataset: str, column: str,
                                                         alias: str) -> None:
    spec = CONFIG.datasets[dataset]
    headers = [alias] + [c for c, col in spec.columns.items() if col.required and c != column]
    frame, ignored = map_headers(_raw(headers, [["v"] * len(headers)]), dataset, CONFIG)
    assert frame.loc[0, column] == "v"
    assert ignored == []


def test_full_width_brackets_and_spaces_in_headers_still_match() -> None:
    headers = ["户 编 号", "姓名", "身份证号", "与户主关系", "区", "社区", "保障类别", "家庭人口",
               "月保障金额（元）"]
    frame, _ = map_headers(_raw(headers, [["H1"] * 9]), "roll", CONFIG)
    assert frame.loc[0, "monthly_amount"] == "H1"
    assert frame.loc[0, "household_id"] == "H1"


def test_user_config_adds_aliases(tmp_path: Path) -> None:
    user = tmp_path / "local.yaml"
    user.write_text("ingest:\n  header_aliases:\n    pensions:\n      monthly_amount: [养老金月额]\n",
                    encoding="utf-8")
    config = load_config(user)
    headers = ["记录编号", "姓名", "身份证号", "待遇类型", "养老金月额"]
    frame, _ = map_headers(_raw(headers, [["P1", "张伟", "x", "t", "2000"]]), "pensions", config)
    assert frame.loc[0, "monthly_amount"] == "2000"


def test_missing_required_column_names_file_column_and_accepted_headers() -> None:
    headers = [h for h in ROLL_HEADER if h != "身份证号"]
    with pytest.raises(InputError) as caught:
        map_headers(_raw(headers, [["v"] * len(headers)]), "roll", CONFIG)
    message = str(caught.value)
    assert "x.csv: required column missing: id_number" in message
    assert "身份证号码" in message and "公民身份号码" in message


def test_two_headers_for_one_column_are_refused() -> None:
    headers = [*ROLL_HEADER, "公民身份号码"]
    with pytest.raises(InputError, match="both mean 'id_number'"):
        map_headers(_raw(headers, [["v"] * len(headers)]), "roll", CONFIG)


def test_unknown_columns_are_ignored_and_reported() -> None:
    headers = [*ROLL_HEADER, "备注"]
    _, ignored = map_headers(_raw(headers, [["v"] * len(headers)]), "roll", CONFIG)
    assert ignored == ["备注"]


def test_quarantine_reasons_and_counts_add_up(tmp_path: Path) -> None:
    good = make_id(seq="011")
    path = write_csv(tmp_path / "roll.csv", ROLL_HEADER, [
        ["H1", "张伟", good, "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        # row 2: exact duplicate of row 1 -> quarantined
        ["H1", "张伟", good, "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        # row 3: no household_id -> quarantined
        ["", "李娜", make_id(seq="022"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        # row 4: no name and a mangled ID -> quarantined
        ["H3", "", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        # row 5: damaged ID but a name -> loaded and flagged, not quarantined
        ["H4", "王芳", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        # row 6: wrong number of fields -> quarantined by the reader
        ["H5", "赵强"],
    ])
    result = ingest_dataset("roll", path, CONFIG)
    reasons = dict(zip(result.quarantined["_row"], result.quarantined["_reason"], strict=True))
    assert reasons == {2: "exact duplicate of row 1", 3: "roll row without household_id",
                       4: "no name and no repairable ID number",
                       6: "expected 10 fields, found 2"}
    assert result.input_rows == 6
    assert len(result.loaded) + len(result.quarantined) == result.input_rows
    flagged = result.loaded.set_index("_row")
    assert flagged.loc[5, "p_id_status"] == "mangled"
    assert flagged.loc[1, "p_id18"] == good


def test_typing_and_normalised_person_columns(minimal_input: Path) -> None:
    result = ingest_dataset("roll", minimal_input / "roll.csv", CONFIG)
    loaded = result.loaded.set_index("_row")
    assert result.source.encoding in ("gbk", "gb18030")
    assert loaded.loc[1, "category_code"] == "urban"
    assert loaded.loc[3, "category_code"] == "rural"
    assert loaded.loc[1, "district_code"] == "420102"
    assert loaded.loc[3, "district_code"] == "420111"
    assert loaded.loc[1, "monthly_amount"] == 1200
    assert loaded["monthly_amount"].isna().sum() == 1   # household amount on the head's row only
    assert loaded.loc[2, "household_size"] == 2
    assert str(loaded.loc[2, "p_birth_date"]) == "1982-03-04"
    assert loaded.loc[1, "p_sex"] == "M"                # sequence 011: odd -> male


def test_find_inputs_requires_roll_and_standards(tmp_path: Path) -> None:
    write_csv(tmp_path / "roll.csv", ROLL_HEADER, [])
    with pytest.raises(InputError, match=r"required dataset missing .*standards\.csv"):
        find_inputs(tmp_path, CONFIG)


def test_find_inputs_refuses_a_dataset_in_two_files(minimal_input: Path) -> None:
    (minimal_input / "standards.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match="comes in two files"):
        find_inputs(minimal_input, CONFIG)


def test_find_inputs_ignores_other_files_and_folders(minimal_input: Path) -> None:
    (minimal_input / "notes.txt").write_text("x")
    (minimal_input / "truth").mkdir()
    found, ignored = find_inputs(minimal_input, CONFIG)
    assert sorted(found) == ["roll", "standards"]
    assert ignored == ["notes.txt"]


def test_a_folder_named_like_a_dataset_file_is_an_error(minimal_input: Path) -> None:
    (minimal_input / "deaths.csv").mkdir()  # e.g. an archive unpacked under the file's name
    with pytest.raises(InputError, match=r"deaths\.csv in .* is a folder, not a file"):
        find_inputs(minimal_input, CONFIG)


def test_office_lock_files_are_not_reported_as_unknown(minimal_input: Path) -> None:
    (minimal_input / "~$roll.xlsx").write_bytes(b"\x00")  # Excel's lock file of an open book
    _, ignored = find_inputs(minimal_input, CONFIG)
    assert ignored == []


def test_every_files_header_is_checked_before_any_is_read(minimal_input: Path,
                                                          tmp_path: Path) -> None:
    """A misspelt roll header and a misspelt deaths header come back in one message, and the
    large valid file beside them is never read whole (its bytes past the first MiB are not
    even valid text)."""
    write_csv(minimal_input / "roll.csv", ["户编号", "姓 明", *ROLL_HEADER[2:]], [])
    write_csv(minimal_input / "deaths.csv", ["记录编号", "姓名", "身份证号", "死亡时间"], [])
    big = minimal_input / "pensions.csv"
    write_csv(big, ["记录编号", "姓名", "身份证号", "待遇类型", "月金额"],
              [["P1", "张伟", make_id(), "企业职工基本养老金", "2000"]] * 30000)
    with big.open("ab") as handle:  # undecodable bytes far beyond the header
        handle.write(b"\xff\xfe" * 10 + b"\n")
    found, _ = find_inputs(minimal_input, CONFIG)
    with pytest.raises(InputError) as caught:
        check_headers(found, CONFIG)
    message = str(caught.value)
    assert message.startswith("2 input files cannot be used")
    assert "roll.csv: required column missing: name" in message
    assert "deaths.csv: required column missing: death_date" in message
    assert "pensions.csv" not in message


def test_amounts_outside_their_range_are_unusable_and_reported(tmp_path: Path) -> None:
    """-500 and 1e23 yuan a month once reached the district summary and ranked the remove list
    with a negative priority; they are read as unusable values, counted with their rows."""
    import csv
    import json

    from pipelines.cli import main

    folder = tmp_path / "input"
    folder.mkdir()
    write_csv(folder / "roll.csv", ROLL_HEADER, [
        ["H1", "张伟", make_id(seq="011"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "-500"],
        ["H2", "李娜", make_id(birth="19820304", seq="022"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "1e23"],
        ["H3", "王芳", make_id(birth="19830304", seq="042"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
    ])
    write_csv(folder / "standards.csv", ["district", "category", "monthly_standard"],
              [["江岸区", "城市低保", "1050"]])
    out = tmp_path / "out" / "2026-10-31"
    assert main(["run", "--input", str(folder), "--output", str(out), "--as-of", "2026-10-31"]) == 0
    with (out / "summary_by_district.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["monthly_amount"]) for r in rows] == [900.0]
    with (out / "quality" / "value_issues.csv").open(encoding="utf-8") as handle:
        issues = [r for r in csv.DictReader(handle) if r["column"] == "monthly_amount"]
    assert [(r["issue"], r["rows"]) for r in issues] == [("number out of range (0 to 100000)", "2")]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["roll"]["loaded_rows"] == 3


def _outcome(result: object) -> tuple[object, ...]:
    from pipelines.outputs.manifest import ingest_facts

    facts = ingest_facts(result)  # type: ignore[arg-type]
    facts.pop("sha256")
    loaded = result.loaded  # type: ignore[attr-defined]
    quarantined = result.quarantined  # type: ignore[attr-defined]
    return (facts, list(loaded.columns), [str(t) for t in loaded.dtypes],
            loaded.astype(object).where(loaded.notna(), None).values.tolist(),
            quarantined.astype(object).where(quarantined.notna(), None).values.tolist())


@pytest.mark.parametrize(("batch_rows", "collide"), [(1, False), (2, False), (3, False),
                                                     (5, False), (3, True), (100, True)])
def test_typing_in_batches_gives_what_one_batch_gives(tmp_path: Path, batch_rows: int,
                                                      collide: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file is typed a batch at a time (memory): duplicates across batches, a row
    quarantined for its values and repeated later, notes counted over every batch, a title row,
    a malformed row and a column blank only in some batches come out as from one batch. With
    `collide`, every row hashes alike: rows are still told apart by their values."""
    import numpy as np

    from pipelines.ingest import dataset
    good, other = make_id(seq="011"), make_id(birth="19820304", seq="022")
    row = ["H1", "张伟", good, "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"]
    no_household = ["", "李娜", other, "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"]
    path = write_csv(tmp_path / "roll.csv", ROLL_HEADER, [
        row,
        ["H2", "王芳", "4.20102E+17", "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", ""],
        no_household,
        ["H3", "赵强", good[:17] + ("0" if good[17] != "0" else "1"), "户主", "江岸区",
         "大智街道", "幸福社区", "城市低保", "1", "9OO"],
        ["合计", "", "", "", "", "", "", "", "", "2700"],
        [*row[:9], "900.00"],  # equal once typed: a repeat of row 1
        ["H5", "赵强"],
        no_household,  # a repeat of a row quarantined for its own values
        ["H4", "陳明", other, "户主", "江岸區", "大智街道", "幸福社区", "城市低保", "1", "800"],
        row,
    ])
    whole = ingest_dataset("roll", path, CONFIG)
    if collide:
        monkeypatch.setattr(dataset, "_row_hashes",
                            lambda typed, columns: np.zeros(len(typed), dtype=np.uint64))
    batched = ingest_dataset("roll", path, CONFIG, batch_rows=batch_rows)
    assert _outcome(batched) == _outcome(whole)
    reasons = dict(zip(whole.quarantined["_row"], whole.quarantined["_reason"], strict=True))
    assert reasons[6] == reasons[10] == "exact duplicate of row 1"
    assert reasons[8] == "exact duplicate of row 3"
    assert reasons[3] == "roll row without household_id"
    notes = {(n["column"], n["issue"]): n["rows"] for n in whole.notes}
    assert notes[("monthly_amount", "number not recognised")] == 1


def test_loaded_rows_written_to_a_file_leave_nothing_else_behind(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = write_csv(tmp_path / "in" / "roll.csv", ROLL_HEADER, [
        ["H1", "张伟", make_id(seq="011"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        ["H1", "张伟", make_id(seq="011"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "1", "900"],
        ["H2", "李娜", make_id(birth="19820304", seq="022"), "户主", "江岸区", "大智街道",
         "幸福社区", "城市低保", "1", "800"]])
    work = tmp_path / "work"
    work.mkdir()
    result = ingest_dataset("roll", path, CONFIG, work / "norm_roll.parquet", batch_rows=2)
    assert [p.name for p in work.iterdir()] == ["norm_roll.parquet"]
    assert result.held is None and result.loaded_rows == 2
    assert result.loaded["_row"].tolist() == [1, 3]
