"""The engine against the slow reference in tests/reference (written from the SPEC alone).

Every field of every generated stream must agree, with and without calendars, under every
combination of rules, in strict and lenient mode; and both must refuse the same streams.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine.testing import calendars, event_streams, team_calendars
from tests.breakage import break_stream
from tests.reference.ref_calendar import RefError
from tests.reference.ref_replay import ref_compute

rules_strategy = st.fixed_dictionaries(
    {
        "resolution_time": st.sampled_from(["cumulative", "elapsed"]),
        "reopen_on_customer_message": st.booleans(),
        "team_only_assignment": st.booleans(),
    }
)


def engine(
    events: list[Any],
    calendar: dict[str, Any] | None,
    as_of: datetime | None,
    strict: bool,
    rules: dict[str, Any],
) -> dict[str, Any]:
    cal: Any = None
    if calendar is not None:
        if "default" in calendar:
            cal = me.TeamCalendars.from_dict(calendar)
        else:
            cal = me.BusinessCalendar.from_dict(calendar)
    m = me.compute_metrics(
        events, calendar=cal, as_of=as_of, strict=strict, rules=me.Rules(**rules)
    )
    out = m.to_dict(absent="null")
    del out["resource_type"]
    out["skipped_events"] = m.skipped_events
    return out


def compare(
    events: list[Any],
    calendar: dict[str, Any] | None = None,
    as_of: datetime | None = None,
    strict: bool = True,
    rules: dict[str, Any] | None = None,
) -> None:
    rules = rules or {}
    try:
        expected = ref_compute(events, calendar=calendar, as_of=as_of, strict=strict, rules=rules)
    except RefError as error:
        expected_error: RefError | None = error
    else:
        expected_error = None
    try:
        got = engine(events, calendar, as_of, strict, rules)
    except me.MetricsEngineError as error:
        engine_error: me.MetricsEngineError | None = error
    else:
        engine_error = None
    if engine_error is not None:
        assert expected_error is not None, f"engine raised {engine_error}, reference did not"
        if strict:  # in lenient mode the two may report different ones of several errors
            assert engine_error.index == expected_error.index, (
                str(engine_error),
                str(expected_error),
            )
        return
    assert expected_error is None, f"reference raised {expected_error}, engine did not"
    for name, value in expected.items():
        assert got[name] == value, f"{name}: engine {got[name]!r}, reference {value!r}"


@given(events=event_streams(), rules=rules_strategy)
def test_calendar_time_fields_agree(events: list[dict[str, Any]], rules: dict[str, Any]) -> None:
    compare(events, rules=rules)


@given(events=event_streams(max_events=15), rules=rules_strategy, data=st.data())
def test_fields_agree_at_any_as_of(
    events: list[dict[str, Any]], rules: dict[str, Any], data: st.DataObject
) -> None:
    first = datetime.fromisoformat(events[0]["at"]).timestamp()
    offset = data.draw(st.integers(-3600, 30 * 86400))
    compare(events, as_of=datetime.fromtimestamp(int(first) + offset, UTC), rules=rules)


@given(events=event_streams(max_events=12), calendar=calendars(), rules=rules_strategy)
def test_business_fields_agree(
    events: list[dict[str, Any]], calendar: dict[str, Any], rules: dict[str, Any]
) -> None:
    compare(events, calendar=calendar, rules=rules)


@given(events=event_streams(max_events=12), calendar=team_calendars())
def test_team_calendar_fields_agree(events: list[dict[str, Any]], calendar: dict[str, Any]) -> None:
    compare(events, calendar=calendar)


@given(events=event_streams(), seed=st.integers(0, 2**32), strict=st.booleans())
def test_shuffled_and_broken_streams_agree(
    events: list[dict[str, Any]], seed: int, strict: bool
) -> None:
    events = break_stream(events, random.Random(seed))
    compare(events, strict=strict)
