"""The replay state machine: every transition rule of docs/metrics.md, in one place.

Theory of operation
-------------------
A case is a fold of :meth:`CaseState.apply` over its events, in applied order. The state
records *facts*, never derived numbers and never copies of events:

- the current field values (requester, status, assignee, team, priority, type, sla);
- counters (touches, replies, changes, reopens) and last-seen instants (epoch seconds);
- closed *spans* ``[start, end)`` in epoch seconds — unresolved periods, response spans,
  customer waits (status type NEW/OPEN), agent waits (PENDING) — plus the start of each
  span still running, and the team timeline (for per-team calendars);
- snapshots taken at each resolution (replies, agent replies, distinct assignees so far);
- what the SLA clocks read (docs/sla.md), laid out in ``_sla_record``: a *condition row* for each
  event that changed the status, the priority or the ``sla`` (creation included), and the
  *reply cycles* with the rows in force when each opened and closed. Never a policy.

It does no calendar arithmetic and reads no clock: ``metrics`` (in ``_metrics``) measures
the recorded spans up to ``as_of``, in calendar seconds and through a business calendar.

Each event applies in a fixed order, so that "once the event has been applied" means the
same thing everywhere:

1. ``created``: the fields are set, the opening post is made (it may open a response span),
   then the status takes effect (a resolved status is a resolution at ``created_at``).
   ``update``: every changed field is set, then the status change takes effect (so a
   resolving event's own assignee change counts in ``agents_to_resolution``).
   ``message``: the post, then the reopen when the replay's admission decided one
   (``Rules.reopen_on_customer_message``: decided there, once, and passed in).
2. Then the activity of the actor: touches and the ``*_updated_at`` / ``last_activity_*``
   instants, judged against the requester and assignee as they are after the event.

A resolution is the move from an unresolved status type to COMPLETED/CLOSED; a reopen the
move back. A resolution closes an open response span without recording it; a reopen moves
the start of an open span to the reopen.

The names of a state's slots, and the tables of status types (resolved, the side that waits,
SLA-active by default), are in ``_state_slots``.
"""

from __future__ import annotations

from typing import Any, Final

from metrics_engine._events import SYSTEM, Actor, Event, Status, StatusType, Value
from metrics_engine._rules import Rules
from metrics_engine._state_slots import _RESOLVED, _SLA_ACTIVE_TYPES, _SLOTS, _WAIT_SIDE, WaitSide

__all__ = ["CaseState"]

_REOPENED: Final = Status("OPEN", "OPEN")

Span = list[int]  # [start, end] in epoch seconds; a list so that it survives JSON unchanged


