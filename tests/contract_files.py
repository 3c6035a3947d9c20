"""Input folders written straight from the contract's dataset table, for property-based tests.

Nothing here goes through `pipelines.synth`: the project's generator shares the code's
assumptions (that is how a file lacking two optional columns once crashed every run). The
datasets, their columns, types, required flags, header aliases and vocabularies come from
`config/datasets.yaml` (through `load_config()`); which ID columns must stay readable for a run
to pass comes from the critical expectations in `expectations/`. Everything else is written the
way the contract (docs/contract.md §2) says departments write it.

A folder is drawn in three layers, all through a `Chooser` so the same code serves Hypothesis
(`folders()`, shrinkable) and plain seeded randomness (`baseline_folder()`, for the regression
tests):

1. a small synthetic city (`World`): people with valid IDs built with `pipelines.ingest.ids.check_digit`,
   roll households, staff; other datasets draw some of their people from the roll so that the
   linker and the rules have something to find;
2. logical records per dataset (`Value`s: this person's name, that date, an amount ...);
3. a file per dataset (`DataFile`): columns absent, present or entirely blank, in any order,
   under the canonical header or any alias (spaces, line breaks, full-width brackets), unknown
   extra columns, each value rendered in one of the forms the contract lists (or spreadsheet
   damage), as CSV (UTF-8, UTF-8 with BOM, GBK, GB18030), XLSX/XLSM (text, numeric and date
   cells) or Parquet (text columns); exact duplicate, blank and malformed rows; and the office
   layouts of contract §2: title rows, a two-row header under a group heading, totals and notes
   below the table, the header repeated, merged cells, a workbook split over sheets (one
   hidden) after a cover sheet.

A folder is `clean` when nothing drawn should make the input unusable (the run must exit 0),
messy when critical data-quality expectations may legitimately fail (exit 0 or 2), and it may
carry one `Fault` that must end in exit 2 with a message naming the file (and the column).
`check_outcome` states the property; `run_cli` runs the real command in-process.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import random
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import hypothesis.strategies as st
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import AuditConfig, ColumnSpec, load_config, normalise_header
from pipelines.ingest.ids import check_digit
from pipelines.rules.findings import finding_id
from pipelines.validate.quality import load_suite

T = TypeVar("T")
AS_OF = "2026-10-31"
AS_OF_DATE = dt.date.fromisoformat(AS_OF)
FORMATS = ("csv", "xlsx", "parquet")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
SERIAL_EPOCH = dt.date(1899, 12, 30)  # day 0 of spreadsheet serial numbers (1900 system)

Cell = str | int | float | dt.date | dt.datetime | None


@cache
def contract() -> AuditConfig:
    """The default configuration: the dataset table and vocabularies of the contract."""
    return load_config()


def dataset_names() -> list[str]:
    return list(contract().datasets)


def required_datasets() -> list[str]:
    return [d for d, s in contract().datasets.items() if s.required_dataset]


def optional_datasets() -> list[str]:
    return [d for d, s in contract().datasets.items() if not s.required_dataset]


@cache
def strict_id_datasets() -> frozenset[str]:
    """Datasets with a critical expectation on their ID numbers: a clean folder keeps them
    readable (a single damaged ID in a file of six rows is more than the 10% allowed)."""
    strict = set()
    for dataset in contract().datasets:
        suite = load_suite(dataset) or {"expectations": []}
        for expectation in suite["expectations"]:
            if (expectation.get("severity") == "critical"
                    and expectation["kwargs"].get("column") == "p_id_status"):
                strict.add(dataset)
    return frozenset(strict)


# --- choosing: Hypothesis or seeded randomness --------------------------------------------------

class Chooser(Protocol):
    """Where the choices come from; the first option of a list is the simplest (shrinks to it)."""

    plain: bool

    def choice(self, options: Sequence[T]) -> T: ...

    def integer(self, low: int, high: int) -> int: ...

    def chance(self, percent: int) -> bool: ...

    def permutation(self, items: Sequence[T]) -> list[T]: ...


class DrawChooser:
    """Choices drawn by Hypothesis inside `st.composite`."""

    plain = False

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]):
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        result: T = self.draw(st.sampled_from(list(options)))
        return result

    def integer(self, low: int, high: int) -> int:
        result: int = self.draw(st.integers(low, high))
        return result

    def chance(self, percent: int) -> bool:
        # uniform (integers() favours the bounds); shrinks towards 0, i.e. towards "no"
        return bool(self.draw(st.sampled_from(range(100))) >= 100 - percent)

    def permutation(self, items: Sequence[T]) -> list[T]:
        result: list[T] = self.draw(st.permutations(list(items)))
        return result


class RandomChooser:
    """Choices from a seeded `random.Random`; `plain` keeps every value in its canonical form."""

    def __init__(self, seed: int, plain: bool = False):
        self.rng = random.Random(seed)
        self.plain = plain

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent

    def permutation(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        self.rng.shuffle(out)
        return out


# --- a small synthetic city -----------------------------------------------------------------

DISTRICTS = {"江岸区": "420102", "江汉区": "420103", "硚口区": "420104", "汉阳区": "420105",
             "武昌区": "420106", "青山区": "420107", "洪山区": "420111"}
OTHER_WUHAN = {"东西湖区": "420112", "江夏区": "420115", "黄陂区": "420116"}
UNKNOWN_DISTRICTS = ("朝阳区", "开发区", "测试区", "武汉经济技术开发区")
OUTSIDE_REGIONS = ("110105", "130102", "420502", "510104")  # IDs issued elsewhere
COMMUNITIES = ("幸福社区", "建设村", "花园社区", "新村社区", "东湖村", "长丰社区", "中山社区")
SURNAMES = ("张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
            "胡", "郭", "何", "高", "林", "罗", "欧阳", "司马", "单", "曾", "覃")
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "华", "国强", "红", "龙", "云凤")
MINORITY = ("阿卜杜·热合曼", "买买提·艾力", "古丽米拉·买买提", "艾合买提·吐尔逊", "次仁·多吉")
TRADITIONAL = dict(zip("张伟陈丽华刘杨黄赵吴军国红强杰涛艳刚东兰凤龙云马孙郭罗买热艾尔",
                       "張偉陳麗華劉楊黃趙吳軍國紅強傑濤艷剛東蘭鳳龍雲馬孫郭羅買熱艾爾",
                       strict=True))
HOMOPHONES = {"伟": "玮", "丽": "莉", "芳": "方", "明": "鸣", "华": "桦", "军": "君", "静": "婧"}
DOTS = ("·", "•", "．", "・", ".", "‧", " · ")
RELATIONS = ("配偶", "子", "女", "母亲", "父亲", "孙子", "孙女", "兄弟姐妹", "其他")
STAFF_ROLES = ("民政专干", "社区主任", "村委会委员", "社区网格员", "街道办主任")
VEHICLE_TYPES = ("小型轿车", "小型普通客车", "摩托车", "残疾人专用车", "重型货车", "轻型厢式货车")
BENEFITS = ("城镇职工基本养老金", "城乡居民基本养老保险基础养老金", "优待抚恤金", "失业保险金")
GROUPS = ("低保边缘家庭", "刚性支出困难家庭", "重度残疾人", "特困人员", "其他")
UNKNOWN_VOCAB = ("其他", "未知", "待定", "临时")
OFFICE_PHONE = "027-85551234"  # a community office's line, entered for many households
GENERIC_TEXT = ("无", "见附件", "已核实", "湖北省武汉市", "A-01", "2号楼", "待补充")
EXTRA_HEADERS = ("序号", "备注", "备注1", "备注.1", "核查情况", "数据来源", "更新时间",
                 "Unnamed: 0", "")
REMARKS = ("已核实", "已核实,待复查", '说明"见附件"', "第一行\n第二行", "  ", "", "无")


@cache
def streets() -> dict[str, tuple[str, ...]]:
    """Wuhan streets by district code (pipelines/data/streets_wuhan.csv, public NBS names)."""
    path = Path(__file__).resolve().parents[1] / "pipelines" / "data" / "streets_wuhan.csv"
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["areaCode"], []).append(row["name"])
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class Person:
    name: str
    id18: str
    birth: dt.date
    minority: bool = False

    @property
    def sex(self) -> str:
        return "M" if int(self.id18[16]) % 2 else "F"


def make_id(region: str, birth: dt.date, seq: int) -> str:
    """A valid 18-digit ID (GB 11643 check digit) for a synthetic person."""
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + check_digit(body)


def new_person(ch: Chooser) -> Person:
    region = ch.choice([*DISTRICTS.values(), *OTHER_WUHAN.values(), *OUTSIDE_REGIONS])
    birth = dt.date(ch.integer(1935, 2018), ch.integer(1, 12), ch.integer(1, 28))
    seq = ch.integer(0, 999)
    if ch.chance(15):  # an ID ending in X, for the lower-case x form
        for step in range(1000):
            if make_id(region, birth, seq + step).endswith("X"):
                seq += step
                break
    if ch.chance(10):
        name, minority = ch.choice(MINORITY), True
    else:
        name, minority = ch.choice(SURNAMES) + ch.choice(GIVEN), False
    return Person(name, make_id(region, birth, seq), birth, minority)


@dataclass
class Household:
    hid: str
    district: str
    street: str | None
    community: str
    address: str
    phone: str | None
    bank: str | None
    category: str
    amount: float
    size: int
    start: dt.date
    approved_by: str | None
    amount_on_every_row: bool
    members: list[tuple[Person, str]] = field(default_factory=list)


@dataclass
class Staff:
    staff_id: str
    person: Person
    district: str
    phone: str | None
    bank: str | None


@dataclass
class World:
    clean: bool
    households: list[Household]
    staff: list[Staff]
    extra_roll: list[dict[str, Value | None]]  # roll rows meant for quarantine

    def roll_people(self) -> list[Person]:
        return [p for h in self.households for p, _ in h.members]


def _phone(ch: Chooser) -> str:
    return ch.choice(("138", "139", "150", "186", "177")) + f"{ch.integer(0, 99999999):08d}"


def _bank(ch: Chooser) -> str:
    return "6222" + f"{ch.integer(0, 10**15 - 1):015d}"


def _district_name(ch: Chooser, clean: bool) -> str:
    names = list(DISTRICTS)
    if ch.chance(15):
        names = list(OTHER_WUHAN)
    name = ch.choice(names)
    if not clean and ch.chance(10):
        return ch.choice(UNKNOWN_DISTRICTS)
    return name


def _street(ch: Chooser, district: str) -> str | None:
    code = {**DISTRICTS, **OTHER_WUHAN}.get(district)
    options = streets().get(code or "", ())
    return ch.choice(options) if options else ch.choice(("大智街道", "测试街道"))


def draw_world(ch: Chooser, clean: bool) -> World:
    staff: list[Staff] = []
    for i in range(ch.integer(1, 4)):
        person = new_person(ch)
        if staff and ch.chance(15):  # 经办人 by name: two staff members share it
            person = Person(staff[0].person.name, person.id18, person.birth)
        staff.append(Staff(f"S{i + 1:02d}", person, ch.choice(list(DISTRICTS)),
                           _phone(ch) if ch.chance(80) else None,
                           _bank(ch) if ch.chance(50) else None))
    households: list[Household] = []
    rows = 0
    target = ch.integer(1, 8)
    people: list[Person] = []
    while rows < target:
        district = _district_name(ch, clean)
        category_known = ch.choice(["城市低保", "农村低保", "城市", "农村", "城镇", "urban",
                                    "rural"])
        category = category_known
        if not clean and ch.chance(5):
            category = ch.choice(UNKNOWN_VOCAB)
        phone: str | None = _phone(ch)
        if ch.chance(25):
            phone = OFFICE_PHONE
        elif ch.chance(25) and staff:
            phone = ch.choice(staff).phone  # STAFF_LINKED
        elif ch.chance(10):
            phone = None
        approved_by: str | None = None
        if ch.chance(70) and staff:
            member = ch.choice(staff)
            approved_by = member.staff_id if ch.chance(80) else member.person.name
        house = Household(
            hid=ch.choice(["H", "", "4201020010"]) + f"{len(households) + 1:03d}",
            district=district, street=_street(ch, district) if ch.chance(85) else None,
            community=ch.choice(COMMUNITIES), address=f"{district}{ch.integer(1, 99)}号",
            phone=phone, category=category,
            bank=ch.choice(staff).bank if staff and ch.chance(15) else
            (_bank(ch) if ch.chance(60) else None),
            amount=0.0 if ch.chance(5) else
            float(ch.integer(200, 3000)) + ch.choice([0.0, 0.5, 0.25]),
            size=0, start=dt.date(ch.integer(1996, 2026), ch.integer(1, 12), ch.integer(1, 28)),
            approved_by=approved_by, amount_on_every_row=ch.chance(30))
        n_members = min(ch.integer(1, 3), target - rows)
        for j in range(n_members):
            if people and ch.chance(8):
                person = ch.choice(people)  # on two households' rolls: DUPLICATE_RECEIPT
            elif j == 1 and staff and ch.chance(10):
                person = ch.choice(staff).person  # a staff member on the roll
            else:
                person = new_person(ch)
            if j and ch.chance(5):
                person = house.members[0][0]  # the head again, as another member
            people.append(person)
            house.members.append((person, "户主" if j == 0 else ch.choice(RELATIONS)))
        house.size = n_members + ch.choice([0, 0, 0, 1, -1 if n_members > 1 else 0])
        if ch.chance(5):  # 家庭人口 out of range: a warning, never a reason to stop
            house.size = ch.choice([0, 25])
        households.append(house)
        rows += n_members
    world = World(clean, households, staff, [])
    if rows < 8 and ch.chance(20):
        # a row without household_id: quarantined, never lost
        record = roll_records(world, ch)[0]
        record["household_id"] = None
        world.extra_roll.append(record)
    return world


# --- logical values -------------------------------------------------------------------------

@dataclass
class Value:
    """One logical cell: what it means; `render` decides how it is written."""

    kind: str  # name, id, date, decimal, integer, phone, vocab, text
    value: Any = None
    person: Person | None = None
    strict: bool = False  # keep it readable (critical expectations, required to pass)
    unit: str | None = None  # decimal: 元 or 万元 may be written after the number
    damage: int = 30  # id: percent of values written damaged (typo, swap, blank, 4.2E+17)


def V(kind: str, value: Any = None, **kw: Any) -> Value:
    return Value(kind, value, **kw)


def _date(ch: Chooser, first: int, last: int) -> dt.date:
    return dt.date(ch.integer(first, last), ch.integer(1, 12), ch.integer(1, 28))


def _someone(ch: Chooser, world: World, percent_roll: int) -> Person:
    people = world.roll_people()
    if people and ch.chance(percent_roll):
        return ch.choice(people)
    return new_person(ch)


def _vocab_label(ch: Chooser, vocab: str, canonical: str | None = None) -> str:
    labels = [k for k, v in contract().values[vocab].items() if canonical in (None, v)]
    return ch.choice(labels)


def roll_records(world: World, ch: Chooser) -> list[dict[str, Value | None]]:
    strict = world.clean and "roll" in strict_id_datasets()
    out: list[dict[str, Value | None]] = []
    for h in world.households:
        for j, (person, relation) in enumerate(h.members):
            # the first row stays usable (a name at least): an empty roll is a fault of its own
            first = not out
            amount = V("decimal", h.amount, unit="元") if (j == 0 or h.amount_on_every_row) \
                else None
            out.append({
                "household_id": V("text", h.hid),
                "name": V("name", person=person, strict=first),
                "id_number": V("id", person=person, strict=strict, damage=8),
                "relation": V("text", relation), "district": V("text", h.district),
                "street": V("text", h.street) if h.street else None,
                "community": V("text", h.community), "address": V("text", h.address),
                "phone": V("phone", h.phone) if h.phone else None,
                "category": V("vocab", h.category, strict=True),
                "household_size": V("integer", h.size), "monthly_amount": amount,
                "start_date": V("date", h.start), "approved_by":
                    V("text", h.approved_by) if h.approved_by else None,
                "bank_account": V("text", h.bank) if h.bank else None})
    return out


def standards_records(world: World, ch: Chooser) -> list[dict[str, Value | None]]:
    districts = sorted({h.district for h in world.households if h.district in DISTRICTS
                        or h.district in OTHER_WUHAN} | {ch.choice(list(DISTRICTS))})
    out: list[dict[str, Value | None]] = []
    for district in districts:
        for code in ("urban", "rural"):
            if out and ch.chance(30):
                continue
            out.append({"district": V("text", district, strict=True),
                        "category": V("vocab", _vocab_label(ch, "category", code), strict=True),
                        "monthly_standard": V("decimal", float(ch.integer(600, 1500)),
                                              strict=True, unit="元"),
                        "effective_date": V("date", _date(ch, 2020, 2026))
                        if ch.chance(30) else None})
    if not ch.plain and ch.chance(20):  # the standard changes: earlier, or not yet in force
        first = dict(out[0])
        first["effective_date"] = V("date", ch.choice([dt.date(2019, 1, 1), dt.date(2027, 1, 1),
                                                      AS_OF_DATE]), strict=True)
        first["monthly_standard"] = V("decimal", float(ch.integer(500, 1600)), strict=True)
        if out[0]["effective_date"] is None:
            out[0] = {**out[0], "effective_date": V("date", dt.date(2024, 1, 1), strict=True)}
        if first["effective_date"] != out[0]["effective_date"]:
            out.append(first)
    if not world.clean:
        if ch.chance(15):  # a second standard for the same district and category
            out.append(dict(out[0]))
        if ch.chance(15):
            out.append({"district": V("text", ch.choice(UNKNOWN_DISTRICTS)),
                        "category": V("vocab", "城市低保"),
                        "monthly_standard": V("decimal", float(ch.choice([50, 900, 20000])))})
    return out


def deaths_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        person = _someone(ch, world, 60)
        gender = {"M": ch.choice(["男", "M", "1"]), "F": ch.choice(["女", "F", "2"])}[person.sex]
        out.append({"record_id": V("text", f"D{i + 1:04d}"), "name": V("name", person=person),
                    "id_number": V("id", person=person),
                    "gender": V("vocab", ch.choice([gender, gender, "未知"])),
                    "birth_date": V("date", person.birth),
                    "address": V("text", ch.choice(COMMUNITIES)),
                    "death_date": V("date", _date(ch, 2015, 2027))})
    return out


def staff_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    strict = world.clean and "staff" in strict_id_datasets()
    members = list(world.staff)
    if not world.clean and members and ch.chance(15):  # two people under one staff_id
        members.append(Staff(members[0].staff_id, new_person(ch), members[0].district, None,
                             None))
    households = world.households
    out: list[dict[str, Value | None]] = []
    for s in members[:n]:
        phone = s.phone
        if households and ch.chance(20):
            phone = ch.choice(households).phone  # shares the household's number
        out.append({"staff_id": V("text", s.staff_id), "name": V("name", person=s.person),
                    "id_number": V("id", person=s.person, strict=strict, damage=8),
                    "role": V("text", ch.choice(STAFF_ROLES)),
                    "org": V("text", f"{s.district}民政局"), "district": V("text", s.district),
                    "street": V("text", _street(ch, s.district)),
                    "community": V("text", ch.choice(COMMUNITIES)),
                    "phone": V("phone", phone) if phone else None,
                    "address": V("text", ch.choice(GENERIC_TEXT)),
                    "bank_account": V("text", s.bank) if s.bank else None})
    return out


def staff_relatives_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        staff_id = ch.choice(world.staff).staff_id if world.staff else "S99"
        relative = _someone(ch, world, 70)
        out.append({"record_id": V("text", f"K{i + 1:04d}"),
                    "staff_id": V("text", staff_id if ch.chance(90) else "S99"),
                    "relative_name": V("name", person=relative),
                    "relative_id_number": V("id", person=relative) if ch.chance(70) else None,
                    "relation": V("text", ch.choice(RELATIONS))})
    return out


def kin_filings_records(world: World, ch: Chooser, n: int,
                        declared: list[dict[str, Value | None]]) -> list[dict[str, Value | None]]:
    """Filings for some of the relatives staff declared (the others are unfiled), and others."""
    homes = {id(p): h for h in world.households for p, _ in h.members}
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        house, person = ch.choice(world.households), None
        staff_id = ch.choice(world.staff).staff_id if world.staff else "S01"
        if i < len(declared) and ch.chance(50):
            relative = declared[i]["relative_name"]
            if relative is not None and relative.person is not None \
                    and id(relative.person) in homes:
                person, house = relative.person, homes[id(relative.person)]
                staff_value = declared[i]["staff_id"]
                staff_id = str(staff_value.value) if staff_value is not None else staff_id
        if person is None:
            person = ch.choice(house.members)[0]
        out.append({"household_id": V("text", house.hid), "id_number": V("id", person=person),
                    "staff_id": V("text", staff_id),
                    "filed_date": V("date", _date(ch, 1990, 2026))})
    return out


def vehicles_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        owner = _someone(ch, world, 50)
        status = ch.choice(UNKNOWN_VOCAB) if ch.chance(10) else _vocab_label(ch, "vehicle_status")
        out.append({"record_id": V("text", f"V{i + 1:04d}"), "owner_name":
                    V("name", person=owner), "owner_id_number": V("id", person=owner),
                    "plate": V("text", f"鄂A{ch.integer(10000, 99999)}"),
                    "vehicle_type": V("text", ch.choice(VEHICLE_TYPES)),
                    "registered_date": V("date", _date(ch, 1995, 2026)),
                    "status": V("vocab", status), "owner_birth_date": V("date", owner.birth),
                    "purchase_price": V("decimal", float(ch.integer(3000, 400000)), unit="元")})
    return out


def property_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        owner = _someone(ch, world, 50)
        usage = ch.choice(UNKNOWN_VOCAB) if ch.chance(10) else _vocab_label(ch, "property_usage")
        out.append({"record_id": V("text", f"P{i + 1:04d}"), "owner_name":
                    V("name", person=owner), "owner_id_number": V("id", person=owner),
                    "property_address": V("text", f"{ch.choice(list(DISTRICTS))}{i + 1}号"),
                    "area": V("decimal", ch.integer(200, 3000) / 10),
                    "usage": V("vocab", usage), "owner_birth_date": V("date", owner.birth)})
    return out


def businesses_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    strict = world.clean and "businesses" in strict_id_datasets()
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        person = _someone(ch, world, 50)
        out.append({"record_id": V("text", f"B{i + 1:04d}"), "person_name":
                    V("name", person=person),
                    "person_id_number": V("id", person=person, strict=strict, damage=8),
                    "role": V("vocab", _vocab_label(ch, "business_role")),
                    "company": V("text", f"武汉{ch.choice(GIVEN)}商贸有限公司"),
                    "registered_capital": V("decimal", ch.integer(1, 5000) / 2, unit="万元"),
                    "status": V("vocab", _vocab_label(ch, "business_status")),
                    "established_date": V("date", _date(ch, 1995, 2026)),
                    "subscribed_capital": V("decimal", ch.integer(1, 500) / 2, unit="万元")})
    return out


def public_employees_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    strict = world.clean and "public_employees" in strict_id_datasets()
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        person = _someone(ch, world, 50)
        out.append({"record_id": V("text", f"E{i + 1:04d}"), "name": V("name", person=person),
                    "id_number": V("id", person=person, strict=strict, damage=8),
                    "employer": V("text", f"{ch.choice(list(DISTRICTS))}教育局"),
                    "monthly_pay": V("decimal", float(ch.integer(2000, 15000)), unit="元")})
    return out


def pensions_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    strict = world.clean and "pensions" in strict_id_datasets()
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        person = _someone(ch, world, 60)
        out.append({"record_id": V("text", f"Q{i + 1:04d}"), "name": V("name", person=person),
                    "id_number": V("id", person=person, strict=strict, damage=8),
                    "benefit_type": V("text", ch.choice(BENEFITS)),
                    "monthly_amount": V("decimal", ch.integer(1000, 600000) / 100, unit="元")})
    return out


def low_income_records(world: World, ch: Chooser, n: int) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for i in range(n):
        person = _someone(ch, world, 30)
        district = _district_name(ch, world.clean)
        category = ch.choice(UNKNOWN_VOCAB) if ch.chance(5) else _vocab_label(ch, "category")
        out.append({"record_id": V("text", f"L{i + 1:04d}"), "name": V("name", person=person),
                    "id_number": V("id", person=person),
                    "household_id": V("text", f"LH{ch.integer(1, 4):03d}"),
                    "district": V("text", district), "street": V("text", _street(ch, district)),
                    "community": V("text", ch.choice(COMMUNITIES)),
                    "household_size": V("integer", ch.integer(1, 6)),
                    "per_capita_income": V("decimal", float(ch.integer(0, 2500)), unit="元"),
                    "category": V("vocab", category), "group": V("text", ch.choice(GROUPS))})
    return out


def decisions_records(world: World, ch: Chooser, n: int,
                      deaths: list[dict[str, Value | None]]) -> list[dict[str, Value | None]]:
    out: list[dict[str, Value | None]] = []
    for _ in range(n):
        fid = f"F{ch.integer(0, 16**16 - 1):016x}"
        if deaths and ch.chance(60):
            record = ch.choice(deaths)
            person = record["name"].person if record["name"] is not None else None
            record_id = record["record_id"].value if record["record_id"] is not None else ""
            if person is not None:
                fid = finding_id("DECEASED", person.id18, "deaths", str(record_id))
        out.append({"finding_id": V("text", fid),
                    "decision": V("vocab", ch.choice(UNKNOWN_VOCAB) if ch.chance(10)
                                  else _vocab_label(ch, "decision")),
                    "decided_by": V("text", ch.choice(("张科员", "李主任", "zhang"))),
                    "decided_at": V("date", _date(ch, 2024, 2026)),
                    "reason": V("text", ch.choice(REMARKS)) if ch.chance(50) else None})
    return out


def fill_by_type(dataset: str, records: list[dict[str, Value | None]], ch: Chooser) -> None:
    """Columns of the contract table that no generator above knows (added later): by type."""
    spec = contract().datasets[dataset]
    person_cols = {spec.person.name, spec.person.id, spec.person.birth_date} if spec.person \
        else set()
    for record in records:
        for column, col in spec.columns.items():
            if column in record:
                continue
            if col.vocab is not None:
                record[column] = V("vocab", _vocab_label(ch, col.vocab))
            elif col.type == "date":
                record[column] = V("date", _date(ch, 1990, 2026))
            elif col.type == "decimal":
                record[column] = V("decimal", ch.integer(0, 100000) / 10)
            elif col.type == "integer":
                record[column] = V("integer", ch.integer(0, 9))
            elif col.type == "phone":
                record[column] = V("phone", _phone(ch))
            elif col.type in ("id", "name") and column not in person_cols:
                record[column] = V(col.type, person=new_person(ch))
            else:
                record[column] = V("text", ch.choice(GENERIC_TEXT))


# --- rendering values as departments write them ---------------------------------------------

def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def render_name(ch: Chooser, person: Person, strict: bool = False) -> str | None:
    name = person.name
    if ch.plain:
        return name
    form = ch.choice(["plain"] * 5 + ["traditional", "spaces", "homophone", "padded"]
                     + ([] if strict else ["blank"]))
    if person.minority:
        name = name.replace("·", ch.choice(DOTS))
    if form == "traditional":
        return "".join(TRADITIONAL.get(c, c) for c in name)
    if form == "spaces":
        return ch.choice([" ", "\u3000"]).join(name)
    if form == "homophone":
        return "".join(HOMOPHONES.get(c, c) for c in name)
    if form == "padded":
        return f" {name} "
    if form == "blank":
        return None
    return name


USABLE_ID_FORMS = ("valid", "x_lower", "fullwidth", "spaces", "apostrophe", "legacy15")
DAMAGED_ID_FORMS = ("bad_check", "swap", "blank", "mangled", "bad_date")


def render_id(ch: Chooser, person: Person, strict: bool, fmt: str, damage: int = 30) -> Cell:
    id18 = person.id18
    if ch.plain:
        return id18
    if not strict and ch.chance(damage):
        form = ch.choice(list(DAMAGED_ID_FORMS) + (["numeric"] if fmt == "xlsx" else []))
    else:
        form = ch.choice(["valid"] * 4 + list(USABLE_ID_FORMS))
    if form == "x_lower":
        return id18.lower()
    if form == "fullwidth":
        return _fullwidth(id18)
    if form == "spaces":
        return f"{id18[:6]} {id18[6:14]} {id18[14:]}"
    if form == "apostrophe":
        return "'" + id18
    if form == "legacy15":
        if id18[6:8] == "19":
            legacy = id18[:6] + id18[8:17]
            return int(legacy) if fmt == "xlsx" and ch.chance(30) else legacy
        return id18
    if form == "bad_check":
        wrong = [c for c in "0123456789X" if c != id18[17]]
        return id18[:17] + ch.choice(wrong)
    if form == "bad_date":  # month 13, with a check digit that fits
        body = id18[:10] + "13" + id18[12:17]
        return body + check_digit(body)
    if form == "swap":
        i = ch.integer(0, 15)
        return id18[:i] + id18[i + 1] + id18[i] + id18[i + 2:]
    if form == "blank":
        return ch.choice([None, "无", "-", " "])
    if form == "mangled":
        return f"{float(id18[:17] + '0'):.5E}"  # '4.20102E+17', as a spreadsheet shows it
    if form == "numeric":
        return int(id18[:17] + "0") if id18.endswith("X") else int(id18)
    return id18


def _serial(day: dt.date) -> int:
    return (day - SERIAL_EPOCH).days


def render_date(ch: Chooser, day: dt.date, fmt: str, strict: bool) -> Cell:
    if ch.plain:
        return day.isoformat()
    forms = ["iso", "slash", "compact", "chinese", "serial", "dots", "fullwidth"]
    if fmt == "xlsx":
        forms += ["date_cell", "datetime_cell", "serial_cell"]
    if not strict:
        forms += ["garbage"]
    form = ch.choice(forms)
    if form == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if form == "compact":
        return f"{day:%Y%m%d}"
    if form == "chinese":
        return f"{day.year}年{day.month}月{day.day}日"
    if form == "serial":
        return str(_serial(day))
    if form == "dots":
        return f"{day.year}.{day.month}.{day.day}"
    if form == "fullwidth":
        return _fullwidth(f"{day.year}年{day.month}月{day.day}日" if ch.chance(50)
                          else day.isoformat())
    if form == "date_cell":
        return day
    if form == "datetime_cell":
        return dt.datetime(day.year, day.month, day.day, ch.choice([0, 0, 9]))
    if form == "serial_cell":
        return ch.choice([_serial(day), float(_serial(day)) + 0.5])
    if form == "garbage":
        return ch.choice(["不详", "2023-02-30", "0", "00000000", "1899-01-01"])
    return day.isoformat()


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def render_decimal(ch: Chooser, value: float, unit: str | None, fmt: str, strict: bool) -> Cell:
    if ch.plain:
        return _plain_number(value)
    forms = ["plain", "plain", "thousands", "fullwidth", "padded"]
    if unit:
        forms.append("unit")
    if fmt == "xlsx":
        forms += ["number_cell", "number_cell"]
    if not strict:
        forms.append("garbage")
    form = ch.choice(forms)
    if form == "thousands":
        return f"{value:,.2f}"
    if form == "fullwidth":
        return _fullwidth(_plain_number(value))
    if form == "padded":
        return f" {_plain_number(value)} "
    if form == "unit":
        return _plain_number(value) + (unit or "")
    if form == "number_cell":
        return int(value) if float(value).is_integer() else float(value)
    if form == "garbage":
        return ch.choice(["约800", "-", "待定", "1.2.3", "-100", "1e10", "1,000,000,000"])
    return _plain_number(value)


def render_integer(ch: Chooser, value: int, fmt: str) -> Cell:
    if ch.plain:
        return str(value)
    forms = ["plain", "plain", "fullwidth", "padded", "float", "garbage"]
    if fmt == "xlsx":
        forms += ["number_cell"]
    form = ch.choice(forms)
    if form == "fullwidth":
        return _fullwidth(str(value))
    if form == "padded":
        return f" {value} "
    if form == "float":
        return f"{value}.0"
    if form == "number_cell":
        return value
    if form == "garbage":
        return ch.choice(["两人", "?", "3.5"])
    return str(value)


def render_phone(ch: Chooser, number: str, fmt: str) -> Cell:
    if ch.plain or not number.isdigit():
        return number
    forms = ["plain", "plain", "spaced", "dashed", "country", "extension", "two", "blank",
             "office"]
    if fmt == "xlsx":
        forms.append("number_cell")
    form = ch.choice(forms)
    if form == "spaced":
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if form == "dashed":
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if form == "country":
        return "+86 " + number
    if form == "extension":
        return f"{OFFICE_PHONE}转{number[-3:]}"
    if form == "two":
        return f"{number}/{_fullwidth(number) if ch.chance(20) else number[::-1]}"
    if form == "blank":
        return ch.choice([None, "无"])
    if form == "office":
        return ch.choice([OFFICE_PHONE, "(027)85551234", "85551234"])
    if form == "number_cell":
        return int(number)
    return number


def render_text(ch: Chooser, text: str, fmt: str) -> Cell:
    if ch.plain:
        return text
    form = ch.choice(["plain"] * 6 + ["padded", "number_cell"])
    if form == "padded":
        return f" {text} "
    if form == "number_cell" and fmt == "xlsx" and text.isdigit() and not text.startswith("0"):
        return int(text)
    return text


def render_vocab(ch: Chooser, label: str) -> str:
    if ch.plain:
        return label
    form = ch.choice(["plain"] * 4 + ["padded", "inner_space", "fullwidth"])
    if form == "padded":
        return f" {label} "
    if form == "inner_space" and len(label) > 1:
        return label[0] + " " + label[1:]
    if form == "fullwidth":
        return _fullwidth(label)
    return label


def render(ch: Chooser, value: Value | None, fmt: str) -> Cell:
    """The cell as a department would write this value in a file of format `fmt`."""
    if value is None:
        return None
    if value.kind == "name":
        assert value.person is not None
        return render_name(ch, value.person, value.strict)
    if value.kind == "id":
        assert value.person is not None
        return render_id(ch, value.person, value.strict, fmt, value.damage)
    if value.kind == "date":
        return render_date(ch, value.value, fmt, value.strict)
    if value.kind == "decimal":
        return render_decimal(ch, value.value, value.unit, fmt, value.strict)
    if value.kind == "integer":
        return render_integer(ch, value.value, fmt)
    if value.kind == "phone":
        return render_phone(ch, value.value, fmt)
    if value.kind == "vocab":
        return render_vocab(ch, value.value)
    return render_text(ch, str(value.value), fmt)


def as_text(cell: Cell) -> str | None:
    """A cell for a text-only format (CSV, Parquet): what the department's export holds."""
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


