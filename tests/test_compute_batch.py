"""``me.compute_batch``: many cases from Python with the batch command's rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine.testing import event_streams


def ev(case: Any, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"case": case, "event": kind, "at": at, **extra}


AGENT = {"id": 5, "role": "agent"}
CUSTOMER = {"id": 9, "role": "customer"}


def test_rows_rejects_and_not_created_by_hand() -> None:
    events = [
        ev(1, "created", "2026-03-02T09:00:00Z", actor=CUSTOMER),  # 0
        ev("B", "created", "2026-03-02T09:30:00Z", actor=CUSTOMER),  # 1
        ["not", "an", "event"],  # 2: no event object
        ev(1, "message", "2026-03-02T10:00:00Z", actor=AGENT),  # 3: reply after 3600 s
        ev("B", "created", "2026-03-02T09:40:00Z", actor=CUSTOMER),  # 4: a second created
        {"event": "note", "at": "2026-03-02T10:00:00Z"},  # 5: no case id
        ev(3, "created", "2026-03-05T00:00:00Z", actor=CUSTOMER),  # 6: after as_of
    ]
    result = me.compute_batch(events, as_of="2026-03-03T00:00:00Z")
    assert result.as_of == datetime(2026, 3, 3, tzinfo=UTC)
    assert (result.cases, result.events, result.not_created) == (3, 5, 1)
    # One row, case 1: its id as text; first response 09:00 -> 10:00 = 3600 s; the agent is
    # the last replier, as text too.
    assert [row["case_id"] for row in result.rows] == ["1"]
    row = result.rows[0]
    assert list(row) == ["case_id", *me.FIELDS]
    assert row["agent_first_calendar_response_time"] == 3600
    assert row["last_replier"] == "5"
    assert row["last_reply_by_agent_at"] == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert row["resolution_at"] is None
    # Rejects in input order: the list (2), case B at its second created (4), the note (5).
    assert [(r["case_id"], r["position"]) for r in result.rejects] == [
        (None, 2),
        ("B", 4),
        (None, 5),
    ]
    assert result.rejects[1]["index"] == 1
    assert "second" in result.rejects[1]["error"]
    assert result.rejects[2]["error"] == "field 'case': expected a case id, found nothing"


def test_default_as_of_is_the_latest_at_of_the_input() -> None:
    events = [
        ev(1, "created", "2026-03-02T09:00:00Z", actor=CUSTOMER),
        ev(2, "created", "2026-03-02T12:00:00-05:00", actor=CUSTOMER),  # 17:00Z, the latest
    ]
    result = me.compute_batch(events)
    assert result.as_of == datetime(2026, 3, 2, 17, tzinfo=UTC)
    # Case 1 is measured up to that common as_of: waiting as NEW for 8 hours.
    assert result.rows[0]["customer_calendar_wait_time"] == 8 * 3600


def test_grouped_input_must_keep_cases_together() -> None:
    events = [
        ev(1, "created", "2026-03-02T09:00:00Z"),
        ev(2, "created", "2026-03-02T09:00:00Z"),
        ev(1, "note", "2026-03-02T09:10:00Z"),
    ]
    assert len(me.compute_batch(events).rows) == 2
    with pytest.raises(me.NotGroupedError, match="together"):
        me.compute_batch(events, grouped=True)


@st.composite
def interleaved(draw: st.DrawFn) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """A few cases' streams and one input that interleaves them, each keeping its order."""
    count = draw(st.integers(1, 4))
    streams = [draw(event_streams(case=number, max_events=10)) for number in range(count)]
    rng = random.Random(draw(st.integers(0, 2**32)))
    cursors = [0] * count
    merged: list[dict[str, Any]] = []
    while any(cursor < len(stream) for cursor, stream in zip(cursors, streams, strict=True)):
        pick = rng.choice([i for i in range(count) if cursors[i] < len(streams[i])])
        merged.append(streams[pick][cursors[pick]])
        cursors[pick] += 1
    return streams, merged


@given(data=interleaved(), strict=st.booleans())
def test_each_row_is_compute_metrics_of_its_case(
    data: tuple[list[list[dict[str, Any]]], list[dict[str, Any]]], strict: bool
) -> None:
    streams, merged = data
    result = me.compute_batch(merged, strict=strict)
    assert result.as_of is not None
    by_case = {row["case_id"]: row for row in result.rows}
    for number, stream in enumerate(streams):
        try:
            expected = me.compute_metrics(stream, as_of=result.as_of, strict=strict)
        except me.MetricsEngineError:
            assert str(number) not in by_case
            continue
        row = by_case[str(number)]
        for name in me.FIELDS:
            value = getattr(expected, name)
            if name in ("last_replier", "resolved_by") and value is not None:
                value = str(value)
            assert row[name] == value, name
    assert len(result.rows) + len(result.rejects) + result.not_created == len(streams)
    # rows in the order each case first appears
    first_seen = list(dict.fromkeys(str(event["case"]) for event in merged))
    assert [row["case_id"] for row in result.rows] == [
        case for case in first_seen if case in by_case
    ]
