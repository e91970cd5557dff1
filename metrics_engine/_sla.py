"""The SLA clocks, measured at read time from what the replay recorded (docs/sla.md).

Theory of operation
-------------------
The replay records only what the events said, never a policy, in an :class:`SlaRecord` (its
condition rows, its reply cycles and the team segments: see ``_sla_record``, which also
reads a record with a policy).

The resolution clock needs no rows of its own: it runs while the conditions say the case is
unresolved. :func:`measure_clocks` applies a policy to that record at ``as_of``: it walks each
clock's life in *segments* (maximal spans with one condition, and with per-team calendars
one team), judges overdue at each segment's first instant with the target in force then,
finds where the goal runs out inside a segment, and adds up the active seconds in calendar
and in business hours. Instants are atomic: a segment starts with the conditions as they are
once every event of its first instant has been applied. A completed clock is judged at its
completion with the target it completed under, which is why cycles keep condition rows
(events apply in order within a second) and not instants.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from metrics_engine._calendar import BusinessCalendar
from metrics_engine._errors import CalendarError
from metrics_engine._sla_record import (
    AT,
    BY,
    CLOSED_IN,
    COMPLETED,
    OPENED_IN,
    RESOLVED,
    STARTED,
    Calendar,
    SlaRecord,
    _Case,
)
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, require_calendar
from metrics_engine._sla_target import METRIC_TYPES, Goal, SlaTarget

__all__ = ["Clock", "measure_clocks"]

FIRST, NEXT, RESOLUTION = METRIC_TYPES
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_INSTANT: Final = int(datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC).timestamp())
_AFTER_EVERYTHING: Final = _LAST_INSTANT + 1
_SECOND: Final = timedelta(seconds=1)
#: Ten calendar years hold at least 3651 days (from a 29 February to the 28th ten years on).
_TEN_YEARS_AT_LEAST: Final = 3651 * 86400


#: One clock as measured here, instants in epoch seconds: metric type, cycle, stage,
#: started_at, due_at, completed_at, completed_by, last_paused_at, breached_at,
#: elapsed_seconds, remaining_seconds, target. ``_sla_output`` shapes it for users.
Clock = tuple[
    str, int, str, int, int | None, int | None, str | None, int | None, int | None, int,
    int | None, SlaTarget | None,
]  # fmt: skip


class _Run(NamedTuple):
    """What walking one clock's life found."""

    calendar_used: int  # active seconds, every second counting
    business_used: int  # active open seconds (0 without business targets or a calendar)
    breached_at: int | None
    last_paused_at: int | None
    paused_at_end: bool  # paused during the second before the (last) completion
    # active spans: (start, end, calendar or None, calendar seconds, business seconds)
    pieces: list[tuple[int, int, BusinessCalendar | None, int, int]]

    def used(self, goal: Goal) -> int:
        return self.business_used if goal.business else self.calendar_used


Step = tuple[int, int | None, int | None]  # (start, end or None while running, closed_in)


