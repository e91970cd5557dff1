"""Saved replay states: writing them, and reading them back only when they are whole.

A saved state is plain JSON data: the replay's memory of the stream (what its sequence rules
need), the case state (:class:`CaseState`), the rules, and the fingerprint of the calendar the
replay had. Business time is measured when metrics are read, with the calendar the replay has
then, so restoring with another calendar is refused unless asked for.

Reading checks everything before anything is restored, in two passes. First the shape and
every value on its own: each key present and no other, each value of its type and within its
range (counts from 0, instants between the case's creation and its last event, ids as text or
as given). Then the facts that tie values together, the way the state machine keeps them:
spans in order, a reopen count that matches the resolutions, a wait side that matches the
status, and so on. A state therefore restores exactly, or :class:`StateError` names the key
that is wrong, the one wrong on its own when there is one. docs/state.md describes the format.

This module reads the format, the rules and the replay's memory, and ties that memory to the
case; the case state's own fields, and the facts between them, are read by ``_saved_case``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError, StateError
from metrics_engine._events import _MAX_EPOCH_SECOND, _MIN_EPOCH_SECOND, id_text
from metrics_engine._rules import Rules
from metrics_engine._saved_case import _case
from metrics_engine._saved_values import (
    NOTHING,
    STATUS_TYPE_TEXT,
    an_id,
    count,
    fail,
    instant,
    need,
    object_with,
    plain,
    quoted,
    same_id,
    show,
    text_map,
)
from metrics_engine._state import CaseState
from metrics_engine._state_slots import _WAIT_SIDE

__all__ = ["STATE_FORMAT", "STATE_VERSION", "SavedReplay", "read_state", "write_state"]

#: Version of the saved-state format written. Versions 1 (before calendar fingerprints) and 2
#: (before the SLA record) are still read; any other is refused.
STATE_VERSION: Final = 3
STATE_FORMAT: Final = "metrics_engine.CaseReplay"

_TOP_KEYS: Final = {
    1: ("format", "version", "strict", "rules", "replay", "case"),
    2: ("format", "version", "strict", "rules", "calendar", "replay", "case"),
    3: ("format", "version", "strict", "rules", "calendar", "replay", "case"),
}
_OLD_REPLAY_KEYS: Final = (
    "applied",
    "case_key",
    "error_case",
    "index",
    "last_at",
    "seen",
    "status_types",
    "status_now",
    "skipped",
)
_REPLAY_KEYS: Final = (*_OLD_REPLAY_KEYS, "status_sla_active")
_STATUS_TYPES: Final = frozenset(_WAIT_SIDE)
_DIGEST: Final = re.compile(r"[0-9a-f]{24}")  # the replay's digest of an event's content


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedReplay:
    """What a saved state holds, checked: the replay's memory, its rules and the case."""

    strict: bool
    rules: Rules
    applied: int
    case_key: str | None
    error_case: object  # the case id of the stream's first event, for messages
    index: int
    last_at: int | None
    seen: Mapping[str, str]  # event id -> digest of its content
    status_types: Mapping[str, str]
    status_actives: Mapping[str, tuple[bool, int]]  # status name -> SLA-activity, first index
    status_now: str
    skipped: int
    case: CaseState


Calendar = BusinessCalendar | TeamCalendars


def write_state(saved: SavedReplay, calendar: Calendar | None) -> dict[str, Any]:
    """The JSON-ready state (lists and dicts are fresh, so it is independent of the replay)."""
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "strict": saved.strict,
        "rules": saved.rules.to_dict(),
        "calendar": _fingerprint(calendar),
        "replay": {
            "applied": saved.applied,
            "case_key": saved.case_key,
            "error_case": saved.error_case,
            "index": saved.index,
            "last_at": saved.last_at,
            "seen": dict(saved.seen),
            "status_types": dict(saved.status_types),
            "status_sla_active": {
                name: [active, index] for name, (active, index) in saved.status_actives.items()
            },
            "status_now": saved.status_now,
            "skipped": saved.skipped,
        },
        "case": saved.case.to_dict(),
    }


