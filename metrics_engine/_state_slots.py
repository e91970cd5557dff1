"""What a case state is made of: the names of its slots, and the status-type tables it follows.

:data:`_SLOTS` names every attribute of a :class:`~metrics_engine._state.CaseState`, and so
every key of its saved form. The tables say, for each status type, whether it is a resolution,
which side waits under it, and whether its statuses run the SLA clocks when they say nothing.
The transitions in ``_state`` and the checks of a saved state read the same tables.
"""

from __future__ import annotations

from typing import Final, Literal

from metrics_engine._events import StatusType

__all__ = ["WaitSide"]

_RESOLVED: Final = frozenset({"COMPLETED", "CLOSED"})
#: Which side waits while the case has a status type (docs/metrics.md, "Waits").
WaitSide = Literal["customer", "agent"]
_WAIT_SIDE: Final[dict[StatusType, WaitSide | None]] = {
    "NEW": "customer",
    "OPEN": "customer",
    "PENDING": "agent",
    "COMPLETED": None,
    "CLOSED": None,
}
#: Status types whose statuses run the SLA clocks unless they say otherwise (docs/sla.md).
_SLA_ACTIVE_TYPES: Final = frozenset({"NEW", "OPEN"})


#: Every attribute of a state, and so every key of its saved form. A module constant rather
#: than a read of ``__slots__`` through the class, which a compiled build cannot do.
_SLOTS: Final = (
    "agent_replies_at_resolution",
    "agent_reply_count",
    "agent_touch_count",
    "agent_updated_at",
    "agent_waits",
    "agents_at_resolution",
    "assignee",
    "assignee_change_count",
    "assignees_seen",
    "case_raw",
    "created_at",
    "customer_updated_at",
    "customer_waits",
    "first_assignment_at",
    "first_response",
    "first_response_start",
    "last_activity_by_assignee_at",
    "last_assignment_at",
    "last_at",
    "last_reopened_at",
    "last_replier",
    "last_reply_by_agent_at",
    "last_reply_by_assignee_at",
    "last_reply_by_customer_at",
    "last_reply_by_requester_at",
    "priority",
    "priority_change_count",
    "priority_updated_at",
    "reopen_count",
    "replies_at_resolution",
    "reply_count",
    "requester",
    "requester_reply_count",
    "requester_updated_at",
    "resolution_at",
    "resolved",
    "resolved_by",
    "response_span_start",
    "response_spans",
    "sla",
    "sla_change_count",
    "sla_conditions",
    "sla_cycles",
    "sla_deferred",
    "sla_status_active",
    "status_name",
    "status_type",
    "status_update_at",
    "team",
    "team_change_count",
    "team_segments",
    "team_updated_at",
    "type",
    "type_updated_at",
    "unresolved_periods",
    "unresolved_start",
    "wait_side",
    "wait_start",
)
