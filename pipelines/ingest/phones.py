"""Phone numbers: Chinese mobiles and landlines as digits, for linking households and staff."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from itertools import accumulate

import pandas as pd
import pyarrow as pa

from pipelines.ingest.distinct import Distinct, as_objects

logger = logging.getLogger(__name__)

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code 010/02x (3 digits) or 0[3-9]xx (4 digits), then a 7-8 digit local number (2-9...).
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}")
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_COUNTRY = re.compile(r"^\(?(?:\+|00)\s*86\)?")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#).*$")
_FLOAT = re.compile(r"(\d+)\.0*")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d*)?e[+-]?\d+")
_DIGIT_RUNS = re.compile(r"\d+")


def _full(digits: str, international: bool) -> str | None:
    """`digits` as a normalised number if it is one complete number, else None."""
    if _MOBILE.fullmatch(digits):
        return digits
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return digits[2:]
    if len(digits) == 12 and digits.startswith("0") and _MOBILE.fullmatch(digits[1:]):
        return digits[1:]  # a mobile dialled from a landline with a leading 0
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 27 8555 1234: the area code's 0 is dropped abroad
    if _LANDLINE.fullmatch(digits) or (not international and _LOCAL.fullmatch(digits)):
        return digits
    return None


def normalise_phone(raw: object) -> str | None:
    """Normalise one phone number to digits; None when it is not a usable number.

    Mobiles: 11 digits 1[3-9]..., any +86/0086/86 prefix dropped. Landlines: area code and
    number ('027-85551234', '(027)85551234', '027 8555 1234' -> '02785551234'); a 7-8 digit
    local number without area code is kept as written. Extensions ('转123', 'ext 12', '-123'
    after a complete number) are dropped. When a cell holds several numbers
    ('13812345678/13912345678') the first is kept. A float rendering ('13812345678.0') is read
    as its integer; scientific notation has lost digits: None.
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if raw != raw or raw != int(raw):
            return None
        raw = int(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if _SCIENTIFIC.fullmatch(text):
        return None
    floatlike = _FLOAT.fullmatch(text)
    if floatlike:
        text = floatlike[1]
    international = _COUNTRY.match(text) is not None
    text = _EXTENSION.sub("", _COUNTRY.sub("", text))
    runs = _DIGIT_RUNS.findall(text)
    best = None
    for digits in accumulate(runs):  # the longest complete number made of the leading runs
        if len(digits) > 13:
            break
        best = _full(digits, international) or best
    return best


def phone_kind(norm: str | None) -> str | None:
    """'mobile' or 'landline' (with or without area code) for a normalised number, else None."""
    if not norm:
        return None
    if _MOBILE.fullmatch(norm):
        return "mobile"
    if _LANDLINE.fullmatch(norm) or _LOCAL.fullmatch(norm):
        return "landline"
    return None


def phone_columns(values: pd.Series | Sequence[object]) -> dict[str, pa.Array]:
    """Normalise a column of phone numbers: Arrow arrays phone_norm and phone_kind, aligned to
    the input (null where missing). Each distinct value is processed once."""
    distinct = Distinct(values)
    norm = [normalise_phone(v) for v in distinct.values]
    return {"phone_norm": distinct.spread(norm, pa.string()),
            "phone_kind": distinct.spread([phone_kind(n) for n in norm], pa.string())}


def normalise_phones(values: Sequence[object]) -> pd.DataFrame:
    """Normalise a column of phone numbers; columns phone_norm, phone_kind, aligned to the input.

    Each distinct value is processed once; missing values are None (object dtype).
    """
    return as_objects(phone_columns(values))


def mask_phone(value: str | None) -> str:
    """Mask a phone number: '13812345678' -> '138****5678'.

    Numbers of 11+ characters keep the first 3 and last 4; shorter ones only the last 4
    ('85551234' -> '****1234'); 4 or fewer characters are masked entirely; None gives ''.
    """
    if not value:
        return ""
    text = str(value).strip()
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 4) + text[-4:]
    return "*" * len(text)
