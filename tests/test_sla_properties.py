"""Properties of the SLA clocks on generated streams and policies (docs/sla.md).

- ``breached_at`` is set exactly when the elapsed time exceeded the goal, or reached it
  while the clock was running;
- a clock's ``elapsed_seconds`` never exceeds the calendar time since it started, and its
  business-hours elapsed time never exceeds its calendar-hours one;
- a replay saved and restored at any point, with any policy, gives what that policy gives
  on the whole stream (a saved state holds no policy);
- a policy never changes the 41 fields, and whether a stream is valid does not depend on it
  (but for the ``sla`` values a policy set refuses).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine.testing import calendars, event_streams, sla_policies, team_calendars


def policy_of(policy: dict[str, Any]) -> me.SlaPolicy | me.SlaPolicies:
    if "targets" in policy:
        return me.SlaPolicy.from_dict(policy)
    return me.SlaPolicies.from_dict(policy)


def calendar_of(calendar: dict[str, Any]) -> me.BusinessCalendar | me.TeamCalendars:
    if "default" in calendar:
        return me.TeamCalendars.from_dict(calendar)
    return me.BusinessCalendar.from_dict(calendar)


def outcome(events: list[dict[str, Any]], **options: Any) -> Any:
    """The metrics, or the error (its index and message) that refuses the stream."""
    try:
        return me.compute_metrics(events, **options)
    except me.MetricsEngineError as error:
        return ("error", error.index, str(error))


def epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


#: One target per clock type and no priority: the target of a clock never changes, so the
#: breach can be told from the elapsed time alone.
@st.composite
def fixed_policies(draw: st.DrawFn, *, hours: str) -> me.SlaPolicy:
    goals = st.one_of(st.sampled_from([60, 600, 3600, 7200, 86400]), st.integers(1, 200_000))
    types = draw(
        st.lists(
            st.sampled_from(["FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"]),
            min_size=1,
            unique=True,
        )
    )
    targets = [
        {"type": kind, "goal_in_seconds": draw(goals), "operational_hours": hours} for kind in types
    ]
    statuses = draw(st.sampled_from([{}, {"On hold": True}, {"OPEN": False}]))
    return me.SlaPolicy.from_dict({"targets": targets, "statuses": statuses})


@given(
    events=event_streams(max_events=20, sla=True),
    hours=st.sampled_from(["CALENDAR_HOURS", "BUSINESS_HOURS"]),
    calendar=calendars(holidays=False),
    data=st.data(),
)
def test_breached_exactly_when_the_goal_was_exceeded_or_reached_running(
    events: list[dict[str, Any]], hours: str, calendar: dict[str, Any], data: st.DataObject
) -> None:
    policy = data.draw(fixed_policies(hours=hours))
    m = me.compute_metrics(events, calendar=calendar_of(calendar), sla=policy)
    for record in m.sla.metrics:
        assert record.target is not None
        goal = record.target.goal_in_seconds
        elapsed = record.elapsed_seconds
        due = epoch(record.due_at)
        if elapsed > goal or (elapsed == goal and record.stage == "ACTIVE"):
            assert record.is_breached, record
        elif elapsed < goal:
            assert not record.is_breached, record
        elif record.stage == "PAUSED":  # at the goal, paused: breached iff it ran out running
            assert due is not None
            assert record.is_breached == (due < epoch(record.last_paused_at)), record  # type: ignore[operator]
        elif record.is_breached:  # completed at the goal: it ran out before completing
            assert due is not None
            assert due < epoch(record.completed_at), record  # type: ignore[operator]
        else:  # in time: it ran out at the completion (or at the pause just before it)
            assert due in (epoch(record.completed_at), epoch(record.last_paused_at)), record
        # with one target, the breach is when the goal ran out, or a resume after that
        if record.is_breached and due is not None:
            assert epoch(record.breached_at) >= due, record  # type: ignore[operator]


@given(
    events=event_streams(max_events=20, sla=True),
    policy=sla_policies(),
    calendar=st.one_of(calendars(holidays=False), team_calendars()),
    data=st.data(),
)
def test_records_keep_the_invariants(
    events: list[dict[str, Any]], policy: dict[str, Any], calendar: Any, data: st.DataObject
) -> None:
    later = data.draw(st.sampled_from([0, 1, 3600, 5 * 86400]))
    replay = me.CaseReplay(calendar=calendar_of(calendar), sla=policy_of(policy))
    for event in events:
        replay.apply(event)
    assert replay.last_at is not None
    as_of = epoch(replay.last_at) + later  # type: ignore[operator]
    sla = replay.metrics(as_of=datetime.fromtimestamp(as_of, UTC)).sla
    counts = dict.fromkeys(("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"), 0)
    for record in sla.metrics:
        started = epoch(record.started_at)
        assert started is not None
        assert 0 <= record.elapsed_seconds <= as_of - started  # never more than the time since
        assert record.is_breached == (record.breached_at is not None)
        if record.breached_at is not None:
            assert started < epoch(record.breached_at) <= as_of  # type: ignore[operator]
            counts[record.metric_type] += 1
        if record.target is None:
            assert record.remaining_seconds is None
            assert record.due_at is None
        else:
            assert (
                record.remaining_seconds == record.target.goal_in_seconds - record.elapsed_seconds
            )
            if record.remaining_seconds < 0:
                assert record.is_breached
        assert (record.stage == "COMPLETED") == (record.completed_at is not None)
        if record.stage == "PAUSED":
            assert record.last_paused_at is not None
    assert sla.breach_count == counts
    dues = [
        record.due_at
        for record in sla.metrics
        if record.stage == "ACTIVE" and not record.is_breached and record.due_at is not None
    ]
    assert sla.next_breach_at == (min(dues) if dues else None)


@given(
    events=event_streams(max_events=20, sla=True),
    calendar=st.one_of(calendars(holidays=False), team_calendars()),
    goals=st.lists(st.integers(60, 300_000), min_size=3, max_size=3),
)
def test_business_elapsed_never_exceeds_calendar_elapsed(
    events: list[dict[str, Any]], calendar: dict[str, Any], goals: list[int]
) -> None:
    def policy(hours: str) -> me.SlaPolicy:
        kinds = ("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME")
        targets = [
            {"type": kind, "goal_in_seconds": goal, "operational_hours": hours}
            for kind, goal in zip(kinds, goals, strict=True)
        ]
        return me.SlaPolicy.from_dict({"targets": targets})

    cal = calendar_of(calendar)
    business = me.compute_metrics(events, calendar=cal, sla=policy("BUSINESS_HOURS")).sla
    wall = me.compute_metrics(events, calendar=cal, sla=policy("CALENDAR_HOURS")).sla
    assert [(r.metric_type, r.cycle) for r in business.metrics] == [
        (r.metric_type, r.cycle) for r in wall.metrics
    ]
    for open_hours, every_second in zip(business.metrics, wall.metrics, strict=True):
        assert open_hours.elapsed_seconds <= every_second.elapsed_seconds
        assert open_hours.started_at == every_second.started_at
        assert open_hours.stage == every_second.stage
        # a goal used up in open seconds is used up in calendar seconds too
        if open_hours.is_breached and every_second.breached_at is not None:
            assert every_second.breached_at <= open_hours.breached_at  # type: ignore[operator]


@given(
    events=event_streams(max_events=14, sla=True),
    built_with=st.one_of(st.none(), sla_policies(business=False)),
    read_with=sla_policies(business=False, unknown_sla=("none", "default", "error")),
)
def test_split_and_restore_at_every_cut_gives_the_whole_stream_clocks(
    events: list[dict[str, Any]], built_with: Any, read_with: dict[str, Any]
) -> None:
    """Saved after any number of events by a replay with one policy (or none), restored
    with another: the clocks are what the other gives on the whole stream."""
    whole = outcome(events, sla=policy_of(read_with))
    for cut in range(len(events) + 1):
        first = me.CaseReplay(sla=None if built_with is None else policy_of(built_with))
        try:
            for event in events[:cut]:
                first.apply(event)
        except me.MetricsEngineError:
            continue  # the first policy refused the stream before the cut
        state = json.loads(json.dumps(first.to_state()))
        try:
            restored = me.CaseReplay.from_state(state, sla=policy_of(read_with))
            for event in events[cut:]:
                restored.apply(event)
            got: Any = restored.metrics()
        except me.MetricsEngineError as error:
            got = ("error", error.index, str(error))
        if isinstance(whole, tuple):
            assert got == whole, cut
        else:
            assert not isinstance(got, tuple), (cut, got)
            assert got.sla == whole.sla, cut
            assert got == whole, cut


def test_a_saved_state_holds_no_policy() -> None:
    events = [
        {"case": 5, "event": "created", "at": "2026-03-09T09:00:00Z",
         "actor": {"id": 1, "role": "customer"}, "fields": {"sla": "gold", "priority": "HIGH"}},
        {"case": 5, "event": "message", "at": "2026-03-09T09:40:00Z",
         "actor": {"id": 5, "role": "agent"}},
    ]  # fmt: skip
    gold = {"targets": [{"type": "FIRST_REPLY_TIME", "goal_in_seconds": 60,
                         "operational_hours": "CALENDAR_HOURS"}]}  # fmt: skip
    states = []
    for sla in (
        None,
        me.SlaPolicy.from_dict(gold),
        me.SlaPolicies.from_dict({"policies": {}, "unknown_sla": "none"}),
    ):
        replay = me.CaseReplay(sla=sla)
        for event in events:
            replay.apply(event)
        states.append(replay.to_state())
    assert states[0] == states[1] == states[2]
    assert "goal_in_seconds" not in json.dumps(states[0])


@given(
    events=event_streams(max_events=20, sla=True),
    policy=sla_policies(unknown_sla=("none", "default", "error")),
    calendar=calendars(holidays=False),
    lenient=st.booleans(),
)
def test_a_policy_never_changes_the_41_fields(
    events: list[dict[str, Any]], policy: dict[str, Any], calendar: Any, lenient: bool
) -> None:
    options = {"calendar": calendar_of(calendar), "strict": not lenient}
    without = outcome(events, **options)
    with_policy = outcome(events, sla=policy_of(policy), **options)
    if isinstance(without, tuple):  # an invalid stream is invalid with any policy
        assert with_policy == without
        return
    if isinstance(with_policy, tuple):  # only an sla value the set refuses
        assert "has no policy" in with_policy[2], with_policy
        return
    assert with_policy.to_dict() == without.to_dict()
    assert with_policy.sla is not None
    assert without.sla is None


@given(
    events=event_streams(max_events=12, sla=True),
    policy=sla_policies(business=False),
    data=st.data(),
)
def test_batch_gives_each_case_its_own_clocks(
    events: list[dict[str, Any]], policy: dict[str, Any], data: st.DataObject
) -> None:
    other = [{**event, "case": "other"} for event in events[: data.draw(st.integers(1, 3))]]
    sla = policy_of(policy)
    result = me.compute_batch([*events, *other], sla=sla)
    assert [entry["case_id"] for entry in result.sla] == [row["case_id"] for row in result.rows]
    assert result.rows == me.compute_batch([*events, *other]).rows
    for entry, group in zip(result.sla, (events, other), strict=False):
        alone = me.compute_metrics(group, sla=sla, as_of=result.as_of).sla
        assert {key: value for key, value in entry.items() if key != "case_id"} == alone.to_dict()


@given(calendar=calendars(), start=st.integers(1_500_000_000, 1_900_000_000), data=st.data())
def test_epoch_add_business_seconds_is_add_business_seconds(
    calendar: dict[str, Any], start: int, data: st.DataObject
) -> None:
    cal = me.BusinessCalendar.from_dict(calendar)
    n = data.draw(st.one_of(st.integers(0, 100), st.integers(0, 10**6), st.integers(0, 10**9)))
    try:
        expected: Any = epoch(cal.add_business_seconds(datetime.fromtimestamp(start, UTC), n))
    except me.CalendarError as error:
        expected = str(error)
    try:
        got: Any = cal.epoch_add_business_seconds(start, n)
    except me.CalendarError as error:
        got = str(error)
    assert got == expected


def test_epoch_add_business_seconds_searches_ten_years_exactly() -> None:
    """Ten calendar years from 2023-03-01 hold 3653 days: an open hour on 2033-02-28 is
    within them (though past the 3651 days every ten years hold), the next day is not."""
    cal = me.BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {}, "dates": {"2033-02-28": [["09:00", "10:00"]],
                                                  "2033-03-01": [["00:00", "01:00"]]}}
    )  # fmt: skip
    start = epoch(datetime(2023, 3, 1, tzinfo=UTC))
    assert start is not None
    assert cal.epoch_add_business_seconds(start, 3600) == epoch(
        datetime(2033, 2, 28, 10, tzinfo=UTC)
    )
    for n in (3601, 7200):
        with pytest.raises(me.CalendarError, match="within ten calendar years, found 3600"):
            cal.epoch_add_business_seconds(start, n)
    for bad in (1.5, True, "0"):
        with pytest.raises(me.CalendarError, match="whole epoch seconds"):
            cal.epoch_add_business_seconds(bad, 1)  # type: ignore[arg-type]
    with pytest.raises(me.CalendarError, match="whole number of seconds"):
        cal.epoch_add_business_seconds(start, -1)
