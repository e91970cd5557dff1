"""Reference SLA clocks (SPEC section 10), written from the SPEC alone, slow and literal.

Entry point
-----------
``ref_sla(events, sla, *, kind=None, calendar=None, as_of=None, strict=True, rules=None,
timezone=None, default=None, unknown_sla="error", statuses=None, per_second=False) -> dict``

- ``events``: the case's events (dicts), as for ``compute_metrics``.
- ``sla``: policy JSON (a dict, or a Kayako response) or an already parsed ``RefSlaPolicy`` /
  ``RefSlaPolicies``. ``kind`` says how to read a dict: ``"policy"`` (``SlaPolicy.from_dict``),
  ``"policies"`` (``SlaPolicies.from_dict``), ``"kayako"`` (``SlaPolicies.from_kayako(sla,
  default=default, unknown_sla=unknown_sla, statuses=statuses)``); ``None`` tells them apart
  by their keys as the batch ``--sla`` does (``targets`` / ``policies`` / ``data``).
- ``calendar``: ``None``, a canonical calendar dict, ``{"default": ..., "teams": {...}}``, a
  ``RefCalendar`` or a ``RefTeamCalendars``.
- ``as_of``: ISO-8601 string or aware datetime; default the last applied event.
- ``strict``, ``rules`` (a dict of ``me.Rules`` fields, or ``RefRules``): as ``ref_compute``.
- ``timezone``: as ``CaseSla.to_dict(timezone=...)``.
- ``per_second``: measure elapsed time and search breaches one second at a time (slow; the
  default measures constant pieces, which the self-check proves equal on small cases).

Returns ``CaseSla.to_dict()`` (SPEC 10.6): ``{"sla_metrics": [...], "breach_count": {...},
"next_breach_at": ...}``, comparable as is with ``compute_metrics(..., sla=...).sla.to_dict()``.

Raises ``RefSlaPolicyError`` (``.path``, ``.message``; ``kind == "sla_policy"``) for a bad policy
or a BUSINESS_HOURS policy without a calendar; ``RefError`` with ``.kind`` "sla" and ``.index``
for an ``sla`` value with no policy; ``RefError`` as ``ref_compute`` for the stream (the
``sla_active`` errors are ``kind == "event"``).

READING (where the SPEC is ambiguous or silent, how this reference reads it)
---------------------------------------------------------------------------
 1. Error order: policy parsing; then BUSINESS_HOURS without a calendar; rules; calendar;
    ``as_of`` parsed; the whole stream validated (section 7 errors and ``sla_active``, in the
    order ``ref_replay`` uses); ``as_of`` before creation; last, the unknown-``sla`` error at the
    first applied step (at or before ``as_of``) that set an unmapped value.
 2. ``"sla_active": null`` is an error (expected true or false), not "absent".
 3. ``sla_active`` is part of a parsed status, so of a duplicate event's content: the same id
    with another ``sla_active`` is a conflicting duplicate.
 4. The default ``NEW`` of ``created`` and the automatic ``OPEN`` of
    ``reopen_on_customer_message`` take part in the ``sla_active`` check with their type's
    default (true), like a bare status.
 5. One event giving a status both another type and another ``sla_active``: the type error is
    reported. The conflict message names this event's value first and the index of the first
    event that gave the other value (``sla_active false, but true at event 3``).
 6. A status's SLA-activity uses the one value its name has in the whole stream (explicit or
    the type default; the conflict rule makes it unique); the policy's ``statuses`` map wins.
 7. Record rule (10.6) is judged after each *event* (step), not per instant: a target in force
    after any applied step while the clock is open gives a record, even if a later event of
    the same second removes it.
 8. A completed clock's target is the one in force after the step just before the completing
    step, even when that step is of the same second.
 9. ``last_paused_at`` is an instant after whose events the clock is PAUSED while during the
    second before it was not PAUSED (ACTIVE, COMPLETED, or not yet started). So a
    RESOLUTION_TIME clock reopened into a non-SLA-active status starts a pause at the reopen.
10. ``due_at`` is null when the due instant would lie more than ten years after x, in
    business hours (``add_business_seconds`` fails) and, read literally, in calendar hours too
    (a goal over ~3.15e8 s); "ten years" is ``ref_calendar``'s reading (the same UTC wall time
    ten years later, that bound itself accepted).
11. ``target.sla`` is the policy key as written in ``policies`` (an integer key stays an
    integer), also when the policy is in force as the ``default`` (the default's key, not the
    text of ``"default"``). Kayako keys are the SLA ids as text (strings).
12. Policy check order: not an object; unknown keys (first in key order); missing required
    keys; then ``title``, ``targets``. A target: unknown keys; missing ``type``,
    ``goal_in_seconds``, ``operational_hours`` (that order); then ``type``, ``priority``,
    ``goal_in_seconds``, ``operational_hours``. A set: ``policies`` (each in order), then
    ``default``, ``unknown_sla``, the ``unknown_sla``/``default`` pair, ``statuses``.
13. ``"title": null`` is an error (a title must be a string); a Kayako SLA's null title is
    accepted as no title.
14. ``"statuses": null`` in policy JSON is an error; ``from_kayako(statuses=None)`` means ``{}``.
    Status names in the map must be strings.
15. ``unknown_sla`` values are exact (lower case). ``default`` is matched by text (``3``
    names key ``"3"``); anything but a string or integer gets the same "expected a key of
    policies or null" message.
16. Paths show a key as JSON: ``policies["gold"]``, ``policies[3]``, ``statuses["X"]``.
    ``found`` shows scalars as JSON and containers as "an object" / "a list".
17. The duplicate-target message shows the second target's priority as written (JSON; null).
18. The unknown-``sla`` message lists known keys sorted by text, each quoted, at most 10, then
    ``, ...``; with no policies at all: ``(known: none)``.
19. Kayako: an object with ``data`` is the envelope (``resources`` read from it); anything
    else is ``data`` itself (a list of SLAs, or one SLA object), and paths still start with
    ``data``. camelCase means any key with an upper-case letter, checked in the envelope,
    ``resources``, SLA and target objects. Other keys of SLA and target objects are ignored
    (``description``, ``is_enabled``, ...). A target entry is a reference when it has no
    ``type`` and only ``id`` / ``resource_type`` / ``resource_url``. A priority is null, an
    integer, or an object with an ``id`` (``resource_type`` ``case_priority`` or absent) which
    becomes that id; a string priority is an error. An SLA needs an ``id`` (string or integer;
    two with the same text are an error) and ``targets``.
20. The BUSINESS_HOURS-without-calendar error names the first policy (in ``policies`` order)
    that has a business target.
21. Outbound means the opening post is an agent's; a system actor's opening post is not
    outbound (FIRST_REPLY_TIME opens at ``created_at``).
22. A customer's post while a deferred cycle already waits changes nothing (one waits).
23. Stage, target and team during a second are those after every event of the last instant at
    or before it; E over a clock's life uses the team of each second (per-team calendars).
24. NEXT_REPLY_TIME numbers are given when a cycle opens, so a deferred cycle that never opens
    (an agent reply came first) takes no number.
25. Lenient mode: a non-boolean ``sla_active`` is an error of the event's own content (checked
    before sorting); the one-value-per-name check runs in applied (sorted) order.
26. Not an ambiguity, but easy to get wrong: a clock PAUSED exactly at its goal and resumed
    later has E(x) = goal, so ``due_at`` is the instant the goal was used up (before the
    pause), not the resume; it is breached at the resume with ``remaining_seconds`` 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .ref_calendar import RefCalendar, RefError, RefTeamCalendars, from_epoch, id_text
from .ref_replay import RefRules, Step, parse_calendar, parse_instant, parse_rules
from .ref_sla_clocks import FRT, NRT, RT, ClockView, Policies, Record, build_clocks
from .ref_sla_policy import RefSlaPolicies, RefSlaPolicy, RefSlaPolicyError, found, key_path
from .ref_sla_stream import read_sla_stream

TYPE_ORDER: dict[str, int] = {FRT: 0, NRT: 1, RT: 2}


def parse_sla(
    sla: Any,
    kind: str | None = None,
    *,
    default: Any = None,
    unknown_sla: Any = "error",
    statuses: Any = None,
) -> RefSlaPolicy | RefSlaPolicies:
    if isinstance(sla, (RefSlaPolicy, RefSlaPolicies)):
        return sla
    if kind is None:
        if isinstance(sla, Mapping) and "targets" in sla:
            kind = "policy"
        elif isinstance(sla, Mapping) and "policies" in sla:
            kind = "policies"
        elif isinstance(sla, Mapping) and "data" in sla:
            kind = "kayako"
        else:
            raise RefSlaPolicyError(
                "", f'expected an object with "targets" or "policies", found {found(sla)}'
            )
    if kind == "policy":
        return RefSlaPolicy.from_dict(sla)
    if kind == "policies":
        return RefSlaPolicies.from_dict(sla)
    if kind == "kayako":
        return RefSlaPolicies.from_kayako(
            sla, default=default, unknown_sla=unknown_sla, statuses=statuses
        )
    raise ValueError(f"kind must be policy, policies or kayako, not {kind!r}")


def check_calendar_needed(pol: RefSlaPolicy | RefSlaPolicies, calendar: Any) -> None:
    if calendar is not None:
        return
    if isinstance(pol, RefSlaPolicy):
        if pol.policy.has_business:
            raise RefSlaPolicyError(
                "",
                "has BUSINESS_HOURS targets but no calendar was given",
                text="sla policy has BUSINESS_HOURS targets but no calendar was given",
            )
        return
    text = pol.business_policy_key()
    if text is not None:
        raise RefSlaPolicyError(
            key_path("policies", pol.policies[text][0]),
            "has BUSINESS_HOURS targets but no calendar was given",
            text=f"sla policy {found(text)} has BUSINESS_HOURS targets but no calendar was given",
        )


def check_unknown_sla(pol: RefSlaPolicy | RefSlaPolicies, steps: list[Step]) -> None:
    """10.2 / 10.9: under "error", the applied event that set an unmapped value raises."""
    if not isinstance(pol, RefSlaPolicies) or pol.unknown_sla != "error":
        return
    for s in steps:
        value = s.after.sla
        set_here = s.before is None or s.changed("sla")
        if set_here and value is not None and pol.resolve(value) == "unknown":
            raise RefError(
                "sla",
                f'sla "{id_text(value)}" has no policy (known: {pol.known_keys_text()})',
                s.index,
            )


def _iso(instant: int | None, zone: ZoneInfo | None) -> str | None:
    if instant is None:
        return None
    dt = from_epoch(instant)
    return (dt.astimezone(zone) if zone is not None else dt).isoformat()


def record_to_dict(r: Record, zone: ZoneInfo | None) -> dict[str, Any]:
    return {
        "metric_type": r.metric_type,
        "cycle": r.cycle,
        "stage": r.stage,
        "started_at": _iso(r.started_at, zone),
        "due_at": _iso(r.due_at, zone),
        "completed_at": _iso(r.completed_at, zone),
        "completed_by": r.completed_by,
        "last_paused_at": _iso(r.last_paused_at, zone),
        "is_breached": r.breached_at is not None,
        "breached_at": _iso(r.breached_at, zone),
        "elapsed_seconds": r.elapsed_seconds,
        "remaining_seconds": r.remaining_seconds,
        "target": None if r.target is None else r.target.target.to_dict(r.target.sla_key),
        "resource_type": "sla_metric",
    }


def ref_sla_records(
    events: Sequence[Mapping[str, Any]],
    sla: Any,
    *,
    kind: str | None = None,
    calendar: Mapping[str, Any] | RefCalendar | RefTeamCalendars | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Mapping[str, Any] | RefRules | None = None,
    default: Any = None,
    unknown_sla: Any = "error",
    statuses: Any = None,
    per_second: bool = False,
) -> list[Record]:
    """The records of 10.6, in 10.6 order, as ``Record`` objects (epoch-second instants)."""
    pol = parse_sla(sla, kind, default=default, unknown_sla=unknown_sla, statuses=statuses)
    check_calendar_needed(pol, calendar)
    rules_obj = parse_rules(rules)
    calendars = parse_calendar(calendar)
    as_of_s = (
        None if as_of is None else parse_instant(as_of, kind="as_of", what="as_of", index=None)
    )
    all_steps, _skipped, active_by_name = read_sla_stream(list(events), strict, rules_obj)
    created_at = all_steps[0].at
    if as_of_s is None:
        as_of_s = all_steps[-1].at
    elif as_of_s < created_at:
        raise RefError("as_of", "expected as_of at or after creation, found an earlier one")
    steps = [s for s in all_steps if s.at <= as_of_s]
    check_unknown_sla(pol, steps)

    pols = Policies(pol, active_by_name)
    clocks = [c for c in build_clocks(steps, pols) if c.had_target]
    clocks.sort(key=lambda c: (TYPE_ORDER[c.metric_type], c.cycle))
    return [ClockView(c, steps, pols, calendars, as_of_s, per_second).record() for c in clocks]


def ref_sla(
    events: Sequence[Mapping[str, Any]],
    sla: Any,
    *,
    kind: str | None = None,
    calendar: Mapping[str, Any] | RefCalendar | RefTeamCalendars | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Mapping[str, Any] | RefRules | None = None,
    timezone: str | None = None,
    default: Any = None,
    unknown_sla: Any = "error",
    statuses: Any = None,
    per_second: bool = False,
) -> dict[str, Any]:
    """``CaseSla.to_dict(timezone=timezone)`` for ``events`` under ``sla`` (see module doc)."""
    records = ref_sla_records(
        events,
        sla,
        kind=kind,
        calendar=calendar,
        as_of=as_of,
        strict=strict,
        rules=rules,
        default=default,
        unknown_sla=unknown_sla,
        statuses=statuses,
        per_second=per_second,
    )
    zone = None if timezone is None else ZoneInfo(timezone)
    breach_count = {FRT: 0, NRT: 0, RT: 0}
    for r in records:
        if r.breached_at is not None:
            breach_count[r.metric_type] += 1
    dues = [
        r.due_at
        for r in records
        if r.stage == "ACTIVE" and r.breached_at is None and r.due_at is not None
    ]
    return {
        "sla_metrics": [record_to_dict(r, zone) for r in records],
        "breach_count": breach_count,
        "next_breach_at": _iso(min(dues), zone) if dues else None,
    }
