"""From mapped steps to events: field values, the creation values rewound, the event dicts.

Kayako keeps a case's *current* values and, for each change, an action with the old and the
new value (a display label, and usually the id in ``*_object.original``). The values a case
was created with are therefore found by starting from the final case and undoing the changes
newest to oldest. Each undo is checked: the change must have set the value the case had at
that point. A value that cannot be rewound (an unknown label, a missing id, a change that
does not fit) rejects the case with an error naming the field; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from metrics_engine.sources._kayako_items import ItemReader, Side, Step
from metrics_engine.sources._kayako_layouts import Index, KayakoError, Obj, id_key

__all__ = ["CASE_FIELDS", "Timeline", "build_events", "final_side"]

#: The case's key for each event field.
CASE_FIELDS: Final = {
    "requester": "requester",
    "status": "status",
    "assignee": "assigned_agent",
    "team": "assigned_team",
    "priority": "priority",
    "type": "type",
    "sla": "sla_version",
}
_BASE_TYPES: Final = ("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED")
#: Fields whose values may be ids or labels: the resource type and the key of its label.
_REFERENCES: Final = {
    "team": ("team", "title"),
    "priority": ("case_priority", "label"),
    "type": ("case_type", "label"),
    "sla": ("sla_version", "title"),
}
_LABEL_KEYS: Final = ("label", "title", "full_name", "name")


@dataclass(frozen=True, slots=True)
class Timeline:
    """One case read and mapped: what :func:`build_events` turns into events."""

    case_id: int | str
    created_at: int
    creator: object  # the case's creator reference
    final: Mapping[str, Side]  # each event field's value in the case as saved
    steps: tuple[Step, ...]  # in replay order
    reader: ItemReader
    status_types: Mapping[str, str]  # status id text → status type, given by the user


def final_side(case: Obj, field: str, index: Index) -> Side:
    """An event field's value in the saved case (an absent key is null, as ``_empty``)."""
    ref = case.get(CASE_FIELDS[field])
    if ref is None:
        return Side(None, None, None)
    if not isinstance(ref, dict) or id_key(ref.get("id")) is None:
        raise KayakoError(
            f"case field {CASE_FIELDS[field]!r}: expected a reference with an id or null, "
            f"found {ref!r:.60}"
        )
    obj = index.resolve(ref, *_LABEL_KEYS)
    return Side(id_key(ref["id"]), ref["id"], _label(obj))


def _label(obj: Obj | None) -> str | None:
    if obj is None:
        return None
    for name in _LABEL_KEYS:
        value = obj.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _iso(epoch_second: int) -> str:
    return datetime.fromtimestamp(epoch_second, UTC).isoformat()


