"""Events from pandas: ``DataFrame.to_dict("records")`` gives NaN for absent keys and NumPy
integers; both are read as JSON would give them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_engine as me
from metrics_engine._foreign import plain_event

EVENTS: list[dict[str, Any]] = [
    {"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00",
     "actor": {"id": 17, "role": "customer"}, "fields": {"requester": 17, "priority": "NORMAL"}},
    {"case": 1042, "event": "update", "at": "2026-03-02T09:20:00-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"assignee": 5, "status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1042, "event": "update", "at": "2026-03-02T10:02:30-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00",
     "actor": {"id": 17, "role": "customer"}},
    {"case": 1042, "event": "update", "at": "2026-03-03T08:00:00-05:00",
     "changes": {"status": "OPEN"}},
]  # fmt: skip


def test_dataframe_records_give_the_metrics_of_the_json_events() -> None:
    frame = pd.DataFrame(EVENTS)
    records = frame.to_dict("records")
    # what pandas hands over: NaN where a row lacks a key
    assert isinstance(records[2]["fields"], float)
    assert math.isnan(records[2]["fields"])
    assert me.compute_metrics(records) == me.compute_metrics(EVENTS)
    # a column read by position gives NumPy integers
    for record, case in zip(records, frame["case"].to_numpy(), strict=True):
        record["case"] = case
    assert type(records[0]["case"]).__module__ == "numpy"
    assert me.compute_metrics(records) == me.compute_metrics(EVENTS)
    assert me.compute_batch(records).rows == me.compute_batch(EVENTS).rows


def test_plain_event_only_when_something_is_foreign() -> None:
    assert plain_event({"case": 1, "actor": {"id": 5, "role": "agent"}}) is None
    assert plain_event({"case": np.int64(7), "actor": float("nan"), "x": pd.NA}) == {"case": 7}
    assert type(plain_event({"case": np.int64(7)})["case"]) is int  # type: ignore[index]
    assert plain_event({"at": pd.NaT, "actor": {"id": np.int32(3), "role": "agent"}}) == {
        "actor": {"id": 3, "role": "agent"}
    }
    assert plain_event(["not", "a", "mapping"]) is None


def test_a_real_error_stays_the_error_it_was() -> None:
    bad = [dict(EVENTS[0], case=np.int64(1042), at="2026-03-02T09:15:00")]  # naive time
    with pytest.raises(me.MetricsEngineError, match="'at'") as caught:
        me.compute_metrics(bad)
    assert caught.value.index == 0
    assert caught.value.case == 1042
