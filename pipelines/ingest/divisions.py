"""Administrative divisions: district (county-level) codes and names, Wuhan street codes.

Codes are the National Bureau of Statistics codes in pipelines/data (areas.csv: every
county-level division; streets_wuhan.csv: Wuhan's streets and townships).
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import cache

import pandas as pd
import pyarrow as pa

from pipelines.ingest.distinct import Distinct
from pipelines.resources import resource_dir

logger = logging.getLogger(__name__)

_DATA = resource_dir("data")
DEFAULT_CITY = "4201"  # 武汉市

_DISTRICT_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "新区", "区", "县", "市", "旗")
_STREET_SUFFIXES = ("街道办事处", "街道办", "办事处", "街道", "镇", "乡", "街")
_CODE = re.compile(r"\d{6}(?:\d{3}|\d{6})?")
_PAREN = re.compile(r"\(.*?\)")


def _read(name: str) -> list[dict[str, str]]:
    with (_DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def _areas() -> dict[str, tuple[str, str]]:
    """County-level code -> (name, city code)."""
    return {row["code"]: (row["name"], row["cityCode"]) for row in _read("areas.csv")}


@cache
def _city_prefixes(city: str) -> tuple[str, ...]:
    """Names a value may start with before the district name: province and city, full or short."""
    cities = {row["code"]: row for row in _read("cities.csv")}
    provinces = {row["code"]: row["name"] for row in _read("provinces.csv")}
    names: set[str] = set()
    if city in cities:
        names.add(provinces.get(cities[city]["provinceCode"], ""))
        if cities[city]["name"] not in ("市辖区", "县", "省直辖县级行政区划"):
            names.add(cities[city]["name"])
    for full in list(names):
        for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
            if full.endswith(suffix) and len(full) > len(suffix) + 1:
                names.add(full[: -len(suffix)])
                break
    names.discard("")
    return tuple(sorted(names, key=len, reverse=True))


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@cache
def _district_index(city: str) -> dict[str, str]:
    """Full and short district names of `city` -> code (short forms only when unambiguous)."""
    index: dict[str, str] = {}
    shorts: dict[str, set[str]] = {}
    for code, (name, city_code) in _areas().items():
        if city_code == city:
            index[name] = code
            shorts.setdefault(_short(name, _DISTRICT_SUFFIXES), set()).add(code)
    for short, codes in shorts.items():
        if len(codes) == 1 and short not in index:
            index[short] = next(iter(codes))
    return index


def _key(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


def district_code(value: str | None, city: str = DEFAULT_CITY) -> str | None:
    """The 6-digit code of a district written by name or code; None when not recognised.

    Names ('江岸区', '江岸', '武汉市江岸区', '湖北省武汉市江岸区') are looked up within `city`
    only. Codes ('420102', also a 9-digit street or 12-digit statistics code) are accepted for
    any city when the 6-digit district code exists in areas.csv.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = _key(str(value))
    if not text:
        return None
    if _CODE.fullmatch(text):
        return text[:6] if text[:6] in _areas() else None
    index = _district_index(city)
    prefixes = _city_prefixes(city)
    while text not in index:  # drop 湖北省, 武汉市 ... one at a time
        prefix = next((p for p in prefixes if text.startswith(p) and len(text) > len(p)), None)
        if prefix is None:
            break
        text = text[len(prefix):]
    if text in index:
        return index[text]
    # 江岸区大智街道: a full district name followed by more
    starts = [name for name in index if text.startswith(name) and name.endswith(_DISTRICT_SUFFIXES)]
    return index[max(starts, key=len)] if starts else None


def district_name(code: str | None) -> str | None:
    """The name of a 6-digit county-level code (any city), or None."""
    area = _areas().get(code) if code else None
    return area[0] if area else None


def district_column(values: pd.Series | Sequence[str | None], city: str = DEFAULT_CITY
                    ) -> pa.Array:
    """`district_code` over a column: an Arrow array of codes (null where none), aligned to
    the input. Each distinct value is looked up once."""
    distinct = Distinct(values)
    return distinct.spread([district_code(v, city) for v in distinct.values], pa.string())


def district_codes(values: Sequence[str | None], city: str = DEFAULT_CITY) -> pd.Series:
    """`district_code` over a column; an object Series of codes or None, aligned to the input."""
    return pd.Series(district_column(values, city).to_pylist(), dtype=object)


def city_districts(city: str = DEFAULT_CITY) -> dict[str, str]:
    """Code -> name of every county-level division of `city`, in code order."""
    return {code: name for code, (name, city_code) in sorted(_areas().items())
            if city_code == city}


def _street_core(name: str) -> str:
    """A street name without parentheses and administrative suffixes: 民族街街道 -> 民族."""
    core = _PAREN.sub("", _key(name))
    changed = True
    while changed:
        changed = False
        for suffix in _STREET_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix) + 1:
                core, changed = core[: -len(suffix)], True
                break
    return core


@cache
def _streets() -> dict[str, tuple[dict[str, str], dict[str, set[str]]]]:
    """District code -> (full name -> street code, core name -> street codes)."""
    index: dict[str, tuple[dict[str, str], dict[str, set[str]]]] = {}
    for row in _read("streets_wuhan.csv"):
        full, cores = index.setdefault(row["areaCode"], ({}, {}))
        full[_key(row["name"])] = row["code"]
        cores.setdefault(_street_core(row["name"]), set()).add(row["code"])
    return index


def street_code(district_code: str | None, street_name: str | None) -> str | None:
    """The 9-digit code of a Wuhan street or township within a district, or None.

    Tolerant of the suffix: 大智街道, 大智街, 大智 and 大智街道办事处 all match; a name that
    fits two streets of the district after dropping suffixes gives None.
    """
    if not district_code or not street_name:
        return None
    full, cores = _streets().get(district_code, ({}, {}))
    key = _key(street_name)
    if key in full:
        return full[key]
    codes = cores.get(_street_core(key), set())
    return next(iter(codes)) if len(codes) == 1 else None


def is_known_region(code6: str | None) -> bool:
    """Whether a 6-digit region code exists in areas.csv (current county-level divisions).

    Informative only: ID numbers keep the region code of the place and time of issue, and many
    codes have since been retired or merged (or are city-level, like 420101), so an unknown
    region never makes an ID invalid.
    """
    return bool(code6) and code6 in _areas()
