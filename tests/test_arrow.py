"""``metrics_engine.arrow``: events from Parquet and Arrow tables, rows to Parquet.

Needs the ``arrow`` extra. Without pyarrow these tests are skipped with that reason, unless
``METRICS_ENGINE_REQUIRE_ARROW=1`` (as in CI), where a missing pyarrow fails them.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._columns import COLUMNS, row_values
from metrics_engine.testing import event_streams
from tests.test_docs_snippets import blocks

_REASON = "needs the arrow extra (pyarrow): pip install -e '.[arrow]'"
if os.environ.get("METRICS_ENGINE_REQUIRE_ARROW") == "1":
    import pyarrow as pa  # a missing pyarrow fails here: CI requires these tests to run
else:
    pa = pytest.importorskip("pyarrow", reason=_REASON)
import pyarrow.parquet as pq  # noqa: E402 - only once pyarrow is known to be there

from metrics_engine import arrow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AGENT = {"id": 5, "role": "agent"}
CUSTOMER = {"id": 17, "role": "customer"}

# The worked example of docs/events.md, with the results worked out there by hand.
WORKED: list[dict[str, Any]] = [
    {"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00", "actor": CUSTOMER,
     "fields": {"requester": 17, "priority": "NORMAL", "team": 3}},
    {"case": 1042, "event": "update", "at": "2026-03-02T09:20:00-05:00", "actor": AGENT,
     "changes": {"assignee": 5, "status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00", "actor": AGENT},
    {"case": 1042, "event": "update", "at": "2026-03-02T10:02:30-05:00", "actor": AGENT,
     "changes": {"status": "PENDING"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00", "actor": CUSTOMER},
    {"case": 1042, "event": "update", "at": "2026-03-03T08:00:00-05:00",
     "changes": {"status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T09:30:00-05:00", "actor": AGENT},
    {"case": 1042, "event": "update", "at": "2026-03-03T09:31:00-05:00", "actor": AGENT,
     "changes": {"status": "COMPLETED"}},
]  # fmt: skip
WORKED_RESOLUTION = datetime(2026, 3, 3, 14, 31, tzinfo=UTC)  # 09:31 in New York


def worked_rows() -> list[dict[str, Any]]:
    result = me.compute_batch(WORKED)
    assert result.rows[0]["agent_first_calendar_response_time"] == 2830
    return result.rows


# ====================================================================== the schema


def test_schema_comes_from_the_column_list() -> None:
    schema = arrow.schema()
    assert schema.names == [column.name for column in COLUMNS]
    assert schema.names[0] == "case_id"
    case_id = schema.field("case_id")
    assert (case_id.type, case_id.nullable) == (pa.string(), False)
    for name in ("is_first_contact_resolved", "was_reopened"):
        assert (schema.field(name).type, schema.field(name).nullable) == (pa.bool_(), False)
    for name in ("last_replier", "resolved_by"):
        assert (schema.field(name).type, schema.field(name).nullable) == (pa.string(), True)
    resolution_at = schema.field("resolution_at")
    assert resolution_at.type == pa.timestamp("s", tz="UTC")
    assert resolution_at.nullable
    reopen_count = schema.field("reopen_count")
    assert (reopen_count.type, reopen_count.nullable) == (pa.int64(), True)
    # 1 case id, 2 flags, 2 users, the 17 "_at" fields, the other 20 fields integers.
    kinds = [str(field.type) for field in schema]
    assert kinds.count("string") == 3
    assert kinds.count("bool") == 2
    assert kinds.count("timestamp[s, tz=UTC]") == 17
    assert kinds.count("int64") == 20
    assert len(schema) == 1 + len(me.FIELDS)


# ====================================================================== rows


def test_rows_table_holds_the_worked_example() -> None:
    table = arrow.rows_table(worked_rows())
    assert table.schema == arrow.schema()
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["case_id"] == "1042"
    assert row["agent_first_calendar_response_time"] == 2830
    assert row["average_calendar_response_time"] == 4115
    assert row["customer_calendar_wait_time"] == 8310
    assert row["agent_calendar_wait_time"] == 79050
    assert row["resolution_calendar_time"] == 87360
    assert row["replies_to_resolution"] == 3
    assert row["agent_touch_count"] == 5
    assert row["is_first_contact_resolved"] is False
    assert row["resolution_at"] == WORKED_RESOLUTION
    assert row["resolved_by"] == "5"
    assert row["agent_first_business_response_time"] is None  # no calendar: absent


def test_rows_as_tuples_give_the_same_table() -> None:
    rows = worked_rows()
    metrics = me.compute_metrics(WORKED, as_of=me.compute_batch(WORKED).as_of)
    tuples = [row_values(1042, metrics)]
    assert arrow.rows_table(tuples).equals(arrow.rows_table(rows))
    assert arrow.rows_table([]).num_rows == 0


def _bad_row(**change: Any) -> dict[str, Any]:
    return {**worked_rows()[0], **change}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"was_reopened": None}, "column 'was_reopened': expected a bool, found null"),
        ({"case_id": 1042}, "column 'case_id': expected a string, found int 1042"),
        ({"reopen_count": "2"}, "column 'reopen_count': expected a 64-bit integer or None"),
        ({"reopen_count": 2**63}, "column 'reopen_count': expected a 64-bit integer"),
        ({"reopen_count": True}, "column 'reopen_count': expected a 64-bit integer"),
        ({"last_replier": 5}, "column 'last_replier': expected a string or None, found int 5"),
        # Arrow would take a naive datetime as UTC without a word
        ({"resolution_at": datetime(2026, 3, 3)}, "column 'resolution_at': expected an aware"),
        (
            {"resolution_at": WORKED_RESOLUTION.replace(microsecond=5)},
            "column 'resolution_at': expected an aware datetime of whole seconds",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_its_row_and_column(
    change: dict[str, Any], message: str
) -> None:
    good = worked_rows()[0]
    with pytest.raises(me.MetricsEngineError, match="^row 1: " + re.escape(message)) as caught:
        arrow.rows_table([good, _bad_row(**change)])
    assert "\n" not in str(caught.value)


def test_a_lone_surrogate_is_written_as_its_escape() -> None:
    # JSON input may hold "\udc80" (a lone surrogate): Parquet text must be UTF-8, so the id
    # is written as the six characters of its escape, as the CSV output writes it.
    events = [
        {"case": "A\udc80", "event": "created", "at": "2026-03-02T09:00:00Z",
         "actor": {"id": "\ud800", "role": "customer"}},
    ]  # fmt: skip
    table = arrow.rows_table(me.compute_batch(events).rows)
    assert table.column("case_id").to_pylist() == ["A\\udc80"]
    assert table.column("last_replier").to_pylist() == ["\\ud800"]


def test_rows_of_the_wrong_shape() -> None:
    row = worked_rows()[0]
    short = {key: value for key, value in row.items() if key != "reopen_count"}
    with pytest.raises(me.MetricsEngineError, match="row 0: expected the column 'reopen_count'"):
        arrow.rows_table([short])
    with pytest.raises(me.MetricsEngineError, match="row 0: expected 42 values, found 2"):
        arrow.rows_table([("1", True)])
    with pytest.raises(me.MetricsEngineError, match="row 0: expected a dict or a tuple"):
        arrow.rows_table(["1042"])


# ====================================================================== Parquet files


def test_write_rows_makes_a_parquet_file_of_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "metrics.parquet"
    rows = worked_rows()
    assert arrow.write_rows(path, rows) == 1
    table = pq.read_table(path)
    assert table.schema.names == arrow.schema().names
    # Parquet has no unit of whole seconds: the timestamps come back in milliseconds
    assert table.schema.field("resolution_at").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("case_id").nullable is False
    assert table.to_pylist() == rows
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.parquet"]  # no temp file left


def test_the_writer_writes_row_groups_of_chunk_rows(tmp_path: Path) -> None:
    row = worked_rows()[0]
    path = tmp_path / "out.parquet"
    writer = arrow.ParquetRowWriter(path, chunk_rows=2)
    writer.write([{**row, "case_id": str(n)} for n in range(3)])
    assert not path.exists()  # nothing at the path before commit
    writer.write([{**row, "case_id": "3"}, {**row, "case_id": "4"}])
    assert writer.rows == 4  # the fifth waits for its chunk
    writer.commit()
    assert writer.rows == 5
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 3
    assert pq.read_table(path).column("case_id").to_pylist() == ["0", "1", "2", "3", "4"]
    with pytest.raises(ValueError, match="the writer was committed"):
        writer.write([row])
    with pytest.raises(ValueError, match="chunk_rows"):
        arrow.ParquetRowWriter(path, chunk_rows=0)


def test_an_empty_commit_is_a_file_with_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    arrow.ParquetRowWriter(path).commit()
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.names == arrow.schema().names


def test_abort_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old")
    writer = arrow.ParquetRowWriter(path)
    writer.write(worked_rows())
    writer.abort()
    writer.abort()  # twice is fine
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]
    with pytest.raises(ValueError, match="the writer was aborted"):
        writer.commit()


def test_an_error_in_the_block_aborts(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old")
    row = worked_rows()[0]
    with (
        pytest.raises(me.MetricsEngineError, match="row 3: column 'was_reopened'"),
        arrow.ParquetRowWriter(path, chunk_rows=2) as writer,
    ):
        writer.write([row, row, row, {**row, "was_reopened": None}])

    def interrupted() -> None:
        with arrow.ParquetRowWriter(path) as writer:
            writer.write([row])
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_a_killed_writer_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old")
    script = (
        "import json, os, sys, metrics_engine as me\n"
        "from metrics_engine import arrow\n"
        "writer = arrow.ParquetRowWriter(sys.argv[1], chunk_rows=1)\n"
        "writer.write(me.compute_batch(json.loads(sys.argv[2])).rows * 3)\n"
        "os._exit(9)  # killed before commit, after three row groups\n"
    )
    command = [sys.executable, "-c", script, str(path), json.dumps(WORKED)]
    done = subprocess.run(command, check=False)
    assert done.returncode == 9
    assert path.read_bytes() == b"old"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left[0].startswith(".out.parquet.")
    assert left[0].endswith(".partial")
    assert left[1:] == ["out.parquet"]


def test_a_symlink_stays_and_its_target_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "real.parquet"
    target.write_bytes(b"old")
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    arrow.write_rows(link, worked_rows())
    assert link.is_symlink()
    assert pq.read_table(target).num_rows == 1


def test_the_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        arrow.write_rows(tmp_path / "out.parquet", worked_rows())
    finally:
        os.umask(old)
    assert (tmp_path / "out.parquet").stat().st_mode & 0o777 == 0o644


def test_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        arrow.ParquetRowWriter(tmp_path / "nowhere" / "out.parquet")


# ====================================================================== pandas and DuckDB


def test_pandas_reads_the_types(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "metrics.parquet"
    arrow.write_rows(path, worked_rows())
    frame = pd.read_parquet(path)
    assert list(frame.columns) == arrow.schema().names
    for column in COLUMNS:
        dtype = frame[column.name].dtype
        if column.kind == "integer":
            assert dtype == pd.Int64Dtype(), column.name
        elif column.kind == "flag":
            assert dtype == "bool", column.name
        elif column.kind == "timestamp":
            assert isinstance(dtype, pd.DatetimeTZDtype), column.name
            assert str(dtype.tz) == "UTC"
        else:
            assert pd.api.types.is_string_dtype(dtype), column.name
    row = frame.iloc[0]
    assert row["case_id"] == "1042"
    assert row["agent_first_calendar_response_time"] == 2830
    assert row["agent_first_business_response_time"] is pd.NA
    assert row["resolution_at"] == pd.Timestamp(WORKED_RESOLUTION)
    assert row["resolved_by"] == "5"
    assert frame["was_reopened"].tolist() == [False]


def test_duckdb_reads_the_types(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "metrics.parquet"
    arrow.write_rows(path, worked_rows())
    with duckdb.connect() as con:
        relation = con.sql(f"SELECT * FROM read_parquet('{path}')")
        types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
        expected = {
            "id": "VARCHAR",
            "user": "VARCHAR",
            "timestamp": "TIMESTAMP WITH TIME ZONE",
            "integer": "BIGINT",
            "flag": "BOOLEAN",
        }
        assert types == {column.name: expected[column.kind] for column in COLUMNS}
        found = con.sql(
            "SELECT case_id, agent_first_calendar_response_time, "
            "agent_first_business_response_time, epoch(resolution_at)::BIGINT, was_reopened "
            f"FROM read_parquet('{path}')"
        ).fetchall()
    assert found == [("1042", 2830, None, int(WORKED_RESOLUTION.timestamp()), False)]


# ====================================================================== events


def _arrow_column(name: str, values: list[Any], at_as_text: bool) -> Any:
    """One event key as a column the way an exporter would write it: actor, fields and
    changes as JSON text, ``at`` as an aware timestamp (or its ISO text), ids as integers when
    they all are."""
    if name in ("actor", "fields", "changes"):
        return pa.array([None if v is _ABSENT else json.dumps(v) for v in values], pa.string())
    present = [v for v in values if v is not _ABSENT and v is not None]
    plain = [None if v is _ABSENT else v for v in values]
    if name == "at" and not at_as_text:
        moments = [None if v is None else datetime.fromisoformat(v) for v in plain]
        return pa.array(moments, pa.timestamp("us", tz="America/New_York"))
    if present and all(type(v) is int for v in present):
        return pa.array(plain, pa.int64())
    if present and all(type(v) is bool for v in present):
        return pa.array(plain, pa.bool_())
    # ids given as integers in some rows and strings in others: one column holds their text
    return pa.array([None if v is None else str(v) for v in plain], pa.string())


_ABSENT = object()


def events_table(events: list[dict[str, Any]], *, at_as_text: bool = False) -> Any:
    names = list(dict.fromkeys(key for event in events for key in event))
    columns = [
        _arrow_column(name, [e.get(name, _ABSENT) for e in events], at_as_text) for name in names
    ]
    return pa.Table.from_arrays(columns, names=names)


@st.composite
def interleaved_cases(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Several cases' streams, interleaved; each case's events keep their order."""
    cases = draw(
        st.lists(st.sampled_from([1042, "B-7", 3, "case-9"]), min_size=1, max_size=3, unique=True)
    )
    streams = [draw(event_streams(case=case, max_events=12)) for case in cases]
    order = draw(st.permutations([n for n, stream in enumerate(streams) for _ in stream]))
    iterators = [iter(stream) for stream in streams]
    return [next(iterators[n]) for n in order]


