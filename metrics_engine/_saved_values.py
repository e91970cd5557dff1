"""Reading the values of a saved state one at a time, each error naming its key.

Every reader takes the value and its path in the state (``'case.customer_waits[2]'``) and
returns the value checked (and normalised: tuples become lists, int subclasses plain ints),
or raises :class:`StateError` saying what was expected at that path and what was found.
:data:`CASE_KINDS` gives the kind of every field of the case state. What ties values together
is checked in ``_saved_state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard, get_args

from metrics_engine._errors import StateError
from metrics_engine._events import MAX_INT_DIGITS, StatusType, int_fits

__all__ = [
    "CASE_KINDS",
    "NOTHING",
    "SLA_KEYS",
    "STATUS_TYPE_TEXT",
    "a_list",
    "an_id",
    "check_sla_record",
    "count",
    "fail",
    "field",
    "instant",
    "is_int",
    "need",
    "object_with",
    "ordered",
    "plain",
    "quoted",
    "same_id",
    "show",
    "span",
    "text_map",
]

_STATUS_TYPES: Final = frozenset(get_args(StatusType))
_WAIT_SIDES: Final = frozenset({"customer", "agent"})
_COUNT_LIMIT: Final = 2**63  # counts and positions stay below it: no stream is that long
#: Stands for a missing key where a found value is shown.
NOTHING: Final = object()
STATUS_TYPE_TEXT: Final = "a status type NEW, OPEN, PENDING, COMPLETED or CLOSED"

# The kind of each field of the case state; every slot of CaseState has one.
CASE_KINDS: Final[dict[str, str]] = {
    "case_raw": "id",
    "created_at": "instant",
    "last_at": "instant",
    "requester": "text?",
    "assignee": "text?",
    "team": "text?",
    "priority": "value",
    "type": "value",
    "sla": "value",
    "status_name": "name",
    "status_type": "status type",
    "resolved": "bool",
    **dict.fromkeys(
        (
            "agent_touch_count",
            "agent_reply_count",
            "requester_reply_count",
            "reply_count",
            "priority_change_count",
            "sla_change_count",
            "assignee_change_count",
            "team_change_count",
            "reopen_count",
            "replies_at_resolution",
            "agent_replies_at_resolution",
            "agents_at_resolution",
        ),
        "count",
    ),
    **dict.fromkeys(
        (
            "first_assignment_at",
            "last_assignment_at",
            "requester_updated_at",
            "customer_updated_at",
            "agent_updated_at",
            "last_activity_by_assignee_at",
            "last_reply_by_agent_at",
            "last_reply_by_assignee_at",
            "last_reply_by_requester_at",
            "last_reply_by_customer_at",
            "team_updated_at",
            "priority_updated_at",
            "type_updated_at",
            "status_update_at",
            "last_reopened_at",
            "resolution_at",
            "unresolved_start",
            "response_span_start",
            "first_response_start",
        ),
        "instant?",
    ),
    "last_replier": "id?",
    "resolved_by": "id?",
    "assignees_seen": "texts",
    "unresolved_periods": "spans",
    "response_spans": "spans",
    "first_response": "span?",
    "wait_side": "side",
    "wait_start": "instant",
    "customer_waits": "spans",
    "agent_waits": "spans",
    "team_segments": "segments",
    # the SLA record (docs/sla.md); null lists: restored from a state of version 1 or 2
    "sla_conditions": "sla rows?",
    "sla_cycles": "sla cycles?",
    "sla_deferred": "bool",
    "sla_status_active": "bool",
}
#: The keys of the SLA record, which states of version 1 and 2 do not have.
SLA_KEYS: Final = ("sla_conditions", "sla_cycles", "sla_deferred", "sla_status_active")
_COMPLETED_BY: Final = ("reply", "resolution")


def ordered(spans: list[list[int]], where: str, *, empty: bool = True) -> None:
    """Spans one after another (each from the end of the one before or later)."""
    for index, (start, end) in enumerate(spans):
        if not empty and end == start:
            raise fail(f"{where}[{index}]", "a span of at least one second", spans[index])
        if index and start < spans[index - 1][1]:
            raise fail(
                f"{where}[{index}]",
                f"a span from the end of the one before {spans[index - 1][1]}",
                spans[index],
            )


# --------------------------------------------------------------------------- one value


def field(kind: str, value: object, where: str, created: int, last: int) -> Any:
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind == "instant":
        return instant(value, where, created, last)
    if kind == "count":
        return count(value, where)
    if kind == "id":
        return an_id(value, where, optional=False)
    if kind == "text":
        need(isinstance(value, str), where, "an id as text or null", value)
        return value
    if kind == "value":
        need(
            value is None or isinstance(value, str) or is_int(value),
            where,
            f"a string, an integer of at most {MAX_INT_DIGITS} digits or null",
            value,
        )
        return int(value) if is_int(value) else value
    if kind in ("name", "status type"):
        need(isinstance(value, str) and bool(value), where, "a status name", value)
        if kind == "status type":
            need(value in _STATUS_TYPES, where, STATUS_TYPE_TEXT, value)
        return value
    if kind == "bool":
        need(type(value) is bool, where, "true or false", value)
        return value
    if kind == "side":
        need(
            value is None or (type(value) is str and value in _WAIT_SIDES),
            where,
            "customer, agent or null",
            value,
        )
        return value
    if kind == "texts":
        texts = a_list(value, where)
        for index, text in enumerate(texts):
            need(
                isinstance(text, str) and text not in texts[:index],
                f"{where}[{index}]",
                "ids as text, each once",
                text,
            )
        return list(texts)
    if kind == "span":
        return span(value, where, created, last)
    if kind == "sla rows":
        return [
            _condition(item, f"{where}[{index}]", created, last)
            for index, item in enumerate(a_list(value, where))
        ]
    if kind == "sla cycles":
        return [
            _cycle(item, f"{where}[{index}]", created, last)
            for index, item in enumerate(a_list(value, where))
        ]
    if kind == "spans":
        items = a_list(value, where)
        return [span(item, f"{where}[{index}]", created, last) for index, item in enumerate(items)]
    segments = []
    for index, item in enumerate(a_list(value, where)):
        pair = item if isinstance(item, list | tuple) else ()
        need(
            len(pair) == 2 and (pair[1] is None or isinstance(pair[1], str)),
            f"{where}[{index}]",
            "[start, team id as text or null]",
            item,
        )
        segments.append([instant(pair[0], f"{where}[{index}]", created, last), pair[1]])
    return segments


def _condition(value: object, where: str, created: int, last: int) -> list[Any]:
    """``[at, event index, status name, sla_active, resolved, priority, sla]``."""
    row = a_list(value, where)
    need(len(row) == 7, where, "a condition row of 7 values", value)
    at = instant(row[0], f"{where}[0]", created, last)
    index = count(row[1], f"{where}[1]")
    need(isinstance(row[2], str) and bool(row[2]), f"{where}[2]", "a status name", row[2])
    for position in (3, 4):
        need(type(row[position]) is bool, f"{where}[{position}]", "true or false", row[position])
    values = [
        field("value", row[position], f"{where}[{position}]", created, last) for position in (5, 6)
    ]
    return [at, index, row[2], row[3], row[4], *values]


def _cycle(value: object, where: str, created: int, last: int) -> list[Any]:
    """``[started_at, opened_in, completed_at, completed_by, closed_in]``, the last three
    null together while the cycle is open."""
    row = a_list(value, where)
    need(len(row) == 5, where, "a reply cycle of 5 values", value)
    started = instant(row[0], f"{where}[0]", created, last)
    opened_in = count(row[1], f"{where}[1]")
    if row[2] is None and row[3] is None and row[4] is None:
        return [started, opened_in, None, None, None]
    completed = instant(row[2], f"{where}[2]", started, last)
    need(
        type(row[3]) is str and row[3] in _COMPLETED_BY,
        f"{where}[3]",
        '"reply" or "resolution" (or null with the completion instant)',
        row[3],
    )
    return [started, opened_in, completed, row[3], count(row[4], f"{where}[4]")]


def check_sla_record(case: dict[str, Any]) -> None:
    """The SLA record against itself and the case (checked values, see docs/state.md)."""
    rows = case["sla_conditions"]
    cycles = case["sla_cycles"]
    where = "case.sla_conditions"
    if rows is None:  # restored from a state of version 1 or 2: no record
        need(cycles is None, "case.sla_cycles", "null as 'case.sla_conditions' is null", cycles)
        need(
            not case["sla_deferred"],
            "case.sla_deferred",
            "false as 'case.sla_conditions' is null",
            case["sla_deferred"],
        )
        return
    if cycles is None:
        raise fail("case.sla_cycles", "a list as 'case.sla_conditions' is one", None)
    need(
        bool(rows) and rows[0][0] == case["created_at"],
        where,
        f"a first row at 'case.created_at' {case['created_at']}",
        rows[:1],
    )
    for index in range(1, len(rows)):
        need(
            rows[index][0] >= rows[index - 1][0],
            f"{where}[{index}]",
            f"a row at or after {rows[index - 1][0]}",
            rows[index],
        )
    now = [case["status_name"], case["sla_status_active"], case["resolved"]]
    need(
        rows[-1][2:5] == now,
        f"{where}[{len(rows) - 1}]",
        f"the case's status now {now}",
        rows[-1][2:5],
    )
    for position, name in ((5, "priority"), (6, "sla")):
        value = rows[-1][position]
        need(
            type(value) is type(case[name]) and value == case[name],
            f"{where}[{len(rows) - 1}][{position}]",
            f"'case.{name}' {plain(case[name])}",
            value,
        )
    where = "case.sla_cycles"
    for index, (started, opened_in, completed, _, closed_in) in enumerate(cycles):
        path = f"{where}[{index}]"
        need(
            opened_in < len(rows) and rows[opened_in][0] <= started,
            path,
            "a cycle opened in a condition row at or before its start",
            cycles[index],
        )
        if index:
            before = cycles[index - 1]
            need(
                before[2] is not None and before[2] <= started and before[1] <= opened_in,
                path,
                "a cycle opened once the one before was completed",
                cycles[index],
            )
        if completed is not None:
            need(
                opened_in <= closed_in < len(rows) and rows[closed_in][0] <= completed,
                path,
                "a cycle closed in a condition row from the one it opened in",
                cycles[index],
            )
    is_open = bool(cycles) and cycles[-1][2] is None
    need(
        not case["sla_deferred"] or (case["resolved"] and not is_open),
        "case.sla_deferred",
        "false unless the case is resolved with no reply cycle open",
        case["sla_deferred"],
    )


def instant(value: object, where: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise fail(where, f"an instant in epoch seconds from {low} to {high}", value)
    return value


def count(value: object, where: str) -> int:
    if type(value) is not int or not 0 <= value < _COUNT_LIMIT:
        raise fail(where, "a whole number from 0 to 2^63 - 1", value)
    return value


def an_id(value: object, where: str, *, optional: bool) -> str | int | None:
    if value is None and optional:
        return None
    if isinstance(value, str):
        return value
    if is_int(value):
        return int(value)
    raise fail(
        where, f"an id as given: a string or an integer of at most {MAX_INT_DIGITS} digits", value
    )


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and int_fits(value)


def same_id(a: object, b: object) -> bool:
    """The same id written the same way (text and number are told apart here)."""
    return isinstance(a, str) == isinstance(b, str) and a == b


def span(value: object, where: str, created: int, last: int) -> list[int]:
    pair = a_list(value, where)
    need(len(pair) == 2, where, "a span [start, end]", value)
    start = instant(pair[0], where, created, last)
    end = instant(pair[1], where, created, last)
    need(start <= end, where, "a span whose end is not before its start", value)
    return [start, end]


# --------------------------------------------------------------------------- shapes and errors


def object_with(value: object, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """An object with exactly these keys."""
    given = text_map(value, where)
    for key in given:
        if key not in keys:
            raise StateError(
                f"saved state {_where(where)}: expected only the keys it is written with, "
                f"found key {show(key)}"
            )
    for key in keys:
        if key not in given:
            raise fail(f"{where}.{key}" if where else key, "a value", NOTHING)
    return given


def text_map(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(where, "an object", value)
    for key in value:
        if not isinstance(key, str):
            raise fail(where, "an object whose keys are text", key)
    return value


def a_list(value: object, where: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise fail(where, "a list", value)
    return value


def need(condition: bool, where: str, expected: str, found: object) -> None:
    if not condition:
        raise fail(where, expected, found)


def fail(where: str, expected: str, found: object) -> StateError:
    shown = "nothing" if found is NOTHING else show(found)
    return StateError(f"saved state {_where(where)}: expected {expected}, found {shown}")


def _where(where: str) -> str:
    return f"'{where}'" if where else "(top level)"


def quoted(key: str) -> str:
    """A map key inside a path: quoted, cut when long."""
    return '"' + (key if len(key) <= 40 else key[:37] + "...") + '"'


def plain(value: object) -> str:
    """An expected value as the state writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def show(value: object) -> str:
    """A found value in one short line: its type and repr, or its type alone when the repr
    cannot be had (an integer too long for text, a nesting too deep)."""
    if value is None:
        return "null"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"{type(value).__name__} (too large to show)"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
