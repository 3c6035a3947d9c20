"""Publicity (公示) lists: the month-end roll per community, masked, as XLSX and PDF.

Contract §3 and §6: one XLSX and one PDF per (street, community), named
`<street>-<community>`, with the columns 序号, 户主姓名, 家庭人口, 保障人数, 月保障金额(元),
保障类别, 所在社区, 变动情况; plus a city-wide workbook with one sheet per street for the
allowance office. Only what a list shows publicly ever reaches a file: the household id sorts
rows and is never written; names are masked unless configuration says otherwise.

This module builds the lists (plain data); `pipelines.io.publicity_xlsx` and
`pipelines.io.publicity_pdf` render them to bytes, and `write_publicity` writes the files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.config import PublicityConfig
from pipelines.errors import UsageError
from pipelines.ingest.names import mask_name

if TYPE_CHECKING:
    from pipelines.io.publicity_pdf import PdfFonts

logger = logging.getLogger(__name__)

CHANGES = ("新增", "调整", "成员增加", "成员减少", "停保")  # display order within 变动情况
STOPPED = "停保"
TITLE_SUFFIX = "城乡最低生活保障公示名单"
STOPPED_HEADING = "本期停保"
UNKNOWN_STREET = "未填街道"
UNKNOWN_COMMUNITY = "未填社区"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class PublicityRow:
    """One household of the month-end roll, or one stopped this month.

    `household_id` only sorts and keys rows; it is never written to any file. `head_name` is
    the unmasked (normalised) name; masking happens here. `change` is '' or one or more of
    新增/调整/成员增加/成员减少/停保 joined with '、'.
    """

    household_id: str
    district: str
    street: str
    community: str
    head_name: str
    household_size: int
    covered: int
    monthly_amount: float
    category: str
    change: str


@dataclass(frozen=True)
class ListedHousehold:
    """One printed line: display values only."""

    name: str
    household_size: int
    covered: int
    amount: Decimal
    category: str
    community: str
    change: str


@dataclass(frozen=True)
class PublicityList:
    """One published list (a community's, or a street's in the city workbook), ready to render."""

    title: str
    subtitle: str
    district: str
    street: str
    community: str  # '' for a street's list
    listed: tuple[ListedHousehold, ...]  # on the roll at month end, in print order
    stopped: tuple[ListedHousehold, ...]  # 停保 this month; not in the totals
    as_of: date
    period_start: date
    period_end: date
    office: str
    complaint_phone: str

    @property
    def households(self) -> int:
        return len(self.listed)

    @property
    def covered(self) -> int:
        return sum(h.covered for h in self.listed)

    @property
    def amount(self) -> Decimal:
        return sum((h.amount for h in self.listed), Decimal("0.00"))

    def notes(self) -> tuple[str, ...]:
        """The lines printed under the tables: totals, period, where to object, the date."""
        return (
            f"合计：在保 {self.households} 户，保障 {self.covered} 人，"
            f"月保障金额合计 {money(self.amount)} 元。",
            f"公示期：{cn_date(self.period_start)}至{cn_date(self.period_end)}。",
            f"公示期内对名单有异议的，可向{self.office}反映。监督电话：{self.complaint_phone}",
            f"日期：{cn_date(self.as_of)}",
        )


@dataclass(frozen=True)
class ListColumn:
    """A column of the published lists (contract §3), in the XLSX and the PDF alike."""

    heading: str
    width: float  # share of the PDF table's width (scaled to the printable 190 mm)
    align: str  # PDF alignment: L, C or R
    cell: Callable[[int, ListedHousehold], Any]  # the value, from the line number and household
    total: Callable[[PublicityList], Any] | None = None  # in the 合计 row (None: empty)
    money: bool = False  # yuan with two decimals


#: The lists' columns, in order: adding a column means one entry here.
LIST_COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("序号", 12, "C", lambda n, h: n, lambda p: "合计"),
    ListColumn("户主姓名", 26, "C", lambda n, h: h.name, lambda p: f"{p.households}户"),
    ListColumn("家庭人口", 18, "C", lambda n, h: h.household_size),
    ListColumn("保障人数", 18, "C", lambda n, h: h.covered, lambda p: p.covered),
    ListColumn("月保障金额(元)", 30, "R", lambda n, h: h.amount, lambda p: p.amount, money=True),
    ListColumn("保障类别", 22, "C", lambda n, h: h.category),
    ListColumn("所在社区", 34, "C", lambda n, h: h.community),
    ListColumn("变动情况", 30, "C", lambda n, h: h.change),
)
COLUMNS = tuple(c.heading for c in LIST_COLUMNS)


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def safe_name(text: str) -> str:
    """A file-name-safe form of a street or community name (path separators and the like → _)."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip().strip(".")
    return cleaned or "_"


