"""The metrics of every case of a Spark DataFrame of events (the optional extra ``spark``).

``compute_metrics_df(events_df, ...)`` returns a DataFrame with one row per case, computed by
the per-case function the ``metrics-engine compute`` command uses (docs/spark.md). PySpark is
imported only when a function of this module is called; the functions that Spark runs on the
executors need only ``pyarrow`` and the library.

The plan, in two Python passes over Arrow batches and one shuffle:

1. *keys* (``mapInArrow`` over the input, in input order): each line is read as the command
   reads it; events get their case id text as the shuffle key, other lines are marked as
   rejects. Without an explicit ``as_of`` each task also sends its latest ``at`` to *every*
   shuffle partition (one small row each), so that every partition knows the input's latest
   ``at`` without a second pass over the data.
2. The JVM shuffles by case id and sorts each partition by case id, then input order (an
   ordinal taken while reading: file, block and row, or the caller's ``order_by``).
3. *cases* (``mapInArrow`` over the sorted partitions): each case, whole and in input order,
   goes through :func:`~metrics_engine._case.compute_case`, and becomes a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from metrics_engine._batch.lines import json_backend, read_event_fast, read_event_std
from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._case import compute_case
from metrics_engine._columns import row_values
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text
from metrics_engine._replay import _check_calendar, _check_rules, parse_as_of
from metrics_engine._rules import Rules
from metrics_engine._spark_input import LatestAt, ShippedCalendar, unfold_statuses

if TYPE_CHECKING:
    from pyspark.sql import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        Column,
        DataFrame,
        SparkSession,
    )

__all__ = ["compute_metrics_df"]

Calendar = BusinessCalendar | TeamCalendars

# Row kinds between the two passes.
_AS_OF_RECORD: Final = 0  # one task's latest ``at``, sent to every partition
_EVENT: Final = 1
_REJECT: Final = 2  # an input record that is not an event: rejected on its own

_AS_OF_PREFIX: Final = "metrics_engine.as_of/"


def compute_metrics_df(
    events_df: DataFrame,
    calendar: Calendar | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
    order_by: str | Sequence[str] | None = None,
    *,
    partitions: int | None = None,
) -> DataFrame:
    """One row per case of ``events_df``: ``case_id``, the 41 fields, ``error``, ``error_index``
    and ``error_record`` (docs/spark.md).

    ``events_df`` is either JSON Lines as text (a string column ``value``, as
    ``spark.read.text`` gives: read exactly as the command reads them) or events as columns
    (as ``spark.read.json`` gives; see docs/spark.md for what schema inference loses).
    ``as_of`` is one instant for every case, by default the latest ``at`` of the input.
    ``order_by`` names the column(s) that give the input order of the events; by default it is
    the order in which Spark reads the files (by file name, then line). ``partitions`` is the
    number of shuffle partitions (default: twice Spark's default parallelism).

    Nothing runs until the returned DataFrame is used, except, without ``as_of``, one tiny job
    that picks a shuffle key for each partition.
    """
    _require_extra()
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import functions as F

    from metrics_engine._spark_rows import spark_ddl

    if not isinstance(events_df, SparkDataFrame):
        raise MetricsEngineError(
            f"events_df: expected a pyspark.sql.DataFrame, found {type(events_df).__name__}"
        )
    checked = _check_calendar(calendar)
    rules = _check_rules(rules)
    limit = None if as_of is None else parse_as_of(as_of)
    order = _order_columns(events_df, order_by)
    spark = events_df.sparkSession
    count = _partition_count(spark, partitions)
    structured, value = _value_column(events_df, order)

    ordinals: list[Column]
    if order:
        ordinals = [events_df[name].alias(f"_order{i}") for i, name in enumerate(order)]
    else:
        ordinals = _file_position(events_df)
    ordinals.append(F.monotonically_increasing_id().alias("_row"))
    lines = events_df.select(value.alias("value"), *ordinals)
    order_names = [column for column in lines.columns if column != "value"]

    special = () if limit is not None else tuple(_special_keys(spark, count))
    stage_a_schema = _keys_schema(lines)
    keyed = lines.mapInArrow(_KeyStage(special), stage_a_schema)
    part = F.coalesce(F.col("_part"), F.col("_key"), F.col("value").cast("binary"))
    ordered = keyed.repartition(count, part).sortWithinPartitions("_key", *order_names)
    stage_b = _CaseStage(ShippedCalendar(checked), limit, bool(strict), rules, structured)
    return ordered.select("_kind", "_key", "_at", "value").mapInArrow(stage_b, spark_ddl())


# ====================================================================== the driver's plan


def _require_extra() -> None:
    try:
        import pyarrow  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
        import pyspark  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "metrics_engine.spark needs PySpark and pyarrow: pip install 'metrics-engine[spark]' "
            f"({error})"
        ) from None


def _order_columns(events_df: DataFrame, order_by: str | Sequence[str] | None) -> list[str]:
    if order_by is None:
        return []
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    if not names or not all(isinstance(name, str) for name in names):
        raise MetricsEngineError(
            f"order_by: expected a column name or a list of column names, found {order_by!r}"
        )
    for name in names:
        if name not in events_df.columns:
            raise MetricsEngineError(
                f"order_by: expected a column of events_df, found {name!r} "
                f"(columns: {', '.join(events_df.columns)})"
            )
    return names


def _partition_count(spark: SparkSession, partitions: int | None) -> int:
    """The shuffle's partitions: as given, else twice the cores Spark has (a Python task costs
    a fixed tenth of a second or so, and a case never needs its whole partition in memory)."""
    if partitions is None:
        try:
            return max(2, 2 * int(spark.sparkContext.defaultParallelism))
        except Exception:  # Spark Connect has no SparkContext
            return int(spark.conf.get("spark.sql.shuffle.partitions") or "200")
    if type(partitions) is not int or partitions < 1:
        raise MetricsEngineError(f"partitions: expected a positive integer, found {partitions!r}")
    return partitions


def _value_column(events_df: DataFrame, order: list[str]) -> tuple[bool, Column]:
    """(structured?, the JSON text of each input record)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    fields = {field.name: field for field in events_df.schema.fields}
    value = fields.get("value")
    if value is not None and isinstance(value.dataType, StringType) and "case" not in fields:
        return False, events_df["value"]
    if "case" not in fields:
        raise MetricsEngineError(
            "events_df: expected a string column 'value' of JSON lines (spark.read.text) or "
            f"event columns such as 'case' (spark.read.json), found {sorted(fields)}"
        )
    event_columns = [events_df[name] for name in fields if name != "_corrupt_record"]
    # Null fields are left out: after schema inference a null is mostly a key the event lacks.
    rebuilt = F.to_json(F.struct(*event_columns), {"ignoreNullFields": "true"})
    if "_corrupt_record" in fields:
        rebuilt = F.coalesce(events_df["_corrupt_record"], rebuilt)
    return True, rebuilt