# --- files and folders ------------------------------------------------------------------------

class LayoutRow(list[Cell]):
    """A row that is no record: a total (合计), a note (制表人：) or the header repeated. The
    reader must set it aside and ingest quarantine it with that reason, never load it."""


@dataclass
class DataFile:
    """One dataset file: headers as written, the canonical column of each, the rows of cells;
    for office exports also title rows above the header and, in a workbook, the rows split
    over several sheets (each with the header) after a cover sheet."""

    dataset: str
    fmt: str
    headers: list[str]
    columns: list[str | None]  # canonical column per header; None: an unknown extra column
    rows: list[list[Cell]]
    encoding: str = "utf-8"
    newline: str = "\r\n"
    final_newline: bool = True
    damage: str | None = None  # a fault in the bytes: invalid_bytes, utf16, empty, garbage
    titles: list[list[Cell]] = field(default_factory=list)  # rows above the header
    sheet_starts: list[int] = field(default_factory=lambda: [0])  # workbook: row of each sheet
    relabel: list[dict[int, str]] = field(default_factory=list)  # sheets 2...: other aliases
    hidden: bool = False  # the workbook's last data sheet is hidden
    cover: str | None = None  # the workbook starts with a sheet of instructions
    # a two-row header: a group heading (家庭成员信息) over some labels, the other labels in the
    # upper row only (merged down in a workbook); `headers` stay the labels as read
    upper: list[str | None] | None = None
    lower: list[str | None] | None = None
    merge_down: list[int] = field(default_factory=list)  # workbook: columns merged per household
    drop_in_last_sheet: int | None = None  # fault: the last sheet lacks this column

    suffix: str | None = None  # another suffix for the same format (xlsm)

    @property
    def name(self) -> str:
        return f"{self.dataset}.{self.suffix or self.fmt}"

    def text_rows(self, rows: list[list[Cell]] | None = None) -> list[list[str | None]]:
        return [[as_text(c) for c in row] for row in (self.rows if rows is None else rows)]

    @staticmethod
    def _blank(cell: Cell) -> bool:
        return cell is None or (isinstance(cell, str) and not cell.strip())

    def is_blank_row(self, row: list[Cell]) -> bool:
        return all(self._blank(c) for c in row)

    def sheets(self) -> list[list[list[Cell]]]:
        """The rows of each data sheet (one part for CSV and Parquet)."""
        if self.fmt != "xlsx":
            return [self.rows]
        starts = sorted([0, *(min(max(0, s), len(self.rows)) for s in self.sheet_starts[1:])])
        ends = [*starts[1:], len(self.rows)]
        return [self.rows[a:b] for a, b in zip(starts, ends, strict=True)]

    def header_rows(self, index: int) -> list[list[str | None]]:
        if self.upper is None or self.lower is None:
            return [list(self.sheet_headers(index))]
        return [list(self.upper), list(self.lower)]

    def sheet_headers(self, index: int) -> list[str]:
        if index == 0 or index - 1 >= len(self.relabel):
            return list(self.headers)
        labels = self.relabel[index - 1]
        return [labels.get(i, h) for i, h in enumerate(self.headers)]

    def expected_rows(self) -> tuple[int, int]:
        """(rows, blank rows) the reader must account for: every row written is read (loaded
        or quarantined) or, if all its cells are empty, skipped and counted as blank; Parquet
        has no blank rows (a row of nulls is a row); blank rows at the end of a sheet are its
        unused area, not rows."""
        if self.fmt == "parquet":
            return len(self.rows), 0
        total = blank = 0
        for rows in self.sheets():
            rows = list(rows)
            if self.fmt == "xlsx":
                while rows and self.is_blank_row(rows[-1]):
                    rows.pop()
            empty = sum(1 for row in rows if self.is_blank_row(row))
            total += len(rows) - empty
            blank += empty
        return total, blank

    def layout_rows(self) -> int:
        """Rows that are no records (totals, notes, repeated headers): quarantined as such."""
        if self.fmt == "parquet":
            return 0
        return sum(1 for row in self.rows if isinstance(row, LayoutRow))

    def records(self) -> list[list[Cell]]:
        """The rows a reader hands on as records (right width, not blank, no total or note)."""
        if self.fmt == "parquet":
            return list(self.rows)
        return [row for row in self.rows if len(row) == len(self.headers)
                and not self.is_blank_row(row) and not isinstance(row, LayoutRow)]

    def malformed_rows(self) -> int:
        """CSV lines with the wrong number of fields (not blank, no note): quarantined."""
        if self.fmt != "csv":
            return 0
        return sum(1 for row in self.rows if len(row) != len(self.headers)
                   and not self.is_blank_row(row) and not isinstance(row, LayoutRow))

    def rows_without(self, column: str) -> int:
        """Distinct records with no value in `column` (copies are exact duplicates instead)."""
        if column not in self.columns:
            return 0
        i = self.columns.index(column)
        seen: list[list[Cell]] = []
        for row in self.records():
            if self._blank(row[i]) and row not in seen:
                seen.append(row)
        return len(seen)

    def blank_columns(self) -> list[str]:
        """Optional columns present with no value in any record."""
        spec = contract().datasets[self.dataset]
        records = self.records()
        if not records:
            return []
        return [c for i, c in enumerate(self.columns) if c is not None
                and not spec.columns[c].required
                and all(self._blank(row[i]) for row in records)]

    def absent_columns(self) -> list[str]:
        spec = contract().datasets[self.dataset]
        return [c for c, col in spec.columns.items() if not col.required and c not in self.columns]

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=self.newline)
        writer.writerows([["" if c is None else c for c in row]
                          for row in self.text_rows(self.titles)])
        for header in self.header_rows(0):
            writer.writerow(["" if c is None else c for c in header])
        writer.writerows([["" if c is None else c for c in row] for row in self.text_rows()])
        text = buffer.getvalue()
        if not self.final_newline and text.endswith(self.newline):
            text = text[: -len(self.newline)]
        return text

    def csv_bytes(self) -> bytes:
        text = self.csv_text()
        if self.damage == "utf16":
            return text.encode("utf-16")
        data = text.encode(self.encoding)
        if self.damage == "invalid_bytes":
            cut = data.find(b"\n") + 1 or len(data)
            data = data[:cut] + b"\x80\xff\xfe," + data[cut:]
        return data

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        if self.damage == "empty":
            path.write_bytes(b"")
        elif self.damage == "garbage":
            path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 3 if self.fmt == "xlsx"
                             else b"PAR1" + bytes(range(200)))
        elif self.fmt == "csv":
            path.write_bytes(self.csv_bytes())
        elif self.fmt == "xlsx":
            self._write_xlsx(path)
        else:
            arrays = [pa.array([row[i] if i < len(row) else None for row in self.text_rows()],
                               pa.string()) for i in range(len(self.headers))]
            pq.write_table(pa.Table.from_arrays(arrays, names=self.headers), path)
        return path

    def _write_xlsx(self, path: Path) -> None:
        import openpyxl

        workbook = openpyxl.Workbook()
        first = workbook.active
        assert first is not None
        if self.cover is not None:
            first.title = "填表说明"
            for line in self.cover.splitlines():
                first.append([line])
            first = None
        for index, rows in enumerate(self.sheets()):
            sheet = first if (index == 0 and first is not None) else workbook.create_sheet()
            sheet.title = f"Sheet{index + 1}" if index else "花名册"
            for title in self.titles:
                sheet.append(title)
            top = len(self.titles) + 1
            drop = self.drop_in_last_sheet if index and index == len(self.sheets()) - 1 else None

            def cut(cells: list[Any], drop: int | None = drop) -> list[Any]:
                return [c for i, c in enumerate(cells) if i != drop]

            for header in self.header_rows(index):
                sheet.append(cut(header))
            if self.upper is not None and self.lower is not None:
                _merge_header(sheet, top, self.upper, self.lower)
            for row in rows:
                sheet.append(cut(list(row)))
            first_row = top + len(self.header_rows(index))
            for column in self.merge_down:
                _merge_households(sheet, rows, first_row, column,
                                  self.columns.index("household_id"))
            if self.hidden and index and index == len(self.sheets()) - 1:
                sheet.sheet_state = "hidden"
        workbook.save(path)

    def describe(self) -> dict[str, Any]:
        return {"file": self.name, "encoding": self.encoding if self.fmt == "csv" else None,
                "damage": self.damage, "titles": self.titles, "headers": self.headers,
                "columns": self.columns, "sheet_starts": self.sheet_starts,
                "relabel": self.relabel, "hidden": self.hidden, "cover": self.cover,
                "upper": self.upper, "lower": self.lower, "merge_down": self.merge_down,
                "drop_in_last_sheet": self.drop_in_last_sheet,
                "rows": [{"layout": [_jsonable(c) for c in row]} if isinstance(row, LayoutRow)
                         else [_jsonable(c) for c in row] for row in self.rows]}


