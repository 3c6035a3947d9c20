"""Publicity lists as PDF (fpdf2) with an embedded CJK font, so readers need no office suite.

The font (Noto Sans CJK SC from Debian's fonts-noto-cjk unless `publicity.font` names another)
is first cut down to the characters of every list of the run, once: fpdf2 then parses and
subsets a small font per file instead of the 20 MB collection (about 0.1 s instead of 2 s).
That cut-down font is also given TrueType outlines, once: fpdf2 subsets (and fontTools
compiles) quadratic glyf outlines per file 3-5 times faster than CFF ones.

The tables are drawn directly (a rectangle per cell, text placed with `text()`), not with
fpdf2's `table()`, which lays out every cell through multi_cell twice and took about ten
times as long; the page looks the same (same positions, fonts, grey heading row repeated on
every page, long cells wrapped between characters in a taller row). See
docs/decisions/0005-publicity-rendering.md.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from fpdf import FPDF

from pipelines.errors import InputError
from pipelines.publicity.lists import (
    COLUMNS,
    LIST_COLUMNS,
    STOPPED_HEADING,
    ListColumn,
    ListedHousehold,
    PublicityList,
    money,
)

logger = logging.getLogger(__name__)

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
DEFAULT_REGULAR = NOTO_DIR / "NotoSansCJK-Regular.ttc"
DEFAULT_BOLD = NOTO_DIR / "NotoSansCJK-Bold.ttc"
FAMILY = "cjk"
MARGIN = 10  # mm, left and right
TABLE_WIDTH = 190  # mm: A4 portrait less 10 mm margins
COL_WIDTHS = tuple(c.width * TABLE_WIDTH / sum(c.width for c in LIST_COLUMNS)
                   for c in LIST_COLUMNS)  # mm
ALIGN = tuple(c.align for c in LIST_COLUMNS)
COL_X = tuple(MARGIN + sum(COL_WIDTHS[:i]) for i in range(len(COL_WIDTHS)))  # left edges, mm
CELL_SIZE = 9  # pt, table text
LINE_HEIGHT = 6  # mm per line of a table cell
HEADING_FILL = (228, 228, 228)
CAPTION_GAP, CAPTION_HEIGHT = 4, 7  # mm: space above the 本期停保 caption, its line
CHINA = timezone(timedelta(hours=8))
# Characters the layout itself prints, besides the lists' own text.
_LAYOUT_TEXT = "第页共（续）户不计入合计" + "".join(COLUMNS) + STOPPED_HEADING
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(
    chr(c) for c in (*range(0x3000, 0x3020), *range(0xFF01, 0xFF5F), 0xB7, 0x2014, 0x2026))


@contextmanager
def quiet_font_tools() -> Iterator[None]:
    """fontTools' INFO lines (every table pruned, every glyph name kept) muted for a while.

    fpdf2 subsets the font of every file: at INFO that is ten lines and a list of all glyph
    names per PDF on the run's log, formatted and masked for nothing.
    """
    font_tools = logging.getLogger("fontTools")
    level = font_tools.level
    font_tools.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        font_tools.setLevel(level)


@cache
def face_index(path: str) -> int:
    """The face of a font collection to use: Noto Sans CJK SC (simplified) if present, else 0."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    families = [str(face["name"].getDebugName(1) or "") for face in TTCollection(path, lazy=True)]
    for wanted in (lambda f: f == "Noto Sans CJK SC",
                   lambda f: f.endswith(" SC") and "Mono" not in f,
                   lambda f: " SC" in f or "SC " in f):
        for index, family in enumerate(families):
            if wanted(family):
                return index
    return 0


def resolve_font(configured: str | None) -> tuple[Path, Path | None]:
    """(regular, bold or None) font files; a missing file is a setup problem told in words."""
    regular = Path(configured) if configured else DEFAULT_REGULAR
    if not regular.is_file():
        hint = ("set publicity.font to a TTF/TTC file that exists" if configured else
                "install Debian's fonts-noto-cjk (scripts/system-packages.sh) or set publicity.font")
        raise InputError(f"the PDF font {regular} is missing: {hint}")
    bold = DEFAULT_BOLD if configured is None and DEFAULT_BOLD.is_file() else None
    return regular, bold