def _parquet(table: Any, **options: Any) -> io.BytesIO:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    sink.seek(0)
    return sink


@given(interleaved_cases(), st.booleans())
def test_events_through_parquet_give_the_rows_of_the_json_events(
    events: list[dict[str, Any]], at_as_text: bool
) -> None:
    expected = me.compute_batch(events)
    table = events_table(events, at_as_text=at_as_text)
    read = list(arrow.read_events(_parquet(table), batch_rows=7))
    assert len(read) == len(events)
    got = me.compute_batch(read)
    assert got.rows == expected.rows
    assert got.rejects == expected.rejects
    assert got.as_of == expected.as_of
    assert (got.cases, got.events) == (expected.cases, expected.events)


def test_a_row_is_the_json_event_it_came_from() -> None:
    events = [
        {"case": 7, "event": "created", "at": "2026-03-02T09:00:00-05:00", "actor": CUSTOMER,
         "fields": {"requester": 17, "priority": None}, "id": 1},
        {"case": 7, "event": "update", "at": "2026-03-02T09:00:00.750-05:00", "actor": None,
         "changes": {"assignee": None, "status": {"name": "Waiting", "type": "PENDING"}},
         "id": 2},
        {"case": 7, "event": "message", "at": "2026-03-02T09:05:00Z", "actor": AGENT,
         "public": False, "channel": "mail", "id": 3},
    ]  # fmt: skip
    read = list(arrow.read_events(events_table(events)))
    utc = [
        datetime(2026, 3, 2, 14, tzinfo=UTC),
        datetime(2026, 3, 2, 14, tzinfo=UTC),  # .750 cut toward the past
        datetime(2026, 3, 2, 9, 5, tzinfo=UTC),
    ]
    assert read == [
        {"case": 7, "event": "created", "at": utc[0], "actor": CUSTOMER,
         "fields": {"requester": 17, "priority": None}, "id": 1},
        # "actor": null is the JSON text null: the key is absent, the system, as in JSON;
        # "assignee": null inside JSON text stays: an unassignment
        {"case": 7, "event": "update", "at": utc[1],
         "changes": {"assignee": None, "status": {"name": "Waiting", "type": "PENDING"}},
         "id": 2},
        {"case": 7, "event": "message", "at": utc[2], "actor": AGENT, "public": False,
         "channel": "mail", "id": 3},
    ]  # fmt: skip
    assert all(type(event["case"]) is int and type(event["id"]) is int for event in read)


