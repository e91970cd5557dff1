"""Hypothesis strategies for property tests of code that uses metrics_engine.

Install with the ``testing`` extra (``pip install 'metrics-engine[testing]'``); this module
imports hypothesis, so the package itself never does. Example::

    from hypothesis import given
    from metrics_engine import compute_metrics
    from metrics_engine.testing import event_streams

    @given(event_streams())
    def test_waits_never_exceed_the_case_age(events):
        m = compute_metrics(events)
        ...

Every stream is valid in strict mode: ``created`` first, ``at`` non-decreasing (written
with several UTC offsets), one type per status name. It mixes inbound and outbound cases,
reopens, same-second ties, custom statuses, team and requester changes, system actors,
private messages, duplicate deliveries, and ids given as integers and as strings.

For SLA clocks (docs/sla.md), ``event_streams(sla=True)`` also sets ``sla`` values that name
the policies of :func:`sla_policies` (and some that none names), priorities that its targets
name, and custom statuses that carry ``sla_active``; :func:`sla_policies` gives policies and
policy sets as JSON::

    @given(event_streams(sla=True), sla_policies(business=False))
    def test_breached_clocks_have_used_their_goal(events, policy):
        sla = SlaPolicy.from_dict(policy) if "targets" in policy else SlaPolicies.from_dict(policy)
        for record in compute_metrics(events, sla=sla).sla.metrics:
            ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "CUSTOM_STATUSES",
    "SLA_KEYS",
    "SLA_STATUSES",
    "calendars",
    "event_streams",
    "sla_policies",
    "team_calendars",
]

#: Custom statuses used by :func:`event_streams`; each name always has the same type.
CUSTOM_STATUSES: tuple[dict[str, str], ...] = (
    {"name": "Waiting on vendor", "type": "PENDING"},
    {"name": "Solved", "type": "COMPLETED"},
    {"name": "In progress", "type": "OPEN"},
)
_STATUSES: tuple[Any, ...] = (
    "NEW",
    "OPEN",
    "open",
    "PENDING",
    "COMPLETED",
    "CLOSED",
    *CUSTOM_STATUSES,
)
# The same users appear with int and str ids: 17 and "17" are one user.
_AGENTS: tuple[Any, ...] = (5, "5", 6, "agent-7")
_CUSTOMERS: tuple[Any, ...] = (17, "17", 18, "cust-19")
_TEAMS: tuple[Any, ...] = (1, "1", 2, "3")
_VALUES: tuple[Any, ...] = ("LOW", "HIGH", 1, "1", 2)
#: Custom statuses carrying ``sla_active`` (each name always with the same value), used by
#: ``event_streams(sla=True)`` besides the others.
SLA_STATUSES: tuple[dict[str, Any], ...] = (
    {"name": "On hold", "type": "OPEN", "sla_active": False},
    {"name": "Escalated", "type": "PENDING", "sla_active": True},
    {"name": "Awaiting parts", "type": "PENDING", "sla_active": False},
)
_SLA_STREAM_STATUSES: tuple[Any, ...] = (*_STATUSES, *SLA_STATUSES, "OPEN", "NEW")
#: The policy keys :func:`sla_policies` uses; streams also name ``"platinum"``, which none has.
SLA_KEYS: tuple[str, ...] = ("gold", "silver", "office", "7")
_SLA_VALUES: tuple[Any, ...] = ("gold", "silver", "office", "7", 7, "platinum", None)
_SLA_PRIORITIES: tuple[Any, ...] = ("URGENT", "HIGH", "LOW", 1, "1", None)
_AGENT_ROLES = ("agent", "agent", "ADMIN", "Owner", "AGENT", "collaborator")
_CUSTOMER_ROLES = ("customer", "customer", "CUSTOMER", "Customer")
_OFFSETS = (
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=1)),
)
# Gaps between events: same-second ties, minutes, hours, nights and weekends.
_GAPS = st.one_of(
    st.just(0),
    st.integers(1, 600),
    st.integers(600, 8 * 3600),
    st.integers(8 * 3600, 4 * 86400),
)


def _stamp(draw: st.DrawFn, epoch_second: int) -> str:
    """The instant written with some offset, sometimes with a fraction (cut on input)."""
    offset = draw(st.sampled_from(_OFFSETS))
    moment = datetime.fromtimestamp(epoch_second, UTC).astimezone(offset)
    if draw(st.integers(0, 9)) == 0:
        moment = moment.replace(microsecond=draw(st.integers(1, 999_999)))
    return moment.isoformat()


def _actor(draw: st.DrawFn, *, system_weight: int = 1) -> dict[str, Any] | None:
    kind = draw(st.sampled_from(["agent"] * 3 + ["customer"] * 3 + ["system"] * system_weight))
    if kind == "system":
        # Triggers and bots: no actor, or a system actor (sometimes carrying an id it ignores).
        return draw(st.sampled_from([None, {"role": "system"}, {"role": "SYSTEM", "id": 5}]))
    pool = _AGENTS if kind == "agent" else _CUSTOMERS
    names = _AGENT_ROLES if kind == "agent" else _CUSTOMER_ROLES
    role = draw(st.sampled_from(names))
    return {"id": draw(st.sampled_from(pool)), "role": role}


def _changes(draw: st.DrawFn, *, sla: bool = False) -> dict[str, Any]:
    names = draw(
        st.lists(
            st.sampled_from(
                [
                    *("status", "status", "status", "assignee", "team", "priority", "type"),
                    *("sla", "requester", "tags"),
                ]
            ),
            min_size=0,
            max_size=3,
            unique=True,
        )
    )
    changes: dict[str, Any] = {}
    for name in names:
        if name == "status":
            changes[name] = draw(st.sampled_from(_SLA_STREAM_STATUSES if sla else _STATUSES))
        elif name == "assignee":
            changes[name] = draw(st.sampled_from((*_AGENTS, None)))
        elif name == "team":
            changes[name] = draw(st.sampled_from((*_TEAMS, None)))
        elif name == "requester":
            changes[name] = draw(st.sampled_from(_CUSTOMERS))
        elif name == "tags":
            changes[name] = ["ignored"]
        elif sla and name == "sla":
            changes[name] = draw(st.sampled_from(_SLA_VALUES))
        elif sla and name == "priority":
            changes[name] = draw(st.sampled_from(_SLA_PRIORITIES))
        else:
            changes[name] = draw(st.sampled_from((*_VALUES, None)))
    return changes


@st.composite
def event_streams(
    draw: st.DrawFn,
    case: int | str | None = None,
    *,
    min_events: int = 1,
    max_events: int = 25,
    sla: bool = False,
) -> list[dict[str, Any]]:
    """One case's events as JSON-ready dicts, valid in strict mode.

    ``sla=True``: with ``sla`` values (mostly keys of :func:`sla_policies`), priorities its
    targets name, and custom statuses that carry ``sla_active`` (:data:`SLA_STATUSES`).
    """
    case_id = case if case is not None else draw(st.sampled_from([1042, "1042", "case-9"]))
    at = draw(st.integers(1_600_000_000, 1_900_000_000))
    creator = _actor(draw)
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["requester"] = draw(st.sampled_from((*_CUSTOMERS, None)))
    if draw(st.integers(0, 4)) == 0:
        fields["status"] = draw(st.sampled_from(_SLA_STREAM_STATUSES if sla else _STATUSES))
    priorities = _SLA_PRIORITIES if sla else _VALUES
    for name, pool in (("assignee", _AGENTS), ("team", _TEAMS), ("priority", priorities)):
        if draw(st.booleans()):
            fields[name] = draw(st.sampled_from((*pool, None)))
    if sla and draw(st.integers(0, 5)):
        fields["sla"] = draw(st.sampled_from(_SLA_VALUES))
    created: dict[str, Any] = {
        "case": case_id,
        "event": "created",
        "at": _stamp(draw, at),
        "actor": creator,
        "fields": fields,
        "opening": draw(st.sampled_from(["message", "message", "message", "note", "none"])),
        "id": "e0",
    }
    events = [created]
    for number in range(1, draw(st.integers(min_events, max_events))):
        at += draw(_GAPS)
        kind = draw(st.sampled_from(["message"] * 4 + ["update"] * 4 + ["note"]))
        # The case id is written as given or as its text: both name one case.
        same_case = str(case_id) if draw(st.integers(0, 9)) == 0 else case_id
        event: dict[str, Any] = {"case": same_case, "event": kind, "at": _stamp(draw, at)}
        actor = _actor(draw)
        if actor is not None or draw(st.booleans()):
            event["actor"] = actor
        if kind == "update":
            event["changes"] = _changes(draw, sla=sla)
        elif kind == "message" and draw(st.integers(0, 5)) == 0:
            event["public"] = False
        if draw(st.booleans()):
            event["id"] = f"e{number}" if draw(st.booleans()) else number
        events.append(event)
        if "id" in event and draw(st.integers(0, 9)) == 0:
            events.append(dict(event))  # a duplicate delivery: ignored by the replay
    return events


def _clock(draw: st.DrawFn, *, allow_24: bool = False) -> str:
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from([0, 0, 15, 30, 45]))
    if allow_24 and draw(st.integers(0, 9)) == 0:
        return "24:00"
    if draw(st.integers(0, 9)) == 0:
        return f"{hour:02d}:{minute:02d}:{draw(st.integers(0, 59)):02d}"
    return f"{hour:02d}:{minute:02d}"


_ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
)


@st.composite
def calendars(draw: st.DrawFn, *, holidays: bool = True) -> dict[str, Any]:
    """A canonical calendar object (docs/calendars.md) with at least one open interval."""
    week: dict[str, list[list[str]]] = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        count = draw(st.integers(0, 3))
        week[day] = [[_clock(draw), _clock(draw, allow_24=True)] for _ in range(count)]
    if not any(week.values()):
        week["mon"] = [["09:00", "17:00"]]
    calendar: dict[str, Any] = {"timezone": draw(st.sampled_from(_ZONES)), "week": week}
    if holidays and draw(st.booleans()):
        calendar["holidays"] = {"country": draw(st.sampled_from(["US", "DE", "GB"]))}
    if draw(st.booleans()):
        dates: dict[str, list[list[str]]] = {}
        for _ in range(draw(st.integers(1, 3))):
            when: date = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
            count = draw(st.integers(0, 2))
            dates[when.isoformat()] = [
                [_clock(draw), _clock(draw, allow_24=True)] for _ in range(count)
            ]
        calendar["dates"] = dates
    return calendar


@st.composite
def team_calendars(draw: st.DrawFn) -> dict[str, Any]:
    """A per-team calendar object: ``{"default": ..., "teams": {"<team>": ...}}``."""
    teams = draw(st.lists(st.sampled_from(["1", "2", "3"]), max_size=3, unique=True))
    return {
        "default": draw(calendars(holidays=False)),
        "teams": {team: draw(calendars(holidays=False)) for team in teams},
    }


_GOALS = st.one_of(
    st.sampled_from([60, 600, 1800, 3600, 7200, 14400, 86400, 3 * 86400]),
    st.integers(1, 10**6),
)
_TARGET_PRIORITIES: tuple[Any, ...] = (None, None, "URGENT", "HIGH", 1, "1")


@st.composite
def _targets(draw: st.DrawFn, *, business: bool) -> list[dict[str, Any]]:
    hours = ["CALENDAR_HOURS", "calendar_hours"]
    if business:
        hours += ["BUSINESS_HOURS", "BUSINESS_HOURS", "Business_Hours"]
    targets = []
    for metric_type in ("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"):
        # one target per priority text at most (two would be refused as duplicates)
        priorities = draw(st.lists(st.sampled_from(_TARGET_PRIORITIES), max_size=3))
        seen: set[str | None] = set()
        for priority in priorities:
            text = None if priority is None else str(priority)
            if text in seen:
                continue
            seen.add(text)
            target: dict[str, Any] = {
                "type": metric_type if draw(st.integers(0, 5)) else metric_type.lower(),
                "goal_in_seconds": draw(_GOALS),
                "operational_hours": draw(st.sampled_from(hours)),
            }
            if priority is not None or draw(st.booleans()):
                target["priority"] = priority
            targets.append(target)
    return draw(st.permutations(targets))


_STATUS_MAP_NAMES: tuple[str, ...] = (
    "PENDING",
    "OPEN",
    "Waiting on vendor",
    "In progress",
    "On hold",
    "Escalated",
)


@st.composite
def _status_map(draw: st.DrawFn) -> dict[str, bool]:
    names = draw(st.lists(st.sampled_from(_STATUS_MAP_NAMES), max_size=2, unique=True))
    return {name: draw(st.booleans()) for name in names}


@st.composite
def sla_policies(
    draw: st.DrawFn,
    *,
    business: bool = True,
    unknown_sla: tuple[str, ...] = ("none", "default"),
) -> dict[str, Any]:
    """An SLA policy as JSON (docs/sla.md): a standalone policy (with ``targets``) or a
    policy set (with ``policies``, keyed by some of :data:`SLA_KEYS`).

    ``business=False``: calendar hours only (no calendar needed). ``unknown_sla``: the
    values a set may draw for it; add ``"error"`` for sets that refuse unknown ``sla``
    values (streams of ``event_streams(sla=True)`` then often fail).
    """
    if draw(st.integers(0, 2)) == 0:
        policy: dict[str, Any] = {"targets": draw(_targets(business=business))}
        if draw(st.booleans()):
            policy["title"] = "Standalone"
        if draw(st.booleans()):
            policy["statuses"] = draw(_status_map())
        return policy
    keys = draw(st.lists(st.sampled_from(SLA_KEYS), min_size=1, max_size=4, unique=True))
    policies: dict[str, Any] = {}
    for key in keys:
        policies[key] = {"targets": draw(_targets(business=business))}
        if draw(st.booleans()):
            policies[key]["title"] = key.title()
    mode = draw(st.sampled_from(unknown_sla))
    default = draw(st.sampled_from(keys if mode == "default" else [None, *keys]))
    out: dict[str, Any] = {"policies": policies}
    if default is not None or draw(st.booleans()):
        out["default"] = default
    if mode != "error" or draw(st.booleans()):
        out["unknown_sla"] = mode
    if draw(st.booleans()):
        out["statuses"] = draw(_status_map())
    return out
