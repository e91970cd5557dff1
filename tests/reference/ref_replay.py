"""Reference replay of a case's event history into Kayako's 41 ``case_metric`` fields.

Slow and literal on purpose (SPEC sections 1, 2, 3, 6, 7, 9). The stream is first read and
validated into a list of *steps* (one per applied event, plus one synthetic step for each
automatic reopen of ``reopen_on_customer_message``), each step carrying the case's field
values before and after it. Every output field is then recomputed directly from that list by
its own small function.

Public API
----------
``ref_compute(events, calendar=None, as_of=None, strict=True, rules=None) -> dict``

Output: the 41 field names of SPEC section 3 in order, shaped as ``to_dict(absent="null")``
in UTC (timestamps ``YYYY-MM-DDTHH:MM:SS+00:00``, users ``{"id": ..., "resource_type":
"user"}``, absent values ``None``), then ``"skipped_events"``.
Errors: ``RefError`` (see ref_calendar) with ``.kind`` in "event" (a malformed event),
"sequence" (order, first/second ``created``, conflicting duplicate, two cases), "as_of",
"calendar", "rules"; ``.index`` is the 0-based stream position of the offending event.

CHOICE decisions (each also marked ``# CHOICE:`` in the code)
-------------------------------------------------------------
Stream reading and validation
 1. A missing, null or non-string ``event`` key is a malformed event in both modes; only a
    string other than the four kinds is an "unknown event kind" (skipped in lenient mode).
    Kinds are case-sensitive.
 2. A skipped (unknown-kind) event is skipped whole: nothing else in it is validated, its id
    is not remembered, it does not fix the case id.
 3. Strict mode validates event by event in stream order, each event fully (its own
    content, case, duplicate, order, then its place in the sequence: first/second
    ``created``, status name/type) before the next, as an incremental replay would. Lenient
    mode validates every event's own content, case and duplicate in stream order first, then
    sorts, then checks the sequence in applied order.
 4. ``as_of`` is parsed (and a naive or malformed ``as_of`` raised) before the stream is
    read; ``as_of`` before creation is raised after the whole stream was validated.
 5. Duplicate content = the parsed event: kind, case (text), instant, actor (role and id
    text; a system actor's id is ignored), ``public`` for messages, ``opening`` and the
    normalised fields (defaults applied) for ``created``, the normalised known fields of
    ``changes`` for updates. ``channel``, unknown keys and ignored change keys (tags ...) are
    not content. Ids compare by text, statuses by (name, type), priority/type/sla by value.
    The first occurrence is the one kept.
 6. A null event ``id`` is the same as no id. A system actor's ``id``, when present and not
    null, must still be a string or an integer.
 7. ``fields: null`` on ``created`` means no fields; ``changes: null`` on ``update`` means no
    changes; ``opening: null`` means the default ``"message"``; ``public: null`` on a message
    means public. ``public`` must otherwise be a boolean. Unknown keys inside ``fields`` are
    ignored like those inside ``changes``. ``opening``/``public``/``channel`` on other kinds
    are ignored (only ``fields``/``changes`` on the wrong kind are errors, per SPEC).
 8. A custom status needs a string ``name`` and a ``type`` string; other keys are ignored.
    The default ``NEW`` of ``created`` is the bare ``NEW`` and takes part in the name/type
    check; so does the automatic ``OPEN`` of ``reopen_on_customer_message``.
 9. An empty stream (or one whose events were all skipped/duplicates) raises "first applied
    event must be created" with index None.
Fields
10. "By the requester" (``requester_reply_count``, ``last_reply_by_requester_at``,
    ``last_activity_by_requester_at``, ``requester_updated_at``) uses SPEC's *requester event*:
    actor role customer with the requester's id.
11. "By the assignee" (``last_activity_by_assignee_at``, ``last_reply_by_assignee_at``) is
    any non-system actor whose id has the assignee's text, whatever its role.
12. ``agents_to_resolution`` counts every non-null assignee value held after any applied
    step from creation up to and including the last resolving event, even one held for zero
    seconds (several events in one second).
13. Outbound case means ``opening == "message"`` by an agent; an opening note by an agent is
    not outbound.
14. With ``reopen_on_customer_message`` the automatic reopen is a system step at the post's
    instant: it counts as a reopen, sets ``last_reopened_at`` and ``status_update_at``, and is
    not a touch or activity of anyone. The opening post never triggers it (status is not yet
    in effect). It applies to any customer's public post, not only the requester's.
15. A response span opened by a customer post on a resolved case and closed by an agent
    reply while still resolved is recorded (SPEC's span rules, read literally).
16. With ``team_only_assignment`` a change of team from null to a team counts as "changed to
    another team".
17. ``rules`` with unknown keys or wrongly typed values raise RefError(kind="rules").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .ref_calendar import (
    RefCalendar,
    RefError,
    RefTeamCalendars,
    from_epoch,
    id_text,
    is_aware,
    to_epoch,
)

KINDS: tuple[str, ...] = ("created", "message", "note", "update")
FIELD_NAMES: tuple[str, ...] = (
    "requester",
    "status",
    "assignee",
    "team",
    "priority",
    "type",
    "sla",
)
ID_FIELDS: frozenset[str] = frozenset({"requester", "assignee", "team"})
VALUE_FIELDS: frozenset[str] = frozenset({"priority", "type", "sla"})
STATUS_TYPES: tuple[str, ...] = ("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED")
RESOLVED_TYPES: frozenset[str] = frozenset({"COMPLETED", "CLOSED"})
AGENT_ROLE_NAMES: frozenset[str] = frozenset({"AGENT", "OWNER", "ADMIN", "COLLABORATOR"})
OPENINGS: tuple[str, ...] = ("message", "note", "none")

OUTPUT_FIELDS: tuple[str, ...] = (
    "is_first_contact_resolved",
    "was_reopened",
    "last_reopened_at",
    "first_assignment_at",
    "last_assignment_at",
    "last_activity_by_requester_at",
    "last_activity_by_assignee_at",
    "last_reply_by_agent_at",
    "last_reply_by_assignee_at",
    "last_reply_by_requester_at",
    "last_reply_by_customer_at",
    "agent_updated_at",
    "customer_updated_at",
    "requester_updated_at",
    "team_updated_at",
    "priority_updated_at",
    "type_updated_at",
    "status_update_at",
    "reopen_count",
    "resolution_at",
    "agents_to_resolution",
    "replies_to_resolution",
    "last_replier",
    "resolved_by",
    "resolution_calendar_time",
    "resolution_business_time",
    "average_calendar_response_time",
    "average_business_response_time",
    "agent_first_calendar_response_time",
    "agent_first_business_response_time",
    "agent_calendar_wait_time",
    "agent_business_wait_time",
    "customer_calendar_wait_time",
    "customer_business_wait_time",
    "priority_change_count",
    "sla_change_count",
    "agent_reply_count",
    "requester_reply_count",
    "assignee_change_count",
    "team_change_count",
    "agent_touch_count",
)
assert len(OUTPUT_FIELDS) == 41


# =========================================================================== data model


@dataclass(frozen=True)
class Status:
    name: str
    type: str

    @property
    def resolved(self) -> bool:
        return self.type in RESOLVED_TYPES


BARE = {t: Status(t, t) for t in STATUS_TYPES}


@dataclass(frozen=True)
class Actor:
    role: str  # "agent" | "customer" | "system"
    id: Any  # as given; None for a system actor without id

    @property
    def text(self) -> str | None:
        return None if self.role == "system" or self.id is None else id_text(self.id)


SYSTEM = Actor("system", None)


@dataclass(frozen=True)
class State:
    """The case's field values (raw, as given by the event that set them)."""

    requester: Any = None
    status: Status = BARE["NEW"]
    assignee: Any = None
    team: Any = None
    priority: Any = None
    type: Any = None
    sla: Any = None

    def get(self, field: str) -> Any:
        return getattr(self, field)


