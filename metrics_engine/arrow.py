"""Arrow and Parquet: events in, rows out (docs/arrow.md).

Needs the ``arrow`` extra (``pip install 'metrics-engine[arrow]'``). This is the only module
that imports pyarrow; ``import metrics_engine`` never loads it.

- :func:`schema` is the Arrow schema of a table of case metrics, derived from the typed column
  list every tabular output shares (:data:`~metrics_engine._columns.COLUMNS`).
- :func:`rows_table` turns rows (``compute_batch(...).rows``, or tuples in column order) into
  an Arrow table of that schema; :func:`write_rows` and :class:`ParquetRowWriter` write them to
  a Parquet file that appears whole or not at all.
- :func:`read_events` reads events from a Parquet file or an Arrow table, one dict per row,
  as the JSON event format defines them (docs/events.md); it is written in ``_arrow_events``
  and exported here, after the check that pyarrow is installed.

Arrow stores JSON-shaped data in columns, which changes it in two ways this module undoes or
documents. A row that lacks a key holds a null in that column: a null at the top level of a
row means the key is absent. A struct column has every field in every row: a null field of a
struct means the key is absent too, so a struct cannot say "set to null" (``"assignee":
null``, an unassignment); a map column can, and so can a string column of JSON text, which is
decoded for ``actor``, ``fields`` and ``changes``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as error:  # the extra is not installed
    raise ImportError(
        f"metrics_engine.arrow needs pyarrow, which is not installed ({error}): "
        "pip install 'metrics-engine[arrow]'"
    ) from error

from metrics_engine._arrow_events import JSON_COLUMNS, read_events
from metrics_engine._batch.targets import sync_folder
from metrics_engine._columns import COLUMNS, Column, ColumnKind, RowValue
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import _show

__all__ = [
    "JSON_COLUMNS",
    "ParquetRowWriter",
    "read_events",
    "rows_table",
    "schema",
    "write_rows",
]

_ARROW_TYPES: Final[dict[ColumnKind, Any]] = {
    "id": pa.string(),
    "user": pa.string(),
    "timestamp": pa.timestamp("s", tz="UTC"),
    "integer": pa.int64(),
    "flag": pa.bool_(),
}
# What pandas should make of each kind when it reads the file: nullable Int64 for integers
# (a plain int64 column with a null becomes floats otherwise). Written as Arrow's "pandas"
# schema metadata, the key pandas and pyarrow read when they convert a table to a DataFrame.
_PANDAS_TYPES: Final[dict[ColumnKind, tuple[str, str, dict[str, str] | None]]] = {
    "id": ("unicode", "object", None),
    "user": ("unicode", "object", None),
    "timestamp": ("datetimetz", "datetime64[s]", {"timezone": "UTC"}),
    "integer": ("int64", "Int64", None),
    "flag": ("bool", "bool", None),
}
_WHAT: Final[dict[ColumnKind, str]] = {
    "id": "a string",
    "user": "a string or None",
    "timestamp": "an aware datetime of whole seconds or None",
    "integer": "a 64-bit integer or None",
    "flag": "a bool",
}
_INT64: Final = range(-(2**63), 2**63)
#: Rows per Parquet row group written by :class:`ParquetRowWriter` unless told otherwise.
CHUNK_ROWS: Final = 65_536


def _pandas_metadata() -> bytes:
    columns = []
    for column in COLUMNS:
        pandas_type, numpy_type, extra = _PANDAS_TYPES[column.kind]
        columns.append(
            {
                "name": column.name,
                "field_name": column.name,
                "pandas_type": pandas_type,
                "numpy_type": numpy_type,
                "metadata": extra,
            }
        )
    meta = {"index_columns": [], "column_indexes": [], "columns": columns}
    return json.dumps(meta).encode()


_SCHEMA: Final = pa.schema(
    [pa.field(c.name, _ARROW_TYPES[c.kind], nullable=c.nullable) for c in COLUMNS],
    metadata={b"pandas": _pandas_metadata()},
)


def schema() -> Any:
    """The Arrow schema of a table of case metrics: one field per column, in order.

    ``case_id`` and the users are strings, timestamps ``timestamp[s, tz=UTC]``, integers
    ``int64`` (null when absent), flags ``bool``; ``case_id`` and the flags are not nullable.
    """
    return _SCHEMA


# ====================================================================== rows


def _fits(kind: ColumnKind, value: object) -> bool:
    """Whether a Python value belongs in a column of this kind."""
    if value is None:
        return kind not in ("id", "flag")
    if kind in ("id", "user"):
        return type(value) is str
    if kind == "flag":
        return type(value) is bool
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT64
    return isinstance(value, datetime) and value.utcoffset() is not None and not value.microsecond


def _bad(column: Column, values: Sequence[object], first_row: int) -> MetricsEngineError:
    for number, value in enumerate(values):
        if not _fits(column.kind, value):
            return MetricsEngineError(
                f"row {first_row + number}: column {column.name!r}: expected "
                f"{_WHAT[column.kind]}, found {_show(value)}"
            )
    return MetricsEngineError(f"column {column.name!r}: Arrow refused its values")


def _array(column: Column, values: Sequence[object], first_row: int) -> Any:
    if column.kind == "timestamp" and not all(
        value is None or _fits("timestamp", value) for value in values
    ):
        raise _bad(column, values, first_row)  # Arrow would read a naive datetime as UTC
    try:
        array = pa.array(values, type=_ARROW_TYPES[column.kind])
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        if column.kind not in ("id", "user") or not all(_fits(column.kind, v) for v in values):
            raise _bad(column, values, first_row) from None
        array = pa.array([_utf8(value) for value in values], type=pa.string())
    if array.null_count and not column.nullable:
        raise _bad(column, values, first_row)
    return array


def _utf8(value: object) -> object:
    """Text Parquet can hold: a lone surrogate (from a ``\\udXXX`` escape in JSON input) has
    no UTF-8 form, so it becomes those six characters, as in the CSV output."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _transpose(
    rows: Iterable[Mapping[str, RowValue] | Sequence[RowValue]], first_row: int
) -> list[Sequence[object]]:
    """The rows' values column by column, in :data:`COLUMNS` order."""
    tuples: list[Sequence[object]] = []
    names = [column.name for column in COLUMNS]
    for number, row in enumerate(rows, first_row):
        if isinstance(row, Mapping):
            try:
                tuples.append([row[name] for name in names])
            except KeyError as error:
                raise MetricsEngineError(
                    f"row {number}: expected the column {error.args[0]!r}, found no such key"
                ) from None
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes):
            if len(row) != len(names):
                raise MetricsEngineError(
                    f"row {number}: expected {len(names)} values, found {len(row)}"
                )
            tuples.append(row)
        else:
            raise MetricsEngineError(
                f"row {number}: expected a dict or a tuple of values, found {_show(row)}"
            )
    if not tuples:
        return [[] for _ in names]
    return [list(values) for values in zip(*tuples, strict=True)]


