"""Kayako teams and business hours → per-team calendars, in one given time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from metrics_engine.sources import kayako
from tests.kayako_render import camel

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
OFFICE = {
    "id": 1,
    "title": "Office",
    "zones": {day: list(range(9, 17)) for day in WEEKDAYS},  # 09:00–17:00
    "holidays": [{"title": "Founders' day", "date": "03/03/2026", "open_hours": []}],
    "is_default": True,
    "resource_type": "business_hour",
}
ROUND_THE_CLOCK = {
    "id": 2,
    "title": "24/7",
    "zones": {day: list(range(24)) for day in (*WEEKDAYS, "saturday", "sunday")},
    "holidays": [],
    "is_default": False,
    "resource_type": "business_hour",
}
TEAMS: list[dict[str, Any]] = [
    {"id": 3, "title": "Night shift", "businesshour": {"id": 2, "resource_type": "business_hour"}},
    {"id": 4, "title": "Sales", "businesshour": None},
]
MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 2026-03-02 is a Monday
WEDNESDAY = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)


def _pages(*items: dict[str, Any]) -> dict[str, Any]:
    return {"status": 200, "data": list(items), "resource": "business_hour"}


def test_teams_get_their_hours_and_the_default_serves_the_rest() -> None:
    calendars = kayako.team_calendars(
        teams={"status": 200, "data": TEAMS, "resource": "team"},
        business_hours=_pages(OFFICE, ROUND_THE_CLOCK),
        timezone="UTC",
    )
    # Monday 00:00 → Wednesday 00:00: office hours 8 h on Monday, Tuesday a holiday.
    assert calendars.default.business_seconds(MONDAY, WEDNESDAY) == 8 * 3600
    assert calendars.calendar_for(None) is calendars.default
    assert calendars.calendar_for("4") is calendars.default  # a team without hours
    assert calendars.calendar_for("3").business_seconds(MONDAY, WEDNESDAY) == 48 * 3600
    assert calendars.calendar_for(3) is calendars.calendar_for("3")


def test_the_time_zone_is_the_one_given() -> None:
    calendars = kayako.team_calendars(business_hours=_pages(OFFICE), timezone="America/New_York")
    # 09:00–17:00 New York on Monday 2 March 2026 (EST, UTC-5) is 14:00–22:00 UTC.
    noon_utc = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert calendars.default.business_seconds(MONDAY, noon_utc) == 0
    assert calendars.default.business_seconds(MONDAY, MONDAY.replace(hour=15)) == 3600


def test_hours_embedded_in_teams_and_camel_case() -> None:
    # Kayako's SDK shows a team embedding its businessHour, each slot listed twice.
    team = {
        "id": 1,
        "title": "General",
        "businesshour": {**OFFICE, "zones": {"monday": [9, 10, 9, 10]}},
    }
    calendars = kayako.team_calendars(teams=camel({"data": [team]}), timezone="UTC")
    assert calendars.calendar_for("1").business_seconds(MONDAY, WEDNESDAY) == 2 * 3600


@pytest.mark.parametrize(
    ("hours", "teams", "message"),
    [
        ([{**OFFICE, "is_default": False}, ROUND_THE_CLOCK], [], "found none among 2"),
        ([OFFICE, {**ROUND_THE_CLOCK, "is_default": True}], [], "found 2 among 2"),
        ([OFFICE], TEAMS[:1], "team 3: its business hour 2 is in neither"),
        ([{**OFFICE, "zones": {"funday": [9]}}], [], r"business hour 1 \('Office'\): Kayako zones"),
    ],
)
def test_errors(hours: list[dict[str, Any]], teams: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(kayako.KayakoError, match=message):
        kayako.team_calendars(teams=teams, business_hours=_pages(*hours), timezone="UTC")