def read_state(
    state: object, calendar: Calendar | None, *, recalendar: object, sla: bool = False
) -> SavedReplay:
    """A saved state, checked whole; :class:`StateError` names the first key found wrong.

    A state that records another calendar than ``calendar`` is refused unless ``recalendar``
    (business time would be measured with another calendar than the one it was built with).
    A state of version 1 records none and is read with ``calendar``. States of version 1 and
    2 hold no SLA record: they are refused when ``sla`` (SLA clocks are to be read), and
    otherwise restore without one (the replay then writes an SLA record of null).
    """
    if type(recalendar) is not bool:
        raise MetricsEngineError(f"recalendar: expected true or false, found {show(recalendar)}")
    if not isinstance(state, Mapping):
        raise StateError(
            f"saved state: expected an object written by CaseReplay.to_state, found {show(state)}"
        )
    found_format = state.get("format", NOTHING)
    if type(found_format) is not str or found_format != STATE_FORMAT:
        raise fail(
            "format", f"{STATE_FORMAT!r} (a state written by CaseReplay.to_state)", found_format
        )
    version = state.get("version", NOTHING)
    if type(version) is not int or version not in _TOP_KEYS:
        small = type(version) is int and -(10**9) < version < 10**9
        found = f"version {version}" if small else show(version)
        raise StateError(
            f"saved state 'version': expected version {STATE_VERSION} (or 1 or 2), found {found}"
        )
    object_with(state, "", _TOP_KEYS[version])
    strict = state["strict"]
    if type(strict) is not bool:
        raise fail("strict", "true or false", strict)
    rules = _rules(state["rules"])
    replay_keys = _REPLAY_KEYS if version >= 3 else _OLD_REPLAY_KEYS
    memory = _memory(object_with(state["replay"], "replay", replay_keys), strict)
    case = _case(state["case"], memory.applied, version)
    if memory.applied:
        _memory_agrees(memory, case)
    if sla and case["sla_conditions"] is None:
        raise StateError(
            f"saved state 'version': expected version {STATE_VERSION} to read SLA clocks "
            f"(earlier versions record none), found version {version}; replay the case's "
            "events to read them"
        )
    if version > 1:
        _same_calendar(state["calendar"], _fingerprint(calendar), recalendar=recalendar)
    return replace(memory, rules=rules, case=CaseState.from_dict(case))


def _fingerprint(calendar: Calendar | None) -> str | None:
    return None if calendar is None else calendar.fingerprint


def _same_calendar(saved: object, given: str | None, *, recalendar: bool) -> None:
    if saved is not None and (type(saved) is not str or not _DIGEST.fullmatch(saved)):
        raise fail("calendar", "a calendar fingerprint of 24 hex digits or null", saved)
    if saved != given and not recalendar:
        built = "no calendar" if saved is None else f"the calendar with fingerprint {saved}"
        found = "no calendar" if given is None else f"a calendar with fingerprint {given}"
        raise StateError(
            f"saved state 'calendar': expected {built}, as the state was built with, found "
            f"{found}; pass recalendar=True to measure business time with the calendar given"
        )


# --------------------------------------------------------------------------- the parts


def _rules(value: object) -> Rules:
    defaults = Rules().to_dict()
    given = object_with(value, "rules", tuple(defaults))
    for name, default in defaults.items():
        if type(given[name]) is not type(default):
            expected = "true or false" if type(default) is bool else "a rule name"
            raise fail(f"rules.{name}", expected, given[name])
    try:
        return Rules(**given)
    except MetricsEngineError as error:
        raise StateError(f"saved state 'rules': {error.detail}") from None


