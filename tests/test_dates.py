"""Date parsing on the forms departments write, spreadsheet serials and impossible dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest.dates import parse_date, parse_dates

JAN5 = dt.date(2023, 1, 5)

CASES = [
    # (raw, parsed)
    ("2023-01-05", JAN5),                    # ISO
    ("2023/1/5", JAN5),                      # slashes, no leading zeros
    ("2023.1.5", JAN5),                      # dots
    ("20230105", JAN5),                      # compact yyyymmdd
    ("2023年1月5日", JAN5),                  # Chinese
    ("2023年01月05号", JAN5),                # Chinese with 号 for the day
    ("2023-01-05 00:00:00", JAN5),           # datetime rendering of a date cell
    ("2023-01-05T00:00:00", JAN5),           # ISO datetime (JSON, parquet exports)
    ("2023-1-5 8:30", JAN5),                 # time without seconds
    ("２０２３－０１－０５", JAN5),          # full-width digits and hyphens
    ("  2023-01-05 ", JAN5),                 # surrounding spaces
    ("44931", JAN5),                         # spreadsheet serial number
    ("44931.0", JAN5),                       # serial rendered as a float
    ("44931.75", JAN5),                      # serial with a time of day
    ("４４９３１", JAN5),                    # full-width serial
    (44931, JAN5),                           # serial as a number
    (44931.0, JAN5),                         # serial as a float number
    (20230105, JAN5),                        # yyyymmdd as a number
    ("61", dt.date(1900, 3, 1)),             # first serial after Excel's phantom 1900-02-29
    ("2", dt.date(1900, 1, 1)),              # lowest serial in range
    ("1", None),                             # serial before 1900
    ("73050", dt.date(2099, 12, 31)),        # highest serial in range
    ("73051", None),                         # serial after 2099
    ("1980", None),                          # a bare year, not serial 1980 (1905-06-02)
    ("2023-02-30", None),                    # impossible day
    ("20230230", None),                      # impossible compact date is not a serial either
    ("20231301", None),                      # month 13
    ("2024-02-29", dt.date(2024, 2, 29)),    # leap day
    ("2023-02-29", None),                    # not a leap year
    ("1899-12-31", None),                    # before the accepted range
    ("2100-01-01", None),                    # after the accepted range
    ("2023-01", None),                       # no day
    ("05/01/2023", None),                    # day-first: ambiguous, not guessed
    ("", None),                              # empty
    ("abc", None),                           # text
    (None, None),                            # missing
    (float("nan"), None),                    # NaN from a reader
    (pd.NaT, None),                          # NaT from a reader
    (JAN5, JAN5),                            # date object
    (dt.datetime(2023, 1, 5, 23, 59), JAN5),  # datetime object keeps its calendar date
    (pd.Timestamp("2023-01-05 12:00"), JAN5),  # pandas Timestamp
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_parse_date(raw: object, expected: dt.date | None) -> None:
    result = parse_date(raw)
    assert result == expected
    assert result is None or type(result) is dt.date


def test_parse_dates_matches_scalar_in_order() -> None:
    # Repeats and every table case: aligned, object dtype of date or None.
    raws = [raw for raw, _ in CASES] + ["2023-01-05", None, "2023/1/5"]
    parsed = parse_dates(raws)
    assert isinstance(parsed, pd.Series) and parsed.dtype == np.dtype(object)
    assert parsed.tolist() == [parse_date(raw) for raw in raws]


def test_parse_dates_load_as_arrow_date() -> None:
    # Ingest converts the result to a DATE column; None must become a null, not fail.
    arrow = pd.Series(parse_dates(["2023-01-05", None]).tolist(), dtype="date32[pyarrow]")
    assert arrow.isna().tolist() == [False, True]
