"""Self-checks of the reference SLA clocks: SPEC 10.10's worked examples, value for value,
then small cases worked out by hand (the reasoning is in the comments), then the errors.

Times in comments are UTC unless marked EDT. Every example is also run second by second
(``per_second=True``) and must give the same output as the piecewise measurement.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .ref_sla import ref_sla
from .ref_sla_policy import RefSlaPolicy

P: dict[str, Any] = json.loads(
    """
{"policies": {
   "gold":   {"title": "Gold", "targets": [
     {"type": "FIRST_REPLY_TIME", "priority": null,     "goal_in_seconds": 3600,  "operational_hours": "CALENDAR_HOURS"},
     {"type": "FIRST_REPLY_TIME", "priority": "URGENT", "goal_in_seconds": 900,   "operational_hours": "CALENDAR_HOURS"},
     {"type": "NEXT_REPLY_TIME",  "priority": null,     "goal_in_seconds": 7200,  "operational_hours": "CALENDAR_HOURS"},
     {"type": "RESOLUTION_TIME",  "priority": null,     "goal_in_seconds": 86400, "operational_hours": "CALENDAR_HOURS"},
     {"type": "RESOLUTION_TIME",  "priority": "URGENT", "goal_in_seconds": 14400, "operational_hours": "CALENDAR_HOURS"}]},
   "silver": {"targets": [
     {"type": "RESOLUTION_TIME",  "goal_in_seconds": 3600,  "operational_hours": "CALENDAR_HOURS"}]},
   "office": {"title": "Office hours", "targets": [
     {"type": "FIRST_REPLY_TIME", "goal_in_seconds": 14400, "operational_hours": "BUSINESS_HOURS"},
     {"type": "NEXT_REPLY_TIME",  "goal_in_seconds": 14400, "operational_hours": "BUSINESS_HOURS"},
     {"type": "RESOLUTION_TIME",  "goal_in_seconds": 57600, "operational_hours": "BUSINESS_HOURS"}]}},
 "default": null,
 "unknown_sla": "error",
 "statuses": {"Waiting on vendor": false}}