def _walk(case: _Case, goals: list[Goal | None], steps: Sequence[Step]) -> _Run:
    """Walk the clock's open periods in order (see the module doc)."""
    inst_at = case.inst_at
    inst_row = case.inst_row
    row_active = case.active
    team_at = case.team_at
    calendars = case.team_calendars if case.business else None
    last_inst = len(inst_at) - 1
    last_team = len(team_at) - 1
    as_of = case.as_of
    calendar_used = business_used = 0
    breached_at: int | None = None
    last_paused_at: int | None = None
    paused_at_end = False
    pieces: list[tuple[int, int, BusinessCalendar | None, int, int]] = []
    for start, end, closed_in in steps:
        running = end is None
        stop = as_of if end is None else end
        if not running and stop == start:
            # Open for no time (opened and completed within one instant, or a resolution
            # inside a resolved stretch): judged at its completion only.
            paused_at_end = False
        else:
            k = bisect_right(inst_at, start) - 1
            j = max(bisect_right(team_at, start) - 1, 0) if last_team else 0
            s = start
            was_active: bool | None = None
            while True:
                row = inst_row[k]
                active = row_active[row]
                if not active and was_active is not False:
                    last_paused_at = s  # a pause starts here (or the clock starts paused)
                goal = goals[row]
                if goal is not None and breached_at is None:
                    used = business_used if goal.business else calendar_used
                    if used > goal.seconds or (used == goal.seconds and active):
                        breached_at = s
                # Skip instants that change nothing this clock reads (exact: being overdue at
                # such an instant is found by the search for the crossing below).
                while (
                    k < last_inst
                    and row_active[inst_row[k + 1]] is active
                    and goals[inst_row[k + 1]] is goal
                ):
                    k += 1
                following = inst_at[k + 1] if k < last_inst else _AFTER_EVERYTHING
                if j < last_team and team_at[j + 1] < following:
                    following = team_at[j + 1]
                final = following > stop or (not running and following == stop)
                e = stop if final else following
                if active and e > s:
                    # Count the active span [s, e); look for the goal running out inside it.
                    calendar_seconds = e - s
                    calendar = None if calendars is None else calendars[j]
                    business_seconds = (
                        0 if calendar is None else calendar.epoch_business_seconds(s, e)
                    )
                    if goal is not None and breached_at is None:
                        crossing = _crossing(
                            goal, s, calendar_used, business_used, calendar, calendar_seconds,
                            business_seconds,
                        )  # fmt: skip
                        if crossing is not None and (
                            crossing < e or (final and running and crossing == e)
                        ):
                            breached_at = crossing
                    calendar_used += calendar_seconds
                    business_used += business_seconds
                    pieces.append((s, e, calendar, calendar_seconds, business_seconds))
                was_active = active
                if final:
                    break
                s = following
                while k < last_inst and inst_at[k + 1] <= s:
                    k += 1
                while j < last_team and team_at[j + 1] <= s:
                    j += 1
            paused_at_end = not running and not was_active
        if end is not None and closed_in is not None and breached_at is None:
            goal = goals[closed_in]
            if goal is not None:
                used = business_used if goal.business else calendar_used
                if used > goal.seconds:
                    breached_at = end
    return _Run(calendar_used, business_used, breached_at, last_paused_at, paused_at_end, pieces)


def _crossing(
    goal: Goal,
    s: int,
    calendar_used: int,
    business_used: int,
    calendar: BusinessCalendar | None,
    calendar_seconds: int,
    business_seconds: int,
) -> int | None:
    """Where the goal runs out in an active span starting at ``s``, if it does (the goal is
    not used up at ``s``: the clock would have been judged overdue there)."""
    if not goal.business:
        remaining = goal.seconds - calendar_used
        return s + remaining if remaining <= calendar_seconds else None
    remaining = goal.seconds - business_used
    if calendar is None or remaining > business_seconds:
        return None
    return _add_business(calendar, s, remaining)


def _add_business(calendar: BusinessCalendar, start: int, seconds: int) -> int | None:
    """The earliest instant after ``seconds`` open seconds from ``start``; None past the limit."""
    try:
        return calendar.epoch_add_business_seconds(start, seconds)
    except CalendarError:
        return None


def _due(case: _Case, run: _Run, goal: Goal, x: int) -> int | None:
    """When the clock has used its goal, reading it as active from ``x`` on."""
    remaining = goal.seconds - run.used(goal)
    if remaining > 0:
        if goal.business:
            calendars = case.team_calendars
            at_x = calendars[0] if len(calendars) == 1 else case.calendar_at(x)
            return _add_business(at_x, x, remaining)
        due = x + remaining
        if remaining <= _TEN_YEARS_AT_LEAST or due <= _ten_years_later(x):
            return due
        return None
    used = 0  # already used up: when it ran out, on the active spans
    for s, _, calendar, calendar_seconds, business_seconds in run.pieces:
        piece = business_seconds if goal.business else calendar_seconds
        if used + piece >= goal.seconds:
            if goal.business and calendar is not None:
                return _add_business(calendar, s, goal.seconds - used)
            return s + (goal.seconds - used)
        used += piece
    return None  # unreachable: the spans add up to at least the goal


