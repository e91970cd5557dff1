"""Deterministic synthetic helpdesk case event streams (SPEC.md section 2 format).

Stdlib only. Same seed, same bytes: every case draws from its own ``random.Random`` seeded
from ``(seed, case index)``, so case *i* is identical whatever the number of cases asked for,
and gzip output is written with ``mtime=0``.

Usage::

    from benchmarks.synth import generate_case, generate_cases, iter_events, write_jsonl
    python -m benchmarks.synth --events 1000000 --out /tmp/events.jsonl.gz

The mix (probabilities the generator draws from; measured figures are for seed 0)
================================================================================

Size: 33.4 events per case on average (median 24, 90th percentile 73, 99th 142, max ~240),
so 1,000,000 events ≈ 30,000 cases (29,972 for seed 0). Lines average ~172 bytes (created
~209, message ~187, update ~157, note ~156; JSON with ``", "``/``": "`` separators, as in the
spec's example). Generating 1,000,000 events takes ~10 s interleaved (~12 s gzipped, ~7 s
grouped) on one core.

Arrivals: a thinned Poisson process, ``per_day`` cases per day on average (default 150;
first case on or after ``2025-12-01T00:00Z``), weighted by New York wall time (fixed UTC-5):
weekdays 09–17 weight 1, 07–09 and 17–20 0.45, 20–23 0.2, night 0.08; weekends 0.12 by day,
0.05 at night. The ``created`` event is at the arrival instant.

How cases are opened (``created``):
- 76% inbound: a customer's opening message. ``fields.requester`` given in 60% (else the
  default, the creator); explicit ``"status": "NEW"`` in 45%; priority 50%; team 35%; type
  20%; sla 10%; explicit ``"opening": "message"`` in 30%.
- 10% outbound: an agent's opening message to a requester; status PENDING 60% / OPEN 15% /
  absent (NEW) 25%; assignee = the creator in 70%.
- 7% opened with an internal note by an agent (phone call logged), status OPEN in 70%.
- 7% opened with ``"opening": "none"``: 70% by a system actor (API/integration), 30% by an
  agent.

After creation (inbound): a system autoresponder ``message`` (no actor, a system post) in 10%;
a trigger ``update`` with no actor setting team / sla / priority in 65%; a customer follow-up
before any answer in 12%. First assignment (with ``status: OPEN`` in 70%): 55% self-assigned,
25% by the team lead, 20% by a round-robin trigger (no actor).

Conversation: ``1 + Exp(mean 7)`` rounds (capped at 50) of a customer turn and an agent
turn, with realistic gaps: agents answer inside their team's working hours (fixed offsets,
no DST, no holidays: 09–17 New York for teams 1 and 4, 19:30–04:30 Kolkata for team 2,
around the clock for team 3) after log-normal delays (median 45 min), so questions asked at
night or on Friday evening wait overnight or over the weekend; customers answer after
log-normal gaps (median 3 h, minutes to days), mostly in their daytime.
- Agent turn: internal note first in 25% (70% ``note``, 30% ``message`` with
  ``"public": false``, by the assignee or a colleague); reply by the assignee (6% by a
  colleague); then PENDING (88%), custom ``{"name": "Waiting on vendor", "type": "PENDING"}``
  (7%) or no status change (5%). The status update is in the same second as the reply in 45%
  (message listed first), else 1–90 s later; by the agent (85%) or a trigger (15%).
- Customer turn: the requester (8% a CC'd other customer) writes, 10% twice; a trigger sets
  OPEN in the same second (70%, listed after the message), 1–5 s later (20%) or never (10%).
- Between rounds: priority change 10%, type change 6%, SLA change by the system 4%, team
  transfer 4% (to another team, assignee cleared or set; then self-assignment), an update
  carrying only unknown keys (``tags``, ``subject``, ``custom_fields``) 8%, an update that
  changes nothing 2%; a requester change once per case in 2.5% of cases.

Ending: 75% of resolutions are a reply plus COMPLETED (same second in 50%), 15% a bare
status update, 10% an auto-complete by a trigger 3–7 days after PENDING; 25% of resolutions
use the custom ``{"name": "Solved", "type": "COMPLETED"}`` (one name is always one type).
15% of cases are reopened (85% by a customer message plus a trigger setting OPEN, 15% by an
agent's update), 25% of these twice; 12% of cases are still open (NEW/OPEN/PENDING) at
their last event; 12% of resolved cases get a "thank you" without a reopen; 45% of those
resolved at the end are CLOSED by the system about 4 days later.

Encoding variety:
- ``at`` written per case in ``Z`` 35%, ``-05:00`` 35%, ``+01:00`` 15%, ``+05:30`` 10%,
  ``+00:00`` 5%, and 8% of events in another of these; the instants never decrease within a
  case, whatever the text says. Whole seconds.
- Event ids: 55% of cases ``"e-<case>-<n>"``, 15% integers (``<case>*1000+n``), 30% none.
- Case ids: integers from 100001 up; 15% of cases use the same digits as a string, and 5% of
  the integer cases spell a few events' case id as text ("17" and 17 are the same case).
- Roles: 70% of cases ``agent``/``customer``; 30% Kayako names (``OWNER``, ``ADMIN``,
  ``AGENT``, ``COLLABORATOR``, ``CUSTOMER``). 3% of agent actors give their id as a string.
  Customers with ids divisible by 8 have string ids ``"cust-<n>"``.
- System events: no ``actor`` key (84%), ``"actor": null`` (10%), ``{"role": "system"}`` (6%).
- Keys the spec ignores, as exports carry them: ``via`` on every event (``mail``,
  ``messenger``… for customers; ``web`` 85% / ``api`` / ``mobile`` for agents; ``trigger``,
  ``sla``, ``monitor``, ``autoresponder``, ``api`` for system actors) and ``post_id`` on
  ``message`` and ``note``.
- Bare statuses in upper case, except 5% of cases that write them in lower case.
- Teams (integers; 3% written as strings): 1 Support (60%), 2 night-shift desk in Kolkata
  (15%), 3 Priority 24/7 (15%), 4 Sales (10%, not in ``examples/team_calendars.json``, so
  the default calendar applies). Agents 1–30 team 1, 31–42 team 2, 43–52 team 3, 53–58
  team 4. Priorities LOW/NORMAL/HIGH/URGENT, types QUESTION/PROBLEM/INCIDENT/TASK, SLA plans
  1–3 (integers).

Interleaving: ``iter_events(..., interleaved=True)`` merges the cases by instant (ties keep
case order, then stream order), exactly as ``heapq.merge`` over the per-case lists would, but
streaming: a case is admitted once the merge reaches its creation instant and dropped when
done, so memory is bounded by the cases open at once.
"""

