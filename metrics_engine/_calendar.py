"""Business calendars: open seconds between two instants (docs/calendars.md).

Theory of operation. A calendar's open time is a union of intervals on the UTC time line. Each
local date contributes the intervals written for it (a date override, else nothing on a
holiday, else its weekday's intervals); each wall-clock end point becomes an instant the way
``zoneinfo`` reads it at ``fold=0``, and an interval whose end instant is not after its start
instant is dropped. The union is kept as one flat sorted list of merged bounds in UTC epoch
seconds, ``[start0, end0, start1, end1, ...]``, beside the open seconds accumulated before each
bound. The open seconds before an instant are then one ``bisect`` and a multiplication, and
``business_seconds`` is the difference of two of those: its cost does not grow with the span.

The list is built lazily, a calendar year at a time, on the first query that reaches a year,
and the whole built range is re-merged so that intervals that touch or overlap across a year
boundary never count a second twice. Building is the only place that does time-zone work.
``_calendar_index`` builds the years and merges them; this module chooses what to build,
publishes it and answers the queries.

Threads. The built time line is one snapshot (the two lists and the covered range), published
by a single attribute store once complete and never changed after. A query reads it once,
without a lock, so it sees the old line or the new one, never half of each. Building runs under
the calendar's lock, the only way into the year cache and into the ``holidays`` object (which
fills its years in place when asked about a date); a thread that waited for the lock first
checks whether another has built what it needs meanwhile.

Which local dates can reach an instant: a date's intervals lie between its local midnight and
the local midnight two days later, and a UTC offset is less than one day, so the intervals of
local date D lie strictly between UTC midnight of D minus one day and UTC midnight of D plus
three days. An instant is *covered* once every date that can reach it is built.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from threading import Lock
from types import MappingProxyType

from metrics_engine._calendar_index import (
    _EPOCH_ORDINAL,
    _FIRST_DATE,
    _LAST_DATE,
    _SENTINEL,
    _merge,
    _open_seconds_before,
    _TimeLine,
    _YearBuilder,
)
from metrics_engine._calendar_spec import (
    SECONDS_PER_DAY,
    CalendarSpec,
    parse_calendar,
    team_fingerprint,
)
from metrics_engine._errors import CalendarError
from metrics_engine._events import MAX_INT_DIGITS, int_fits
from metrics_engine._kayako_hours import kayako_to_canonical

__all__ = ["BusinessCalendar", "TeamCalendars"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# See the module docstring: the dates that can reach an instant t have their UTC midnight in
# (t - 3 days, t + 1 day].
_REACH_BEFORE_SECONDS = 3 * SECONDS_PER_DAY
_REACH_AFTER_SECONDS = SECONDS_PER_DAY

# The instants this calendar can answer for.
_FIRST_SUPPORTED = (_FIRST_DATE.toordinal() - _EPOCH_ORDINAL) * SECONDS_PER_DAY + (
    _REACH_BEFORE_SECONDS
)
_LAST_SUPPORTED = (_LAST_DATE.toordinal() - _EPOCH_ORDINAL) * SECONDS_PER_DAY - (
    _REACH_AFTER_SECONDS
)

_SEARCH_STEP_SECONDS = 366 * SECONDS_PER_DAY
_SEARCH_YEARS = 10
# The fewest seconds ten calendar years can hold (from a 29 February to the 28th, ten years on).
_TEN_YEARS_AT_LEAST = 3651 * SECONDS_PER_DAY


class BusinessCalendar:
    """Open business seconds of one calendar; build it with ``from_dict`` or ``from_kayako``.

    Immutable from the outside; it caches the years it has built. Safe to share between
    threads: every answer is the one a calendar used by a single thread would give.
    """

    __slots__ = ("_build_lock", "_line", "_years")

    # The current snapshot; replaced whole, under _build_lock, never changed in place.
    _line: _TimeLine
    # Held while building; guards _years (and the holidays object inside it) and _line's writes.
    _build_lock: Lock
    _years: _YearBuilder

    def __init__(self, spec: CalendarSpec) -> None:
        """Wrap an already validated spec; the public constructors are the ``from_*`` ones."""
        if not isinstance(spec, CalendarSpec):
            raise CalendarError(
                f"BusinessCalendar: expected a parsed calendar (use BusinessCalendar.from_dict "
                f"or from_kayako), found {type(spec).__name__}"
            )
        self._years = _YearBuilder(spec)
        self._build_lock = Lock()
        self._line = ([_SENTINEL, _SENTINEL], [0, 0], 0, -1)  # nothing built, nothing covered

    @classmethod
    def from_dict(cls, obj: Mapping[str, object]) -> BusinessCalendar:
        """A calendar from its canonical JSON object (the format of docs/calendars.md)."""
        return cls(parse_calendar(obj))

    @classmethod
    def from_kayako(cls, obj: Mapping[str, object] | str, timezone: str) -> BusinessCalendar:
        """A calendar from Kayako's business-hours resource (an object or its JSON text)."""
        return cls(parse_calendar(kayako_to_canonical(obj, timezone)))

    @property
    def timezone(self) -> str:
        """The IANA name of the calendar's time zone."""
        return self._years.spec.timezone

    @property
    def fingerprint(self) -> str:
        """A short digest of the calendar's definition; saved states record it (docs/state.md)."""
        return self._years.spec.fingerprint

    def __repr__(self) -> str:
        return f"BusinessCalendar(timezone={self.timezone!r})"

    def __reduce__(self) -> tuple[type[BusinessCalendar], tuple[CalendarSpec]]:
        # Pickle the definition, not the cache (worker processes rebuild what they need).
        return (BusinessCalendar, (self._years.spec,))

    # --- queries -----------------------------------------------------------------------------

    def business_seconds(self, a: datetime, b: datetime) -> int:
        """Open seconds in [a, b), both ends truncated to whole seconds; negative if b < a."""
        return self._open_seconds_between(_epoch_second(a), _epoch_second(b))

    def epoch_business_seconds(self, start_epoch_second: int, end_epoch_second: int) -> int:
        """``business_seconds`` on UTC epoch seconds (ints): the replay's hot path."""
        if type(start_epoch_second) is not int or type(end_epoch_second) is not int:
            bad = start_epoch_second if type(start_epoch_second) is not int else end_epoch_second
            raise CalendarError(
                f"business time: expected whole epoch seconds (int), "
                f"found {type(bad).__name__} {bad!r}"
            )
        return self._open_seconds_between(start_epoch_second, end_epoch_second)

    def add_business_seconds(self, t: datetime, n: int) -> datetime:
        """The earliest instant u >= t with ``business_seconds(t, u) == n``.

        ``t`` is truncated to a whole second first, like every instant (docs/events.md), so
        the answer is a whole second too, returned in ``t``'s time zone. Raises CalendarError
        when no such instant exists within ten calendar years of ``t``.
        """
        start_epoch_second = _epoch_second(t)
        if type(n) is not int or n < 0:
            raise CalendarError(
                f"add_business_seconds: expected a whole number of seconds >= 0, found {n!r}"
            )
        found_epoch_second = start_epoch_second
        if n > 0:
            found_epoch_second = self._find_open_second(
                start_epoch_second, n, _ten_years_later(start_epoch_second)
            )
        found = _EPOCH + timedelta(seconds=found_epoch_second)
        return found.astimezone(t.tzinfo)

    def epoch_add_business_seconds(self, start_epoch_second: int, n: int) -> int:
        """``add_business_seconds`` on UTC epoch seconds (ints), without datetimes: the SLA
        clocks' hot path. Raises CalendarError past ten calendar years, as that one does."""
        if type(start_epoch_second) is not int:
            raise CalendarError(
                "add_business_seconds: expected whole epoch seconds (int), "
                f"found {type(start_epoch_second).__name__} {start_epoch_second!r:.60}"
            )
        if type(n) is not int or n < 0:
            raise CalendarError(
                f"add_business_seconds: expected a whole number of seconds >= 0, found {n!r:.60}"
            )
        if n == 0:
            return start_epoch_second
        # Ten calendar years are at least 3651 days: search that far first, and work out the
        # exact bound (a date computation) only when the answer is not found by then.
        near = start_epoch_second + _TEN_YEARS_AT_LEAST
        try:
            return self._find_open_second(start_epoch_second, n, min(near, _LAST_SUPPORTED))
        except CalendarError:
            if _ten_years_later(start_epoch_second) <= near:
                raise
        return self._find_open_second(start_epoch_second, n, _ten_years_later(start_epoch_second))

    # --- the time line -----------------------------------------------------------------------

    def _open_seconds_between(self, start: int, end: int) -> int:
        if start > end:
            return -self._open_seconds_between(end, start)
        # One read of the snapshot: everything below uses these locals only.
        bounds, cumulative, covered_from, covered_until = self._line
        if start < covered_from or end > covered_until:
            bounds, cumulative, covered_from, covered_until = self._cover(start, end)
        # i (j) is odd when start (end) lies inside an open interval that began at bounds[i-1];
        # even when it lies in a closed gap after the interval that ended at bounds[i-1].
        i = bisect_right(bounds, start)
        j = bisect_right(bounds, end)
        return (
            cumulative[j - 1]
            + (end - bounds[j - 1]) * (j & 1)
            - cumulative[i - 1]
            - (start - bounds[i - 1]) * (i & 1)
        )

    def _find_open_second(self, start: int, seconds: int, limit: int) -> int:
        """The first instant after ``seconds`` open seconds from ``start``, at most ``limit``."""
        horizon = start
        line = self._line
        while True:
            # Widen a year at a time: most answers are near, and building is the costly part.
            horizon = min(horizon + _SEARCH_STEP_SECONDS, limit)
            if start < line[2] or horizon > line[3]:
                line = self._cover(start, horizon)
            bounds, cumulative, _, covered_until = line
            target = _open_seconds_before(line, start) + seconds
            # The first bound whose accumulated open seconds reach the target is an interval's
            # end (a start never adds), so the answer lies inside that interval or at its end.
            k = bisect_left(cumulative, target)
            if k < len(bounds):
                found = bounds[k] - (cumulative[k] - target)
                # Past the covered range an interval of an unbuilt date could still come first.
                if found <= covered_until:
                    if found <= limit:
                        return found
                    break
            if horizon >= limit:
                break
        # Both ways out of the loop leave ``limit`` covered by ``line``.
        available = _open_seconds_before(line, limit) - _open_seconds_before(line, start)
        raise CalendarError(
            f"add_business_seconds: expected {seconds} business seconds within ten calendar "
            f"years, found {available}"
        )

    def _cover(self, start: int, end: int) -> _TimeLine:
        """A time line covering [start, end]: built, merged and published if not yet there."""
        if start < _FIRST_SUPPORTED or end > _LAST_SUPPORTED:
            raise CalendarError(
                f"business time: expected instants from {_show_epoch(_FIRST_SUPPORTED)} "
                f"to {_show_epoch(_LAST_SUPPORTED)}, found "
                f"{_show_epoch(start)} to {_show_epoch(end)}"
            )
        with self._build_lock:
            line = self._line
            covered_from, covered_until = line[2], line[3]
            if covered_from <= start and end <= covered_until:
                return line  # another thread built it while this one waited for the lock
            years = self._years
            first_year = _utc_date(start - _REACH_BEFORE_SECONDS).year
            last_year = _utc_date(end + _REACH_AFTER_SECONDS).year
            if covered_from <= covered_until:
                first_year = min(first_year, years.first_year)
                last_year = max(last_year, years.last_year)
            years.build(first_year, last_year)
            bounds, cumulative = _merge(years.intervals(first_year, last_year))
            first_date = max(date(first_year, 1, 1), _FIRST_DATE)
            last_date = min(date(last_year, 12, 31), _LAST_DATE)
            line = (
                bounds,
                cumulative,
                _utc_midnight(first_date) + _REACH_BEFORE_SECONDS,
                _utc_midnight(last_date) - _REACH_AFTER_SECONDS,
            )
            self._line = line  # published whole: readers see the old line or this one
        return line


