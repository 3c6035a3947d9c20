"""Publicity (公示) lists: content, masking, community filter, determinism and privacy.

The privacy scan (`leaks`) reads every file back the way a reader would (XLSX cells through
openpyxl, PDF text through pdftotext) and fails on anything shaped like an ID number, phone,
bank account or address, and on any value of the roll that must never be published.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.config import PublicityConfig, load_config, normalise_header
from pipelines.errors import InputError
from pipelines.ingest.names import mask_name, normalise_name
from pipelines.io.publicity_pdf import face_index
from pipelines.io.publicity_xlsx import sheet_names
from pipelines.publicity.lists import (
    COLUMNS,
    PublicityRow,
    community_lists,
    select_community,
    street_lists,
    write_publicity,
)
from tests.conftest import make_id

AS_OF = date(2026, 10, 31)
CITY = "武汉市"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "publicity"
SETTINGS = PublicityConfig(office="江岸区民政局社会救助科", complaint_phone="12345")


def row(hid: str, name: str, *, district: str = "江岸区", street: str = "大智街道",
        community: str = "建设社区", size: int = 2, covered: int | None = None,
        amount: float = 1200, category: str = "城市低保", change: str = "") -> PublicityRow:
    return PublicityRow(hid, district, street, community, name, size,
                        size if covered is None else covered, amount, category, change)


SMALL = [
    row("H03", "张小伟", amount=1500.5),                          # three characters: 张*伟
    row("H01", "欧阳小明", size=3, amount=2100, change="调整"),     # compound surname: 欧**明
    row("H02", "阿卜杜·热合曼", size=1, amount=700.125,           # middle dot kept; half-up cents
        change="成员减少、新增"),                                  # change order normalised
    row("H04", "王芳", size=4, covered=3, amount=1800, change="停保"),  # stopped: own section
    row("H05", "李娜", street="球场街道", amount=980),               # same community, other street
    row("H06", "赵强", street="球场街道", community="幸福/和平社区",  # path-unsafe name
        category="城市低保"),
    row("H07", "刘洋", district="洪山区", street="洪山街道", community="建设村", size=1,
        amount=650, category="农村低保"),                           # another district
]
SMALL_NAMES = [r.head_name for r in SMALL]


# ---------------------------------------------------------------- the privacy scan

ID_18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
ID_15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
ID_SPACED = re.compile(r"(?<!\d)\d{6}[\s-]+(?:\d{8}|\d{4}[\s-]+\d{4})[\s-]+\d{3}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
BANK = re.compile(r"(?<!\d)(?:\d{16,19}|\d{4}(?:[\s-]\d{4}){3}(?:[\s-]\d{1,3})?)(?!\d)")
ADDRESS = re.compile(r"\d+\s*(?:号楼|号|室|栋|幢|单元|楼|层)")
LONG_NUMBER = re.compile(r"(?<!\d)\d{15,}(?!\d)")  # 15+ digits: an ID or account, whatever else
HEALTH = re.compile(r"残疾|疾病|患病|诊断|病史|精神|癌|重病|失能")


@dataclass
class Secrets:
    """What must never appear in a publicity file."""

    values: set[str] = field(default_factory=set)  # ID numbers, phones, accounts, addresses, ids
    unmasked_names: set[str] = field(default_factory=set)
    allowed_phone: str = "12345"

    def add(self, values: Iterable[object]) -> None:
        for value in values:
            text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
            text = "".join(unicodedata.normalize("NFKC", text).split()).lstrip("'")
            if len(text) >= 6:
                self.values.add(text)


def file_texts(path: Path) -> list[str]:
    """What a reader sees: every cell and sheet name of an XLSX; a PDF's text, laid out and raw."""
    if path.suffix == ".xlsx":
        workbook = load_workbook(path)
        texts = [str(workbook.properties.title or "")]
        for ws in workbook.worksheets:
            texts.append(ws.title)
            texts += [str(c.value) for r in ws.iter_rows() for c in r if c.value is not None]
        return texts
    layout, raw = (subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True,
                                  check=True, text=True).stdout for mode in ("-layout", "-raw"))
    # -raw keeps a wrapped cell's lines together: joined, a long number split by wrapping is whole
    return [layout, raw.replace("\n", "")]


