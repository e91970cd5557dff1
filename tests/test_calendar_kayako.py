"""Kayako business-hours import: hour slots, holidays with open_hours, JSON text, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from metrics_engine._calendar import BusinessCalendar
from metrics_engine._errors import CalendarError
from metrics_engine._kayako_hours import kayako_to_canonical

HOUR = 3600

# The shape of Kayako's GET /api/v1/businesshours/:id.json "data" object.
US_OFFICE: dict[str, Any] = {
    "id": 1,
    "title": "US office hours",
    "zones": {
        "monday": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        "tuesday": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        "wednesday": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        "thursday": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        "friday": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18],
        "saturday": [],
        "sunday": [],
    },
    "holidays": [
        {"title": "Christmas Eve", "date": "24/12/2026", "open_hours": [9, 10, 11]},
        {"title": "Christmas", "date": "25/12/2026", "open_hours": []},
        {"title": "Stock take", "date": "26/12/2026", "open_hours": [13, 14]},
    ],
    "is_default": True,
    "created_at": "2015-07-21T07:10:42+05:00",
    "updated_at": "2015-07-21T07:10:42+05:00",
    "resource_type": "business_hour",
}


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_slots_become_intervals() -> None:
    canonical = kayako_to_canonical(US_OFFICE, "Europe/London")
    # slots 9 … 18 are the hours 09:00 … 19:00
    assert canonical["week"] == {
        "mon": [["09:00", "19:00"]],
        "tue": [["09:00", "19:00"]],
        "wed": [["09:00", "19:00"]],
        "thu": [["09:00", "19:00"]],
        "fri": [["09:00", "19:00"]],
        "sat": [],
        "sun": [],
    }
    assert canonical["dates"] == {
        "2026-12-24": [["09:00", "12:00"]],
        "2026-12-25": [],
        "2026-12-26": [["13:00", "15:00"]],
    }
    assert canonical["timezone"] == "Europe/London"


def test_kayako_calendar_arithmetic() -> None:
    cal = BusinessCalendar.from_kayako(US_OFFICE, timezone="Europe/London")
    # Monday 2026-03-02 (GMT = UTC): 09:00 → 19:00 = 10 h
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 3)) == 10 * HOUR
    # Christmas week: Mon 21 … Wed 23 (3 × 10 h) + Thu 24 (09–12, 3 h) + Fri 25 closed
    # + Sat 26 (13–15, 2 h) = 35 h
    assert cal.business_seconds(utc(2026, 12, 21), utc(2026, 12, 28)) == 35 * HOUR
    assert cal.timezone == "Europe/London"


def test_split_runs_and_hour_23() -> None:
    resource = {"zones": {"Monday": [23, 0, 1, 5, 22], "TUESDAY": [0]}}
    canonical = kayako_to_canonical(resource, "UTC")
    # runs 0–1 (00:00–02:00), 5 (05:00–06:00), 22–23 (22:00–24:00); order does not matter
    assert canonical["week"] == {
        "mon": [["00:00", "02:00"], ["05:00", "06:00"], ["22:00", "24:00"]],
        "tue": [["00:00", "01:00"]],
    }
    cal = BusinessCalendar.from_kayako(resource, "UTC")
    # Mon 22:00 → Tue 01:00 runs across midnight: 3 h
    assert cal.business_seconds(utc(2026, 3, 2, 22), utc(2026, 3, 3, 1)) == 3 * HOUR


def test_json_text_at_either_level_and_the_api_envelope() -> None:
    as_text = json.dumps(US_OFFICE)
    zones_as_text = {**US_OFFICE, "zones": json.dumps(US_OFFICE["zones"])}
    envelope = {"status": 200, "data": US_OFFICE}
    expected = kayako_to_canonical(US_OFFICE, "UTC")
    for variant in (as_text, zones_as_text, envelope, json.dumps(envelope)):
        assert kayako_to_canonical(variant, "UTC") == expected


def test_missing_holidays_and_missing_open_hours() -> None:
    resource = {
        "zones": {"monday": [9]},
        "holidays": [{"date": "02/03/2026"}, {"date": "09/03/2026", "open_hours": None}],
    }
    cal = BusinessCalendar.from_kayako(resource, "UTC")
    # both Mondays closed by a holiday without open_hours; the next is open 1 h
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 17)) == 1 * HOUR
    assert kayako_to_canonical({"zones": {"monday": [9]}}, "UTC")["dates"] == {}
    assert kayako_to_canonical({"zones": {"monday": [9]}, "holidays": None}, "UTC")["dates"] == {}


def test_same_date_twice_with_the_same_hours_is_accepted() -> None:
    resource = {
        "zones": {"monday": [9]},
        "holidays": [{"date": "02/03/2026"}, {"date": "02/03/2026", "open_hours": []}],
    }
    assert kayako_to_canonical(resource, "UTC")["dates"] == {"2026-03-02": []}


@pytest.mark.parametrize(
    ("obj", "timezone", "message"),
    [
        ("{not json", "UTC", "Kayako business hours: expected JSON text, found invalid JSON"),
        ([], "UTC", "Kayako business hours: expected an object, found list"),
        ({"title": "x"}, "UTC", "expected a 'zones' object, found none"),
        ({"zones": []}, "UTC", "Kayako zones: expected an object"),
        ({"zones": "[1"}, "UTC", "Kayako zones: expected JSON text"),
        ({"zones": {"funday": [9]}}, "UTC", "expected day names monday … sunday, found 'funday'"),
        ({"zones": {"mon": [9]}}, "UTC", "found 'mon'"),
        ({"zones": {"monday": [9], "MONDAY": [10]}}, "UTC", "found monday twice"),
        ({"zones": {"monday": [24]}}, "UTC", "expected hour slots 0 … 23, found 24"),
        ({"zones": {"monday": [-1]}}, "UTC", "found -1"),
        ({"zones": {"monday": ["9"]}}, "UTC", "found '9'"),
        ({"zones": {"monday": [True]}}, "UTC", "found True"),
        ({"zones": {"monday": 9}}, "UTC", "expected a list of hour slots"),
        ({"zones": {"monday": [9]}, "holidays": {}}, "UTC", "Kayako holidays: expected a list"),
        ({"zones": {"monday": [9]}, "holidays": [1]}, "UTC", "holidays[0]: expected an object"),
        (
            {"zones": {"monday": [9]}, "holidays": [{"date": "2026-03-02"}]},
            "UTC",
            "expected 'date' as DD/MM/YYYY, found '2026-03-02'",
        ),
        (
            {"zones": {"monday": [9]}, "holidays": [{"date": "31/02/2026"}]},
            "UTC",
            "expected a date key 'YYYY-MM-DD' that exists, found '2026-02-31'",
        ),
        (
            {"zones": {"monday": [9]}, "holidays": [{"date": "02/03/2026", "open_hours": [25]}]},
            "UTC",
            "holidays[0] open_hours: expected hour slots",
        ),
        (
            {
                "zones": {"monday": [9]},
                "holidays": [{"date": "02/03/2026"}, {"date": "02/03/2026", "open_hours": [9]}],
            },
            "UTC",
            "expected one set of open hours per date",
        ),
        ({"zones": {"monday": []}}, "UTC", "expected at least one open interval"),
        ({"zones": {"monday": [9]}}, "Nowhere/City", "expected an IANA time zone name"),
        ({"zones": {"monday": [9]}}, None, "expected an IANA time zone name"),
    ],
)
def test_kayako_errors(obj: object, timezone: object, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_kayako(obj, timezone)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "\n" not in str(info.value)