def _ten_years_later(epoch_second: int) -> int:
    """The same UTC wall time ten calendar years on (29 February becomes 28 February)."""
    moment = _EPOCH + timedelta(seconds=epoch_second)
    if moment.year + 10 > 9999:
        return _LAST_INSTANT
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    later = moment.replace(year=moment.year + 10, day=day)
    return min((later - _EPOCH) // _SECOND, _LAST_INSTANT)


# --- the clocks ------------------------------------------------------------------------------


def _clock(
    case: _Case,
    metric_type: str,
    goals: list[Goal | None],
    cycle: int,
    started_at: int,
    completed: tuple[int, str, int] | None,
    steps: Sequence[Step],
) -> Clock:
    run = _walk(case, goals, steps)
    if completed is not None:
        completed_at, completed_by, closed_in = completed
        stage = "COMPLETED"
        goal = goals[closed_in]
        x = (
            run.last_paused_at
            if run.paused_at_end and run.last_paused_at is not None
            else completed_at
        )
    else:
        completed_at, completed_by = None, None
        goal = goals[-1]
        if case.active[-1]:
            stage, x = "ACTIVE", case.as_of
        else:
            stage = "PAUSED"
            x = case.as_of if run.last_paused_at is None else run.last_paused_at
    if goal is None:
        elapsed, due = run.calendar_used, None
    else:
        elapsed = run.business_used if goal.business else run.calendar_used
        due = _due(case, run, goal, x)
    return (
        metric_type,
        cycle,
        stage,
        started_at,
        due,
        completed_at,
        completed_by,
        run.last_paused_at,
        run.breached_at,
        elapsed,
        None if goal is None else goal.seconds - elapsed,
        None if goal is None else goal.target,
    )


def _reply_clocks(case: _Case, cycles: Sequence[Sequence[Any]]) -> list[Clock]:
    out = []
    last_row = len(case.conditions) - 1
    metric_type, goals = FIRST, case.goals(FIRST)
    for number, cycle in enumerate(cycles):
        if number == 1:
            metric_type, goals = NEXT, case.goals(NEXT)
        completed_at = cycle[COMPLETED]
        closed_in = cycle[CLOSED_IN]
        opened_in = cycle[OPENED_IN]
        last = last_row if completed_at is None else closed_in
        if goals[opened_in] is None and not any(goals[opened_in + 1 : last + 1]):
            continue  # never under a target while open: no record
        clock = _simple_clock(case, metric_type, goals, number or 1, cycle)
        if clock is None:
            completed = None if completed_at is None else (completed_at, cycle[BY], closed_in)
            steps = ((cycle[STARTED], completed_at, closed_in),)
            clock = _clock(case, metric_type, goals, number or 1, cycle[STARTED], completed, steps)
        out.append(clock)
    return out


def _simple_clock(
    case: _Case, metric_type: str, goals: list[Goal | None], number: int, cycle: Sequence[Any]
) -> Clock | None:
    """:func:`_clock` for the usual reply cycle, in one go: open in one condition (and one
    calendar) from its start to its end, or to ``as_of``. ``None`` when it is not that simple."""
    start = cycle[STARTED]
    end = cycle[COMPLETED]
    inst_at = case.inst_at
    k = bisect_right(inst_at, start) - 1
    following = inst_at[k + 1] if k + 1 < len(inst_at) else _AFTER_EVERYTHING
    calendar = None
    if case.business:
        if len(case.team_calendars) > 1:
            return None  # per-team calendars: the general walk
        calendar = case.team_calendars[0]
    if end is None:
        stop = case.as_of
        if following <= stop:
            return None
    else:
        stop = end
        if following < stop or stop == start:
            return None
    row = case.inst_row[k]
    active = case.active[row]
    running_goal = goals[row]
    calendar_used = business_used = 0
    breached_at: int | None = None
    if active:
        calendar_used = stop - start
        if calendar is not None:
            business_used = calendar.epoch_business_seconds(start, stop)
        if running_goal is not None:  # where the goal runs out, if it does (see _walk)
            crossing = _crossing(running_goal, start, 0, 0, calendar, calendar_used, business_used)
            if crossing is not None and (crossing < stop or (end is None and crossing == stop)):
                breached_at = crossing
    if end is None:
        stage = "ACTIVE" if active else "PAUSED"
        goal = running_goal
        completed_by = None
    else:
        stage = "COMPLETED"
        completed_by = cycle[BY]
        goal = goals[cycle[CLOSED_IN]]
        used = calendar_used if goal is None or not goal.business else business_used
        if breached_at is None and goal is not None and used > goal.seconds:
            breached_at = end
    paused_at = None if active else start
    if goal is None:
        return (metric_type, number, stage, start, None, end, completed_by, paused_at,
                breached_at, calendar_used, None, None)  # fmt: skip
    x = (case.as_of if end is None else end) if active else start
    elapsed = business_used if goal.business else calendar_used
    remaining = goal.seconds - elapsed
    if remaining > 0:  # due when the rest is used from x on
        if goal.business:
            due = None if calendar is None else _add_business(calendar, x, remaining)
        elif remaining <= _TEN_YEARS_AT_LEAST or x + remaining <= _ten_years_later(x):
            due = x + remaining
        else:
            due = None
    elif goal.business:  # used up, so it ran (on its one span): when it ran out
        due = None if calendar is None else _add_business(calendar, start, goal.seconds)
    else:
        due = start + goal.seconds
    return (metric_type, number, stage, start, due, end, completed_by, paused_at, breached_at,
            elapsed, remaining, goal.target)  # fmt: skip


def _resolution_clock(case: _Case) -> Clock | None:
    conditions = case.conditions
    goals = case.goals(RESOLUTION)
    # When it started, whether it ever ran under a target, and its completions by event: the
    # instant of each resolution and the row before it.
    started_at: int | None = None
    under_target = False
    completions: dict[int, int] = {}
    was_resolved = True
    for row, values in enumerate(conditions):
        resolved = values[RESOLVED]
        if not resolved:
            if started_at is None:
                started_at = values[AT]
            if goals[row] is not None:
                under_target = True
        elif not was_resolved:
            completions[values[AT]] = row - 1
        was_resolved = resolved
    if started_at is None or not under_target:
        return None
    # Open periods, by instant; a completion inside a resolved stretch is judged on its own.
    steps: list[Step] = []
    start: int | None = None
    for at, row in zip(case.inst_at, case.inst_row, strict=True):
        resolved = conditions[row][RESOLVED]
        if not resolved and start is None:
            start = at
        elif resolved and start is not None:
            steps.append((start, at, completions.get(at)))
            start = None
        elif resolved and at in completions:
            steps.append((at, at, completions[at]))
    if start is not None:
        steps.append((start, None, None))
    completed = None
    if conditions[-1][RESOLVED]:
        last_at = max(completions)
        completed = (last_at, "resolution", completions[last_at])
    return _clock(case, RESOLUTION, goals, 1, started_at, completed, steps)


def measure_clocks(
    record: SlaRecord,
    sla: SlaPolicy | SlaPolicies,
    *,
    as_of: int,
    calendar: Calendar | None,
) -> list[Clock]:
    """The clocks of one case at ``as_of`` (epoch seconds, not before the last recorded row),
    in report order: first reply, next replies by cycle, resolution.

    Raises :class:`SlaPolicyError` for business-hours targets without a calendar, and an
    error with the event's index for a recorded ``sla`` value that has no policy.
    """
    require_calendar(sla, calendar is not None)
    if not record.conditions:
        return []
    case = _Case(record, sla, as_of, calendar)
    clocks = _reply_clocks(case, record.cycles)
    resolution = _resolution_clock(case)
    if resolution is not None:
        clocks.append(resolution)
    return clocks