def same_value(field: str, a: Any, b: Any) -> bool:
    """Equality per SPEC: ids by text, statuses by name, priority/type/sla by value."""
    if a is None or b is None:
        return a is None and b is None
    if field in ID_FIELDS:
        return id_text(a) == id_text(b)
    if field == "status":
        return a.name == b.name
    return type(a) is type(b) and a == b  # 11 and "11" differ


def norm_value(field: str, v: Any) -> Any:
    """A hashable normal form used only to compare duplicate events' content."""
    if v is None:
        return None
    if field in ID_FIELDS:
        return id_text(v)
    if field == "status":
        return (v.name, v.type)
    return (type(v).__name__, v)


@dataclass(frozen=True)
class Event:
    index: int
    kind: str
    case: Any
    at: int
    actor: Actor
    event_id: Any
    public: bool  # messages only (False makes it a note)
    opening: str  # created only
    fields: tuple[tuple[str, Any], ...]  # created only: all seven, defaults applied
    changes: tuple[tuple[str, Any], ...]  # update only: known fields given

    def content(self) -> tuple[Any, ...]:
        # CHOICE: parsed content as in docstring 5 (channel and ignored keys are not content).
        return (
            self.kind,
            id_text(self.case),
            self.at,
            self.actor.role,
            self.actor.text,
            self.public if self.kind == "message" else None,
            self.opening if self.kind == "created" else None,
            tuple((f, norm_value(f, v)) for f, v in self.fields),
            tuple(sorted((f, norm_value(f, v)) for f, v in self.changes)),
        )


