"""Reading the case part of a saved state: each field alone, then what ties them together.

The fields of the case state (:class:`CaseState`) are read first one at a time, each of its
kind and between the case's creation and its last event; then the facts the state machine
keeps true between them are checked: spans in order, a reopen count that matches the
resolutions, a wait side that matches the status, and so on (docs/state.md lists them). A
wrong field raises :class:`StateError` naming its key. ``_saved_state`` reads the rest of a
saved state and calls this for its ``case``.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Final

from metrics_engine._events import _MAX_EPOCH_SECOND, _MIN_EPOCH_SECOND
from metrics_engine._saved_values import (
    CASE_KINDS,
    SLA_KEYS,
    check_sla_record,
    fail,
    field,
    instant,
    need,
    object_with,
    ordered,
    plain,
)
from metrics_engine._state import CaseState
from metrics_engine._state_slots import _RESOLVED, _WAIT_SIDE

_OLD_CASE_KEYS: Final = tuple(name for name in CASE_KINDS if name not in SLA_KEYS)


def _case(value: object, applied: int, version: int) -> dict[str, Any]:
    """The case state's fields, each checked alone and then against each other."""
    recorded = version >= 3  # the SLA record came with version 3
    given = object_with(value, "case", tuple(CASE_KINDS) if recorded else _OLD_CASE_KEYS)
    if not applied:
        empty = CaseState().to_dict()
        for name, default in empty.items():
            if not recorded and name in SLA_KEYS:
                continue
            found = given[name]
            if type(found) is not type(default) or found != default:
                expected = f"{plain(default)} while 'replay.applied' is 0"
                raise fail(f"case.{name}", expected, found)
        return empty
    if not recorded:
        given = {**given, **_NO_SLA_RECORD}
    created = instant(given["created_at"], "case.created_at", _MIN_EPOCH_SECOND, _MAX_EPOCH_SECOND)
    last = instant(given["last_at"], "case.last_at", _MIN_EPOCH_SECOND, _MAX_EPOCH_SECOND)
    if last < created:
        raise fail("case.last_at", f"an instant at or after 'case.created_at' {created}", last)
    case = {
        name: field(kind, given[name], f"case.{name}", created, last)
        for name, kind in CASE_KINDS.items()
    }
    _check_case(case)
    check_sla_record(case)
    return case


#: The SLA record of a state written before there was one.
_NO_SLA_RECORD: Final = {
    "sla_conditions": None,
    "sla_cycles": None,
    "sla_deferred": False,
    "sla_status_active": False,
}