class _Values:
    """Turns sides into event values, one rule per field."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.index = timeline.reader.index
        self.case = timeline.case_id
        self._statuses: dict[str, Any] = {}
        self._references: dict[str, Callable[[Side], Any]] = {}

    def error(self, detail: str) -> KayakoError:
        return KayakoError(detail, case=self.case)

    def value(self, field: str, side: Side, step: Step | None) -> Any:
        """The event value of one side; ``step`` is where it was read (None: the case)."""
        if field == "status":
            return self.status(side, step)
        if field in ("requester", "assignee"):
            return self.user(field, side, step)
        if field not in self._references:
            self._references[field] = self._reference_rule(field)
        return self._references[field](side)

    # ------------------------------------------------------------------ status

    def status(self, side: Side, step: Step | None) -> Any:
        if side.key is not None and side.key in self._statuses:
            return self._statuses[side.key]
        obj = self._status_object(side, _where(step))
        key = id_key(obj.get("id")) or ""
        if key not in self._statuses:
            self._statuses[key] = self._status_value(obj, key)
        return self._statuses[key]

    def _status_object(self, side: Side, where: str) -> Obj:
        if side.key is not None:
            obj = self.index.get("case_status", side.key, "type")
            if obj is None:
                raise self.error(
                    f"field 'status': {where} names status {side.key}, which is not in the "
                    f"statuses list (statuses.json)"
                )
            return obj
        if side.label is None:
            raise self.error(f"field 'status': {where} gives no status (null), which cannot be")
        statuses = list(self.index.of_type("case_status"))
        for match in (
            lambda obj: obj.get("label") == side.label,
            lambda obj: str(obj.get("label", "")).casefold() == side.label.casefold(),
            lambda obj: str(obj.get("type", "")).upper() == side.label.upper() != "CUSTOM",
        ):
            found = [obj for obj in statuses if match(obj)]
            if len(found) == 1:
                return found[0]
        raise self.error(
            f"field 'status': {where} names the status {side.label!r} without an id, and it "
            f"matches no single status of the statuses list by label or type"
        )

    def _status_value(self, obj: Obj, key: str) -> Any:
        own = str(obj.get("type") or "CUSTOM").upper()
        label = _label(obj) or f"status {key}"
        active = obj.get("is_sla_active")
        chosen = self.timeline.status_types.get(key)
        if chosen is None and own in _BASE_TYPES:
            return own
        if chosen is None:
            if not isinstance(active, bool):
                raise self.error(
                    f"field 'status': status {key} ({label!r}) is {own} and has no "
                    f"is_sla_active to tell OPEN from PENDING; give its type in status_types "
                    f"(on the command line: --status-type {key}=TYPE)"
                )
            chosen = "OPEN" if active else "PENDING"
        if chosen == own:
            return own
        value: dict[str, Any] = {"name": label, "type": chosen}
        if own not in _BASE_TYPES and isinstance(active, bool):
            value["sla_active"] = active
        return value

    # ------------------------------------------------------------------ users

    def user(self, field: str, side: Side, step: Step | None) -> Any:
        if side.key is not None:
            return side.raw
        if side.label is None:
            return None
        found = [
            obj.get("id")
            for obj in self.index.of_type("user")
            if obj.get("full_name") == side.label and id_key(obj.get("id")) is not None
        ]
        if len(found) == 1:
            return found[0]
        raise self.error(
            f"field {field!r}: {_where(step)} names the user {side.label!r} without an id, and "
            f"{'no user record has' if not found else 'several user records have'} that name"
        )

    # ------------------------------------------------------------------ teams, priority...

    def _reference_rule(self, field: str) -> Callable[[Side], Any]:
        """Ids when every value of the field in this case has one (from its object, or its
        label matching one object of the export); otherwise labels for the whole case, so
        that values always compare like with like."""
        kind, label_key = _REFERENCES[field]
        sides = [(side, step) for side, step in self._sides(field) if not side.null]
        by_label: dict[str, list[Obj]] = {}
        if any(side.key is None for side, _ in sides):  # labels to look up: read them all
            for obj in self.index.of_type(kind):
                label = obj.get(label_key)
                if isinstance(label, str) and id_key(obj.get("id")) is not None:
                    by_label.setdefault(label.casefold(), []).append(obj)

        def id_of(side: Side) -> Any:
            if side.key is not None:
                return side.raw
            if side.label is None:
                return None
            exact = [
                obj
                for obj in by_label.get(side.label.casefold(), ())
                if obj.get(label_key) == side.label
            ]
            found = exact or by_label.get(side.label.casefold(), [])
            return found[0].get("id") if len(found) == 1 else _NO_ID

        def label_of(side: Side) -> str | None:
            if side.label is not None:
                return side.label
            if side.key is None:
                return None
            return _label(self.index.get(kind, side.key, label_key))

        unlabelled = [(side, step) for side, step in sides if id_of(side) is _NO_ID]
        if not unlabelled:
            return id_of
        missing = [(side, step) for side, step in sides if label_of(side) is None]
        if missing:
            side, where = unlabelled[0][0], _where(unlabelled[0][1])
            other, other_where = missing[0][0], _where(missing[0][1])
            raise self.error(
                f"field {field!r}: {where} names {side.label!r} by label only, which matches no "
                f"single {kind} of the export, and {other_where} gives {kind} {other.key} by id "
                f"only, without a label; save the case and posts with include=* or in flat mode"
            )
        spelling: dict[str, str] = {}
        for side, _ in sides:
            label = label_of(side)
            assert label is not None
            spelling.setdefault(label.casefold(), label)

        def by_label_value(side: Side) -> Any:
            label = label_of(side)
            return None if label is None else spelling[label.casefold()]

        return by_label_value

    def _sides(self, field: str) -> list[tuple[Side, Step | None]]:
        found: list[tuple[Side, Step | None]] = [(self.timeline.final[field], None)]
        for step in self.timeline.steps:
            for name, old, new in step.changes:
                if name == field:
                    found += [(old, step), (new, step)]
        return found


_NO_ID: Final[Any] = object()


def _where(step: Step | None) -> str:
    if step is None:
        return "the case"
    if step.event_id.startswith("activity:") and step.post is not None:
        return f"{step.event_id.replace(':', ' ')} (post {step.post})"
    return step.event_id.replace(":", " ")


def _same(field: str, a: Any, b: Any) -> bool:
    if field == "status" or a is None or b is None:
        return bool(a == b)
    return id_key(a) == id_key(b)  # ids by their text; labels as they are


def build_events(timeline: Timeline) -> list[dict[str, Any]]:
    """The case's events in replay order: ``created`` (values rewound), then each step."""
    values = _Values(timeline)
    steps = list(timeline.steps)
    current = {field: values.value(field, side, None) for field, side in timeline.final.items()}
    forward: list[dict[str, Any]] = []
    for step in reversed(steps):
        changes: dict[str, Any] = {}
        for field, old, new in reversed(step.changes):
            value = values.value(field, new, step)
            if not _same(field, value, current[field]):
                raise values.error(
                    f"field {field!r}: cannot be rewound: {_where(step)} sets {_show(value)}, "
                    f"but the next value known is {_show(current[field])}; the export misses "
                    f"activities or was saved while the case changed"
                )
            changes.setdefault(field, value)
            current[field] = values.value(field, old, step)
        forward.append(changes)
    forward.reverse()

    opening, actor = "none", None
    first = steps[0] if steps else None
    if (
        first is not None
        and first.at == timeline.created_at
        and first.kind in ("message", "note")
        and first.event_id.startswith("post:")
    ):
        opening = "message" if first.kind == "message" and first.public else "note"
        actor = first.actor
        steps, forward = steps[1:], forward[1:]
    else:
        actor = timeline.reader.actor(timeline.creator, "case creator")

    case = timeline.case_id
    events: list[dict[str, Any]] = [
        {
            "case": case,
            "event": "created",
            "at": _iso(timeline.created_at),
            "id": f"case:{case}",
            "actor": actor,
            "fields": current,
            "opening": opening,
        }
    ]
    for step, changes in zip(steps, forward, strict=True):
        event: dict[str, Any] = {
            "case": case,
            "event": step.kind,
            "at": _iso(step.at),
            "id": step.event_id,
            "actor": step.actor,
        }
        if step.kind == "message":
            event["channel"] = step.channel
            if not step.public:
                event["public"] = False
        elif step.kind == "update":
            event["changes"] = {**dict(step.ignored), **changes}
        events.append(event)
    return events


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('name')!r} ({value.get('type')})"
    return "null" if value is None else repr(value)
