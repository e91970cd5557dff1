"""Differential test: BusinessCalendar against the slow day-by-day reference.

The reference (tests/reference/ref_calendar.py) is written independently from SPEC.md and
imports nothing from the package; the two must agree on every random calendar and instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from metrics_engine._calendar import BusinessCalendar
from metrics_engine._errors import CalendarError
from tests.reference.ref_calendar import RefCalendar, RefError
from tests.test_calendar_properties import DAY, ZONES, calendars, moments

# The reference walks day by day: keep spans to weeks.
span_seconds = st.integers(-45 * DAY, 45 * DAY)
slot_lists = st.lists(st.integers(0, 23), max_size=24)
kayako_dates = st.dates(datetime(2024, 1, 1).date(), datetime(2027, 12, 31).date())


@given(calendars(), moments(), span_seconds, st.integers(0, 999_999))
def test_business_seconds_agree(
    obj: dict[str, Any], start: datetime, span: int, microsecond: int
) -> None:
    end = (start.astimezone(UTC) + timedelta(seconds=span)).replace(microsecond=microsecond)
    ours = BusinessCalendar.from_dict(obj).business_seconds(start, end)
    assert ours == RefCalendar(obj).business_seconds(start, end)


@given(calendars(), moments(), st.integers(0, 12 * DAY))
def test_add_business_seconds_agree(obj: dict[str, Any], start: datetime, seconds: int) -> None:
    try:
        ours: datetime | str = BusinessCalendar.from_dict(obj).add_business_seconds(start, seconds)
    except CalendarError:
        ours = "raises"
    try:
        theirs: datetime | str = RefCalendar(obj).add_business_seconds(start, seconds)
    except RefError:
        theirs = "raises"
    assert ours == theirs
    if isinstance(ours, datetime) and isinstance(theirs, datetime):
        assert ours.utcoffset() == theirs.utcoffset()


@st.composite
def kayako_resources(draw: st.DrawFn) -> dict[str, Any]:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    zones = draw(st.dictionaries(st.sampled_from(days), slot_lists, min_size=1))
    if not any(zones.values()):
        zones["monday"] = [9]
    holidays = [
        {"title": "day off", "date": day.strftime("%d/%m/%Y"), "open_hours": slots}
        for day, slots in draw(st.dictionaries(kayako_dates, slot_lists, max_size=4)).items()
    ]
    return {"title": "random", "zones": zones, "holidays": holidays, "is_default": False}


@given(kayako_resources(), st.sampled_from(ZONES), moments(), span_seconds)
def test_kayako_import_agrees(
    resource: dict[str, Any], zone: str, start: datetime, span: int
) -> None:
    end = start.astimezone(UTC) + timedelta(seconds=span)
    ours = BusinessCalendar.from_kayako(resource, timezone=zone).business_seconds(start, end)
    theirs = RefCalendar.from_kayako(resource, timezone=zone).business_seconds(start, end)
    assert ours == theirs