# A hand-written table with struct columns, the way pyarrow or Spark write nested data.
# Customer 17 opens the case at 09:00; agent 5 takes it at 09:05 and gives it back (unassigns)
# at 09:30. In JSON that is two assignee changes: to 5, then to null (docs/metrics.md: setting
# a field to null counts).
_ACTOR = pa.struct([("id", pa.int64()), ("role", pa.string())])
_CHANGES = pa.struct([("status", pa.string()), ("assignee", pa.int64())])
_STRUCT_EVENTS = {
    "case": pa.array([1, 1, 1], pa.int64()),
    "event": pa.array(["created", "update", "update"]),
    "at": pa.array(
        [datetime(2026, 3, 2, 9, m, tzinfo=UTC) for m in (0, 5, 30)], pa.timestamp("s", tz="UTC")
    ),
    "actor": pa.array([CUSTOMER, AGENT, AGENT], _ACTOR),
}
_JSON_UNASSIGN = [
    {"case": 1, "event": "created", "at": "2026-03-02T09:00:00Z", "actor": CUSTOMER},
    {"case": 1, "event": "update", "at": "2026-03-02T09:05:00Z", "actor": AGENT,
     "changes": {"status": "OPEN", "assignee": 5}},
    {"case": 1, "event": "update", "at": "2026-03-02T09:30:00Z", "actor": AGENT,
     "changes": {"assignee": None}},
]  # fmt: skip