@dataclass(frozen=True)
class Step:
    """One applied event (or a synthetic reopen) with the case state before and after it."""

    index: int | None
    kind: str  # created | message | note | update | auto_reopen
    at: int
    actor: Actor
    public_post: bool
    opening: bool  # this step's post is the opening post of `created`
    before: State | None  # None for `created`
    after: State

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def synthetic(self) -> bool:
        return self.kind == "auto_reopen"

    @property
    def is_reply(self) -> bool:
        return self.public_post and not self.opening and self.role != "system"

    def changed(self, field: str) -> bool:
        """After creation, did this step change ``field``?"""
        if self.before is None:
            return False
        return not same_value(field, self.before.get(field), self.after.get(field))

    @property
    def resolved_before(self) -> bool:
        return self.before is not None and self.before.status.resolved

    @property
    def is_resolution(self) -> bool:
        return not self.resolved_before and self.after.status.resolved

    @property
    def is_reopen(self) -> bool:
        return self.resolved_before and not self.after.status.resolved

    @property
    def is_requester_event(self) -> bool:
        # CHOICE: "by the requester" everywhere means this requester event (docstring 10).
        return (
            self.role == "customer"
            and self.after.requester is not None
            and self.actor.text == id_text(self.after.requester)
        )

    @property
    def is_by_assignee(self) -> bool:
        # CHOICE: any non-system actor whose id is the assignee's (see docstring 11).
        return (
            self.actor.text is not None
            and self.after.assignee is not None
            and self.actor.text == id_text(self.after.assignee)
        )


@dataclass(frozen=True)
class RefRules:
    resolution_time: str = "cumulative"
    reopen_on_customer_message: bool = False
    team_only_assignment: bool = False


# =========================================================================== parsing


def _is_id(v: Any) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)


def parse_instant(value: Any, *, kind: str, what: str, index: int | None) -> int:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError as exc:
            raise RefError(kind, f"expected an ISO-8601 {what}, found {value!r}", index) from exc
    else:
        raise RefError(kind, f"expected an ISO-8601 {what}, found {value!r}", index)
    if not is_aware(dt):
        raise RefError(kind, f"expected {what} with an offset, found naive {value!r}", index)
    return to_epoch(dt)


def _parse_actor(raw: Any, index: int) -> Actor:
    if raw is None:
        return SYSTEM
    if not isinstance(raw, Mapping):
        raise RefError("event", f"expected an actor object or null, found {raw!r}", index)
    role_raw = raw.get("role")
    if not isinstance(role_raw, str):
        raise RefError("event", f"expected an actor role, found {role_raw!r}", index)
    up = role_raw.upper()
    if up in AGENT_ROLE_NAMES:
        role = "agent"
    elif up == "CUSTOMER":
        role = "customer"
    elif up == "SYSTEM":
        role = "system"
    else:
        raise RefError("event", f"expected a role agent/customer/system, found {role_raw!r}", index)
    actor_id = raw.get("id")
    if actor_id is None:
        if role != "system":
            raise RefError("event", f"expected an id for a {role} actor, found none", index)
        return SYSTEM
    if not _is_id(actor_id):
        raise RefError(
            "event", f"expected an actor id string or integer, found {actor_id!r}", index
        )
    # CHOICE: a system actor's id is validated but otherwise ignored.
    return SYSTEM if role == "system" else Actor(role, actor_id)


def _parse_status(raw: Any, index: int) -> Status:
    if raw is None:
        raise RefError("event", "expected a status, found null", index)
    if isinstance(raw, str):
        if raw.upper() not in STATUS_TYPES:
            raise RefError("event", f"expected a status type, found {raw!r}", index)
        return BARE[raw.upper()]
    if isinstance(raw, Mapping):
        name, stype = raw.get("name"), raw.get("type")
        if not isinstance(name, str):
            raise RefError("event", f"expected a custom status name string, found {name!r}", index)
        if not isinstance(stype, str) or stype.upper() not in STATUS_TYPES:
            raise RefError("event", f"expected a custom status type, found {stype!r}", index)
        return Status(name, stype.upper())
    raise RefError("event", f"expected a status string or object, found {raw!r}", index)


def _parse_field(field: str, raw: Any, index: int) -> Any:
    if field == "status":
        return _parse_status(raw, index)
    if raw is None:
        return None
    if field in ID_FIELDS:
        if not _is_id(raw):
            raise RefError(
                "event", f"expected {field} as a string or integer id, found {raw!r}", index
            )
        return raw
    if not _is_id(raw):  # priority/type/sla: string, integer or null
        raise RefError(
            "event", f"expected {field} as a string, integer or null, found {raw!r}", index
        )
    return raw


