"""BusinessCalendar arithmetic: hand-worked edge cases of SPEC section 4.

Every expected value is worked out by hand in the comment beside it, from the SPEC's rules
and the zone transitions named in the test (checked against zoneinfo where it matters). None is
generated from the code's own output.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import CalendarError, MetricsEngineError

HOUR = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def make(
    week: dict[str, list[list[str]]],
    tz: str = "UTC",
    dates: dict[str, list[list[str]]] | None = None,
    holidays: dict[str, object] | None = None,
) -> BusinessCalendar:
    obj: dict[str, object] = {"timezone": tz, "week": week}
    if dates is not None:
        obj["dates"] = dates
    if holidays is not None:
        obj["holidays"] = holidays
    return BusinessCalendar.from_dict(obj)


def office(
    tz: str = "UTC",
    dates: dict[str, list[list[str]]] | None = None,
    holidays: dict[str, object] | None = None,
) -> BusinessCalendar:
    """Mon–Fri 09:00–17:00."""
    return make({day: [["09:00", "17:00"]] for day in WEEKDAYS}, tz, dates, holidays)


def every_day(intervals: list[list[str]]) -> dict[str, list[list[str]]]:
    return {day: list(intervals) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local wall time at fold=0 (the SPEC's reading of ambiguous and gap times)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- one ordinary week (2026-03-02 is a Monday), UTC --------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # inside one interval: 10:00 → 12:00 = 2 h
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 12), 2 * HOUR),
        # starts before opening: only 09:00 → 10:00 counts = 1 h
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 10), 1 * HOUR),
        # ends after closing: 16:00 → 17:00 = 1 h
        (utc(2026, 3, 2, 16), utc(2026, 3, 2, 18), 1 * HOUR),
        # both outside, around the whole day: 09:00 → 17:00 = 8 h
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 18), 8 * HOUR),
        # exactly at opening, one second: [09:00:00, 09:00:01) = 1 s
        (utc(2026, 3, 2, 9), utc(2026, 3, 2, 9, 0, 1), 1),
        # the last open second: [16:59:59, 17:00) = 1 s
        (utc(2026, 3, 2, 16, 59, 59), utc(2026, 3, 2, 17), 1),
        # exactly at closing to the next opening: all closed = 0
        (utc(2026, 3, 2, 17), utc(2026, 3, 3, 9), 0),
        # Friday 16:00 → Monday 10:00: Fri 16–17 (1 h) + Mon 09–10 (1 h) = 2 h
        (utc(2026, 3, 6, 16), utc(2026, 3, 9, 10), 2 * HOUR),
        # inside the weekend: 0
        (utc(2026, 3, 7, 10), utc(2026, 3, 8, 20), 0),
        # one whole week, Monday to Monday: 5 days × 8 h = 40 h
        (utc(2026, 3, 2), utc(2026, 3, 9), 40 * HOUR),
        # an empty span: 0
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 10), 0),
        # reversed: −(08:00 → 18:00) = −8 h
        (utc(2026, 3, 2, 18), utc(2026, 3, 2, 8), -8 * HOUR),
    ],
)
def test_office_hours(start: datetime, end: datetime, expected: int) -> None:
    assert office().business_seconds(start, end) == expected


def test_inputs_truncate_to_whole_seconds_toward_the_past() -> None:
    cal = office()
    # 09:00:00.999 → 09:00:00 and 09:00:01.5 → 09:00:01: [09:00:00, 09:00:01) = 1 s
    start = utc(2026, 3, 2, 9, 0, 0).replace(microsecond=999_999)
    end = utc(2026, 3, 2, 9, 0, 1).replace(microsecond=500_000)
    assert cal.business_seconds(start, end) == 1
    assert cal.business_seconds(end, start) == -1
    # 09:00:00.2 → 09:00:00.9 both truncate to 09:00:00: 0 s
    assert cal.business_seconds(start.replace(microsecond=200_000), start) == 0


def test_an_offset_with_seconds_truncates_the_instant_not_the_wall_time() -> None:
    cal = make(every_day([["00:00", "24:00"]]))
    # +00:00:30 offset: 10:00:30.5 local is 10:00:00.5 UTC → 10:00:00; the end 10:00:31 local
    # is 10:00:01 UTC; a 24/7 calendar gives 1 s.
    plus_30s = timezone(timedelta(seconds=30))
    start = datetime(2026, 3, 2, 10, 0, 30, 500_000, tzinfo=plus_30s)
    end = datetime(2026, 3, 2, 10, 0, 31, tzinfo=plus_30s)
    assert cal.business_seconds(start, end) == 1


def test_any_aware_zone_gives_the_same_instants() -> None:
    cal = office()
    # 04:00 New York (EST, −5) on 2026-03-02 is 09:00 UTC; 17:00 Kolkata (+5:30) is 11:30 UTC:
    # 09:00 → 11:30 = 2.5 h
    start = at("America/New_York", 2026, 3, 2, 4)
    end = at("Asia/Kolkata", 2026, 3, 2, 17)
    assert cal.business_seconds(start, end) == 9000


def test_epoch_business_seconds_matches_datetimes() -> None:
    cal = office()
    # 2026-03-02 00:00 UTC is 1772409600 epoch seconds (20514 days × 86400).
    monday = 1_772_409_600
    assert utc(2026, 3, 2).timestamp() == monday
    # Monday 08:00 → 18:00 = 8 h
    assert cal.epoch_business_seconds(monday + 8 * HOUR, monday + 18 * HOUR) == 8 * HOUR
    assert cal.epoch_business_seconds(monday + 18 * HOUR, monday + 8 * HOUR) == -8 * HOUR


# --- several intervals a day, touching and overlapping ---------------------------------------


def test_several_intervals_a_day() -> None:
    cal = make({"tue": [["09:00", "12:00"], ["13:00", "17:00"]]})
    # Tuesday 2026-03-03 11:00 → 14:00: 11–12 (1 h) + 13–14 (1 h) = 2 h
    assert cal.business_seconds(utc(2026, 3, 3, 11), utc(2026, 3, 3, 14)) == 2 * HOUR
    # the lunch hour alone: 0
    assert cal.business_seconds(utc(2026, 3, 3, 12), utc(2026, 3, 3, 13)) == 0
    # whole day: 3 h + 4 h = 7 h
    assert cal.business_seconds(utc(2026, 3, 3), utc(2026, 3, 4)) == 7 * HOUR


def test_touching_and_overlapping_intervals_count_each_second_once() -> None:
    touching = make({"mon": [["09:00", "12:00"], ["12:00", "15:00"]]})
    # 11:00 → 13:00 runs straight through 12:00: 2 h
    assert touching.business_seconds(utc(2026, 3, 2, 11), utc(2026, 3, 2, 13)) == 2 * HOUR
    overlapping = make({"mon": [["09:00", "13:00"], ["12:00", "15:00"], ["10:00", "11:00"]]})
    # union 09:00–15:00 = 6 h, not 4 + 3 + 1 = 8 h
    assert overlapping.business_seconds(utc(2026, 3, 2), utc(2026, 3, 3)) == 6 * HOUR


def test_24_00_end_and_seconds_in_times() -> None:
    cal = make(
        {
            "mon": [["22:00", "24:00"]],
            "tue": [["00:00", "02:00"], ["09:00:30", "09:01:00"]],
        }
    )
    # Monday 23:00 → Tuesday 01:00: Mon 23–24 (1 h) + Tue 00–01 (1 h) = 2 h, no seam
    assert cal.business_seconds(utc(2026, 3, 2, 23), utc(2026, 3, 3, 1)) == 2 * HOUR
    # 09:00:30–09:01:00 is 30 s
    assert cal.business_seconds(utc(2026, 3, 3, 9), utc(2026, 3, 3, 10)) == 30


def test_whole_day_spellings() -> None:
    # ["00:00", "00:00"] (overnight to the next midnight) and ["00:00", "24:00"] are 24 h each
    for spelling in (["00:00", "00:00"], ["00:00", "24:00"], ["00:00:00", "24:00:00"]):
        cal = make({"wed": [spelling]})
        assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 9)) == 24 * HOUR


def test_an_interval_from_a_time_to_the_same_time_is_24_hours() -> None:
    cal = make({"wed": [["09:00", "09:00"]]})
    # Wednesday 09:00 → Thursday 09:00 = 24 h
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 9)) == 24 * HOUR
    assert cal.business_seconds(utc(2026, 3, 5, 8), utc(2026, 3, 5, 10)) == 1 * HOUR


def test_overnight_overlap_with_the_next_day_counts_once() -> None:
    cal = make({"mon": [["20:00", "04:00"]], "tue": [["00:00", "06:00"]]})
    # Mon 20–24 (4 h) + Tue 00–06 (union of Mon's 00–04 and Tue's 00–06 = 6 h) = 10 h, not 14
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 4)) == 10 * HOUR


# --- overnight shifts ------------------------------------------------------------------------


def test_overnight_shift_belongs_to_the_day_it_is_written_under() -> None:
    cal = make({"fri": [["22:00", "06:00"]]})
    # Friday 2026-03-06 22:00 → Saturday 06:00.
    # a start inside the shift before midnight: Fri 23:00 → Sat 01:00 = 2 h
    assert cal.business_seconds(utc(2026, 3, 6, 23), utc(2026, 3, 7, 1)) == 2 * HOUR
    # a start inside the shift after midnight: Sat 02:00 → Sat 10:00 = 02–06 = 4 h
    assert cal.business_seconds(utc(2026, 3, 7, 2), utc(2026, 3, 7, 10)) == 4 * HOUR
    # around the whole shift: 8 h
    assert cal.business_seconds(utc(2026, 3, 6, 21), utc(2026, 3, 7, 7)) == 8 * HOUR
    # a Thursday night has no shift (only Friday is written): 0
    assert cal.business_seconds(utc(2026, 3, 5, 21), utc(2026, 3, 6, 7)) == 0


def test_holiday_on_either_side_of_midnight_of_a_shift() -> None:
    week = {"thu": [["22:00", "06:00"]], "fri": [["22:00", "06:00"]]}
    # Thu 2026-03-05 22:00 → Fri 06:00 and Fri 22:00 → Sat 06:00.
    span = (utc(2026, 3, 5, 20), utc(2026, 3, 7, 8))
    assert make(week).business_seconds(*span) == 16 * HOUR  # two 8 h shifts
    # Friday closed: Thursday's shift still runs into Friday morning (it is Thursday's);
    # Friday's own shift is gone, also its Saturday hours: 8 h
    friday_closed = make(week, dates={"2026-03-06": []})
    assert friday_closed.business_seconds(*span) == 8 * HOUR
    # Saturday closed: nothing is written under Saturday, both shifts stay: 16 h
    saturday_closed = make(week, dates={"2026-03-07": []})
    assert saturday_closed.business_seconds(*span) == 16 * HOUR
    # Thursday closed: only Friday's shift: 8 h, all of it after Thursday's midnight
    thursday_closed = make(week, dates={"2026-03-05": []})
    assert thursday_closed.business_seconds(*span) == 8 * HOUR
    assert thursday_closed.business_seconds(utc(2026, 3, 6), utc(2026, 3, 6, 12)) == 0


def test_package_holiday_after_midnight_of_a_shift() -> None:
    # US Christmas 2026 is Friday 12-25 (no Christmas Eve holiday that year).
    cal = make(
        {"thu": [["22:00", "06:00"]], "fri": [["22:00", "06:00"]]},
        tz="America/New_York",
        holidays={"country": "US"},
    )
    start = at("America/New_York", 2026, 12, 24, 20)
    end = at("America/New_York", 2026, 12, 26, 8)
    # Thu 24th 22:00 → Fri 06:00 counts (Thursday's), Friday's shift is closed: 8 h
    assert cal.business_seconds(start, end) == 8 * HOUR


# --- DST in America/New_York (2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST)


def test_new_york_whole_days_have_23_and_25_hours() -> None:
    cal = make({"sun": [["00:00", "24:00"]]}, tz="America/New_York")
    # Sun 03-08 00:00 EST (05:00Z) → Mon 00:00 EDT (04:00Z) = 23 h
    spring = (at("America/New_York", 2026, 3, 7), at("America/New_York", 2026, 3, 10))
    assert cal.business_seconds(*spring) == 23 * HOUR
    # Sun 11-01 00:00 EDT (04:00Z) → Mon 00:00 EST (05:00Z) = 25 h
    autumn = (at("America/New_York", 2026, 10, 31), at("America/New_York", 2026, 11, 3))
    assert cal.business_seconds(*autumn) == 25 * HOUR


def test_new_york_overnight_shift_across_dst() -> None:
    cal = make({"sat": [["22:00", "06:00"]]}, tz="America/New_York")
    # Sat 03-07 22:00 EST (03:00Z) → Sun 06:00 EDT (10:00Z) = 7 h
    assert cal.business_seconds(utc(2026, 3, 7), utc(2026, 3, 9)) == 7 * HOUR
    # Sat 10-31 22:00 EDT (02:00Z) → Sun 06:00 EST (11:00Z) = 9 h
    assert cal.business_seconds(utc(2026, 10, 31), utc(2026, 11, 2)) == 9 * HOUR
    # a start inside the shift after the change: Sun 03-08 04:00 EDT (08:00Z) → 06:00 EDT = 2 h
    assert cal.business_seconds(at("America/New_York", 2026, 3, 8, 4), utc(2026, 3, 9)) == 7200


def test_new_york_opening_inside_the_gap() -> None:
    cal = make({"sun": [["02:30", "05:00"]]}, tz="America/New_York")
    # 02:30 does not exist on 03-08; fold=0 reads it with EST (−5): 07:30Z = 03:30 EDT.
    # 05:00 EDT = 09:00Z. Open 07:30Z → 09:00Z = 1.5 h
    assert cal.business_seconds(utc(2026, 3, 8), utc(2026, 3, 9)) == 5400
    # an ordinary Sunday: 02:30 → 05:00 EDT = 2.5 h
    assert cal.business_seconds(utc(2026, 3, 15), utc(2026, 3, 16)) == 9000


def test_new_york_interval_emptied_by_the_gap() -> None:
    cal = make({"sun": [["02:30", "03:10"], ["02:00", "02:45"]]}, tz="America/New_York")
    # On 03-08: 02:30 → 07:30Z but 03:10 EDT → 07:10Z: the end is before the start: empty.
    # 02:00 → 07:00Z (EST) and 02:45 → 07:45Z (EST): 45 min, shown as 03:00–03:45 EDT.
    assert cal.business_seconds(utc(2026, 3, 8), utc(2026, 3, 9)) == 45 * 60
    # an ordinary Sunday: union of 02:00–02:45 and 02:30–03:10 = 02:00–03:10 = 70 min
    assert cal.business_seconds(utc(2026, 3, 15), utc(2026, 3, 16)) == 70 * 60


def test_new_york_opening_inside_the_repeated_hour() -> None:
    cal = make({"sun": [["01:30", "03:00"]]}, tz="America/New_York")
    # 01:30 on 11-01 happens twice; fold=0 is the first, EDT: 05:30Z. 03:00 EST = 08:00Z.
    # Open 05:30Z → 08:00Z = 2.5 h (the repeated hour is counted in full: elapsed time)
    assert cal.business_seconds(utc(2026, 11, 1), utc(2026, 11, 2)) == 9000
    closing_in_it = make({"sun": [["00:00", "01:30"]]}, tz="America/New_York")
    # 00:00 EDT (04:00Z) → 01:30 first occurrence EDT (05:30Z) = 1.5 h
    assert closing_in_it.business_seconds(utc(2026, 11, 1), utc(2026, 11, 2)) == 5400


def test_new_york_office_week_across_spring_forward() -> None:
    cal = office("America/New_York")
    # The change is on Sunday, so each weekday keeps 8 h; Mon–Fri 03-09..03-13 = 40 h
    assert cal.business_seconds(utc(2026, 3, 7), utc(2026, 3, 14)) == 40 * HOUR
    # Monday 03-09 09:00 EDT is 13:00Z (it was 14:00Z a week before)
    assert cal.business_seconds(utc(2026, 3, 9, 12), utc(2026, 3, 9, 14)) == 1 * HOUR
    assert cal.business_seconds(utc(2026, 3, 2, 13), utc(2026, 3, 2, 15)) == 1 * HOUR


# --- DST in Europe/Berlin (2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET)


def test_berlin_whole_days_have_23_and_25_hours() -> None:
    cal = make({"sun": [["00:00", "00:00"]]}, tz="Europe/Berlin")
    # Sun 03-29 00:00 CET (23:00Z 28th) → Mon 00:00 CEST (22:00Z 29th) = 23 h
    assert cal.business_seconds(utc(2026, 3, 27), utc(2026, 3, 31)) == 23 * HOUR
    # Sun 10-25 00:00 CEST (22:00Z 24th) → Mon 00:00 CET (23:00Z 25th) = 25 h
    assert cal.business_seconds(utc(2026, 10, 23), utc(2026, 10, 27)) == 25 * HOUR


def test_berlin_overnight_shift_across_dst() -> None:
    cal = make({"sat": [["22:00", "06:00"]]}, tz="Europe/Berlin")
    # Sat 03-28 22:00 CET (21:00Z) → Sun 06:00 CEST (04:00Z) = 7 h
    assert cal.business_seconds(utc(2026, 3, 28), utc(2026, 3, 30)) == 7 * HOUR
    # Sat 10-24 22:00 CEST (20:00Z) → Sun 06:00 CET (05:00Z) = 9 h
    assert cal.business_seconds(utc(2026, 10, 24), utc(2026, 10, 26)) == 9 * HOUR


def test_berlin_opening_inside_the_gap_and_the_repeated_hour() -> None:
    cal = make({"sun": [["02:30", "04:00"]]}, tz="Europe/Berlin")
    # 03-29: 02:30 is in the gap, read with CET (+1): 01:30Z; 04:00 CEST = 02:00Z: 30 min
    assert cal.business_seconds(utc(2026, 3, 29), utc(2026, 3, 30)) == 30 * 60
    # 10-25: 02:30 first occurrence is CEST (+2): 00:30Z; 04:00 CET = 03:00Z: 2.5 h
    assert cal.business_seconds(utc(2026, 10, 24), utc(2026, 10, 26)) == 9000


# --- zones whose midnight does not exist, odd offsets ------------------------------------------


def test_santiago_day_without_midnight() -> None:
    # America/Santiago, 2024-09-08 (Sunday): 00:00 −04 jumps to 01:00 −03 (at 04:00Z).
    zone = ZoneInfo("America/Santiago")
    assert datetime(2024, 9, 8, 0, tzinfo=zone).utcoffset() == timedelta(hours=-4)
    assert datetime(2024, 9, 8, 1, tzinfo=zone).utcoffset() == timedelta(hours=-3)
    cal = make({"sat": [["18:00", "24:00"]], "sun": [["00:00", "24:00"]]}, tz="America/Santiago")
    # Sunday: its 00:00 is in the gap, read with −04: 04:00Z; Monday 00:00 −03 = 03:00Z 09-09.
    # 04:00Z → 03:00Z next day = 23 h
    assert cal.business_seconds(utc(2024, 9, 8, 4), utc(2024, 9, 10)) == 23 * HOUR
    # Saturday 18:00 −04 (22:00Z 09-07) → its 24:00, the same missing midnight: 04:00Z = 6 h,
    # touching Sunday's start. Sat 18:00 → Mon 00:00 = 6 h + 23 h = 29 h
    assert cal.business_seconds(utc(2024, 9, 7), utc(2024, 9, 10)) == 29 * HOUR


def test_santiago_day_with_a_repeated_last_hour() -> None:
    # 2024-04-07 00:00 −03 (03:00Z) falls back to 2024-04-06 23:00 −04.
    cal = make({"sat": [["00:00", "24:00"]]}, tz="America/Santiago")
    # Saturday 04-06 00:00 −03 (03:00Z) → Sunday 00:00, which only exists once, at −04
    # (04:00Z 04-07): 25 h
    assert cal.business_seconds(utc(2024, 4, 5), utc(2024, 4, 8)) == 25 * HOUR


def test_havana_day_without_midnight() -> None:
    # America/Havana, 2024-03-10 (Sunday): 00:00 −05 jumps to 01:00 −04 (at 05:00Z).
    cal = make({"sun": [["00:00", "24:00"]]}, tz="America/Havana")
    # Sunday 00:00 read with −05: 05:00Z; Monday 00:00 −04 = 04:00Z 03-11: 23 h
    assert cal.business_seconds(utc(2024, 3, 9), utc(2024, 3, 12)) == 23 * HOUR


def test_kolkata_half_hour_offset() -> None:
    cal = office("Asia/Kolkata")
    # 09:00 IST = 03:30Z, 17:00 IST = 11:30Z on Monday 2026-03-02
    assert cal.business_seconds(utc(2026, 3, 2, 3, 30), utc(2026, 3, 2, 11, 30)) == 8 * HOUR
    # 00:00Z → 04:00Z is 05:30 → 09:30 IST: 09:00–09:30 = 30 min
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 2, 4)) == 30 * 60


def test_lord_howe_half_hour_dst() -> None:
    cal = make({"sun": [["00:00", "24:00"]]}, tz="Australia/Lord_Howe")
    # 2025-10-05 (Sunday): 02:00 +10:30 → 02:30 +11. 00:00 +10:30 = 13:30Z 10-04;
    # Monday 00:00 +11 = 13:00Z 10-05: 23.5 h
    assert cal.business_seconds(utc(2025, 10, 3), utc(2025, 10, 7)) == 84600
    # 2026-04-05 (Sunday): 02:00 +11 → 01:30 +10:30. 00:00 +11 = 13:00Z 04-04;
    # Monday 00:00 +10:30 = 13:30Z 04-05: 24.5 h
    assert cal.business_seconds(utc(2026, 4, 3), utc(2026, 4, 7)) == 88200


# --- dates: leap day, holidays, overrides -------------------------------------------------------


def test_leap_day() -> None:
    cal = office()
    # 2028-02-28 (Mon) and 02-29 (Tue) are working days: 2 × 8 h = 16 h to 03-01 00:00
    assert cal.business_seconds(utc(2028, 2, 28), utc(2028, 3, 1)) == 16 * HOUR
    # Tuesday 02-29 16:00 + 2 h: 1 h on the 29th, then Wednesday 03-01 09:00 + 1 h = 10:00
    assert cal.add_business_seconds(utc(2028, 2, 29, 16), 2 * HOUR) == utc(2028, 3, 1, 10)
    closed = office(dates={"2028-02-29": []})
    # only Monday's 8 h are left
    assert closed.business_seconds(utc(2028, 2, 28), utc(2028, 3, 1)) == 8 * HOUR


def test_holiday_whose_local_date_is_not_its_utc_date() -> None:
    # Pacific/Auckland in January is +13 (NZDT); NZ lists 2026-01-01 and 2026-01-02.
    cal = make(every_day([["00:00", "24:00"]]), tz="Pacific/Auckland", holidays={"country": "NZ"})
    # Local 2026-01-01 00:00 = 2025-12-31 11:00Z: on UTC date 12-31 only 00:00Z → 11:00Z
    # (local 12-31 13:00 → 24:00) is open = 11 h
    assert cal.business_seconds(utc(2025, 12, 31), utc(2026, 1, 1)) == 11 * HOUR
    # the two holidays run to local 01-03 00:00 = 01-02 11:00Z; then open until 12:00Z = 1 h
    assert cal.business_seconds(utc(2025, 12, 31, 11), utc(2026, 1, 2, 12)) == 1 * HOUR


def test_observed_holiday_in_the_neighbouring_year() -> None:
    # US New Year's Day 2022 is a Saturday, observed Friday 2021-12-31; Christmas 2021 is a
    # Saturday too, observed Friday 12-24.
    tz = "America/New_York"
    fresh = office(tz, holidays={"country": "US"})
    # asked first and only about 2021-12-31 (a fresh calendar): closed, 0
    assert fresh.business_seconds(at(tz, 2021, 12, 31), at(tz, 2022, 1, 1)) == 0
    cal = office(tz, holidays={"country": "US"})
    # Mon 12-27 … Thu 12-30 open (4 × 8 h = 32 h), Fri 12-31 closed, weekend
    assert cal.business_seconds(at(tz, 2021, 12, 27), at(tz, 2022, 1, 3)) == 32 * HOUR
    # Mon 12-20 … Thu 12-23 open (32 h), Fri 12-24 closed
    assert cal.business_seconds(at(tz, 2021, 12, 20), at(tz, 2021, 12, 27)) == 32 * HOUR
    # built from the later year first, the answer is the same
    later_first = office(tz, holidays={"country": "US"})
    assert later_first.business_seconds(at(tz, 2022, 6, 1), at(tz, 2022, 6, 2)) == 8 * HOUR
    assert later_first.business_seconds(at(tz, 2021, 12, 31), at(tz, 2022, 1, 1)) == 0


def test_date_override_on_a_holiday_and_on_a_weekend() -> None:
    tz = "America/New_York"
    cal = office(
        tz,
        holidays={"country": "US"},
        dates={"2026-11-26": [["10:00", "14:00"]], "2026-11-28": [["09:00", "12:00"]]},
    )
    # Thanksgiving Thu 2026-11-26 is a holiday but the override opens 10–14 = 4 h
    assert cal.business_seconds(at(tz, 2026, 11, 26), at(tz, 2026, 11, 27)) == 4 * HOUR
    # Saturday 11-28 opens 09–12 = 3 h
    assert cal.business_seconds(at(tz, 2026, 11, 28), at(tz, 2026, 11, 29)) == 3 * HOUR
    # the whole week Mon 11-23 … Sun 11-29: Mon–Wed 24 h + Thu 4 h + Fri 8 h + Sat 3 h = 39 h
    assert cal.business_seconds(at(tz, 2026, 11, 23), at(tz, 2026, 11, 30)) == 39 * HOUR


def test_empty_override_closes_a_working_day() -> None:
    cal = office(dates={"2026-03-03": []})
    # Mon–Fri 03-02..03-06 without Tuesday: 4 × 8 h = 32 h
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 7)) == 32 * HOUR


def test_holiday_subdivision_and_categories() -> None:
    tz = "America/Los_Angeles"
    # Cesar Chavez Day (03-31) is a California holiday, not a federal one; 2026-03-31 is Tuesday
    federal = office(tz, holidays={"country": "US"})
    california = office(tz, holidays={"country": "US", "subdiv": "CA"})
    day = (at(tz, 2026, 3, 31), at(tz, 2026, 4, 1))
    assert federal.business_seconds(*day) == 8 * HOUR
    assert california.business_seconds(*day) == 0
    # Categories choose the lists: Saint Patrick's Day (Tuesday 2026-03-17) is 'unofficial';
    # the observed Independence Day (Friday 2026-07-03) is 'public'.
    public = office(tz, holidays={"country": "US", "categories": ["public"]})
    unofficial = office(tz, holidays={"country": "US", "categories": ["unofficial"]})
    both = office(tz, holidays={"country": "US", "categories": ["public", "unofficial"]})
    st_patrick = (at(tz, 2026, 3, 17), at(tz, 2026, 3, 18))
    july_3 = (at(tz, 2026, 7, 3), at(tz, 2026, 7, 4))
    assert public.business_seconds(*st_patrick) == 8 * HOUR
    assert public.business_seconds(*july_3) == 0
    assert unofficial.business_seconds(*st_patrick) == 0
    assert unofficial.business_seconds(*july_3) == 8 * HOUR
    assert both.business_seconds(*st_patrick) == 0
    assert both.business_seconds(*july_3) == 0


def test_overlap_across_a_year_boundary() -> None:
    cal = make(
        {"mon": [["09:00", "10:00"]]},
        dates={"2026-12-31": [["22:00", "06:00"]], "2027-01-01": [["00:00", "08:00"]]},
    )
    # Dec 31 22–24 (2 h) + Jan 1 union of 00–06 and 00–08 (8 h) = 10 h
    assert cal.business_seconds(utc(2026, 12, 31), utc(2027, 1, 2)) == 10 * HOUR
    fresh = make(
        {"mon": [["09:00", "10:00"]]},
        dates={"2026-12-31": [["22:00", "06:00"]], "2027-01-01": [["00:00", "08:00"]]},
    )
    # a fresh calendar asked only about 2027 still sees 2026's overnight interval: 8 h, not 14 h
    assert fresh.business_seconds(utc(2027, 1, 1), utc(2027, 1, 1, 12)) == 8 * HOUR


def test_long_spans_after_building_years() -> None:
    cal = office("America/New_York", holidays={"country": "US"})
    # 2026: 261 weekdays (52 weeks + Thu 01-01 = 260 + 1) minus the 11 federal holidays, all on
    # weekdays that year (07-04 is a Saturday, observed Friday 07-03) = 250 days × 8 h
    start, end = at("America/New_York", 2026, 1, 1), at("America/New_York", 2027, 1, 1)
    assert cal.business_seconds(start, end) == 250 * 8 * HOUR
    # additivity across the year boundary
    middle = at("America/New_York", 2026, 7, 1)
    assert cal.business_seconds(start, middle) + cal.business_seconds(middle, end) == (
        250 * 8 * HOUR
    )


# --- add_business_seconds ----------------------------------------------------------------


def test_add_business_seconds_basics() -> None:
    cal = office()
    # zero is the start itself, truncated to its second like every instant
    start = utc(2026, 3, 7, 10).replace(microsecond=5)
    assert cal.add_business_seconds(start, 0) == utc(2026, 3, 7, 10)
    assert cal.add_business_seconds(utc(2026, 3, 2, 17), 0) == utc(2026, 3, 2, 17)
    # from the weekend: Sat 10:00 + 1 s = Mon 09:00:01
    assert cal.add_business_seconds(utc(2026, 3, 7, 10), 1) == utc(2026, 3, 9, 9, 0, 1)
    # landing exactly on closing is the earliest answer: Mon 16:00 + 1 h = Mon 17:00
    assert cal.add_business_seconds(utc(2026, 3, 2, 16), HOUR) == utc(2026, 3, 2, 17)
    # one more second goes to Tuesday: Tue 09:00:01
    assert cal.add_business_seconds(utc(2026, 3, 2, 16), HOUR + 1) == utc(2026, 3, 3, 9, 0, 1)
    # a fraction of a second is truncated first: 10:00:00.7 + 1 s = 10:00:01
    fractional = utc(2026, 3, 2, 10).replace(microsecond=700_000)
    assert cal.add_business_seconds(fractional, 1) == utc(2026, 3, 2, 10, 0, 1)
    # a whole week of 40 h from Monday 09:00 ends Friday 17:00
    assert cal.add_business_seconds(utc(2026, 3, 2, 9), 40 * HOUR) == utc(2026, 3, 6, 17)


def test_add_business_seconds_returns_in_the_zone_of_the_start() -> None:
    cal = office("America/New_York")
    new_york = ZoneInfo("America/New_York")
    start = at("America/New_York", 2026, 3, 6, 16)  # Friday 16:00 EST
    # 1 h on Friday, then Monday 03-09 09:00 EDT + 1 h = 10:00 EDT
    result = cal.add_business_seconds(start, 2 * HOUR)
    assert result == at("America/New_York", 2026, 3, 9, 10)
    assert result.tzinfo is new_york
    assert result.utcoffset() == timedelta(hours=-4)
    fixed = timezone(timedelta(hours=2))
    # the same instant asked with a +02:00 start: 23:00+02:00 Friday, answer 16:00+02:00 Monday
    from_fixed = cal.add_business_seconds(start.astimezone(fixed), 2 * HOUR)
    assert from_fixed.tzinfo is fixed
    assert from_fixed == result


def test_add_business_seconds_raises_instead_of_looping() -> None:
    # Open only one hour, on 2020-01-06.
    cal = make({}, dates={"2020-01-06": [["09:00", "10:00"]]})
    with pytest.raises(CalendarError, match="ten calendar years"):
        cal.add_business_seconds(utc(2026, 1, 1), 1)
    # Starting before it, 1 h is there, 1 h + 1 s is not (found 3600)
    assert cal.add_business_seconds(utc(2019, 12, 31), HOUR) == utc(2020, 1, 6, 10)
    with pytest.raises(CalendarError, match="found 3600"):
        cal.add_business_seconds(utc(2019, 12, 31), HOUR + 1)


def test_add_business_seconds_ten_year_limit_is_inclusive() -> None:
    cal = make({}, dates={"2030-01-01": [["00:00", "01:00"]]})
    # from 2020-01-01 01:00Z the limit is 2030-01-01 01:00Z: the hour ends exactly there
    assert cal.add_business_seconds(utc(2020, 1, 1, 1), HOUR) == utc(2030, 1, 1, 1)
    # from one second earlier the limit is 00:59:59, before the answer: raises
    with pytest.raises(CalendarError):
        cal.add_business_seconds(utc(2020, 1, 1, 0, 59, 59), HOUR)


@pytest.mark.parametrize("bad", [-1, 1.0, True, "1", None])
def test_add_business_seconds_rejects_bad_amounts(bad: object) -> None:
    with pytest.raises(CalendarError, match="expected a whole number of seconds"):
        office().add_business_seconds(utc(2026, 3, 2), bad)  # type: ignore[arg-type]


# --- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        datetime(2026, 3, 2, 9),  # naive
        "2026-03-02T09:00:00Z",
        datetime(2026, 3, 2).date(),
        1_772_409_600,
        None,
    ],
)
def test_business_seconds_rejects_naive_and_non_datetimes(bad: object) -> None:
    cal = office()
    for call in (
        lambda: cal.business_seconds(bad, utc(2026, 3, 2)),  # type: ignore[arg-type]
        lambda: cal.business_seconds(utc(2026, 3, 2), bad),  # type: ignore[arg-type]
        lambda: cal.add_business_seconds(bad, 1),  # type: ignore[arg-type]
    ):
        with pytest.raises(CalendarError, match="expected a timezone-aware datetime") as info:
            call()
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [1.5, True, "1", None])
def test_epoch_business_seconds_rejects_non_ints(bad: object) -> None:
    with pytest.raises(CalendarError, match="expected whole epoch seconds"):
        office().epoch_business_seconds(bad, 0)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="expected whole epoch seconds"):
        office().epoch_business_seconds(0, bad)  # type: ignore[arg-type]


def test_instants_outside_the_supported_range_raise() -> None:
    cal = office()
    with pytest.raises(CalendarError, match="expected instants from"):
        cal.business_seconds(datetime(1, 1, 1, tzinfo=UTC), utc(2026, 1, 1))
    with pytest.raises(CalendarError, match="expected instants from"):
        cal.business_seconds(utc(2026, 1, 1), datetime(9999, 12, 31, tzinfo=UTC))
    # the calendar is still usable afterwards
    assert cal.business_seconds(utc(2026, 3, 2), utc(2026, 3, 3)) == 8 * HOUR


# --- the objects -------------------------------------------------------------------------------


def test_calendar_is_immutable_from_outside() -> None:
    cal = office("Europe/Berlin")
    assert cal.timezone == "Europe/Berlin"
    with pytest.raises(AttributeError):
        cal.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cal.extra = 1  # type: ignore[attr-defined]


def test_constructor_wants_a_parsed_calendar() -> None:
    with pytest.raises(CalendarError, match=r"use BusinessCalendar\.from_dict"):
        BusinessCalendar({"timezone": "UTC", "week": {"mon": [["09:00", "17:00"]]}})  # type: ignore[arg-type]


def test_calendar_pickles_by_definition() -> None:
    cal = office("America/New_York", holidays={"country": "US"})
    cal.business_seconds(utc(2026, 1, 1), utc(2026, 2, 1))  # builds a cache
    copy = pickle.loads(pickle.dumps(cal))
    span = (utc(2025, 12, 1), utc(2026, 7, 1))
    assert copy.business_seconds(*span) == cal.business_seconds(*span)
    assert copy.timezone == "America/New_York"


def test_team_calendars() -> None:
    default = office()
    night = make({"mon": [["22:00", "06:00"]]})
    teams = TeamCalendars(default, {3: night, "sales": office("Asia/Kolkata")})
    assert teams.calendar_for(None) is default
    assert teams.calendar_for("3") is night  # ids compare by their text
    assert teams.calendar_for(3) is night
    assert teams.calendar_for("4") is default  # an unlisted team
    assert teams.default is default
    assert sorted(teams.teams) == ["3", "sales"]
    with pytest.raises(TypeError):
        teams.teams["4"] = night  # type: ignore[index]


def test_team_calendars_from_dict() -> None:
    teams = TeamCalendars.from_dict(
        {
            "default": {"timezone": "UTC", "week": {"mon": [["09:00", "17:00"]]}},
            "teams": {"7": {"timezone": "Asia/Kolkata", "week": {"mon": [["09:00", "17:00"]]}}},
        }
    )
    assert teams.calendar_for("7").timezone == "Asia/Kolkata"
    assert teams.calendar_for(None).timezone == "UTC"
    only_default = TeamCalendars.from_dict(
        {
            "default": {
                "timezone": "UTC",
                "week": {"mon": []},
                "dates": {"2026-01-01": [["09:00", "10:00"]]},
            }
        }
    )
    assert only_default.calendar_for("7") is only_default.default


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "expected an object"),
        ({"teams": {}}, "expected a 'default' calendar"),
        ({"default": {"timezone": "UTC"}, "teams": {}}, "default calendar: calendar"),
        (
            {"default": {"timezone": "UTC", "week": {"mon": [["09:00", "10:00"]]}}, "teams": []},
            "expected 'teams' as an object",
        ),
        (
            {
                "default": {"timezone": "UTC", "week": {"mon": [["09:00", "10:00"]]}},
                "teams": {"3": {"timezone": "Nowhere/City", "week": {}}},
            },
            "team '3'",
        ),
        (
            {"default": {"timezone": "UTC", "week": {"mon": [["09:00", "10:00"]]}}, "x": 1},
            "expected only the keys default, teams",
        ),
    ],
)
def test_team_calendars_from_dict_errors(obj: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message) as info:
        TeamCalendars.from_dict(obj)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_team_calendars_constructor_errors() -> None:
    cal = office()
    with pytest.raises(CalendarError, match="found team '3' twice"):
        TeamCalendars(cal, {3: cal, "3": cal})
    with pytest.raises(CalendarError, match="expected a team id"):
        TeamCalendars(cal, {True: cal})  # bool is an int to the type checker, not an id here
    with pytest.raises(CalendarError, match="expected a team id"):
        TeamCalendars(cal, {1.5: cal})  # type: ignore[dict-item]
    with pytest.raises(CalendarError, match="expected a BusinessCalendar for team"):
        TeamCalendars(cal, {"3": "cal"})  # type: ignore[dict-item]
    with pytest.raises(CalendarError, match="as the default"):
        TeamCalendars("cal", {})  # type: ignore[arg-type]
    with pytest.raises(MetricsEngineError):
        TeamCalendars(cal, {}).calendar_for(2.5)  # type: ignore[arg-type]


def test_parameter_names_are_those_of_the_interface() -> None:
    # SPEC section 5: cal.business_seconds(a, b) and cal.add_business_seconds(t, n).
    cal = BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon": [["09:00", "17:00"]]}})
    a = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
    b = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert cal.business_seconds(a=a, b=b) == 3600
    assert cal.add_business_seconds(t=a, n=3600) == b
