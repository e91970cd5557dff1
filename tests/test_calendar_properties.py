"""Hypothesis properties of business time on random calendars (SPEC section 4).

The strategies here are shared with the differential test. Example counts come from the
profiles in conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from metrics_engine._calendar import BusinessCalendar
from metrics_engine._errors import CalendarError

# Zones with DST, half-hour and 45-minute offsets, a missing midnight, the date line.
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Pacific/Auckland",
    "America/St_Johns",
    "Asia/Tokyo",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY_RULES: tuple[dict[str, Any] | None, ...] = (
    None,
    {"country": "US"},
    {"country": "DE", "subdiv": "BY"},
    {"country": "NZ"},
    {"country": "US", "categories": ["public", "unofficial"]},
)

FIRST_EPOCH = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
LAST_EPOCH = int(datetime(2027, 12, 31, tzinfo=UTC).timestamp())
DAY = 86_400
# UTC instants of DST changes in the zones above (see test_calendar.py for how they were read):
# New York, Berlin, Santiago (twice, the second at a missing midnight), Havana, Lord Howe.
CHANGES = tuple(
    int(datetime(*fields, tzinfo=UTC).timestamp())  # type: ignore[misc]
    for fields in (
        (2026, 3, 8, 7),
        (2026, 11, 1, 6),
        (2026, 3, 29, 1),
        (2026, 10, 25, 1),
        (2024, 4, 7, 3),
        (2024, 9, 8, 4),
        (2024, 3, 10, 5),
        (2024, 11, 3, 5),
        (2025, 10, 4, 15, 30),
        (2026, 4, 4, 15),
        (2025, 1, 1),
        (2026, 1, 1),
    )
)


def _clock(day_second: int, with_seconds: bool) -> str:
    hours, rest = divmod(day_second, 3600)
    minutes, seconds = divmod(rest, 60)
    if with_seconds or seconds:
        return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{hours:02d}:{minutes:02d}"


# Mostly half hours (so that intervals meet DST changes and each other), sometimes any second.
day_seconds = st.one_of(
    st.integers(0, 48).map(lambda half_hours: half_hours * 1800),
    st.integers(0, DAY),
)


@st.composite
def intervals(draw: st.DrawFn) -> list[str]:
    start = draw(day_seconds.filter(lambda second: second < DAY))
    end = draw(day_seconds)  # at or before the start: overnight
    with_seconds = draw(st.booleans())
    return [_clock(start, with_seconds), _clock(end, with_seconds)]


interval_lists = st.lists(intervals(), max_size=3)
override_dates = st.dates(datetime(2024, 1, 1).date(), datetime(2027, 12, 31).date())


@st.composite
def calendars(draw: st.DrawFn) -> dict[str, Any]:
    """A canonical calendar object: random zone, weekly intervals, overrides, holidays."""
    week = draw(st.dictionaries(st.sampled_from(WEEKDAYS), interval_lists, max_size=7))
    if not any(week.values()):
        week[draw(st.sampled_from(WEEKDAYS))] = [draw(intervals())]
    obj: dict[str, Any] = {"timezone": draw(st.sampled_from(ZONES)), "week": week}
    dates = draw(st.dictionaries(override_dates.map(str), interval_lists, max_size=4))
    if dates:
        obj["dates"] = dates
    holiday_rule = draw(st.sampled_from(HOLIDAY_RULES))
    if holiday_rule is not None:
        obj["holidays"] = holiday_rule
    return obj


# Instants as epoch seconds: anywhere in 2024–2027, or within two days of a DST change.
epoch_seconds = st.one_of(
    st.integers(FIRST_EPOCH, LAST_EPOCH),
    st.builds(
        lambda change, shift: change + shift,
        st.sampled_from(CHANGES),
        st.integers(-2 * DAY, 2 * DAY),
    ),
)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """An aware datetime in a random zone, with a random fraction of a second."""
    epoch_second = draw(epoch_seconds)
    microsecond = draw(st.sampled_from((0, 0, 1, 500_000, 999_999)))
    utc = datetime.fromtimestamp(epoch_second, UTC).replace(microsecond=microsecond)
    return utc.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


def whole_seconds(moment: datetime) -> int:
    """Epoch seconds of a moment, truncated toward the past (the SPEC's instant)."""
    return int(moment.replace(microsecond=0).timestamp())


# --- properties ------------------------------------------------------------------------------


@given(calendars(), moments(), moments())
def test_business_time_is_between_zero_and_calendar_time(
    obj: dict[str, Any], a: datetime, b: datetime
) -> None:
    cal = BusinessCalendar.from_dict(obj)
    start, end = sorted((a, b))
    business = cal.business_seconds(start, end)
    assert 0 <= business <= whole_seconds(end) - whole_seconds(start)


@given(calendars(), moments(), moments(), moments())
def test_additivity(obj: dict[str, Any], a: datetime, b: datetime, c: datetime) -> None:
    cal = BusinessCalendar.from_dict(obj)
    assert cal.business_seconds(a, b) + cal.business_seconds(b, c) == cal.business_seconds(a, c)


@given(calendars(), moments(), moments())
def test_antisymmetry_and_epoch_form(obj: dict[str, Any], a: datetime, b: datetime) -> None:
    cal = BusinessCalendar.from_dict(obj)
    forward = cal.business_seconds(a, b)
    assert cal.business_seconds(b, a) == -forward
    assert cal.epoch_business_seconds(whole_seconds(a), whole_seconds(b)) == forward


@given(calendars(), epoch_seconds, epoch_seconds, epoch_seconds)
def test_answers_do_not_depend_on_what_was_built_first(
    obj: dict[str, Any], warm_up: int, a: int, b: int
) -> None:
    fresh = BusinessCalendar.from_dict(obj)
    warmed = BusinessCalendar.from_dict(obj)
    warmed.epoch_business_seconds(warm_up, warm_up + DAY)
    assert warmed.epoch_business_seconds(a, b) == fresh.epoch_business_seconds(a, b)


@given(
    st.sampled_from(ZONES),
    st.sampled_from((["00:00", "24:00"], ["00:00", "00:00"], ["12:00", "12:00"])),
    moments(),
    moments(),
)
def test_always_open_calendar_is_calendar_time(
    zone: str, whole_day: list[str], a: datetime, b: datetime
) -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": zone, "week": {day: [whole_day] for day in WEEKDAYS}}
    )
    assert cal.business_seconds(a, b) == whole_seconds(b) - whole_seconds(a)


