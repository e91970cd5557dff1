"""Replaying a case: the sequence rules (docs/events.md) around the state machine.

:class:`CaseReplay` admits events one at a time — one case, ``created`` first and once,
duplicates by id, non-decreasing ``at``, one type and one SLA-activity per status name, and
with an SLA policy set that refuses unknown values, an ``sla`` it knows — and hands each
admitted event to :class:`CaseState`. ``compute_metrics`` (in ``_compute``) is a thin layer
over it: lenient sorting, then one loop. There is one implementation of the rules, so both
forms agree.

The SLA clocks (docs/sla.md) are read, like the metrics, when results are asked for: the
state records what the events said, and :meth:`CaseReplay.metrics` applies the policy to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError, SequenceError
from metrics_engine._events import Actor, Event, Status, id_text, parse_event, parse_instant
from metrics_engine._foreign import plain_event
from metrics_engine._metrics import CaseMetrics, build_metrics
from metrics_engine._rules import Rules
from metrics_engine._saved_state import STATE_VERSION, SavedReplay, read_state, write_state
from metrics_engine._sla import measure_clocks
from metrics_engine._sla_output import CaseSla, case_sla
from metrics_engine._sla_record import SlaRecord, check_sla_values
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, check_sla_option, require_calendar
from metrics_engine._state import CaseState

__all__ = ["STATE_VERSION", "CaseReplay", "lenient_order"]

Calendar = BusinessCalendar | TeamCalendars
Sla = SlaPolicy | SlaPolicies
_SLA_ACTIVE_TYPES = frozenset({"NEW", "OPEN"})
_REOPEN_STATUS = Status("OPEN", "OPEN")  # the automatic reopen of Rules.reopen_on_customer_...


def _check_calendar(calendar: object) -> Calendar | None:
    if calendar is None or isinstance(calendar, BusinessCalendar | TeamCalendars):
        return calendar
    raise MetricsEngineError(
        "calendar: expected a BusinessCalendar, a TeamCalendars or None, "
        f"found {type(calendar).__name__}"
    )


def _check_rules(rules: object) -> Rules:
    if isinstance(rules, Rules):
        return rules
    raise MetricsEngineError(
        f"rules: expected a metrics_engine.Rules, found {type(rules).__name__}"
    )


def parse_as_of(value: str | datetime) -> int:
    """``as_of`` as epoch seconds: an aware datetime or an ISO-8601 string with an offset."""
    try:
        return parse_instant(value, "as_of")
    except MetricsEngineError as error:
        raise MetricsEngineError(error.detail) from None


def _digest(content: tuple[object, ...]) -> str:
    """A short stable fingerprint of an event's content, kept in saved states for ids."""
    return hashlib.blake2b(repr(content).encode(), digest_size=12).hexdigest()


