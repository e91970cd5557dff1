"""The sequence rules of a replay (SPEC sections 2, 5 and 7) and its interface."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import metrics_engine as me

CASE = 1042


def created(at: str = "2026-03-02T09:00:00Z", **extra: Any) -> dict[str, Any]:
    event = {"case": CASE, "event": "created", "at": at, "actor": {"id": 17, "role": "customer"}}
    event.update(extra)
    return event


def message(at: str, who: int | str = 5, role: str = "agent", **extra: Any) -> dict[str, Any]:
    event = {"case": CASE, "event": "message", "at": at, "actor": {"id": who, "role": role}}
    event.update(extra)
    return event


def update(at: str, changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    event = {"case": CASE, "event": "update", "at": at, "changes": changes}
    event.update(extra)
    return event


def raises(
    events: list[Any], index: int | None, match: str, **kwargs: Any
) -> me.MetricsEngineError:
    with pytest.raises(me.MetricsEngineError, match=match) as caught:
        me.compute_metrics(events, **kwargs)
    error = caught.value
    assert error.index == index
    assert error.case == CASE
    assert "\n" not in str(error)
    return error


# --------------------------------------------------------------------------- order


def test_decreasing_at_raises_in_strict_mode() -> None:
    events = [created(), message("2026-03-02T10:00:00Z"), message("2026-03-02T09:59:59Z")]
    error = raises(events, 2, "expected a time at or after 2026-03-02T10:00:00")
    assert isinstance(error, me.SequenceError)


def test_lenient_mode_sorts_by_at_keeping_stream_order_for_ties() -> None:
    events = [
        created(),
        message("2026-03-02T10:00:00Z", who=17, role="customer"),
        message("2026-03-02T09:30:00Z", who=5),  # the agent replied first
        update("2026-03-02T09:30:00Z", {"status": "COMPLETED"}),  # then resolved, same second
    ]
    m = me.compute_metrics(events, strict=False)
    # Sorted: created 09:00, reply 09:30, COMPLETED 09:30, customer post 10:00.
    assert m.agent_first_calendar_response_time == 1800
    assert m.resolution_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert m.replies_to_resolution == 1
    assert m.last_reply_by_customer_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_lenient_sorting_puts_created_first_in_its_second() -> None:
    events = [
        message("2026-03-02T09:00:00Z", who=5),
        created(),  # same second, listed after: still applied first
    ]
    m = me.compute_metrics(events, strict=False)
    assert m.agent_reply_count == 1
    assert m.agent_first_calendar_response_time == 0
    raises(events, 0, "first event to be created")


def test_replay_raises_on_decrease_in_both_modes() -> None:
    for strict in (True, False):
        replay = me.CaseReplay(strict=strict)
        replay.apply(created())
        replay.apply(message("2026-03-02T10:00:00Z"))
        with pytest.raises(me.SequenceError) as caught:
            replay.apply(message("2026-03-02T09:00:00Z"))
        assert caught.value.index == 2


def test_failed_apply_leaves_the_replay_unchanged() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    replay.apply(message("2026-03-02T10:00:00Z"))
    before = replay.to_state()
    with pytest.raises(me.SequenceError):
        replay.apply(message("2026-03-02T09:00:00Z", id="late"))
    with pytest.raises(me.EventError):
        replay.apply(message("2026-03-02T11:00:00", id="naive"))
    after = replay.to_state()
    assert after["case"] == before["case"]
    assert after["replay"]["seen"] == before["replay"]["seen"]


# --------------------------------------------------------------------------- created


def test_first_event_must_be_created() -> None:
    raises([message("2026-03-02T10:00:00Z"), created()], 0, "first event to be created")


def test_created_only_once() -> None:
    raises([created(), created("2026-03-02T09:05:00Z")], 1, "one created event")


def test_empty_stream_raises() -> None:
    with pytest.raises(me.MetricsEngineError, match="created"):
        me.compute_metrics([])


def test_two_cases_in_one_replay() -> None:
    other = message("2026-03-02T10:00:00Z")
    other["case"] = 7
    raises([created(), other], 1, "expected case 1042 as in the first event, found 7")


def test_case_ids_compare_by_text() -> None:
    later = message("2026-03-02T10:00:00Z")
    later["case"] = str(CASE)
    assert me.compute_metrics([created(), later]).agent_reply_count == 1


# --------------------------------------------------------------------------- duplicates


def test_duplicate_with_same_content_is_ignored() -> None:
    reply = message("2026-03-02T10:00:00Z", id="r1")
    same = message("2026-03-02T05:00:00-05:00", id="r1")  # same instant, other offset
    m = me.compute_metrics([created(), reply, same])
    assert m.agent_reply_count == 1
    assert m.agent_touch_count == 1


def test_late_duplicate_never_raises_for_order() -> None:
    reply = message("2026-03-02T10:00:00Z", id="r1")
    events = [created(), reply, message("2026-03-02T11:00:00Z"), dict(reply)]
    assert me.compute_metrics(events).agent_reply_count == 2


def test_duplicate_with_other_content_raises() -> None:
    events = [
        created(),
        message("2026-03-02T10:00:00Z", id="r1"),
        message("2026-03-02T10:00:01Z", id="r1"),
    ]
    raises(events, 2, "event id 'r1'")


def test_duplicate_ids_compare_by_text() -> None:
    events = [
        created(),
        message("2026-03-02T10:00:00Z", id=9),
        message("2026-03-02T10:00:00Z", id="9"),
    ]
    assert me.compute_metrics(events).agent_reply_count == 1


def test_duplicate_is_not_applied_and_does_not_set_as_of() -> None:
    first = update("2026-03-02T10:00:00Z", {"status": "OPEN"}, id="u1")
    m = me.compute_metrics([created(), first, dict(first)])
    assert m.customer_calendar_wait_time == 3600


# --------------------------------------------------------------------------- statuses


def test_one_status_name_with_two_types_raises() -> None:
    events = [
        created(fields={"status": {"name": "Waiting", "type": "PENDING"}}),
        update("2026-03-02T10:00:00Z", {"status": "OPEN"}),
        update("2026-03-02T11:00:00Z", {"status": {"name": "Waiting", "type": "OPEN"}}),
    ]
    raises(events, 2, "status 'Waiting' of type PENDING")


def test_bare_status_is_its_own_name() -> None:
    alone = [
        created(),
        update("2026-03-02T10:00:00Z", {"status": {"name": "OPEN", "type": "PENDING"}}),
    ]
    # Alone, a custom status named OPEN of type PENDING is one name with one type.
    assert me.compute_metrics(alone).agent_calendar_wait_time == 0
    clash = [
        created(),
        update("2026-03-02T09:30:00Z", {"status": "open"}),
        update("2026-03-02T10:00:00Z", {"status": {"name": "OPEN", "type": "PENDING"}}),
    ]
    raises(clash, 2, "status 'OPEN' of type OPEN")


def test_status_names_are_checked_past_as_of() -> None:
    events = [
        created(fields={"status": {"name": "Waiting", "type": "PENDING"}}),
        update("2026-03-02T10:00:00Z", {"status": {"name": "Waiting", "type": "OPEN"}}),
    ]
    raises(events, 1, "Waiting", as_of="2026-03-02T09:30:00Z")


# --------------------------------------------------------------------------- lenient


def test_unknown_kind_raises_in_strict_mode() -> None:
    bad = message("2026-03-02T10:00:00Z")
    bad["event"] = "tag_added"
    raises([created(), bad], 1, "'event'")


def test_unknown_kind_is_skipped_and_counted_in_lenient_mode() -> None:
    bad = {"case": CASE, "event": "tag_added", "at": "2026-03-02T12:00:00Z"}
    events = [created(), update("2026-03-02T10:00:00Z", {"status": "OPEN"}), bad]
    m = me.compute_metrics(events, strict=False)
    assert m.skipped_events == 1
    # The skipped event does not set the default as_of: waits run to 10:00, not 12:00.
    assert m.customer_calendar_wait_time == 3600


def test_skipped_events_counted_past_as_of() -> None:
    bad = {"case": CASE, "event": "tag_added", "at": "2026-03-02T12:00:00Z"}
    m = me.compute_metrics([created(), bad], strict=False, as_of="2026-03-02T09:30:00Z")
    assert m.skipped_events == 1


def test_lenient_mode_relaxes_nothing_else() -> None:
    naive = message("2026-03-02T10:00:00")
    raises([created(), naive], 1, "naive", strict=False)


# --------------------------------------------------------------------------- as_of


def test_as_of_before_creation_raises_without_index() -> None:
    raises([created()], None, "as_of", as_of="2026-03-02T08:59:59Z")


def test_as_of_cuts_the_stream_but_validates_all_of_it() -> None:
    events = [created(), message("2026-03-02T10:00:00Z"), message("2026-03-02T09:00:00Z")]
    raises(events, 2, "expected a time", as_of="2026-03-02T09:30:00Z")


def test_as_of_accepts_datetime_and_string() -> None:
    events = [created(), update("2026-03-02T10:00:00Z", {"status": "PENDING"})]
    a = me.compute_metrics(events, as_of="2026-03-02T12:00:00+01:00")  # 11:00 UTC
    b = me.compute_metrics(events, as_of=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    assert a == b
    assert a.agent_calendar_wait_time == 3600


def test_naive_as_of_raises() -> None:
    with pytest.raises(me.MetricsEngineError, match="as_of"):
        me.compute_metrics([created()], as_of="2026-03-02T10:00:00")


def test_replay_metrics_refuses_as_of_before_last_event() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    replay.apply(message("2026-03-02T10:00:00Z"))
    with pytest.raises(me.MetricsEngineError, match="last applied event"):
        replay.metrics(as_of="2026-03-02T09:30:00Z")


def test_replay_metrics_before_any_event_raises() -> None:
    with pytest.raises(me.MetricsEngineError):
        me.CaseReplay().metrics()


# --------------------------------------------------------------------------- interface


def test_bad_calendar_and_rules_arguments() -> None:
    with pytest.raises(me.MetricsEngineError, match="calendar"):
        me.CaseReplay(calendar={"timezone": "UTC"})  # type: ignore[arg-type]
    with pytest.raises(me.MetricsEngineError, match="rules"):
        me.CaseReplay(rules={"resolution_time": "elapsed"})  # type: ignore[arg-type]
    with pytest.raises(me.MetricsEngineError, match="resolution_time"):
        me.Rules(resolution_time="wall")  # type: ignore[arg-type]


def test_errors_of_an_event_carry_the_first_event_case() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    with pytest.raises(me.EventError) as caught:
        replay.apply(
            {"case": CASE, "event": "message", "at": "2026-03-02T10:00:00Z", "actor": {"role": "x"}}
        )
    assert (caught.value.case, caught.value.index) == (CASE, 1)
    assert str(caught.value).startswith("case 1042, event 1: field 'actor.role'")


def test_state_round_trips_through_json() -> None:
    replay = me.CaseReplay(rules=me.Rules(resolution_time="elapsed"))
    replay.apply(created(id="c"))
    replay.apply(message("2026-03-02T10:00:00Z", id="r1"))
    restored = me.CaseReplay.from_state(json.loads(json.dumps(replay.to_state())))
    restored.apply(message("2026-03-02T10:00:00Z", id="r1"))  # a duplicate, recognised
    with pytest.raises(me.SequenceError, match="'r1'"):
        restored.apply(message("2026-03-02T10:00:05Z", id="r1"))
    restored.apply(update("2026-03-02T11:00:00Z", {"status": "COMPLETED"}))
    m = restored.metrics()
    assert m.resolution_calendar_time == 7200
    assert m.agent_reply_count == 1


def test_state_of_another_version_is_refused() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    state = replay.to_state()
    state["version"] = 999
    with pytest.raises(me.StateError, match="version 999"):
        me.CaseReplay.from_state(state)
    with pytest.raises(me.StateError):
        me.CaseReplay.from_state({"format": "something else"})
    broken = replay.to_state()
    del broken["case"]["reopen_count"]
    with pytest.raises(me.StateError, match=r"'case\.reopen_count'"):
        me.CaseReplay.from_state(broken)


def test_system_actor_with_an_id_resolves_as_nobody() -> None:
    events = [
        created(fields={"assignee": 5}),
        update("2026-03-02T10:00:00Z", {"status": "COMPLETED"}, actor={"id": 5, "role": "system"}),
    ]
    m = me.compute_metrics(events)
    assert m.resolution_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert m.resolved_by is None  # null for a system actor, whatever id it carries
    assert m.last_activity_by_assignee_at is None
    assert m.agent_touch_count == 0


def test_failed_apply_does_not_move_the_index() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    with pytest.raises(me.EventError) as bad_role:
        replay.apply(message("2026-03-02T10:00:00Z", role="robot"))
    other = message("2026-03-02T10:00:00Z")
    other["case"] = 2
    with pytest.raises(me.SequenceError) as bad_case:
        replay.apply(other)
    replay.apply(message("2026-03-02T10:00:00Z"))
    with pytest.raises(me.SequenceError) as late:
        replay.apply(message("2026-03-02T09:00:00Z"))
    # The rejected events were not taken: each error points at the next free position.
    assert (bad_role.value.index, bad_case.value.index, late.value.index) == (1, 1, 2)


def test_events_must_be_an_iterable_of_objects() -> None:
    for bad in (None, 3, "events", {"case": 1}):
        with pytest.raises(me.MetricsEngineError, match="events: expected an iterable"):
            me.compute_metrics(bad)  # type: ignore[arg-type]


def test_automatic_reopen_takes_part_in_the_status_name_check() -> None:
    events = [
        created(fields={"status": {"name": "OPEN", "type": "PENDING"}}),
        update("2026-03-02T10:00:00Z", {"status": "COMPLETED"}),
        message("2026-03-02T11:00:00Z", who=17, role="customer"),
    ]
    # Without the rule nothing reopens, and OPEN is only ever the custom PENDING status.
    assert me.compute_metrics(events).resolution_calendar_time == 3600
    rules = me.Rules(reopen_on_customer_message=True)
    raises(events, 2, "status 'OPEN' of type PENDING", rules=rules)
    # Also when the post lies after as_of: the whole stream is validated.
    raises(events, 2, "OPEN", rules=rules, as_of="2026-03-02T10:30:00Z")
