"""Reference business calendar (SPEC section 4), written for clarity, not speed.

Public API
----------
- ``RefError(kind, message, index=None)``: the one exception of the reference; ``.kind`` is a
  short tag ("calendar", "argument", "event", "sequence", "as_of", "rules") and ``.index`` the
  0-based stream position of the offending event, or ``None``.
- ``RefCalendar(obj)``: from the canonical JSON calendar dict.
- ``RefCalendar.from_kayako(obj, timezone)``: from Kayako's business-hours resource object.
- ``RefCalendar.business_seconds(a, b) -> int``
- ``RefCalendar.add_business_seconds(t, n) -> datetime``
- ``RefTeamCalendars(obj)``: from ``{"default": <calendar>, "teams": {"<team>": <calendar>}}``;
  ``.calendar_for(team)`` picks the team's calendar (by text) or the default.

Method: for a query [a, b) every local date from (date of a - 3 days) to (date of b + 1 day) is
expanded into the wall-clock intervals that belong to it (date override, else closed when a
holiday, else the week's intervals); each wall time becomes an instant through
``datetime(..., tzinfo=ZoneInfo(tz))`` at fold=0; empty intervals are dropped; the union is
taken and intersected with [a, b).

CHOICE decisions (each also marked ``# CHOICE:`` in the code):
- Unknown top-level keys of the canonical calendar are ignored (only weekday keys are
  checked, as SPEC says).
- ``week`` missing or null means every weekday is closed; a weekday whose value is null is
  closed; ``dates`` and ``holidays`` missing or null mean none.
- Time strings must be exactly ``HH:MM`` or ``HH:MM:SS`` with two digits each; ``24:00`` /
  ``24:00:00`` is the only hour-24 value and only as an end.
- ``holidays.categories`` may be a list of strings or a single string; ``country`` is required
  when ``holidays`` is given; ``subdiv`` is optional.
- Errors of the queries themselves (naive datetime, n not a non-negative integer) use kind
  "argument"; everything about building a calendar uses kind "calendar".
- ``add_business_seconds`` with a negative ``n`` raises (SPEC defines only n >= 0).
- "Ten calendar years of t" is measured on t's UTC date: the same UTC wall time ten years
  later (29 February becomes 28 February); an answer exactly at that bound is accepted.
- Kayako: the whole object may be a JSON string, ``zones`` may be a JSON string, and a full API
  response ``{"data": {...}}`` is unwrapped; day names are full English names or their
  three-letter abbreviations, any letter case; hour slots are integers 0..23 (a string of
  digits is accepted too); a holiday without ``open_hours`` (or null) closes the date; two
  holiday entries for one date take the union of their slots; missing or null ``zones`` or
  ``holidays`` mean none.
- Team keys: two keys with the same text (``3`` and ``"3"``) are an error; ``teams`` missing or
  null means no team calendars; a ``default`` is required.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KAYAKO_DAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(DAY_KEYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KAYAKO_DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")

# A wall-clock interval: (start second of day, end second of day, end is next day)
WallInterval = tuple[int, int]


class RefError(Exception):
    """Every error raised by the reference implementation."""

    def __init__(self, kind: str, message: str, index: int | None = None) -> None:
        super().__init__(message if index is None else f"{message} (event index {index})")
        self.kind: str = kind
        self.index: int | None = index


# --------------------------------------------------------------------------- instants


def is_aware(dt: datetime) -> bool:
    return dt.tzinfo is not None and dt.utcoffset() is not None


def to_epoch(dt: datetime) -> int:
    """Whole seconds since the epoch, truncated toward the past. ``dt`` must be aware."""
    delta = dt - EPOCH
    # timedelta is normalised so that 0 <= seconds < 86400 and 0 <= microseconds: this floors.
    return delta.days * 86400 + delta.seconds


def from_epoch(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def _query_instant(dt: Any, what: str) -> int:
    if not isinstance(dt, datetime):
        raise RefError("argument", f"expected an aware datetime for {what}, found {dt!r}")
    if not is_aware(dt):
        raise RefError("argument", f"expected an aware datetime for {what}, found naive {dt!r}")
    return to_epoch(dt)


# --------------------------------------------------------------------------- parsing


def _parse_time(text: Any, *, is_end: bool) -> int:
    """'HH:MM' or 'HH:MM:SS' -> seconds of day; '24:00' (86400) only as an end."""
    if not isinstance(text, str):
        raise RefError("calendar", f"expected a time 'HH:MM', found {text!r}")
    m = _TIME_RE.match(text)
    if not m:
        raise RefError("calendar", f"expected a time 'HH:MM' or 'HH:MM:SS', found {text!r}")
    hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hh == 24 and mm == 0 and ss == 0:
        if not is_end:
            raise RefError("calendar", f"expected a start time before 24:00, found {text!r}")
        return 86400
    if hh > 23 or mm > 59 or ss > 59:
        raise RefError("calendar", f"expected a valid wall-clock time, found {text!r}")
    return hh * 3600 + mm * 60 + ss


def _parse_interval_list(value: Any, where: str) -> list[WallInterval]:
    if value is None:
        # CHOICE: a null interval list is the same as an empty one (closed).
        return []
    if not isinstance(value, (list, tuple)):
        raise RefError("calendar", f"expected a list of intervals for {where}, found {value!r}")
    out: list[WallInterval] = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise RefError(
                "calendar", f"expected an interval [start, end] in {where}, found {item!r}"
            )
        out.append((_parse_time(item[0], is_end=False), _parse_time(item[1], is_end=True)))
    return out


def _wall_to_epoch(day: date, second_of_day: int, zone: ZoneInfo) -> int:
    """Local wall time -> instant, as zoneinfo does at fold=0."""
    extra_days, sod = divmod(second_of_day, 86400)
    d = day + timedelta(days=extra_days)
    hh, rem = divmod(sod, 3600)
    mm, ss = divmod(rem, 60)
    return to_epoch(datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=zone))  # fold=0


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals, sorted, touching ones joined."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class RefCalendar:
    """A business calendar built from the canonical JSON dict of SPEC section 4."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        if not isinstance(obj, Mapping):
            raise RefError("calendar", f"expected a calendar object, found {obj!r}")
        # CHOICE: unknown top-level keys are ignored.
        tz_name = obj.get("timezone")
        if not isinstance(tz_name, str) or not tz_name:
            raise RefError("calendar", f"expected an IANA time zone name, found {tz_name!r}")
        try:
            self.zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise RefError("calendar", f"expected an IANA time zone, found {tz_name!r}") from exc
        self.timezone_name: str = tz_name

        week_obj = obj.get("week")
        if week_obj is None:
            week_obj = {}  # CHOICE: no week means every weekday is closed
        if not isinstance(week_obj, Mapping):
            raise RefError("calendar", f"expected 'week' to be an object, found {week_obj!r}")
        self.week: list[list[WallInterval]] = [[] for _ in DAY_KEYS]
        for key, value in week_obj.items():
            if key not in DAY_KEYS:
                raise RefError("calendar", f"expected a weekday key mon..sun, found {key!r}")
            self.week[DAY_KEYS.index(key)] = _parse_interval_list(value, f"week.{key}")

        dates_obj = obj.get("dates")
        if dates_obj is None:
            dates_obj = {}
        if not isinstance(dates_obj, Mapping):
            raise RefError("calendar", f"expected 'dates' to be an object, found {dates_obj!r}")
        self.dates: dict[date, list[WallInterval]] = {}
        for key, value in dates_obj.items():
            if not isinstance(key, str) or not _DATE_RE.match(key):
                raise RefError("calendar", f"expected a date key 'YYYY-MM-DD', found {key!r}")
            try:
                d = date.fromisoformat(key)
            except ValueError as exc:
                raise RefError("calendar", f"expected a real date, found {key!r}") from exc
            self.dates[d] = _parse_interval_list(value, f"dates.{key}")

        self._holidays: Any = None
        hol_obj = obj.get("holidays")
        if hol_obj is not None:
            self._holidays = self._make_holidays(hol_obj)

        has_week = any(self.week)
        has_opening_override = any(self.dates.values())
        if not has_week and not has_opening_override:
            raise RefError(
                "calendar",
                "expected at least one open interval in the week or an opening date override, "
                "found none",
            )

    @staticmethod
    def _make_holidays(hol_obj: Any) -> Any:
        if not isinstance(hol_obj, Mapping):
            raise RefError("calendar", f"expected 'holidays' to be an object, found {hol_obj!r}")
        country = hol_obj.get("country")
        subdiv = hol_obj.get("subdiv")
        categories = hol_obj.get("categories")
        if not isinstance(country, str):
            raise RefError("calendar", f"expected holidays.country as a string, found {country!r}")
        if subdiv is not None and not isinstance(subdiv, str):
            raise RefError("calendar", f"expected holidays.subdiv as a string, found {subdiv!r}")
        if categories is not None:
            # CHOICE: a single category string is accepted as well as a list of strings.
            if isinstance(categories, str):
                categories = [categories]
            if not isinstance(categories, (list, tuple)) or not all(
                isinstance(c, str) for c in categories
            ):
                raise RefError(
                    "calendar", f"expected holidays.categories as strings, found {categories!r}"
                )
            categories = tuple(categories)
        try:
            hol = holidays_pkg.country_holidays(country, subdiv=subdiv, categories=categories)
            _ = date(2000, 1, 1) in hol  # force loading: bad categories fail here
        except Exception as exc:  # the holidays package raises several kinds
            raise RefError(
                "calendar", f"expected a known holidays region, found {hol_obj!r}: {exc}"
            ) from exc
        return hol

    # ----------------------------------------------------------------- Kayako import

    @classmethod
    def from_kayako(cls, obj: Any, timezone: str) -> RefCalendar:
        return cls(kayako_to_canonical(obj, timezone))

    # ----------------------------------------------------------------- core

    def is_holiday(self, d: date) -> bool:
        return self._holidays is not None and d in self._holidays

    def wall_intervals_of(self, d: date) -> list[WallInterval]:
        """The intervals that belong to local date ``d`` (override, holiday, week)."""
        if d in self.dates:
            return self.dates[d]
        if self.is_holiday(d):
            return []
        return self.week[d.weekday()]

    def instant_intervals_of(self, d: date) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for start_sod, end_sod in self.wall_intervals_of(d):
            if end_sod <= start_sod:  # overnight: ends on the next day
                end_sod += 86400
            start = _wall_to_epoch(d, start_sod, self.zone)
            end = _wall_to_epoch(d, end_sod, self.zone)  # 86400 -> next day 00:00
            if end > start:
                out.append((start, end))
        return out

    def local_date(self, instant: int) -> date:
        return from_epoch(instant).astimezone(self.zone).date()

    def open_intervals(self, a: int, b: int) -> list[tuple[int, int]]:
        """Merged open intervals clipped to [a, b) (epoch seconds, a <= b)."""
        first = self.local_date(a) - timedelta(days=3)
        last = self.local_date(b) + timedelta(days=1)
        raw: list[tuple[int, int]] = []
        d = first
        while d <= last:
            raw.extend(self.instant_intervals_of(d))
            d += timedelta(days=1)
        clipped: list[tuple[int, int]] = []
        for s, e in _merge(raw):
            s, e = max(s, a), min(e, b)
            if e > s:
                clipped.append((s, e))
        return clipped

    def business_seconds_epoch(self, a: int, b: int) -> int:
        if a > b:
            return -self.business_seconds_epoch(b, a)
        return sum(e - s for s, e in self.open_intervals(a, b))

    def business_seconds(self, a: datetime, b: datetime) -> int:
        return self.business_seconds_epoch(_query_instant(a, "a"), _query_instant(b, "b"))

    def add_business_seconds(self, t: datetime, n: int) -> datetime:
        t0 = _query_instant(t, "t")
        if isinstance(n, bool) or not isinstance(n, int):
            raise RefError("argument", f"expected an integer n, found {n!r}")
        if n < 0:
            # CHOICE: SPEC defines add_business_seconds for n >= 0 only.
            raise RefError("argument", f"expected n >= 0, found {n}")
        limit = _ten_years_after(t0)
        u = self._earliest_with_count(t0, n, limit)
        if u is None:
            raise RefError(
                "calendar", f"expected {n} business seconds within ten years of {t}, found fewer"
            )
        return from_epoch(u).astimezone(t.tzinfo)

    def _earliest_with_count(self, t0: int, n: int, limit: int) -> int | None:
        if n == 0:
            return t0
        remaining = n
        cursor = t0
        week = 7 * 86400
        while cursor < limit:
            window_end = min(cursor + week, limit)
            for s, e in self.open_intervals(cursor, window_end):
                if e - s >= remaining:
                    return s + remaining
                remaining -= e - s
            cursor = window_end
        return None


