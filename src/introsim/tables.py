"""A run's tables as plain columns, so writing them needs neither pandas nor its import time.

A table is a mapping from column name to a numpy array, or to a :class:`Coded` column
(category codes and their labels, -1 for missing). :func:`frame` makes the pandas
DataFrame of one (categorical columns as ``pandas.Categorical``); :func:`arrow_table` the
Arrow table written to Parquet; :func:`csv_rows` the rows of its CSV file, the same text
``DataFrame.to_csv`` writes for the DataFrame. ``introsim run`` writes its tables this way:
importing pandas would take a quarter of its start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class Coded(NamedTuple):
    """A categorical column: integer codes into ``labels``, -1 where missing."""

    codes: np.ndarray
    labels: tuple[str, ...]


Columns: TypeAlias = Mapping[str, "np.ndarray | Coded"]
"""A table: column name to values (a 1-d array) or :class:`Coded` categories."""


def frame(columns: Columns) -> pd.DataFrame:
    """The table as a DataFrame, a :class:`Coded` column as a ``pandas.Categorical``."""
    import pandas as pd

    return pd.DataFrame(
        {
            name: pd.Categorical.from_codes(col.codes, list(col.labels))
            if isinstance(col, Coded)
            else col
            for name, col in columns.items()
        }
    )


def arrow_table(columns: Columns) -> pa.Table:
    """The table as an Arrow table: a :class:`Coded` column as a dictionary array.

    NaN and missing codes are nulls, as pandas converts them; read back by
    ``pandas.read_parquet`` the table gives :func:`frame`'s DataFrame. The arrays are built
    from their buffers: ``pyarrow.array`` imports pandas, to look for pandas objects.
    """
    import pyarrow as pa

    return pa.Table.from_arrays([_arrow(col) for col in columns.values()], names=list(columns))


def _arrow(col: np.ndarray | Coded) -> pa.Array:
    import pyarrow as pa

    if isinstance(col, Coded):
        # The smallest code type, as pandas stores the codes of a Categorical.
        codes = col.codes.astype(np.int8 if len(col.labels) < 128 else np.int32)
        encoded = [label.encode() for label in col.labels]
        offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int32)
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
        labels = pa.Array.from_buffers(pa.string(), len(encoded), buffers)
        return pa.DictionaryArray.from_arrays(_plain(codes, np.greater_equal(codes, 0)), labels)
    if col.dtype.kind == "f":
        return _plain(col, ~np.isnan(col))
    return _plain(col, None)


def _plain(values: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """A numeric or boolean Arrow array from a numpy array; ``valid`` False where null."""
    import pyarrow as pa

    n = values.shape[0]
    mask = None
    nulls = 0
    if valid is not None and not valid.all():
        mask = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values))
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), n, [mask, data], nulls)


def csv_rows(columns: Columns, text: Any) -> Iterator[list[Any]]:
    """The header and rows of the table's CSV, cells as ``DataFrame.to_csv`` writes them.

    Numbers are Python numbers (written unquoted, floats by their shortest repr, as pandas
    writes them), NaN an empty string; a :class:`Coded` column's cells are its labels
    (missing: an empty string). ``text`` is applied to the names and labels (the caller's
    neutralising of formula-like text).
    """
    cells = []
    for col in columns.values():
        if isinstance(col, Coded):
            labels = [text(label) for label in col.labels]
            cells.append(["" if c < 0 else labels[c] for c in col.codes.tolist()])
        elif col.dtype.kind == "f":
            cells.append(["" if math.isnan(x) else x for x in col.tolist()])
        else:
            cells.append(col.tolist())
    yield [text(name) for name in columns]
    yield from (list(row) for row in zip(*cells, strict=True))
