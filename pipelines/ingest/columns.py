"""Type and normalise the columns of a dataset, adding the standard person columns.

Columns keep the values as written (trimmed); normalisation adds columns beside them:

- `<column>_code` for a column with a vocabulary (category -> urban/rural, status -> active ...);
- `district_code` (division code) for a `district` column;
- `phone_norm`, `phone_kind` for a phone column; `bank_account_norm` (digits only);
- the person a row is about, under the same names in every dataset: `p_name` (normalised name),
  `p_name_raw` (as written), `p_name_pinyin`, `p_id18` (valid 18-digit ID, repaired where
  repairable), `p_id_clean` (best cleaned form even when invalid), `p_id_status`,
  `p_birth_date` (the dataset's own birth date, else the ID's), `p_sex`, `p_region`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.config import AuditConfig, DatasetSpec
from pipelines.ingest import dates, divisions, ids, names, phones
from pipelines.ingest.distinct import as_series
from pipelines.io.readers import ROW

DATE = pd.ArrowDtype(pa.date32())
PERSON_COLUMNS = ("p_name", "p_name_raw", "p_name_pinyin", "p_id18", "p_id_clean", "p_id_status",
                  "p_birth_date", "p_sex", "p_region")


def _note(notes: list[dict[str, Any]], dataset: str, column: str, issue: str,
          mask: pd.Series, frame: pd.DataFrame) -> None:
    count = int(mask.sum())
    sample = frame.loc[mask, ROW].head(5).tolist() if count else []
    notes.append({"dataset": dataset, "column": column, "issue": issue, "rows": count,
                  "example_rows": [int(r) for r in sample]})


def _vocab_key(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


_NUMBER_NOISE = r"[,\s\v\x1c-\x1f\x85\x{1680}\x{2028}\x{2029}]|元$|万元$"


def parse_decimal(values: pd.Series) -> pd.Series:
    """Numbers as departments write them: '1,234.5', '１２００', '800元', ' 3 '."""
    # map() over an all-NULL column returns a null-typed series: cast back to text, so a column
    # that is absent or entirely blank types like any other (every value NULL)
    text = values.astype("string")
    # NFKC (full-width digits) only where a value has anything but ASCII: most have not
    wide = (~text.str.isascii()).fillna(False).astype(bool)
    if wide.any():
        text = text.copy()
        text.loc[wide] = pd.Series([unicodedata.normalize("NFKC", v) for v in text[wide].tolist()],
                                   index=text.index[wide], dtype="string")
    # separators, white space (as Python's \s: RE2's leaves some out) and a unit, in Arrow
    cleaned = pc.replace_substring_regex(pa.array(text, type=pa.large_string()),
                                         pattern=_NUMBER_NOISE, replacement="")
    text = pd.Series(pd.arrays.ArrowStringArray(cleaned), index=values.index)
    return pd.to_numeric(text, errors="coerce").astype("Float64")


def _in_range(numbers: pd.Series, bounds: tuple[float, float] | None,
              notes: list[dict[str, Any]], dataset: str, column: str,
              frame: pd.DataFrame) -> pd.Series:
    """`numbers` with values outside the column's plausible range made NULL, and noted."""
    if bounds is None:
        return numbers
    low, high = bounds
    outside = numbers.notna() & ((numbers < low) | (numbers > high))
    outside = outside.fillna(False).astype(bool)
    _note(notes, dataset, column, f"number out of range ({low:g} to {high:g})", outside, frame)
    return numbers.mask(outside)