"""
)
C: dict[str, Any] = {
    "timezone": "America/New_York",
    "week": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}

EVENTS_1042 = """\
{"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00", "actor": {"id": 17, "role": "customer"}, "fields": {"requester": 17, "priority": "NORMAL", "team": 3}}
{"case": 1042, "event": "update",  "at": "2026-03-02T09:20:00-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"assignee": 5, "status": "OPEN"}}
{"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00", "actor": {"id": 5, "role": "agent"}}
{"case": 1042, "event": "update",  "at": "2026-03-02T10:02:30-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}}
{"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00", "actor": {"id": 17, "role": "customer"}}
{"case": 1042, "event": "update",  "at": "2026-03-03T08:00:00-05:00", "changes": {"status": "OPEN"}}
{"case": 1042, "event": "message", "at": "2026-03-03T09:30:00-05:00", "actor": {"id": 5, "role": "agent"}}
{"case": 1042, "event": "update",  "at": "2026-03-03T09:31:00-05:00", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}}
"""

EXAMPLE_1_JSON = """
{"sla_metrics": [
   {"metric_type": "FIRST_REPLY_TIME", "cycle": 1, "stage": "COMPLETED",
    "started_at": "2026-03-02T14:15:00+00:00", "due_at": "2026-03-02T15:15:00+00:00",
    "completed_at": "2026-03-02T15:02:10+00:00", "completed_by": "reply", "last_paused_at": null,
    "is_breached": false, "breached_at": null, "elapsed_seconds": 2830, "remaining_seconds": 770,
    "target": {"sla": null, "priority": null, "goal_in_seconds": 3600, "operational_hours": "CALENDAR_HOURS"},
    "resource_type": "sla_metric"},
   {"metric_type": "NEXT_REPLY_TIME", "cycle": 1, "stage": "COMPLETED",
    "started_at": "2026-03-03T13:00:00+00:00", "due_at": "2026-03-03T15:00:00+00:00",
    "completed_at": "2026-03-03T14:30:00+00:00", "completed_by": "reply", "last_paused_at": null,
    "is_breached": false, "breached_at": null, "elapsed_seconds": 5400, "remaining_seconds": 1800,
    "target": {"sla": null, "priority": null, "goal_in_seconds": 7200, "operational_hours": "CALENDAR_HOURS"},
    "resource_type": "sla_metric"},
   {"metric_type": "RESOLUTION_TIME", "cycle": 1, "stage": "COMPLETED",
    "started_at": "2026-03-02T14:15:00+00:00", "due_at": "2026-03-04T12:12:30+00:00",
    "completed_at": "2026-03-03T14:31:00+00:00", "completed_by": "resolution",
    "last_paused_at": "2026-03-02T15:02:30+00:00",
    "is_breached": false, "breached_at": null, "elapsed_seconds": 8310, "remaining_seconds": 78090,
    "target": {"sla": null, "priority": null, "goal_in_seconds": 86400, "operational_hours": "CALENDAR_HOURS"},
    "resource_type": "sla_metric"}],
 "breach_count": {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0},
 "next_breach_at": null}
"""


def jl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def run(events: list[dict[str, Any]], sla: Any = None, **kw: Any) -> dict[str, Any]:
    """The reference output; also checks that the second-by-second run agrees."""
    sla = P if sla is None else sla
    if "calendar" not in kw and isinstance(sla, dict) and "policies" in sla:
        kw["calendar"] = C  # P holds business targets, so a calendar is required
    out = ref_sla(events, sla, **kw)
    assert ref_sla(events, sla, per_second=True, **kw) == out
    return out


class Day:
    """Turns the tables' "HH:MM:SS" / "MM-DD HH:MM:SS" (UTC) into output timestamps."""

    def __init__(self, date: str) -> None:
        self.year, self.md = date[:4], date[5:]

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        md, hms = text.split(" ") if " " in text else (self.md, text)
        return f"{self.year}-{md}T{hms}+00:00"


def rec(out: dict[str, Any], metric_type: str, cycle: int = 1) -> dict[str, Any]:
    hits = [
        r for r in out["sla_metrics"] if r["metric_type"] == metric_type and r["cycle"] == cycle
    ]
    assert len(hits) == 1, (metric_type, cycle, out)
    found: dict[str, Any] = hits[0]
    return found


def kinds(out: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["metric_type"], r["cycle"]) for r in out["sla_metrics"]]


UNSET: Any = object()


def check(
    r: dict[str, Any],
    day: Day,
    *,
    stage: str,
    started: Any = UNSET,
    due: Any = UNSET,
    completed: Any = UNSET,
    by: Any = UNSET,
    paused: Any = UNSET,
    breached: Any = UNSET,
    E: int,
    rem: Any,
    target: Any = UNSET,
) -> None:
    """Compare one record with a table row ("–" cells are None)."""
    assert r["stage"] == stage
    if started is not UNSET:
        assert r["started_at"] == day(started)
    if due is not UNSET:
        assert r["due_at"] == day(due)
    if completed is not UNSET:
        assert r["completed_at"] == day(completed)
    if by is not UNSET:
        assert r["completed_by"] == by
    if paused is not UNSET:
        assert r["last_paused_at"] == day(paused)
    if breached is not UNSET:
        assert r["breached_at"] == day(breached)
        assert r["is_breached"] is (breached is not None)
    assert r["elapsed_seconds"] == E
    assert r["remaining_seconds"] == rem
    if target is not UNSET:
        if target is None:
            assert r["target"] is None
        else:
            sla, prio, goal, hours = target
            assert r["target"] == {
                "sla": sla,
                "priority": prio,
                "goal_in_seconds": goal,
                "operational_hours": hours,
            }
    assert r["resource_type"] == "sla_metric"
    assert list(r) == [
        "metric_type",
        "cycle",
        "stage",
        "started_at",
        "due_at",
        "completed_at",
        "completed_by",
        "last_paused_at",
        "is_breached",
        "breached_at",
        "elapsed_seconds",
        "remaining_seconds",
        "target",
        "resource_type",
    ]


