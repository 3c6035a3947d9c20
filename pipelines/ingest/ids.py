"""Resident ID numbers (居民身份证号码, GB 11643-1999): check digits, repair, 15->18 expansion.

A repair only ever changes the *form* of a number (full-width digits, case, spaces, quotes,
15->18 expansion); it never changes, adds or drops a digit of the person's number. Numbers that
fail the check digit are kept as `cleaned` for fuzzy matching elsewhere, never silently fixed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.distinct import Distinct, as_objects

logger = logging.getLogger(__name__)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_INVERSE_WEIGHTS = tuple(pow(w, -1, 11) for w in _WEIGHTS)

#: Every `IdRepair.status`, in the order of how usable the number is:
#: 'valid' - a valid 18-digit number exactly as written (surrounding whitespace aside);
#: 'repaired_format' - valid after fixing only its form (full-width digits or Ｘ, lower-case x,
#: inner spaces, tabs or hyphens, a leading apostrophe or surrounding quotes);
#: 'expanded_15' - a valid 15-digit legacy number, expanded to 18 ('19' + check digit);
#: 'bad_check' - 18 well-formed characters with a possible birth date but a wrong check digit
#: (a typo or a swap); `cleaned` keeps it;
#: 'bad_date' - 18 or 15 digits whose birth-date part is impossible; `cleaned` keeps it;
#: 'mangled' - spreadsheet damage (scientific notation, a float rendering of an 18-digit
#: number): the digits are lost, so it counts as missing;
#: 'blank' - nothing there (None, '', whitespace, 无, /, -, NULL, nan ...);
#: 'invalid' - anything else (wrong length, letters ...).
STATUSES = ("valid", "repaired_format", "expanded_15", "bad_check", "bad_date", "mangled",
            "blank", "invalid")

BIRTH_MIN = dt.date(1900, 1, 1)
BIRTH_MAX = dt.date(2030, 12, 31)

_BLANK_TOKENS = frozenset({"", "无", "/", "\\", "-", "--", "—", "null", "nan", "none", "nat",
                           "n/a", "na", "<na>", "不详", "暂无", "空"})
_QUOTES = "'\"`‘’“”‚„′"
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_]+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+")
_FLOATLIKE = re.compile(r"(\d+)\.(\d*)")
_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")
_DIGITS_X = re.compile(r"[\dX]+")
_ID18_ASCII = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True, slots=True)
class IdRepair:
    """The outcome of repairing one written ID number (see `STATUSES`)."""

    id18: str | None
    cleaned: str | None
    status: str
    birth_date: dt.date | None = None
    sex: str | None = None
    region: str | None = None


_BLANK = IdRepair(None, None, "blank")
_MANGLED = IdRepair(None, None, "mangled")


def check_digit(body17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') for a 17-digit body."""
    total = sum(int(c) * w for c, w in zip(body17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@lru_cache(maxsize=65536)
def _birth(yyyymmdd: str) -> dt.date | None:
    """The date written as yyyymmdd if it exists and is a plausible birth date."""
    try:
        day = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return day if BIRTH_MIN <= day <= BIRTH_MAX else None


def _valid(id18: str, status: str, birth: dt.date) -> IdRepair:
    sex = "M" if int(id18[16]) % 2 else "F"
    return IdRepair(id18, id18, status, birth, sex, id18[:6])


def _clean(raw: object) -> str | None:
    """Text of `raw` with its form repaired; None when it is blank."""
    if isinstance(raw, float) and raw != raw:  # NaN from a spreadsheet reader
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip().strip(_QUOTES)
    text = _SEPARATORS.sub("", text).strip(_QUOTES)
    return None if text.casefold() in _BLANK_TOKENS else text


def repair_id(raw: str | None) -> IdRepair:
    """Repair one written ID number: canonical id18 when valid, else the reason (`STATUSES`).

    Whitespace around the value does not count as a repair; anything else that had to change
    makes a valid number 'repaired_format'. A 15-digit number written as a float ('…123.0') is
    exact, so it is expanded; an 18-digit one is not (floats keep ~16 digits): 'mangled'.
    """
    if raw is None:
        return _BLANK
    text = _clean(raw)
    if text is None:
        return _BLANK
    if _SCIENTIFIC.fullmatch(text):
        return _MANGLED
    floatlike = _FLOATLIKE.fullmatch(text)
    if floatlike:
        if len(floatlike[1]) != 15 or floatlike[2].strip("0"):
            return _MANGLED
        text = floatlike[1]
    text = text.upper()
    as_written = str(raw).strip() == text
    if _ID18.fullmatch(text) and text.isascii():
        birth = _birth(text[6:14])
        if birth is None:
            return IdRepair(None, text, "bad_date")
        if check_digit(text[:17]) != text[17]:
            return IdRepair(None, text, "bad_check")
        return _valid(text, "valid" if as_written else "repaired_format", birth)
    if _ID15.fullmatch(text) and text.isascii():
        birth = _birth("19" + text[6:12])
        if birth is None:
            return IdRepair(None, text, "bad_date")
        body = text[:6] + "19" + text[6:]
        return _valid(body + check_digit(body), "expanded_15", birth)
    cleaned = text if _DIGITS_X.fullmatch(text) and text.isascii() else None
    return IdRepair(None, cleaned, "invalid")


_COLUMNS = ("id18", "id_clean", "id_status", "id_birth_date", "id_sex", "id_region")


def _grid(values: pa.Array) -> np.ndarray:
    """The characters of ASCII text values all 18 long, as a (values, 18) array of bytes,
    straight from the Arrow buffers."""
    if not len(values):
        return np.zeros((0, 18), dtype=np.uint8)
    values = values.cast(pa.large_string())
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    return data[offsets[0]:offsets[-1]].reshape(-1, 18)


def _fast_valid(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised check of 18-character IDs as bytes: (valid mask, possible-birth-date mask,
    birth dates as datetime64[D] of the valid ones)."""
    digits = grid[:, :17].astype(np.int64) - 48
    expected = np.frombuffer(_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
    check_ok = expected[(digits @ np.array(_WEIGHTS)) % 11] == grid[:, 17]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    last = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    date_ok = ((month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
               & (year >= BIRTH_MIN.year) & (year <= BIRTH_MAX.year))
    ok = check_ok & date_ok
    births = ((year[ok] - 1970).astype("datetime64[Y]") + (month[ok] - 1).astype("timedelta64[M]")
              ).astype("datetime64[D]") + (day[ok] - 1).astype("timedelta64[D]")
    return ok, date_ok, births


_KINDS = {"id18": pa.string(), "id_clean": pa.string(), "id_status": pa.string(),
          "id_birth_date": pa.date32(), "id_sex": pa.string(), "id_region": pa.string()}


def id_columns(values: pd.Series | Sequence[str | None]) -> dict[str, pa.Array]:
    """Repair a column of ID numbers: Arrow arrays id18, id_clean, id_status ('blank' where
    missing), id_birth_date (date32), id_sex, id_region, aligned to the input. Each distinct
    value is repaired once; values that are already canonical 18-digit IDs are checked
    vectorised on their bytes, the rest go through `repair_id`."""
    distinct = Distinct(values)
    fast_idx = np.flatnonzero(distinct.matching(_ID18_ASCII.pattern))
    if distinct.text is not None:
        candidates = distinct.text.take(pa.array(fast_idx, pa.int64()))
    else:
        candidates = pa.array([distinct.values[i] for i in fast_idx.tolist()], pa.large_string())
    ok, date_ok, births = _fast_valid(_grid(candidates))
    good = candidates.filter(pa.array(ok)).cast(pa.string())
    sex_digit = _grid(good)[:, 16].astype(np.int64) % 2 if len(good) else np.zeros(0, np.int64)
    parts: dict[str, list[pa.Array]] = {
        "id18": [good], "id_clean": [good],
        "id_status": [pa.array(np.full(len(good), "valid", dtype=object), pa.string())],
        "id_birth_date": [pa.array(births, pa.date32())],
        "id_sex": [pa.array(["F", "M"], pa.string()).take(pa.array(sex_digit))],
        "id_region": [pc.utf8_slice_codeunits(good, 0, 6)]}
    # well-formed but failing: an impossible birth date first, else the check digit (as
    # repair_id names them), kept as cleaned
    failed = candidates.filter(pa.array(~ok)).cast(pa.string())
    none = pa.nulls(len(failed), pa.string())
    for name, array in (("id18", none), ("id_clean", failed),
                        ("id_status", pa.array(np.where(date_ok[~ok], "bad_check", "bad_date"),
                                               pa.string())),
                        ("id_birth_date", pa.nulls(len(failed), pa.date32())),
                        ("id_sex", none), ("id_region", none)):
        parts[name].append(array)
    # the rest: repair_id
    rest = np.setdiff1d(np.arange(len(distinct)), fast_idx, assume_unique=True)
    repaired = [repair_id(distinct.values[i]) for i in rest.tolist()]
    for name, field in (("id18", "id18"), ("id_clean", "cleaned"), ("id_status", "status"),
                        ("id_birth_date", "birth_date"), ("id_sex", "sex"),
                        ("id_region", "region")):
        parts[name].append(pa.array([getattr(r, field) for r in repaired], _KINDS[name]))
    # back in the order of the distinct values
    order = pa.array(np.argsort(np.concatenate([fast_idx[ok], fast_idx[~ok], rest]),
                                kind="stable"))
    logger.debug("repaired %d ID values (%d distinct)", len(distinct.codes), len(distinct))
    return {name: distinct.spread_array(pa.concat_arrays(arrays).take(order),
                                        "blank" if name == "id_status" else None)
            for name, arrays in parts.items()}


def repair_ids(values: Sequence[str | None]) -> pd.DataFrame:
    """Repair a column of ID numbers; one row per input value, in order.

    Columns: id18, id_clean, id_status, id_birth_date (datetime.date), id_sex, id_region; missing
    values are None (object dtype). See `id_columns`.
    """
    return as_objects(id_columns(values))


def mask_id(value: str | None) -> str:
    """Mask an ID number for logs and messages: '4201************3X' (first 4, last 2 kept).

    Values shorter than 10 characters are masked entirely; None gives ''.
    """
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) < 10:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 6) + text[-2:]


def id_variants(cleaned18: str) -> list[str]:
    """Every valid 18-digit ID one substitution or one adjacent transposition from `cleaned18`.

    Candidates for repairing a 'bad_check' number, sorted; a single typo typically has 1-18
    of them (median 13), each a real-looking number of some other person born near the same day in
    the same district. This never decides identity: accept a variant only together with
    independent agreement (name, birth date ...). A valid ID has no variants at all except,
    rarely, its last two characters swapped: MOD 11-2 catches single typos and swaps.
    """
    text = cleaned18.strip().upper()
    if not _ID18.fullmatch(text) or not text.isascii():
        return []
    digits = [int(c) for c in text[:17]]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    target = _CHECK_CHARS.index(text[17])
    # each candidate is checked by arithmetic on the weighted sum, not recomputed
    found = {text[:17] + _CHECK_CHARS[total % 11]}  # the check character itself mistyped
    for i, inverse in enumerate(_INVERSE_WEIGHTS):  # the one digit at i that would fit, if any
        digit = (digits[i] + (target - total) * inverse) % 11
        if digit < 10:
            found.add(text[:i] + str(digit) + text[i + 1:])
    for i in range(16):  # adjacent swaps within the body: the sum changes, the check must fit
        if (total + (_WEIGHTS[i] - _WEIGHTS[i + 1]) * (digits[i + 1] - digits[i])) % 11 == target:
            found.add(text[:i] + text[i + 1] + text[i] + text[i + 2:])
    if text[17] != "X":  # the last digit swapped with the check character
        moved = total + _WEIGHTS[16] * (int(text[17]) - digits[16])
        if _CHECK_CHARS[moved % 11] == text[16]:
            found.add(text[:16] + text[17] + text[16])
    found.discard(text)
    return sorted(v for v in found if _birth(v[6:14]) is not None)