@lru_cache(maxsize=4)
def _subset(path: str, chars: str) -> bytes:
    """The font's face cut down to `chars` (deterministic: no timestamp recalculation)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=face_index(path), lazy=True, recalcTimestamp=False,
                  recalcBBoxes=False)
    options = subset.Options()
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


# Curves become quadratic within this many font units (of 1000 per em): under 0.01 mm at 10 pt.
_CU2QU_ERROR = 1.0


@lru_cache(maxsize=4)
def _truetype(data: bytes) -> bytes:
    """A CFF-outlined font with TrueType (glyf) outlines instead; other fonts unchanged.

    Metrics, cmap and names stay; cubic curves are approximated by quadratic ones
    (fontTools cu2qu, as its otf2ttf snippet does). Deterministic: same input, same bytes.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(BytesIO(data), recalcTimestamp=False, recalcBBoxes=True)
    if "CFF " not in font:
        return data
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, _CU2QU_ERROR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = font["maxp"] = newTable("maxp")  # version 1.0; counts recalculated on save
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _chars(lists: Sequence[PublicityList], extra: str, *, bold: bool = False) -> str:
    """Every character the PDFs print (bold: only titles, headings and the totals row)."""
    seen = set(_ALWAYS + _LAYOUT_TEXT + extra)
    for plist in lists:
        seen.update(plist.title)
        if bold:
            continue
        seen.update(plist.subtitle + "".join(plist.notes()))
        for house in (*plist.listed, *plist.stopped):
            seen.update("".join(str(c.cell(0, house)) for c in LIST_COLUMNS))
    return "".join(sorted(seen))


@dataclass(frozen=True)
class PdfFonts:
    """The embedded font files (regular and bold, cut down to the run's characters, TrueType)."""

    regular: Path
    bold: Path

    @classmethod
    @contextmanager
    def prepare(cls, configured: str | None, lists: Sequence[PublicityList],
                extra: str = "") -> Iterator[PdfFonts]:
        with cls.for_text(configured, _chars(lists, extra),
                          _chars(lists, extra, bold=True)) as fonts:
            yield fonts

    @classmethod
    @contextmanager
    def for_text(cls, configured: str | None, text: str,
                 bold_text: str | None = None) -> Iterator[PdfFonts]:
        """Fonts cut down to the characters of `text` (and, bold, of `bold_text`; default the
        same), for documents other than the publicity lists (notices, reports)."""
        regular, bold = resolve_font(configured)
        chars = "".join(sorted(set(_ALWAYS + text)))
        bold_chars = "".join(sorted(set(_ALWAYS + (text if bold_text is None else bold_text))))
        with tempfile.TemporaryDirectory(prefix="dibao-fonts-") as tmp:
            paths = []
            # without a bold file, bold text uses the regular subset (cache hits)
            for name, source, only_bold in (("regular", regular, False),
                                            ("bold", bold or regular, bold is not None)):
                target = Path(tmp) / f"{name}.ttf"
                try:
                    with quiet_font_tools():
                        subset = _subset(str(source), bold_chars if only_bold else chars)
                        target.write_bytes(_truetype(subset))
                except Exception as exc:  # an unusual font fontTools cannot subset: use it whole
                    logger.warning("font %s could not be cut down (%s); embedding it whole",
                                   source, exc)
                    target = source
                paths.append(target)
            yield cls(regular=paths[0], bold=paths[1])


