"""The SLA wiring of the replay: ``sla_active`` on statuses (both decode paths), the checks
made when events are taken, ``sla=`` on every entry point, and the SLA record in saved states
(docs/sla.md, docs/state.md)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given

import metrics_engine as me
from metrics_engine._events import Status, parse_event
from metrics_engine._fast import _fast_event
from metrics_engine.testing import event_streams

GOLD = {
    "targets": [
        {
            "type": "FIRST_REPLY_TIME",
            "goal_in_seconds": 3600,
            "operational_hours": "CALENDAR_HOURS",
        },
        {
            "type": "RESOLUTION_TIME",
            "goal_in_seconds": 86400,
            "operational_hours": "CALENDAR_HOURS",
        },
    ]
}
SET = {"policies": {"gold": GOLD, "silver": {"targets": []}}}
OFFICE = {"targets": [{"type": "FIRST_REPLY_TIME", "goal_in_seconds": 60,
                       "operational_hours": "BUSINESS_HOURS"}]}  # fmt: skip
CUSTOMER = {"id": 1, "role": "customer"}
AGENT = {"id": 5, "role": "agent"}
VENDOR = {"name": "Waiting on vendor", "type": "OPEN", "sla_active": False}


def created(at: str = "2026-03-09T09:00:00Z", **fields: Any) -> dict[str, Any]:
    return {"case": 8, "event": "created", "at": at, "actor": CUSTOMER, "fields": fields}


def update(at: str, **changes: Any) -> dict[str, Any]:
    return {"case": 8, "event": "update", "at": at, "actor": AGENT, "changes": changes}


def message(at: str, actor: dict[str, Any] = AGENT) -> dict[str, Any]:
    return {"case": 8, "event": "message", "at": at, "actor": actor}


EVENTS = [
    created(sla="gold"),
    update("2026-03-09T09:10:00Z", status=VENDOR),
    message("2026-03-09T10:00:00Z", CUSTOMER),
    update("2026-03-09T10:30:00Z", status="OPEN"),
    message("2026-03-09T10:40:00Z"),
    update("2026-03-09T11:00:00Z", status="COMPLETED"),
]


# --------------------------------------------------------------------------- sla_active


def test_a_status_object_carries_its_sla_active() -> None:
    event = parse_event(update("2026-03-09T09:10:00Z", status=VENDOR))
    assert event is not None
    assert event.values["status"] == Status("Waiting on vendor", "OPEN", False)
    bare = parse_event(update("2026-03-09T09:10:00Z", status="pending"))
    assert bare is not None
    assert bare.values["status"] == Status("PENDING", "PENDING", None)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("no", '"no"'), (None, "null"), (0, "0"), (1.0, "1.0"), ([], "a list"), ({}, "an object")],
)
def test_sla_active_is_true_or_false(value: Any, shown: str) -> None:
    status = {"name": "Waiting on vendor", "type": "OPEN", "sla_active": value}
    events = [created(), update("2026-03-09T09:10:00Z", status=status)]
    with pytest.raises(me.EventError) as caught:
        me.compute_metrics(events)
    assert (caught.value.case, caught.value.index) == (8, 1)
    assert str(caught.value) == (
        f'case 8, event 1: status "Waiting on vendor": sla_active expected true or false, '
        f"found {shown}"
    )


def test_one_status_name_has_one_sla_active_whatever_the_options() -> None:
    events = [
        created(status={"name": "Triage", "type": "NEW", "sla_active": False}),
        update("2026-03-09T09:10:00Z", status="OPEN"),
        update("2026-03-09T09:20:00Z", status={"name": "Triage", "type": "NEW"}),
    ]
    expected = 'case 8, event 2: status "Triage": sla_active true, but false at event 0'
    mapped = me.SlaPolicy.from_dict({**GOLD, "statuses": {"Triage": True}})
    for sla in (None, me.SlaPolicy.from_dict(GOLD), mapped):
        with pytest.raises(me.SequenceError) as caught:
            me.compute_metrics(events, sla=sla)
        assert str(caught.value) == expected
        with pytest.raises(me.SequenceError) as caught:  # also after as_of
            me.compute_metrics(events, sla=sla, as_of="2026-03-09T09:15:00Z")
        assert str(caught.value) == expected


def test_the_automatic_reopen_is_a_bare_open() -> None:
    events = [
        created(status={"name": "OPEN", "type": "OPEN", "sla_active": False}),
        update("2026-03-09T09:10:00Z", status="COMPLETED"),
        message("2026-03-09T09:20:00Z", CUSTOMER),
    ]
    rules = me.Rules(reopen_on_customer_message=True)
    with pytest.raises(me.SequenceError, match='status "OPEN": sla_active true, but false at'):
        me.compute_metrics(events, rules=rules)
    assert me.compute_metrics(events).reopen_count == 0  # without the rule: no reopen


def test_a_duplicate_with_another_sla_active_is_another_event() -> None:
    first = {**update("2026-03-09T09:10:00Z", status=VENDOR), "id": "u1"}
    again = copy.deepcopy(first)
    again["changes"]["status"]["sla_active"] = True
    with pytest.raises(me.SequenceError, match="field 'id'"):
        me.compute_metrics([created(), first, again])
    assert me.compute_metrics([created(), first, copy.deepcopy(first)]).status_update_at


def lines_of(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(event).encode() for event in events]


def test_the_fast_decode_path_builds_the_same_statuses() -> None:
    for event in EVENTS:
        line = json.dumps(event).encode()
        assert _fast_event(line, {}) == parse_event(event)
    bad = lines_of([created(), update("2026-03-09T09:10:00Z", status={**VENDOR, "sla_active": 0})])
    assert _fast_event(bad[1], {}) is None  # left to the careful parser, which words it
    for lines in (bad, lines_of([*EVENTS, update("2026-03-09T12:00:00Z", status=VENDOR | {
            "sla_active": True})])):  # fmt: skip
        with pytest.raises(me.MetricsEngineError) as fast:
            me.compute_metrics_from_lines(lines)
        with pytest.raises(me.MetricsEngineError) as careful:
            me.compute_metrics([json.loads(line) for line in lines])
        assert str(fast.value) == str(careful.value)


@given(event_streams(sla=True))
def test_both_decode_paths_agree_on_streams_with_sla_values(events: list[dict[str, Any]]) -> None:
    assert me.compute_metrics_from_lines(lines_of(events)) == me.compute_metrics(events)


# --------------------------------------------------------------------------- entry points


def test_business_hours_need_a_calendar_before_any_event_is_read() -> None:
    office = me.SlaPolicy.from_dict(OFFICE)
    message = "sla policy has BUSINESS_HOURS targets but no calendar was given"
    with pytest.raises(me.SlaPolicyError, match=message):
        me.CaseReplay(sla=office)
    with pytest.raises(me.SlaPolicyError, match=message):
        me.compute_metrics(iter(()), sla=office)
    with pytest.raises(me.SlaPolicyError, match=message):
        me.compute_batch([{"not": "an event"}], sla=office)
    state = me.CaseReplay().to_state()
    with pytest.raises(me.SlaPolicyError, match=message):
        me.CaseReplay.from_state(state, sla=office)


@pytest.mark.parametrize("bad", [GOLD, "gold", 3])
def test_sla_is_a_policy_a_policy_set_or_none(bad: Any) -> None:
    with pytest.raises(me.MetricsEngineError, match="sla: expected a SlaPolicy, a SlaPolicies"):
        me.compute_metrics(EVENTS, sla=bad)


def test_unknown_sla_values_are_refused_by_the_event_that_sets_them() -> None:
    policies = me.SlaPolicies.from_dict(SET)
    events = [*EVENTS[:2], update("2026-03-09T09:20:00Z", sla=9), *EVENTS[2:]]
    replay = me.CaseReplay(sla=policies)
    for event in events[:2]:
        replay.apply(event)
    with pytest.raises(me.EventError) as caught:
        replay.apply(events[2])
    assert str(caught.value) == 'case 8, event 2: sla "9" has no policy (known: "gold", "silver")'
    # a failed apply changes nothing: the replay goes on as if it had not been given
    for event in events[3:]:
        replay.apply(event)
    assert replay.metrics() == me.compute_metrics(EVENTS, sla=policies)
    # not applied (after as_of): not refused
    m = me.compute_metrics(events, sla=policies, as_of="2026-03-09T09:15:00Z")
    assert m.sla is not None
    assert [r.metric_type for r in m.sla.metrics] == ["FIRST_REPLY_TIME", "RESOLUTION_TIME"]


def test_from_state_refuses_a_saved_value_the_new_set_does_not_know() -> None:
    replay = me.CaseReplay()
    for event in [*EVENTS[:2], update("2026-03-09T09:20:00Z", sla="platinum")]:
        replay.apply(event)
    state = replay.to_state()
    with pytest.raises(me.EventError) as caught:
        me.CaseReplay.from_state(state, sla=me.SlaPolicies.from_dict(SET))
    assert (caught.value.case, caught.value.index) == (8, 2)
    assert 'sla "platinum" has no policy' in str(caught.value)
    lenient = me.SlaPolicies.from_dict({**SET, "unknown_sla": "none"})
    assert me.CaseReplay.from_state(state, sla=lenient).metrics().sla is not None


def test_metrics_read_the_clocks_at_as_of() -> None:
    replay = me.CaseReplay(sla=me.SlaPolicy.from_dict(GOLD))
    for event in EVENTS[:3]:
        replay.apply(event)
    early = replay.metrics().sla
    late = replay.metrics(as_of="2026-03-09T12:00:00Z").sla
    assert early is not None
    assert late is not None
    # paused in "Waiting on vendor" since 09:10: nothing more elapses
    assert [r.elapsed_seconds for r in early.metrics] == [600, 600]
    assert [r.elapsed_seconds for r in late.metrics] == [600, 600]
    assert [r.stage for r in late.metrics] == ["PAUSED", "PAUSED"]
    assert replay.metrics().to_dict() == me.compute_metrics(EVENTS[:3]).to_dict()


# --------------------------------------------------------------------------- saved states


def saved_after(count: int, sla: Any = None) -> dict[str, Any]:
    replay = me.CaseReplay(sla=sla)
    for event in EVENTS[:count]:
        replay.apply(event)
    state: dict[str, Any] = json.loads(json.dumps(replay.to_state()))
    return state


def as_version_2(state: dict[str, Any]) -> dict[str, Any]:
    old = copy.deepcopy(state)
    old["version"] = 2
    del old["replay"]["status_sla_active"]
    for key in ("sla_conditions", "sla_cycles", "sla_deferred", "sla_status_active"):
        del old["case"][key]
    return old


def test_a_state_holds_the_sla_record_and_restores_exactly() -> None:
    state = saved_after(4)
    assert state["version"] == me.STATE_VERSION == 3
    case = state["case"]
    # created (09:00), vendor (09:10), OPEN (10:30): one row each, with the event's index
    assert [row[:5] for row in case["sla_conditions"]] == [
        [1773046800, 0, "NEW", True, False],
        [1773047400, 1, "Waiting on vendor", False, False],
        [1773052200, 3, "OPEN", True, False],
    ]
    assert case["sla_cycles"] == [[1773046800, 0, None, None, None]]  # the first reply cycle
    assert state["replay"]["status_sla_active"] == {
        "NEW": [True, 0],
        "Waiting on vendor": [False, 1],
        "OPEN": [True, 3],
    }
    assert me.CaseReplay.from_state(state).to_state() == state


def test_a_conflict_across_the_save_is_still_found() -> None:
    restored = me.CaseReplay.from_state(saved_after(2))
    with pytest.raises(me.SequenceError, match="sla_active true, but false at event 1"):
        restored.apply(update("2026-03-09T12:00:00Z", status={"name": "Waiting on vendor",
                                                              "type": "OPEN"}))  # fmt: skip


def test_states_of_version_2_restore_without_sla_clocks() -> None:
    old = as_version_2(saved_after(3))
    with pytest.raises(me.StateError, match="expected version 3 to read SLA clocks"):
        me.CaseReplay.from_state(old, sla=me.SlaPolicy.from_dict(GOLD))
    restored = me.CaseReplay.from_state(old)
    for event in EVENTS[3:]:
        restored.apply(event)
    assert restored.metrics() == me.compute_metrics(EVENTS)
    again = restored.to_state()
    assert again["version"] == 3
    assert again["case"]["sla_conditions"] is None  # still no record: none was kept
    assert me.CaseReplay.from_state(again).to_state() == again
    with pytest.raises(me.StateError, match="expected version 3 to read SLA clocks"):
        me.CaseReplay.from_state(again, sla=me.SlaPolicy.from_dict(GOLD))
    # nothing applied: a version 2 state is a fresh replay, which records everything
    empty = me.CaseReplay.from_state(as_version_2(saved_after(0)), sla=me.SlaPolicy.from_dict(GOLD))
    for event in EVENTS:
        empty.apply(event)
    assert empty.metrics() == me.compute_metrics(EVENTS, sla=me.SlaPolicy.from_dict(GOLD))


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("case.sla_conditions", "rows", "'case.sla_conditions'"),
        ("case.sla_conditions.0", [1773046800, 0, "NEW", True], "'case.sla_conditions[0]'"),
        ("case.sla_conditions.1.3", "no", "'case.sla_conditions[1][3]'"),
        ("case.sla_conditions.1.0", 1773046799, "'case.sla_conditions[1][0]'"),
        ("case.sla_conditions.2.0", 1773047000, "'case.sla_conditions[2]'"),
        ("case.sla_conditions.1.1", 9, "'case.sla_conditions[1]'"),
        ("case.sla_conditions.2.3", False, "'case.sla_conditions[2]'"),
        ("case.sla_conditions.2.6", "silver", "'case.sla_conditions[2][6]'"),
        ("case.sla_conditions.2.5", 2.5, "'case.sla_conditions[2][5]'"),
        ("case.sla_cycles.0", [1773046800, 7, None, None, None], "'case.sla_cycles[0]'"),
        ("case.sla_cycles.0.3", "reply", "'case.sla_cycles[0][2]'"),
        ("case.sla_cycles", None, "'case.sla_cycles'"),
        ("case.sla_deferred", True, "'case.sla_deferred'"),
        ("case.sla_status_active", False, "'case.sla_conditions[2]'"),
        ("replay.status_sla_active.OPEN", [1, 3], "'replay.status_sla_active[\"OPEN\"]'"),
        ("replay.status_sla_active.OPEN", [True, 9], "'replay.status_sla_active[\"OPEN\"]'"),
        ("replay.status_sla_active.Closed", [True, 0], "'replay.status_sla_active[\"Closed\"]'"),
        ("replay.status_sla_active.OPEN", [False, 3], "'case.sla_conditions[2]'"),
    ],
)
def test_a_wrong_sla_record_is_refused_naming_its_key(path: str, value: Any, named: str) -> None:
    state = saved_after(4)
    *keys, last = path.split(".")
    node: Any = state
    for key in keys:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    with pytest.raises(me.StateError) as caught:
        me.CaseReplay.from_state(state)
    assert named in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)