from __future__ import annotations

import argparse
import gzip as _gzip
import heapq
import io
import json
import math
import os
import random
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "DEFAULT_PER_DAY",
    "DEFAULT_START",
    "SOLVED",
    "WAITING_ON_VENDOR",
    "generate_case",
    "generate_cases",
    "iter_events",
    "main",
    "write_jsonl",
]

Event = dict[str, Any]

DEFAULT_START: Final = datetime(2025, 12, 1, tzinfo=UTC)
DEFAULT_PER_DAY: Final = 150.0
FIRST_CASE_ID: Final = 100001

WAITING_ON_VENDOR: Final[dict[str, str]] = {"name": "Waiting on vendor", "type": "PENDING"}
SOLVED: Final[dict[str, str]] = {"name": "Solved", "type": "COMPLETED"}

_DAY: Final = 86400
_HOUR: Final = 3600
_NY: Final = -5 * _HOUR  # fixed UTC-5: good enough for arrival weights and agents' hours

# (suffix, offset seconds, weight) for writing `at`.
_OFFSETS: Final = (("Z", 0, 35), ("-05:00", -5 * _HOUR, 35), ("+01:00", _HOUR, 15),
                   ("+05:30", 19800, 10), ("+00:00", 0, 5))  # fmt: skip
_OFFSET_WEIGHTS: Final = tuple(w for _, _, w in _OFFSETS)

PRIORITIES: Final = ("LOW", "NORMAL", "HIGH", "URGENT")
_PRIORITY_WEIGHTS: Final = (15, 60, 20, 5)
TYPES: Final = ("QUESTION", "PROBLEM", "INCIDENT", "TASK")
SLA_PLANS: Final = (1, 2, 3)
CHANNELS: Final = ("MAIL", "MESSENGER", "HELPCENTER", "TWITTER", "FACEBOOK")
_CHANNEL_WEIGHTS: Final = (60, 20, 10, 5, 5)
_TAGS: Final = ("billing", "refund", "bug", "vip", "onboarding", "api", "login", "invoice",
                "feature-request", "escalated", "churn-risk", "mobile")  # fmt: skip
_SUBJECTS: Final = ("Invoice shows the wrong amount", "Cannot log in after password reset",
                    "API returns 502 on bulk import", "How do I export my reports?",
                    "Refund for duplicate charge", "Mobile app crashes on upload",
                    "Add two seats to our plan", "SSO setup with Okta")  # fmt: skip

# Teams: 1 Support (New York hours), 2 night-shift desk in Kolkata covering US hours,
# 3 Priority 24/7, 4 Sales (New York hours, no team calendar of its own).
TEAMS: Final = (1, 2, 3, 4)
_TEAM_WEIGHTS: Final = (60, 15, 15, 10)
TEAM_AGENTS: Final[dict[int, range]] = {
    1: range(1, 31),
    2: range(31, 43),
    3: range(43, 53),
    4: range(53, 59),
}
# Working hours the agents keep: (UTC offset, weekdays 0=Mon, start, end) in local seconds of
# the day; an end past 24 h runs into the next day. None = around the clock.
_SCHEDULES: Final[dict[int, tuple[int, frozenset[int], int, int] | None]] = {
    1: (_NY, frozenset(range(5)), 9 * _HOUR, 17 * _HOUR),
    2: (19800, frozenset(range(5)), 19 * _HOUR + 1800, 28 * _HOUR + 1800),
    3: None,
    4: (_NY, frozenset(range(5)), 9 * _HOUR, 17 * _HOUR),
}
_CUSTOMER_POOL: Final = 60000
_CUSTOMER_BASE: Final = 500000