def _memory(replay: Mapping[str, Any], strict: bool) -> SavedReplay:
    """The replay's memory of the stream, each value alone and against the counts."""
    applied = count(replay["applied"], "replay.applied")
    index = count(replay["index"], "replay.index")
    skipped = count(replay["skipped"], "replay.skipped")
    error_case = an_id(replay["error_case"], "replay.error_case", optional=True)
    case_key = replay["case_key"]
    if case_key is not None and not isinstance(case_key, str):
        raise fail("replay.case_key", "the case id as text or null", case_key)
    last_at = replay["last_at"]
    if last_at is not None:
        last_at = instant(last_at, "replay.last_at", _MIN_EPOCH_SECOND, _MAX_EPOCH_SECOND)
    seen = text_map(replay["seen"], "replay.seen")
    for key, digest in seen.items():
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise fail(f"replay.seen[{quoted(key)}]", "a digest of 24 hex digits", digest)
    status_types = text_map(replay["status_types"], "replay.status_types")
    for name, status_type in status_types.items():
        if not name:
            raise fail("replay.status_types", "status names that are not empty", name)
        if type(status_type) is not str or status_type not in _STATUS_TYPES:
            raise fail(f"replay.status_types[{quoted(name)}]", STATUS_TYPE_TEXT, status_type)
    status_now = replay["status_now"]
    if type(status_now) is not str or status_now not in _STATUS_TYPES:
        raise fail("replay.status_now", STATUS_TYPE_TEXT, status_now)
    status_actives: dict[str, tuple[bool, int]] = {}
    for name, pair in text_map(
        replay.get("status_sla_active", {}), "replay.status_sla_active"
    ).items():
        where = f"replay.status_sla_active[{quoted(name)}]"
        given = pair if isinstance(pair, list | tuple) else ()
        if len(given) != 2 or type(given[0]) is not bool:
            raise fail(where, "[true or false, the index of the event that gave it]", pair)
        if name not in status_types:
            raise fail(where, "a status of 'replay.status_types'", pair)
        status_actives[name] = (given[0], count(given[1], where))

    if strict and skipped:
        raise fail("replay.skipped", "0 in strict mode (it skips nothing)", skipped)
    if index < applied + skipped:
        raise fail("replay.index", f"at least applied + skipped = {applied + skipped}", index)
    for name, (_, first) in status_actives.items():
        if first >= index:
            raise fail(
                f"replay.status_sla_active[{quoted(name)}]",
                f"the index of an event taken, below 'replay.index' {index}",
                first,
            )
    if len(seen) > applied:
        raise fail(
            "replay.seen",
            f"at most one id per applied event ('replay.applied' {applied})",
            len(seen),
        )
    if not applied:
        for where, value, empty in (
            ("replay.index", index, skipped),  # with nothing applied, all were skipped
            ("replay.case_key", case_key, None),
            ("replay.last_at", last_at, None),
            ("replay.status_types", dict(status_types), {}),
            ("replay.status_sla_active", len(status_actives), 0),
            ("replay.status_now", status_now, "NEW"),
        ):
            if value != empty:
                raise fail(where, f"{plain(empty)} while 'replay.applied' is 0", value)
    elif error_case is None:
        raise fail("replay.error_case", "the case id once an event is applied", None)
    return SavedReplay(
        strict=strict,
        rules=Rules(),
        applied=applied,
        case_key=case_key,
        error_case=error_case,
        index=index,
        last_at=last_at,
        seen=dict(seen),
        status_types=dict(status_types),
        status_actives=status_actives,
        status_now=status_now,
        skipped=skipped,
        case=CaseState(),
    )


def _memory_agrees(memory: SavedReplay, case: dict[str, Any]) -> None:
    """The replay's memory against the case state, once both are checked alone."""
    case_raw = case["case_raw"]
    if memory.case_key != id_text(case_raw, "case"):
        raise fail(
            "replay.case_key", f"the text of 'case.case_raw' {show(case_raw)}", memory.case_key
        )
    if memory.last_at != case["last_at"]:
        raise fail("replay.last_at", f"'case.last_at' {case['last_at']}", memory.last_at)
    if not memory.skipped and not same_id(memory.error_case, case_raw):
        # Its first event is the one created the case unless lenient mode skipped that one.
        raise fail(
            "replay.error_case",
            f"'case.case_raw' {show(case_raw)} (nothing skipped)",
            memory.error_case,
        )
    name, status_type = case["status_name"], case["status_type"]
    if memory.status_types.get(name) != status_type:
        raise fail(
            "replay.status_types",
            f"the case's status {quoted(name)} with 'case.status_type' {status_type}",
            dict(memory.status_types),
        )
    if memory.status_now != status_type:
        raise fail("replay.status_now", f"'case.status_type' {status_type}", memory.status_now)
    for name in _AT_MOST_APPLIED:
        if case[name] > memory.applied:
            raise fail(f"case.{name}", f"at most 'replay.applied' = {memory.applied}", case[name])
    _sla_memory_agrees(memory, case)


def _sla_memory_agrees(memory: SavedReplay, case: dict[str, Any]) -> None:
    """The SLA record's rows against the statuses the replay remembers."""
    rows = case["sla_conditions"]
    if rows is None:
        return
    need(
        len(rows) <= memory.applied,
        "case.sla_conditions",
        f"at most one row per applied event ('replay.applied' {memory.applied})",
        len(rows),
    )
    for position, row in enumerate(rows):
        where = f"case.sla_conditions[{position}]"
        need(
            row[1] < memory.index,
            where,
            f"an event index below 'replay.index' {memory.index}",
            row[1],
        )
        known = memory.status_actives.get(row[2])
        need(
            known is not None and known[0] is row[3],
            where,
            "a status with the SLA-activity 'replay.status_sla_active' gives it",
            row[2:4],
        )


# Counts of events, or of what events did at most once each.
_AT_MOST_APPLIED: Final = (
    "agent_touch_count",
    "reply_count",
    "priority_change_count",
    "sla_change_count",
    "assignee_change_count",
    "team_change_count",
    "reopen_count",
)