def leaks(paths: Sequence[Path], secrets: Secrets) -> list[str]:
    """Every hit of the scan over these files, as 'file: what: text'."""
    hits = []
    for path in paths:
        for raw in file_texts(path):
            text = unicodedata.normalize("NFKC", raw)
            compact = "".join(text.split())
            shaped = re.sub(rf"(?<!\d){re.escape(secrets.allowed_phone)}(?!\d)", " ", text)
            for label, pattern in (("ID number", ID_18), ("ID number", ID_15),
                                   ("ID number", ID_SPACED), ("mobile", MOBILE),
                                   ("landline", LANDLINE), ("bank account", BANK),
                                   ("long number", LONG_NUMBER), ("address", ADDRESS),
                                   ("health", HEALTH)):
                hits += [f"{path.name}: {label}: {m.group()}" for m in pattern.finditer(shaped)]
            hits += [f"{path.name}: roll value: {v}" for v in secrets.values
                     if v != secrets.allowed_phone and (v in text or v in compact)]
            hits += [f"{path.name}: unmasked name: {n}" for n in secrets.unmasked_names
                     if len(n) >= 2 and n in text]
    return hits


def pdf_text(path: Path) -> str:
    return "".join(file_texts(path)[0].split())


# ---------------------------------------------------------------- lists (no files)

def test_lists_order_totals_and_stopped_section():
    lists = community_lists(SMALL, AS_OF, SETTINGS, CITY)
    # by district, street, community (code point order); the file stem is path-safe
    assert list(lists) == ["大智街道-建设社区", "球场街道-幸福_和平社区", "球场街道-建设社区",
                           "洪山街道-建设村"]
    plist = lists["大智街道-建设社区"]
    assert plist.title == "建设社区城乡最低生活保障公示名单"
    assert plist.subtitle.startswith("武汉市江岸区大智街道")
    # print order by household id, never shown; masked names; 停保 apart and out of the totals
    assert [h.name for h in plist.listed] == ["欧**明", "阿**·**曼", "张*伟"]
    assert [h.name for h in plist.stopped] == ["王*"]
    assert [h.change for h in plist.listed] == ["调整", "新增、成员减少", ""]
    assert str(plist.listed[1].amount) == "700.13"
    assert (plist.households, plist.covered, str(plist.amount)) == (3, 6, "4300.63")
    assert (plist.period_start, plist.period_end) == (date(2026, 11, 1), date(2026, 11, 7))
    assert "公示期：2026年11月1日至2026年11月7日。" in plist.notes()
    assert any("江岸区民政局社会救助科" in n and "监督电话：12345" in n for n in plist.notes())
    longer = community_lists(SMALL, AS_OF, SETTINGS.model_copy(update={"period_days": 15}), CITY)
    assert longer["大智街道-建设社区"].period_end == date(2026, 11, 15)


def test_same_street_and_community_in_two_districts_keeps_files_apart():
    rows = [row("A1", "张伟"), row("B1", "李娜", district="江汉区")]  # 大智街道-建设社区 twice
    assert list(community_lists(rows, AS_OF, SETTINGS, CITY)) == [
        "江岸区-大智街道-建设社区", "江汉区-大智街道-建设社区"]


def test_select_community_by_name_by_key_ambiguous_and_unknown():
    lists = community_lists(SMALL, AS_OF, SETTINGS, CITY)
    assert sorted(select_community(lists, "建设社区")) == ["大智街道-建设社区", "球场街道-建设社区"]
    assert list(select_community(lists, "球场街道-建设社区")) == ["球场街道-建设社区"]
    assert list(select_community(lists, " 建设村 ")) == ["洪山街道-建设村"]
    with pytest.raises(InputError, match=r"'光明社区'.*建设社区"):
        select_community(lists, "光明社区")