def no_breach() -> dict[str, int]:
    return {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0}


CAL = "CALENDAR_HOURS"
BUS = "BUSINESS_HOURS"


# =========================================================================== Example 1


def test_example_1_the_json_of_10_6() -> None:
    gold = P["policies"]["gold"]
    out = run(jl(EVENTS_1042), gold, kind="policy")
    assert out == json.loads(EXAMPLE_1_JSON)
    assert json.dumps(out) == json.dumps(json.loads(EXAMPLE_1_JSON))  # key order too


def test_example_1_auto_detected_and_parsed_policy_object() -> None:
    gold = RefSlaPolicy.from_dict(P["policies"]["gold"])
    assert run(jl(EVENTS_1042), gold) == json.loads(EXAMPLE_1_JSON)
    assert run(jl(EVENTS_1042), P["policies"]["gold"]) == json.loads(EXAMPLE_1_JSON)


# =========================================================================== Example 2 and 3

EX2 = """\
{"case": 2, "event": "created", "at": "2026-03-09T09:00:00Z", "actor": {"id": 21, "role": "customer"}, "fields": {"requester": 21, "sla": "gold"}}
{"case": 2, "event": "update",  "at": "2026-03-09T09:30:00Z", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}}
{"case": 2, "event": "message", "at": "2026-03-09T11:00:00Z", "actor": {"id": 21, "role": "customer"}}
{"case": 2, "event": "update",  "at": "2026-03-09T11:00:00Z", "changes": {"status": "OPEN"}}
{"case": 2, "event": "message", "at": "2026-03-09T11:20:00Z", "actor": {"id": 5, "role": "agent"}}
"""
D2 = Day("2026-03-09")


def test_example_2_at_0945() -> None:
    out = run(jl(EX2), as_of="2026-03-09T09:45:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="PAUSED", started="09:00:00", due="10:00:00",
          completed=None, by=None, paused="09:30:00", breached=None, E=1800, rem=1800,
          target=("gold", None, 3600, CAL))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D2, stage="PAUSED", started="09:00:00",
          due="03-10 09:00:00", completed=None, paused="09:30:00", breached=None, E=1800,
          rem=84600, target=("gold", None, 86400, CAL))  # fmt: skip
    assert out["next_breach_at"] is None  # PAUSED clocks do not count


def test_example_2_at_1045_paused_due_in_the_past_is_not_a_breach() -> None:
    out = run(jl(EX2), as_of="2026-03-09T10:45:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="PAUSED", started="09:00:00", due="10:00:00",
          completed=None, paused="09:30:00", breached=None, E=1800, rem=1800)  # fmt: skip


def test_example_2_at_1120() -> None:
    out = run(jl(EX2))
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]  # no NRT cycle
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="COMPLETED", started="09:00:00",
          due="11:30:00", completed="11:20:00", by="reply", paused="09:30:00", breached=None,
          E=3000, rem=600)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D2, stage="ACTIVE", started="09:00:00",
          due="03-10 10:30:00", completed=None, by=None, paused="09:30:00", breached=None,
          E=3000, rem=83400)  # fmt: skip
    assert out["next_breach_at"] == D2("03-10 10:30:00")
    assert out["breach_count"] == no_breach()


def ex3(reply_at: str) -> list[dict[str, Any]]:
    events = jl(EX2)
    events[4]["at"] = reply_at
    return events


