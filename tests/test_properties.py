"""Hypothesis properties of the replay (STYLE.md), on streams from metrics_engine.testing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._events import parse_instant
from metrics_engine.testing import calendars, event_streams, team_calendars

TIMESTAMPS = [name for name in me.FIELDS if name.endswith("_at")]
COUNTS = [
    "reopen_count",
    "priority_change_count",
    "sla_change_count",
    "agent_reply_count",
    "requester_reply_count",
    "assignee_change_count",
    "team_change_count",
    "agent_touch_count",
    "agent_calendar_wait_time",
    "customer_calendar_wait_time",
]
PAIRS = [
    ("resolution_calendar_time", "resolution_business_time"),
    ("average_calendar_response_time", "average_business_response_time"),
    ("agent_first_calendar_response_time", "agent_first_business_response_time"),
    ("agent_calendar_wait_time", "agent_business_wait_time"),
    ("customer_calendar_wait_time", "customer_business_wait_time"),
]
ALWAYS_OPEN = {
    "timezone": "UTC",
    "week": {
        day: [["00:00", "00:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}
rules_strategy = st.builds(
    me.Rules,
    resolution_time=st.sampled_from(["cumulative", "elapsed"]),
    reopen_on_customer_message=st.booleans(),
    team_only_assignment=st.booleans(),
)


def instants(events: list[dict[str, Any]]) -> list[int]:
    return [parse_instant(event["at"], "at") for event in events]


@given(events=event_streams(), rules=rules_strategy)
def test_deterministic(events: list[dict[str, Any]], rules: me.Rules) -> None:
    assert me.compute_metrics(events, rules=rules) == me.compute_metrics(events, rules=rules)


@given(events=event_streams(), rules=rules_strategy, extra=st.integers(0, 10**6))
def test_basic_invariants(events: list[dict[str, Any]], rules: me.Rules, extra: int) -> None:
    times = instants(events)
    as_of = max(times) + extra
    m = me.compute_metrics(events, rules=rules, as_of=datetime.fromtimestamp(as_of, UTC))
    for name in COUNTS:
        assert getattr(m, name) >= 0, name
    assert m.was_reopened == (m.reopen_count > 0)
    created = times[0]
    for name in TIMESTAMPS:
        value = getattr(m, name)
        if value is not None:
            assert created <= value.timestamp() <= as_of, name
    # The two waits never overlap, so together they fit in the case's age.
    assert m.agent_calendar_wait_time + m.customer_calendar_wait_time <= as_of - created
    if m.resolution_at is None:
        assert m.resolution_calendar_time is None
        assert not m.is_first_contact_resolved
    else:
        assert m.resolution_calendar_time is not None
        assert 0 <= m.resolution_calendar_time <= m.resolution_at.timestamp() - created
        assert m.replies_to_resolution is not None
    if m.is_first_contact_resolved:
        assert m.reopen_count == 0
        assert m.agent_reply_count >= 1
    to_dict = m.to_dict()
    assert list(to_dict) == [*me.FIELDS, "resource_type"]


@given(events=event_streams(), rules=rules_strategy, data=st.data())
def test_as_of_equals_the_cut_stream(
    events: list[dict[str, Any]], rules: me.Rules, data: st.DataObject
) -> None:
    times = instants(events)
    cut = data.draw(st.sampled_from(times))
    as_of = datetime.fromtimestamp(cut, UTC)
    whole = me.compute_metrics(events, rules=rules, as_of=as_of)
    prefix = [event for event, at in zip(events, times, strict=True) if at <= cut]
    assert me.compute_metrics(prefix, rules=rules, as_of=as_of) == whole


@given(events=event_streams(), rules=rules_strategy, data=st.data())
def test_split_and_restore_equals_the_whole_replay(
    events: list[dict[str, Any]], rules: me.Rules, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(1, len(events)), max_size=3)))
    replay = me.CaseReplay(rules=rules)
    start = 0
    for cut in [*cuts, len(events)]:
        for event in events[start:cut]:
            replay.apply(event)
        replay = me.CaseReplay.from_state(json.loads(json.dumps(replay.to_state())))
        start = max(start, cut)
    assert replay.metrics() == me.compute_metrics(events, rules=rules)


@given(events=event_streams(max_events=12), calendar=calendars() | team_calendars())
def test_split_and_restore_at_every_cut_point_with_a_calendar(
    events: list[dict[str, Any]], calendar: dict[str, Any]
) -> None:
    cal: Any
    if "default" in calendar:
        cal = me.TeamCalendars.from_dict(calendar)
    else:
        cal = me.BusinessCalendar.from_dict(calendar)
    whole = me.compute_metrics(events, calendar=cal)
    for cut in range(1, len(events)):
        replay = me.CaseReplay(calendar=cal)
        for event in events[:cut]:
            replay.apply(event)
        saved = json.loads(json.dumps(replay.to_state()))
        restored = me.CaseReplay.from_state(saved, calendar=cal)
        for event in events[cut:]:
            restored.apply(event)
        assert restored.metrics() == whole, f"cut after event {cut}"


@given(events=event_streams(max_events=15), calendar=calendars() | team_calendars())
def test_business_never_exceeds_calendar(
    events: list[dict[str, Any]], calendar: dict[str, Any]
) -> None:
    if "default" in calendar:
        cal: Any = me.TeamCalendars.from_dict(calendar)
    else:
        cal = me.BusinessCalendar.from_dict(calendar)
    m = me.compute_metrics(events, calendar=cal)
    for calendar_name, business_name in PAIRS:
        calendar_value = getattr(m, calendar_name)
        business_value = getattr(m, business_name)
        assert (calendar_value is None) == (business_value is None), business_name
        if calendar_value is not None:
            assert 0 <= business_value <= calendar_value, business_name


@given(events=event_streams())
def test_always_open_calendar_gives_calendar_time(events: list[dict[str, Any]]) -> None:
    m = me.compute_metrics(events, calendar=me.BusinessCalendar.from_dict(ALWAYS_OPEN))
    for calendar_name, business_name in PAIRS:
        assert getattr(m, calendar_name) == getattr(m, business_name), business_name


@given(events=event_streams())
def test_no_calendar_means_no_business_fields(events: list[dict[str, Any]]) -> None:
    m = me.compute_metrics(events)
    assert all(getattr(m, business) is None for _, business in PAIRS)


def _mutate(events: list[dict[str, Any]], data: st.DataObject) -> list[Any]:
    events = [dict(event) for event in events]
    how = data.draw(st.sampled_from(["swap", "drop", "corrupt", "duplicate", "junk"]))
    i = data.draw(st.integers(0, len(events) - 1))
    if how == "swap" and len(events) > 1:
        j = data.draw(st.integers(0, len(events) - 1))
        events[i], events[j] = events[j], events[i]
    elif how == "drop":
        del events[i]
    elif how == "corrupt":
        key = data.draw(
            st.sampled_from(["case", "event", "at", "actor", "id", "fields", "changes"])
        )
        events[i][key] = data.draw(
            st.none()
            | st.booleans()
            | st.floats(allow_nan=False)
            | st.text(max_size=5)
            | st.integers()
            | st.just({"role": "agent"})
            | st.just("2026-01-01T00:00:00")
        )
    elif how == "duplicate":
        copy = dict(events[i])
        copy["id"] = "e0"
        events.append(copy)
    else:
        events.insert(i, data.draw(st.none() | st.integers() | st.text(max_size=5) | st.just([])))
    return events


@given(events=event_streams(), data=st.data(), strict=st.booleans())
def test_invalid_streams_raise_only_library_errors(
    events: list[dict[str, Any]], data: st.DataObject, strict: bool
) -> None:
    mutated = _mutate(events, data)
    try:
        me.compute_metrics(mutated, strict=strict)
    except me.MetricsEngineError as error:
        problem = error
    else:
        return
    assert "\n" not in str(problem)
    assert problem.index is None or 0 <= problem.index < len(mutated)


@given(events=event_streams(), strict=st.booleans())
def test_replay_and_compute_agree(events: list[dict[str, Any]], strict: bool) -> None:
    assume(events)
    replay = me.CaseReplay(strict=strict)
    for event in events:
        replay.apply(event)
    assert replay.metrics() == me.compute_metrics(events, strict=strict)