def _file_position(events_df: DataFrame) -> list[Column]:
    """File name and block start of each row, when the DataFrame is read from files."""
    try:
        probe = events_df.select("_metadata.file_path", "_metadata.file_block_start")
        probe.schema  # noqa: B018 - resolves the columns (lazily resolved under Spark Connect)
    except Exception:  # not read from files: the row order alone
        return []
    return [
        events_df["_metadata.file_path"].alias("_file"),
        events_df["_metadata.file_block_start"].alias("_block"),
    ]


def _keys_schema(lines: DataFrame) -> Any:
    from pyspark.sql.types import BinaryType, IntegerType, LongType, StructField, StructType

    return StructType(
        [
            StructField("_kind", IntegerType()),
            StructField("_key", BinaryType()),
            StructField("_part", BinaryType()),
            StructField("_at", LongType()),
            # The special rows have no value nor ordinal: every column nullable.
            *(StructField(field.name, field.dataType) for field in lines.schema.fields),
        ]
    )


def _special_keys(spark: SparkSession, count: int) -> list[bytes]:
    """For each shuffle partition, a key that Spark's hash partitioning sends there.

    Found with Spark's own hash (the one ``repartition`` uses), in one tiny job.
    """
    from pyspark.sql import functions as F

    found: dict[int, int] = {}
    size = 16 * count
    while len(found) < count:
        name = F.concat(F.lit(_AS_OF_PREFIX), F.col("id").cast("string")).cast("binary")
        rows = (
            spark.range(0, size, 1, 1)  # one task, no shuffle: a few hundred numbers
            .select(F.col("id"), F.pmod(F.hash(name), F.lit(count)).alias("p"))
            .collect()
        )
        for row in sorted(rows, key=lambda row: int(row["id"]), reverse=True):
            found[int(row["p"])] = int(row["id"])  # the smallest id for each partition
        size *= 4
    return [f"{_AS_OF_PREFIX}{found[p]}".encode() for p in range(count)]


# ====================================================================== on the executors


def _reader() -> Any:
    return read_event_fast if json_backend() == "orjson" else read_event_std