def test_a_struct_column_cannot_say_null_the_limitation() -> None:
    changes = pa.array(
        [None, {"status": "OPEN", "assignee": 5}, {"status": None, "assignee": None}], _CHANGES
    )
    table = pa.table({**_STRUCT_EVENTS, "changes": changes})
    read = list(arrow.read_events(table))
    # A struct has every field in every row: its nulls are read as absent keys. That is right
    # for "status" in the last row (no status change) and wrong for "assignee", meant as an
    # unassignment: the struct cannot tell them apart, and the update changes nothing.
    assert read[1]["changes"] == {"status": "OPEN", "assignee": 5}
    assert read[2]["changes"] == {}
    assert "changes" not in read[0]  # a top-level null: the key is absent, as created needs
    assert me.compute_batch(_JSON_UNASSIGN).rows[0]["assignee_change_count"] == 2
    assert me.compute_batch(read).rows[0]["assignee_change_count"] == 1  # the unassign is lost


def test_a_json_text_or_map_column_keeps_the_unassignment() -> None:
    as_json = pa.array([None, '{"status": "OPEN", "assignee": 5}', '{"assignee": null}'])
    as_map = pa.array(
        [None, [("status", "OPEN"), ("assignee", "5")], [("assignee", None)]],
        pa.map_(pa.string(), pa.string()),
    )
    for changes in (as_json, as_map):
        read = list(arrow.read_events(pa.table({**_STRUCT_EVENTS, "changes": changes})))
        assert read[2]["changes"] == {"assignee": None}
        assert me.compute_batch(read).rows == me.compute_batch(_JSON_UNASSIGN).rows


