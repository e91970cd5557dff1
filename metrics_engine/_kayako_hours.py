"""Kayako business hours → the canonical calendar object (see docs/calendars.md).

Kayako's business-hours resource describes a week as hour *slots*: the number h in a day's list
means the hour [h:00, h+1:00). Runs of consecutive slots become one interval, so
``[9, 10, ..., 18]`` reads as 09:00–19:00 and slot 23 ends at "24:00". Its ``holidays`` list
gives dates as ``DD/MM/YYYY`` with ``open_hours`` slots that replace that date's hours (an empty
or missing list closes it); they become ``dates`` overrides. Kayako stores no time zone with the
hours, so the caller names one. Everything else in the resource (id, title, is_default, ...) is
ignored. The result is validated by the canonical parser like any other calendar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from metrics_engine._errors import CalendarError

__all__ = ["kayako_to_canonical"]

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KAYAKO_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")

Interval = list[str]


def kayako_to_canonical(obj: object, timezone: object) -> dict[str, object]:
    """The canonical calendar object for a Kayako business-hours resource and a time zone."""
    resource = _unwrap(_decode(obj, "Kayako business hours"))
    if "zones" not in resource:
        raise CalendarError("Kayako business hours: expected a 'zones' object, found none")
    zones = _expect_mapping(_decode(resource["zones"], "Kayako zones"), "Kayako zones")
    return {
        "timezone": timezone,
        "week": _week_from_zones(zones),
        "dates": _dates_from_holidays(resource.get("holidays")),
    }


def _decode(value: object, where: str) -> object:
    """Kayako objects may arrive serialised to JSON text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise CalendarError(f"{where}: expected JSON text, found invalid JSON ({error})") from None
    except RecursionError:
        # The decoder recurses once per level: text nested deeper than Python's stack allows.
        raise CalendarError(
            f"{where}: expected JSON text, found JSON nested too deeply to read"
        ) from None


def _unwrap(value: object) -> Mapping[object, object]:
    """The resource itself, also when given the whole API response ``{"data": {...}}``."""
    resource = _expect_mapping(value, "Kayako business hours")
    if "zones" not in resource and isinstance(resource.get("data"), Mapping):
        return _expect_mapping(resource["data"], "Kayako business hours")
    return resource


def _week_from_zones(zones: Mapping[object, object]) -> dict[str, list[Interval]]:
    week: dict[str, list[Interval]] = {}
    for name, slots in zones.items():
        day_name = name.lower() if isinstance(name, str) else None
        if day_name not in _DAY_NAMES:
            raise CalendarError(
                f"Kayako zones: expected day names monday … sunday, found {_show(name)}"
            )
        key = _WEEKDAY_KEYS[_DAY_NAMES.index(day_name)]
        if key in week:
            raise CalendarError(f"Kayako zones: expected each day once, found {day_name} twice")
        week[key] = _intervals_from_slots(slots, f"Kayako zones {name!r}")
    return week


def _dates_from_holidays(holidays: object) -> dict[str, list[Interval]]:
    if holidays is None:
        return {}
    if not isinstance(holidays, list):
        raise CalendarError(f"Kayako holidays: expected a list, found {type(holidays).__name__}")
    dates: dict[str, list[Interval]] = {}
    for index, holiday in enumerate(holidays):
        where = f"Kayako holidays[{index}]"
        entry = _expect_mapping(holiday, where)
        iso_date = _iso_date(entry.get("date"), where)
        intervals = _intervals_from_slots(entry.get("open_hours") or [], f"{where} open_hours")
        if dates.get(iso_date, intervals) != intervals:
            raise CalendarError(
                f"{where}: expected one set of open hours per date, found {iso_date} again "
                f"with different hours"
            )
        dates[iso_date] = intervals
    return dates


def _iso_date(value: object, where: str) -> str:
    """'DD/MM/YYYY' → 'YYYY-MM-DD' (the canonical parser checks that the date exists)."""
    match = _KAYAKO_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarError(f"{where}: expected 'date' as DD/MM/YYYY, found {_show(value)}")
    day, month, year = match.groups()
    return f"{year}-{month}-{day}"


def _intervals_from_slots(slots: object, where: str) -> list[Interval]:
    """Hour slots → merged [start, end] intervals: [9, 10, 11, 15] → 09:00–12:00, 15:00–16:00."""
    if not isinstance(slots, list):
        raise CalendarError(f"{where}: expected a list of hour slots, found {_show(slots)}")
    hours = set()
    for slot in slots:
        # bool is an int in Python, but true is not an hour.
        if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot <= 23:
            raise CalendarError(f"{where}: expected hour slots 0 … 23, found {_show(slot)}")
        hours.add(slot)
    intervals: list[Interval] = []
    run_start: int | None = None
    for hour in range(25):
        if hour in hours and run_start is None:
            run_start = hour
        elif hour not in hours and run_start is not None:
            intervals.append([f"{run_start:02d}:00", f"{hour:02d}:00"])
            run_start = None
    return intervals


def _expect_mapping(value: object, where: str) -> Mapping[object, object]:
    if not isinstance(value, Mapping):
        raise CalendarError(f"{where}: expected an object, found {type(value).__name__}")
    return value


def _show(value: object) -> str:
    """A found value for a one-line message: its repr cut to 60 characters, or its type when
    it has no printable repr (an integer too long for text, a nesting too deep)."""
    try:
        return f"{value!r:.60}"
    except (ValueError, RecursionError):
        return f"{type(value).__name__} (too large to show)"