class CaseState:
    """The facts of one case so far. Plain data: :meth:`to_dict` / :meth:`from_dict`."""

    __slots__ = _SLOTS

    # Declared for the type checker; every slot is set in __init__.
    case_raw: str | int | None
    created_at: int
    last_at: int
    # current field values (ids as text)
    requester: str | None
    assignee: str | None
    team: str | None
    priority: Value
    type: Value
    sla: Value
    status_name: str
    status_type: StatusType
    resolved: bool
    # counters
    agent_touch_count: int
    agent_reply_count: int
    requester_reply_count: int
    reply_count: int
    priority_change_count: int
    sla_change_count: int
    assignee_change_count: int
    team_change_count: int
    reopen_count: int
    # last-seen instants
    first_assignment_at: int | None
    last_assignment_at: int | None
    requester_updated_at: int | None
    customer_updated_at: int | None
    agent_updated_at: int | None
    last_activity_by_assignee_at: int | None
    last_reply_by_agent_at: int | None
    last_reply_by_assignee_at: int | None
    last_reply_by_requester_at: int | None
    last_reply_by_customer_at: int | None
    team_updated_at: int | None
    priority_updated_at: int | None
    type_updated_at: int | None
    status_update_at: int | None
    last_reopened_at: int | None
    last_replier: str | int | None
    # resolution
    resolution_at: int | None
    resolved_by: str | int | None
    replies_at_resolution: int
    agent_replies_at_resolution: int
    agents_at_resolution: int
    assignees_seen: list[str]
    unresolved_start: int | None
    unresolved_periods: list[Span]
    # responses
    response_span_start: int | None
    response_spans: list[Span]
    first_response_start: int | None
    first_response: Span | None
    # waits and teams
    wait_side: WaitSide | None
    wait_start: int
    customer_waits: list[Span]
    agent_waits: list[Span]
    team_segments: list[list[int | str | None]]  # [start, team id as text or None]
    # what the SLA clocks read (rows laid out in _sla_record; None: restored from an old state)
    sla_conditions: list[list[Any]] | None
    sla_cycles: list[list[Any]] | None
    sla_deferred: bool  # a reply cycle waits for the next reopen
    sla_status_active: bool  # the current status's own SLA-activity

    def __init__(self) -> None:
        self.case_raw = None
        self.created_at = self.last_at = 0
        self.requester = self.assignee = self.team = None
        self.priority = self.type = self.sla = None
        self.status_name = self.status_type = "NEW"
        self.resolved = False
        self.agent_touch_count = self.agent_reply_count = self.requester_reply_count = 0
        self.reply_count = self.priority_change_count = self.sla_change_count = 0
        self.assignee_change_count = self.team_change_count = self.reopen_count = 0
        self.first_assignment_at = self.last_assignment_at = None
        self.requester_updated_at = self.customer_updated_at = self.agent_updated_at = None
        self.last_activity_by_assignee_at = None
        self.last_reply_by_agent_at = self.last_reply_by_assignee_at = None
        self.last_reply_by_requester_at = self.last_reply_by_customer_at = None
        self.team_updated_at = self.priority_updated_at = self.type_updated_at = None
        self.status_update_at = self.last_reopened_at = None
        self.last_replier = None
        self.resolution_at = self.resolved_by = None
        self.replies_at_resolution = self.agent_replies_at_resolution = 0
        self.agents_at_resolution = 0
        self.assignees_seen = []
        self.unresolved_start = None
        self.unresolved_periods = []
        self.response_span_start = None
        self.response_spans = []
        self.first_response_start = None
        self.first_response = None
        self.wait_side = None
        self.wait_start = 0
        self.customer_waits = []
        self.agent_waits = []
        self.team_segments = []
        self.sla_conditions = []
        self.sla_cycles = []
        self.sla_deferred = False
        self.sla_status_active = True

    # ------------------------------------------------------------------ transitions

    def apply(self, event: Event, rules: Rules, *, index: int, reopens: bool = False) -> None:
        """Apply one event that the replay has already admitted (order, duplicates...).

        ``index``: the event's position in the stream as given (the SLA record keeps it, for
        errors found when a policy reads the record). ``reopens``: the replay's admission
        decided that this customer message reopens the case
        (``Rules.reopen_on_customer_message``); it is decided there only, once, because the
        reopen's status takes part in the admission's status checks.
        """
        kind = event.kind
        if kind == "message":
            self._post(event.actor, event.at, opening=False)
            self._sla_post(event.actor.role, event.at)
            if reopens:
                self._set_status(_REOPENED, event.at, SYSTEM)
                self.sla_status_active = True
                self._sla_changed(event.at, index)
        elif kind == "update":
            self._update(event, rules, index)
        elif kind == "created":
            self._create(event, rules, index)
        # a note changes nothing but the actor's activity
        self._activity(event.actor, event.at)
        self.last_at = event.at

    def _create(self, event: Event, rules: Rules, index: int) -> None:
        at = event.at
        values = event.values
        self.case_raw = event.case_raw
        self.created_at = at
        self.unresolved_start = at
        self.requester = values["requester"]
        self.assignee = values.get("assignee")
        self.team = values.get("team")
        self.priority = values.get("priority")
        self.type = values.get("type")
        self.sla = values.get("sla")
        self.team_segments = [[at, self.team]]
        if self.assignee is not None:
            self._assigned(at)
            self.assignees_seen.append(self.assignee)
        elif rules.team_only_assignment and self.team is not None:
            self._assigned(at)
        # An outbound case (an agent's opening post) starts the first-response clock at the
        # customer's first public post instead of at creation.
        outbound = event.opening == "message" and event.actor.role == "agent"
        if not outbound:
            self.first_response_start = at
        if event.opening == "message":
            self._post(event.actor, at, opening=True)
        status: Status = values["status"]
        self.status_name, self.status_type = status.name, status.type
        self.wait_side = _WAIT_SIDE[status.type]
        self.wait_start = at
        if status.type in _RESOLVED:
            self._resolve(at, event.actor)
        # The SLA record: the first condition row, and the first reply cycle unless outbound
        # (deferred to the first reopen when the case is created resolved).
        active = status.sla_active
        if active is None:
            active = status.type in _SLA_ACTIVE_TYPES
        self.sla_status_active = active
        self.sla_conditions = [
            [at, index, status.name, active, self.resolved, self.priority, self.sla]
        ]
        self.sla_cycles = []
        self.sla_deferred = False
        if not outbound:
            if self.resolved:
                self.sla_deferred = True
            else:
                self.sla_cycles.append([at, 0, None, None, None])

    def _update(self, event: Event, rules: Rules, index: int) -> None:
        at = event.at
        values = event.values
        team_set = False
        sla_read = False  # whether a field the SLA clocks read changed
        for name, new in values.items():
            if name == "status":
                continue
            if name == "assignee":
                if new != self.assignee:
                    self.assignee = new
                    self.assignee_change_count += 1
                    if new is not None:
                        self._assigned(at)
                        if new not in self.assignees_seen:
                            self.assignees_seen.append(new)
            elif name == "team":
                if new != self.team:
                    self.team = new
                    self.team_change_count += 1
                    self.team_updated_at = at
                    self._team_from(at, new)
                    team_set = new is not None
            elif name == "requester":
                self.requester = new
            elif type(new) is not type(getattr(self, name)) or new != getattr(self, name):
                # priority, type, sla: by value, so 11 and "11" differ
                setattr(self, name, new)
                if name == "priority":
                    self.priority_change_count += 1
                    self.priority_updated_at = at
                    sla_read = True
                elif name == "sla":
                    self.sla_change_count += 1
                    sla_read = True
                else:
                    self.type_updated_at = at
        if team_set and rules.team_only_assignment and self.assignee is None:
            self._assigned(at)
        status = values.get("status")
        if status is not None and status.name != self.status_name:
            self._set_status(status, at, event.actor)
            active = status.sla_active
            self.sla_status_active = status.type in _SLA_ACTIVE_TYPES if active is None else active
            sla_read = True
        if sla_read:
            self._sla_changed(at, index)

    def _post(self, actor: Actor, at: int, *, opening: bool) -> None:
        """A public post: the opening post of ``created`` or a public message."""
        role = actor.role
        if role == "system":
            return  # never a reply; opens and closes nothing
        if role == "agent":
            self.last_reply_by_agent_at = at
            if not opening:
                self.agent_reply_count += 1
                self.reply_count += 1
                if self.response_span_start is not None:
                    self.response_spans.append([self.response_span_start, at])
                    self.response_span_start = None
                if self.first_response is None and self.first_response_start is not None:
                    self.first_response = [self.first_response_start, at]
        else:
            self.last_reply_by_customer_at = at
            if actor.key == self.requester:
                self.last_reply_by_requester_at = at
                if not opening:
                    self.requester_reply_count += 1
            if not opening:
                self.reply_count += 1
            if self.response_span_start is None:
                self.response_span_start = at
            if self.first_response_start is None:
                self.first_response_start = at
        if actor.key == self.assignee:
            self.last_reply_by_assignee_at = at
        self.last_replier = actor.raw

    def _sla_post(self, role: str, at: int) -> None:
        """A public message for the reply cycles: a customer's opens one (or defers it while
        the case is resolved) unless one is open; an agent's completes the open one."""
        rows = self.sla_conditions
        cycles = self.sla_cycles
        if rows is None or cycles is None or role == "system":
            return
        is_open = bool(cycles) and cycles[-1][2] is None
        if role == "agent":
            if is_open:
                cycles[-1][2:] = [at, "reply", len(rows) - 1]
            self.sla_deferred = False
        elif not is_open:
            if rows[-1][4]:
                self.sla_deferred = True
            else:
                cycles.append([at, len(rows) - 1, None, None, None])

    def _sla_changed(self, at: int, index: int) -> None:
        """A new condition row, after an event changed the status, the priority or the sla: a
        resolution completes the open reply cycle, a reopen opens a deferred one."""
        rows = self.sla_conditions
        cycles = self.sla_cycles
        if rows is None or cycles is None:
            return
        was_resolved = rows[-1][4]
        resolved = self.resolved
        if resolved and not was_resolved and cycles and cycles[-1][2] is None:
            cycles[-1][2:] = [at, "resolution", len(rows) - 1]
        rows.append(
            [at, index, self.status_name, self.sla_status_active, resolved, self.priority, self.sla]
        )
        if was_resolved and not resolved and self.sla_deferred:
            self.sla_deferred = False
            cycles.append([at, len(rows) - 1, None, None, None])

    def _activity(self, actor: Actor, at: int) -> None:
        role = actor.role
        if role == "agent":
            self.agent_touch_count += 1
            self.agent_updated_at = at
        elif role == "customer":
            self.customer_updated_at = at
            if actor.key == self.requester:
                self.requester_updated_at = at
        if actor.key is not None and actor.key == self.assignee:
            self.last_activity_by_assignee_at = at

    def _assigned(self, at: int) -> None:
        if self.first_assignment_at is None:
            self.first_assignment_at = at
        self.last_assignment_at = at

    def _team_from(self, at: int, team: str | None) -> None:
        last = self.team_segments[-1]
        if last[0] == at:
            last[1] = team  # several changes in one second: only the last one lasts
        else:
            self.team_segments.append([at, team])

    def _set_status(self, status: Status, at: int, actor: Actor) -> None:
        self.status_update_at = at
        was_resolved = self.status_type in _RESOLVED
        self.status_name, self.status_type = status.name, status.type
        side = _WAIT_SIDE[status.type]
        if side != self.wait_side:
            self._close_wait(at)
            self.wait_side = side
            self.wait_start = at
        now_resolved = status.type in _RESOLVED
        if now_resolved and not was_resolved:
            self._resolve(at, actor)
        elif was_resolved and not now_resolved:
            self._reopen(at)

    def _close_wait(self, at: int) -> None:
        if at > self.wait_start:
            if self.wait_side == "customer":
                self.customer_waits.append([self.wait_start, at])
            elif self.wait_side == "agent":
                self.agent_waits.append([self.wait_start, at])

    def _resolve(self, at: int, actor: Actor) -> None:
        self.resolved = True
        start = self.unresolved_start if self.unresolved_start is not None else at
        self.unresolved_periods.append([start, at])
        self.unresolved_start = None
        self.resolution_at = at
        self.resolved_by = actor.raw
        self.replies_at_resolution = self.reply_count
        self.agent_replies_at_resolution = self.agent_reply_count
        self.agents_at_resolution = len(self.assignees_seen)
        self.response_span_start = None  # closed, not recorded

    def _reopen(self, at: int) -> None:
        self.resolved = False
        self.reopen_count += 1
        self.last_reopened_at = at
        self.unresolved_start = at
        if self.response_span_start is not None:
            self.response_span_start = at

    # ------------------------------------------------------------------ saving

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data (lists are copied, so the result is independent)."""
        out: dict[str, Any] = {}
        for name in _SLOTS:
            value = getattr(self, name)
            if isinstance(value, list):
                value = [list(item) if isinstance(item, list) else item for item in value]
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseState:
        """The inverse of :meth:`to_dict`; the caller has checked the version and keys."""
        state = cls()
        for name in _SLOTS:
            value = data[name]
            if isinstance(value, list):
                value = [list(item) if isinstance(item, list) else item for item in value]
            setattr(state, name, value)
        return state
