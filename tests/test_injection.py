"""Formula injection: text from input data is inert in every CSV and XLSX the project writes.

Injection strings (OWASP's CSV-injection examples, and a live link dressed as an appeal) go into
every text and name column of every dataset of a generated city, one row in four, and one whole
community is renamed to a formula; the audit, the publicity lists and the review app's queue
export are written from it, and every cell of every file is scanned: no XLSX cell is a formula,
no CSV cell begins with = + - @ unless it is a number or escaped behind an apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import WriteOnlyCell

from pipelines.cli import main
from pipelines.config import load_config
from pipelines.io.inert import csv_text, csv_value, row_cells, set_text
from pipelines.synth.writers import FORMATS

AS_OF = "2026-10-31"
INJECTIONS = ('=HYPERLINK("http://evil.example","点此申诉")', "=cmd|' /C calc'!A0",
              "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0")
COMMUNITY = '=HYPERLINK("http://evil.example","点此申诉")'
FORMULA = ("=", "+", "-", "@")


def _text_columns(dataset: str) -> set[str]:
    spec = load_config().datasets[dataset]
    return {name for name, column in spec.columns.items() if column.type in ("text", "name")}


def _inject(frame: pd.DataFrame, dataset: str, headers: dict[str, str]) -> pd.DataFrame:
    """Every text/name column: an injection string in one row of four (not the key columns a
    household hangs together by); the roll's largest community renamed to a formula."""
    frame = frame.copy()
    canonical = {header: name for name, header in headers.items()}
    texts = _text_columns(dataset) - {"household_id", "staff_id", "record_id", "district",
                                      "category"}
    for number, column in enumerate(frame.columns):
        if canonical.get(column) in texts:
            for row in range(number % 4, len(frame), 4):
                frame.iat[row, number] = INJECTIONS[(row + number) % len(INJECTIONS)]
    if dataset == "roll":
        community = headers["community"]
        largest = frame[community].value_counts().index[0]
        frame.loc[frame[community] == largest, community] = COMMUNITY
    return frame


def _rewrite(folder: Path) -> None:
    from pipelines.synth.writers import HEADERS

    for dataset, (file, form, encoding) in FORMATS.items():
        path = folder / file
        if not path.exists():
            continue
        if form == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            frame = _inject(frame, dataset, HEADERS[dataset])
            frame.to_csv(path, index=False, encoding=encoding)
        elif form == "parquet":
            frame = pq.read_table(path).to_pandas()
            frame = _inject(frame, dataset, HEADERS[dataset])
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame = pd.read_excel(path, engine="calamine", dtype=str, keep_default_na=False)
            frame = _inject(frame, dataset, HEADERS[dataset])
            book = Workbook(write_only=True)
            sheet = book.create_sheet("Sheet1")
            sheet.append(list(frame.columns))
            for values in frame.itertuples(index=False):  # text cells, as offices type them
                sheet.append([set_text(WriteOnlyCell(sheet), v) for v in values])
            book.save(path)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit, publicity lists and a review queue export of an injected city, in one folder."""
    base = tmp_path_factory.mktemp("injection")
    city = base / "input"
    assert main(["synth", "--households", "120", "--seed", "11", "--out", str(city)]) == 0
    _rewrite(city)
    output = base / "out" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(output), "--as-of", AS_OF]) == 0
    assert main(["publish", "--as-of", AS_OF, "--output", str(output)]) == 0

    from fastapi.testclient import TestClient

    from pipelines.review.app import create_app, factory_of
    from pipelines.review.auth import add_user
    from pipelines.review.importer import import_run

    url = f"sqlite:///{base / 'review.sqlite3'}"
    app = create_app(url)
    import_run(factory_of(app), output, imported_by="test")
    add_user(factory_of(app), "sup", "injection-test-password", "supervisor")
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    client.post("/login", data={"username": "sup", "password": "injection-test-password",
                                "csrf_token": token.group(1)})
    export = client.get("/queue.xlsx")
    assert export.status_code == 200
    (output / "queue.xlsx").write_bytes(export.content)
    app.state.engine.dispose()
    return output


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_written_csv_cell_is_inert(written: Path) -> None:
    files = sorted(written.rglob("*.csv"))
    assert len(files) >= 8
    escaped: dict[str, int] = {}
    live = []
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                for cell in row:
                    if cell.startswith("'") and cell[1:2] in FORMULA:
                        escaped[path.name] = escaped.get(path.name, 0) + 1
                    elif cell.startswith(FORMULA) and not _numeric(cell):
                        live.append((path.name, number, cell))
    assert live == []
    # the injected text reached the lists people open, escaped
    assert {"findings.csv", "remove_list.csv"} <= set(escaped), escaped


def _sheet_xml(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [archive.read(n).decode("utf-8") for n in archive.namelist()
                if n.startswith("xl/worksheets/") and n.endswith(".xml")]


def test_every_written_xlsx_cell_is_text_never_a_formula(written: Path) -> None:
    files = sorted(written.rglob("*.xlsx"))
    assert any(p.parent.name == "publicity" or "publicity" in p.parts for p in files)
    assert any(p.name == "queue.xlsx" for p in files)
    seen = {"publicity": False, "queue": False}
    for path in files:
        for xml in _sheet_xml(path):
            assert "<f>" not in xml and "<f " not in xml, path
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate)
                    if isinstance(cell.value, str) and cell.value.startswith(("=HYPERLINK",
                                                                               "=cmd", "=*")):
                        seen["queue" if path.name == "queue.xlsx" else "publicity"] = True
    assert seen == {"publicity": True, "queue": True}


def test_the_review_import_reads_the_values_back_as_they_were(written: Path) -> None:
    from sqlalchemy import select

    from pipelines.review.db import open_database
    from pipelines.review.models import Finding

    engine, factory = open_database(f"sqlite:///{written.parents[1] / 'review.sqlite3'}")
    with factory() as session:
        names = set(session.scalars(select(Finding.name)))
    engine.dispose()
    assert names & set(INJECTIONS)  # unescaped: the apostrophe was the CSV's, not the name's
    assert not any(n and n.startswith("'") for n in names)


def test_inert_helpers_escape_text_only() -> None:
    for value in ("=1+1", "'=x", "'plain", "张伟", "-2+3", ""):
        assert csv_value(csv_text(value)) == value
    assert csv_text("=1+1") == "'=1+1" and csv_text("@x") == "'@x"
    assert csv_text("-2+3") == "'-2+3" and csv_text("+86 138") == "'+86 138"
    assert csv_text("\t=1") == "'\t=1" and csv_text("张伟") == "张伟"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("x")
    cells = row_cells(sheet, ["=1+1", "ok", -5])
    assert cells[0].data_type == "s" and cells[1:] == ["ok", -5]
    buffer = io.BytesIO()
    sheet.append(cells)
    book.save(buffer)
    assert "<f>" not in _sheet_xml_bytes(buffer.getvalue())


def _sheet_xml_bytes(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                       if n.startswith("xl/worksheets/"))
