"""Self-checks of the reference implementation; expected values are worked out by hand."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .ref_calendar import RefCalendar, RefError, RefTeamCalendars
from .ref_replay import OUTPUT_FIELDS, ref_compute

UTC = UTC
NY = ZoneInfo("America/New_York")

SPEC_EXAMPLE_JSONL = """\
{"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00", "actor": {"id": 17, "role": "customer"}, "fields": {"requester": 17, "priority": "NORMAL", "team": 3}}
{"case": 1042, "event": "update",  "at": "2026-03-02T09:20:00-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"assignee": 5, "status": "OPEN"}}
{"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00", "actor": {"id": 5, "role": "agent"}}
{"case": 1042, "event": "update",  "at": "2026-03-02T10:02:30-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}}
{"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00", "actor": {"id": 17, "role": "customer"}}
{"case": 1042, "event": "update",  "at": "2026-03-03T08:00:00-05:00", "changes": {"status": "OPEN"}}
{"case": 1042, "event": "message", "at": "2026-03-03T09:30:00-05:00", "actor": {"id": 5, "role": "agent"}}
{"case": 1042, "event": "update",  "at": "2026-03-03T09:31:00-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}}
"""

SPEC_CALENDAR: dict[str, Any] = {
    "timezone": "America/New_York",
    "week": {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
        "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]],
        "fri": [["22:00", "06:00"]],
        "sat": [],
        "sun": [],
    },
    "holidays": {"country": "US"},
    "dates": {"2026-12-24": [["09:00", "12:00"]]},
}

UTC_OFFICE: dict[str, Any] = {
    "timezone": "UTC",
    "week": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
ALWAYS_OPEN_UTC: dict[str, Any] = {
    "timezone": "UTC",
    "week": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def spec_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SPEC_EXAMPLE_JSONL.splitlines()]


def u(text: str) -> datetime:
    return datetime.fromisoformat(text)


# =========================================================================== calendar


def test_weekend_and_negative() -> None:
    cal = RefCalendar(UTC_OFFICE)
    a, b = u("2026-03-06T16:00:00+00:00"), u("2026-03-09T10:00:00+00:00")  # Fri 16:00 -> Mon 10:00
    assert cal.business_seconds(a, b) == 7200
    assert cal.business_seconds(b, a) == -7200
    assert cal.business_seconds(a, a) == 0


def test_truncation_to_whole_seconds() -> None:
    cal = RefCalendar(ALWAYS_OPEN_UTC)
    a = u("2026-03-02T10:00:00.999999+00:00")
    b = u("2026-03-02T10:00:02.000001+00:00")
    assert cal.business_seconds(a, b) == 2


def test_dst_days_have_23_and_25_hours() -> None:
    cal = RefCalendar({"timezone": "America/New_York", "week": {"sun": [["00:00", "24:00"]]}})
    # 2026-03-08 and 2026-11-01 are DST-change Sundays in New York
    spring = cal.business_seconds(u("2026-03-07T00:00:00+00:00"), u("2026-03-10T00:00:00+00:00"))
    fall = cal.business_seconds(u("2026-10-31T00:00:00+00:00"), u("2026-11-03T00:00:00+00:00"))
    assert spring == 23 * 3600
    assert fall == 25 * 3600


def test_gap_wall_times_fold0() -> None:
    base = {"timezone": "America/New_York", "week": {"mon": [["09:00", "17:00"]]}}
    # 02:30 on spring-forward day -> 03:30 EDT; 03:30->04:00 is 1800 s
    cal = RefCalendar({**base, "dates": {"2026-03-08": [["02:30", "04:00"]]}})
    day = (u("2026-03-08T00:00:00-05:00"), u("2026-03-09T00:00:00-04:00"))
    assert cal.business_seconds(*day) == 1800
    # 02:30 -> 03:30 EDT is after 03:00 EDT: the interval is empty
    cal2 = RefCalendar({**base, "dates": {"2026-03-08": [["02:30", "03:00"]]}})
    assert cal2.business_seconds(*day) == 0


def test_overnight_and_overlaps() -> None:
    cal = RefCalendar(
        {
            "timezone": "UTC",
            "week": {
                "mon": [["09:00", "17:00"], ["12:00", "18:00"], ["22:00", "06:00"]],
                "tue": [["00:00", "06:00"]],
            },
        }
    )
    # Monday 2026-03-02: 09-18 (9 h) + 22-24 (2 h); Tuesday 00-06 (6 h, overlapping) -> 17 h
    assert (
        cal.business_seconds(u("2026-03-02T00:00:00+00:00"), u("2026-03-04T00:00:00+00:00"))
        == 17 * 3600
    )
    whole = RefCalendar({"timezone": "UTC", "week": {"wed": [["00:00", "00:00"]]}})
    assert (
        whole.business_seconds(u("2026-03-04T00:00:00+00:00"), u("2026-03-06T00:00:00+00:00"))
        == 86400
    )


def test_overnight_belongs_to_its_date_under_holiday() -> None:
    cal = RefCalendar(SPEC_CALENDAR)
    # Thu 2026-12-24: override 09-12 (3 h). Fri 2026-12-25 is Christmas: Friday's 22:00-06:00 is closed.
    a, b = u("2026-12-24T00:00:00-05:00"), u("2026-12-27T00:00:00-05:00")
    assert cal.business_seconds(a, b) == 3 * 3600
    # the Friday after (2027-01-01 is a holiday too), take 2026-12-18 (normal Friday):
    # Fri 22:00 -> Sat 06:00 = 8 h
    assert (
        cal.business_seconds(u("2026-12-18T12:00:00-05:00"), u("2026-12-19T12:00:00-05:00"))
        == 8 * 3600
    )
    # Thanksgiving Thu 2026-11-26 closed
    assert cal.business_seconds(u("2026-11-26T00:00:00-05:00"), u("2026-11-27T00:00:00-05:00")) == 0


def test_add_business_seconds() -> None:
    cal = RefCalendar(UTC_OFFICE)
    t = u("2026-03-06T18:30:00+02:00")  # Fri 16:30 UTC
    r = cal.add_business_seconds(t, 3600)
    assert r == u("2026-03-09T09:30:00+00:00")
    assert r.utcoffset() == timedelta(hours=2)
    assert cal.add_business_seconds(t, 1800) == u("2026-03-06T17:00:00+00:00")  # earliest
    assert cal.add_business_seconds(t, 0) == t
    closed_later = RefCalendar({"timezone": "UTC", "dates": {"2020-01-01": [["09:00", "10:00"]]}})
    with pytest.raises(RefError):
        closed_later.add_business_seconds(u("2026-01-01T00:00:00+00:00"), 1)


def test_naive_raises() -> None:
    cal = RefCalendar(UTC_OFFICE)
    with pytest.raises(RefError):
        cal.business_seconds(datetime(2026, 3, 2), u("2026-03-03T00:00:00+00:00"))
    with pytest.raises(RefError):
        cal.add_business_seconds(datetime(2026, 3, 2), 10)


@pytest.mark.parametrize(
    "obj",
    [
        {"timezone": "UTC", "week": {"monday": [["09:00", "17:00"]]}},
        {"timezone": "UTC", "week": {"mon": [["24:00", "17:00"]]}},
        {"timezone": "UTC", "week": {"mon": [["9:00", "17:00"]]}},
        {"timezone": "UTC", "week": {"mon": [["09:00", "24:30"]]}},
        {"timezone": "Mars/Olympus", "week": {"mon": [["09:00", "17:00"]]}},
        {"timezone": "UTC", "week": {"mon": []}},
        {"timezone": "UTC", "week": {}, "dates": {"2026-01-01": []}},
    ],
)
def test_malformed_calendars(obj: dict[str, Any]) -> None:
    with pytest.raises(RefError) as info:
        RefCalendar(obj)
    assert info.value.kind == "calendar"


def test_kayako_import() -> None:
    kayako = {
        "zones": {"Monday": [9, 10, 11], "TUE": [23], "wed": []},
        "holidays": [{"title": "x", "date": "09/03/2026", "open_hours": [10]}],
    }
    ref = RefCalendar(
        {
            "timezone": "Europe/London",
            "week": {"mon": [["09:00", "12:00"]], "tue": [["23:00", "24:00"]]},
            "dates": {"2026-03-09": [["10:00", "11:00"]]},
        }
    )
    for form in (kayako, json.dumps(kayako), {**kayako, "zones": json.dumps(kayako["zones"])}):
        cal = RefCalendar.from_kayako(form, timezone="Europe/London")
        for a, b in [
            ("2026-03-02T00:00:00+00:00", "2026-03-04T00:00:00+00:00"),  # 3 h + 1 h
            ("2026-03-09T00:00:00+00:00", "2026-03-10T00:00:00+00:00"),  # holiday override: 1 h
        ]:
            assert cal.business_seconds(u(a), u(b)) == ref.business_seconds(u(a), u(b))
    cal = RefCalendar.from_kayako(kayako, timezone="Europe/London")
    assert (
        cal.business_seconds(u("2026-03-02T00:00:00+00:00"), u("2026-03-04T00:00:00+00:00"))
        == 4 * 3600
    )
    assert (
        cal.business_seconds(u("2026-03-09T00:00:00+00:00"), u("2026-03-10T00:00:00+00:00")) == 3600
    )


def test_team_calendars_by_text() -> None:
    teams = RefTeamCalendars({"default": ALWAYS_OPEN_UTC, "teams": {"3": UTC_OFFICE}})
    assert teams.calendar_for(3) is teams.calendar_for("3")
    assert teams.calendar_for(4) is teams.default
    assert teams.calendar_for(None) is teams.default


# =========================================================================== replay


def test_spec_example_without_calendar() -> None:
    m = ref_compute(spec_events())
    assert list(m) == [*OUTPUT_FIELDS, "skipped_events"]
    assert m["agent_first_calendar_response_time"] == 2830
    assert m["average_calendar_response_time"] == 4115
    assert m["customer_calendar_wait_time"] == 8310
    assert m["agent_calendar_wait_time"] == 79050
    assert m["resolution_calendar_time"] == 87360
    assert m["replies_to_resolution"] == 3
    assert m["agent_touch_count"] == 5
    assert m["agent_reply_count"] == 2
    assert m["requester_reply_count"] == 1
    assert m["is_first_contact_resolved"] is False
    assert m["resolution_at"] == "2026-03-03T14:31:00+00:00"
    assert m["resolved_by"] == {"id": 5, "resource_type": "user"}
    assert m["last_replier"] == {"id": 5, "resource_type": "user"}
    assert m["agents_to_resolution"] == 1
    assert m["first_assignment_at"] == "2026-03-02T14:20:00+00:00"
    assert m["status_update_at"] == "2026-03-03T14:31:00+00:00"
    assert m["team_updated_at"] is None
    assert m["resolution_business_time"] is None
    assert m["customer_business_wait_time"] is None
    assert m["skipped_events"] == 0


def test_spec_example_with_spec_calendar() -> None:
    # Mon 2026-03-02 open 09-17, Tue 09-12 and 13-17 (New York)
    m = ref_compute(spec_events(), calendar=SPEC_CALENDAR)
    assert m["agent_first_business_response_time"] == 2830  # 09:15 -> 10:02:10, all open
    assert (
        m["average_business_response_time"] == (2830 + 1800) // 2
    )  # Tue 08:00->09:30: 09:00-09:30
    assert m["agent_business_wait_time"] == 25050  # Mon 10:02:30 -> 17:00
    assert (
        m["customer_business_wait_time"] == 300 + 2550 + 1860
    )  # Tue 08:00->09:31 counts 09:00-09:31
    assert m["resolution_business_time"] == 27900 + 1860  # Mon 09:15-17:00, Tue 09:00-09:31


def test_spec_example_as_of_midway() -> None:
    m = ref_compute(spec_events(), as_of="2026-03-02T12:00:00-05:00")
    assert m["customer_calendar_wait_time"] == 300 + 2550
    assert m["agent_calendar_wait_time"] == 7050  # 10:02:30 -> 12:00
    assert m["resolution_calendar_time"] is None
    assert m["replies_to_resolution"] is None
    assert m["resolution_at"] is None
    assert m["average_calendar_response_time"] == 2830
    assert m["agent_touch_count"] == 3
    with pytest.raises(RefError) as info:
        ref_compute(spec_events(), as_of="2026-03-02T09:14:59-05:00")
    assert info.value.kind == "as_of"


def test_events_after_as_of_are_validated() -> None:
    events = spec_events()
    events[6]["actor"] = {"id": 5, "role": "robot"}
    with pytest.raises(RefError) as info:
        ref_compute(events, as_of="2026-03-02T12:00:00-05:00")
    assert info.value.index == 6


def test_lenient_sorting_and_strict_order() -> None:
    events = spec_events()
    shuffled = [events[i] for i in (3, 0, 7, 5, 1, 6, 2, 4)]
    with pytest.raises(RefError) as info:
        ref_compute(shuffled)
    assert info.value.kind == "sequence" and info.value.index == 0
    assert ref_compute(shuffled, strict=False) == ref_compute(events)
    # created sorts first within its second
    first_second = [events[1] | {"at": events[0]["at"]}, events[0]]
    m = ref_compute(first_second, strict=False)
    assert m["first_assignment_at"] == "2026-03-02T14:15:00+00:00"


def test_duplicates_and_unknown_kinds() -> None:
    events = spec_events()
    for i, e in enumerate(events):
        e["id"] = f"e{i}"
    late_dup = copy.deepcopy(events[2])
    late_dup["at"] = "2026-03-02T15:02:10Z"  # same instant, other offset
    late_dup["actor"] = {"id": "5", "role": "AGENT"}  # same user and role once parsed
    assert ref_compute([*events, late_dup]) == ref_compute(events)
    conflicting = copy.deepcopy(events[2]) | {"public": False}
    with pytest.raises(RefError) as info:
        ref_compute([*events, conflicting])
    assert info.value.index == 8
    unknown = {"case": 1042, "event": "merged", "at": "2026-03-05T00:00:00Z"}
    with pytest.raises(RefError) as info:
        ref_compute([*events, unknown])
    assert info.value.index == 8
    m = ref_compute([*events[:4], unknown, *events[4:]], strict=False)
    assert m["skipped_events"] == 1
    assert {k: v for k, v in m.items() if k != "skipped_events"} == {
        k: v for k, v in ref_compute(events).items() if k != "skipped_events"
    }


@pytest.mark.parametrize(
    "mutate, index",
    [
        (lambda ev: ev[2].update(at="2026-03-02T10:02:10"), 2),  # naive
        (lambda ev: ev[2].update(changes={"status": "OPEN"}), 2),  # changes on a message
        (lambda ev: ev[1].update(changes={"priority": 1.5}), 1),  # bad value type
        (lambda ev: ev[1].update(changes={"assignee": True}), 1),  # bad id type
        (lambda ev: ev[1].update(changes={"status": None}), 1),  # null status
        (lambda ev: ev[3].update(changes={"status": {"name": "OPEN", "type": "pending"}}), 3),
        (lambda ev: ev[4].update(case=1043), 4),
        (lambda ev: ev[4].update(actor={"role": "customer"}), 4),  # no id
        (lambda ev: ev[5].update(event="created"), 5),  # second created (also `changes` on it)
    ],
)
def test_errors_point_at_the_event(mutate: Any, index: int) -> None:
    events = spec_events()
    mutate(events)
    with pytest.raises(RefError) as info:
        ref_compute(events)
    assert info.value.index == index


def _ev(kind: str, at: str, actor: Any = None, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"case": "c1", "event": kind, "at": at, **extra}
    if actor is not None:
        e["actor"] = actor
    return e


CUST = {"id": 1, "role": "customer"}
AGENT = {"id": 2, "role": "agent"}


def _thanks_case() -> list[dict[str, Any]]:
    return [
        _ev("created", "2026-03-02T10:00:00Z", CUST),
        _ev("message", "2026-03-02T10:10:00Z", AGENT),
        _ev("update", "2026-03-02T10:20:00Z", AGENT, changes={"status": "COMPLETED"}),
        _ev("message", "2026-03-02T11:00:00Z", CUST),
    ]


def test_thank_you_does_not_undo_fcr() -> None:
    m = ref_compute(_thanks_case(), as_of="2026-03-02T12:00:00Z")
    assert m["is_first_contact_resolved"] is True
    assert m["reopen_count"] == 0
    assert m["resolution_calendar_time"] == 1200
    assert m["replies_to_resolution"] == 1
    assert m["average_calendar_response_time"] == 600  # the 11:00 span is still open
    assert m["customer_calendar_wait_time"] == 1200  # NEW 10:00 -> 10:20
    assert m["last_replier"] == {"id": 1, "resource_type": "user"}
    assert m["requester_reply_count"] == 1
    assert m["agents_to_resolution"] == 0


def test_reopen_on_customer_message_rule() -> None:
    events = [*_thanks_case(), _ev("message", "2026-03-02T11:30:00Z", AGENT)]
    m = ref_compute(
        events, as_of="2026-03-02T12:00:00Z", rules={"reopen_on_customer_message": True}
    )
    assert m["reopen_count"] == 1 and m["was_reopened"] is True
    assert m["last_reopened_at"] == "2026-03-02T11:00:00+00:00"
    assert m["status_update_at"] == "2026-03-02T11:00:00+00:00"
    assert m["resolution_at"] is None and m["resolution_calendar_time"] is None
    assert m["is_first_contact_resolved"] is False
    assert m["customer_calendar_wait_time"] == 1200 + 3600
    assert m["average_calendar_response_time"] == (600 + 1800) // 2


def test_reopen_moves_open_span_start() -> None:
    events = [
        *_thanks_case(),
        _ev("update", "2026-03-02T11:40:00Z", None, changes={"status": "OPEN"}),
        _ev("message", "2026-03-02T11:50:00Z", AGENT),
    ]
    m = ref_compute(events)
    assert m["average_calendar_response_time"] == 600  # spans 600 and 11:40->11:50
    assert m["reopen_count"] == 1
    assert m["resolution_calendar_time"] is None
    assert m["customer_calendar_wait_time"] == 1200 + 600


def test_outbound_case() -> None:
    events = [
        _ev("created", "2026-03-02T10:00:00Z", AGENT, fields={"requester": 1}),
        _ev("message", "2026-03-02T12:00:00Z", {"id": "1", "role": "CUSTOMER"}),
        _ev("message", "2026-03-02T12:05:00Z", AGENT),
    ]
    m = ref_compute(events)
    assert m["agent_first_calendar_response_time"] == 300
    assert m["average_calendar_response_time"] == 300
    assert m["agent_reply_count"] == 1
    assert m["requester_reply_count"] == 1  # "1" is the requester 1
    assert m["last_reply_by_requester_at"] == "2026-03-02T12:00:00+00:00"
    assert m["last_replier"] == {"id": 2, "resource_type": "user"}


def test_team_calendars_split_intervals() -> None:
    events = [
        _ev("created", "2026-03-02T08:00:00Z", CUST, fields={"team": 3}),  # Monday
        _ev("update", "2026-03-02T12:00:00Z", None, changes={"team": 7}),
    ]
    teams = {
        "default": ALWAYS_OPEN_UTC,
        "teams": {"3": UTC_OFFICE | {"week": {"mon": [["09:00", "10:00"]]}}},
    }
    m = ref_compute(events, calendar=teams, as_of="2026-03-02T13:00:00Z")
    assert m["customer_calendar_wait_time"] == 5 * 3600
    assert m["customer_business_wait_time"] == 3600 + 3600  # team 3: 09-10; then default 12-13
    assert m["team_change_count"] == 1
    assert m["agent_business_wait_time"] == 0


def test_team_only_assignment_rule() -> None:
    events = [
        _ev("created", "2026-03-02T08:00:00Z", CUST, fields={"team": 3}),
        _ev("update", "2026-03-02T09:00:00Z", AGENT, changes={"assignee": 2}),
        _ev("update", "2026-03-02T10:00:00Z", AGENT, changes={"assignee": None}),
        _ev("update", "2026-03-02T11:00:00Z", AGENT, changes={"team": 4}),
    ]
    off = ref_compute(events)
    assert off["first_assignment_at"] == "2026-03-02T09:00:00+00:00"
    assert off["last_assignment_at"] == "2026-03-02T09:00:00+00:00"
    on = ref_compute(events, rules={"team_only_assignment": True})
    assert on["first_assignment_at"] == "2026-03-02T08:00:00+00:00"
    assert on["last_assignment_at"] == "2026-03-02T11:00:00+00:00"
    assert on["assignee_change_count"] == 2


def test_elapsed_resolution_time() -> None:
    events = [
        _ev("created", "2026-03-02T10:00:00Z", CUST),
        _ev("update", "2026-03-02T11:00:00Z", AGENT, changes={"status": "CLOSED"}),
        _ev("update", "2026-03-02T12:00:00Z", AGENT, changes={"status": "OPEN"}),
        _ev(
            "update",
            "2026-03-02T12:30:00Z",
            AGENT,
            changes={"status": {"name": "Done", "type": "completed"}},
        ),
    ]
    assert ref_compute(events)["resolution_calendar_time"] == 3600 + 1800
    assert (
        ref_compute(events, rules={"resolution_time": "elapsed"})["resolution_calendar_time"]
        == 9000
    )


def test_creation_into_resolved_status() -> None:
    events = [_ev("created", "2026-03-02T10:00:00Z", CUST, fields={"status": "closed"})]
    m = ref_compute(events, as_of="2026-03-02T11:00:00Z")
    assert m["resolution_at"] == "2026-03-02T10:00:00+00:00"
    assert m["resolution_calendar_time"] == 0
    assert m["resolved_by"] == {"id": 1, "resource_type": "user"}
    assert m["average_calendar_response_time"] is None  # span closed, not recorded
    assert m["status_update_at"] is None
    assert m["customer_calendar_wait_time"] == 0
