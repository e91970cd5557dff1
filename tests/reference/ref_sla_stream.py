"""Reference stream reading for the SLA clocks: ``ref_replay``'s reading plus ``sla_active``.

SPEC 1 and 10.9: a status object may carry ``"sla_active": true | false``. It is validated
always (with or without a policy); one status name with two SLA-active values in one case is
an error, an absent value counting as its type's default (NEW, OPEN true; PENDING, COMPLETED,
CLOSED false).

``read_sla_stream(events, strict, rules) -> (steps, skipped, sla_active_by_name)`` mirrors
``ref_replay.read_stream`` (same validation order, see its docstring 3) and returns, for every
status name seen in the applied stream, its one SLA-active value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ref_calendar import RefError, id_text
from .ref_replay import Event, RefRules, Status, Step, _Sequencer, parse_event
from .ref_sla_policy import found

TYPE_DEFAULT_ACTIVE: dict[str, bool] = {
    "NEW": True,
    "OPEN": True,
    "PENDING": False,
    "COMPLETED": False,
    "CLOSED": False,
}


def explicit_sla_active(raw: Any, index: int) -> tuple[str, bool] | None:
    """The (status name, sla_active) an event's status object states, validated; else None."""
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("event")
    if kind == "created":
        holder = raw.get("fields")
    elif kind == "update":
        holder = raw.get("changes")
    else:
        return None
    if not isinstance(holder, Mapping):
        return None
    status = holder.get("status")
    if not isinstance(status, Mapping) or "sla_active" not in status:
        return None
    value = status["sla_active"]
    name = status.get("name")
    if not isinstance(value, bool):
        # READING: null is not "absent": "sla_active": null is an error like any non-boolean.
        raise RefError(
            "event",
            f"status {found(name)}: sla_active expected true or false, found {found(value)}",
            index,
        )
    return (name, value) if isinstance(name, str) else None


class _SlaSequencer(_Sequencer):
    """``ref_replay``'s sequencer, also checking one SLA-active value per status name."""

    def __init__(self, rules: RefRules, explicit: dict[int, tuple[str, bool]]) -> None:
        super().__init__(rules)
        self.explicit = explicit
        self.sla_active: dict[str, tuple[bool, int]] = {}  # name -> (value, first event index)

    def _register_status(self, status: Status, index: int) -> None:
        super()._register_status(status, index)  # one name, one type (checked first)
        given = self.explicit.get(index)
        if given is not None and given[0] == status.name:
            value = given[1]
        else:
            # READING: the default NEW of created and the automatic OPEN of
            # reopen_on_customer_message are bare statuses with their type's default.
            value = TYPE_DEFAULT_ACTIVE[status.type]
        known = self.sla_active.get(status.name)
        if known is not None and known[0] != value:
            raise RefError(
                "event",
                f"status {found(status.name)}: sla_active {found(value)}, "
                f"but {found(known[0])} at event {known[1]}",
                index,
            )
        if known is None:
            self.sla_active[status.name] = (value, index)


def read_sla_stream(
    events: list[Mapping[str, Any]], strict: bool, rules: RefRules
) -> tuple[list[Step], int, dict[str, bool]]:
    skipped = 0
    case_text: str | None = None
    seen: dict[str, tuple[Event, Any]] = {}
    kept: list[Event] = []
    explicit: dict[int, tuple[str, bool]] = {}
    seq = _SlaSequencer(rules, explicit)
    for index, raw in enumerate(events):
        ev = parse_event(raw, index, strict)
        if ev is None:
            skipped += 1
            continue
        given = explicit_sla_active(raw, index)
        if given is not None:
            explicit[index] = given
        if case_text is None:
            case_text = id_text(ev.case)
        elif id_text(ev.case) != case_text:
            raise RefError("sequence", f"expected case {case_text!r}, found {ev.case!r}", index)
        if ev.event_id is not None:
            key = id_text(ev.event_id)
            # READING: sla_active is part of a parsed status, so of a duplicate's content.
            content = (ev.content(), given)
            if key in seen:
                if seen[key][1] == content:
                    continue
                raise RefError(
                    "sequence",
                    f"expected event id {ev.event_id!r} to repeat the same content, found different content",
                    index,
                )
            seen[key] = (ev, content)
        if strict:
            if kept and ev.at < kept[-1].at:
                raise RefError(
                    "sequence", "expected a non-decreasing 'at', found an earlier one", index
                )
            seq.feed(ev)
        kept.append(ev)
    if not strict:
        kept.sort(key=lambda e: (e.at, 0 if e.kind == "created" else 1, e.index))
        for ev in kept:
            seq.feed(ev)
    if not seq.steps:
        raise RefError("sequence", "expected a created event, found no applicable event", None)
    return seq.steps, skipped, {name: v for name, (v, _i) in seq.sla_active.items()}