def test_example_3_breach() -> None:
    out = run(ex3("2026-03-09T11:45:00Z"), as_of="2026-03-09T11:40:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="ACTIVE", started="09:00:00", due="11:30:00",
          completed=None, paused="09:30:00", breached="11:30:00", E=4200, rem=-600)  # fmt: skip
    out = run(ex3("2026-03-09T11:45:00Z"))
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="COMPLETED", started="09:00:00",
          due="11:30:00", completed="11:45:00", by="reply", paused="09:30:00",
          breached="11:30:00", E=4500, rem=-900)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D2, stage="ACTIVE", started="09:00:00",
          due="03-10 10:30:00", completed=None, paused="09:30:00", breached=None, E=4500,
          rem=81900)  # fmt: skip
    assert out["breach_count"] == {
        "FIRST_REPLY_TIME": 1,
        "NEXT_REPLY_TIME": 0,
        "RESOLUTION_TIME": 0,
    }


def test_example_3_reply_at_due_is_in_time_one_second_later_is_not() -> None:
    out = run(ex3("2026-03-09T11:30:00Z"))
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="COMPLETED", due="11:30:00",
          completed="11:30:00", breached=None, E=3600, rem=0)  # fmt: skip
    out = run(ex3("2026-03-09T11:30:01Z"))
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="COMPLETED", due="11:30:00",
          completed="11:30:01", breached="11:30:00", E=3601, rem=-1)  # fmt: skip


# =========================================================================== Example 4

EX4 = """\
{"case": 4, "event": "created", "at": "2026-03-10T08:00:00Z", "actor": {"id": 31, "role": "customer"}, "fields": {"requester": 31, "sla": "gold"}}
{"case": 4, "event": "message", "at": "2026-03-10T08:30:00Z", "actor": {"id": 6, "role": "agent"}}
{"case": 4, "event": "message", "at": "2026-03-10T09:00:00Z", "actor": {"id": 31, "role": "customer"}}
{"case": 4, "event": "message", "at": "2026-03-10T10:30:00Z", "actor": {"id": 32, "role": "customer"}}
{"case": 4, "event": "message", "at": "2026-03-10T11:30:00Z", "actor": {"id": 6, "role": "agent"}}
{"case": 4, "event": "message", "at": "2026-03-10T12:00:00Z", "actor": {"id": 31, "role": "customer"}}
"""
D4 = Day("2026-03-10")


def test_example_4_next_reply_cycles() -> None:
    out = run(jl(EX4), as_of="2026-03-10T13:00:00Z")
    assert kinds(out) == [
        ("FIRST_REPLY_TIME", 1),
        ("NEXT_REPLY_TIME", 1),
        ("NEXT_REPLY_TIME", 2),
        ("RESOLUTION_TIME", 1),
    ]
    check(rec(out, "FIRST_REPLY_TIME"), D4, stage="COMPLETED", started="08:00:00",
          due="09:00:00", completed="08:30:00", by="reply", breached=None, E=1800, rem=1800,
          paused=None)  # fmt: skip
    check(rec(out, "NEXT_REPLY_TIME", 1), D4, stage="COMPLETED", started="09:00:00",
          due="11:00:00", completed="11:30:00", by="reply", breached="11:00:00", E=9000,
          rem=-1800, target=("gold", None, 7200, CAL))  # fmt: skip
    check(rec(out, "NEXT_REPLY_TIME", 2), D4, stage="ACTIVE", started="12:00:00",
          due="14:00:00", completed=None, by=None, breached=None, E=3600, rem=3600)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D4, stage="ACTIVE", started="08:00:00",
          due="03-11 08:00:00", completed=None, breached=None, E=18000, rem=68400)  # fmt: skip
    assert out["breach_count"] == {
        "FIRST_REPLY_TIME": 0,
        "NEXT_REPLY_TIME": 1,
        "RESOLUTION_TIME": 0,
    }
    assert out["next_breach_at"] == D4("14:00:00")


# =========================================================================== Example 5

