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
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "CUSTOM_STATUSES",
    "calendars",
    "event_streams",
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


def _changes(draw: st.DrawFn) -> dict[str, Any]:
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
            changes[name] = draw(st.sampled_from(_STATUSES))
        elif name == "assignee":
            changes[name] = draw(st.sampled_from((*_AGENTS, None)))
        elif name == "team":
            changes[name] = draw(st.sampled_from((*_TEAMS, None)))
        elif name == "requester":
            changes[name] = draw(st.sampled_from(_CUSTOMERS))
        elif name == "tags":
            changes[name] = ["ignored"]
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
) -> list[dict[str, Any]]:
    """One case's events as JSON-ready dicts, valid in strict mode."""
    case_id = case if case is not None else draw(st.sampled_from([1042, "1042", "case-9"]))
    at = draw(st.integers(1_600_000_000, 1_900_000_000))
    creator = _actor(draw)
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["requester"] = draw(st.sampled_from((*_CUSTOMERS, None)))
    if draw(st.integers(0, 4)) == 0:
        fields["status"] = draw(st.sampled_from(_STATUSES))
    for name, pool in (("assignee", _AGENTS), ("team", _TEAMS), ("priority", _VALUES)):
        if draw(st.booleans()):
            fields[name] = draw(st.sampled_from((*pool, None)))
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
            event["changes"] = _changes(draw)
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