def _merge_header(sheet: Any, top: int, upper: list[str | None],
                  lower: list[str | None]) -> None:
    """Merge a group heading across the labels under it, and an upper-only label down."""
    i = 0
    while i < len(upper):
        if upper[i] is not None and lower[i] is None:
            sheet.merge_cells(start_row=top, start_column=i + 1, end_row=top + 1,
                              end_column=i + 1)
            i += 1
            continue
        j = i
        while j + 1 < len(upper) and upper[j + 1] is None and lower[j + 1] is not None:
            j += 1
        if upper[i] is not None and j > i:
            sheet.merge_cells(start_row=top, start_column=i + 1, end_row=top,
                              end_column=j + 1)
        i = j + 1


def _merge_households(sheet: Any, rows: list[list[Cell]], first_row: int, column: int,
                      household: int) -> None:
    """Merge `column` down over each run of rows of one household (户编号 equal), where the
    value is written once at the top of the run or the same on every row."""
    i = 0
    while i < len(rows):
        j = i
        key = rows[i][household] if household < len(rows[i]) else None
        while (j + 1 < len(rows) and key is not None and not isinstance(rows[j + 1], LayoutRow)
               and not isinstance(rows[i], LayoutRow) and len(rows[j + 1]) == len(rows[i])
               and rows[j + 1][household] == key):
            j += 1
        values = [rows[k][column] for k in range(i, j + 1)]
        if j > i and values[0] is not None and (all(v is None for v in values[1:])
                                                or all(v == values[0] for v in values)):
            sheet.merge_cells(start_row=first_row + i, start_column=column + 1,
                              end_row=first_row + j, end_column=column + 1)
        i = j + 1


