"""Reference SLA clocks (SPEC 10.2–10.6): which clocks exist, and each clock's values.

Two passes, both literal:

1. ``build_clocks`` walks the applied steps in order and opens / completes / resumes clocks
   exactly as 10.4 says, event by event (FIRST_REPLY_TIME, NEXT_REPLY_TIME cycles, the
   deferred start, RESOLUTION_TIME). It records, per clock, after which step it was open or
   not, each completion (instant, by, the target in force *before* the completing step), and
   whether a target was ever in force after a step while it was open (10.6: the record rule).

2. ``ClockView`` reads one clock against the *instants* (distinct ``at`` of applied steps):
   its stage after every event of an instant (10.3: instants are atomic), the target in force
   then, the team then. Elapsed time E(t) counts the seconds s in [started_at, t) whose stage
   is ACTIVE (and, in business hours, which are open in the calendar of the team of s).

   E(t) is computed in one of two ways that must agree:
   - ``per_second=True``: literally, one second at a time, into a prefix table; every second
     up to ``as_of`` is tried as a breach instant. Slow; used on short cases in the self-check.
   - default: by pieces. Between two consecutive instants nothing changes (stage, target,
     team), so the count over a piece is its length (calendar hours) or the calendar's open
     seconds in it (business hours): the same sum as second by second. Breach instants are then
     only the instants themselves, ``as_of``, or, inside an ACTIVE piece, the first second at
     which E reaches the goal (E is non-decreasing, found by bisection). Within a piece the
     overdue test is monotone (E only grows, target and stage are fixed), so the first overdue
     instant is always one of these candidates.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ref_calendar import (
    RefError,
    RefTeamCalendars,
    _ten_years_after,
    from_epoch,
    id_text,
    to_epoch,
)
from .ref_replay import State, Status, Step
from .ref_sla_policy import RefSlaPolicies, RefSlaPolicy, RefTarget
from .ref_sla_stream import TYPE_DEFAULT_ACTIVE

ACTIVE, PAUSED, COMPLETED = "ACTIVE", "PAUSED", "COMPLETED"
FRT, NRT, RT = "FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"
CALENDAR_HOURS, BUSINESS_HOURS = "CALENDAR_HOURS", "BUSINESS_HOURS"


@dataclass(frozen=True)
class InForce:
    """A target in force: the policy key it came from (None for a standalone policy)."""

    sla_key: Any
    target: RefTarget


class Policies:
    """The policy object given to the replay, answering 'which target is in force?'."""

    def __init__(self, sla: RefSlaPolicy | RefSlaPolicies, active_by_name: dict[str, bool]):
        self.sla = sla
        self.active_by_name = active_by_name

    def in_force(self, state: State, clock_type: str) -> InForce | None:
        if isinstance(self.sla, RefSlaPolicy):
            t = self.sla.policy.lookup(clock_type, state.priority)
            return None if t is None else InForce(None, t)
        chosen = self.sla.resolve(state.sla)
        if not isinstance(chosen, tuple):  # None, or an unmapped value (raised earlier)
            return None
        _text, key, pol = chosen
        t = pol.lookup(clock_type, state.priority)
        return None if t is None else InForce(key, t)

    def is_sla_active(self, status: Status) -> bool:
        """10.3: the policy's statuses map, else the status's sla_active, else its type."""
        if status.name in self.sla.statuses:
            return self.sla.statuses[status.name]
        return self.active_by_name.get(status.name, TYPE_DEFAULT_ACTIVE[status.type])


@dataclass
class Completion:
    at: int
    by: str  # "reply" | "resolution"
    target: InForce | None  # in force before the completing step


@dataclass
class Clock:
    metric_type: str
    cycle: int
    started_at: int
    history: list[tuple[int, bool]] = field(default_factory=list)  # (step pos, open after it)
    completions: list[Completion] = field(default_factory=list)
    had_target: bool = False

    @property
    def is_open(self) -> bool:
        return self.history[-1][1]


def build_clocks(steps: list[Step], pols: Policies) -> list[Clock]:
    """10.4, event by event, over the applied steps."""
    clocks: list[Clock] = []
    reply_open: Clock | None = None
    deferred = False  # a reply cycle waits for the next reopen
    frt_opened = False
    nrt_count = 0
    rt: Clock | None = None

    def open_reply(pos: int, at: int) -> Clock:
        nonlocal frt_opened, nrt_count
        if not frt_opened:
            frt_opened = True
            c = Clock(FRT, 1, at)
        else:
            nrt_count += 1
            c = Clock(NRT, nrt_count, at)
        c.history.append((pos, True))
        clocks.append(c)
        return c

    def complete(c: Clock, pos: int, by: str, step: Step) -> None:
        before = step.before if step.before is not None else step.after
        target = pols.in_force(before, c.metric_type)  # the event's own changes do not count
        c.completions.append(Completion(step.at, by, target))
        c.history.append((pos, False))
        if target is not None:
            c.had_target = True

    for pos, step in enumerate(steps):
        resolved_after = step.after.status.resolved
        if step.kind == "created":
            outbound = step.public_post and step.role == "agent"
            if not outbound:  # a reply cycle opens at created_at ...
                if resolved_after:
                    deferred = True  # ... unless creation leaves the case resolved
                else:
                    reply_open = open_reply(pos, step.at)
            if not resolved_after:
                rt = Clock(RT, 1, step.at, [(pos, True)])
                clocks.append(rt)
        else:
            # the step's post
            if step.public_post and step.role == "customer":
                if reply_open is None:
                    if resolved_after:
                        deferred = True
                    else:
                        reply_open = open_reply(pos, step.at)
            elif step.is_reply and step.role == "agent":
                if reply_open is not None:
                    complete(reply_open, pos, "reply", step)
                    reply_open = None
                elif deferred:
                    deferred = False  # an agent reply before the reopen: it never opens
            # the step's status transition
            if step.is_resolution:
                if reply_open is not None:
                    complete(reply_open, pos, "resolution", step)
                    reply_open = None
                if rt is not None and rt.is_open:
                    complete(rt, pos, "resolution", step)
            elif step.is_reopen:
                if deferred:
                    deferred = False
                    reply_open = open_reply(pos, step.at)
                if rt is None:
                    rt = Clock(RT, 1, step.at, [(pos, True)])
                    clocks.append(rt)
                elif not rt.is_open:
                    rt.history.append((pos, True))  # the same record runs again
        for c in clocks:
            if c.is_open and pols.in_force(step.after, c.metric_type) is not None:
                c.had_target = True
    return clocks


# =========================================================================== one clock's values


def first_reaching(
    f: Callable[[int], int], goal: int, lo: int, hi: int, linear: bool
) -> int | None:
    """The smallest t in [lo, hi] with f(t) >= goal (f non-decreasing), or None."""
    if hi < lo:
        return None
    if linear:
        for t in range(lo, hi + 1):
            if f(t) >= goal:
                return t
        return None
    if f(hi) < goal:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if f(mid) >= goal:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass
class Record:
    metric_type: str
    cycle: int
    stage: str
    started_at: int
    due_at: int | None
    completed_at: int | None
    completed_by: str | None
    last_paused_at: int | None
    breached_at: int | None
    elapsed_seconds: int
    remaining_seconds: int | None
    target: InForce | None


class ClockView:
    def __init__(
        self,
        clock: Clock,
        steps: list[Step],
        pols: Policies,
        calendars: RefTeamCalendars | None,
        as_of: int,
        per_second: bool,
    ) -> None:
        self.c = clock
        self.steps = steps
        self.pols = pols
        self.calendars = calendars
        self.as_of = as_of
        self.per_second = per_second
        self.instants: list[int] = sorted({s.at for s in steps})
        # the state once every event of each instant has been applied
        last_state: dict[int, State] = {}
        for s in steps:
            last_state[s.at] = s.after
        self.state_after: list[State] = [last_state[t] for t in self.instants]
        self.stage_after: list[str | None] = [
            self._stage_at_instant(k) for k in range(len(self.instants))
        ]
        self._tables: dict[str, list[int]] = {}

    # ---- per instant ---------------------------------------------------------------

    def _open_flag(self, k: int) -> bool | None:
        flag: bool | None = None
        for pos, is_open in self.c.history:
            if self.steps[pos].at <= self.instants[k]:
                flag = is_open
        return flag

    def _stage_at_instant(self, k: int) -> str | None:
        flag = self._open_flag(k)
        if flag is None:
            return None  # not started yet
        if not flag:
            return COMPLETED
        return ACTIVE if self.pols.is_sla_active(self.state_after[k].status) else PAUSED

    def k_of(self, t: int) -> int:
        """Index of the last instant at or before t (t >= created_at)."""
        return bisect.bisect_right(self.instants, t) - 1

    def stage_during(self, s: int) -> str | None:
        """Stage during the second [s, s+1)."""
        return self.stage_after[self.k_of(s)] if s >= self.instants[0] else None

    def team_during(self, s: int) -> Any:
        return self.state_after[self.k_of(s)].team

    def completion_at_or_before(self, k: int) -> Completion:
        done = [cp for cp in self.c.completions if cp.at <= self.instants[k]]
        return done[-1]

    # ---- elapsed -------------------------------------------------------------------

    def _counts(self, hours: str, a: int, b: int, team: Any) -> int:
        """Seconds of [a, b) that count in ``hours``, all with one team's calendar."""
        if hours == CALENDAR_HOURS:
            return b - a
        assert self.calendars is not None
        return self.calendars.calendar_for(team).business_seconds_epoch(a, b)

    def E(self, t: int, hours: str) -> int:
        """Seconds in [started_at, t) during which the clock was ACTIVE, counted in ``hours``."""
        if self.per_second:
            table = self._table(hours)
            return table[t - self.c.started_at]
        total = 0
        for k, at in enumerate(self.instants):
            if at >= t:
                break
            end = self.instants[k + 1] if k + 1 < len(self.instants) else t
            a, b = max(at, self.c.started_at), min(end, t)
            if b > a and self.stage_after[k] == ACTIVE:
                total += self._counts(hours, a, b, self.state_after[k].team)
        return total

    def e_of(self, hours: str) -> Callable[[int], int]:
        return lambda t: self.E(t, hours)

    def _table(self, hours: str) -> list[int]:
        """Per-second prefix table: table[i] = E(started_at + i), up to as_of."""
        if hours not in self._tables:
            start = self.c.started_at
            open_sets: dict[str, set[int]] = {}  # per calendar: its open seconds
            table = [0]
            for s in range(start, self.as_of):
                counted = self.stage_during(s) == ACTIVE
                if counted and hours == BUSINESS_HOURS:
                    team = self.team_during(s)
                    key = "" if team is None else "t:" + id_text(team)
                    if key not in open_sets:
                        assert self.calendars is not None
                        cal = self.calendars.calendar_for(team)
                        open_sets[key] = {
                            sec
                            for a, b in cal.open_intervals(start, self.as_of)
                            for sec in range(a, b)
                        }
                    counted = s in open_sets[key]
                table.append(table[-1] + (1 if counted else 0))
            self._tables[hours] = table
        return self._tables[hours]

    # ---- overdue and breach --------------------------------------------------------

    def judged(self, t: int) -> tuple[InForce | None, str | None]:
        """(target, stage) the overdue test uses at instant t, once t's events are applied."""
        k = self.k_of(t)
        stage = self.stage_after[k]
        if stage is None:
            return None, None
        if stage == COMPLETED:
            cp = self.completion_at_or_before(k)
            if cp.at != t:
                return None, None  # completed before t: never overdue
            return cp.target, COMPLETED
        return self.pols.in_force(self.state_after[k], self.c.metric_type), stage

    def overdue(self, t: int) -> bool:
        target, stage = self.judged(t)
        if target is None:
            return False
        e = self.E(t, target.target.hours)
        goal = target.target.goal
        return e > goal or (e == goal and stage == ACTIVE)

    def breached_at(self) -> int | None:
        start = self.c.started_at
        if self.per_second:
            candidates = set(range(start, self.as_of + 1))
        else:
            candidates = {t for t in self.instants if t >= start} | {self.as_of}
            for k, at in enumerate(self.instants):
                if at < start or self.stage_after[k] != ACTIVE:
                    continue
                target = self.pols.in_force(self.state_after[k], self.c.metric_type)
                if target is None:
                    continue
                end = self.instants[k + 1] if k + 1 < len(self.instants) else self.as_of
                hours, goal = target.target.hours, target.target.goal
                cross = first_reaching(self.e_of(hours), goal, at + 1, end - 1, False)
                if cross is not None:
                    candidates.add(cross)
        for t in sorted(candidates):
            if self.overdue(t):
                return t
        return None

    # ---- the record ----------------------------------------------------------------

    def last_paused_at(self) -> int | None:
        found: int | None = None
        for k, at in enumerate(self.instants):
            prev = self.stage_after[k - 1] if k > 0 else None
            if self.stage_after[k] == PAUSED and prev != PAUSED:
                found = at
        return found

    def record(self) -> Record:
        c = self.c
        k_last = self.k_of(self.as_of)
        stage = self.stage_after[k_last]
        assert stage is not None
        completed_at: int | None = None
        completed_by: str | None = None
        if stage == COMPLETED:
            cp = self.completion_at_or_before(k_last)
            completed_at, completed_by, target = cp.at, cp.by, cp.target
        else:
            target = self.pols.in_force(self.state_after[k_last], c.metric_type)
        lp = self.last_paused_at()

        if stage == ACTIVE:
            x = self.as_of
        elif stage == PAUSED:
            assert lp is not None
            x = lp
        else:
            assert completed_at is not None
            before = self.stage_during(completed_at - 1) if completed_at > c.started_at else None
            x = lp if before == PAUSED and lp is not None else completed_at

        hours = target.target.hours if target is not None else CALENDAR_HOURS
        elapsed = self.E(x, hours)
        due: int | None = None
        remaining: int | None = None
        if target is not None:
            goal = target.target.goal
            remaining = goal - elapsed
            if elapsed < goal:
                due = self._due_forward(x, goal - elapsed, hours)
            else:
                due = first_reaching(self.e_of(hours), goal, c.started_at, x, self.per_second)
        return Record(
            c.metric_type,
            c.cycle,
            stage,
            c.started_at,
            due,
            completed_at,
            completed_by,
            lp,
            self.breached_at(),
            elapsed,
            remaining,
            target,
        )

    def _due_forward(self, x: int, n: int, hours: str) -> int | None:
        if hours == CALENDAR_HOURS:
            # READING: "no such instant within ten years of x" holds for calendar hours too.
            return x + n if x + n <= _ten_years_after(x) else None
        assert self.calendars is not None
        cal = self.calendars.calendar_for(self.state_after[self.k_of(x)].team)
        try:
            due = cal.add_business_seconds(from_epoch(x), n)
        except RefError as exc:
            if exc.kind == "calendar":  # no such instant within ten years
                return None
            raise
        return to_epoch(due)