EX5 = """\
{"case": 5, "event": "created", "at": "2026-03-11T09:00:00Z", "actor": {"id": 41, "role": "customer"}, "fields": {"requester": 41, "sla": "gold"}}
{"case": 5, "event": "message", "at": "2026-03-11T09:20:00Z", "actor": {"id": 7, "role": "agent"}}
{"case": 5, "event": "update",  "at": "2026-03-11T10:00:00Z", "actor": {"id": 7, "role": "agent"}, "changes": {"status": "COMPLETED"}}
{"case": 5, "event": "message", "at": "2026-03-12T09:00:00Z", "actor": {"id": 41, "role": "customer"}}
{"case": 5, "event": "update",  "at": "2026-03-12T09:00:00Z", "changes": {"status": "OPEN"}}
{"case": 5, "event": "message", "at": "2026-03-12T09:40:00Z", "actor": {"id": 7, "role": "agent"}}
{"case": 5, "event": "update",  "at": "2026-03-13T09:30:00Z", "actor": {"id": 7, "role": "agent"}, "changes": {"status": "COMPLETED"}}
"""
D5 = Day("2026-03-11")


def test_example_5_at_1800_resolved() -> None:
    out = run(jl(EX5), as_of="2026-03-11T18:00:00Z")
    check(rec(out, "RESOLUTION_TIME"), D5, stage="COMPLETED", started="09:00:00",
          due="03-12 09:00:00", completed="10:00:00", by="resolution", breached=None, E=3600,
          rem=82800)  # fmt: skip


def test_example_5_reopen() -> None:
    out = run(jl(EX5))
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("NEXT_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D5, stage="COMPLETED", started="09:00:00",
          due="10:00:00", completed="09:20:00", by="reply", breached=None, E=1200,
          rem=2400)  # fmt: skip
    check(rec(out, "NEXT_REPLY_TIME"), D5, stage="COMPLETED", started="03-12 09:00:00",
          due="03-12 11:00:00", completed="03-12 09:40:00", by="reply", breached=None,
          E=2400, rem=4800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D5, stage="COMPLETED", started="09:00:00",
          due="03-13 08:00:00", completed="03-13 09:30:00", by="resolution",
          breached="03-13 08:00:00", E=91800, rem=-5400)  # fmt: skip
    assert out["breach_count"] == {
        "FIRST_REPLY_TIME": 0,
        "NEXT_REPLY_TIME": 0,
        "RESOLUTION_TIME": 1,
    }


# =========================================================================== Example 6

EX6 = """\
{"case": 6, "event": "created", "at": "2026-03-12T10:00:00Z", "actor": {"id": 51, "role": "customer"}, "fields": {"requester": 51, "sla": "gold", "priority": "NORMAL"}}
{"case": 6, "event": "update",  "at": "2026-03-12T10:20:00Z", "actor": {"id": 8, "role": "agent"}, "changes": {"priority": "URGENT"}}
{"case": 6, "event": "message", "at": "2026-03-12T10:25:00Z", "actor": {"id": 8, "role": "agent"}}
{"case": 6, "event": "update",  "at": "2026-03-12T11:00:00Z", "actor": {"id": 8, "role": "agent"}, "changes": {"priority": "NORMAL"}}
"""
D6 = Day("2026-03-12")


def test_example_6_priority_change() -> None:
    out = run(jl(EX6), as_of="2026-03-12T10:20:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D6, stage="ACTIVE", due="10:15:00", completed=None,
          breached="10:20:00", E=1200, rem=-300, target=("gold", "URGENT", 900, CAL))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D6, stage="ACTIVE", due="14:00:00", completed=None,
          breached=None, E=1200, rem=13200, target=("gold", "URGENT", 14400, CAL))  # fmt: skip
    out = run(jl(EX6))
    check(rec(out, "FIRST_REPLY_TIME"), D6, stage="COMPLETED", due="10:15:00",
          completed="10:25:00", by="reply", breached="10:20:00", E=1500, rem=-600,
          target=("gold", "URGENT", 900, CAL))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D6, stage="ACTIVE", due="03-13 10:00:00",
          completed=None, breached=None, E=3600, rem=82800,
          target=("gold", None, 86400, CAL))  # fmt: skip


def test_example_6_back_to_normal_before_the_reply() -> None:
    events = jl(EX6)
    events[3]["at"] = "2026-03-12T10:22:00Z"
    events[2], events[3] = events[3], events[2]  # the priority change now precedes the reply
    out = run(events, as_of="2026-03-12T10:25:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D6, stage="COMPLETED", due="11:00:00",
          completed="10:25:00", by="reply", breached="10:20:00", E=1500, rem=2100,
          target=("gold", None, 3600, CAL))  # fmt: skip