def _kayako_role(agent: int) -> str:
    if agent == 1:
        return "OWNER"
    if agent <= 5:
        return "ADMIN"
    if agent % 10 == 7:
        return "COLLABORATOR"
    return "AGENT"


def _customer_id(n: int) -> int | str:
    uid = _CUSTOMER_BASE + n
    return f"cust-{uid}" if n % 8 == 0 else uid


def _customer_offset(n: int) -> int:
    k = n % 10
    if k <= 5:
        return _NY
    if k == 6:
        return -8 * _HOUR
    if k <= 8:
        return _HOUR
    return 19800


def _weekday(local: int) -> int:
    """Weekday (0 = Monday) of local epoch seconds (1970-01-01 was a Thursday)."""
    return (local // _DAY + 3) % 7


def _next_open(t: int, team: int) -> int:
    """The earliest instant ≥ t at which the team's agents are at work."""
    sched = _SCHEDULES.get(team)
    if sched is None:
        return t
    off, days, start, end = sched
    local = t + off
    day = local // _DAY
    for d in range(day - 1, day + 9):
        if (d + 3) % 7 in days:
            a = d * _DAY + start
            b = d * _DAY + end
            if local < b:
                return max(local, a) - off
    raise AssertionError("unreachable: every schedule has a working day")  # pragma: no cover


def _arrival_weight(t: int) -> float:
    local = t + _NY
    hour = (local % _DAY) // _HOUR
    if _weekday(local) >= 5:
        return 0.12 if 9 <= hour < 20 else 0.05
    if 9 <= hour < 17:
        return 1.0
    if 7 <= hour < 9 or 17 <= hour < 20:
        return 0.45
    if 20 <= hour < 23:
        return 0.2
    return 0.08


def _mean_arrival_weight() -> float:
    # One week, hour by hour, from a Monday 00:00 New York time.
    monday = 4 * _DAY - _NY
    return sum(_arrival_weight(monday + h * _HOUR) for h in range(168)) / 168


_MEAN_WEIGHT: Final = _mean_arrival_weight()


def _fmt_at(t: int, off: int, suffix: str) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + off)) + suffix


def _epoch(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"start must be an aware datetime, got naive {dt.isoformat()}")
    return math.floor(dt.timestamp())


