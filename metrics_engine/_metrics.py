"""Metric assembly: measure the spans a :class:`CaseState` recorded, up to ``as_of``.

This is the only place where spans become numbers: calendar seconds by subtraction, business
seconds through a business calendar (or, with per-team calendars, piece by piece with the
calendar of the team assigned during each piece).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import islice
from operator import attrgetter
from typing import Any, Final

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


#: The state's instants (epoch seconds or None) that become the timestamp fields, in the
#: order :func:`build_metrics` unpacks them.
_STATE_INSTANTS: Final = attrgetter(
    "last_reopened_at",
    "first_assignment_at",
    "last_assignment_at",
    "requester_updated_at",
    "last_activity_by_assignee_at",
    "last_reply_by_agent_at",
    "last_reply_by_assignee_at",
    "last_reply_by_requester_at",
    "last_reply_by_customer_at",
    "agent_updated_at",
    "customer_updated_at",
    "team_updated_at",
    "priority_updated_at",
    "type_updated_at",
    "status_update_at",
    "resolution_at",
)


def _instants(epoch_seconds: tuple[int | None, ...]) -> list[datetime | None]:
    """Aware UTC datetimes for epoch seconds, ``None`` kept; one datetime per distinct second
    (a case's instants repeat: the same event often sets several fields)."""
    at = datetime.fromtimestamp
    made: dict[int, datetime] = {}
    moments: list[datetime | None] = []
    for second in epoch_seconds:
        if second is None:
            moments.append(None)
        else:
            moment = made.get(second)
            if moment is None:
                moment = made[second] = at(second, UTC)
            moments.append(moment)
    return moments


def _measurer(calendar: CalendarLike, team_segments: list[list[Any]]) -> Callable[[int, int], int]:
    """A function giving the business seconds of ``[a, b)`` for this case.

    It calls the calendars' unchecked ``_open_seconds_between``: every instant here is whole
    epoch seconds (ints) from the state, which is what ``epoch_business_seconds`` checks for
    outside callers (the range check, the only one that can fail, is kept).
    """
    if isinstance(calendar, BusinessCalendar):
        return calendar._open_seconds_between
    teams = calendar
    starts = [segment[0] for segment in team_segments]
    between = [teams.calendar_for(segment[1])._open_seconds_between for segment in team_segments]
    last = len(starts) - 1

    def measure(a: int, b: int) -> int:
        # Each piece of [a, b) is measured with the calendar of the team assigned then.
        i = max(bisect_right(starts, a) - 1, 0)
        total = 0
        while a < b:
            end = starts[i + 1] if i < last else b
            piece_end = min(end, b)
            if piece_end > a:
                total += between[i](a, piece_end)
            a = max(a, piece_end)
            i += 1
        return total

    return measure


def _calendar_total(spans: Sequence[Span]) -> int:
    total = 0
    for start, end in spans:
        total += end - start
    return total


def _business_total(measure: Callable[[int, int], int], spans: Iterable[Span]) -> int:
    total = 0
    for start, end in spans:
        total += measure(start, end)
    return total


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

    resolution_business: int | None = None
    average_business: int | None = None
    first_business: int | None = None
    agent_business_wait: int | None = None
    customer_business_wait: int | None = None
    if calendar is not None:
        measure = _measurer(calendar, state.team_segments)
        if resolved:
            resolution_business = _business_total(measure, resolution_spans)
        head: Span | None = None
        head_business = 0
        if responses:
            head = responses[0]
            head_business = measure(head[0], head[1])
            rest = _business_total(measure, islice(responses, 1, None))
            average_business = (head_business + rest) // len(responses)
        if first is not None:
            # The first response is most often the first response span: measured once.
            first_business = head_business if first == head else measure(first[0], first[1])
        agent_business_wait = _business_total(measure, agent_waits)
        customer_business_wait = _business_total(measure, customer_waits)

    (
        last_reopened_at,
        first_assignment_at,
        last_assignment_at,
        requester_updated_at,
        last_activity_by_assignee_at,
        last_reply_by_agent_at,
        last_reply_by_assignee_at,
        last_reply_by_requester_at,
        last_reply_by_customer_at,
        agent_updated_at,
        customer_updated_at,
        team_updated_at,
        priority_updated_at,
        type_updated_at,
        status_update_at,
        resolution_at,
    ) = _instants(_STATE_INSTANTS(state))
    fcr = resolved and state.reopen_count == 0 and state.agent_replies_at_resolution == 1
    return CaseMetrics(
        is_first_contact_resolved=fcr,
        was_reopened=state.reopen_count > 0,
        last_reopened_at=last_reopened_at,
        first_assignment_at=first_assignment_at,
        last_assignment_at=last_assignment_at,
        last_activity_by_requester_at=requester_updated_at,
        last_activity_by_assignee_at=last_activity_by_assignee_at,
        last_reply_by_agent_at=last_reply_by_agent_at,
        last_reply_by_assignee_at=last_reply_by_assignee_at,
        last_reply_by_requester_at=last_reply_by_requester_at,
        last_reply_by_customer_at=last_reply_by_customer_at,
        agent_updated_at=agent_updated_at,
        customer_updated_at=customer_updated_at,
        requester_updated_at=requester_updated_at,
        team_updated_at=team_updated_at,
        priority_updated_at=priority_updated_at,
        type_updated_at=type_updated_at,
        status_update_at=status_update_at,
        reopen_count=state.reopen_count,
        resolution_at=resolution_at if resolved else None,
        agents_to_resolution=state.agents_at_resolution if resolved else None,
        replies_to_resolution=state.replies_at_resolution if resolved else None,
        last_replier=state.last_replier,
        resolved_by=state.resolved_by if resolved else None,
        resolution_calendar_time=_calendar_total(resolution_spans) if resolved else None,
        resolution_business_time=resolution_business,
        average_calendar_response_time=(
            _calendar_total(responses) // len(responses) if responses else None
        ),
        average_business_response_time=average_business,
        agent_first_calendar_response_time=None if first is None else first[1] - first[0],
        agent_first_business_response_time=first_business,
        agent_calendar_wait_time=_calendar_total(agent_waits),
        agent_business_wait_time=agent_business_wait,
        customer_calendar_wait_time=_calendar_total(customer_waits),
        customer_business_wait_time=customer_business_wait,
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