def test_struct_nulls_are_absent_at_every_depth() -> None:
    status = pa.struct([("name", pa.string()), ("type", pa.string()), ("sla_active", pa.bool_())])
    changes = pa.struct([("status", status), ("tags", pa.list_(pa.string()))])
    column = pa.array(
        [{"status": {"name": "Waiting", "type": "PENDING", "sla_active": None}, "tags": None}],
        changes,
    )
    (event,) = arrow.read_events(pa.table({"changes": column}))
    assert event == {"changes": {"status": {"name": "Waiting", "type": "PENDING"}}}


def test_timestamps_are_cut_to_the_second_toward_the_past_in_any_unit_and_zone() -> None:
    at = pa.array([1_700_000_000_999_999_999, -1, None], pa.timestamp("ns", tz="America/New_York"))
    events = list(arrow.read_events(pa.table({"at": at})))
    assert events == [
        {"at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)},  # 1_700_000_000 s
        {"at": datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)},  # -1 ns: the second before
        {},  # null: no at, reported by the parser as a missing at
    ]
    seconds = pa.array([datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=-5)))])
    assert next(arrow.read_events(pa.table({"at": seconds})))["at"] == datetime(
        2026, 3, 2, 14, tzinfo=UTC
    )


def test_a_naive_timestamp_column_is_refused_before_any_row() -> None:
    table = pa.table({"at": pa.array([datetime(2026, 3, 2, 9)], pa.timestamp("us"))})
    with pytest.raises(me.EventError, match="column 'at': expected timestamps with a time zone"):
        arrow.read_events(table)  # not even iterated