class _Case:
    """Simulates one case; ``out`` holds (instant, event) pairs in stream order."""

    def __init__(self, rng: random.Random, case_id: int | str, t0: int) -> None:
        r = rng
        self.r = r
        self.case_id = case_id
        # A few events of some integer cases spell the case id as text (same case).
        self.case_alt: str | None = (
            str(case_id) if isinstance(case_id, int) and r.random() < 0.05 else None
        )
        self.t = t0
        self.out: list[tuple[int, Event]] = []
        self.n = 0
        u = r.random()
        digits = str(case_id).isdigit()
        # Event ids: "e-<case>-<n>" 55%, integers 15% (when the case id is digits), none 30%.
        self.id_style = "str" if u < 0.55 else ("int" if digits else "str") if u < 0.70 else ""
        self.id_base = (
            int(str(case_id)) * 1000 if digits else (zlib.crc32(str(case_id).encode()) * 1000)
        )
        i = r.choices(range(len(_OFFSETS)), _OFFSET_WEIGHTS)[0]
        self.suffix, self.off = _OFFSETS[i][0], _OFFSETS[i][1]
        self.kayako_roles = r.random() < 0.30
        self.lower_status = r.random() < 0.05
        self.channel = r.choices(CHANNELS, _CHANNEL_WEIGHTS)[0]
        self.home_team: int = r.choices(TEAMS, _TEAM_WEIGHTS)[0]
        n = r.randrange(1, _CUSTOMER_POOL + 1)
        self.requester: int | str = _customer_id(n)
        self.cust_off = _customer_offset(n)
        # Current state.
        self.status_name = "NEW"
        self.status_type = "NEW"
        self.assignee: int | None = None
        self.team: int | None = None
        self.priority: str | None = None
        self.type: str | None = None
        self.sla: int | None = None
        self.turn = "agent"
        self.requester_changed = False

    # ---- writing events -------------------------------------------------------------
    def emit(
        self, kind: str, actor: Event | None, extra: Event | None = None, via: str = "trigger"
    ) -> Event:
        """Append an event at the current instant; ``via`` names the system actor's source."""
        r = self.r
        case: int | str = self.case_id
        if self.case_alt is not None and r.random() < 0.2:
            case = self.case_alt
        if r.random() < 0.08:
            suffix, off, _ = _OFFSETS[r.randrange(len(_OFFSETS))]
        else:
            suffix, off = self.suffix, self.off
        ev: Event = {"case": case, "event": kind, "at": _fmt_at(self.t, off, suffix)}
        if actor is not None:
            ev["actor"] = actor
        else:
            u = r.random()
            if u < 0.10:
                ev["actor"] = None
            elif u < 0.16:
                ev["actor"] = {"role": "system"}
        if self.id_style:
            self.n += 1
            ev["id"] = (
                f"e-{self.case_id}-{self.n}" if self.id_style == "str" else self.id_base + self.n
            )
        if extra:
            ev.update(extra)
        if kind in ("message", "note"):
            ev["post_id"] = r.randrange(100_000_000, 1_000_000_000)
        if actor is None:
            ev["via"] = via
        elif actor["role"] in ("customer", "CUSTOMER"):
            ev["via"] = self.channel.lower()
        else:
            u = r.random()
            ev["via"] = "web" if u < 0.85 else "api" if u < 0.93 else "mobile"
        self.out.append((self.t, ev))
        return ev

    def agent(self, aid: int) -> Event:
        role = _kayako_role(aid) if self.kayako_roles else "agent"
        return {"id": str(aid) if self.r.random() < 0.03 else aid, "role": role}

    def customer(self, cid: int | str) -> Event:
        return {"id": cid, "role": "CUSTOMER" if self.kayako_roles else "customer"}

    def team_ref(self, team: int) -> int | str:
        return str(team) if self.r.random() < 0.03 else team

    def status(self, key: str) -> str | dict[str, str]:
        """The JSON value for a status; updates the state. key: a type, VENDOR or SOLVED."""
        if key == "VENDOR":
            self.status_name, self.status_type = WAITING_ON_VENDOR["name"], "PENDING"
            return dict(WAITING_ON_VENDOR)
        if key == "SOLVED":
            self.status_name, self.status_type = SOLVED["name"], "COMPLETED"
            return dict(SOLVED)
        self.status_name, self.status_type = key, key
        return key.lower() if self.lower_status else key

    # ---- time -----------------------------------------------------------------------
    def later(self, lo: int, hi: int) -> None:
        self.t += self.r.randint(lo, hi)

    def agent_wait(self, median: float, sigma: float = 1.1) -> None:
        """Advance to the moment an agent of the current team acts."""
        r = self.r
        team = self.team if self.team is not None else self.home_team
        start = _next_open(self.t, team)
        delay = min(int(r.lognormvariate(math.log(median), sigma)), 4 * _DAY)
        t = start + max(delay, 15)
        if _next_open(t, team) != t:  # past the end of the shift: next morning
            t = _next_open(t, team) + r.randint(60, 2700)
        self.t = max(self.t, t)

    def customer_wait(self, median: float = 3 * _HOUR, sigma: float = 1.4) -> None:
        """Advance to the moment the customer answers, mostly in their daytime."""
        r = self.r
        delay = min(max(int(r.lognormvariate(math.log(median), sigma)), 30), 9 * _DAY)
        local = self.t + delay + self.cust_off
        hour = (local % _DAY) // _HOUR
        if (hour >= 23 or hour < 7) and r.random() < 0.85:
            day = local // _DAY + (1 if hour >= 23 else 0)
            local = day * _DAY + 7 * _HOUR + r.randint(0, 3 * _HOUR)
        wd = _weekday(local)
        if wd >= 5 and r.random() < 0.5:
            local = (local // _DAY + 7 - wd) * _DAY + 8 * _HOUR + r.randint(0, 4 * _HOUR)
        self.t = max(self.t, local - self.cust_off)

    # ---- openers --------------------------------------------------------------------
    def pick_agent(self, team: int | None = None) -> int:
        return self.r.choice(TEAM_AGENTS[team if team is not None else self.home_team])

    def open_inbound(self) -> None:
        r = self.r
        fields: Event = {}
        if r.random() < 0.60:
            fields["requester"] = self.requester
        if r.random() < 0.45:
            fields["status"] = self.status("NEW")
        if r.random() < 0.50:
            self.priority = r.choices(PRIORITIES, _PRIORITY_WEIGHTS)[0]
            fields["priority"] = self.priority
        if r.random() < 0.35:
            self.team = self.home_team
            fields["team"] = self.team_ref(self.home_team)
        if r.random() < 0.20:
            self.type = r.choice(TYPES)
            fields["type"] = self.type
        if r.random() < 0.10:
            self.sla = r.choice(SLA_PLANS)
            fields["sla"] = self.sla
        extra: Event = {"fields": fields}
        if r.random() < 0.30:
            extra["opening"] = "message"
        self.emit("created", self.customer(self.requester), extra)
        if r.random() < 0.10:  # autoresponder: a system post, never a reply
            self.later(0, 3)
            self.emit("message", None, {"channel": "MAIL"}, via="autoresponder")
        if r.random() < 0.65:  # routing / SLA trigger
            self.later(0, 4)
            changes: Event = {}
            if self.team is None:
                self.team = self.home_team
                changes["team"] = self.team_ref(self.home_team)
            if self.sla is None and r.random() < 0.7:
                self.sla = 3 if self.priority == "URGENT" else r.choice(SLA_PLANS[:2])
                changes["sla"] = self.sla
            if self.priority is None and r.random() < 0.5:
                self.priority = "NORMAL"
                changes["priority"] = "NORMAL"
            if not changes:
                changes["tags"] = ["auto-routed"]
            self.emit("update", None, {"changes": changes})
        if r.random() < 0.12:  # "any news?" before anyone answered
            self.customer_wait(median=40 * 60, sigma=1.0)
            self.emit("message", self.customer(self.requester), {"channel": self.channel})
        self.first_assignment()
        self.turn = "agent"

    def open_outbound(self) -> None:
        r = self.r
        agent = self.pick_agent()
        fields: Event = {"requester": self.requester}
        if r.random() < 0.70:
            self.assignee = agent
            fields["assignee"] = agent
        self.team = self.home_team
        fields["team"] = self.team_ref(self.home_team)
        u = r.random()
        if u < 0.60:
            fields["status"] = self.status("PENDING")
        elif u < 0.75:
            fields["status"] = self.status("OPEN")
        if r.random() < 0.5:
            self.priority = r.choices(PRIORITIES, _PRIORITY_WEIGHTS)[0]
            fields["priority"] = self.priority
        extra: Event = {"fields": fields}
        if r.random() < 0.5:
            extra["opening"] = "message"
        self.emit("created", self.agent(agent), extra)
        if self.assignee is None and r.random() < 0.5:
            self.first_assignment()
        self.turn = "customer"

    def open_with_note(self) -> None:
        r = self.r
        agent = self.pick_agent()
        fields: Event = {"requester": self.requester, "team": self.team_ref(self.home_team)}
        self.team = self.home_team
        if r.random() < 0.8:
            self.assignee = agent
            fields["assignee"] = agent
        if r.random() < 0.7:
            fields["status"] = self.status("OPEN")
        if r.random() < 0.4:
            self.type = r.choice(TYPES)
            fields["type"] = self.type
        self.emit("created", self.agent(agent), {"fields": fields, "opening": "note"})
        if self.assignee is None:
            self.first_assignment()
        self.turn = "agent"

    def open_with_none(self) -> None:
        r = self.r
        fields: Event = {"requester": self.requester, "status": self.status("NEW")}
        if r.random() < 0.5:
            self.team = self.home_team
            fields["team"] = self.team_ref(self.home_team)
        if r.random() < 0.3:
            self.emit(
                "created", self.agent(self.pick_agent()), {"fields": fields, "opening": "none"}
            )
        else:
            self.emit("created", None, {"fields": fields, "opening": "none"}, via="api")
        if r.random() < 0.5:
            self.turn = "customer"
        else:
            self.first_assignment()
            self.turn = "agent"

    def first_assignment(self) -> None:
        r = self.r
        self.agent_wait(median=20 * 60)
        team = self.team if self.team is not None else self.home_team
        agent = self.pick_agent(team)
        changes: Event = {"assignee": agent}
        if self.team is None:
            self.team = team
            changes["team"] = self.team_ref(team)
        if self.status_type not in ("OPEN", "PENDING") and r.random() < 0.7:
            changes["status"] = self.status("OPEN")
        u = r.random()
        actor: Event | None
        if u < 0.55:
            actor = self.agent(agent)
        elif u < 0.80:
            actor = self.agent(TEAM_AGENTS[team][0])  # the team lead
        else:
            actor = None  # round-robin trigger
        self.assignee = agent
        self.emit("update", actor, {"changes": changes})

    # ---- conversation ---------------------------------------------------------------
    def customer_turn(self, median: float = 3 * _HOUR) -> None:
        r = self.r
        self.customer_wait(median)
        author = self.requester
        if r.random() < 0.08:
            author = _customer_id(r.randrange(1, _CUSTOMER_POOL + 1))  # someone CC'd
        self.emit("message", self.customer(author), {"channel": self.channel})
        if r.random() < 0.10:
            self.later(20, 900)
            self.emit("message", self.customer(author), {"channel": self.channel})
        if self.status_type == "PENDING":
            u = r.random()
            if u < 0.70:  # same second, listed after the message
                self.emit("update", None, {"changes": {"status": self.status("OPEN")}})
            elif u < 0.90:
                self.later(1, 5)
                self.emit("update", None, {"changes": {"status": self.status("OPEN")}})
        self.turn = "agent"

    def note(self) -> None:
        r = self.r
        author = self.assignee if self.assignee is not None and r.random() < 0.7 else None
        if author is None:
            author = self.pick_agent(self.team)
        if r.random() < 0.7:
            self.emit("note", self.agent(author))
        else:
            self.emit("message", self.agent(author), {"channel": "NOTE", "public": False})

    def ensure_assignee(self) -> int:
        if self.assignee is None:
            agent = self.pick_agent(self.team)
            self.assignee = agent
            self.emit("update", self.agent(agent), {"changes": {"assignee": agent}})
            self.later(30, 600)
            return agent
        return self.assignee

    def agent_reply(self) -> int:
        r = self.r
        self.agent_wait(median=45 * 60)
        if r.random() < 0.25:
            self.note()
            self.later(30, 900)
        author = self.ensure_assignee()
        if r.random() < 0.06:
            author = self.pick_agent(self.team)  # a colleague covers
        ev: Event = {"channel": self.channel}
        if r.random() < 0.2:
            ev["public"] = True
        self.emit("message", self.agent(author), ev)
        return author

    def status_after_reply(self, author: int, key: str) -> None:
        r = self.r
        if r.random() >= 0.45:
            self.later(1, 90)
        actor = self.agent(author) if r.random() < 0.85 else None
        self.emit("update", actor, {"changes": {"status": self.status(key)}})

    def agent_turn(self) -> None:
        r = self.r
        author = self.agent_reply()
        u = r.random()
        if u < 0.88:
            if self.status_type != "PENDING" or self.status_name != "PENDING":
                self.status_after_reply(author, "PENDING")
        elif u < 0.95 and self.status_name != WAITING_ON_VENDOR["name"]:
            self.status_after_reply(author, "VENDOR")
        self.turn = "customer"

    def side_events(self) -> None:
        r = self.r
        if r.random() < 0.10:
            self.agent_wait(median=10 * 60)
            new = r.choice([p for p in PRIORITIES if p != self.priority])
            self.priority = new
            changes: Event = {"priority": new}
            if new == "URGENT" and self.sla != 3:
                self.sla = 3
                changes["sla"] = 3
            self.emit("update", self.agent(self.ensure_assignee()), {"changes": changes})
        if r.random() < 0.06:
            self.agent_wait(median=10 * 60)
            self.type = r.choice([t for t in TYPES if t != self.type])
            self.emit(
                "update", self.agent(self.ensure_assignee()), {"changes": {"type": self.type}}
            )
        if r.random() < 0.04:
            self.later(0, 2 * _HOUR)
            self.sla = r.choice([s for s in SLA_PLANS if s != self.sla])
            self.emit("update", None, {"changes": {"sla": self.sla}}, via="sla")
        if r.random() < 0.04:
            self.transfer()
        if r.random() < 0.08:
            self.agent_wait(median=15 * 60)
            u = r.random()
            unknown: Event
            if u < 0.6:
                unknown = {"tags": sorted(r.sample(_TAGS, r.randint(1, 3)))}
            elif u < 0.85:
                unknown = {"subject": r.choice(_SUBJECTS)}
            else:
                unknown = {"custom_fields": {"order_id": f"A-{r.randrange(10000, 99999)}"}}
            self.emit("update", self.agent(self.ensure_assignee()), {"changes": unknown})
        if r.random() < 0.02 and self.priority is not None:
            self.agent_wait(median=15 * 60)  # sets what is already set: not a change
            changes = {"priority": self.priority}
            self.emit("update", self.agent(self.ensure_assignee()), {"changes": changes})

    def transfer(self) -> None:
        r = self.r
        self.agent_wait(median=30 * 60)
        old = self.team if self.team is not None else self.home_team
        new = r.choice([t for t in TEAMS if t != old])
        actor = self.agent(self.assignee) if self.assignee is not None else None
        self.team = new
        if r.random() < 0.5:
            self.assignee = None
            changes: Event = {"team": self.team_ref(new), "assignee": None}
            self.emit("update", actor, {"changes": changes})
            self.agent_wait(median=30 * 60)
            agent = self.pick_agent(new)
            self.assignee = agent
            self.emit("update", self.agent(agent), {"changes": {"assignee": agent}})
        else:
            agent = self.pick_agent(new)
            self.assignee = agent
            changes = {"team": self.team_ref(new), "assignee": agent}
            self.emit("update", actor, {"changes": changes})

    def change_requester(self) -> None:
        self.agent_wait(median=20 * 60)
        n = self.r.randrange(1, _CUSTOMER_POOL + 1)
        new = _customer_id(n)
        if str(new) == str(self.requester):
            return
        self.requester, self.cust_off = new, _customer_offset(n)
        self.requester_changed = True
        self.emit("update", self.agent(self.ensure_assignee()), {"changes": {"requester": new}})

    def resolve(self) -> None:
        """Make a resolution from an unresolved state."""
        r = self.r
        key = "SOLVED" if r.random() < 0.25 else "COMPLETED"
        u = r.random()
        if self.turn == "agent" or u < 0.75:
            if self.turn == "customer":
                self.customer_turn()
            author = self.agent_reply()
            if r.random() < 0.5:  # same second as the reply
                self.emit("update", self.agent(author), {"changes": {"status": self.status(key)}})
            else:
                self.later(1, 120)
                self.emit("update", self.agent(author), {"changes": {"status": self.status(key)}})
        elif u < 0.90:  # "thanks, that fixed it" - the agent only sets the status
            self.customer_turn(median=2 * _HOUR)
            self.agent_wait(median=30 * 60)
            author = self.ensure_assignee()
            self.emit("update", self.agent(author), {"changes": {"status": self.status(key)}})
        else:  # no answer: auto-complete trigger after 3-7 days pending
            if self.status_type != "PENDING":
                self.emit("update", None, {"changes": {"status": self.status("PENDING")}})
            self.t += r.randint(3 * _DAY, 7 * _DAY)
            self.emit("update", None, {"changes": {"status": self.status(key)}}, via="monitor")
        self.turn = "customer"

    def reopen(self) -> None:
        r = self.r
        if r.random() < 0.85:
            self.customer_wait(median=20 * _HOUR, sigma=1.0)
            self.emit("message", self.customer(self.requester), {"channel": self.channel})
            if r.random() >= 0.7:
                self.later(1, 5)
            self.emit("update", None, {"changes": {"status": self.status("OPEN")}})
        else:
            self.agent_wait(median=2 * _HOUR)
            agent = self.ensure_assignee()
            self.emit("update", self.agent(agent), {"changes": {"status": self.status("OPEN")}})
        self.turn = "agent"

    def rounds(self, n: int, stop_early: bool) -> None:
        """n rounds of (customer turn if due) + agent turn; stop_early ends mid-way."""
        r = self.r
        if n > 0 and not self.requester_changed and r.random() < 0.025:
            self.change_requester()
        for _ in range(n):
            if self.turn == "customer":
                if stop_early and r.random() < 0.15:
                    return
                self.customer_turn()
            self.side_events()
            if stop_early and r.random() < 0.1:
                return
            self.agent_turn()

    def run(self) -> None:
        r = self.r
        u = r.random()
        if u < 0.76:
            self.open_inbound()
        elif u < 0.86:
            self.open_outbound()
        elif u < 0.93:
            self.open_with_note()
        else:
            self.open_with_none()
        reopens = 0
        if r.random() < 0.15:
            reopens = 2 if r.random() < 0.25 else 1
        open_at_end = r.random() < 0.12
        n = 1 + min(int(r.expovariate(1 / 7.0)), 49)
        while True:
            if open_at_end and reopens == 0:
                self.rounds(n, stop_early=True)
                return
            self.rounds(n - 1, stop_early=False)
            self.resolve()
            if reopens == 0:
                break
            reopens -= 1
            self.reopen()
            n = 1 + min(int(r.expovariate(1 / 1.5)), 10)
        if r.random() < 0.12:  # "thank you!" on a resolved case: no reopen
            self.customer_wait(median=_HOUR)
            self.emit("message", self.customer(self.requester), {"channel": self.channel})
        if self.status_type == "COMPLETED" and r.random() < 0.45:
            self.t += r.randint(4 * _DAY - 3 * _HOUR, 4 * _DAY + 3 * _HOUR)
            self.emit("update", None, {"changes": {"status": self.status("CLOSED")}}, via="monitor")


def _generate_timed(rng: random.Random, case_id: int | str, t0: int) -> list[tuple[int, Event]]:
    case = _Case(rng, case_id, t0)
    case.run()
    return case.out


def generate_case(rng: random.Random, case_id: int | str, start: datetime) -> list[dict[str, Any]]:
    """One case's events, the ``created`` event at ``start`` (aware), instants non-decreasing."""
    return [ev for _, ev in _generate_timed(rng, case_id, _epoch(start))]


def _case_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"metrics_engine.synth:{seed}:{index}")


