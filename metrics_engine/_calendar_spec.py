"""Reading and validating the canonical calendar JSON (docs/calendars.md).

``parse_calendar`` turns the JSON-shaped object into a ``CalendarSpec``: plain, frozen,
picklable data in *day seconds* (seconds after a local midnight). Every rule of the format is
checked here, once, so that the arithmetic in ``_calendar`` never meets a bad value. A failed
check raises ``CalendarError`` with one line naming where, what was expected and what was found.
"""

from __future__ import annotations

import hashlib
import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from metrics_engine._errors import CalendarError

if TYPE_CHECKING:
    import holidays

__all__ = [
    "SECONDS_PER_DAY",
    "WEEKDAY_KEYS",
    "CalendarSpec",
    "DayInterval",
    "HolidayRule",
    "load_zone",
    "make_holiday_source",
    "parse_calendar",
    "team_fingerprint",
]

SECONDS_PER_DAY = 86_400

# Index i is ``date.weekday() == i``.
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CALENDAR_KEYS = ("timezone", "week", "dates", "holidays")

# Files that zoneinfo may find in a system's zone directory but that name no IANA zone: the
# machine's own zone ("localtime") and a legacy rules file. A calendar must not mean different
# things on different machines.
_NOT_ZONE_NAMES = frozenset({"localtime", "posixrules"})
_HOLIDAY_KEYS = ("country", "subdiv", "categories")

# ASCII digits only: ``\d`` would also accept other scripts' digits.
_TIME_PATTERN = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# (start_day_second, end_day_second) of one interval, relative to the midnight of the date it
# belongs to. 0 <= start < 86400 and start < end <= start + 86400: an end past 86400 lies on
# the next day (an overnight interval, or "24:00").
DayInterval = tuple[int, int]


@dataclass(frozen=True, slots=True)
class HolidayRule:
    """Which ``holidays.country_holidays`` list closes dates."""

    country: str
    subdiv: str | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A validated calendar: its zone, weekly intervals, date overrides and holiday rule."""

    timezone: str
    # Seven entries, Monday first.
    week: tuple[tuple[DayInterval, ...], ...]
    # Sorted by date; a date listed here ignores the week and the holidays.
    dates: tuple[tuple[date, tuple[DayInterval, ...]], ...]
    holidays: HolidayRule | None
    # A digest of the definition above (see _fingerprint), computed once.
    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", _fingerprint(self))


def parse_calendar(obj: object) -> CalendarSpec:
    """Validate a canonical calendar object and return its spec."""
    top = _expect_mapping(obj, "calendar")
    _reject_unknown_keys(top, _CALENDAR_KEYS, "calendar")
    if "timezone" not in top:
        raise CalendarError("calendar: expected a 'timezone' key (an IANA name), found none")
    timezone = _parse_timezone(top["timezone"])
    # A missing or null week or dates means none, as a null holidays does.
    week = _parse_week(_or_empty(top.get("week")))
    dates = _parse_dates(_or_empty(top.get("dates")))
    holiday_rule = _parse_holidays(top.get("holidays"))
    if not any(week) and not any(intervals for _, intervals in dates):
        raise CalendarError(
            "calendar: expected at least one open interval in 'week' or one opening date "
            "override in 'dates', found none"
        )
    return CalendarSpec(timezone=timezone, week=week, dates=dates, holidays=holiday_rule)


def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone for a name that ``parse_calendar`` accepted (or a CalendarError)."""
    if name in _NOT_ZONE_NAMES:
        raise _zone_error(name)
    try:
        return zoneinfo.ZoneInfo(name)
    # ZoneInfo signals a bad key by several types: not found (a KeyError), a malformed or
    # absolute path (ValueError), a directory such as "America" (OSError).
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise _zone_error(name) from None


def _zone_error(name: str) -> CalendarError:
    return CalendarError(
        f"calendar timezone: expected an IANA time zone name such as 'Europe/London', "
        f"found {_show(name)}"
    )