# =========================================================================== Example 7

EX7 = """\
{"case": 7, "event": "created", "at": "2026-03-13T15:00:00-04:00", "actor": {"id": 61, "role": "customer"}, "fields": {"requester": 61, "sla": "office"}}
{"case": 7, "event": "message", "at": "2026-03-16T10:30:00-04:00", "actor": {"id": 5, "role": "agent"}}
"""
D7 = Day("2026-03-13")


def test_example_7_business_hours_across_a_weekend() -> None:
    out = run(jl(EX7), as_of="2026-03-14T16:00:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D7, stage="ACTIVE", started="19:00:00",
          due="03-16 15:00:00", completed=None, E=7200, rem=7200,
          target=("office", None, 14400, BUS))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D7, stage="ACTIVE", started="19:00:00",
          due="03-17 19:00:00", completed=None, E=7200, rem=50400,
          target=("office", None, 57600, BUS))  # fmt: skip
    out = run(jl(EX7))
    check(rec(out, "FIRST_REPLY_TIME"), D7, stage="COMPLETED", due="03-16 15:00:00",
          completed="03-16 14:30:00", by="reply", breached=None, E=12600, rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D7, stage="ACTIVE", due="03-17 19:00:00",
          completed=None, breached=None, E=12600, rem=45000)  # fmt: skip


def test_example_7_with_a_goal_of_7200() -> None:
    pol = copy.deepcopy(P)
    pol["policies"]["office"]["targets"][0]["goal_in_seconds"] = 7200
    events = jl(EX7)
    events[1]["at"] = "2026-03-13T17:30:00-04:00"  # reply Friday 17:30 EDT
    out = run(events, pol)
    # due Friday 17:00 EDT; breached then: ACTIVE at its goal from 17:00, office closed
    check(rec(out, "FIRST_REPLY_TIME"), D7, stage="COMPLETED", due="21:00:00",
          completed="21:30:00", by="reply", breached="21:00:00", E=7200, rem=0)  # fmt: skip


# =========================================================================== Example 8

EX8 = """\
{"case": 8, "event": "created", "at": "2026-03-16T09:00:00Z", "actor": {"id": 71, "role": "customer"}, "fields": {"requester": 71, "sla": "gold"}}
{"case": 8, "event": "update",  "at": "2026-03-16T09:30:00Z", "changes": {"sla": null}}
{"case": 8, "event": "message", "at": "2026-03-16T10:30:00Z", "actor": {"id": 9, "role": "agent"}}
{"case": 8, "event": "update",  "at": "2026-03-16T11:00:00Z", "changes": {"sla": "silver"}}
"""
D8 = Day("2026-03-16")


def test_example_8_sla_removed_then_a_late_one() -> None:
    out = run(jl(EX8), as_of="2026-03-16T10:45:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D8, stage="COMPLETED", due=None, completed="10:30:00",
          by="reply", breached=None, E=5400, rem=None, target=None)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D8, stage="ACTIVE", due=None, completed=None,
          breached=None, E=6300, rem=None, target=None)  # fmt: skip
    assert out["next_breach_at"] is None
    out = run(jl(EX8))
    check(rec(out, "FIRST_REPLY_TIME"), D8, stage="COMPLETED", due=None, completed="10:30:00",
          by="reply", breached=None, E=5400, rem=None, target=None)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D8, stage="ACTIVE", due="10:00:00", completed=None,
          breached="11:00:00", E=7200, rem=-3600, target=("silver", None, 3600, CAL))  # fmt: skip