class CaseReplay:
    """One case, one event at a time (see the README and docs/events.md).

    ``apply`` raises on a decreasing ``at`` in both modes (it cannot re-sort what it has
    applied); lenient mode still skips unknown event kinds. A failed ``apply`` leaves the
    replay as it was.
    """

    __slots__ = (
        "_actors",
        "_applied",
        "_calendar",
        "_case_key",
        "_error_case",
        "_index",
        "_last_at",
        "_rules",
        "_seen",
        "_skipped",
        "_sla",
        "_sla_lookup",
        "_state",
        "_status_actives",
        "_status_now",
        "_status_types",
        "_strict",
    )

    def __init__(
        self,
        calendar: Calendar | None = None,
        strict: bool = True,
        rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
        sla: Sla | None = None,
    ) -> None:
        self._calendar = _check_calendar(calendar)
        self._sla = check_sla_option(sla)
        require_calendar(self._sla, self._calendar is not None)
        # A policy set that refuses unknown sla values checks each applied event's value.
        self._sla_lookup = (
            sla if isinstance(sla, SlaPolicies) and sla.unknown_sla == "error" else None
        )
        self._strict = bool(strict)
        self._rules = _check_rules(rules)
        self._state = CaseState()
        self._applied = 0  # events applied to the state
        self._case_key: str | None = None  # case of the first admitted event
        self._error_case: object = None  # case of the first event given, for errors
        self._index = 0  # position of the next event in the stream as given
        self._last_at: int | None = None  # instant of the last admitted event
        # event id -> its first event or that event's content (see _admit), or the
        # content's digest (from a saved state)
        self._seen: dict[str, Event | tuple[object, ...] | str] = {}
        self._status_types: dict[str, str] = {}  # status name -> status type
        # status name -> (its SLA-activity, the index of the event that first gave it)
        self._status_actives: dict[str, tuple[bool, int]] = {}
        self._status_now = "NEW"  # status type after the last admitted event, applied or not
        self._skipped = 0
        self._actors: dict[tuple[Any, Any], Actor] = {}  # parsed actors of this case (a memo)

    # ------------------------------------------------------------------ feeding

    def apply(self, event: Mapping[str, Any]) -> None:
        """Check one event against the stream so far and apply it."""
        index = self._index
        parsed = self._parse(event, index)
        if parsed is not None:
            self._admit(parsed, index, apply=True)
        self._index = index + 1  # only once the event is taken: a failed apply changes nothing

    def _parse(self, raw: object, index: int) -> Event | None:
        if index == 0:
            self._error_case = _case_of(raw)
        try:
            event = parse_event(raw, lenient=not self._strict, actors=self._actors)
        except MetricsEngineError as error:
            plain = plain_event(raw)  # a pandas row: NaN for absent keys, NumPy integers
            if plain is None:
                raise error.locate(case=self._error_case, index=index) from None
            try:
                event = parse_event(plain, lenient=not self._strict, actors=self._actors)
            except MetricsEngineError as again:
                raise again.locate(case=self._error_case, index=index) from None
        if event is None:
            self._skipped += 1
        return event

    def _check_status(self, status: Status, index: int) -> bool:
        """One type and one SLA-activity per status name; returns this one's activity."""
        name, status_type, active = status
        known_type = self._status_types.get(name)
        if known_type is not None and known_type != status_type:
            raise self._error(
                f"field 'status': expected status {name!r} of type {known_type} as before, "
                f"found type {status_type}",
                index,
            )
        if active is None:
            active = status_type in _SLA_ACTIVE_TYPES
        known = self._status_actives.get(name)
        if known is not None and known[0] is not active:
            raise self._error(
                f"status {_json_text(name)}: sla_active {_json_bool(active)}, but "
                f"{_json_bool(known[0])} at event {known[1]}",
                index,
            )
        return active

    def _admit(self, event: Event, index: int, *, apply: bool) -> None:
        """The sequence rules; then, if ``apply``, the event's effect on the state."""
        if self._case_key is None:
            if self._error_case is None:
                self._error_case = event.case_raw
        elif event.case_key != self._case_key:
            raise self._error(
                f"field 'case': expected case {self._error_case!r} as in the first event, "
                f"found {event.case_raw!r}",
                index,
            )
        if event.event_id is not None:
            known = self._seen.get(event.event_id)
            if known is not None:
                content = event.content()
                if isinstance(known, Event):
                    known = known.content()
                if known == content or known == _digest(content):
                    return  # the same event again: ignored, before any order check
                raise self._error(
                    f"field 'id': expected event id {event.event_id!r} to repeat the same "
                    "content, found different content",
                    index,
                )
        if self._case_key is None:
            if event.kind != "created":
                raise self._error(
                    f"field 'event': expected the first event to be created, found {event.kind}",
                    index,
                )
        elif event.kind == "created":
            raise self._error(
                "field 'event': expected one created event per case, found a second", index
            )
        if self._last_at is not None and event.at < self._last_at:
            raise self._error(
                f"field 'at': expected a time at or after {_iso(self._last_at)}, "
                f"found {_iso(event.at)}",
                index,
            )
        values = event.values
        status = values.get("status")
        active = False
        if status is not None:
            active = self._check_status(status, index)
        reopens = (
            self._rules.reopen_on_customer_message
            and event.kind == "message"
            and event.actor.role == "customer"
            and self._status_now == "COMPLETED"
        )
        if reopens:  # the rule's automatic reopen uses the bare status OPEN
            status = _REOPEN_STATUS
            active = self._check_status(status, index)
        lookup = self._sla_lookup
        if lookup is not None and apply and "sla" in values:
            try:
                lookup.policy_for(values["sla"])
            except MetricsEngineError as error:
                raise error.locate(case=self._error_case, index=index) from None
        # admitted: from here on nothing raises
        if status is not None:
            name = status.name
            self._status_types[name] = status.type
            if name not in self._status_actives:
                self._status_actives[name] = (active, index)
            self._status_now = status.type
        if self._case_key is None:
            self._case_key = event.case_key
        if event.event_id is not None:
            # An event that sets no field keeps itself (its content is worked out only if its
            # id comes again); one with field values keeps its content, which holds less.
            self._seen[event.event_id] = event.content() if event.values else event
        self._last_at = event.at
        if apply:
            self._state.apply(event, self._rules, index=index, reopens=reopens)
            self._applied += 1

    def _feed(
        self,
        events: Iterable[object],
        *,
        limit: int | None = None,
        problems: list[MetricsEngineError] | None = None,
        instants: list[int] | None = None,
    ) -> None:
        """The replay loop of a whole stream: every path that replays a stream runs this one.

        ``compute_metrics``, the per-case function of batch and Spark, and ``validate`` share
        it, so that they cannot disagree. Events after ``limit`` (epoch seconds) are checked
        but not applied. In lenient mode the events are parsed first, then admitted in
        :func:`lenient_order`. With ``problems`` given, each error is recorded there and the
        loop goes on with the next event (a failed event changes nothing); otherwise the first
        error raises. ``instants``, when given, receives the instant of every event parsed.
        """
        if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
            raise MetricsEngineError(
                f"events: expected an iterable of event objects, found {type(events).__name__}"
            )
        strict = self._strict
        waiting: list[tuple[int, Event]] = []
        end = self._index
        for index, raw in enumerate(events, start=self._index):
            end = index + 1
            try:
                event = self._parse(raw, index)
                if event is not None:
                    if instants is not None:
                        instants.append(event.at)
                    if strict:
                        self._admit(event, index, apply=limit is None or event.at <= limit)
                    else:
                        waiting.append((index, event))
            except MetricsEngineError as error:
                if problems is None:
                    raise
                problems.append(error)
        if waiting:
            waiting.sort(key=lambda item: lenient_order(item[1]))
            for position, event in waiting:
                try:
                    self._admit(event, position, apply=limit is None or event.at <= limit)
                except MetricsEngineError as error:
                    if problems is None:
                        raise
                    problems.append(error)
        self._index = end

    def _created_after(self, limit: int | None) -> bool:
        """Whether the stream fed so far created its case after ``limit``: nothing applied."""
        return limit is not None and not self._applied and self._last_at is not None

    def _nothing_applied(self) -> MetricsEngineError:
        return MetricsEngineError(
            "expected a created event before reading metrics, found no applied event",
            case=self._error_case,
        )

    def _error(self, detail: str, index: int | None) -> SequenceError:
        return SequenceError(detail, case=self._error_case, index=index)

    # ------------------------------------------------------------------ reading

    def metrics(self, as_of: str | datetime | None = None) -> CaseMetrics:
        """The 41 fields at ``as_of`` (default: the last applied event's instant), and with
        an SLA policy the clocks at that instant in ``.sla`` (docs/sla.md)."""
        state = self._state
        if not self._applied:
            raise self._nothing_applied()
        at = state.last_at if as_of is None else parse_as_of(as_of)
        if at < state.created_at:
            raise MetricsEngineError(
                f"as_of: expected a time at or after creation {_iso(state.created_at)}, "
                f"found {_iso(at)}",
                case=self._error_case,
            )
        if at < state.last_at:
            raise MetricsEngineError(
                f"as_of: expected a time at or after the last applied event "
                f"{_iso(state.last_at)}, found {_iso(at)}",
                case=self._error_case,
            )
        return build_metrics(
            state,
            as_of=at,
            calendar=self._calendar,
            rules=self._rules,
            skipped_events=self._skipped,
            sla=None if self._sla is None else self._sla_at(at),
        )

    def _sla_at(self, as_of: int) -> CaseSla:
        """The policy applied to what the state recorded, at ``as_of`` (epoch seconds)."""
        assert self._sla is not None
        state = self._state
        conditions, cycles = state.sla_conditions, state.sla_cycles
        assert conditions is not None  # from_state refuses a state without an SLA record
        assert cycles is not None
        record = SlaRecord(conditions, cycles, state.team_segments)
        try:
            clocks = measure_clocks(record, self._sla, as_of=as_of, calendar=self._calendar)
        except MetricsEngineError as error:
            raise error.locate(case=self._error_case) from None
        return case_sla(clocks)

    @property
    def case(self) -> str | int | None:
        """The case id as given by its first event, or ``None`` before it."""
        return self._state.case_raw

    @property
    def last_at(self) -> datetime | None:
        """The instant of the last applied event (the default ``as_of``)."""
        if not self._applied:
            return None
        return datetime.fromtimestamp(self._state.last_at, UTC)

    # ------------------------------------------------------------------ saving

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot; :meth:`from_state` continues exactly from it."""
        return write_state(
            SavedReplay(
                strict=self._strict,
                rules=self._rules,
                applied=self._applied,
                case_key=self._case_key,
                error_case=self._error_case,
                index=self._index,
                last_at=self._last_at,
                seen={key: _seen_digest(value) for key, value in self._seen.items()},
                status_types=self._status_types,
                status_actives=self._status_actives,
                status_now=self._status_now,
                skipped=self._skipped,
                case=self._state,
            ),
            self._calendar,
        )

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        calendar: Calendar | None = None,
        *,
        recalendar: bool = False,
        sla: Sla | None = None,
    ) -> CaseReplay:
        """A replay that continues where the one that wrote ``state`` stopped.

        The state is checked whole first (docs/state.md): it restores exactly, or
        :class:`StateError` names the key that is wrong. Business time is measured when
        metrics are read, with ``calendar``; a state built with another calendar (or with
        none) is refused unless ``recalendar=True`` asks to re-measure it with this one.
        A state holds no SLA policy: with ``sla``, the clocks are what that policy gives on
        the whole stream; a saved ``sla`` value the policy set refuses raises here, with the
        index of the event that set it (docs/sla.md).
        """
        calendar = _check_calendar(calendar)
        sla = check_sla_option(sla)
        require_calendar(sla, calendar is not None)
        saved = read_state(state, calendar, recalendar=recalendar, sla=sla is not None)
        case_state = saved.case
        if sla is not None and saved.applied:
            conditions, cycles = case_state.sla_conditions, case_state.sla_cycles
            assert conditions is not None  # read_state refuses a state without one
            assert cycles is not None
            record = SlaRecord(conditions, cycles, case_state.team_segments)
            try:
                check_sla_values(record, sla)
            except MetricsEngineError as error:
                raise error.locate(case=saved.error_case) from None
        replay = cls(calendar=calendar, strict=saved.strict, rules=saved.rules, sla=sla)
        replay._applied = saved.applied
        replay._case_key = saved.case_key
        replay._error_case = saved.error_case
        replay._index = saved.index
        replay._last_at = saved.last_at
        replay._seen = dict(saved.seen)
        replay._status_types = dict(saved.status_types)
        replay._status_actives = dict(saved.status_actives)
        replay._status_now = saved.status_now
        replay._skipped = saved.skipped
        replay._state = saved.case
        return replay


def lenient_order(event: Event) -> tuple[int, bool]:
    """Lenient mode's sort key: by ``at``, ``created`` first in its second (a stable sort
    keeps stream order otherwise)."""
    return event.at, event.kind != "created"


def _seen_digest(seen: Event | tuple[object, ...] | str) -> str:
    """What a saved state keeps of an event id's first event: its content's digest."""
    if isinstance(seen, str):
        return seen
    return _digest(seen.content() if isinstance(seen, Event) else seen)


def _case_of(raw: object) -> object:
    """The case id of a raw event, when it has a usable one (a NumPy integer as an int)."""
    if isinstance(raw, Mapping):
        case = raw.get("case")
        try:
            id_text(case, "case")
        except MetricsEngineError:
            plain = plain_event({"case": case})
            return None if plain is None else _case_of(plain)
        return case
    return None


def _json_text(text: str) -> str:
    """A status name as JSON writes it, for the SLA-activity message (docs/sla.md)."""
    return json.dumps(text, ensure_ascii=False)


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _from_epoch(epoch_second: int) -> datetime:
    return datetime.fromtimestamp(epoch_second, UTC)


def _iso(epoch_second: int) -> str:
    return _from_epoch(epoch_second).isoformat(timespec="seconds")
