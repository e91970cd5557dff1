"""Metric assembly: measure the spans a :class:`CaseState` recorded, up to ``as_of``.

This is the only place where spans become numbers: calendar seconds by subtraction, business
seconds through a business calendar (or, with per-team calendars, piece by piece with the
calendar of the team assigned during each piece).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._output import FIELDS, Absent, kayako_dict
from metrics_engine._rules import Rules
from metrics_engine._state import CaseState, Span

__all__ = ["CalendarLike", "CaseMetrics", "build_metrics"]

CalendarLike = BusinessCalendar | TeamCalendars


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseMetrics:
    """The 41 fields of Kayako's ``case_metric``, as Python values, one attribute each.

    Timestamps are aware UTC datetimes, users their bare id (as the event gave it), durations
    whole seconds, absent values ``None``. Each attribute's docstring says what it measures in
    one line; docs/metrics.md gives every rule. ``skipped_events`` counts unknown event kinds
    skipped in lenient mode (not in :meth:`to_dict`). ``sla`` holds the SLA clocks, a
    ``CaseSla``, when the replay was given an SLA policy (not in :meth:`to_dict` either).
    """

    is_first_contact_resolved: bool
    """Resolved at as_of, never reopened, and exactly one agent reply before the resolution."""
    was_reopened: bool
    """Whether the case was ever reopened (reopen_count > 0)."""
    last_reopened_at: datetime | None
    """Instant of the last reopen; None if never reopened."""
    first_assignment_at: datetime | None
    """First instant an assignee was set (creation counts); None if never assigned."""
    last_assignment_at: datetime | None
    """Last instant the assignee became a user other than the one before (creation counts)."""
    last_activity_by_requester_at: datetime | None
    """Last event of any kind by the requester; None if none."""
    last_activity_by_assignee_at: datetime | None
    """Last event whose actor was the assignee once that event was applied."""
    last_reply_by_agent_at: datetime | None
    """Last public post by any agent (the opening post included)."""
    last_reply_by_assignee_at: datetime | None
    """Last public post whose author was the assignee at the time."""
    last_reply_by_requester_at: datetime | None
    """Last public post by the requester (the opening post included)."""
    last_reply_by_customer_at: datetime | None
    """Last public post by any customer (the opening post included)."""
    agent_updated_at: datetime | None
    """Last event of any kind by any agent."""
    customer_updated_at: datetime | None
    """Last event of any kind by any customer."""
    requester_updated_at: datetime | None
    """Last event of any kind by the requester (as last_activity_by_requester_at)."""
    team_updated_at: datetime | None
    """Last event after creation that changed the team."""
    priority_updated_at: datetime | None
    """Last event after creation that changed the priority."""
    type_updated_at: datetime | None
    """Last event after creation that changed the type."""
    status_update_at: datetime | None
    """Last event after creation that changed the status (Kayako's spelling)."""
    reopen_count: int
    """Number of reopens: a resolved case (COMPLETED or CLOSED) made unresolved again."""
    resolution_at: datetime | None
    """Instant of the last resolution while resolved at as_of; else None."""
    agents_to_resolution: int | None
    """Distinct assignees from creation to the last resolution; None unless resolved."""
    replies_to_resolution: int | None
    """Agent and customer replies before the last resolution; None unless resolved."""
    last_replier: str | int | None
    """Id of the author of the last public post by an agent or a customer; None if none."""
    resolved_by: str | int | None
    """Id of the actor of the last resolution; None if unresolved or the system resolved it."""
    resolution_calendar_time: int | None
    """Seconds to resolution (unresolved periods, see Rules); None unless resolved."""
    resolution_business_time: int | None
    """The same periods in business seconds; None if unresolved or no calendar."""
    average_calendar_response_time: int | None
    """Floor of the mean response span (customer post to agent reply); None if none recorded."""
    average_business_response_time: int | None
    """Floor of the mean of the spans' business seconds; None if none or no calendar."""
    agent_first_calendar_response_time: int | None
    """Creation (outbound: first customer post) to the first agent reply, in seconds; else None."""
    agent_first_business_response_time: int | None
    """The first response time in business seconds; None if none or no calendar."""
    agent_calendar_wait_time: int
    """Seconds with status type PENDING up to as_of (the agent waits for the customer)."""
    agent_business_wait_time: int | None
    """agent_calendar_wait_time in business seconds; None without a calendar."""
    customer_calendar_wait_time: int
    """Seconds with status type NEW or OPEN up to as_of (the customer waits)."""
    customer_business_wait_time: int | None
    """customer_calendar_wait_time in business seconds; None without a calendar."""
    priority_change_count: int
    """Events after creation that changed the priority (to or from None included)."""
    sla_change_count: int
    """Events after creation that changed the SLA (to or from None included)."""
    agent_reply_count: int
    """Public replies by agents (an opening post is not a reply)."""
    requester_reply_count: int
    """Public replies by the requester, as the requester was at the time."""
    assignee_change_count: int
    """Events after creation that changed the assignee (to or from None included)."""
    team_change_count: int
    """Events after creation that changed the team (to or from None included)."""
    agent_touch_count: int
    """Events of any kind by an agent: creation, notes, replies, updates (even empty)."""
    skipped_events: int = 0
    """Unknown event kinds skipped in lenient mode; not a Kayako field, not in to_dict()."""
    sla: Any = None
    """The SLA clocks (a CaseSla, docs/sla.md) when an SLA policy was given; else None."""

    def to_dict(
        self,
        *,
        timezone: str | tzinfo | None = None,
        absent: Absent = "zero",
        aliases: bool = False,
    ) -> dict[str, Any]:
        """Kayako's ``case_metric`` object: the 41 keys in order, then ``resource_type``.

        ``timezone`` names an IANA zone for the timestamps (UTC by default); ``absent="null"``
        writes absent integers as ``null`` instead of Kayako's ``0``; ``aliases`` adds
        ``last_reopen_at`` and ``agent_update_at`` as Kayako's sample spells them.
        """
        values = {name: getattr(self, name) for name in FIELDS}
        return kayako_dict(values, timezone=timezone, absent=absent, aliases=aliases)


def _instant(epoch_second: int | None) -> datetime | None:
    return None if epoch_second is None else datetime.fromtimestamp(epoch_second, UTC)


def _measurer(calendar: CalendarLike, team_segments: list[list[Any]]) -> Callable[[int, int], int]:
    """A function giving the business seconds of ``[a, b)`` for this case."""
    if isinstance(calendar, BusinessCalendar):
        return calendar.epoch_business_seconds
    teams = calendar
    starts = [segment[0] for segment in team_segments]
    calendars = [teams.calendar_for(segment[1]) for segment in team_segments]

    def measure(a: int, b: int) -> int:
        # Each piece of [a, b) is measured with the calendar of the team assigned then.
        i = max(bisect_right(starts, a) - 1, 0)
        total = 0
        while a < b:
            end = starts[i + 1] if i + 1 < len(starts) else b
            piece_end = min(end, b)
            if piece_end > a:
                total += calendars[i].epoch_business_seconds(a, piece_end)
            a = max(a, piece_end)
            i += 1
        return total

    return measure


def _calendar_total(spans: Sequence[Span]) -> int:
    return sum(end - start for start, end in spans)


def build_metrics(
    state: CaseState,
    *,
    as_of: int,
    calendar: CalendarLike | None,
    rules: Rules,
    skipped_events: int = 0,
    sla: Any = None,
) -> CaseMetrics:
    """Read the 41 fields from a state at ``as_of`` (not before its last applied event);
    ``sla``, the SLA clocks read by the caller, is passed through."""
    customer_waits = list(state.customer_waits)
    agent_waits = list(state.agent_waits)
    if as_of > state.wait_start:
        if state.wait_side == "customer":
            customer_waits.append([state.wait_start, as_of])
        elif state.wait_side == "agent":
            agent_waits.append([state.wait_start, as_of])

    resolved = state.resolved
    if not resolved:
        resolution_spans: list[Span] = []
    elif rules.resolution_time == "elapsed":
        assert state.resolution_at is not None
        resolution_spans = [[state.created_at, state.resolution_at]]
    else:
        resolution_spans = state.unresolved_periods
    responses = state.response_spans
    first = state.first_response

    business: dict[str, int | None] = dict.fromkeys(
        (
            "resolution_business_time",
            "average_business_response_time",
            "agent_first_business_response_time",
            "agent_business_wait_time",
            "customer_business_wait_time",
        )
    )
    if calendar is not None:
        measure = _measurer(calendar, state.team_segments)

        def total(spans: Sequence[Span]) -> int:
            return sum(measure(start, end) for start, end in spans)

        if resolved:
            business["resolution_business_time"] = total(resolution_spans)
        if responses:
            business["average_business_response_time"] = total(responses) // len(responses)
        if first is not None:
            business["agent_first_business_response_time"] = measure(first[0], first[1])
        business["agent_business_wait_time"] = total(agent_waits)
        business["customer_business_wait_time"] = total(customer_waits)

    fcr = resolved and state.reopen_count == 0 and state.agent_replies_at_resolution == 1
    return CaseMetrics(
        is_first_contact_resolved=fcr,
        was_reopened=state.reopen_count > 0,
        last_reopened_at=_instant(state.last_reopened_at),
        first_assignment_at=_instant(state.first_assignment_at),
        last_assignment_at=_instant(state.last_assignment_at),
        last_activity_by_requester_at=_instant(state.requester_updated_at),
        last_activity_by_assignee_at=_instant(state.last_activity_by_assignee_at),
        last_reply_by_agent_at=_instant(state.last_reply_by_agent_at),
        last_reply_by_assignee_at=_instant(state.last_reply_by_assignee_at),
        last_reply_by_requester_at=_instant(state.last_reply_by_requester_at),
        last_reply_by_customer_at=_instant(state.last_reply_by_customer_at),
        agent_updated_at=_instant(state.agent_updated_at),
        customer_updated_at=_instant(state.customer_updated_at),
        requester_updated_at=_instant(state.requester_updated_at),
        team_updated_at=_instant(state.team_updated_at),
        priority_updated_at=_instant(state.priority_updated_at),
        type_updated_at=_instant(state.type_updated_at),
        status_update_at=_instant(state.status_update_at),
        reopen_count=state.reopen_count,
        resolution_at=_instant(state.resolution_at) if resolved else None,
        agents_to_resolution=state.agents_at_resolution if resolved else None,
        replies_to_resolution=state.replies_at_resolution if resolved else None,
        last_replier=state.last_replier,
        resolved_by=state.resolved_by if resolved else None,
        resolution_calendar_time=_calendar_total(resolution_spans) if resolved else None,
        resolution_business_time=business["resolution_business_time"],
        average_calendar_response_time=(
            _calendar_total(responses) // len(responses) if responses else None
        ),
        average_business_response_time=business["average_business_response_time"],
        agent_first_calendar_response_time=None if first is None else first[1] - first[0],
        agent_first_business_response_time=business["agent_first_business_response_time"],
        agent_calendar_wait_time=_calendar_total(agent_waits),
        agent_business_wait_time=business["agent_business_wait_time"],
        customer_calendar_wait_time=_calendar_total(customer_waits),
        customer_business_wait_time=business["customer_business_wait_time"],
        priority_change_count=state.priority_change_count,
        sla_change_count=state.sla_change_count,
        agent_reply_count=state.agent_reply_count,
        requester_reply_count=state.requester_reply_count,
        assignee_change_count=state.assignee_change_count,
        team_change_count=state.team_change_count,
        agent_touch_count=state.agent_touch_count,
        skipped_events=skipped_events,
        sla=sla,
    )
