"""Validation of the canonical calendar JSON: every malformed calendar raises one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from metrics_engine._calendar import BusinessCalendar
from metrics_engine._calendar_spec import parse_calendar
from metrics_engine._errors import CalendarError, MetricsEngineError

OPEN_MONDAY = {"mon": [["09:00", "17:00"]]}


def calendar(**changes: Any) -> dict[str, Any]:
    """A valid calendar with some keys replaced (a value of ... removes the key)."""
    obj: dict[str, Any] = {"timezone": "UTC", "week": OPEN_MONDAY}
    for key, value in changes.items():
        if value is ...:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


INVALID: list[tuple[object, str]] = [
    # wrong shapes
    ([], "calendar: expected an object, found []"),
    ("UTC", "calendar: expected an object"),
    (calendar(extra=1), "calendar: expected only the keys timezone, week, dates, holidays"),
    (calendar(timezone=...), "expected a 'timezone' key"),
    # time zones
    (calendar(timezone="Nowhere/City"), "expected an IANA time zone name"),
    (calendar(timezone="america/new_york"), "found 'america/new_york'"),
    (calendar(timezone=""), "expected an IANA time zone name"),
    (calendar(timezone="America"), "expected an IANA time zone name"),
    (calendar(timezone="../../etc/passwd"), "expected an IANA time zone name"),
    (calendar(timezone="/etc/localtime"), "expected an IANA time zone name"),
    (calendar(timezone="localtime"), "expected an IANA time zone name"),
    (calendar(timezone="posixrules"), "expected an IANA time zone name"),
    (calendar(timezone="Europe/London\x00"), "expected an IANA time zone name"),
    (calendar(timezone=None), "expected an IANA time zone name (a string), found None"),
    (calendar(timezone=5), "expected an IANA time zone name"),
    # the week
    (calendar(week=[]), "calendar week: expected an object"),
    (calendar(week={"monday": [["09:00", "17:00"]]}), "expected weekday keys mon, tue"),
    (calendar(week={"Mon": [["09:00", "17:00"]]}), "found 'Mon'"),
    (calendar(week={"mon": None}), "calendar week 'mon': expected a list of [start, end]"),
    (calendar(week={"mon": ["09:00", "17:00"]}), "interval 0: expected a pair"),
    (calendar(week={"mon": [["09:00"]]}), "interval 0: expected a pair"),
    (calendar(week={"mon": [["09:00", "12:00", "17:00"]]}), "expected a pair"),
    # malformed times
    (calendar(week={"mon": [["9:00", "17:00"]]}), "expected a time 'HH:MM' or 'HH:MM:SS'"),
    (calendar(week={"mon": [["09:00", "25:00"]]}), "found '25:00'"),
    (calendar(week={"mon": [["09:60", "17:00"]]}), "found '09:60'"),
    (calendar(week={"mon": [["09:00:60", "17:00"]]}), "found '09:00:60'"),
    (calendar(week={"mon": [["09:00", "24:01"]]}), "found '24:01'"),
    (calendar(week={"mon": [["09:00", "24:00:01"]]}), "found '24:00:01'"),
    (calendar(week={"mon": [["09:00", "17:00 "]]}), "found '17:00 '"),
    (calendar(week={"mon": [["09.00", "17:00"]]}), "found '09.00'"),
    (calendar(week={"mon": [["०९:००", "17:00"]]}), "expected a time"),  # Devanagari digits
    (calendar(week={"mon": [[900, 1700]]}), "found 900"),
    (calendar(week={"mon": [["09:00", None]]}), "found None"),
    (calendar(week={"mon": [["09:00", "17:00"], ["x", "y"]]}), "interval 1"),
    # "24:00" as a start
    (calendar(week={"mon": [["24:00", "06:00"]]}), "expected '24:00' only as an end"),
    (calendar(week={"mon": [["24:00:00", "06:00"]]}), "expected '24:00' only as an end"),
    # date overrides
    (calendar(dates=[]), "calendar dates: expected an object"),
    (calendar(dates={"2026-02-30": []}), "expected a date key 'YYYY-MM-DD' that exists"),
    (calendar(dates={"2026/01/01": []}), "found '2026/01/01'"),
    (calendar(dates={"2026-1-1": []}), "found '2026-1-1'"),
    (calendar(dates={"20260101": []}), "found '20260101'"),
    (calendar(dates={"2026-01-01": None}), "calendar dates '2026-01-01': expected a list"),
    (calendar(dates={"2026-01-01": [["24:00", "01:00"]]}), "only as an end"),
    # holidays
    (calendar(holidays="US"), "calendar holidays: expected an object"),
    (calendar(holidays={}), "expected 'country' as a country code"),
    (calendar(holidays={"country": 1}), "expected 'country' as a country code"),
    (calendar(holidays={"country": "XX"}), "expected a country the holidays package knows"),
    (calendar(holidays={"country": "US", "subdiv": "ZZ"}), "expected a subdivision of US"),
    (calendar(holidays={"country": "US", "subdiv": 6}), "expected 'subdiv' as a subdivision"),
    (calendar(holidays={"country": "US", "categories": ["nope"]}), "expected holiday categories"),
    (calendar(holidays={"country": "US", "categories": "public"}), "expected 'categories'"),
    (calendar(holidays={"country": "US", "categories": []}), "a non-empty list"),
    (calendar(holidays={"country": "US", "categories": [1]}), "expected 'categories'"),
    (calendar(holidays={"country": "US", "state": "CA"}), "expected only the keys country"),
    # nothing open
    (calendar(week={}), "expected at least one open interval in 'week'"),
    (calendar(week=...), "expected at least one open interval"),
    (calendar(week={"mon": [], "sun": []}), "expected at least one open interval"),
    (calendar(week={}, dates={"2026-01-01": []}), "expected at least one open interval"),
]


@pytest.mark.parametrize(("obj", "message"), INVALID)
def test_invalid_calendars_raise_one_line_calendar_errors(obj: object, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(obj)  # type: ignore[arg-type]
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert "expected" in text
    assert "found" in text or "found none" in text
    assert isinstance(info.value, MetricsEngineError)
    assert info.value.case is None
    assert info.value.index is None


def test_a_long_found_value_is_shortened() -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(calendar(timezone="x" * 500))
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    "obj",
    [
        calendar(),
        calendar(week={"sun": [["22:00", "06:00"]]}),
        calendar(week={"mon": [["00:00", "00:00"]]}),
        calendar(week={"mon": [["00:00:00", "24:00:00"]]}),
        calendar(week={"mon": [("09:00", "17:00")]}),  # tuples as well as lists
        calendar(week={}, dates={"2026-01-01": [["09:00", "10:00"]]}),  # only an override
        calendar(dates={"2028-02-29": []}),
        calendar(holidays=None),
        calendar(holidays={"country": "US", "subdiv": None, "categories": None}),
        calendar(holidays={"country": "DE", "subdiv": "BY", "categories": ["public"]}),
        calendar(timezone="Etc/GMT+5"),
    ],
)
def test_valid_calendars(obj: dict[str, Any]) -> None:
    BusinessCalendar.from_dict(obj)


def test_parsed_spec_in_day_seconds() -> None:
    spec = parse_calendar(
        {
            "timezone": "Europe/Berlin",
            "week": {
                "mon": [["09:00", "17:30:15"], ["22:00", "06:00"]],
                "tue": [["00:00", "00:00"], ["10:00", "24:00"]],
            },
            "dates": {"2026-12-24": [["09:00", "12:00"]], "2026-01-02": []},
        }
    )
    # 09:00 = 32400; 17:30:15 = 63015; 22:00 = 79200; 06:00 next day = 86400 + 21600 = 108000
    assert spec.week[0] == ((32400, 63015), (79200, 108000))
    # 00:00 → 00:00 is a whole day (0, 86400); 10:00 → 24:00 = (36000, 86400)
    assert spec.week[1] == ((0, 86400), (36000, 86400))
    assert spec.week[2:] == ((),) * 5
    assert [str(day) for day, _ in spec.dates] == ["2026-01-02", "2026-12-24"]
    assert spec.holidays is None


def test_null_week_or_dates_mean_none() -> None:
    # Like a null holidays: nothing there. The calendar must still open somewhere.
    opening = {"2026-03-02": [["09:00", "10:00"]]}
    cal = BusinessCalendar.from_dict({"timezone": "UTC", "week": None, "dates": opening})
    assert (
        cal.business_seconds(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
        == 3600
    )
    week = {"mon": [["09:00", "10:00"]]}
    assert BusinessCalendar.from_dict({"timezone": "UTC", "week": week, "dates": None})