def _jsonable(cell: Cell) -> Any:
    if isinstance(cell, dt.datetime | dt.date):
        return {"cell": type(cell).__name__, "value": cell.isoformat()}
    return cell


@dataclass
class Fault:
    """What must stop the run with exit 2, and what its message must name."""

    kind: str
    file: str
    column: str | None = None  # canonical column the message must name
    expectation: str | None = None  # expectation id the message must name


@dataclass
class Folder:
    files: list[DataFile]
    clean: bool
    fault: Fault | None = None
    junk: list[str] = field(default_factory=list)  # other files: ignored, listed in the manifest
    folders: list[str] = field(default_factory=list)  # sub-folders (a fault if named like data)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for data_file in self.files:
            data_file.write(folder)
        for name in self.junk:
            (folder / name).write_bytes("不是数据集 not a dataset\n".encode())
        for name in self.folders:
            (folder / name).mkdir()
            (folder / name / "roll.csv").write_text("household_id\n", encoding="utf-8")

    def ignored_files(self) -> list[str]:
        return sorted(n for n in self.junk if not n.startswith((".", "~$")))

    def file(self, dataset: str) -> DataFile:
        return next(f for f in self.files if f.dataset == dataset)

    def describe(self) -> dict[str, Any]:
        return {"clean": self.clean,
                "fault": None if self.fault is None else vars(self.fault),
                "junk": self.junk, "folders": self.folders,
                "files": [f.describe() for f in self.files]}

    def __repr__(self) -> str:  # one line of JSON
        return "Folder(" + json.dumps(self.describe(), ensure_ascii=False) + ")"