def make_holiday_source(rule: HolidayRule) -> holidays.HolidayBase:
    """The holidays package's list for a rule, with no year computed yet.

    It is built with the package's default observed-day rules and ``expand=True``, so asking
    about any date computes that date's whole year.
    """
    import holidays  # here, not at import: only calendars with holidays need the package

    return holidays.country_holidays(rule.country, subdiv=rule.subdiv, categories=rule.categories)


# --- top level -------------------------------------------------------------------------------


def _parse_timezone(value: object) -> str:
    if not isinstance(value, str):
        raise CalendarError(
            f"calendar timezone: expected an IANA time zone name (a string), found {_show(value)}"
        )
    load_zone(value)
    return value


def _or_empty(value: object) -> object:
    return {} if value is None else value


def _parse_week(value: object) -> tuple[tuple[DayInterval, ...], ...]:
    days = _expect_mapping(value, "calendar week")
    for key in days:
        if key not in WEEKDAY_KEYS:
            raise CalendarError(
                f"calendar week: expected weekday keys {', '.join(WEEKDAY_KEYS)}, "
                f"found {_show(key)}"
            )
    return tuple(
        _parse_intervals(days.get(key, []), f"calendar week {key!r}") for key in WEEKDAY_KEYS
    )


def _parse_dates(value: object) -> tuple[tuple[date, tuple[DayInterval, ...]], ...]:
    overrides = _expect_mapping(value, "calendar dates")
    parsed = [
        (_parse_date_key(key), _parse_intervals(intervals, f"calendar dates {key!r}"))
        for key, intervals in overrides.items()
    ]
    return tuple(sorted(parsed))


def _parse_date_key(key: object) -> date:
    if isinstance(key, str) and _DATE_PATTERN.fullmatch(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            pass  # a well-shaped but impossible date such as 2026-02-30: reported below
    raise CalendarError(
        f"calendar dates: expected a date key 'YYYY-MM-DD' that exists, found {_show(key)}"
    )


# --- intervals and times ---------------------------------------------------------------------


def _parse_intervals(value: object, where: str) -> tuple[DayInterval, ...]:
    if not isinstance(value, list | tuple):
        raise CalendarError(
            f"{where}: expected a list of [start, end] intervals, found {_show(value)}"
        )
    return tuple(
        _parse_interval(item, f"{where} interval {index}") for index, item in enumerate(value)
    )


def _parse_interval(value: object, where: str) -> DayInterval:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise CalendarError(f'{where}: expected a pair ["HH:MM", "HH:MM"], found {_show(value)}')
    start_day_second = _parse_time(value[0], where)
    end_day_second = _parse_time(value[1], where)
    if start_day_second == SECONDS_PER_DAY:
        raise CalendarError(f"{where}: expected '24:00' only as an end, found it as the start")
    if end_day_second <= start_day_second:
        # An end at or before its start is on the next day: ["22:00", "06:00"] is overnight
        # and ["00:00", "00:00"] is a whole day.
        end_day_second += SECONDS_PER_DAY
    return (start_day_second, end_day_second)


def _parse_time(value: object, where: str) -> int:
    """Day seconds of 'HH:MM' or 'HH:MM:SS'; 24:00 (or 24:00:00) gives 86400."""
    match = _TIME_PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        seconds = int(match[3]) if match[3] is not None else 0
        if hours < 24 and minutes < 60 and seconds < 60:
            return hours * 3600 + minutes * 60 + seconds
        if (hours, minutes, seconds) == (24, 0, 0):
            return SECONDS_PER_DAY
    raise CalendarError(
        f"{where}: expected a time 'HH:MM' or 'HH:MM:SS' from 00:00 to 24:00, found {_show(value)}"
    )


# --- holidays --------------------------------------------------------------------------------


def _parse_holidays(value: object) -> HolidayRule | None:
    if value is None:
        return None
    settings = _expect_mapping(value, "calendar holidays")
    _reject_unknown_keys(settings, _HOLIDAY_KEYS, "calendar holidays")
    country = settings.get("country")
    if not isinstance(country, str):
        raise CalendarError(
            f"calendar holidays: expected 'country' as a country code such as 'US', "
            f"found {_show(country)}"
        )
    subdiv = settings.get("subdiv")
    if subdiv is not None and not isinstance(subdiv, str):
        raise CalendarError(
            f"calendar holidays: expected 'subdiv' as a subdivision code such as 'CA' or null, "
            f"found {_show(subdiv)}"
        )
    rule = HolidayRule(country, subdiv, _parse_categories(settings.get("categories")))
    _check_holiday_rule(rule)
    return rule


def _parse_categories(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(item, str) for item in value)
    ):
        raise CalendarError(
            f"calendar holidays: expected 'categories' as a non-empty list of names such as "
            f'["public"], found {_show(value)}'
        )
    return tuple(value)


