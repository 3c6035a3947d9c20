"""Calendar dates as departments write them: ISO, slashes, dots, 年月日, yyyymmdd, Excel serials."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.errors import UsageError
from pipelines.ingest.distinct import Distinct
from pipelines.logs import mask_ids

logger = logging.getLogger(__name__)

#: Accepted range for every form; anything outside is read as a typo (None).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
#: Day 0 of spreadsheet serial numbers (1900 date system; right from 1900-03-01 on).
SERIAL_EPOCH = dt.date(1899, 12, 30)

_SEPARATED = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[\sT]*\d{2}:?\d{2}(?::?\d{2})?)?")
_SERIAL = re.compile(r"(\d{1,5})(?:\.\d*)?")


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    return value if DATE_MIN <= value <= DATE_MAX else None


def _from_serial(serial: int) -> dt.date | None:
    value = SERIAL_EPOCH + dt.timedelta(days=serial)
    return value if DATE_MIN <= value <= DATE_MAX else None


def parse_date(raw: object) -> dt.date | None:
    """Read one date; None when blank, unreadable, impossible (2023-02-30) or outside 1900-2099.

    Accepts date/datetime objects, '2023-01-05', '2023/1/5', '2023.1.5', '2023年1月5日',
    '20230105', any of these with a time ('2023-01-05 00:00:00', '2023-01-05T00:00:00'),
    full-width digits, and spreadsheet serials ('44931', '44931.0', 44931; the time fraction is
    ignored). An 8-digit number is always yyyymmdd, never a serial (serials here have at most 5
    digits); a 4-digit number between 1900 and 2099 is a bare year, too vague for a date: None.
    """
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):  # before date: datetime is a subclass of date
        return _make(raw.year, raw.month, raw.day) if raw == raw else None  # NaT != NaT
    if isinstance(raw, dt.date):
        return _make(raw.year, raw.month, raw.day)
    if isinstance(raw, float | np.floating):
        if raw != raw or raw < 0:
            return None
        return parse_date(str(int(raw)))
    if isinstance(raw, bool):
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    match = _SEPARATED.fullmatch(text) or _COMPACT.fullmatch(text)
    if match:
        return _make(int(match[1]), int(match[2]), int(match[3]))
    match = _SERIAL.fullmatch(text)
    if match:
        serial = int(match[1])
        if len(match[1]) == 4 and DATE_MIN.year <= serial <= DATE_MAX.year:
            return None
        return _from_serial(serial)
    return None


#: The written forms of a calendar date an audit date (`--as-of`, the DAGs' `as_of`) may take.
#: One separator throughout; no serials, no times, no two-digit years (contract §1).
_AS_OF_FORMS = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),
    re.compile(r"([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})"),
    re.compile(r"([0-9]{4}) ?年 ?([0-9]{1,2}) ?月 ?([0-9]{1,2}) ?日"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
AS_OF_EXAMPLE = "2026-10-31"


def parse_as_of(raw: object, option: str = "--as-of") -> dt.date:
    """An audit date as given on the command line or as a DAG param, else UsageError.

    Accepts 2026-10-31, 2026/10/31, 2026.10.31 (months and days with or without a leading
    zero), 20261031 and 2026年10月31日, in ASCII or full-width digits, and date objects. Refuses
    anything else, impossible dates (2026-02-30) and years outside 1900-2099, with a message
    that names `option` and shows the form to use. Unlike `parse_date` (departments' data),
    spreadsheet serials and times are not dates here.
    """
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        value, shown = raw, raw.isoformat()
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if not text:
            raise UsageError(f"{option} is empty; write the audit date as YYYY-MM-DD, "
                             f"e.g. {AS_OF_EXAMPLE}")
        match = next((m for m in (f.fullmatch(text) for f in _AS_OF_FORMS) if m), None)
        shown = mask_ids(text if len(text) <= 40 else text[:40] + "...")
        try:
            if match is None:
                raise ValueError(text)
            value = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise UsageError(f"{option} {shown}: not a calendar date; write it as YYYY-MM-DD, "
                             f"e.g. {AS_OF_EXAMPLE}") from None
    if not DATE_MIN <= value <= DATE_MAX:
        raise UsageError(f"{option} {shown}: outside the years {DATE_MIN.year}-"
                         f"{DATE_MAX.year}; write the audit date as YYYY-MM-DD, "
                         f"e.g. {AS_OF_EXAMPLE}")
    return value


#: the form most files use, read vectorised (every other form goes through parse_date)
_ISO = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _iso_dates(texts: list[str]) -> np.ndarray:
    """'YYYY-MM-DD' strings as datetime64[D]; NaT where impossible or outside the range."""
    grid = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    digits = grid.astype(np.int64) - 48
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok = ((month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
          & (year >= DATE_MIN.year) & (year <= DATE_MAX.year))
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[D]")
    out[ok] = ((year[ok] - 1970).astype("datetime64[Y]")
               + (month[ok] - 1).astype("timedelta64[M]")).astype("datetime64[D]") \
        + (day[ok] - 1).astype("timedelta64[D]")
    return out


def date_column(values: pd.Series | Sequence[object]) -> pa.Array:
    """Read a column of dates: an Arrow date32 array aligned to the input, null where blank or
    unreadable (see parse_date). Each distinct value is parsed once."""
    distinct = Distinct(values)
    parsed: list[dt.date | None] = [None] * len(distinct)
    iso = np.flatnonzero(distinct.matching(_ISO))
    if len(iso):
        found = _iso_dates([distinct.values[i] for i in iso.tolist()])
        for i, value in zip(iso.tolist(), found.astype(object).tolist(), strict=True):
            parsed[i] = value
    for i in np.flatnonzero(~np.isin(np.arange(len(distinct)), iso)).tolist():
        parsed[i] = parse_date(distinct.values[i])
    return distinct.spread(parsed, pa.date32())


def parse_dates(values: Sequence[object]) -> pd.Series:
    """Read a column of dates; an object Series of datetime.date or None, aligned to the input.

    Object dtype keeps dates as dates (no time, no nanosecond range limit); DuckDB reads such a
    column as DATE, and pandas converts it with `astype(pd.ArrowDtype(pa.date32()))`. Each
    distinct value is parsed once.
    """
    return pd.Series(date_column(values).to_pylist(), dtype=object)