def _labels(dataset: str, column: str) -> list[str]:
    spec = contract().datasets[dataset].columns[column]
    return [column, *spec.aliases]


def _extras(dataset: str) -> list[str]:
    known = contract().header_map(dataset)
    return [h for h in EXTRA_HEADERS if normalise_header(h) not in known]


def _extra_value(ch: Chooser, header: str, number: int, fmt: str) -> Cell:
    if header == "序号":
        return number if fmt == "xlsx" and ch.chance(50) else str(number)
    if header == "更新时间":
        return render_date(ch, _date(ch, 2020, 2026), fmt, False)
    return ch.choice(REMARKS) if ch.chance(70) else None


def layout_file(ch: Chooser, dataset: str, records: list[dict[str, Value | None]],
                clean: bool, fmt: str | None = None,
                states: dict[str, str] | None = None) -> DataFile:
    """Lay records out as one file: each column absent, present or entirely blank; headers;
    order; extra columns; format and encoding; duplicate, malformed and empty rows."""
    spec = contract().datasets[dataset]
    states = dict(states or {})
    if dataset == "standards" and "effective_date" not in states:
        categories = contract().values["category"]

        def key(record: dict[str, Value | None]) -> tuple[object, object]:
            district, category = record.get("district"), record.get("category")
            return (district.value if district else None,
                    categories.get(str(category.value)) if category else None)

        keys = [key(r) for r in records]
        if len(set(keys)) < len(keys) and clean:
            states["effective_date"] = "present"  # what tells two standards apart
    for column, col in spec.columns.items():
        if column in states:
            continue
        if ch.plain:
            states[column] = "present"
        elif col.required:
            # a required column entirely blank is still input a run must survive; a clean
            # folder keeps the roll's and the standards' (critical expectations, quarantine)
            blankable = not clean and dataset not in ("roll", "standards")
            states[column] = "blank" if blankable and ch.chance(5) else "present"
        else:
            states[column] = ch.choice(["present"] * 3 + ["absent", "blank"])
    columns: list[str | None] = [c for c in spec.columns if states[c] != "absent"]
    fmt = fmt or ("csv" if ch.plain else ch.choice(["csv", "csv", "xlsx", "parquet"]))
    extras: list[str] = []
    if not ch.plain:
        for _ in range(ch.integer(0, 2)):
            header = ch.choice(_extras(dataset))
            if fmt == "parquet" and header in extras:
                continue  # Parquet column names are unique
            extras.append(header)
    order = columns + [None] * len(extras)
    if not ch.plain:
        order = ch.permutation(order)
    headers: list[str] = []
    extra_iter = iter(extras)
    final_columns: list[str | None] = []
    for item in order:
        if item is None:
            headers.append(next(extra_iter))
        else:
            label = item if ch.plain else ch.choice(_labels(dataset, item))
            headers.append(label if ch.plain else decorate_label(ch, label))
        final_columns.append(item)
    rows: list[list[Cell]] = []
    for number, record in enumerate(records, start=1):
        row: list[Cell] = []
        for slot, header in zip(final_columns, headers, strict=True):
            if slot is None:
                row.append(_extra_value(ch, header, number, fmt))
            elif states[slot] == "blank":
                row.append(None if ch.plain else ch.choice([None, None, "", " "]))
            else:
                row.append(render(ch, record.get(slot), fmt))
        rows.append(row)
    data_file = DataFile(dataset, fmt, headers, final_columns, rows)
    if fmt == "xlsx" and not ch.plain and ch.chance(10):
        data_file.suffix = "xlsm"  # a workbook saved with macros enabled (WPS, Excel)
    if fmt == "csv" and not ch.plain:
        data_file.encoding = ch.choice(ENCODINGS)
        data_file.newline = ch.choice(["\r\n", "\n"])
        data_file.final_newline = not ch.chance(15)
    if not ch.plain and rows:
        if ch.chance(15):  # an exact duplicate row: quarantined, never lost
            i = ch.integer(0, len(rows) - 1)
            rows.insert(i + 1, list(rows[i]))
        if ch.chance(5):  # a row of empty cells
            rows.insert(ch.integer(0, len(rows)), [ch.choice([None, " "]) for _ in headers])
        if fmt == "csv" and ch.chance(10):  # a row with the wrong number of fields
            broken: list[Cell] = [f"X{ch.integer(1, 9)}", *rows[0]]
            if ch.chance(50):
                broken = broken[: max(2, len(headers) - 2)]
            rows.insert(ch.integer(0, len(rows)), broken)
    if not ch.plain and fmt != "parquet":
        office_layout(ch, data_file)
    if data_file.fmt == "csv" and data_file.encoding == "gbk":
        try:
            data_file.csv_text().encode("gbk")
        except UnicodeEncodeError:
            data_file.encoding = "gb18030"  # GBK only where the text is encodable
    return data_file


