"""The batch row encoder writes what the plain recipe writes: every value of ``row_values``
by its column's kind, timestamps as ``isoformat()``, JSON through the json module, CSV through
the csv module. Its shortcuts (orjson writing the datetimes, ISO texts built from pieces, CSV
lines joined without the csv module when no cell needs quoting) must not show.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._batch import outputs
from metrics_engine._batch.outputs import Absent, RowEncoder
from metrics_engine._columns import COLUMNS, row_values

EVENTS = [
    {"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": 900, "role": "customer"}},
    {"case": 1, "event": "message", "at": "2026-03-02T10:05:00Z",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1, "event": "update", "at": "2026-03-02T10:07:09Z",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip
BASE = me.compute_metrics(EVENTS)
TIMESTAMPS = [c.name for c in COLUMNS if c.kind == "timestamp"]
# The engine's instants: 0001-01-02 to 9999-12-30, whole seconds.
FIRST = int(datetime(1, 1, 2, tzinfo=UTC).timestamp())
LAST = int(datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC).timestamp())
# Texts of ids, often with a character that CSV quotes or UTF-8 cannot hold.
TEXTS = st.text(st.sampled_from('a7 ,"\r\n\t\x00é\u2028\ud800')) | st.text()


def plain_row(case: object, metrics: me.CaseMetrics, absent: Absent, as_csv: bool) -> bytes:
    """The recipe, step by step, with the standard library only."""
    cells: list[Any] = []
    for column, value in zip(COLUMNS, row_values(case, metrics), strict=True):
        if value is None:
            cells.append(0 if absent == "zero" and column.kind == "integer" else None)
        elif column.kind == "timestamp":
            assert isinstance(value, datetime)
            cells.append(value.isoformat())
        else:
            cells.append(value)
    if not as_csv:
        obj = dict(zip([c.name for c in COLUMNS], cells, strict=True))
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    else:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([csv_text(cell) for cell in cells])
        text = buffer.getvalue()
    return text.encode("utf-8", "backslashreplace")


def csv_text(cell: object) -> object:
    if cell is None:
        return ""
    if cell is True:
        return "true"
    if cell is False:
        return "false"
    return cell


def encoded(case: object, metrics: me.CaseMetrics, absent: Absent, as_csv: bool) -> bytes:
    return RowEncoder(absent, as_csv).encode(case, metrics)


def test_the_example_row_by_hand() -> None:
    row = json.loads(encoded(1, BASE, "zero", False))
    assert row["case_id"] == "1"
    assert row["last_reply_by_agent_at"] == "2026-03-02T10:05:00+00:00"
    assert row["resolution_at"] == "2026-03-02T10:07:09+00:00"
    assert row["resolved_by"] == "5"
    assert row["last_reopened_at"] is None
    assert row["resolution_business_time"] == 0  # no calendar, absent written as 0
    line = encoded(1, BASE, "null", True).decode()
    assert line.endswith("\n")
    cells = dict(zip([c.name for c in COLUMNS], line[:-1].split(","), strict=True))
    assert cells["is_first_contact_resolved"] == "true"  # one agent reply, then resolved
    assert cells["last_reopened_at"] == ""
    assert cells["resolution_at"] == "2026-03-02T10:07:09+00:00"
    assert cells["resolution_calendar_time"] == "429"  # 10:00:00 to 10:07:09
    assert cells["resolution_business_time"] == ""  # no calendar, absent written as null


def test_the_first_and_last_instants_by_hand() -> None:
    first = datetime.fromtimestamp(FIRST, UTC)
    last = datetime.fromtimestamp(LAST, UTC)
    metrics = dataclasses.replace(BASE, last_reopened_at=first, resolution_at=last)
    for as_csv in (False, True):
        text = encoded(1, metrics, "zero", as_csv).decode()
        assert "0001-01-02T00:00:00+00:00" in text
        assert "9999-12-30T23:59:59+00:00" in text


@pytest.mark.parametrize("absent", ["zero", "null"])
@pytest.mark.parametrize("as_csv", [False, True])
@pytest.mark.parametrize("fast_json", [True, False])
@given(
    seconds=st.lists(st.none() | st.integers(FIRST, LAST), min_size=len(TIMESTAMPS),
                     max_size=len(TIMESTAMPS)),
    case=TEXTS | st.integers(-(10**30), 10**30),
    user=st.none() | TEXTS | st.integers(-(10**25), 10**25),
    big=st.none() | st.integers(0, 10**30),
)  # fmt: skip
def test_rows_are_the_plain_recipe(
    absent: Absent,
    as_csv: bool,
    fast_json: bool,
    seconds: list[int | None],
    case: object,
    user: str | int | None,
    big: int | None,
) -> None:
    changes: dict[str, Any] = {
        name: None if second is None else datetime.fromtimestamp(second, UTC)
        for name, second in zip(TIMESTAMPS, seconds, strict=True)
    }
    metrics = dataclasses.replace(BASE, **changes, last_replier=user, resolution_calendar_time=big)
    expected = plain_row(case, metrics, absent, as_csv)
    if fast_json:
        assert encoded(case, metrics, absent, as_csv) == expected
    else:
        with patch.object(outputs, "orjson", None):
            assert encoded(case, metrics, absent, as_csv) == expected


def test_a_timestamp_not_in_utc_keeps_its_isoformat() -> None:
    # Never made by the engine; the encoder still writes what isoformat() writes.
    moment = datetime(2026, 3, 2, 10, 0, 0, 250, tzinfo=timezone(timedelta(hours=2)))
    metrics = dataclasses.replace(BASE, last_reopened_at=moment)
    for as_csv in (False, True):
        assert b"2026-03-02T10:00:00.000250+02:00" in encoded(1, metrics, "zero", as_csv)