def parse_event(raw: Any, index: int, strict: bool) -> Event | None:
    """Validate one raw event. Returns None for an unknown kind skipped in lenient mode."""
    if not isinstance(raw, Mapping):
        raise RefError("event", f"expected an event object, found {raw!r}", index)
    kind = raw.get("event")
    if not isinstance(kind, str):
        # CHOICE: a missing/non-string kind is malformed, not an "unknown kind".
        raise RefError("event", f"expected an event kind, found {kind!r}", index)
    if kind not in KINDS:
        if strict:
            raise RefError("event", f"expected created/message/note/update, found {kind!r}", index)
        return None  # CHOICE: skipped whole, nothing else validated

    if "case" not in raw or not _is_id(raw["case"]):
        raise RefError(
            "event", f"expected a case id string or integer, found {raw.get('case')!r}", index
        )
    case = raw["case"]
    if "at" not in raw:
        raise RefError("event", "expected 'at', found none", index)
    at = parse_instant(raw["at"], kind="event", what="'at'", index=index)
    actor = _parse_actor(raw.get("actor"), index)
    event_id = raw.get("id")
    if event_id is not None and not _is_id(event_id):
        raise RefError(
            "event", f"expected an event id string or integer, found {event_id!r}", index
        )
    if "fields" in raw and kind != "created":
        raise RefError("event", f"expected 'fields' only on created, found it on {kind}", index)
    if "changes" in raw and kind != "update":
        raise RefError("event", f"expected 'changes' only on update, found it on {kind}", index)

    public = True
    opening = "message"
    fields: tuple[tuple[str, Any], ...] = ()
    changes: tuple[tuple[str, Any], ...] = ()
    if kind == "created":
        fobj = raw.get("fields")
        if fobj is None:
            fobj = {}  # CHOICE: null fields = no fields
        if not isinstance(fobj, Mapping):
            raise RefError("event", f"expected 'fields' as an object, found {fobj!r}", index)
        values: dict[str, Any] = {}
        for f in FIELD_NAMES:
            if f in fobj:
                values[f] = _parse_field(f, fobj[f], index)
            elif f == "status":
                values[f] = BARE["NEW"]  # CHOICE: the default is the bare NEW (docstring 8)
            elif f == "requester" and actor.role == "customer":
                values[f] = actor.id
            else:
                values[f] = None
        fields = tuple((f, values[f]) for f in FIELD_NAMES)
        op = raw.get("opening")
        if op is None:
            op = "message"  # CHOICE: null opening = default
        if op not in OPENINGS:
            raise RefError("event", f"expected opening message/note/none, found {op!r}", index)
        opening = op
    elif kind == "update":
        cobj = raw.get("changes")
        if cobj is None:
            cobj = {}  # CHOICE: null changes = no changes
        if not isinstance(cobj, Mapping):
            raise RefError("event", f"expected 'changes' as an object, found {cobj!r}", index)
        changes = tuple((f, _parse_field(f, cobj[f], index)) for f in FIELD_NAMES if f in cobj)
    elif kind == "message":
        pub = raw.get("public")
        if pub is None:
            pub = True  # CHOICE: null public = public
        if not isinstance(pub, bool):
            raise RefError("event", f"expected 'public' true/false, found {pub!r}", index)
        public = pub
    return Event(index, kind, case, at, actor, event_id, public, opening, fields, changes)


# =========================================================================== sequencing


class _Sequencer:
    """Turns events, in applied order, into steps; checks first/second created and status types."""

    def __init__(self, rules: RefRules) -> None:
        self.rules = rules
        self.steps: list[Step] = []
        self.status_types: dict[str, str] = {}

    def _register_status(self, status: Status, index: int) -> None:
        known = self.status_types.get(status.name)
        if known is not None and known != status.type:
            raise RefError(
                "event",
                f"expected status {status.name!r} of type {known}, found type {status.type}",
                index,
            )
        self.status_types[status.name] = status.type

    def feed(self, ev: Event) -> None:
        if not self.steps and ev.kind != "created":
            raise RefError(
                "sequence",
                f"expected the first applied event to be created, found {ev.kind}",
                ev.index,
            )
        if self.steps and ev.kind == "created":
            raise RefError("sequence", "expected one created event, found a second one", ev.index)

        if ev.kind == "created":
            values = dict(ev.fields)
            self._register_status(values["status"], ev.index)
            self.steps.append(
                Step(
                    ev.index,
                    "created",
                    ev.at,
                    ev.actor,
                    ev.opening == "message",
                    True,
                    None,
                    State(**values),
                )
            )
            return

        before = self.steps[-1].after
        if ev.kind == "update":
            after = before
            for f, v in ev.changes:
                if f == "status":
                    self._register_status(v, ev.index)
                if not same_value(f, before.get(f), v):  # equal value: not a change
                    after = replace(after, **{f: v})
            self.steps.append(
                Step(ev.index, "update", ev.at, ev.actor, False, False, before, after)
            )
            return

        is_post = ev.kind == "message" and ev.public
        self.steps.append(Step(ev.index, ev.kind, ev.at, ev.actor, is_post, False, before, before))
        if (
            self.rules.reopen_on_customer_message
            and is_post
            and ev.actor.role == "customer"
            and before.status.type == "COMPLETED"
        ):
            # CHOICE: the automatic reopen is a system step at the post's instant (docstring 14).
            self._register_status(BARE["OPEN"], ev.index)
            reopened = replace(before, status=BARE["OPEN"])
            self.steps.append(
                Step(ev.index, "auto_reopen", ev.at, SYSTEM, False, False, before, reopened)
            )