def decorate_label(ch: Chooser, label: str) -> str:
    """A header as offices write it: spaces around or inside, a line break inside the cell
    (Alt+Enter), full-width brackets; none of which may matter (contract §2)."""
    form = ch.choice(["plain"] * 6 + ["padded", "inner_space", "line_break", "brackets"])
    if form == "padded":
        return f" {label} "
    if form == "inner_space" and len(label) > 1:
        return label[:1] + " " + label[1:]
    if form == "line_break" and len(label) > 2:
        cut = ch.integer(1, len(label) - 1)
        return label[:cut] + "\n" + label[cut:]
    if form == "brackets":
        return label.replace("(", "（").replace(")", "）")
    return label


#: Known bugs, reported with a reproduction (tests/test_contract_property.py, xfail strict).
KNOWN_BUGS: dict[str, str] = {}
#: Known bugs whose shapes are not drawn (benchmarks/contract_fuzz.py --avoid-known), to look
#: for others; the tests draw everything.
AVOID: set[str] = set()

TITLES = ("武汉市城乡低保对象花名册", "〇〇区最低生活保障对象名册（2026年10月）",
          "填报单位：江岸区民政局", "填报日期：2026年10月31日", "")
TOTALS = ("合计", "合 计", "总计", "小计", "合计：35户", "共计12人")
NOTES = ("制表人：王某", "审核人：李某", "填报日期：2026年11月1日", "备注：以上数据已核实",
         "说明：本表由街道汇总")
COVER = "填表说明\n1. 每户一行户主信息\n2. 身份证号请以文本格式填写"


def office_layout(ch: Chooser, data_file: DataFile) -> None:
    """What office exports carry around the table (contract §2, files as offices send them):
    title rows above the header, a total row and notes below, the header repeated on a printed
    page; a workbook split over sheets, one of them hidden, after a cover sheet."""
    width = len(data_file.headers)
    rows = data_file.rows
    if ch.chance(15):
        for _ in range(ch.integer(1, 2)):
            title = ch.choice(TITLES)
            data_file.titles.append([title] + ([None] * (width - 1) if ch.chance(50) else []))
    if rows and ch.chance(8):  # the header again, as on every printed page
        first = next((h for h in data_file.headers if h.strip()), "")
        named = normalise_header(first) in contract().header_map(data_file.dataset)
        if named or "repeated_header_unnamed_first" not in AVOID:
            rows.insert(ch.integer(1, len(rows)), LayoutRow(list(data_file.headers)))
    if ch.chance(12):
        total = LayoutRow([None] * width)
        total[0] = ch.choice(TOTALS)
        rows.append(total)
    if ch.chance(12):
        for _ in range(ch.integer(1, 2)):
            note = LayoutRow([ch.choice(NOTES)] + [None] * (width - 1))
            if data_file.fmt == "csv" and ch.chance(50):
                note = LayoutRow(note[:1])  # a line with one field
            rows.append(note)
    if ch.chance(10):
        two_row_header(ch, data_file)
    if data_file.fmt == "xlsx" and data_file.dataset == "roll" and ch.chance(30):
        data_file.merge_down = [data_file.columns.index(c) for c in ("household_id",
                                "monthly_amount", "category") if c in data_file.columns]
    if data_file.fmt == "xlsx":
        if len(rows) > 1 and ch.chance(25):
            data_file.sheet_starts.append(ch.integer(1, len(rows) - 1))
            data_file.relabel.append({i: decorate_label(ch, ch.choice(_labels(
                data_file.dataset, c))) for i, c in enumerate(data_file.columns)
                if c is not None and ch.chance(30)})
            data_file.hidden = ch.chance(30)
        if ch.chance(10):
            data_file.cover = COVER


GROUP_HEADINGS = ("家庭成员信息", "基本信息", "保障信息", "人员情况")


def two_row_header(ch: Chooser, data_file: DataFile) -> None:
    """A group heading over some labels (the lower row), the other labels in the upper row."""
    n = len(data_file.headers)
    upper: list[str | None] = [None] * n
    lower: list[str | None] = [None] * n
    for i, label in enumerate(data_file.headers):
        if not label.strip():
            continue  # a blank header stays blank in both rows
        if ch.chance(50):
            upper[i] = label
        else:
            lower[i] = label
    named = [c is not None for c in data_file.columns]
    if not any(u is not None and k for u, k in zip(upper, named, strict=True)) or \
            not any(v is not None and k for v, k in zip(lower, named, strict=True)):
        return
    i = 0
    while i < n:
        if lower[i] is None:
            i += 1
            continue
        upper[i] = ch.choice(GROUP_HEADINGS)  # over the run of lower labels from here
        while i + 1 < n and lower[i + 1] is not None:
            i += 1
        i += 1
    data_file.upper, data_file.lower = upper, lower
    data_file.relabel = []


