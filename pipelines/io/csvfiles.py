"""The one CSV writer of every output file (findings, lists, changes, summaries, quarantine).

UTF-8 without BOM, comma-separated, `\\n` line ends, a header row; NULL written as an empty cell.
Numbers: the columns in `decimals` with that many decimals; other floats with `float_decimals`
(None: as Python prints them); everything else as text, and text that a spreadsheet would run as
a formula (beginning with = + - @) behind an apostrophe (`inert.csv_text`). Re-running over the
same rows writes the same bytes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.io.inert import csv_text


def _cell(value: Any, places: int | None, float_places: int | None) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if places is not None and isinstance(value, int | float | Decimal) \
            and not isinstance(value, bool):
        return f"{float(value):.{places}f}"
    if float_places is not None and isinstance(value, float | Decimal):
        return f"{value:.{float_places}f}"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a number (a negative one too) is no formula
    return csv_text(value if isinstance(value, str) else str(value))


def write_csv(path: Path, columns: Sequence[str],
              rows: Iterable[Sequence[Any] | Mapping[str, Any]], *,
              decimals: Mapping[str, int] | None = None, float_decimals: int | None = 2) -> int:
    """Write `rows` (sequences in column order, or mappings by column) under a header of
    `columns`; the number of rows written."""
    places = [(decimals or {}).get(c) for c in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            values = [row.get(c) for c in columns] if isinstance(row, Mapping) else row
            writer.writerow([_cell(v, p, float_decimals)
                             for v, p in zip(values, places, strict=True)])
            count += 1
    return count
