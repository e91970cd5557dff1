"""Events from Parquet files and Arrow tables, for ``metrics_engine.arrow`` (docs/arrow.md).

:func:`read_events` gives one dict per row, as the JSON event format defines them
(docs/events.md), and undoes what keeping JSON-shaped data in columns changed: a null at the
top level of a row, or in a field of a struct, means the key is absent; a map keeps its null
values; a string column named in :data:`JSON_COLUMNS` holds JSON text and is decoded. Users
import it from ``metrics_engine.arrow``, which says which extra to install when pyarrow is
missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from metrics_engine._errors import EventError
from metrics_engine._events import _show

__all__ = ["JSON_COLUMNS", "read_events"]

#: Event keys whose column may also be a string column of JSON text, decoded on reading.
JSON_COLUMNS: Final = frozenset({"actor", "fields", "changes"})

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_PER_SECOND: Final = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}

Convert = Callable[[Any], Any]


def _nested(kind: Any) -> Convert | None:
    """How to turn a value that pyarrow gave as Python into the JSON event format's value;
    ``None`` when it is already right."""
    if pa.types.is_dictionary(kind):
        return _nested(kind.value_type)
    if pa.types.is_struct(kind):
        fields = {field.name: _nested(field.type) for field in kind}

        def struct(value: Any) -> Any:
            if value is None:
                return None
            out = {}
            for key, item in value.items():
                if item is None:
                    continue  # a struct has every field: null stands for "absent"
                convert = fields.get(key)
                out[key] = item if convert is None else convert(item)
            return out

        return struct
    if pa.types.is_map(kind):
        item_convert = _nested(kind.item_type)

        def mapping(value: Any) -> Any:
            if value is None:
                return None
            pairs = value.items() if isinstance(value, Mapping) else value
            if item_convert is None:
                return dict(pairs)
            return {key: None if item is None else item_convert(item) for key, item in pairs}

        return mapping
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        element = _nested(kind.value_type)
        if element is None:
            return None
        return lambda value: None if value is None else [element(item) for item in value]
    return None


def _is_text(kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind)) or str(kind) in (
        "string_view",
    )


def _instants(array: Any, kind: Any, name: str, first_row: int) -> list[Any]:
    """A timestamp column as datetimes cut to the whole second toward the past (aware UTC
    when the column has a time zone), computed from the stored integers so that no unit or
    zone database matters."""
    per_second = _PER_SECOND[kind.unit]
    aware = kind.tz is not None
    out: list[Any] = []
    for number, ticks in enumerate(array.cast(pa.int64()).to_pylist(), first_row):
        if ticks is None:
            out.append(None)
            continue
        try:
            moment = _EPOCH + timedelta(seconds=ticks // per_second)
        except OverflowError:
            raise EventError(
                f"row {number}: column {name!r}: expected a time between 0001-01-02 and "
                f"9999-12-30 UTC, found {ticks // per_second} seconds from 1970"
            ) from None
        out.append(moment if aware else moment.replace(tzinfo=None))
    return out


def _json_values(values: list[Any], name: str, first_row: int, cases: list[Any]) -> list[Any]:
    out: list[Any] = []
    for number, text in enumerate(values):
        if text is None:
            out.append(None)
            continue
        try:
            out.append(json.loads(text))
        except ValueError:
            raise EventError(
                f"row {first_row + number}: column {name!r}: expected JSON text, "
                f"found {_show(text)}",
                case=cases[number] if cases else None,
                index=first_row + number,
            ) from None
    return out


def _check_schema(arrow_schema: Any) -> None:
    if "at" in arrow_schema.names:
        kind = arrow_schema.field("at").type
        if pa.types.is_timestamp(kind) and kind.tz is None:
            raise EventError(
                f"column 'at': expected timestamps with a time zone, found {kind} without "
                "one (it could mean any instant); cast it to a zone, for example "
                "timestamp('s', tz='UTC'), when you write the file (docs/arrow.md)"
            )


def _batch_events(batch: Any, first_row: int) -> Iterator[dict[str, Any]]:
    names = batch.schema.names
    columns: list[list[Any]] = []
    cases = batch.column(names.index("case")).to_pylist() if "case" in names else []
    for index, field in enumerate(batch.schema):
        name, kind, array = field.name, field.type, batch.column(index)
        if pa.types.is_timestamp(kind):
            columns.append(_instants(array, kind, name, first_row))
            continue
        values = array.to_pylist()
        if name in JSON_COLUMNS and _is_text(kind):
            values = _json_values(values, name, first_row, cases)
        else:
            convert = _nested(kind)
            if convert is not None:
                values = [convert(value) for value in values]
        columns.append(values)
    for row in zip(*columns, strict=True):
        yield {name: value for name, value in zip(names, row, strict=True) if value is not None}


def _batches(source: Any, batch_rows: int) -> tuple[Any, Iterator[Any]]:
    """The source's schema, and its record batches in row order."""
    if isinstance(source, pa.Table):
        return source.schema, iter(source.to_batches(max_chunksize=batch_rows))
    if isinstance(source, pa.RecordBatch):
        return source.schema, iter([source])
    parquet = pq.ParquetFile(source)

    def read() -> Iterator[Any]:
        try:
            yield from parquet.iter_batches(batch_size=batch_rows)
        finally:
            parquet.close()

    return parquet.schema_arrow, read()


def read_events(source: Any, *, batch_rows: int = 10_000) -> Iterator[dict[str, Any]]:
    """The events of a Parquet file (a path or a binary file object) or an Arrow table or
    record batch, one dict per row, in row order, as the JSON event format gives them.

    Each column is an event key. A null means the key is absent (at the top level and inside
    a struct); a map keeps its null values; a string column named ``actor``, ``fields`` or
    ``changes`` holds JSON text and is decoded. An ``at`` timestamp column needs a time zone
    and gives aware UTC datetimes cut to the whole second. The schema is checked now; the rows
    are read ``batch_rows`` at a time as you iterate. Read by ``me.compute_batch`` or the
    ``metrics-engine`` command, the events give the rows their JSON form would give.
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows: expected a positive integer, found {batch_rows}")
    arrow_schema, batches = _batches(source, batch_rows)
    _check_schema(arrow_schema)
    return _events(batches)


def _events(batches: Iterator[Any]) -> Iterator[dict[str, Any]]:
    first_row = 0
    for batch in batches:
        yield from _batch_events(batch, first_row)
        first_row += batch.num_rows
