"""Phone normalisation: mobiles, landlines, prefixes, extensions and spreadsheet renderings."""

from __future__ import annotations

import pytest

from pipelines.ingest.phones import mask_phone, normalise_phone, normalise_phones, phone_kind

MOBILE = "13812345678"
LANDLINE = "02785551234"

CASES = [
    # (raw, normalised, kind)
    (MOBILE, MOBILE, "mobile"),                           # plain mobile
    ("138 1234 5678", MOBILE, "mobile"),                  # grouped with spaces
    ("138-1234-5678", MOBILE, "mobile"),                  # grouped with hyphens
    ("+86 138 1234 5678", MOBILE, "mobile"),              # international prefix
    ("+86-13812345678", MOBILE, "mobile"),                # international prefix with hyphen
    ("0086 13812345678", MOBILE, "mobile"),               # 00 international prefix
    ("8613812345678", MOBILE, "mobile"),                  # bare 86 prefix
    ("(+86)13812345678", MOBILE, "mobile"),               # prefix in brackets
    ("013812345678", MOBILE, "mobile"),                   # dialled with a leading 0
    ("１３８１２３４５６７８", MOBILE, "mobile"),         # full-width digits
    ("13812345678.0", MOBILE, "mobile"),                  # float rendering
    (13812345678, MOBILE, "mobile"),                      # number cell
    (13812345678.0, MOBILE, "mobile"),                    # float cell
    ("13812345678/13912345678", MOBILE, "mobile"),        # two numbers: the first
    ("13812345678，13912345678", MOBILE, "mobile"),       # two numbers, Chinese comma
    ("12345678901", None, None),                          # 11 digits, not a mobile prefix
    ("1381234567", None, None),                           # 10 digits: a digit missing
    ("138123456789", None, None),                         # 12 digits: not guessed
    ("1.38123E+10", None, None),                          # scientific notation: digits lost
    ("027-85551234", LANDLINE, "landline"),               # area code and number
    ("(027)85551234", LANDLINE, "landline"),              # area code in brackets
    ("（027）85551234", LANDLINE, "landline"),            # full-width brackets
    ("027 8555 1234", LANDLINE, "landline"),              # spaced
    ("027-85551234转123", LANDLINE, "landline"),          # extension with 转
    ("027-85551234 ext 12", LANDLINE, "landline"),        # extension with ext
    ("027-85551234-123", LANDLINE, "landline"),           # extension after a hyphen
    ("+86 27 8555 1234", LANDLINE, "landline"),           # international: area code's 0 dropped
    ("010-65551234", "01065551234", "landline"),          # 3-digit area code (Beijing)
    ("0710-3555123", "07103555123", "landline"),          # 4-digit area code, 7-digit number
    ("85551234", "85551234", "landline"),                 # local number without area code
    ("5551234", "5551234", "landline"),                   # 7-digit local number
    ("5551234转8", "5551234", "landline"),                # extension not glued onto the number
    ("85551234.0", "85551234", "landline"),               # float rendering of a local number
    ("12345", None, None),                                # too short
    ("110", None, None),                                  # service number
    ("", None, None),                                     # empty
    ("无", None, None),                                   # placeholder
    (None, None, None),                                   # missing
    (float("nan"), None, None),                           # NaN from a reader
]


@pytest.mark.parametrize(("raw", "norm", "kind"), CASES)
def test_normalise_phone(raw: object, norm: str | None, kind: str | None) -> None:
    assert normalise_phone(raw) == norm
    assert phone_kind(norm) == kind


@pytest.mark.parametrize(("norm", "kind"), [
    ("19912345678", "mobile"),        # 199 segment
    ("12912345678", None),            # 12x is not a mobile segment
    ("abc", None),                    # not a number
    ("", None),                       # empty
])
def test_phone_kind(norm: str, kind: str | None) -> None:
    assert phone_kind(norm) == kind


def test_normalise_phones_matches_scalar_in_order() -> None:
    # One office number entered for many households, repeats, None: aligned to the input.
    raws = [raw for raw, _, _ in CASES] + ["027-85551234"] * 3 + [None]
    frame = normalise_phones(raws)
    assert list(frame.columns) == ["phone_norm", "phone_kind"]
    expected = [(normalise_phone(r), phone_kind(normalise_phone(r))) for r in raws]
    assert list(frame.itertuples(index=False, name=None)) == expected


@pytest.mark.parametrize(("value", "masked"), [
    (MOBILE, "138****5678"),          # the usual form
    (LANDLINE, "027****1234"),        # landline with area code
    ("85551234", "****1234"),         # local number: only the last 4
    ("123", "***"),                   # too short to show anything
    (None, ""),                       # missing
])
def test_mask_phone(value: str | None, masked: str) -> None:
    assert mask_phone(value) == masked