def _check_holiday_rule(rule: HolidayRule) -> None:
    """Ask the holidays package, one setting at a time, so the message names the bad one."""
    steps: list[tuple[HolidayRule, str, object]] = [
        (
            HolidayRule(rule.country, None, None),
            "a country the holidays package knows",
            rule.country,
        ),
        (
            HolidayRule(rule.country, rule.subdiv, None),
            f"a subdivision of {rule.country}",
            rule.subdiv,
        ),
        (rule, f"holiday categories of {rule.country}", rule.categories),
    ]
    for partial_rule, expected, found in steps:
        try:
            make_holiday_source(partial_rule)
        # The package raises NotImplementedError for an unknown country or subdivision and
        # ValueError for an unknown category.
        except (NotImplementedError, ValueError, KeyError) as error:
            raise CalendarError(
                f"calendar holidays: expected {expected}, found {_show(found)} ({error})"
            ) from None


# --- fingerprints ----------------------------------------------------------------------------

# The name and version of the canonical form that fingerprints digest: a new form gets a new
# name, so that fingerprints of two forms never meet.
_CALENDAR_FORM = "metrics_engine.calendar/1"
_TEAMS_FORM = "metrics_engine.team_calendars/1"


def _fingerprint(spec: CalendarSpec) -> str:
    """A short digest of a calendar's definition: the zone by name, each day's intervals in day
    seconds (sorted and without repeats, which change nothing), the date overrides and the
    holiday rule (categories sorted). Equal definitions give equal fingerprints on any machine;
    the holidays package's own dates are not part of it."""
    rule = spec.holidays
    form = {
        "timezone": spec.timezone,
        "week": [sorted(set(day)) for day in spec.week],
        "dates": [[day.isoformat(), sorted(set(intervals))] for day, intervals in spec.dates],
        "holidays": None
        if rule is None
        else {
            "country": rule.country,
            "subdiv": rule.subdiv,
            "categories": None if rule.categories is None else sorted(set(rule.categories)),
        },
    }
    return _digest([_CALENDAR_FORM, form])


def team_fingerprint(default: str, teams: Mapping[str, str]) -> str:
    """The fingerprint of a team-calendar set from its calendars' fingerprints (teams by id
    text)."""
    return _digest([_TEAMS_FORM, default, sorted(teams.items())])


def _digest(form: object) -> str:
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


# --- helpers ---------------------------------------------------------------------------------


def _expect_mapping(value: object, where: str) -> Mapping[object, object]:
    if not isinstance(value, Mapping):
        raise CalendarError(f"{where}: expected an object, found {_show(value)}")
    return value


def _reject_unknown_keys(obj: Mapping[object, object], known: Sequence[str], where: str) -> None:
    for key in obj:
        if key not in known:
            raise CalendarError(
                f"{where}: expected only the keys {', '.join(known)}, found {_show(key)}"
            )


def _show(value: object) -> str:
    """A short one-line rendering of a found value: its repr, or its type when long."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long for text, a deep nesting
        return f"{type(value).__name__} (too large to show)"
    if len(text) > 60:
        return f"{type(value).__name__} {text[:50]}…"
    return text