def read_stream(
    events: list[Mapping[str, Any]], strict: bool, rules: RefRules
) -> tuple[list[Step], int]:
    """Validate the whole stream; return every step in applied order and the skipped count."""
    skipped = 0
    case_text: str | None = None
    seen: dict[str, Event] = {}
    kept: list[Event] = []
    seq = _Sequencer(rules)
    # CHOICE: strict mode checks each event completely before the next; lenient mode checks
    # every event's own content first, then sorts, then the sequence (docstring 3).
    for index, raw in enumerate(events):
        ev = parse_event(raw, index, strict)
        if ev is None:
            skipped += 1
            continue
        if case_text is None:
            case_text = id_text(ev.case)
        elif id_text(ev.case) != case_text:
            raise RefError("sequence", f"expected case {case_text!r}, found {ev.case!r}", index)
        if ev.event_id is not None:  # duplicates are recognised before the order check
            key = id_text(ev.event_id)
            if key in seen:
                if seen[key].content() == ev.content():
                    continue
                raise RefError(
                    "sequence",
                    f"expected event id {ev.event_id!r} to repeat the same content, found different content",
                    index,
                )
            seen[key] = ev
        # (a duplicate is dropped above, before this order check)
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
    if not seq.steps:  # CHOICE: empty stream -> index None (docstring 9)
        raise RefError("sequence", "expected a created event, found no applicable event", None)
    return seq.steps, skipped


# =========================================================================== context


@dataclass(frozen=True)
class Ctx:
    steps: list[Step]  # applied steps only (at <= as_of)
    created_at: int
    as_of: int
    rules: RefRules
    calendars: RefTeamCalendars | None

    # ---- shared helpers -------------------------------------------------------

    def segments(self) -> list[tuple[int, int, State]]:
        """[start, end) with the state in effect, from created_at to as_of."""
        out = []
        for i, s in enumerate(self.steps):
            end = self.steps[i + 1].at if i + 1 < len(self.steps) else self.as_of
            out.append((s.at, end, s.after))
        return out

    def team_at(self, instant: int) -> Any:
        team = None
        for s in self.steps:
            if s.at <= instant:
                team = s.after.team
        return team

    def business(self, a: int, b: int) -> int:
        """Business seconds of [a, b), split at every step instant, each piece with its team's calendar."""
        assert self.calendars is not None and a <= b
        cuts = sorted({s.at for s in self.steps if a < s.at < b})
        points = [a, *cuts, b]
        total = 0
        for p, q in zip(points, points[1:]):
            cal = self.calendars.calendar_for(self.team_at(p))
            total += cal.business_seconds_epoch(p, q)
        return total

    @property
    def final(self) -> State:
        return self.steps[-1].after

    @property
    def resolved_now(self) -> bool:
        return self.final.status.resolved

    def last_resolution_pos(self) -> int | None:
        positions = [i for i, s in enumerate(self.steps) if s.is_resolution]
        return positions[-1] if positions else None


def _last_at(ctx: Ctx, pred: Callable[[Step], bool]) -> int | None:
    hits = [s.at for s in ctx.steps if pred(s)]
    return hits[-1] if hits else None


def _first_at(ctx: Ctx, pred: Callable[[Step], bool]) -> int | None:
    hits = [s.at for s in ctx.steps if pred(s)]
    return hits[0] if hits else None


def _count(ctx: Ctx, pred: Callable[[Step], bool]) -> int:
    return sum(1 for s in ctx.steps if pred(s))


def _real(s: Step) -> bool:
    return not s.synthetic


# =========================================================================== fields: counts


def f_agent_reply_count(ctx: Ctx) -> int:
    return _count(ctx, lambda s: s.is_reply and s.role == "agent")


def f_requester_reply_count(ctx: Ctx) -> int:
    return _count(ctx, lambda s: s.is_reply and s.is_requester_event)