def cjk_document(fonts: PdfFonts, title: str, day: date) -> FPDF:
    """A blank A4 portrait document with the CJK fonts as FAMILY (regular, bold), titled and
    dated `day` (so the same content gives the same bytes): for notices and reports."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, path in (("", fonts.regular), ("B", fonts.bold)):
        pdf.add_font(FAMILY, style, path, collection_font_number=face_index(str(path)))
    pdf.set_title(title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("dibao-audit")
    pdf.set_creation_date(datetime.combine(day, time(0, 0), CHINA))
    return pdf


class _Document(FPDF):
    def __init__(self, plist: PublicityList, fonts: PdfFonts):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.plist = plist
        index = {p: face_index(str(p)) for p in (fonts.regular, fonts.bold)}
        self.add_font(FAMILY, "", fonts.regular, collection_font_number=index[fonts.regular])
        self.add_font(FAMILY, "B", fonts.bold, collection_font_number=index[fonts.bold])
        for font in self.fonts.values():  # bounding boxes are the source font's: keep, not recompute
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.recalcBBoxes = False
        self.set_margins(MARGIN, 12, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self._char_widths: dict[tuple[str, float], dict[str, float]] = {}

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FAMILY, size=8)
            self.set_text_color(110)
            self.cell(0, 5, f"{self.plist.title}（续）", align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.cell(0, 6, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")

    # ------------------------------------------------------------ the tables, drawn directly

    def widths(self) -> dict[str, float]:
        """Width (mm) of each character in the current font, measured once per character."""
        return self._char_widths.setdefault((self.font_style, self.font_size_pt), {})

    def text_width(self, text: str, widths: dict[str, float]) -> float:
        """Width (mm) of `text` in the font `widths` belongs to (as fpdf2 measures it)."""
        total = 0.0
        for char in text:
            width = widths.get(char)
            if width is None:
                width = widths[char] = self.get_string_width(char)
            total += width
        return total

    def lines(self, text: str, room: float, widths: dict[str, float]) -> list[str]:
        """A cell's text broken into lines of at most `room` mm, between any two characters
        (fpdf2's WrapMode.CHAR); a line break in the text starts a new line."""
        if "\n" not in text and self.text_width(text, widths) <= room:
            return [text]
        out = []
        for part in text.split("\n"):
            line, used = "", 0.0
            for char in part:
                width = self.text_width(char, widths)
                if line and used + width > room:
                    out.append(line)
                    line, used = "", 0.0
                line += char
                used += width
            out.append(line)
        return out

    def table_row(self, layout: Sequence[Sequence[str]], *, bold: bool = False,
                  fill: bool = False) -> None:
        """One table row at the current y, from its cells' lines (`cell_lines`): a bordered
        box per cell (grey for the heading), each cell's text centred vertically."""
        self.set_font(FAMILY, "B" if bold else "", CELL_SIZE)
        widths = self.widths()
        height = row_height(layout)
        top = self.y
        if fill:
            self.set_fill_color(*HEADING_FILL)
        for x, width in zip(COL_X, COL_WIDTHS, strict=True):
            self.rect(x, top, width, height, "DF" if fill else "D")
        if fill:
            self.set_fill_color(0)
        # the baseline within a line's LINE_HEIGHT where fpdf2's cell() puts it
        baseline = 0.5 * LINE_HEIGHT + 0.3 * self.font_size
        for x, width, align, lines in zip(COL_X, COL_WIDTHS, ALIGN, layout, strict=True):
            y = top + (height - LINE_HEIGHT * len(lines)) / 2 + baseline
            for line in lines:  # one after the other: text extraction keeps a cell together
                used = self.text_width(line, widths)
                left = (x + self.c_margin if align == "L" else x + (width - used) / 2
                        if align == "C" else x + width - self.c_margin - used)
                self.text(left, y, line)
                y += LINE_HEIGHT
        self.set_xy(self.l_margin, top + height)

    def cell_lines(self, cells: Sequence[str], *, bold: bool = False) -> list[list[str]]:
        """Each cell's lines in the row's font (none for an empty cell)."""
        self.set_font(FAMILY, "B" if bold else "", CELL_SIZE)
        widths = self.widths()
        room = [width - 2 * self.c_margin for width in COL_WIDTHS]
        return [self.lines(text, space, widths) if text else []
                for text, space in zip(cells, room, strict=True)]


def row_height(layout: Sequence[Sequence[str]]) -> float:
    """A row's height: LINE_HEIGHT per line of its longest cell (one for an empty row)."""
    return LINE_HEIGHT * max(1, *map(len, layout))


def _text(column: ListColumn, value: Any) -> str:
    if value is None:
        return ""
    return money(value) if column.money else str(value)


def _table(pdf: _Document, houses: Sequence[ListedHousehold], *, totals: bool,
           caption: str = "") -> None:
    """A table under the heading row COLUMNS, repeated at the top of every page it continues
    on; a row is never split across pages. The caption (if any), the heading and the first
    row start a page together."""
    rows = [(tuple(_text(c, c.cell(number, house)) for c in LIST_COLUMNS), False)
            for number, house in enumerate(houses, start=1)]
    if totals:
        plist = pdf.plist
        rows.append((tuple(_text(c, c.total(plist) if c.total else None)
                           for c in LIST_COLUMNS), True))
    heading = pdf.cell_lines(COLUMNS, bold=True)
    layouts = [pdf.cell_lines(cells, bold=bold) for cells, bold in rows]
    first = row_height(heading) + (row_height(layouts[0]) if layouts else 0)
    above = CAPTION_GAP + CAPTION_HEIGHT if caption else 0
    if pdf.y + above + first > pdf.page_break_trigger:
        pdf.add_page()
    elif caption:
        pdf.ln(CAPTION_GAP)
    if caption:
        pdf.set_font(FAMILY, "B", 11)
        pdf.cell(0, CAPTION_HEIGHT, caption, new_x="LMARGIN", new_y="NEXT")
    pdf.table_row(heading, bold=True, fill=True)
    for index, ((_, bold), layout) in enumerate(zip(rows, layouts, strict=True)):
        # the first row is placed above; a row taller than a page (never seen: 40 wrapped
        # lines) would be drawn anyway, over the bottom margin, rather than fail the file
        if index and pdf.y + row_height(layout) > pdf.page_break_trigger:
            pdf.add_page()
            pdf.table_row(heading, bold=True, fill=True)
        pdf.table_row(layout, bold=bold)


def render_pdf(plist: PublicityList, fonts: PdfFonts) -> bytes:
    """One list as an A4 PDF: title, main table with totals, 本期停保, period and contacts."""
    pdf = _Document(plist, fonts)
    pdf.set_title(plist.title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("dibao-audit")
    pdf.set_creation_date(datetime.combine(plist.as_of, time(0, 0), CHINA))
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 9, plist.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    pdf.multi_cell(0, 6, plist.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _table(pdf, plist.listed, totals=True)
    if plist.stopped:
        _table(pdf, plist.stopped, totals=False,
               caption=f"{STOPPED_HEADING}（{len(plist.stopped)}户，不计入合计）")
    pdf.ln(4)
    pdf.set_font(FAMILY, size=10)
    *notes, dated = plist.notes()
    for line in notes:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, dated, align="R", new_x="LMARGIN", new_y="NEXT")
    with quiet_font_tools():
        return bytes(pdf.output())
