"""Reading department files: encodings, formats, malformed rows."""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import InputError
from pipelines.io.readers import detect_encoding, read_any

ROWS = "姓名,身份证号\n张伟,420102198001011234\n刘䶮,'42010219800101123x\n"


@pytest.mark.parametrize(("encoding", "expected", "text"), [
    ("utf-8", "utf-8", ROWS),                          # plain UTF-8
    ("utf-8-sig", "utf-8-sig", ROWS),                  # UTF-8 with BOM (Excel's "CSV UTF-8")
    ("gbk", "gbk", ROWS.replace("刘䶮", "刘岩")),       # GBK: the common legacy export
    ("gb18030", "gb18030", ROWS),                      # 䶮 exists in GB18030 but not in GBK
])
def test_each_encoding_is_detected_and_decoded(tmp_path: Path, encoding: str, expected: str,
                                                text: str) -> None:
    path = tmp_path / "roll.csv"
    path.write_bytes(text.encode(encoding))
    table = read_any(path)
    assert table.encoding == expected
    assert table.headers == ["姓名", "身份证号"]
    assert table.table.column("姓名").to_pylist() == [line.split(",")[0] for line in
                                                     text.splitlines()[1:]]
    assert table.table.column("_row").to_pylist() == [1, 2]


def test_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "deaths.csv"
    path.write_bytes(codecs.BOM_UTF8 + "记录编号,姓名\nD1,张伟\n".encode())
    assert read_any(path).headers == ["记录编号", "姓名"]


def test_undecodable_file_names_the_file_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    path.write_bytes("姓名\n张伟\n".encode() + b"\xff\xfe\xfa\n")
    with pytest.raises(InputError, match=r"roll\.csv: cannot be decoded as UTF-8, GBK or GB18030"):
        detect_encoding(path.read_bytes(), path)


def test_utf16_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    path.write_bytes("姓名\n张伟\n".encode("utf-16"))
    with pytest.raises(InputError, match="NUL bytes"):
        read_any(path)


def test_rows_with_the_wrong_number_of_fields_are_set_aside_with_their_row(tmp_path: Path) -> None:
    path = tmp_path / "pensions.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n", encoding="utf-8")
    table = read_any(path)
    assert table.table.column("_row").to_pylist() == [1, 3]
    assert table.table.column("_line").to_pylist() == [2, 4]
    assert [(r.row, r.reason, r.line) for r in table.malformed_rows] == [
        (2, "expected 2 fields, found 3", 3)]


def test_quoted_newlines_keep_exact_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "property.csv"
    path.write_text('a,b\n1,"x\ny"\n2,3,4\n5,6\n', encoding="utf-8")
    table = read_any(path)
    assert table.table.column("b").to_pylist() == ["x\ny", "6"]
    assert table.table.column("_row").to_pylist() == [1, 3]  # records, as a spreadsheet shows
    assert table.table.column("_line").to_pylist() == [2, 5]  # where each starts in an editor
    assert [(r.row, r.line) for r in table.malformed_rows] == [(2, 4)]