def test_street_lists_and_sheet_names():
    streets = street_lists(SMALL, AS_OF, SETTINGS, CITY)
    assert [s.street for s in streets] == ["大智街道", "球场街道", "洪山街道"]
    assert [h.community for h in streets[1].listed] == ["幸福/和平社区", "建设社区"]
    long = "很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长街道"  # > 31
    first = streets[0]
    names = sheet_names([first, first, replace(first, street=long), replace(first, street="汇总")],
                        reserved=["汇总"])
    assert names[:2] == ["大智街道", "江岸区大智街道"]
    assert len(names[2]) == 31 and names[3] == "江岸区汇总"
    assert len({n.casefold() for n in names}) == 4


def test_font_face_is_simplified_chinese_and_missing_font_is_explained(tmp_path):
    assert face_index("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc") == 2
    with pytest.raises(InputError, match="font.*missing"):
        write_publicity(SMALL, tmp_path / "out", AS_OF,
                        SETTINGS.model_copy(update={"font": str(tmp_path / "font.ttf")}), CITY)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- files

@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_publicity(SMALL, tmp_path_factory.mktemp("small"), AS_OF, SETTINGS, CITY)


def small_secrets() -> Secrets:
    secrets = Secrets(unmasked_names=set(SMALL_NAMES))
    secrets.add(r.household_id for r in SMALL)
    return secrets


def test_files_named_by_street_and_community_plus_city_workbook(small_files):
    assert [p.name for p in small_files] == sorted([
        "大智街道-建设社区.xlsx", "大智街道-建设社区.pdf", "球场街道-建设社区.xlsx",
        "球场街道-建设社区.pdf", "球场街道-幸福_和平社区.xlsx", "球场街道-幸福_和平社区.pdf",
        "洪山街道-建设村.xlsx", "洪山街道-建设村.pdf", "武汉市最低生活保障公示名单-2026-10-31.xlsx"])
    assert leaks(small_files, small_secrets()) == []


def test_community_xlsx_layout_totals_and_stopped(small_files):
    path = next(p for p in small_files if p.name == "大智街道-建设社区.xlsx")
    ws = load_workbook(path).active
    assert ws["A1"].value == "建设社区城乡最低生活保障公示名单" and ws["A1"].font.b
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert tuple(c.value for c in ws[3]) == COLUMNS
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert values[0] == [1, "欧**明", 3, 3, 2100, "城市低保", "建设社区", "调整"]
    assert ws["E4"].number_format == "#,##0.00"
    assert values[3][:5] == ["合计", "3户", None, 6, pytest.approx(4300.63)]
    stop_at = next(i for i, v in enumerate(values) if str(v[0]).startswith("本期停保"))
    assert values[stop_at + 2][:2] == [1, "王*"] and values[stop_at + 2][7] == "停保"
    notes = [v[0] for v in values[stop_at + 3:] if v[0]]
    assert notes[1] == "公示期：2026年11月1日至2026年11月7日。"
    assert notes[-1] == "日期：2026年10月31日"


def test_community_pdf_text(small_files):
    text = pdf_text(next(p for p in small_files if p.name == "大智街道-建设社区.pdf"))
    for expected in ("建设社区城乡最低生活保障公示名单", "武汉市江岸区大智街道", *COLUMNS,
                     "欧**明", "阿**·**曼", "张*伟", "合计3户", "4300.63", "本期停保", "王*",
                     "公示期：2026年11月1日至2026年11月7日", "江岸区民政局社会救助科",
                     "监督电话：12345", "日期：2026年10月31日", "第1页/共1页"):
        assert expected in text, expected
    assert "H01" not in text and "张小伟" not in text