def f_agent_touch_count(ctx: Ctx) -> int:
    return _count(ctx, lambda s: _real(s) and s.role == "agent")


def _change_count(field: str) -> Callable[[Ctx], int]:
    return lambda ctx: _count(ctx, lambda s: s.changed(field))


def f_reopen_count(ctx: Ctx) -> int:
    return _count(ctx, lambda s: s.is_reopen)


def f_was_reopened(ctx: Ctx) -> bool:
    return f_reopen_count(ctx) > 0


# =========================================================================== fields: timestamps


def _team_only_assignment(ctx: Ctx, s: Step) -> bool:
    if not ctx.rules.team_only_assignment:
        return False
    # CHOICE: null -> team counts as "changed to another team" (docstring 16).
    team_set = s.after.team is not None and (s.before is None or s.changed("team"))
    return team_set and s.after.assignee is None


def f_first_assignment_at(ctx: Ctx) -> int | None:
    return _first_at(ctx, lambda s: s.after.assignee is not None or _team_only_assignment(ctx, s))


def f_last_assignment_at(ctx: Ctx) -> int | None:
    def became_assigned(s: Step) -> bool:
        return s.after.assignee is not None and (s.before is None or s.changed("assignee"))

    return _last_at(ctx, lambda s: became_assigned(s) or _team_only_assignment(ctx, s))


def f_last_activity_by_requester_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.is_requester_event)


def f_last_activity_by_assignee_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.is_by_assignee)


def f_last_reply_by_agent_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.public_post and s.role == "agent")


def f_last_reply_by_assignee_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.public_post and s.is_by_assignee)


def f_last_reply_by_requester_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.public_post and s.is_requester_event)


def f_last_reply_by_customer_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.public_post and s.role == "customer")


def f_agent_updated_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.role == "agent")


def f_customer_updated_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.role == "customer")


def _updated_at(field: str) -> Callable[[Ctx], int | None]:
    return lambda ctx: _last_at(ctx, lambda s: s.changed(field))


def f_last_reopened_at(ctx: Ctx) -> int | None:
    return _last_at(ctx, lambda s: s.is_reopen)


def f_resolution_at(ctx: Ctx) -> int | None:
    pos = ctx.last_resolution_pos()
    return ctx.steps[pos].at if ctx.resolved_now and pos is not None else None


# =========================================================================== fields: users


def _user(actor: Actor | None) -> dict[str, Any] | None:
    if actor is None or actor.role == "system":
        return None
    return {"id": actor.id, "resource_type": "user"}


def f_last_replier(ctx: Ctx) -> dict[str, Any] | None:
    posts = [s for s in ctx.steps if s.public_post and s.role in ("agent", "customer")]
    return _user(posts[-1].actor) if posts else None


def f_resolved_by(ctx: Ctx) -> dict[str, Any] | None:
    pos = ctx.last_resolution_pos()
    if not ctx.resolved_now or pos is None:
        return None
    return _user(ctx.steps[pos].actor)


# =========================================================================== fields: resolution


def _unresolved_periods(ctx: Ctx, until: int) -> list[tuple[int, int]]:
    out = []
    for start, end, state in ctx.segments():
        s, e = max(start, ctx.created_at), min(end, until)
        if e > s and not state.status.resolved:
            out.append((s, e))
    return out


def f_resolution_calendar_time(ctx: Ctx) -> int | None:
    r = f_resolution_at(ctx)
    if r is None:
        return None
    if ctx.rules.resolution_time == "elapsed":
        return r - ctx.created_at
    return sum(e - s for s, e in _unresolved_periods(ctx, r))


def f_resolution_business_time(ctx: Ctx) -> int | None:
    r = f_resolution_at(ctx)
    if r is None or ctx.calendars is None:
        return None
    if ctx.rules.resolution_time == "elapsed":
        return ctx.business(ctx.created_at, r)
    return sum(ctx.business(s, e) for s, e in _unresolved_periods(ctx, r))


def _steps_before_last_resolution(ctx: Ctx) -> list[Step] | None:
    pos = ctx.last_resolution_pos()
    if not ctx.resolved_now or pos is None:
        return None
    return ctx.steps[:pos]


def f_replies_to_resolution(ctx: Ctx) -> int | None:
    before = _steps_before_last_resolution(ctx)
    if before is None:
        return None
    return sum(1 for s in before if s.is_reply and s.role in ("agent", "customer"))


def f_agents_to_resolution(ctx: Ctx) -> int | None:
    pos = ctx.last_resolution_pos()
    if not ctx.resolved_now or pos is None:
        return None
    # CHOICE: every assignee held after any step up to the resolving one (docstring 12).
    return len(
        {id_text(s.after.assignee) for s in ctx.steps[: pos + 1] if s.after.assignee is not None}
    )