def _timed_cases(
    n_cases: int | None,
    seed: int,
    n_events: int | None = None,
    per_day: float = DEFAULT_PER_DAY,
    start: datetime = DEFAULT_START,
) -> Iterator[list[tuple[int, Event]]]:
    """Cases in creation order; stops after n_cases, or once n_events events were made."""
    if per_day <= 0:
        raise ValueError(f"per_day must be positive, got {per_day}")
    arrivals = random.Random(f"metrics_engine.synth.arrivals:{seed}")
    peak_rate = per_day / _DAY / _MEAN_WEIGHT  # cases per second at weight 1
    t_float = float(_epoch(start))
    made = 0
    index = 0
    while (n_cases is None or index < n_cases) and (n_events is None or made < n_events):
        while True:  # thinning: keep the arrival with probability weight(t)
            t_float += arrivals.expovariate(peak_rate)
            if arrivals.random() < _arrival_weight(int(t_float)):
                break
        rng = _case_rng(seed, index)
        case_id: int | str = FIRST_CASE_ID + index
        if rng.random() < 0.15:
            case_id = str(case_id)
        timed = _generate_timed(rng, case_id, int(t_float))
        made += len(timed)
        index += 1
        yield timed


def generate_cases(
    n_cases: int,
    seed: int = 0,
    *,
    per_day: float = DEFAULT_PER_DAY,
    start: datetime = DEFAULT_START,
) -> Iterator[list[dict[str, Any]]]:
    """``n_cases`` cases, in creation order, each a list of events (see generate_case)."""
    for timed in _timed_cases(n_cases, seed, per_day=per_day, start=start):
        yield [ev for _, ev in timed]