def type_columns(frame: pd.DataFrame, dataset: str, spec: DatasetSpec, config: AuditConfig,
                 every_note: bool = False) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return the typed, normalised frame and notes on values that could not be read (with
    `every_note`, also those that count no row: every batch lists them in the same order)."""
    out = frame.copy()
    notes: list[dict[str, Any]] = []
    for column, col in spec.columns.items():
        values = frame[column]
        present = values.notna()
        if col.type == "date":
            out[column] = as_series(dates.date_column(values), frame.index)
            _note(notes, dataset, column, "date not recognised", present & out[column].isna(),
                  frame)
        elif col.type == "decimal":
            out[column] = parse_decimal(values)
            _note(notes, dataset, column, "number not recognised", present & out[column].isna(),
                  frame)
            out[column] = _in_range(out[column], col.range, notes, dataset, column, frame)
        elif col.type == "integer":
            number = parse_decimal(values)
            whole = number.notna() & (number % 1 == 0)
            out[column] = number.where(whole).astype("Int64")
            _note(notes, dataset, column, "whole number not recognised",
                  present & out[column].isna(), frame)
            out[column] = _in_range(out[column], col.range, notes, dataset, column, frame)
        elif col.type == "phone":
            normalised = phones.phone_columns(values)
            out[f"{column}_norm"] = as_series(normalised["phone_norm"], frame.index)
            out[f"{column}_kind"] = as_series(normalised["phone_kind"], frame.index)
            _note(notes, dataset, column, "phone number not recognised",
                  present & out[f"{column}_norm"].isna(), frame)
        if col.vocab is not None:
            vocabulary = {_vocab_key(k): v for k, v in config.values[col.vocab].items()}
            # each distinct value looked up once
            distinct = pd.unique(values.dropna())
            lookup = {v: vocabulary.get(_vocab_key(str(v))) for v in distinct}
            codes = values.map(lookup)
            out[f"{column}_code"] = codes.astype("string")
            _note(notes, dataset, column, "value not in the vocabulary",
                  present & out[f"{column}_code"].isna(), frame)
        if column == "bank_account":
            # account numbers: digits only (spaces and dashes are how people write them)
            digits = values.str.replace(r"[\s\-]", "", regex=True)
            out["bank_account_norm"] = digits.where(digits.str.fullmatch(r"\d{8,30}"))
        if column == "district":
            out["district_code"] = as_series(
                divisions.district_column(values, config.city.code), frame.index)
            _note(notes, dataset, column, "district not recognised",
                  present & out["district_code"].isna(), frame)
    if spec.person is not None:
        _add_person(out, frame, dataset, spec, notes)
    return out, [n for n in notes if every_note or n["rows"]]


def _add_person(out: pd.DataFrame, frame: pd.DataFrame, dataset: str, spec: DatasetSpec,
                notes: list[dict[str, Any]]) -> None:
    person = spec.person
    assert person is not None
    index = frame.index
    if person.name is not None:
        out["p_name_raw"] = frame[person.name]
        normalised = names.name_columns(frame[person.name])
        out["p_name"] = as_series(normalised["name_norm"], index)
        out["p_name_pinyin"] = as_series(normalised["name_pinyin"], index)
    else:
        out["p_name"] = pd.Series([None] * len(index), index=index, dtype="string")
        out["p_name_raw"] = out["p_name"]
        out["p_name_pinyin"] = out["p_name"]
    assert person.id is not None
    repaired = ids.id_columns(frame[person.id])
    for target, source in (("p_id18", "id18"), ("p_id_clean", "id_clean"),
                           ("p_id_status", "id_status"), ("p_sex", "id_sex"),
                           ("p_region", "id_region")):
        out[target] = as_series(repaired[source], index)
    id_birth = as_series(repaired["id_birth_date"], index)
    if person.birth_date is not None:
        out["p_birth_date"] = out[person.birth_date].fillna(id_birth)
    else:
        out["p_birth_date"] = id_birth
    if "gender_code" in out.columns:
        out["p_sex"] = out["p_sex"].fillna(out["gender_code"])
    status = out["p_id_status"]
    for issue in ("bad_check", "bad_date", "mangled", "invalid"):
        _note(notes, dataset, person.id, f"ID number {issue.replace('_', ' ')}",
              status == issue, frame)
