"""The spreadsheets offices really send: each fixture in tests/fixtures/department_files/ must
yield exactly the rows written beside it (see make_fixtures.py there and its README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from pipelines.config import load_config
from pipelines.errors import InputError
from pipelines.ingest.dataset import REASON, check_headers, ingest_dataset

FIXTURES = Path(__file__).parent / "fixtures" / "department_files"
CASES = sorted(FIXTURES.glob("*.expected.yaml"))
CONFIG = load_config()


def _value(value: Any) -> Any:
    """A loaded value as the expectation writes it: NULL as None, a date in ISO form."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _expected(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def test_every_fixture_has_its_file_and_expectation() -> None:
    assert len(CASES) >= 7
    for case in CASES:
        assert (FIXTURES / _expected(case)["file"]).exists(), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name.split(".")[0] for c in CASES])
def test_fixture_yields_exactly_its_rows(case: Path) -> None:
    expected = _expected(case)
    path = FIXTURES / expected["file"]
    if "error" in expected:
        with pytest.raises(InputError) as caught:
            ingest_dataset(expected["dataset"], path, CONFIG)
        assert expected["error"] in str(caught.value)
        return
    result = ingest_dataset(expected["dataset"], path, CONFIG)
    columns = list(expected["loaded"][0]) if expected["loaded"] else ["_row"]
    loaded = [{c: _value(row[c]) for c in columns}
              for row in result.loaded[columns].to_dict("records")]
    assert loaded == expected["loaded"]
    quarantined = [{"_line": _value(r["_line"]), "_sheet": _value(r["_sheet"]),
                    "reason": r[REASON]} for r in result.quarantined.to_dict("records")]
    assert quarantined == expected["quarantined"]
    assert result.input_rows == len(result.loaded) + len(result.quarantined)
    assert result.layout == expected["layout"]


@pytest.mark.parametrize("case", CASES, ids=[c.name.split(".")[0] for c in CASES])
def test_header_check_agrees_with_the_full_read(case: Path) -> None:
    """The quick header check before ingest finds the same header, or the same error."""
    expected = _expected(case)
    found = {expected["dataset"]: FIXTURES / expected["file"]}
    if "error" in expected:
        with pytest.raises(InputError, match=expected["error"].split(":")[0]):
            check_headers(found, CONFIG)
    else:
        check_headers(found, CONFIG)