def _merge(cases: Iterable[list[tuple[int, Event]]]) -> Iterator[Event]:
    """Streaming ``heapq.merge`` by instant of cases given in creation order.

    Ties keep case order, then stream order, as ``heapq.merge(*cases, key=instant)`` does; a
    case joins the heap when the merge reaches its first instant.
    """
    heap: list[tuple[int, int, int, list[tuple[int, Event]]]] = []
    it = iter(cases)
    pending = next(it, None)
    seq = 0
    while heap or pending is not None:
        while pending is not None and (not heap or pending[0][0] <= heap[0][0]):
            if pending:
                heapq.heappush(heap, (pending[0][0], seq, 0, pending))
                seq += 1
            pending = next(it, None)
        if not heap:
            continue
        _, s, i, lst = heap[0]
        yield lst[i][1]
        if i + 1 < len(lst):
            heapq.heapreplace(heap, (lst[i + 1][0], s, i + 1, lst))
        else:
            heapq.heappop(heap)


def _iter(
    n_cases: int | None,
    seed: int,
    interleaved: bool,
    n_events: int | None,
    per_day: float,
    start: datetime,
) -> Iterator[Event]:
    cases = _timed_cases(n_cases, seed, n_events, per_day, start)
    if interleaved:
        yield from _merge(cases)
    else:
        for timed in cases:
            for _, ev in timed:
                yield ev