class _KeyStage:
    """Pass 1: each record's kind and case id text; with ``special``, each task's latest
    ``at`` to every partition (``special[p]`` is a key that lands in partition ``p``)."""

    __slots__ = ("special",)

    def __init__(self, special: tuple[bytes, ...]) -> None:
        self.special = special

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

        read = _reader()
        need_at = bool(self.special)
        latest = LatestAt()
        last_schema = None
        for batch in batches:
            last_schema = batch.schema
            kinds: list[int] = []
            keys: list[bytes | None] = []
            keep: list[bool] = []
            for line in batch.column(0).cast(pa.binary()).to_pylist():
                if line is None or not line.strip():  # blank lines are skipped, as by the command
                    keep.append(False)
                    continue
                keep.append(True)
                obj, key, error = read(line)
                if error is not None:
                    kinds.append(_REJECT)
                    keys.append(None)
                    continue
                kinds.append(_EVENT)
                keys.append(key.encode("utf-8", "surrogatepass"))
                if need_at:
                    latest.note(obj.get("at"))
            rows = batch if all(keep) else batch.filter(pa.array(keep, pa.bool_()))
            size = len(kinds)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(kinds, pa.int32()),
                    pa.array(keys, pa.binary()),
                    pa.nulls(size, pa.binary()),
                    pa.nulls(size, pa.int64()),
                    *rows.columns,
                ],
                names=["_kind", "_key", "_part", "_at", *rows.schema.names],
            )
        if need_at and last_schema is not None:  # an empty task sends nothing
            count = len(self.special)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([_AS_OF_RECORD] * count, pa.int32()),
                    pa.array([b""] * count, pa.binary()),
                    pa.array(self.special, pa.binary()),
                    pa.array([latest.result()] * count, pa.int64()),
                    *(pa.nulls(count, field.type) for field in last_schema),
                ],
                names=["_kind", "_key", "_part", "_at", *last_schema.names],
            )


class _CaseStage:
    """Pass 2: the sorted rows of one partition become rows of metrics and rejects."""

    __slots__ = ("as_of", "calendar", "rules", "strict", "structured")

    def __init__(
        self,
        calendar: ShippedCalendar,
        as_of: int | None,
        strict: bool,
        rules: Rules,
        structured: bool,
    ) -> None:
        self.calendar = calendar
        self.as_of = as_of
        self.strict = strict
        self.rules = rules
        self.structured = structured

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

        run = _CaseRun(self)
        for batch in batches:
            kinds, keys, ats, lines = (
                batch.column(0).to_pylist(),
                batch.column(1).to_pylist(),
                batch.column(2).to_pylist(),
                batch.column(3).cast(pa.binary()).to_pylist(),
            )
            for kind, key, at, line in zip(kinds, keys, ats, lines, strict=True):
                if kind == _EVENT:
                    run.event(key, line)
                elif kind == _AS_OF_RECORD:
                    run.latest(at)
                else:
                    run.reject(line)
            if len(run.out) >= run.out.size:
                yield run.out.take()
        run.finish()
        if len(run.out):
            yield run.out.take()


class _CaseRun:
    """One partition's run: the case at hand, the ``as_of`` learnt, the rows so far."""

    def __init__(self, stage: _CaseStage) -> None:
        self.stage = stage
        self.calendar = stage.calendar.get()
        self.read = _reader()
        self.fast = self.read is read_event_fast
        self.limit = stage.as_of
        self.learnt = stage.as_of is not None  # else from the special rows, sorted first
        self.key: bytes | None = None
        self.lines: list[bytes] = []
        from metrics_engine._spark_rows import RowBuffer

        self.out = RowBuffer()

    def latest(self, at: int | None) -> None:
        self.learnt = True
        if at is not None and (self.limit is None or at > self.limit):
            self.limit = at

    def event(self, key: bytes, line: bytes) -> None:
        if key != self.key:
            self.finish()
            self.key = key
        self.lines.append(line)

    def reject(self, line: bytes) -> None:
        _, _, error = self.read(line)
        self.out.add_error(None, error or "expected an event", None, _decode(line))

    def finish(self) -> None:
        lines = self.lines
        if not lines:
            return
        self.lines = []
        if not self.learnt:  # cannot happen: every task sends its row to every partition
            raise RuntimeError("metrics_engine.spark: a partition got no as_of row")
        outcome = self._compute([self._event(line) for line in lines])
        if outcome.error is not None and self.fast:
            # orjson reads integers beyond 64 bits as floats: json decides, as in the command
            outcome = self._compute([self._event(line, json.loads) for line in lines])
        if outcome.not_created:
            return
        if outcome.metrics is not None:
            self.out.add_row(row_values(outcome.case, outcome.metrics))
            return
        index = outcome.index
        record = lines[index] if index is not None and 0 <= index < len(lines) else None
        self.out.add_error(
            id_text(outcome.case, "case"),
            outcome.detail or "",
            index,
            None if record is None else _decode(record),
        )

    def _event(self, line: bytes, loads: Any = None) -> Any:
        obj = self.read(line)[0] if loads is None else loads(line)
        if self.stage.structured:
            unfold_statuses(obj)
        return obj

    def _compute(self, events: list[Any]) -> Any:
        stage = self.stage
        return compute_case(
            events,
            calendar=self.calendar,
            as_of=self.limit,
            strict=stage.strict,
            rules=stage.rules,
        )


def _decode(line: bytes) -> str:
    return line.decode("utf-8", "backslashreplace")