def _check_case(case: dict[str, Any]) -> None:
    """What the state machine keeps true between fields (docs/state.md lists it)."""
    created = case["created_at"]
    status_type = case["status_type"]
    resolved = case["resolved"]
    need(
        resolved == (status_type in _RESOLVED),
        "case.resolved",
        f"{plain(status_type in _RESOLVED)} for 'case.status_type' {status_type}",
        resolved,
    )
    side = _WAIT_SIDE[status_type]
    need(
        case["wait_side"] == side,
        "case.wait_side",
        f"{plain(side)} for 'case.status_type' {status_type}",
        case["wait_side"],
    )

    # counts
    replies = case["agent_reply_count"] + case["requester_reply_count"]
    need(
        case["reply_count"] >= replies,
        "case.reply_count",
        f"at least agent plus requester replies = {replies}",
        case["reply_count"],
    )
    need(
        case["agent_touch_count"] >= case["agent_reply_count"],
        "case.agent_touch_count",
        "at least 'case.agent_reply_count' (each agent reply is a touch)",
        case["agent_touch_count"],
    )
    for counted, at in _COUNTED_AT:
        need(
            (case[counted] == 0) == (case[at] is None),
            f"case.{at}",
            f"{'an instant' if case[counted] else 'null'} as 'case.{counted}' is {case[counted]}",
            case[at],
        )
    for earlier, later in _NOT_AFTER:
        if case[earlier] is not None:
            need(
                case[later] is not None and case[later] >= case[earlier],
                f"case.{later}",
                f"an instant at or after 'case.{earlier}' {case[earlier]}",
                case[later],
            )
    for counted, at in (
        ("agent_reply_count", "last_reply_by_agent_at"),
        ("requester_reply_count", "last_reply_by_requester_at"),
    ):
        if case[counted]:
            need(
                case[at] is not None,
                f"case.{at}",
                f"an instant as 'case.{counted}' is {case[counted]}",
                None,
            )

    # assignment
    seen = case["assignees_seen"]
    need(
        (case["first_assignment_at"] is None) == (case["last_assignment_at"] is None),
        "case.first_assignment_at",
        "an instant exactly when 'case.last_assignment_at' is one",
        case["first_assignment_at"],
    )
    if seen:
        need(
            case["first_assignment_at"] is not None,
            "case.first_assignment_at",
            "an instant once 'case.assignees_seen' has an agent",
            None,
        )
    if case["assignee"] is not None:
        need(
            case["assignee"] in seen,
            "case.assignee",
            "an agent in 'case.assignees_seen'",
            case["assignee"],
        )

    # resolution
    periods = case["unresolved_periods"]
    ordered(periods, "case.unresolved_periods")
    reopens = case["reopen_count"]
    need(
        len(periods) == reopens + resolved,
        "case.reopen_count",
        f"one less than the resolutions in 'case.unresolved_periods' ({len(periods)})"
        if resolved
        else f"the resolutions in 'case.unresolved_periods' ({len(periods)})",
        reopens,
    )
    if periods:
        need(
            periods[0][0] == created,
            "case.unresolved_periods[0]",
            f"a first period from 'case.created_at' {created}",
            periods[0],
        )
    need(
        case["resolution_at"] == (periods[-1][1] if periods else None),
        "case.resolution_at",
        "the end of the last unresolved period" if periods else "null before a resolution",
        case["resolution_at"],
    )
    if not periods:
        for name in (
            "replies_at_resolution",
            "agent_replies_at_resolution",
            "agents_at_resolution",
            "resolved_by",
        ):
            need(
                case[name] in (0, None) and case[name] is not False,
                f"case.{name}",
                f"{plain(0 if name != 'resolved_by' else None)} before a resolution",
                case[name],
            )
    start = case["unresolved_start"]
    if resolved:
        need(start is None, "case.unresolved_start", "null while resolved", start)
        if reopens:
            need(
                periods[-1][0] == case["last_reopened_at"],
                "case.last_reopened_at",
                f"the start of the last unresolved period {periods[-1][0]}",
                case["last_reopened_at"],
            )
    else:
        expected_start = case["last_reopened_at"] if reopens else created
        need(
            start == expected_start,
            "case.unresolved_start",
            f"'case.last_reopened_at' {expected_start}"
            if reopens
            else f"'case.created_at' {created}",
            start,
        )
    for name, total in (
        ("replies_at_resolution", "reply_count"),
        ("agent_replies_at_resolution", "agent_reply_count"),
    ):
        need(case[name] <= case[total], f"case.{name}", f"at most 'case.{total}'", case[name])
    need(
        case["agents_at_resolution"] <= len(seen),
        "case.agents_at_resolution",
        f"at most the agents in 'case.assignees_seen' ({len(seen)})",
        case["agents_at_resolution"],
    )

    # responses
    spans = case["response_spans"]
    ordered(spans, "case.response_spans")
    need(
        len(spans) <= case["agent_reply_count"],
        "case.response_spans",
        f"at most one span per agent reply ({case['agent_reply_count']})",
        len(spans),
    )
    open_start = case["response_span_start"]
    if open_start is not None and spans:
        need(
            open_start >= spans[-1][1],
            "case.response_span_start",
            f"an instant at or after the last response {spans[-1][1]}",
            open_start,
        )
    first = case["first_response"]
    if first is not None:
        need(
            case["first_response_start"] == first[0],
            "case.first_response",
            f"a span from 'case.first_response_start' {case['first_response_start']}",
            first,
        )
    elif spans:
        need(False, "case.first_response", "a span once a response is recorded", None)

    # waits: both sides take turns, so their spans never overlap
    waits = sorted(case["customer_waits"] + case["agent_waits"])
    for name in ("customer_waits", "agent_waits"):
        ordered(case[name], f"case.{name}", empty=False)
    for before, after in pairwise(waits):
        need(
            after[0] >= before[1],
            "case.customer_waits",
            "waits of the two sides that do not overlap with 'case.agent_waits'",
            after,
        )
    if waits:
        need(
            case["wait_start"] >= waits[-1][1],
            "case.wait_start",
            f"an instant at or after the end of the last wait {waits[-1][1]}",
            case["wait_start"],
        )

    # teams
    segments = case["team_segments"]
    need(
        bool(segments) and segments[0][0] == created,
        "case.team_segments",
        f"a first segment from 'case.created_at' {created}",
        segments[:1],
    )
    for index in range(1, len(segments)):
        need(
            segments[index][0] > segments[index - 1][0],
            f"case.team_segments[{index}]",
            f"a start after {segments[index - 1][0]}",
            segments[index],
        )
    need(
        segments[-1][1] == case["team"],
        "case.team",
        "the team of the last segment of 'case.team_segments'",
        case["team"],
    )
    need(
        len(segments) <= case["team_change_count"] + 1,
        "case.team_segments",
        "at most one segment per team change, plus the first",
        len(segments),
    )


# Each pair: a count, and the instant set when it counted (null while it is 0).
_COUNTED_AT: Final = (
    ("reopen_count", "last_reopened_at"),
    ("priority_change_count", "priority_updated_at"),
    ("team_change_count", "team_updated_at"),
)
# Each pair: an instant, and one set with it that can only be later.
_NOT_AFTER: Final = (
    ("first_assignment_at", "last_assignment_at"),
    ("requester_updated_at", "customer_updated_at"),
    ("last_reply_by_requester_at", "last_reply_by_customer_at"),
    ("last_reply_by_requester_at", "requester_updated_at"),
    ("last_reply_by_customer_at", "customer_updated_at"),
    ("last_reply_by_agent_at", "agent_updated_at"),
)
