"""The input side of ``metrics_engine.spark`` on the executors: no ``pyspark`` here.

A calendar as it travels to the executors, the latest ``at`` of a task's events, and the one
repair that events rebuilt from a schema-inferred DataFrame need.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from typing import Any, Final

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import parse_instant

__all__ = ["LatestAt", "ShippedCalendar", "unfold_statuses"]

Calendar = BusinessCalendar | TeamCalendars

# Calendars built in this Python worker, by the token of the call that sent them: Spark reuses
# its Python workers across tasks, so a calendar's cache of built years survives from one task
# to the next instead of being rebuilt for each partition.
_BUILT: dict[str, Calendar | None] = {}
_BUILT_KEPT: Final = 8


class ShippedCalendar:
    """A calendar as it travels to the executors: inside the function Spark sends once per
    task (never per case), and built once per Python worker."""

    __slots__ = ("parts", "token")

    def __init__(self, calendar: Calendar | None) -> None:
        self.token = uuid.uuid4().hex
        self.parts: Any
        if isinstance(calendar, TeamCalendars):  # its mapping proxy does not pickle
            self.parts = ("teams", calendar.default, dict(calendar.teams))
        else:
            self.parts = ("one", calendar)

    def get(self) -> Calendar | None:
        if self.token in _BUILT:
            return _BUILT[self.token]
        if self.parts[0] == "teams":
            calendar: Calendar | None = TeamCalendars(self.parts[1], self.parts[2])
        else:
            calendar = self.parts[1]
        while len(_BUILT) >= _BUILT_KEPT:
            del _BUILT[next(iter(_BUILT))]
        _BUILT[self.token] = calendar
        return calendar


class LatestAt:
    """The latest ``at`` among events, exact, parsing few of them.

    Within one offset spelling (``Z``, ``-05:00``...), valid ``YYYY-MM-DDTHH:MM:SS`` strings
    sort as their instants do. Per spelling the latest string known to be valid is kept, and a
    plain string not above it is skipped. A string above it is known valid without parsing
    when its date was seen valid with that spelling and its clock is in range; otherwise it is
    parsed. Only the winners become instants, at the end. Other spellings are parsed.
    """

    __slots__ = ("best", "dates", "latest")

    def __init__(self) -> None:
        self.latest: int | None = None  # of the spellings that are not plain
        self.best: dict[str, str] = {}  # offset spelling -> latest valid plain string
        self.dates: set[str] = set()  # "YYYY-MM-DD" + spelling, seen valid

    def note(self, at: object) -> None:
        if type(at) is not str or not (len(at) == 20 or len(at) == 25) or not _plain(at):
            self._parse(at)
            return
        spelling = at[19:]
        best = self.best.get(spelling)
        if best is not None and at <= best:
            return
        if at[:10] + spelling in self.dates and _CLOCK.fullmatch(at, 11, 19):
            self.best[spelling] = at
            return
        if self._parse(at):
            self.best[spelling] = at
            if at[:4] not in _EDGE_YEARS:  # near the ends of the range the clock matters
                self.dates.add(at[:10] + spelling)

    def result(self) -> int | None:
        """The latest valid instant noted, or ``None``."""
        for at in self.best.values():
            self._parse(at)
        return self.latest

    def _parse(self, at: object) -> bool:
        try:
            epoch = parse_instant(at, "at")
        except MetricsEngineError:
            return False
        if self.latest is None or epoch > self.latest:
            self.latest = epoch
        return True


_CLOCK: Final = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_EDGE_YEARS: Final = frozenset({"0001", "9999"})


def _plain(at: str) -> bool:
    return at[4] == "-" and at[7] == "-" and at[10] == "T" and at[13] == ":" and at[16] == ":"


def unfold_statuses(event: Any) -> None:
    """A status object that schema inference turned into its JSON text (because other events
    give the status as a string) becomes an object again."""
    if type(event) is not dict:
        return
    for key in ("fields", "changes"):
        values = event.get(key)
        if type(values) is dict:
            status = values.get("status")
            if type(status) is str and status.startswith("{"):
                with contextlib.suppress(ValueError):  # not JSON: left as it is, an error
                    values["status"] = json.loads(status)