def test_example_8_with_gold_as_default() -> None:
    pol = copy.deepcopy(P)
    pol["default"] = "gold"
    out = run(jl(EX8), pol, as_of="2026-03-16T10:45:00Z")
    # gold stays in force after the removal (as the default): FRT due 10:00, breached then.
    check(rec(out, "FIRST_REPLY_TIME"), D8, stage="COMPLETED", due="10:00:00",
          completed="10:30:00", breached="10:00:00", E=5400, rem=-1800,
          target=("gold", None, 3600, CAL))  # fmt: skip


# =========================================================================== Example 9 and 10

EX9 = """\
{"case": 9, "event": "created", "at": "2026-03-17T09:00:00Z", "actor": {"id": 5, "role": "agent"}, "fields": {"requester": 81, "sla": "gold", "status": "PENDING"}}
{"case": 9, "event": "message", "at": "2026-03-17T13:00:00Z", "actor": {"id": 81, "role": "customer"}}
{"case": 9, "event": "update",  "at": "2026-03-17T13:00:00Z", "changes": {"status": "OPEN"}}
{"case": 9, "event": "message", "at": "2026-03-17T13:30:00Z", "actor": {"id": 5, "role": "agent"}}
"""
D9 = Day("2026-03-17")


def test_example_9_a_case_opened_by_an_agent() -> None:
    out = run(jl(EX9))
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D9, stage="COMPLETED", started="13:00:00",
          due="14:00:00", completed="13:30:00", by="reply", paused=None, E=1800,
          rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D9, stage="ACTIVE", started="09:00:00",
          due="03-18 13:00:00", completed=None, paused="09:00:00", E=1800, rem=84600)  # fmt: skip


EX10 = """\
{"case": 10, "event": "created", "at": "2026-03-18T09:00:00Z", "actor": {"id": 91, "role": "customer"}, "fields": {"requester": 91, "sla": "gold"}}
{"case": 10, "event": "message", "at": "2026-03-18T09:10:00Z", "actor": {"id": 5, "role": "agent"}}
{"case": 10, "event": "message", "at": "2026-03-18T09:15:00Z", "actor": {"id": 91, "role": "customer"}}
{"case": 10, "event": "update",  "at": "2026-03-18T09:20:00Z", "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}}
"""
D10 = Day("2026-03-18")


def test_example_10_a_resolution_closes_a_reply_cycle() -> None:
    out = run(jl(EX10))
    check(rec(out, "FIRST_REPLY_TIME"), D10, stage="COMPLETED", started="09:00:00",
          due="10:00:00", completed="09:10:00", by="reply", E=600, rem=3000)  # fmt: skip
    check(rec(out, "NEXT_REPLY_TIME"), D10, stage="COMPLETED", started="09:15:00",
          due="11:15:00", completed="09:20:00", by="resolution", E=300, rem=6900)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D10, stage="COMPLETED", started="09:00:00",
          due="03-19 09:00:00", completed="09:20:00", by="resolution", E=1200,
          rem=85200)  # fmt: skip
    assert out["next_breach_at"] is None  # nothing ACTIVE


def test_example_10_a_later_customer_post_opens_nothing_until_a_reopen() -> None:
    later = {"case": 10, "event": "message", "at": "2026-03-18T10:00:00Z", "actor": {"id": 91, "role": "customer"}}  # fmt: skip
    out = run([*jl(EX10), later])
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("NEXT_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    reopen = {"case": 10, "event": "update", "at": "2026-03-18T11:00:00Z", "changes": {"status": "OPEN"}}  # fmt: skip
    out = run([*jl(EX10), later, reopen], as_of="2026-03-18T11:30:00Z")
    # deferred: NRT 2 opens at the reopen (11:00), not at the post; 30 min elapsed since
    check(rec(out, "NEXT_REPLY_TIME", 2), D10, stage="ACTIVE", started="11:00:00",
          due="13:00:00", E=1800, rem=5400)  # fmt: skip
    # RESOLUTION_TIME resumes: 1200 s before the resolution + 1800 s since the reopen
    check(rec(out, "RESOLUTION_TIME"), D10, stage="ACTIVE", completed=None, by=None, E=3000,
          rem=83400, due="03-19 10:40:00")  # fmt: skip