def _key_text(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _changes(text: str) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[、,，;；\s]+", text or "") if p]
    unique = list(dict.fromkeys(parts))
    known = [c for c in CHANGES if c in unique]
    return (*known, *(p for p in unique if p not in CHANGES))


def _cents(amount: float) -> Decimal:
    """Yuan to two decimals, half up; a missing amount (NaN, None) shows as 0.00."""
    value = Decimal(str(amount if amount is not None else 0))
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP) if value.is_finite() else Decimal("0.00")


def _listed(row: PublicityRow, mask: bool, changes: tuple[str, ...]) -> ListedHousehold:
    name = (row.head_name or "").strip()
    return ListedHousehold(
        name=mask_name(name) if mask else name,
        household_size=int(row.household_size),
        covered=int(row.covered),
        amount=_cents(row.monthly_amount),
        category=row.category or "",
        community=row.community or UNKNOWN_COMMUNITY,
        change="、".join(changes),
    )


def build_list(rows: Iterable[PublicityRow], *, title: str, subtitle: str, district: str,
               street: str, community: str, as_of: date,
               settings: PublicityConfig) -> PublicityList:
    """One list from its rows: print order by (community, household id), 停保 set apart."""
    ordered = sorted(rows, key=lambda r: (_key_text(r.community), r.household_id, r.head_name))
    listed: list[ListedHousehold] = []
    stopped: list[ListedHousehold] = []
    for row in ordered:
        changes = _changes(row.change)
        target = stopped if STOPPED in changes else listed
        target.append(_listed(row, settings.mask_names, changes))
    start = as_of + timedelta(days=1)
    return PublicityList(
        title=title, subtitle=subtitle, district=district, street=street, community=community,
        listed=tuple(listed), stopped=tuple(stopped), as_of=as_of, period_start=start,
        period_end=start + timedelta(days=settings.period_days - 1),
        office=settings.office, complaint_phone=settings.complaint_phone)


def _place(row: PublicityRow) -> tuple[str, str, str]:
    return (row.district or "", row.street or UNKNOWN_STREET, row.community or UNKNOWN_COMMUNITY)


def community_lists(rows: Sequence[PublicityRow], as_of: date, settings: PublicityConfig,
                    city_name: str) -> dict[str, PublicityList]:
    """Every community's list, keyed by its file stem `<street>-<community>`.

    The district joins the stem only when one (street, community) pair occurs in two districts.
    """
    groups: dict[tuple[str, str, str], list[PublicityRow]] = defaultdict(list)
    for row in rows:
        groups[_place(row)].append(row)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for _, street, community in groups:
        pairs[(street, community)] += 1
    lists: dict[str, PublicityList] = {}
    for (district, street, community), members in sorted(groups.items()):
        stem = f"{safe_name(street)}-{safe_name(community)}"
        if pairs[(street, community)] > 1:
            stem = f"{safe_name(district)}-{stem}"
        lists[stem] = build_list(
            members, title=f"{community}{TITLE_SUFFIX}",
            subtitle=f"{city_name}{district}{street}　数据截至{cn_date(as_of)}",
            district=district, street=street, community=community, as_of=as_of,
            settings=settings)
    return lists


def street_lists(rows: Sequence[PublicityRow], as_of: date, settings: PublicityConfig,
                 city_name: str) -> list[PublicityList]:
    """One list per (district, street) for the city-wide workbook, in name order."""
    groups: dict[tuple[str, str], list[PublicityRow]] = defaultdict(list)
    for row in rows:
        district, street, _ = _place(row)
        groups[(district, street)].append(row)
    out = []
    for (district, street), members in sorted(groups.items()):
        communities = len({_place(r)[2] for r in members})
        out.append(build_list(
            members, title=f"{street}{TITLE_SUFFIX}",
            subtitle=f"{city_name}{district}{street}　{communities}个社区(村)　数据截至{cn_date(as_of)}",
            district=district, street=street, community="", as_of=as_of, settings=settings))
    return out