def test_long_list_repeats_the_header_on_every_pdf_page(tmp_path):
    rows = [row(f"M{i:03}", SMALL_NAMES[i % 3], amount=500 + i) for i in range(90)]
    rows.append(row("M999", "王芳", amount=float("nan")))  # a missing amount shows as 0.00
    [pdf] = [p for p in write_publicity(rows, tmp_path, AS_OF, SETTINGS, CITY) if p.suffix == ".pdf"]
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))
    assert pages >= 3
    for page in range(1, pages + 1):
        text = "".join(subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True, text=True, check=True).stdout.split())
        assert f"第{page}页/共{pages}页" in text
        if page < pages:  # the last page may hold only the notes
            assert "".join(COLUMNS) in text, page
    assert "合计91户" in pdf_text(pdf) and "0.00城市低保" in pdf_text(pdf)


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text (pdftotext -layout), whitespace removed."""
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")
    return ["".join(page.split()) for page in pages if page.strip()]


def test_long_cells_wrap_inside_a_taller_row(tmp_path):
    """A cell too long for its column wraps; its row grows so the lines stack inside it, and
    text extraction keeps the cell's lines together and the row's cells in column order."""
    long_name, changes = "阿卜杜·热合曼·买买提·艾力", "新增、调整、成员增加、成员减少"
    rows = [row("W1", "张伟"), row("W2", long_name, change="成员减少、调整、成员增加、新增"),
            row("W3", "李娜")]
    settings = SETTINGS.model_copy(update={"mask_names": False})
    [pdf] = [p for p in write_publicity(rows, tmp_path, AS_OF, settings, CITY) if p.suffix == ".pdf"]
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    assert f"2{long_name}221200.00城市低保建设社区{changes}3李娜" in "".join(raw.split())
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    words = [(float(x0), float(y0), float(y1), text) for x0, y0, y1, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
        boxes)]
    # the name column spans 22-48 mm from the page edge (62.4-136.1 pt); 序号 is left of it
    name_words = sorted((y0, y1, text) for x0, y0, y1, text in words
                        if 62.4 <= x0 < 136.1 and text in long_name)
    assert len(name_words) >= 2 and "".join(t for _, _, t in name_words) == long_name
    name_lines = [(y0, y1) for y0, y1, _ in name_words]
    assert all(below[0] >= above[1] for above, below in itertools.pairwise(name_lines))
    numbers = {text: (y0, y1) for x0, y0, y1, text in words
               if x0 < 62.4 and text in ("1", "2", "3")}
    assert numbers["1"][1] <= name_lines[0][0]  # row 1 above, row 3 below the wrapped cell
    assert numbers["3"][0] >= name_lines[-1][1]
    # one-line cells of the row are centred on it: 序号 halfway between the name's lines
    assert abs(sum(numbers["2"]) - (name_lines[0][0] + name_lines[-1][1])) / 2 < 1


def test_stopped_caption_starts_a_page_together_with_its_table(tmp_path):
    """Wherever the main table ends, the 本期停保 caption is on the page of the stopped
    table's heading and first row, never left alone at the foot of a page."""
    rows = []
    for listed in range(30, 46):  # the main table ends at every height of page 1's last rows
        community = f"第{listed}社区"
        rows += [row(f"K{listed}-{i:02}", "赵强", community=community) for i in range(listed)]
        rows.append(row(f"K{listed}-S", "钱七", community=community, change="停保"))
    pdfs = [p for p in write_publicity(rows, tmp_path, AS_OF, SETTINGS, CITY) if p.suffix == ".pdf"]
    assert len(pdfs) == 16
    caption_pages = set()
    for pdf in pdfs:
        pages = pdf_pages(pdf)
        [at] = [i for i, page in enumerate(pages) if "本期停保" in page]
        caption_pages.add(at)
        after = pages[at].split("本期停保", 1)[1]
        assert "".join(COLUMNS) in after and "1钱*" in after, pdf.name
    assert caption_pages == {0, 1}  # the range did reach the foot of page 1


def test_city_workbook_one_sheet_per_street(small_files):
    workbook = load_workbook(next(p for p in small_files if p.name.startswith("武汉市")))
    assert workbook.sheetnames == ["汇总", "大智街道", "球场街道", "洪山街道"]
    summary = [[c.value for c in r] for r in workbook["汇总"].iter_rows(min_row=4)]
    assert summary[0][:8] == ["江岸区", "大智街道", 1, 3, 6, pytest.approx(4300.63), 1, 1]
    assert summary[-1][:2] == ["合计", "3个街道"] and summary[-1][3] == 6
    assert workbook["球场街道"]["A1"].value == "球场街道城乡最低生活保障公示名单"


