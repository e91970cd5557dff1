"""The SLA record the replay writes, and one read of it with a policy (docs/sla.md).

The replay records only what the events said, never a policy, in an :class:`SlaRecord`:

- *conditions*: one row per applied event that changed the status, the priority or the
  ``sla`` value (the creation included), holding the values once that event was applied;
- *cycles*: the reply cycles, in opening order (the first is the first-reply clock, every
  other a next-reply clock), with the condition rows in force when each opened and, for a
  completed one, just before its completing event;
- the team segments the replay already keeps for per-team calendars.

This module lays out those rows and reads a record with a policy and a calendar: the policy,
the SLA-activity and the targets in force after each condition row, the rows collapsed to
instants, and the calendar of each team segment. ``_sla`` measures the clocks from that read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy
from metrics_engine._sla_target import METRIC_TYPES, Goal, Goals

__all__ = ["CYCLE", "SlaRecord", "check_sla_values", "default_sla_active"]

#: Columns of a condition row: instant (epoch seconds), stream index of the event, status
#: name, the status's own SLA-activity (its ``sla_active``, else its type's default), whether
#: the case is resolved, priority and ``sla`` as given.
AT, INDEX, STATUS, ACTIVE, RESOLVED, PRIORITY, SLA = range(7)
#: Columns of a cycle row: opening instant, condition row in force once the opening event was
#: applied, completion instant (or None), "reply" / "resolution" (or None), condition row in
#: force just before the completing event (or None).
CYCLE: Final = ("started_at", "opened_in", "completed_at", "completed_by", "closed_in")
STARTED, OPENED_IN, COMPLETED, BY, CLOSED_IN = range(5)
_ACTIVE_BY_TYPE: Final = {"NEW": True, "OPEN": True}
_UNSET: Final[Any] = object()
_NO_GOALS: Final[Goals] = (None, None, None)

Calendar = BusinessCalendar | TeamCalendars


def default_sla_active(status_type: str) -> bool:
    """A status's SLA-activity when it says nothing: NEW and OPEN run, the others pause."""
    return _ACTIVE_BY_TYPE.get(status_type, False)


class SlaRecord(NamedTuple):
    """What the replay recorded for the clocks (plain JSON-ready rows, see the module doc)."""

    conditions: Sequence[Sequence[Any]]
    cycles: Sequence[Sequence[Any]]
    team_segments: Sequence[Sequence[Any]]


# --- reading a record with a policy ----------------------------------------------------------


def check_sla_values(record: SlaRecord, sla: SlaPolicy | SlaPolicies) -> None:
    """Raise, with the event's index, if a recorded ``sla`` value has no policy (``"error"``)."""
    _policies_of(record.conditions, sla)


def _policies_of(
    conditions: Sequence[Sequence[Any]], sla: SlaPolicy | SlaPolicies
) -> list[SlaPolicy | None]:
    """The policy in force after each condition row."""
    if isinstance(sla, SlaPolicy):
        return [sla] * len(conditions)
    memo: dict[object, SlaPolicy | None] = {}
    out: list[SlaPolicy | None] = []
    for row in conditions:
        value = row[SLA]
        key = (type(value), value)
        if key not in memo:
            try:
                memo[key] = sla.policy_for(value)
            except MetricsEngineError as error:
                raise error.locate(index=row[INDEX]) from None
        out.append(memo[key])
    return out


class _Case:
    """One read of one record: conditions collapsed to instants, policies, calendars."""

    __slots__ = (
        "_goals",
        "active",
        "as_of",
        "business",
        "conditions",
        "inst_at",
        "inst_row",
        "policies",
        "team_at",
        "team_calendars",
    )

    def __init__(
        self,
        record: SlaRecord,
        sla: SlaPolicy | SlaPolicies,
        as_of: int,
        calendar: Calendar | None,
    ) -> None:
        conditions = record.conditions
        self.conditions = conditions
        self.as_of = as_of
        self.policies = _policies_of(conditions, sla)
        statuses = sla.statuses
        if statuses:
            self.active = [bool(statuses.get(row[STATUS], row[ACTIVE])) for row in conditions]
        else:
            self.active = [bool(row[ACTIVE]) for row in conditions]
        # The last row of each instant: the conditions once every event of it was applied.
        inst_at: list[int] = []
        inst_row: list[int] = []
        for position, row in enumerate(conditions):
            if inst_at and inst_at[-1] == row[AT]:
                inst_row[-1] = position
            else:
                inst_at.append(row[AT])
                inst_row.append(position)
        self.inst_at = inst_at
        self.inst_row = inst_row
        self.business = calendar is not None and sla.has_business_hours
        if isinstance(calendar, TeamCalendars) and self.business:
            segments = record.team_segments or [[conditions[0][AT], None]]
            self.team_at = [segment[0] for segment in segments]
            self.team_calendars = [calendar.calendar_for(segment[1]) for segment in segments]
        else:
            self.team_at = [conditions[0][AT]]
            self.team_calendars = [calendar] if isinstance(calendar, BusinessCalendar) else []
        self._goals: dict[str, list[Goal | None]] = {}  # by clock type, once asked for

    def goals(self, metric_type: str) -> list[Goal | None]:
        """The target in force after each condition row, for one clock type."""
        found = self._goals.get(metric_type)
        if found is None:
            # One pass for the three types; rows mostly repeat the policy and priority of the
            # row before (a status change).
            by_type: tuple[list[Goal | None], ...] = ([], [], [])
            first, following, resolution = by_type
            last_policy: object = _UNSET
            last_priority: object = _UNSET
            goals: Goals = _NO_GOALS
            for policy, row in zip(self.policies, self.conditions, strict=True):
                priority = row[PRIORITY]
                if (
                    policy is not last_policy
                    or priority != last_priority
                    or type(priority) is not type(last_priority)
                ):
                    goals = _NO_GOALS if policy is None else policy.goals(priority)
                    last_policy, last_priority = policy, priority
                first.append(goals[0])
                following.append(goals[1])
                resolution.append(goals[2])
            self._goals = dict(zip(METRIC_TYPES, by_type, strict=True))
            found = self._goals[metric_type]
        return found

    def calendar_at(self, epoch_second: int) -> BusinessCalendar:
        """The calendar of the team assigned once every event of that instant was applied."""
        return self.team_calendars[max(bisect_right(self.team_at, epoch_second) - 1, 0)]