def rows_table(
    rows: Iterable[Mapping[str, RowValue] | Sequence[RowValue]], *, first_row: int = 0
) -> Any:
    """An Arrow table of :func:`schema` from rows.

    A row is a dict keyed by the column names (as in ``compute_batch(...).rows``) or a tuple
    of values in column order. A value of the wrong type raises a one-line
    :class:`~metrics_engine.MetricsEngineError` naming the row (counted from ``first_row``)
    and the column.
    """
    columns = _transpose(rows, first_row)
    arrays = [
        _array(column, values, first_row) for column, values in zip(COLUMNS, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


class ParquetRowWriter:
    """Rows written to a Parquet file that appears whole or not at all.

    Rows go to a temporary file beside ``path`` (``.NAME.XXXXXXXX.partial``), one row group
    per ``chunk_rows`` rows; :meth:`commit` puts the file on disk and renames it over
    ``path``; :meth:`abort` removes it. An interrupted run leaves ``path`` as it was (at worst
    a stray ``.partial`` file). A symlink at ``path`` stays: its target is replaced. Used as a
    context manager, it commits when the block ends normally and aborts on an exception.
    OS errors (a missing folder, a full disk) are raised as they are.
    """

    def __init__(self, path: str | os.PathLike[str], *, chunk_rows: int = CHUNK_ROWS) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows: expected a positive integer, found {chunk_rows}")
        self.path = os.path.realpath(os.fspath(path))
        self.chunk_rows = chunk_rows
        self.rows = 0  # rows written so far
        self._pending: list[Mapping[str, RowValue] | Sequence[RowValue]] = []
        self._state = "open"
        folder, base = os.path.split(self.path)
        fd, self._temp = tempfile.mkstemp(dir=folder, prefix=f".{base[:100]}.", suffix=".partial")
        os.close(fd)
        try:
            self._writer = pq.ParquetWriter(self._temp, _SCHEMA)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            raise

    def write(self, rows: Iterable[Mapping[str, RowValue] | Sequence[RowValue]]) -> None:
        """Add rows (dicts or tuples in column order); full chunks are written at once."""
        self._check_open()
        for row in rows:
            self._pending.append(row)
            if len(self._pending) >= self.chunk_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        table = rows_table(self._pending, first_row=self.rows)
        self._writer.write_table(table, row_group_size=self.chunk_rows)
        self.rows += len(self._pending)
        self._pending = []

    def finish(self) -> None:
        """Write what is pending and put the temp file on disk; what can fail, fails here.

        :meth:`commit` calls it; a caller that commits several outputs together calls it on
        each first, then commits them all.
        """
        self._check_open()
        try:
            self._flush()
            self._writer.close()
            fd = os.open(self._temp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._temp, 0o666 & ~umask)  # mkstemp made it private
        except BaseException:
            self.abort()
            raise
        self._state = "finished"

    def commit(self) -> None:
        """Finish if not done, then rename the file over ``path``."""
        if self._state == "open":
            self.finish()
        if self._state != "finished":
            raise ValueError(f"cannot commit {self.path}: the writer was {self._state}")
        os.replace(self._temp, self.path)
        self._state = "committed"
        sync_folder(os.path.dirname(self.path))

    def abort(self) -> None:
        """Drop everything written: ``path`` stays as it was. Safe to call twice."""
        if self._state in ("aborted", "committed"):
            return
        self._state = "aborted"
        self._pending = []
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(OSError):
            os.unlink(self._temp)

    def _check_open(self) -> None:
        if self._state != "open":
            raise ValueError(f"cannot write {self.path}: the writer was {self._state}")

    def __enter__(self) -> ParquetRowWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def write_rows(
    path: str | os.PathLike[str], rows: Iterable[Mapping[str, RowValue] | Sequence[RowValue]]
) -> int:
    """Write rows to a Parquet file of :func:`schema`, atomically; return how many."""
    with ParquetRowWriter(path) as writer:
        writer.write(rows)
    return writer.rows