@given(calendars(), moments(), st.integers(0, 40 * DAY))
def test_add_business_seconds_reaches_exactly_n(
    obj: dict[str, Any], start: datetime, seconds: int
) -> None:
    cal = BusinessCalendar.from_dict(obj)
    try:
        found = cal.add_business_seconds(start, seconds)
    except CalendarError:
        # only when ten years do not hold that many open seconds (day 28 and before: a bound
        # at or before the ten-year limit, whatever the month)
        utc_start = start.astimezone(UTC)
        ten_years = utc_start.replace(year=utc_start.year + 10, day=min(utc_start.day, 28))
        assert cal.business_seconds(start, ten_years) < seconds
        return
    assert whole_seconds(found) >= whole_seconds(start)
    assert found.microsecond == 0
    assert found.tzinfo is start.tzinfo
    assert cal.business_seconds(start, found) == seconds
    if seconds > 0:
        # the earliest such instant: one second before it is still short (stepped in UTC:
        # wall-clock arithmetic in a DST zone would not step one elapsed second)
        one_before = found.astimezone(UTC) - timedelta(seconds=1)
        assert cal.business_seconds(start, one_before) < seconds


@given(calendars(), epoch_seconds, st.integers(0, 20 * DAY))
def test_add_business_seconds_inverts_business_seconds_on_open_instants(
    obj: dict[str, Any], start_epoch: int, span_seconds: int
) -> None:
    cal = BusinessCalendar.from_dict(obj)
    start = datetime.fromtimestamp(start_epoch, UTC)
    end = start + timedelta(seconds=span_seconds)
    business = cal.business_seconds(start, end)
    found = cal.add_business_seconds(start, business)
    if span_seconds > 0 and cal.business_seconds(end - timedelta(seconds=1), end) == 1:
        # the second before `end` is open, so `end` is the first instant with that count
        assert found == end
    else:
        assert found <= end
        assert cal.business_seconds(start, found) == business