def test_text_that_is_not_json_names_the_row_and_column() -> None:
    table = pa.table(
        {
            "case": pa.array([4, 4, 4, 4, 4]),
            "changes": pa.array([None, None, None, None, "{'status': 'OPEN'}"]),
        }
    )
    events = arrow.read_events(_parquet(table, row_group_size=2), batch_rows=3)
    assert next(events) == {"case": 4}
    with pytest.raises(me.EventError) as caught:
        list(events)
    assert caught.value.case == 4
    assert caught.value.index == 4
    assert str(caught.value) == (
        "case 4, event 4: row 4: column 'changes': expected JSON text, "
        "found str \"{'status': 'OPEN'}\""
    )


def test_rows_come_in_order_across_row_groups_and_batches() -> None:
    table = pa.table({"case": list(range(10)), "event": ["note"] * 10})
    events = arrow.read_events(_parquet(table, row_group_size=3), batch_rows=4)
    assert [event["case"] for event in events] == list(range(10))
    batch = table.to_batches()[0]
    assert [event["case"] for event in arrow.read_events(batch)] == list(range(10))
    with pytest.raises(ValueError, match="batch_rows"):
        arrow.read_events(table, batch_rows=0)


def test_dictionary_columns_and_extra_columns() -> None:
    table = pa.table(
        {
            "event": pa.array(["note", "note"]).dictionary_encode(),
            "tags": pa.array([["a"], None], pa.list_(pa.string())),
        }
    )
    assert list(arrow.read_events(table)) == [{"event": "note", "tags": ["a"]}, {"event": "note"}]


def test_a_parquet_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(events_table(WORKED), path)
    assert me.compute_batch(arrow.read_events(path)).rows == worked_rows()
    assert me.compute_batch(arrow.read_events(str(path))).rows == worked_rows()
    # as docs/arrow.md says: the usual OSError, and pyarrow's own error for a file that is
    # not Parquet, both at the call
    with pytest.raises(FileNotFoundError):
        arrow.read_events(tmp_path / "missing.parquet")
    (tmp_path / "events.jsonl").write_text(json.dumps(WORKED[0]) + "\n")
    with pytest.raises(pa.ArrowInvalid):
        arrow.read_events(tmp_path / "events.jsonl")


# ====================================================================== the extra stays optional


def test_import_metrics_engine_does_not_load_pyarrow() -> None:
    script = "import sys, metrics_engine; sys.exit('pyarrow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0


def test_without_pyarrow_the_import_says_which_extra() -> None:
    script = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "try:\n    import metrics_engine.arrow\n"
        "except ImportError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install 'metrics-engine[arrow]'" in done.stdout


# ====================================================================== docs/arrow.md


def _page_blocks() -> Iterator[tuple[int, str]]:
    for line, code, _reason in blocks((ROOT / "docs" / "arrow.md").read_text()):
        yield line, code


def test_the_arrow_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/arrow.md's snippets are marked "not run" for the pages test (it runs without the
    extra); here they run in order in one namespace, in a scratch folder."""
    found = list(_page_blocks())
    assert found
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "snippets_arrow"}
    for line, code in found:
        exec(compile(code, f"arrow.md:{line}", "exec"), namespace)