def f_is_first_contact_resolved(ctx: Ctx) -> bool:
    before = _steps_before_last_resolution(ctx)
    if before is None or f_reopen_count(ctx) != 0:
        return False
    return sum(1 for s in before if s.is_reply and s.role == "agent") == 1


# =========================================================================== fields: responses


def _first_response_span(ctx: Ctx) -> tuple[int, int] | None:
    steps = ctx.steps
    created = steps[0]
    # CHOICE: outbound only when the opening is a public message by an agent (docstring 13).
    if created.public_post and created.role == "agent":  # outbound case
        starts = [
            i for i, s in enumerate(steps) if i > 0 and s.public_post and s.role == "customer"
        ]
        if not starts:
            return None
        start_pos = starts[0]
    else:
        start_pos = 0
    replies = [j for j, s in enumerate(steps) if j > start_pos and s.is_reply and s.role == "agent"]
    if not replies:
        return None
    return steps[start_pos].at, steps[replies[0]].at


def f_agent_first_calendar_response_time(ctx: Ctx) -> int | None:
    span = _first_response_span(ctx)
    return None if span is None else span[1] - span[0]


def f_agent_first_business_response_time(ctx: Ctx) -> int | None:
    span = _first_response_span(ctx)
    if span is None or ctx.calendars is None:
        return None
    return ctx.business(*span)


def _response_spans(ctx: Ctx) -> list[tuple[int, int]]:
    """Recorded response spans, per SPEC section 3 'Responses'."""
    spans: list[tuple[int, int]] = []
    open_start: int | None = None
    for s in ctx.steps:
        # 1. the step's post (for `created`: the opening post comes before the status)
        # CHOICE: posts on a resolved case open/close spans like any other (docstring 15).
        if s.public_post and s.role == "customer" and open_start is None:
            open_start = s.at
        elif s.is_reply and s.role == "agent" and open_start is not None:
            spans.append((open_start, s.at))
            open_start = None
        # 2. the step's status transition
        if s.is_resolution:
            open_start = None  # closed without being recorded
        elif s.is_reopen and open_start is not None:
            open_start = s.at
    return spans  # a span still open at as_of is not recorded


def f_average_calendar_response_time(ctx: Ctx) -> int | None:
    spans = _response_spans(ctx)
    if not spans:
        return None
    return sum(e - s for s, e in spans) // len(spans)


def f_average_business_response_time(ctx: Ctx) -> int | None:
    spans = _response_spans(ctx)
    if not spans or ctx.calendars is None:
        return None
    return sum(ctx.business(s, e) for s, e in spans) // len(spans)


# =========================================================================== fields: waits


def _wait_periods(ctx: Ctx, types: frozenset[str]) -> list[tuple[int, int]]:
    return [(s, e) for s, e, state in ctx.segments() if e > s and state.status.type in types]


CUSTOMER_WAIT = frozenset({"NEW", "OPEN"})
AGENT_WAIT = frozenset({"PENDING"})


def f_customer_calendar_wait_time(ctx: Ctx) -> int:
    return sum(e - s for s, e in _wait_periods(ctx, CUSTOMER_WAIT))


def f_customer_business_wait_time(ctx: Ctx) -> int | None:
    if ctx.calendars is None:
        return None
    return sum(ctx.business(s, e) for s, e in _wait_periods(ctx, CUSTOMER_WAIT))


def f_agent_calendar_wait_time(ctx: Ctx) -> int:
    return sum(e - s for s, e in _wait_periods(ctx, AGENT_WAIT))


def f_agent_business_wait_time(ctx: Ctx) -> int | None:
    if ctx.calendars is None:
        return None
    return sum(ctx.business(s, e) for s, e in _wait_periods(ctx, AGENT_WAIT))


# =========================================================================== assembly