RECORDS: dict[str, Callable[[World, Chooser, int], list[dict[str, Value | None]]]] = {
    "deaths": deaths_records, "staff": staff_records,
    "staff_relatives": staff_relatives_records,
    "vehicles": vehicles_records, "property": property_records,
    "businesses": businesses_records, "public_employees": public_employees_records,
    "pensions": pensions_records, "low_income": low_income_records,
}


def dataset_records(world: World, ch: Chooser, dataset: str, n: int,
                    done: dict[str, list[dict[str, Value | None]]]
                    ) -> list[dict[str, Value | None]]:
    if dataset == "roll":
        records = roll_records(world, ch) + world.extra_roll
    elif dataset == "standards":
        records = standards_records(world, ch)
    elif dataset == "kin_filings":
        records = kin_filings_records(world, ch, n, done.get("staff_relatives", []))
    elif dataset == "decisions":
        records = decisions_records(world, ch, n, done.get("deaths", []))
    elif dataset in RECORDS:
        records = RECORDS[dataset](world, ch, n)
    else:  # a dataset the contract gained later: rows typed from its column table
        records = [{} for _ in range(n)]
    fill_by_type(dataset, records, ch)
    return records


# --- faults: what must end in exit 2 ------------------------------------------------------------

FAULTS = ("missing_column", "duplicate_column", "invalid_bytes", "utf16", "empty_file",
          "garbage_file", "empty_roll", "missing_standards", "duplicate_dataset",
          "dataset_folder", "sheet_missing_column", "unknown_category",
          "standard_out_of_range")
JUNK = ("说明.txt", "roll_old.csv", "~$roll.xlsx", ".DS_Store", "deaths.csv.bak", "低保名册.xlsx")


def apply_fault(ch: Chooser, folder: Folder, kind: str, world: World) -> None:
    files = folder.files
    if kind == "missing_column":
        target = ch.choice(files)
        spec = contract().datasets[target.dataset]
        present = [c for c in target.columns if c is not None and spec.columns[c].required]
        column = ch.choice(present)
        keep = [i for i, c in enumerate(target.columns) if c != column]
        _keep_columns(target, keep)
        folder.fault = Fault(kind, target.name, column=column)
    elif kind == "duplicate_column":
        target = ch.choice(files)
        candidates = [(i, c) for i, c in enumerate(target.columns)
                      if c is not None and len(_labels(target.dataset, c)) > 1]
        if not candidates:
            return apply_fault(ch, folder, "missing_column", world)
        i, column = ch.choice(candidates)
        used = normalise_header(target.headers[i])
        label = ch.choice([h for h in _labels(target.dataset, column)
                           if normalise_header(h) != used])
        target.relabel, target.upper, target.lower, target.merge_down = [], None, None, []
        target.headers.append(label)
        target.columns.append(column)
        for row in target.rows:
            row.append(row[i] if i < len(row) else None)
        folder.fault = Fault(kind, target.name, column=column)
    elif kind in ("invalid_bytes", "utf16"):
        target = ch.choice(files)
        target.fmt, target.damage = "csv", kind
        folder.fault = Fault(kind, target.name)
    elif kind == "empty_file":
        target = ch.choice(files)
        target.damage = "empty"
        folder.fault = Fault(kind, target.name)
    elif kind == "garbage_file":
        target = ch.choice(files)
        target.fmt, target.damage = ch.choice(["xlsx", "parquet"]), "garbage"
        folder.fault = Fault(kind, target.name)
    elif kind == "empty_roll":
        roll = folder.file("roll")
        if ch.chance(50):
            roll.rows.clear()
        else:  # every row without household_id: all quarantined
            i = roll.columns.index("household_id")
            for row in roll.rows:
                if i < len(row):
                    row[i] = None
        folder.fault = Fault(kind, roll.name)
    elif kind == "missing_standards":
        folder.files = [f for f in files if f.dataset != "standards"]
        folder.fault = Fault(kind, "standards.csv")
    elif kind == "duplicate_dataset":
        target = ch.choice(files)
        other = ch.choice([f for f in FORMATS if f != target.fmt])
        copy = DataFile(target.dataset, other, list(target.headers), list(target.columns),
                        [list(r) for r in target.rows])
        files.append(copy)
        folder.fault = Fault(kind, sorted([target.name, copy.name])[0])
    elif kind == "dataset_folder":
        name = ch.choice([d for d in optional_datasets()
                          if d not in {f.dataset for f in files}] or ["deaths"])
        folder.folders.append(f"{name}.{ch.choice(FORMATS)}")
        folder.fault = Fault(kind, folder.folders[-1])
    elif kind == "sheet_missing_column":
        # a sheet naming most of the header (at least 2 columns, half of them) but not all
        # required columns; a sheet naming fewer is skipped as no part of the table
        wide = [f for f in files if sum(c is not None for c in f.columns) >= 3]
        if not wide:
            return apply_fault(ch, folder, "missing_column", world)
        book = ch.choice(wide)
        spec = contract().datasets[book.dataset]
        required = [i for i, c in enumerate(book.columns)
                    if c is not None and spec.columns[c].required]
        book.fmt, book.suffix, book.merge_down = "xlsx", None, []
        book.upper = book.lower = None
        book.sheet_starts = [0, len(book.rows) // 2]
        book.relabel = []
        book.drop_in_last_sheet = ch.choice(required)
        dropped = book.columns[book.drop_in_last_sheet]
        folder.fault = Fault(kind, book.name, column=dropped)
    elif kind == "unknown_category":
        roll = folder.file("roll")
        i = roll.columns.index("category")
        for row in roll.rows:
            if i < len(row):
                row[i] = ch.choice(UNKNOWN_VOCAB)
        folder.fault = Fault(kind, roll.name, expectation="roll.category.known")
    elif kind == "standard_out_of_range":
        standards = folder.file("standards")
        i = standards.columns.index("monthly_standard")
        for row in standards.rows:
            if i < len(row):
                row[i] = ch.choice(["50", "99", "20000", "1,000,000"])
        folder.fault = Fault(kind, standards.name, expectation="standards.monthly_standard.range")
    return None


def _keep_columns(target: DataFile, keep: list[int]) -> None:
    target.relabel, target.upper, target.lower, target.merge_down = [], None, None, []
    target.headers = [target.headers[i] for i in keep]
    target.columns = [target.columns[i] for i in keep]
    target.rows = [[row[i] for i in keep if i < len(row)] for row in target.rows]


# --- the whole folder --------------------------------------------------------------------------

def build_folder(ch: Chooser, *, clean: bool, datasets: Sequence[str], fault: str | None,
                 min_rows: int = 0, fmt: str | None = None,
                 states: dict[tuple[str, str], str] | None = None) -> Folder:
    world = draw_world(ch, clean)
    done: dict[str, list[dict[str, Value | None]]] = {}
    files = []
    for dataset in datasets:
        n = ch.integer(min_rows, max(min_rows, 6))
        records = dataset_records(world, ch, dataset, n, done)
        done[dataset] = records
        wanted = {c: s for (d, c), s in (states or {}).items() if d == dataset}
        files.append(layout_file(ch, dataset, records, clean, fmt, wanted))
    folder = Folder(files, clean)
    if not ch.plain and ch.chance(15):
        folder.junk = sorted({ch.choice(JUNK) for _ in range(ch.integer(1, 2))})
        if ch.chance(30):
            folder.folders.append("附件")  # a folder that is no dataset: ignored
    if fault is not None:
        apply_fault(ch, folder, fault, world)
    return folder


@st.composite
def folders(draw: Callable[[st.SearchStrategy[Any]], Any],
            faults: bool | None = None) -> Folder:
    """An input folder the contract allows (roll + standards + any optional datasets), messy or
    clean; with `faults` True it carries one fault that must end in exit 2, with False none, with
    None one in about a seventh of the folders."""
    ch = DrawChooser(draw)
    optional = [d for d in optional_datasets() if ch.chance(45)]
    clean = not ch.chance(25)
    fault: str | None = None
    if faults or (faults is None and ch.chance(15)):
        fault = ch.choice(FAULTS)
    return build_folder(ch, clean=clean, datasets=[*required_datasets(), *optional],
                        fault=fault)


def baseline_folder(seed: int = 7, datasets: Sequence[str] | None = None,
                    states: dict[tuple[str, str], str] | None = None,
                    fmt: str = "csv") -> Folder:
    """A clean folder with every value in its canonical form and at least two rows per dataset:
    the starting point of the regression tests. `states` sets columns to absent or blank."""
    ch = RandomChooser(seed, plain=True)
    names = list(datasets) if datasets is not None else dataset_names()
    return build_folder(ch, clean=True, datasets=names, fault=None, min_rows=2, fmt=fmt,
                        states=states)


def optional_columns() -> list[tuple[str, str, ColumnSpec]]:
    return [(d, c, col) for d, spec in contract().datasets.items()
            for c, col in spec.columns.items() if not col.required]


# --- running the command and stating the property ---------------------------------------------

@dataclass
class RunResult:
    code: int | None
    stderr: str
    error: str | None  # the traceback of an exception that escaped main(): a bug (exit 1)


_ENV = ("DIBAO_WAREHOUSE", "DIBAO_REVIEW_DATABASE_URL")


def run_cli(input_dir: Path, output_dir: Path, as_of: str = AS_OF) -> RunResult:
    """`dibao-audit run` in-process, stderr captured; without the environment's warehouse and
    review database, so the run touches nothing outside its temporary folders."""
    from pipelines.cli import main

    saved = {k: os.environ.pop(k) for k in _ENV if k in os.environ}
    err, out = io.StringIO(), io.StringIO()
    code: int | None = None
    error = None
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["run", "--input", str(input_dir), "--output", str(output_dir),
                         "--as-of", as_of])
    except BaseException as exc:  # noqa: BLE001 - anything escaping main() is the finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        error = traceback.format_exc()
    finally:
        os.environ.update(saved)
    return RunResult(code, err.getvalue(), error)


