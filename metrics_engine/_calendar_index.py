"""The open-seconds index of a business calendar: its time line, built a year at a time.

A calendar's open time is one flat sorted list of merged bounds in UTC epoch seconds, beside
the open seconds accumulated before each bound (``_TimeLine``; the theory is in the module
docstring of ``_calendar``). This module builds and reads that line: ``_YearBuilder`` turns
the spec into the open intervals of one calendar year at a time (the only time-zone work),
``_merge`` merges sorted intervals into bounds and accumulated seconds, and
``_open_seconds_before`` reads a line at one instant. ``_calendar`` chooses the years to
build, publishes the line for threads and answers the queries.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING

from metrics_engine._calendar_spec import (
    SECONDS_PER_DAY,
    CalendarSpec,
    DayInterval,
    load_zone,
    make_holiday_source,
)

if TYPE_CHECKING:
    import zoneinfo

    import holidays

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Dates that can be built. The last date of 9999 is left out because its overnight intervals
# would end in year 10000, which ``datetime`` cannot hold.
_FIRST_DATE = date(1, 1, 1)
_LAST_DATE = date(9999, 12, 30)

# A zero-length interval before any real one, so that a bisect never returns 0.
_SENTINEL = -(2**62)

# A built time line (bounds, cumulative, covered_from, covered_until): flat merged bounds
# [start0, end0, start1, end1, ...] in epoch seconds, sentinel first; cumulative[k], the open
# seconds from the sentinel up to bounds[k]; the instants whose every reaching date is built
# (covered_from > covered_until when none). A plain tuple, unpacked in one step on the hot path.
_TimeLine = tuple[list[int], list[int], int, int]


class _YearBuilder:
    """Turns the spec into open intervals (epoch seconds, unmerged), one calendar year at a time.

    Not safe for threads on its own: only ``BusinessCalendar._cover`` calls it, under the
    calendar's lock (the holidays object inside changes itself when asked about a date).
    """

    __slots__ = (
        "_by_year",
        "_holiday_source",
        "_overrides",
        "_zone",
        "first_year",
        "last_year",
        "spec",
    )

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self._zone: zoneinfo.ZoneInfo = load_zone(spec.timezone)
        self._overrides: dict[date, tuple[DayInterval, ...]] = dict(spec.dates)
        self._holiday_source: holidays.HolidayBase | None = (
            make_holiday_source(spec.holidays) if spec.holidays is not None else None
        )
        self._by_year: dict[int, list[tuple[int, int]]] = {}
        self.first_year = 0
        self.last_year = -1

    def build(self, first_year: int, last_year: int) -> None:
        for year in range(first_year, last_year + 1):
            if year not in self._by_year:
                self._by_year[year] = self._build_year(year)
        self.first_year, self.last_year = first_year, last_year

    def intervals(self, first_year: int, last_year: int) -> list[tuple[int, int]]:
        return sorted(
            chain.from_iterable(self._by_year[y] for y in range(first_year, last_year + 1))
        )

    def _build_year(self, year: int) -> list[tuple[int, int]]:
        closed_dates = self._holiday_dates(year)
        week = self.spec.week
        first_ordinal = max(date(year, 1, 1), _FIRST_DATE).toordinal()
        last_ordinal = min(date(year, 12, 31), _LAST_DATE).toordinal()
        intervals: list[tuple[int, int]] = []
        for ordinal in range(first_ordinal, last_ordinal + 1):
            local_date = date.fromordinal(ordinal)
            day_intervals = self._overrides.get(local_date)
            if day_intervals is None:
                day_intervals = () if local_date in closed_dates else week[local_date.weekday()]
            for start_day_second, end_day_second in day_intervals:
                start = self._wall_to_epoch(ordinal, start_day_second)
                end = self._wall_to_epoch(ordinal, end_day_second)
                if end > start:  # a DST gap can swallow a short interval whole
                    intervals.append((start, end))
        return intervals

    def _wall_to_epoch(self, ordinal: int, day_second: int) -> int:
        """Epoch second of a local wall time (fold=0), ``day_second`` after a date's midnight."""
        wall = datetime.fromordinal(ordinal) + timedelta(seconds=day_second)
        offset = self._zone.utcoffset(wall)
        assert offset is not None  # a ZoneInfo gives every wall time an offset
        offset_seconds = offset.days * SECONDS_PER_DAY + offset.seconds
        return (ordinal - _EPOCH_ORDINAL) * SECONDS_PER_DAY + day_second - offset_seconds

    def _holiday_dates(self, year: int) -> set[date]:
        """The year's dates that the holidays package lists.

        The package is asked for the neighbouring years as well: an observed day can fall in
        the year before or after its holiday (New Year 2022, a Saturday, is observed on Friday
        2021-12-31), and computing them keeps the answer independent of build order.
        """
        source = self._holiday_source
        if source is None:
            return set()
        for neighbour in range(max(year - 1, 1), min(year + 1, 9999) + 1):
            # With expand=True, a membership test computes that whole year.
            _ = date(neighbour, 1, 1) in source
        return {holiday for holiday in source if holiday.year == year}


def _open_seconds_before(line: _TimeLine, epoch_second: int) -> int:
    """Open seconds from the sentinel to an instant that ``line`` covers."""
    bounds, cumulative = line[0], line[1]
    i = bisect_right(bounds, epoch_second)
    return cumulative[i - 1] + (epoch_second - bounds[i - 1]) * (i & 1)


def _merge(intervals: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Flat merged bounds and the open seconds accumulated at each, from sorted intervals."""
    bounds = [_SENTINEL, _SENTINEL]
    cumulative = [0, 0]
    total = 0
    for start, end in intervals:
        if start <= bounds[-1]:
            # Overlaps or touches the previous interval: extend it, never count twice.
            if end > bounds[-1]:
                total += end - bounds[-1]
                bounds[-1] = end
                cumulative[-1] = total
        else:
            bounds.append(start)
            cumulative.append(total)
            total += end - start
            bounds.append(end)
            cumulative.append(total)
    return bounds, cumulative