class TeamCalendars:
    """A default calendar plus one per team; teams are keyed by their id as text."""

    __slots__ = ("_default", "_teams")

    _default: BusinessCalendar
    _teams: Mapping[str, BusinessCalendar]

    def __init__(
        self,
        default: BusinessCalendar,
        teams: Mapping[str | int, BusinessCalendar] | None = None,
    ) -> None:
        if not isinstance(default, BusinessCalendar):
            raise CalendarError(
                f"team calendars: expected a BusinessCalendar as the default, "
                f"found {type(default).__name__}"
            )
        if teams is not None and not isinstance(teams, Mapping):
            raise CalendarError(
                "team calendars: expected 'teams' as a mapping of team ids to calendars, "
                f"found {type(teams).__name__}"
            )
        by_text: dict[str, BusinessCalendar] = {}
        for key, calendar in (teams or {}).items():
            text = _team_text(key)
            if text in by_text:
                raise CalendarError(
                    f"team calendars: expected each team once, found team {text!r} twice "
                    f"(ids compare by their text)"
                )
            if not isinstance(calendar, BusinessCalendar):
                raise CalendarError(
                    f"team calendars: expected a BusinessCalendar for team {text!r}, "
                    f"found {type(calendar).__name__}"
                )
            by_text[text] = calendar
        self._default = default
        self._teams = MappingProxyType(by_text)

    @classmethod
    def from_dict(cls, obj: Mapping[str, object]) -> TeamCalendars:
        """From ``{"default": <calendar>, "teams": {"<team>": <calendar>}}`` (canonical JSON)."""
        if not isinstance(obj, Mapping):
            raise CalendarError(
                f"team calendars: expected an object with 'default' and 'teams', "
                f"found {type(obj).__name__}"
            )
        unknown = [key for key in obj if key not in ("default", "teams")]
        if unknown:
            raise CalendarError(
                f"team calendars: expected only the keys default, teams, found {unknown[0]!r}"
            )
        if "default" not in obj:
            raise CalendarError("team calendars: expected a 'default' calendar, found none")
        teams = obj.get("teams", {})
        if not isinstance(teams, Mapping):
            raise CalendarError(
                f"team calendars: expected 'teams' as an object of calendars by team id, "
                f"found {type(teams).__name__}"
            )
        default = _calendar_in_set(obj["default"], "default calendar")
        return cls(
            default,
            {
                _team_text(key): _calendar_in_set(value, f"team {key!r}")
                for key, value in teams.items()
            },
        )

    @property
    def default(self) -> BusinessCalendar:
        """The calendar for no team, and for a team without a calendar of its own."""
        return self._default

    @property
    def teams(self) -> Mapping[str, BusinessCalendar]:
        """Read-only view of the team calendars, keyed by team id as text."""
        return self._teams

    def calendar_for(self, team_key: str | int | None) -> BusinessCalendar:
        """The team's calendar; the default for no team (None) or a team without one."""
        if team_key is None:
            return self._default
        return self._teams.get(_team_text(team_key), self._default)

    @property
    def fingerprint(self) -> str:
        """A short digest of the default's and every team's definition (docs/state.md)."""
        teams = {team: calendar.fingerprint for team, calendar in self._teams.items()}
        return team_fingerprint(self._default.fingerprint, teams)

    def __repr__(self) -> str:
        return f"TeamCalendars(default={self._default!r}, teams={sorted(self._teams)!r})"