def _ten_years_after(t0: int) -> int:
    # CHOICE: ten calendar years on the UTC calendar; 29 February -> 28 February.
    dt = from_epoch(t0)
    try:
        later = dt.replace(year=dt.year + 10)
    except ValueError:
        later = dt.replace(year=dt.year + 10, day=28)
    return to_epoch(later)


# --------------------------------------------------------------------------- Kayako


def _kayako_slot(value: Any) -> int:
    if isinstance(value, bool):
        raise RefError("calendar", f"expected an hour slot 0..23, found {value!r}")
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # CHOICE: a string of digits is accepted as a slot
    if not isinstance(value, int) or not 0 <= value <= 23:
        raise RefError("calendar", f"expected an hour slot 0..23, found {value!r}")
    return value


def _slots_to_intervals(slots: Any, where: str) -> list[list[str]]:
    if slots is None:
        return []
    if not isinstance(slots, (list, tuple)):
        raise RefError("calendar", f"expected a list of hour slots for {where}, found {slots!r}")
    out: list[list[str]] = []
    for raw in slots:
        h = _kayako_slot(raw)
        out.append([f"{h:02d}:00", f"{h + 1:02d}:00"])  # 23 -> ["23:00", "24:00"]
    return out


def kayako_to_canonical(obj: Any, timezone: str) -> dict[str, Any]:
    """Kayako business-hours object -> canonical calendar dict (same calendar)."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except ValueError as exc:
            raise RefError(
                "calendar", f"expected Kayako business hours JSON, found {obj[:60]!r}"
            ) from exc
    if isinstance(obj, Mapping) and "zones" not in obj and isinstance(obj.get("data"), Mapping):
        obj = obj["data"]  # CHOICE: a whole API response is unwrapped
    if not isinstance(obj, Mapping):
        raise RefError("calendar", f"expected a Kayako business hours object, found {obj!r}")

    zones = obj.get("zones")
    if isinstance(zones, str):
        try:
            zones = json.loads(zones)
        except ValueError as exc:
            raise RefError("calendar", f"expected zones as JSON, found {zones[:60]!r}") from exc
    if zones is None:
        zones = {}
    if not isinstance(zones, Mapping):
        raise RefError("calendar", f"expected 'zones' to be an object, found {zones!r}")
    week: dict[str, list[list[str]]] = {}
    for name, slots in zones.items():
        if not isinstance(name, str) or name.lower() not in KAYAKO_DAY_NAMES:
            raise RefError("calendar", f"expected a day name such as 'monday', found {name!r}")
        key = DAY_KEYS[KAYAKO_DAY_NAMES[name.lower()]]
        week.setdefault(key, []).extend(_slots_to_intervals(slots, f"zones.{name}"))

    hol_list = obj.get("holidays")
    if hol_list is None:
        hol_list = []
    if not isinstance(hol_list, (list, tuple)):
        raise RefError("calendar", f"expected 'holidays' to be a list, found {hol_list!r}")
    dates: dict[str, list[list[str]]] = {}
    for entry in hol_list:
        if not isinstance(entry, Mapping):
            raise RefError("calendar", f"expected a holiday object, found {entry!r}")
        raw_date = entry.get("date")
        m = _KAYAKO_DATE_RE.match(raw_date) if isinstance(raw_date, str) else None
        if not m:
            raise RefError("calendar", f"expected a holiday date 'DD/MM/YYYY', found {raw_date!r}")
        try:
            d = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError as exc:
            raise RefError("calendar", f"expected a real date, found {raw_date!r}") from exc
        # CHOICE: two entries for one date take the union of their open hours.
        dates.setdefault(d.isoformat(), []).extend(
            _slots_to_intervals(entry.get("open_hours"), f"holiday {raw_date}")
        )
    return {"timezone": timezone, "week": week, "dates": dates}


# --------------------------------------------------------------------------- teams


def id_text(value: Any) -> str:
    """Ids compare by their text: 17 and "17" are the same."""
    return value if isinstance(value, str) else str(value)


def _as_calendar(value: Any) -> RefCalendar:
    return value if isinstance(value, RefCalendar) else RefCalendar(value)


class RefTeamCalendars:
    """A default calendar plus one calendar per team (team keys compared by text)."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        if not isinstance(obj, Mapping) or "default" not in obj:
            raise RefError("calendar", f"expected {{'default': ..., 'teams': ...}}, found {obj!r}")
        self.default: RefCalendar = _as_calendar(obj["default"])
        teams_obj = obj.get("teams")
        if teams_obj is None:
            teams_obj = {}
        if not isinstance(teams_obj, Mapping):
            raise RefError("calendar", f"expected 'teams' to be an object, found {teams_obj!r}")
        self.teams: dict[str, RefCalendar] = {}
        for key, value in teams_obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise RefError("calendar", f"expected a team id (string or integer), found {key!r}")
            text = id_text(key)
            if text in self.teams:  # CHOICE: 3 and "3" together are an error
                raise RefError("calendar", f"expected distinct team keys, found {key!r} twice")
            self.teams[text] = _as_calendar(value)

    @classmethod
    def single(cls, calendar: RefCalendar) -> RefTeamCalendars:
        return cls({"default": calendar})

    def calendar_for(self, team: Any) -> RefCalendar:
        if team is None:
            return self.default
        return self.teams.get(id_text(team), self.default)