def test_mask_names_off_shows_full_names(tmp_path):
    settings = SETTINGS.model_copy(update={"mask_names": False})
    paths = write_publicity(SMALL, tmp_path, AS_OF, settings, CITY, community="大智街道-建设社区")
    xlsx, pdf = sorted(paths, key=lambda p: p.suffix, reverse=True)
    cells = " ".join(file_texts(xlsx))
    text = pdf_text(pdf)
    for name in ("欧阳小明", "阿卜杜·热合曼", "张小伟", "王芳"):
        assert name in cells and name in text


def test_community_filter_ambiguous_and_unknown(tmp_path):
    paths = write_publicity(SMALL, tmp_path / "a", AS_OF, SETTINGS, CITY, community="建设社区")
    assert [p.name for p in paths] == ["大智街道-建设社区.pdf", "大智街道-建设社区.xlsx",
                                       "球场街道-建设社区.pdf", "球场街道-建设社区.xlsx"]
    with pytest.raises(InputError, match="幸福社区"):
        write_publicity(SMALL, tmp_path / "b", AS_OF, SETTINGS, CITY, community="幸福社区")
    assert not (tmp_path / "b").exists()


def test_same_rows_give_identical_bytes(tmp_path, small_files):
    again = write_publicity(list(reversed(SMALL)), tmp_path, AS_OF, SETTINGS, CITY)
    assert [p.name for p in again] == [p.name for p in small_files]
    for first, second in zip(small_files, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    with zipfile.ZipFile(again[0].with_suffix(".xlsx")) as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "2026-10-31T00:00:00Z</dcterms:modified>" in core


def test_worker_processes_give_the_same_bytes_as_one_process(tmp_path):
    """Files rendered in two worker processes are byte for byte those rendered in-process."""
    alone = write_publicity(SMALL, tmp_path / "one", AS_OF, SETTINGS, CITY, workers=1)
    pooled = write_publicity(SMALL, tmp_path / "two", AS_OF, SETTINGS, CITY, workers=2)
    assert [p.name for p in alone] == [p.name for p in pooled] and len(alone) == 9
    for first, second in zip(alone, pooled, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    # the embedded font has TrueType outlines (the one-off conversion that makes PDFs quick)
    fonts = subprocess.run(["pdffonts", str(pooled[0])], capture_output=True, text=True,
                           check=True).stdout
    assert "CID TrueType" in fonts and "Type 0C" not in fonts


def test_scan_detects_planted_leaks(tmp_path):
    """The detector detects: a roll whose fields carry private data is caught in both formats."""
    person_id, phone, account = make_id(seq="456"), "13912345678", "6222021234567890123"
    planted = [
        row("H1", person_id),                                     # an ID number as a name
        row("H2", "张伟", category=f"电话{phone}"),                  # a phone
        row("H3", "李娜", community="建设社区8栋2单元301室"),         # an address
        row("H4", "王芳", change=f"账号{account}"),                  # a bank account
        row("H5", "刘洋", category="重度残疾"),                      # a health detail
    ]
    paths = write_publicity(planted, tmp_path, AS_OF,
                            SETTINGS.model_copy(update={"mask_names": False}), CITY)
    secrets = Secrets(unmasked_names={"张伟", "李娜"})
    secrets.add([person_id, phone, account])
    hits = leaks(paths, secrets)
    for suffix in (".xlsx", ".pdf"):
        found = " | ".join(h for h in hits if h.split(":")[0].endswith(suffix))
        # a number wrapped in a narrow PDF cell reads back joined to its neighbours: long number
        for labels in (("ID number", "long number"), ("mobile",), ("bank account", "long number"),
                       ("address",), ("health",), ("roll value",), ("unmasked name",)):
            assert any(label in found for label in labels), (suffix, labels)
    # shapes: a damaged ID with X inside is not an ID; a totals line is not a phone
    assert ID_18.search("4201021969100661X4") is None and ID_18.search("42010219691006613X")
    assert MOBILE.search("合计 35户 87 56375.00") is None


# ---------------------------------------------------------------- a generated city

@dataclass
class City:
    roll: pd.DataFrame
    rows: list[PublicityRow]
    out: Path
    paths: list[Path]


def rows_from_roll(roll: pd.DataFrame) -> list[PublicityRow]:
    """One PublicityRow per household: the head's row, members counted, some changes marked."""
    covered = roll.groupby("household_id").size()
    heads = (roll.assign(is_head=roll["relation"].eq("户主"))
             .sort_values("is_head", ascending=False, kind="stable")
             .drop_duplicates("household_id").sort_values("household_id"))
    marks = ["新增", "调整", "成员增加", "成员减少、调整", "停保"]
    out = []
    for i, head in enumerate(heads.itertuples()):
        amount = pd.to_numeric(pd.Series([head.monthly_amount]), errors="coerce").fillna(0)[0]
        size = pd.to_numeric(pd.Series([head.household_size]), errors="coerce").fillna(1)[0]
        out.append(PublicityRow(
            household_id=head.household_id, district=head.district or "", street=head.street or "",
            community=head.community or "", head_name=normalise_name(head.name) or "",
            household_size=int(size), covered=int(covered[head.household_id]),
            monthly_amount=float(amount), category=head.category or "",
            change=marks[i % 5] if i % 6 == 0 else ""))
    return out


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    base = tmp_path_factory.mktemp("city")
    subprocess.run([str(Path(sys.executable).with_name("dibao-audit")), "synth", "--households", "300", "--seed", "1",
                    "--out", str(base / "input")], check=True, capture_output=True)
    roll = pd.read_csv(base / "input" / "roll.csv", encoding="gb18030", dtype=str,
                       keep_default_na=False)
    header = load_config().header_map("roll")
    roll = roll.rename(columns={c: header[normalise_header(c)] for c in roll.columns})
    rows = rows_from_roll(roll)
    config = load_config()
    paths = write_publicity(rows, base / "publicity", AS_OF, config.publicity, config.city.name)
    return City(roll, rows, base / "publicity", paths)


@pytest.mark.slow
def test_generated_city_files_leak_nothing(city: City):
    communities = {(r.street, r.community) for r in city.rows}
    assert len(city.paths) == 2 * len(communities) + 1
    secrets = Secrets(unmasked_names={r.head_name for r in city.rows})
    for column in ("id_number", "phone", "bank_account", "address", "household_id"):
        secrets.add(city.roll[column])
    assert len(secrets.values) > 900
    assert leaks(city.paths, secrets) == []


def non_white(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as image:
        gray = image.convert("L")
        dark = sum(gray.histogram()[:200])
        return dark / (gray.width * gray.height)


@pytest.mark.slow
def test_xlsx_opens_in_libreoffice_and_both_pdfs_render(city: City, tmp_path):
    """A real client: LibreOffice converts the XLSX; both PDFs render and read back the roll."""
    counts: dict[tuple[str, str], int] = {}
    for r in city.rows:
        counts[(r.street, r.community)] = counts.get((r.street, r.community), 0) + 1
    street, community = max(counts, key=lambda k: (counts[k], k))
    stem = f"{street}-{community}"
    xlsx = city.out / f"{stem}.xlsx"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=180)
    office_pdf = tmp_path / f"{stem}.pdf"
    assert office_pdf.is_file()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expected_names = [mask_name(r.head_name) for r in city.rows
                      if (r.street, r.community) == (street, community)]
    for label, pdf in (("libreoffice", office_pdf), ("fpdf2", city.out / f"{stem}.pdf")):
        prefix = ARTIFACTS / f"{label}-{stem}"
        for old in ARTIFACTS.glob(f"{label}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(prefix)], check=True)
        pages = sorted(ARTIFACTS.glob(f"{label}-{stem}*.png"))
        assert pages, label
        for page in pages:
            assert non_white(page) > 0.005, page
        text = pdf_text(pdf)
        assert f"{community}城乡最低生活保障公示名单" in text, label
        assert community in text and street in text
        missing = [n for n in expected_names if n not in text]
        assert not missing, (label, missing)
    shutil.copy(office_pdf, ARTIFACTS / f"libreoffice-{stem}.pdf")