def iter_events(
    n_cases: int,
    seed: int = 0,
    interleaved: bool = True,
    *,
    per_day: float = DEFAULT_PER_DAY,
    start: datetime = DEFAULT_START,
) -> Iterator[dict[str, Any]]:
    """All events of ``n_cases`` cases: merged by instant (``interleaved``) or case by case."""
    return _iter(n_cases, seed, interleaved, None, per_day, start)


def write_jsonl(
    path: str | os.PathLike[str],
    n_events: int | None = None,
    n_cases: int | None = None,
    seed: int = 0,
    interleaved: bool = True,
    gzip: bool | None = None,
    *,
    per_day: float = DEFAULT_PER_DAY,
    start: datetime = DEFAULT_START,
) -> tuple[int, int, int]:
    """Write JSON Lines; returns (cases, events, bytes), bytes being the uncompressed size.

    Whole cases are written: at least ``n_events`` events (generation stops at the case that
    reaches it), or exactly ``n_cases`` cases, whichever limit comes first. ``gzip=None``
    compresses when the path ends in ``.gz``; gzip output is reproducible (mtime 0).
    """
    if n_events is None and n_cases is None:
        raise ValueError("give n_events or n_cases")
    if gzip is None:
        gzip = os.fspath(path).endswith(".gz")
    cases: set[str] = set()
    events = 0
    size = 0
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with open(path, "wb") as raw:
        gz: _gzip.GzipFile | None = None
        write: Callable[[bytes], int] = raw.write
        if gzip:
            gz = _gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
            write = gz.write
        buf: list[str] = []
        for ev in _iter(n_cases, seed, interleaved, n_events, per_day, start):
            cases.add(str(ev["case"]))
            buf.append(dumps(ev))
            events += 1
            if len(buf) >= 4096:
                chunk = ("\n".join(buf) + "\n").encode()
                size += len(chunk)
                write(chunk)
                buf.clear()
        if buf:
            chunk = ("\n".join(buf) + "\n").encode()
            size += len(chunk)
            write(chunk)
        if gz is not None:
            gz.close()
    return len(cases), events, size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.synth",
        description="Write deterministic synthetic case events as JSON Lines (SPEC section 2).",
    )
    p.add_argument("--events", type=int, help="at least this many events (whole cases)")
    p.add_argument("--cases", type=int, help="at most this many cases")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grouped", action="store_true", help="each case's events together")
    p.add_argument("--per-day", type=float, default=DEFAULT_PER_DAY, help="mean new cases per day")
    p.add_argument(
        "--start",
        default=DEFAULT_START.isoformat(),
        help="arrivals start here (ISO-8601 with offset)",
    )
    p.add_argument("--out", required=True, help="output file; .gz is compressed")
    args = p.parse_args(argv)
    if args.events is None and args.cases is None:
        p.error("give --events or --cases")
    try:
        start = datetime.fromisoformat(args.start)
        _epoch(start)
    except ValueError as exc:
        p.error(f"--start: {exc}")
    t0 = time.perf_counter()
    cases, events, size = write_jsonl(
        args.out,
        n_events=args.events,
        n_cases=args.cases,
        seed=args.seed,
        interleaved=not args.grouped,
        per_day=args.per_day,
        start=start,
    )
    secs = time.perf_counter() - t0
    on_disk = os.path.getsize(args.out)
    line = io.StringIO()
    line.write(f"cases {cases}  events {events}  bytes {size}  ")
    line.write(f"bytes/line {size / max(events, 1):.1f}  events/case {events / max(cases, 1):.1f}")
    if on_disk != size:
        line.write(f"  on disk {on_disk}")
    line.write(f"  {secs:.1f}s ({events / max(secs, 1e-9):,.0f} events/s)")
    print(line.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
