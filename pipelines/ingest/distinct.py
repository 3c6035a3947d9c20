"""Each distinct value of a column once.

The normalisers (names, IDs, dates, phones, districts) are Python functions of one value; a
column of 4 M property rows holds far fewer distinct values. `encode` finds them (Arrow's
dictionary encoding for a text column), the normaliser runs once per distinct value, and
`spread` takes the results back over the rows as an Arrow array, without a Python object per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Distinct:
    """A column's distinct values (`values`, a list) and, per row, the position of its value
    among them (-1 where the row has none)."""

    def __init__(self, column: pd.Series | Sequence[object]) -> None:
        arrow = isinstance(column, pd.Series) and (
            isinstance(column.dtype, pd.ArrowDtype) or (
                isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"))
        if arrow:  # Arrow-backed (text, dates): dictionary-encoded in Arrow, no object per row
            data = pa.array(column)
            if isinstance(data, pa.ChunkedArray):
                data = data.combine_chunks()
            if pa.types.is_string(data.type):
                data = data.cast(pa.large_string())
            encoded = pc.dictionary_encode(data)
            self.codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            self.values: list[Any] = encoded.dictionary.to_pylist()
            # the values, for Arrow compute on text
            self.text: pa.Array | None = (encoded.dictionary
                                          if pa.types.is_large_string(data.type) else None)
        else:
            codes, uniques = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=True)
            self.codes, self.values = codes, uniques.tolist()
            self.text = None
        # where each row's result is, in a list of results with the missing rows' one last
        self._take = pa.array(np.where(self.codes < 0, len(self.values), self.codes))

    def __len__(self) -> int:
        return len(self.values)

    def matching(self, pattern: str) -> np.ndarray:
        """Which distinct values are text matching the regular expression `pattern` whole."""
        if self.text is not None:
            found = pc.match_substring_regex(self.text, f"^(?:{pattern})$")
            return found.fill_null(False).to_numpy(zero_copy_only=False)
        whole = re.compile(pattern)
        return np.array([isinstance(v, str) and whole.fullmatch(v) is not None
                         for v in self.values], dtype=bool)

    def spread(self, results: Sequence[Any] | np.ndarray, kind: pa.DataType, missing: Any = None
               ) -> pa.Array:
        """One result per distinct value (in `values` order), taken back over the rows; rows
        without a value get `missing`."""
        return pa.array([*results, missing], type=kind).take(self._take)

    def spread_array(self, results: pa.Array, missing: Any = None) -> pa.Array:
        """`spread` for results already an Arrow array (one per distinct value, in order)."""
        return pa.concat_arrays([results, pa.array([missing], results.type)]).take(self._take)


def as_series(array: pa.Array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow array as a pandas column: text as the nullable "string" dtype, anything else
    as its Arrow type (dates stay dates)."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pd.Series(pd.arrays.ArrowStringArray(array.cast(pa.large_string())), index=index)
    return pd.Series(pd.arrays.ArrowExtensionArray(array), index=index)


def as_objects(arrays: dict[str, pa.Array]) -> pd.DataFrame:
    """Arrow columns as a frame of Python objects (None where missing; dates as datetime.date)."""
    return pd.DataFrame({name: pd.Series(a.to_pylist(), dtype=object)
                         for name, a in arrays.items()})
