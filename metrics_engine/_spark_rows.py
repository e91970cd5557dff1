"""The rows that ``metrics_engine.spark`` returns, built as Arrow record batches.

This runs on Spark's executors, inside the Python workers: it needs ``pyarrow`` (which
PySpark's Arrow functions need anyway) and never imports ``pyspark``. The columns are those of
every table of case metrics (:data:`~metrics_engine._columns.COLUMNS`: ``case_id`` then the 41
fields), then three about errors: ``error`` (the one-line message, null on success),
``error_index`` (the position of the offending event in its case) and ``error_record`` (the
input record the error points at).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

from metrics_engine._columns import COLUMNS, ColumnKind, RowValue

__all__ = ["ERROR_COLUMNS", "OUTPUT_NAMES", "RowBuffer", "arrow_schema", "spark_ddl", "text"]

#: The columns after the case id and the 41 fields.
ERROR_COLUMNS: Final = (
    ("error", "string"),
    ("error_index", "bigint"),
    ("error_record", "string"),
)
OUTPUT_NAMES: Final = (
    *(column.name for column in COLUMNS),
    *(name for name, _ in ERROR_COLUMNS),
)

_SPARK_TYPES: Final[dict[ColumnKind, str]] = {
    "id": "string",
    "timestamp": "timestamp",
    "integer": "bigint",
    "flag": "boolean",
    "user": "string",
}


def _arrow_type(spark_type: str) -> Any:
    return {
        "string": pa.string(),
        # Instants in UTC; Spark shows them in the session time zone, the instant is the same.
        "timestamp": pa.timestamp("us", tz="UTC"),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
    }[spark_type]


def _spark_types() -> list[tuple[str, str]]:
    return [(column.name, _SPARK_TYPES[column.kind]) for column in COLUMNS] + list(ERROR_COLUMNS)


def spark_ddl() -> str:
    """The output schema as Spark DDL (every column nullable: a reject has no fields)."""
    return ", ".join(f"`{name}` {kind}" for name, kind in _spark_types())


def arrow_schema() -> Any:
    """The output schema as an Arrow schema, in the same order as :func:`spark_ddl`."""
    return pa.schema([(name, _arrow_type(kind)) for name, kind in _spark_types()])


def text(value: str) -> str:
    """A string Spark can hold: a lone surrogate (from a ``\\udXXX`` escape in the input, which
    has no UTF-8 form) becomes the six characters ``\\udXXX``; any other text is unchanged."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class RowBuffer:
    """Output rows collected column by column, handed out as record batches."""

    __slots__ = ("_columns", "_schema", "size")

    def __init__(self, size: int = 2048) -> None:
        self._schema = arrow_schema()
        self._columns: list[list[Any]] = [[] for _ in OUTPUT_NAMES]
        self.size = size

    def __len__(self) -> int:
        return len(self._columns[0])

    def add_row(self, values: Sequence[RowValue]) -> None:
        """A computed case: ``values`` in :data:`COLUMNS` order (ids as text)."""
        columns = self._columns
        for position, value in enumerate(values):
            columns[position].append(text(value) if type(value) is str else value)
        width = len(values)
        for position in range(width, len(columns)):
            columns[position].append(None)

    def add_error(
        self, case_id: str | None, error: str, index: int | None, record: str | None
    ) -> None:
        """A rejected case (``case_id`` given) or input record (``case_id`` ``None``)."""
        columns = self._columns
        columns[0].append(None if case_id is None else text(case_id))
        for position in range(1, len(COLUMNS)):
            columns[position].append(None)
        columns[len(COLUMNS)].append(text(error))
        columns[len(COLUMNS) + 1].append(index)
        columns[len(COLUMNS) + 2].append(None if record is None else text(record))

    def take(self) -> Any:
        """The collected rows as one ``pyarrow.RecordBatch``; the buffer is emptied."""
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(self._columns, self._schema, strict=True)
        ]
        self._columns = [[] for _ in OUTPUT_NAMES]
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema)