# --- helpers ---------------------------------------------------------------------------------


def _epoch_second(moment: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime, truncated toward the past."""
    try:
        delta = moment - _EPOCH
    except TypeError:
        # A naive datetime (or one whose tzinfo gives no offset), or not a datetime at all.
        raise _moment_error(moment) from None
    if not isinstance(moment, datetime):
        raise _moment_error(moment)
    # timedelta keeps seconds and microseconds non-negative, so this floors.
    return delta.days * SECONDS_PER_DAY + delta.seconds


def _moment_error(moment: object) -> CalendarError:
    if isinstance(moment, datetime):
        return CalendarError(
            f"business time: expected a timezone-aware datetime, found naive {moment.isoformat()}"
        )
    return CalendarError(
        f"business time: expected a timezone-aware datetime, found {type(moment).__name__} "
        f"{moment!r:.60}"
    )


def _utc_date(epoch_second: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + epoch_second // SECONDS_PER_DAY)


def _utc_midnight(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * SECONDS_PER_DAY


def _show_epoch(epoch_second: int) -> str:
    try:
        return (_EPOCH + timedelta(seconds=epoch_second)).isoformat()
    except OverflowError:
        return f"epoch second {epoch_second}"


def _ten_years_later(epoch_second: int) -> int:
    """The same UTC wall time ten calendar years on (29 February becomes 28 February)."""
    moment = _EPOCH + timedelta(seconds=epoch_second)
    year = moment.year + _SEARCH_YEARS
    if year > 9999:
        return _LAST_SUPPORTED
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    return min(_epoch_second(moment.replace(year=year, day=day)), _LAST_SUPPORTED)


def _team_text(key: object) -> str:
    # Ids are strings or integers (not booleans) and compare by their text (docs/events.md).
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise CalendarError(
            f"team calendars: expected a team id as a string or an integer, "
            f"found {type(key).__name__} {key!r}"
        )
    if isinstance(key, int) and not int_fits(key):
        raise CalendarError(
            f"team calendars: expected a team id of at most {MAX_INT_DIGITS} digits, "
            "found a longer integer"
        )
    return str(key)


def _calendar_in_set(obj: object, where: str) -> BusinessCalendar:
    try:
        return BusinessCalendar(parse_calendar(obj))
    except CalendarError as error:
        raise CalendarError(f"team calendars, {where}: {error.detail}") from None
