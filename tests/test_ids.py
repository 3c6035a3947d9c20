"""ID number repair: statuses on the damage real files carry, batch = scalar, masking, variants."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest

from pipelines.ingest.ids import (
    STATUSES,
    IdRepair,
    check_digit,
    id_variants,
    mask_id,
    repair_id,
    repair_ids,
)


def make_id(region: str = "420102", birth: str = "19800101", seq: str = "123") -> str:
    """A valid 18-digit ID for a synthetic person."""
    body = f"{region}{birth}{seq}"
    return body + check_digit(body)


def with_check_x() -> str:
    """A synthetic valid ID whose check character is X."""
    for seq in range(1000):
        candidate = make_id(seq=f"{seq:03d}")
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X check digit in 1000 sequence numbers")


VALID = make_id()                       # 420102 19800101 123 + check; male (3 is odd)
FEMALE = make_id(birth="19751231", seq="024")
WITH_X = with_check_x()
WRONG_CHECK = VALID[:17] + ("0" if VALID[17] != "0" else "1")
SWAPPED = VALID[:14] + VALID[15] + VALID[14] + VALID[16:]   # two sequence digits swapped
OLD15 = "420102800101123"               # the 15-digit form of VALID
ZEROS = next(VALID[:14] + f"{d}000" for d in range(1, 10)       # like a float's lost digits,
             if check_digit(VALID[:14] + f"{d}00") != "0")        # with a failing check digit
FULL_WIDTH = VALID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))

CASES = [
    # (raw, status, id18, cleaned)
    (VALID, "valid", VALID, VALID),                                  # clean, as written
    (f"  {VALID}\t", "valid", VALID, VALID),                         # surrounding whitespace only
    (WITH_X, "valid", WITH_X, WITH_X),                               # upper-case X check digit
    (WITH_X.lower(), "repaired_format", WITH_X, WITH_X),             # lower-case x
    (FULL_WIDTH, "repaired_format", VALID, VALID),                   # full-width digits (IME)
    (WITH_X[:17] + "Ｘ", "repaired_format", WITH_X, WITH_X),         # full-width Ｘ
    ("'" + VALID, "repaired_format", VALID, VALID),                  # Excel text-marker apostrophe
    ("‘" + VALID, "repaired_format", VALID, VALID),                  # Chinese-IME apostrophe
    ("`" + VALID, "repaired_format", VALID, VALID),                  # backtick typed for '
    (f'"{VALID}"', "repaired_format", VALID, VALID),                 # quoted by an export
    (f"{VALID[:6]} {VALID[6:14]} {VALID[14:]}", "repaired_format", VALID, VALID),  # grouped
    (f"{VALID[:6]}-{VALID[6:14]}-{VALID[14:]}", "repaired_format", VALID, VALID),  # hyphens
    (f"{VALID[:9]}\u3000{VALID[9:]}", "repaired_format", VALID, VALID),           # ideographic space
    (OLD15, "expanded_15", VALID, VALID),                            # legacy 15-digit number
    (OLD15 + ".0", "expanded_15", VALID, VALID),                     # 15 digits survive a float
    ("420102801301123", "bad_date", None, "420102801301123"),        # 15-digit, month 13
    (WRONG_CHECK, "bad_check", None, WRONG_CHECK),                   # typo in the check digit
    (SWAPPED, "bad_check", None, SWAPPED),                           # adjacent digits swapped
    (ZEROS, "bad_check", None, ZEROS),                               # ends in 000: no guessing
    ("420102198002301238", "bad_date", None, "420102198002301238"),  # 30 February
    (make_id(birth="18991231"), "bad_date", None, make_id(birth="18991231")),  # before 1900
    (make_id(birth="20310101"), "bad_date", None, make_id(birth="20310101")),  # after 2030
    ("4.20102E+17", "mangled", None, None),                          # Excel scientific display
    ("4.20102198001011E17", "mangled", None, None),                  # float repr, digits lost
    ("420102198001011000.0", "mangled", None, None),                 # float rendering of 18
    ("4.2010219800101e+17", "mangled", None, None),                  # lower-case exponent
    (None, "blank", None, None),                                     # missing cell
    ("", "blank", None, None),                                       # empty string
    ("   ", "blank", None, None),                                    # whitespace only
    ("无", "blank", None, None),                                     # 'none' written in Chinese
    ("/", "blank", None, None),                                      # slash placeholder
    ("-", "blank", None, None),                                      # dash placeholder
    ("NULL", "blank", None, None),                                   # database export
    ("nan", "blank", None, None),                                    # pandas export
    (cast(str, float("nan")), "blank", None, None),                  # NaN from a reader
    (VALID[:17], "invalid", None, VALID[:17]),                       # a digit dropped
    (VALID + "1", "invalid", None, VALID + "1"),                     # a digit added
    ("42010219800101123A", "invalid", None, None),                   # letter other than X
    ("X20102198001011231", "invalid", None, "X20102198001011231"),   # X not at the end
    ("张伟", "invalid", None, None),                                  # a name in the ID column
]


@pytest.mark.parametrize(("raw", "status", "id18", "cleaned"), CASES)
def test_repair_id(raw: str | None, status: str, id18: str | None, cleaned: str | None) -> None:
    result = repair_id(raw)
    assert (result.status, result.id18, result.cleaned) == (status, id18, cleaned)


def test_every_status_is_exercised_and_declared() -> None:
    # The table covers every documented status and nothing undocumented.
    assert {status for _, status, _, _ in CASES} == set(STATUSES)


def test_valid_id_fields() -> None:
    # Birth date, sex (17th digit odd = M) and region come from the repaired number.
    assert repair_id(VALID) == IdRepair(VALID, VALID, "valid", dt.date(1980, 1, 1), "M", "420102")
    female = repair_id(FEMALE)
    assert (female.birth_date, female.sex, female.region) == (dt.date(1975, 12, 31), "F", "420102")


def test_invalid_ids_carry_no_person_fields() -> None:
    # A bad check digit may hide a typo in the date or region: nothing is derived from it.
    result = repair_id(WRONG_CHECK)
    assert (result.birth_date, result.sex, result.region) == (None, None, None)


def test_check_digit_satisfies_iso7064() -> None:
    # MOD 11-2: the weighted sum including the check value (X = 10, weight 1) is 1 mod 11.
    weights = [pow(2, 17 - i, 11) for i in range(18)]
    for number in (VALID, FEMALE, WITH_X):
        values = [10 if c == "X" else int(c) for c in number]
        assert sum(v * w for v, w in zip(values, weights, strict=True)) % 11 == 1


def test_batch_matches_scalar_in_order() -> None:
    # Repeats, None and every table case: same length, same order, same answers as repair_id.
    raws = [raw for raw, *_ in CASES] + [VALID, None, WRONG_CHECK, VALID]
    frame = repair_ids(raws)
    assert list(frame.columns) == ["id18", "id_clean", "id_status", "id_birth_date", "id_sex",
                                   "id_region"]
    assert len(frame) == len(raws)
    for row, raw in zip(frame.itertuples(index=False), raws, strict=True):
        rep = repair_id(raw)
        assert tuple(row) == (rep.id18, rep.cleaned, rep.status, rep.birth_date, rep.sex,
                              rep.region), raw


def test_batch_types() -> None:
    # Dates are datetime.date and missing values None, so DuckDB/arrow get DATE and NULL.
    frame = repair_ids([VALID, None])
    assert isinstance(frame.loc[0, "id_birth_date"], dt.date)
    assert frame.loc[1, "id18"] is None and frame.loc[1, "id_status"] == "blank"


@pytest.mark.parametrize(("value", "masked"), [
    (VALID, VALID[:4] + "*" * 12 + VALID[-2:]),   # the usual 18 characters
    (WITH_X, WITH_X[:4] + "*" * 12 + WITH_X[-2:]),  # keeps the X
    (OLD15, OLD15[:4] + "*" * 9 + OLD15[-2:]),    # 15-digit legacy number
    (None, ""),                                   # missing
    ("12345", "*****"),                           # too short to reveal anything
    (f" {VALID} ", VALID[:4] + "*" * 12 + VALID[-2:]),  # surrounding spaces not counted
])
def test_mask_id(value: str | None, masked: str) -> None:
    assert mask_id(value) == masked


@pytest.mark.parametrize(("damaged", "label"), [
    (WRONG_CHECK, "check digit typo"),
    (SWAPPED, "adjacent swap"),
    (VALID[:10] + ("2" if VALID[10] != "2" else "3") + VALID[11:], "typo in the month"),
])
def test_id_variants_propose_the_original(damaged: str, label: str) -> None:
    variants = id_variants(damaged)
    assert VALID in variants, label
    assert damaged not in variants
    assert all(repair_id(v).status == "valid" for v in variants)


@pytest.mark.parametrize("valid", [VALID, FEMALE, WITH_X])
def test_id_variants_of_a_valid_id(valid: str) -> None:
    # MOD 11-2 catches every single substitution and every adjacent swap inside the body, so a
    # valid ID's only possible valid neighbour is its last two characters swapped.
    assert all(v[:16] == valid[:16] and v[16:] == valid[:15:-1] for v in id_variants(valid))


def test_id_variants_of_a_bad_check_are_many() -> None:
    # A wrong check digit has a valid neighbour at nearly every position: variants are only
    # candidates, to be confirmed by name agreement elsewhere.
    variants = id_variants(WRONG_CHECK)
    assert len(variants) > 5
    assert all(sum(a != b for a, b in zip(v, WRONG_CHECK, strict=True)) <= 2 for v in variants)


@pytest.mark.parametrize("value", ["", "4.20102E+17", VALID[:17], "张伟"])
def test_id_variants_of_non_ids(value: str) -> None:
    # Only 18-character forms have variants.
    assert id_variants(value) == []
