"""Bad input through the Python API gives the library's one-line error, never a traceback.

Each case here once escaped as a plain ``ValueError``, a ``RecursionError`` or an
``AttributeError`` from deep inside the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import metrics_engine as me
from metrics_engine._events import MAX_INT_DIGITS

HUGE = 10**5000  # Python refuses to write it as text by default (more than 4300 digits)
JUST_TOO_LONG = 10**MAX_INT_DIGITS  # MAX_INT_DIGITS + 1 digits
LONGEST = 10**MAX_INT_DIGITS - 1  # MAX_INT_DIGITS nines: still an id
CASE = 1042


def created(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "case": CASE,
        "event": "created",
        "at": "2026-03-02T09:00:00Z",
        "actor": {"id": 17, "role": "customer"},
        "fields": {"status": "OPEN"},
    }
    event.update(overrides)
    return event


def message(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "case": CASE,
        "event": "message",
        "at": "2026-03-02T10:00:00Z",
        "actor": {"id": 5, "role": "agent"},
    }
    event.update(overrides)
    return event


def deeply_nested(depth: int = 100_000) -> list[Any]:
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    return nested


DEEP_JSON = "[" * 100_000 + "]" * 100_000

# --------------------------------------------------------------------------- huge integer ids

# (the second event of a stream, the field it names)
HUGE_INT_EVENTS = [
    (message(id=HUGE), "field 'id'"),
    (message(actor={"id": HUGE, "role": "agent"}), "field 'actor.id'"),
    (message(actor={"id": HUGE, "role": "system"}), "field 'actor.id'"),
    ({**message(event="update"), "changes": {"assignee": HUGE}}, "field 'changes.assignee'"),
    ({**message(event="update"), "changes": {"team": HUGE}}, "field 'changes.team'"),
    ({**message(event="update"), "changes": {"requester": HUGE}}, "field 'changes.requester'"),
    ({**message(event="update"), "changes": {"priority": HUGE}}, "field 'changes.priority'"),
    ({**message(event="update"), "changes": {"sla": -HUGE}}, "field 'changes.sla'"),
    (message(id=JUST_TOO_LONG), "field 'id'"),
    (message(id=-JUST_TOO_LONG), "field 'id'"),
]


@pytest.mark.parametrize(("event", "field"), HUGE_INT_EVENTS)
def test_a_huge_integer_in_an_event_names_case_index_and_field(
    event: dict[str, Any], field: str
) -> None:
    for strict in (True, False):
        with pytest.raises(me.EventError) as caught:
            me.compute_metrics([created(), event], strict=strict)
        error = caught.value
        assert (error.case, error.index) == (CASE, 1)
        assert str(error).startswith(f"case 1042, event 1: {field}: expected ")
        assert f"at most {MAX_INT_DIGITS} digits" in str(error)
        assert "\n" not in str(error)


def test_a_huge_integer_in_an_event_through_case_replay() -> None:
    replay = me.CaseReplay()
    replay.apply(created())
    with pytest.raises(me.EventError, match=r"case 1042, event 1: field 'id'"):
        replay.apply(message(id=HUGE))
    replay.apply(message(id=7))  # the failed event changed nothing
    assert replay.metrics().agent_reply_count == 1


def test_a_huge_integer_case_id_is_refused_without_a_case_to_name() -> None:
    with pytest.raises(me.EventError) as caught:
        me.compute_metrics([created(case=HUGE)])
    assert caught.value.case is None  # the id cannot be shown, so it is not named
    assert caught.value.index == 0
    assert str(caught.value).startswith("event 0: field 'case': expected ")


def test_huge_integers_in_created_fields_are_refused() -> None:
    for name in ("requester", "assignee", "team", "priority", "type", "sla"):
        with pytest.raises(me.EventError, match=rf"event 0: field 'fields.{name}'"):
            me.compute_metrics([created(fields={name: HUGE})])


def test_the_longest_integer_id_is_an_id_and_compares_by_its_text() -> None:
    events = [
        created(fields={"assignee": LONGEST}),
        message(actor={"id": str(LONGEST), "role": "agent"}, id=LONGEST),
        message(actor={"id": LONGEST, "role": "agent"}, id=str(LONGEST)),  # a duplicate
    ]
    metrics = me.compute_metrics(events)
    assert metrics.agent_reply_count == 1
    assert metrics.last_replier == str(LONGEST)  # as given by the event that set it
    assert metrics.last_reply_by_assignee_at is not None  # LONGEST and its text are one user


def test_the_error_message_for_a_huge_non_id_value_is_still_one_line() -> None:
    with pytest.raises(me.EventError, match=r"field 'public': expected true or false, found int"):
        me.compute_metrics([created(), message(public=HUGE)])


# --------------------------------------------------------------------------- deep nesting


def test_deeply_nested_json_text_in_kayako_zones_is_a_calendar_error() -> None:
    with pytest.raises(me.CalendarError, match=r"Kayako zones: expected JSON text, found JSON"):
        me.BusinessCalendar.from_kayako({"zones": DEEP_JSON}, timezone="UTC")


def test_deeply_nested_json_text_as_the_kayako_resource_is_a_calendar_error() -> None:
    with pytest.raises(me.CalendarError, match=r"Kayako business hours: expected JSON text"):
        me.BusinessCalendar.from_kayako(DEEP_JSON, timezone="UTC")


def test_deeply_nested_lists_in_kayako_slots_are_a_calendar_error() -> None:
    with pytest.raises(me.CalendarError, match=r"Kayako zones 'monday': expected hour slots"):
        me.BusinessCalendar.from_kayako({"zones": {"monday": [deeply_nested()]}}, "UTC")
    zones = json.dumps({"monday": [9]})[:-1] + ', "tuesday": ' + DEEP_JSON + "}"
    with pytest.raises(me.CalendarError, match=r"Kayako zones: expected JSON text"):
        me.BusinessCalendar.from_kayako({"zones": zones}, "UTC")


def test_a_huge_integer_in_kayako_business_hours_is_a_calendar_error() -> None:
    with pytest.raises(me.CalendarError, match=r"Kayako zones: expected day names"):
        me.BusinessCalendar.from_kayako({"zones": {HUGE: [9]}}, "UTC")
    with pytest.raises(me.CalendarError, match=r"expected hour slots 0 … 23"):
        me.BusinessCalendar.from_kayako({"zones": {"monday": [HUGE]}}, "UTC")
    with pytest.raises(me.CalendarError, match=r"Kayako holidays\[0\]: expected 'date'"):
        me.BusinessCalendar.from_kayako({"zones": {}, "holidays": [{"date": HUGE}]}, "UTC")


@pytest.mark.parametrize(
    ("calendar", "where"),
    [
        ({"timezone": HUGE, "week": {"mon": [["09:00", "17:00"]]}}, "calendar timezone"),
        ({"timezone": "UTC", "week": {"mon": [[HUGE, "17:00"]]}}, "calendar week 'mon'"),
        ({"timezone": "UTC", "week": {"mon": deeply_nested()}}, "calendar week 'mon'"),
        ({"timezone": "UTC", "week": {HUGE: []}}, "calendar week"),
        ({"timezone": "UTC", "week": deeply_nested()}, "calendar week"),
        ({"timezone": "UTC", "dates": {"2026-01-01": [deeply_nested()]}}, "calendar dates"),
        ({"timezone": "UTC", "holidays": {"country": HUGE}}, "calendar holidays"),
        ({HUGE: 1}, "calendar"),
    ],
)
def test_huge_or_deep_values_in_a_canonical_calendar_are_a_calendar_error(
    calendar: dict[Any, Any], where: str
) -> None:
    with pytest.raises(me.CalendarError) as caught:
        me.BusinessCalendar.from_dict(calendar)
    assert str(caught.value).startswith(where)
    assert len(str(caught.value)) < 300


# --------------------------------------------------------------------------- team calendars

CALENDAR = me.BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon": [["09:00", "17:00"]]}})


@pytest.mark.parametrize("teams", [[CALENDAR], [(1, CALENDAR)], "1", 3])
def test_team_calendars_need_a_mapping_of_teams(teams: Any) -> None:
    with pytest.raises(me.CalendarError) as caught:
        me.TeamCalendars(default=CALENDAR, teams=teams)
    assert str(caught.value).startswith("team calendars: expected 'teams' as a mapping")
    assert type(teams).__name__ in str(caught.value)


def test_team_calendars_refuse_a_huge_integer_team_id() -> None:
    with pytest.raises(me.CalendarError, match=rf"at most {MAX_INT_DIGITS} digits"):
        me.TeamCalendars(default=CALENDAR, teams={HUGE: CALENDAR})
    teams = me.TeamCalendars(default=CALENDAR, teams={LONGEST: CALENDAR})
    assert teams.calendar_for(str(LONGEST)) is CALENDAR


def test_team_calendars_still_take_none_and_empty_teams() -> None:
    assert me.TeamCalendars(default=CALENDAR).teams == {}
    assert me.TeamCalendars(default=CALENDAR, teams={}).teams == {}