class ContractViolation(AssertionError):
    """The run broke the input contract for this folder."""


def _fail(message: str, result: RunResult) -> ContractViolation:
    tail = result.error or result.stderr[-3000:]
    return ContractViolation(f"{message}\n--- exit {result.code}; stderr/traceback:\n{tail}")


def check_outcome(folder: Folder, result: RunResult, input_dir: Path, output_dir: Path) -> str:
    """The property; returns 'exit0' or 'exit2', raises ContractViolation otherwise.

    Exit 0, or exit 2 with a message naming the file (and the column); never an exception. On
    exit 0 every row written is read, loaded or quarantined, and the counts add up. On exit 2
    nothing is left at --output and no work or staging folder beside it.
    """
    if result.error is not None:
        raise _fail("an exception escaped `dibao-audit run` (exit 1: a bug)", result)
    parent = output_dir.parent
    leftovers = sorted(p.name for p in parent.iterdir()
                       if p.name.startswith(".") or p.name.endswith(".work"))
    if leftovers:
        raise _fail(f"work or staging folders left beside --output: {leftovers}", result)
    if result.code == 2:
        _check_exit_2(folder, result, output_dir)
        return "exit2"
    if result.code != 0:
        raise _fail(f"exit code {result.code}; only 0 and 2 are allowed", result)
    if folder.fault is not None:
        raise _fail(f"the input carries a fault that must stop the run: {folder.fault}", result)
    _check_exit_0(folder, result, input_dir, output_dir)
    return "exit0"


def _check_exit_2(folder: Folder, result: RunResult, output_dir: Path) -> None:
    err = result.stderr
    if "input unusable" not in err:
        raise _fail("exit 2 without the 'input unusable' message", result)
    if output_dir.exists():
        raise _fail("a failed run left --output behind", result)
    others = sorted(p.name for p in output_dir.parent.iterdir() if p.name != "_failed")
    if others:
        raise _fail(f"a failed run left files beside --output: {others}", result)
    if not (output_dir.parent / "_failed" / f"{AS_OF}.json").exists():
        raise _fail("a failed run wrote no report to <output parent>/_failed/", result)
    fault = folder.fault
    if fault is None:
        if folder.clean:
            raise _fail("a clean folder (nothing the contract forbids) was refused", result)
        if "critical data-quality expectation failed" not in err:
            raise _fail("a folder without a fault was refused for something other than a "
                        "critical data-quality expectation", result)
        if not any(f.name in err for f in folder.files):
            raise _fail("the message names no input file", result)
        return
    if fault.file not in err:
        raise _fail(f"the message does not name the file {fault.file} ({fault.kind})", result)
    if fault.column is not None and fault.column not in err:
        raise _fail(f"the message does not name the column {fault.column} ({fault.kind})",
                    result)
    if fault.expectation is not None and fault.expectation not in err:
        raise _fail(f"the message does not name the expectation {fault.expectation}", result)


def quarantine_reasons(output_dir: Path, dataset: str) -> dict[str, int]:
    """Quarantined rows of a dataset per reason (quality/quarantine_summary.csv)."""
    summary = output_dir / "quality" / "quarantine_summary.csv"
    with summary.open(encoding="utf-8", newline="") as handle:
        return {r["reason"]: int(r["rows"]) for r in csv.DictReader(handle)
                if r["dataset"] == dataset}


def blank_rows_skipped(layout: dict[str, Any]) -> int:
    """Blank rows a reader skipped, from the manifest's layout of one file (all its sheets)."""
    parts = [layout, *(layout.get("sheets") or [])]
    return sum(int((p.get("rows_skipped") or {}).get("blank rows", 0)) for p in parts)


def _check_exit_0(folder: Folder, result: RunResult, input_dir: Path, output_dir: Path) -> None:
    manifest_path = output_dir / "manifest.json"
    if not manifest_path.exists():
        raise _fail("exit 0 without manifest.json", result)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs = manifest["inputs"]
    written = {f.dataset: f for f in folder.files}
    if set(inputs) != set(written):
        raise _fail(f"manifest inputs {sorted(inputs)} != files written {sorted(written)}",
                    result)
    if sorted(manifest["absent_datasets"]) != sorted(set(dataset_names()) - set(written)):
        raise _fail(f"absent_datasets {manifest['absent_datasets']} is wrong", result)
    totals = {"input_rows": 0, "loaded_rows": 0, "quarantined_rows": 0}
    for dataset, data_file in written.items():
        facts = inputs[dataset]
        for key in totals:
            totals[key] += int(facts[key])
        where = f"{data_file.name}: "
        if facts["file"] != data_file.name:
            raise _fail(where + f"manifest names the file {facts['file']}", result)
        if facts["input_rows"] != facts["loaded_rows"] + facts["quarantined_rows"]:
            raise _fail(where + f"input_rows {facts['input_rows']} != loaded "
                        f"{facts['loaded_rows']} + quarantined {facts['quarantined_rows']}",
                        result)
        records, blank = data_file.expected_rows()
        skipped = blank_rows_skipped(facts.get("layout") or {})
        if (facts["input_rows"], skipped) != (records, blank):
            raise _fail(where + f"{records} rows and {blank} blank rows written; manifest reads "
                        f"{facts['input_rows']} rows and skips {skipped} blank rows", result)
        reasons = quarantine_reasons(output_dir, dataset)
        set_aside = sum(n for r, n in reasons.items() if "not a record" in r)
        if set_aside != data_file.layout_rows():
            raise _fail(where + f"{data_file.layout_rows()} rows that are no records (totals, "
                        f"notes, the header repeated) written, {set_aside} quarantined as such",
                        result)
        malformed = sum(n for r, n in reasons.items() if r.startswith("expected "))
        if malformed != data_file.malformed_rows():
            raise _fail(where + f"{data_file.malformed_rows()} lines with the wrong number of "
                        f"fields written, {malformed} quarantined as such", result)
        if dataset == "roll":
            # merged 户编号 cells belong to every member row they cover (contract §2)
            without = reasons.get("roll row without household_id", 0)
            if without != data_file.rows_without("household_id"):
                raise _fail(where + f"{data_file.rows_without('household_id')} rows without "
                            f"household_id written, {without} quarantined as such", result)
        for key, expected in (("absent_columns", data_file.absent_columns()),
                              ("blank_columns", data_file.blank_columns())):
            if key in facts and sorted(facts[key]) != sorted(expected):
                raise _fail(where + f"{key} {sorted(facts[key])}, expected {sorted(expected)}",
                            result)
        if data_file.fmt == "csv" and facts.get("encoding"):
            data = (input_dir / data_file.name).read_bytes()
            if data.decode(facts["encoding"]) != data.decode(data_file.encoding):
                raise _fail(where + f"written in {data_file.encoding}, read as "
                            f"{facts['encoding']}: the text differs", result)
        extras = {h.strip() for h, c in zip(data_file.headers, data_file.columns, strict=True)
                  if c is None and h.strip()}
        ignored = {str(h).strip() for h in facts["ignored_columns"] if str(h).strip()}
        if extras != ignored:
            raise _fail(where + f"unknown columns {sorted(extras)} reported as ignored "
                        f"{sorted(ignored)}", result)
        quarantine = output_dir / "quality" / "quarantine" / f"{dataset}.csv"
        in_file = 0
        if quarantine.exists():
            with quarantine.open(encoding="utf-8", newline="") as handle:
                in_file = sum(1 for _ in csv.reader(handle)) - 1
        if in_file != facts["quarantined_rows"]:
            raise _fail(where + f"{facts['quarantined_rows']} rows quarantined, {in_file} in "
                        f"quality/quarantine/{dataset}.csv", result)
    checks = {c["finding_code"]: c for c in manifest.get("checks", [])}
    for dataset, data_file in written.items():
        spec = contract().datasets[dataset]
        for column in [*data_file.absent_columns(), *data_file.blank_columns()]:
            for code in spec.columns[column].used_by:
                check = checks.get(code)
                if check and check.get("status") == "ran" and \
                        f"ran without {dataset}.{column}" not in (check.get("notes") or ""):
                    raise _fail(f"{code} ran without {dataset}.{column} and its notes do not say "
                                f"so: {check.get('notes')!r}", result)
    if sorted(manifest.get("ignored_files", [])) != folder.ignored_files():
        raise _fail(f"ignored_files {manifest.get('ignored_files')}, expected "
                    f"{folder.ignored_files()}", result)
    if manifest["totals"] != totals:
        raise _fail(f"manifest totals {manifest['totals']} != the sum per dataset {totals}",
                    result)