def select_community(lists: dict[str, PublicityList], community: str) -> dict[str, PublicityList]:
    """The lists of one community: by name (every street that has it) or by `<street>-<community>`."""
    wanted = _key_text(community)
    chosen = {stem: pl for stem, pl in lists.items()
              if _key_text(pl.community) == wanted or _key_text(stem) == wanted}
    if chosen:
        return chosen
    known = sorted({pl.community for pl in lists.values()})
    sample = "、".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
    raise UsageError(f"--community {community!r} is not on this roll; known communities: "
                     f"{sample or 'none (the roll is empty)'}: give one of these (or "
                     "street-community), or leave --community out for every community")


def _write(path: Path, data: bytes) -> Path:
    """Write a file whole: a temporary sibling first, then renamed over the target."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


class _InProcess(Executor):
    """An executor that runs each call at once, in this process (one worker)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        return map(fn, *iterables)  # lazily: one community's bytes in memory at a time


def _render_community(plist: PublicityList, fonts: PdfFonts) -> tuple[bytes, bytes]:
    """One community's XLSX and PDF (in a worker process when there are several)."""
    from pipelines.io.publicity_pdf import render_pdf
    from pipelines.io.publicity_xlsx import render_xlsx

    return render_xlsx(plist), render_pdf(plist, fonts)


def _executor(workers: int) -> Executor:
    if workers <= 1:
        return _InProcess()
    # spawn, not fork: the caller may hold a database connection with threads of its own
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def write_publicity(rows: Sequence[PublicityRow], out_dir: Path, as_of: date,
                    settings: PublicityConfig, city_name: str,
                    community: str | None = None, *, workers: int | None = None) -> list[Path]:
    """Write the publicity files into `out_dir`; returns their paths (sorted).

    Per community `<street>-<community>.xlsx` and `.pdf`; without `community` also the
    city-wide workbook `<city>最低生活保障公示名单-<as_of>.xlsx`. `community` selects one
    community by name (all streets that have it) or by `<street>-<community>`; an unknown
    name raises UsageError. Files are rendered by `workers` processes (None: one per CPU;
    1: in this process). Same rows, date and settings give byte-identical files, whatever
    the number of workers.
    """
    from pipelines.io.publicity_pdf import PdfFonts
    from pipelines.io.publicity_xlsx import render_city_xlsx

    lists = community_lists(rows, as_of, settings, city_name)
    chosen = lists if community is None else select_community(lists, community)
    streets = street_lists(rows, as_of, settings, city_name) if community is None else []
    # longest lists first, so that no worker is left alone with a long one at the end
    order = sorted(chosen, key=lambda stem: -len(chosen[stem].listed) - len(chosen[stem].stopped))
    tasks = len(order) + bool(streets)
    workers = max(1, min((os.cpu_count() or 1) if workers is None else workers, tasks))
    written: list[Path] = []
    # the font is cut down once to the characters of every list, so each PDF embeds it quickly
    with PdfFonts.prepare(settings.font, list(lists.values()), city_name) as fonts:
        pool = _executor(workers)
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            # the city workbook (every street's list) is the longest task: it starts first
            city = pool.submit(render_city_xlsx, streets, city_name, as_of) if streets else None
            rendered = pool.map(_render_community, [chosen[stem] for stem in order],
                                [fonts] * len(order))
            for stem, (xlsx, pdf) in zip(order, rendered, strict=True):
                written.append(_write(out_dir / f"{stem}.xlsx", xlsx))
                written.append(_write(out_dir / f"{stem}.pdf", pdf))
            if city is not None:
                name = f"{safe_name(city_name)}最低生活保障公示名单-{as_of.isoformat()}.xlsx"
                written.append(_write(out_dir / name, city.result()))
        finally:  # on a failure, what has not started yet is not rendered
            pool.shutdown(cancel_futures=True)
    logger.info("publicity for %s: %d communities, %d files in %s (%d worker%s)", as_of,
                len(chosen), len(written), out_dir, workers, "" if workers == 1 else "s")
    return sorted(written)