def test_xlsx_cells_are_read_as_the_text_a_user_sees(tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "staff.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["人员编号", "身份证号", "入职", "人数"])
    sheet.append(["S1", 420102198001011000.0, dt.datetime(2023, 1, 5), 3.0])  # number-typed ID
    sheet.append([None, None, None, None])                                   # blank line: no record
    sheet.append(["S2", "42010219800101123X", "2023年1月5日", 2])
    book.save(path)
    table = read_any(path)
    assert table.table.column("身份证号").to_pylist() == ["4.20102E+17", "42010219800101123X"]
    assert table.table.column("入职").to_pylist() == ["2023-01-05", "2023年1月5日"]
    assert table.table.column("人数").to_pylist() == ["3", "2"]
    assert table.table.column("_row").to_pylist() == [1, 3]


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.parquet"
    pq.write_table(pa.table({"record_id": ["V1", "V2"], "purchase_price": [85000.0, None],
                             "seats": pa.array([5, 7], pa.int32())}), path)
    table = read_any(path)
    assert table.table.column("purchase_price").to_pylist() == ["85000", None]
    assert table.table.column("seats").to_pylist() == ["5", "7"]


def test_damaged_xlsx_is_refused_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "low_income.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=r"low_income\.xlsx: cannot be read as an XLSX"):
        read_any(path)


def test_a_header_repeated_under_other_labels_of_the_same_columns_is_no_record(
        tmp_path: Path) -> None:
    """Found by the contract fuzz: a sheet's heading repeated with other aliases (人员编号 /
    staff_id) was loaded as a kin filing (CSV and workbook alike)."""
    from pipelines.config import load_config
    from pipelines.ingest.dataset import columns_of

    columns = columns_of("kin_filings", load_config())
    rows = [["人员编号", "备案日期", "身份证号", "户编号"],
            ["staff_id", "filed_date", "id_number", "household_id"],  # the heading again
            ["S01", "2020-01-02", "420102198001011234", "H1"]]
    path = tmp_path / "kin_filings.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    book_path = tmp_path / "kin_filings.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(book_path)
    for table in (read_any(path, columns), read_any(book_path, columns)):
        assert table.table.column("_layout").to_pylist() == [
            "the header row repeated (a printed page's heading), not a record", None]


def _roll_lines(n: int) -> list[str]:
    return [f"H{i},张{i},4201021980010{i:05d}" for i in range(n)]


@pytest.mark.parametrize("tail", [10, 5000])
def test_stray_opening_quote_is_a_plain_error_naming_the_line(tmp_path: Path, tail: int) -> None:
    """A quote that never closes swallows the rest of the file (5,000 lines: past the csv
    module's field limit, once a traceback); one that closes 10 lines on would have made ten
    rows one."""
    lines = ["户编号,姓名,身份证号", *_roll_lines(40)]
    lines[21] = 'H20,"张20,420102198001000020'
    lines += _roll_lines(tail)
    if tail == 10:
        lines += ['H99,张99",420102198001000099'] + _roll_lines(10)
        lines[21:21] = _roll_lines(15)  # the quote's record spans more than 20 lines
    path = tmp_path / "roll.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_any(path)
    message = str(caught.value)
    assert message.startswith("roll.csv: line ")
    assert "stray quot" in message
    line = 22 + (15 if tail == 10 else 0)
    assert f"line {line}" in message, message


def test_fifty_megabyte_value_is_a_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    body = "\n".join(["户编号,姓名,身份证号", *_roll_lines(5)])
    path.write_text(body + '\nH9,"' + "x" * (50 << 20) + '",1\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_any(path)
    assert str(caught.value).startswith("roll.csv: line 7: a value runs past")


def test_quoted_value_over_two_lines_is_still_one_value(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    path.write_text('户编号,姓名,家庭住址\nH1,张伟,"幸福路1号\n2单元"\nH2,李娜,幸福路2号\n',
                    encoding="utf-8")
    table = read_any(path).table
    assert table.column("家庭住址").to_pylist() == ["幸福路1号\n2单元", "幸福路2号"]
    assert table.column("_line").to_pylist() == [2, 4]


def test_formula_cells_without_a_saved_result_set_their_rows_aside(tmp_path: Path) -> None:
    """openpyxl (like many report generators) writes formulas without their results; read as
    blank they once lost two add-list candidates without a word."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "低收入"
    sheet.append(["编号", "姓名", "家庭月人均收入"])
    sheet.append(["L1", "张伟", "600"])
    sheet.append(["L2", "李娜", "=1800/3"])
    sheet.append(["L3", "王芳", "700"])
    sheet.append(["L4", "赵磊", "=SUM(400,200)"])
    path = tmp_path / "low_income.xlsx"
    book.save(path)
    raw = read_any(path)
    assert raw.table.column("姓名").to_pylist() == ["张伟", "王芳"]
    assert [(r.row, r.line, r.sheet) for r in raw.malformed_rows] == [(2, 3, "低收入"),
                                                                (4, 5, "低收入")]
    assert all("formula without a saved result in 家庭月人均收入" in r.reason
               for r in raw.malformed_rows)


def test_a_formula_whose_saved_result_is_empty_text_is_a_value(tmp_path: Path) -> None:
    """=IFERROR(...,"") saved by Excel: <c t="str"><f>..</f><v></v></c>, an empty result, not a
    missing one; the row is read (the cell blank), not set aside."""
    import zipfile

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "姓名", "备注"])
    sheet.append(["L1", "张伟", "=1+1"])
    sheet.append(["L2", "李娜", "=2+2"])
    path = tmp_path / "saved.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace('<c r="C2"><f>1+1</f><v /></c>',
                      '<c r="C2" t="str"><f>IFERROR(1/0,"")</f><v></v></c>')
    assert 't="str"' in xml
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    raw = read_any(path)
    assert raw.table.column("姓名").to_pylist() == ["张伟"]  # L2's =2+2 has no saved result
    assert [r.row for r in raw.malformed_rows] == [2]