FIELD_FUNCS: dict[str, Callable[[Ctx], Any]] = {
    "is_first_contact_resolved": f_is_first_contact_resolved,
    "was_reopened": f_was_reopened,
    "last_reopened_at": f_last_reopened_at,
    "first_assignment_at": f_first_assignment_at,
    "last_assignment_at": f_last_assignment_at,
    "last_activity_by_requester_at": f_last_activity_by_requester_at,
    "last_activity_by_assignee_at": f_last_activity_by_assignee_at,
    "last_reply_by_agent_at": f_last_reply_by_agent_at,
    "last_reply_by_assignee_at": f_last_reply_by_assignee_at,
    "last_reply_by_requester_at": f_last_reply_by_requester_at,
    "last_reply_by_customer_at": f_last_reply_by_customer_at,
    "agent_updated_at": f_agent_updated_at,
    "customer_updated_at": f_customer_updated_at,
    "requester_updated_at": f_last_activity_by_requester_at,  # same definition in SPEC
    "team_updated_at": _updated_at("team"),
    "priority_updated_at": _updated_at("priority"),
    "type_updated_at": _updated_at("type"),
    "status_update_at": _updated_at("status"),
    "reopen_count": f_reopen_count,
    "resolution_at": f_resolution_at,
    "agents_to_resolution": f_agents_to_resolution,
    "replies_to_resolution": f_replies_to_resolution,
    "last_replier": f_last_replier,
    "resolved_by": f_resolved_by,
    "resolution_calendar_time": f_resolution_calendar_time,
    "resolution_business_time": f_resolution_business_time,
    "average_calendar_response_time": f_average_calendar_response_time,
    "average_business_response_time": f_average_business_response_time,
    "agent_first_calendar_response_time": f_agent_first_calendar_response_time,
    "agent_first_business_response_time": f_agent_first_business_response_time,
    "agent_calendar_wait_time": f_agent_calendar_wait_time,
    "agent_business_wait_time": f_agent_business_wait_time,
    "customer_calendar_wait_time": f_customer_calendar_wait_time,
    "customer_business_wait_time": f_customer_business_wait_time,
    "priority_change_count": _change_count("priority"),
    "sla_change_count": _change_count("sla"),
    "agent_reply_count": f_agent_reply_count,
    "requester_reply_count": f_requester_reply_count,
    "assignee_change_count": _change_count("assignee"),
    "team_change_count": _change_count("team"),
    "agent_touch_count": f_agent_touch_count,
}
assert tuple(FIELD_FUNCS) == OUTPUT_FIELDS

TIMESTAMP_FIELDS = frozenset(n for n in OUTPUT_FIELDS if n.endswith("_at"))


def _iso(instant: int) -> str:
    return from_epoch(instant).astimezone(UTC).isoformat()


def parse_rules(rules: Mapping[str, Any] | RefRules | None) -> RefRules:
    if rules is None:
        return RefRules()
    if isinstance(rules, RefRules):
        return rules
    if not isinstance(rules, Mapping):
        raise RefError("rules", f"expected a rules object, found {rules!r}")
    unknown = set(rules) - {"resolution_time", "reopen_on_customer_message", "team_only_assignment"}
    if unknown:
        # CHOICE: unknown rule names raise (docstring 17).
        raise RefError("rules", f"expected known rule names, found {sorted(unknown)!r}")
    r = RefRules(**dict(rules))
    if r.resolution_time not in ("cumulative", "elapsed"):
        raise RefError(
            "rules", f"expected resolution_time cumulative/elapsed, found {r.resolution_time!r}"
        )
    for name in ("reopen_on_customer_message", "team_only_assignment"):
        if not isinstance(getattr(r, name), bool):
            raise RefError("rules", f"expected {name} true/false, found {getattr(r, name)!r}")
    return r


def parse_calendar(calendar: Any) -> RefTeamCalendars | None:
    if calendar is None:
        return None
    if isinstance(calendar, RefTeamCalendars):
        return calendar
    if isinstance(calendar, RefCalendar):
        return RefTeamCalendars.single(calendar)
    if isinstance(calendar, Mapping) and "default" in calendar:
        return RefTeamCalendars(calendar)
    return RefTeamCalendars.single(RefCalendar(calendar))


def ref_compute(
    events: list[Mapping[str, Any]],
    calendar: Mapping[str, Any] | RefCalendar | RefTeamCalendars | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Mapping[str, Any] | RefRules | None = None,
) -> dict[str, Any]:
    """Replay ``events`` and return the 41 fields (absent="null", UTC) plus skipped_events."""
    rules_obj = parse_rules(rules)
    calendars = parse_calendar(calendar)
    # CHOICE: as_of is parsed first; as_of before creation is checked after the stream (docstring 4).
    as_of_s = (
        None if as_of is None else parse_instant(as_of, kind="as_of", what="as_of", index=None)
    )

    all_steps, skipped = read_stream(list(events), strict, rules_obj)
    created_at = all_steps[0].at
    if as_of_s is None:
        as_of_s = all_steps[-1].at  # the instant of the last applied event
    elif as_of_s < created_at:
        raise RefError(
            "as_of",
            f"expected as_of at or after creation {_iso(created_at)}, found {_iso(as_of_s)}",
        )
    applied = [s for s in all_steps if s.at <= as_of_s]
    ctx = Ctx(applied, created_at, as_of_s, rules_obj, calendars)

    out: dict[str, Any] = {}
    for name in OUTPUT_FIELDS:
        value = FIELD_FUNCS[name](ctx)
        if name in TIMESTAMP_FIELDS and value is not None:
            value = _iso(value)
        out[name] = value
    out["skipped_events"] = skipped
    return out
