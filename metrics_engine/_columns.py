"""The columns of a table of case metrics: one typed list for every tabular output.

A batch row, a CSV header, a Spark schema and an Arrow schema all come from :data:`COLUMNS`:
the case id, then the 41 fields in Kayako's order. Each column has a *kind* that says what its
values can be, so that every writer types it the same way:

- ``id``: the case id, as its text (a string);
- ``timestamp``: an aware UTC :class:`~datetime.datetime`, or ``None`` when absent;
- ``integer``: an ``int``, or ``None`` when absent (seconds and counts);
- ``flag``: a ``bool``, never absent;
- ``user``: a user id as its text (a string), or ``None``.

Every id in a table is its text, so that each column holds one type (``17`` and ``"17"`` are the
same user; see docs/events.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Final, Literal

from metrics_engine._events import id_text
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS, FLAG_FIELDS, TIMESTAMP_FIELDS, USER_FIELDS

__all__ = ["CASE_ID", "COLUMNS", "Column", "ColumnKind", "RowValue", "row_cells", "row_values"]

ColumnKind = Literal["id", "timestamp", "integer", "flag", "user"]
RowValue = str | int | bool | datetime | None

#: The name of the case id column (``case`` is a reserved word in SQL).
CASE_ID: Final = "case_id"


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: its name and the kind of values it holds."""

    name: str
    kind: ColumnKind

    @property
    def nullable(self) -> bool:
        """Whether the column can be absent (only the case id and the flags never are)."""
        return self.kind not in ("id", "flag")

    @property
    def sql_type(self) -> str:
        """Its type in SQL engines (DuckDB, most warehouses)."""
        return _SQL_TYPES[self.kind]

    @property
    def pandas_dtype(self) -> str | None:
        """Its pandas dtype when read from text (``None`` for timestamps: parse those as
        dates, with ``parse_dates`` or ``convert_dates``)."""
        return _PANDAS_DTYPES.get(self.kind)


_SQL_TYPES: Final[dict[ColumnKind, str]] = {
    "id": "VARCHAR",
    "user": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",
    "flag": "BOOLEAN",
}
_PANDAS_DTYPES: Final[dict[ColumnKind, str]] = {
    "id": "string",
    "user": "string",
    "integer": "Int64",
    "flag": "boolean",
}


def _kind(name: str) -> ColumnKind:
    if name in FLAG_FIELDS:
        return "flag"
    if name in USER_FIELDS:
        return "user"
    if name in TIMESTAMP_FIELDS:
        return "timestamp"
    return "integer"


#: The case id, then the 41 fields in Kayako's order.
COLUMNS: Final[tuple[Column, ...]] = (
    Column(CASE_ID, "id"),
    *(Column(name, _kind(name)) for name in FIELDS),
)

_USER_POSITIONS: Final = tuple(
    (position, name) for position, name in enumerate(FIELDS, start=1) if name in USER_FIELDS
)
_FIELD_VALUES: Final = attrgetter(*FIELDS)


def row_values(case: object, metrics: CaseMetrics) -> tuple[RowValue, ...]:
    """One row in :data:`COLUMNS` order: ids as their text, the other values as they are."""
    return tuple(row_cells(case, metrics))


def row_cells(case: object, metrics: CaseMetrics) -> list[RowValue]:
    """:func:`row_values` as a new list, for a writer that replaces values in place."""
    cells: list[RowValue] = [None, *_FIELD_VALUES(metrics)]
    for position, name in _USER_POSITIONS:
        user = cells[position]
        if user is not None:
            cells[position] = id_text(user, name)
    cells[0] = id_text(case, "case")
    return cells
