"""The SLA clocks on hand-built records: every worked example of docs/sla.md, and the rules
around them (pauses, changes of target, removal, business hours, team calendars).

A record is what the replay writes while it applies events (see ``metrics_engine._sla``):
condition rows ``[at, index, status, active, resolved, priority, sla]`` and reply cycles
``[started_at, opened_in, completed_at, completed_by, closed_in]``. Each example below lists
its events in a comment and the rows they produce, worked out by hand from the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import EventError
from metrics_engine._sla import SlaRecord, build_sla
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, SlaPolicyError

GOLD = {
    "title": "Gold",
    "targets": [
        {"type": "FIRST_REPLY_TIME", "priority": None, "goal_in_seconds": 3600,
         "operational_hours": "CALENDAR_HOURS"},
        {"type": "FIRST_REPLY_TIME", "priority": "URGENT", "goal_in_seconds": 900,
         "operational_hours": "CALENDAR_HOURS"},
        {"type": "NEXT_REPLY_TIME", "priority": None, "goal_in_seconds": 7200,
         "operational_hours": "CALENDAR_HOURS"},
        {"type": "RESOLUTION_TIME", "priority": None, "goal_in_seconds": 86400,
         "operational_hours": "CALENDAR_HOURS"},
        {"type": "RESOLUTION_TIME", "priority": "URGENT", "goal_in_seconds": 14400,
         "operational_hours": "CALENDAR_HOURS"},
    ],
}  # fmt: skip
P: dict[str, Any] = {
    "policies": {
        "gold": GOLD,
        "silver": {"targets": [{"type": "RESOLUTION_TIME", "goal_in_seconds": 3600,
                                "operational_hours": "CALENDAR_HOURS"}]},
        "office": {"title": "Office hours", "targets": [
            {"type": "FIRST_REPLY_TIME", "goal_in_seconds": 14400,
             "operational_hours": "BUSINESS_HOURS"},
            {"type": "NEXT_REPLY_TIME", "goal_in_seconds": 14400,
             "operational_hours": "BUSINESS_HOURS"},
            {"type": "RESOLUTION_TIME", "goal_in_seconds": 57600,
             "operational_hours": "BUSINESS_HOURS"}]},
    },
    "default": None,
    "unknown_sla": "error",
    "statuses": {"Waiting on vendor": False},
}  # fmt: skip
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
C = BusinessCalendar.from_dict({"timezone": "America/New_York", "week": WEEKDAYS})
POLICIES = SlaPolicies.from_dict(P)


def t(stamp: str) -> int:
    """``"MM-DD HH:MM:SS"`` in 2026, UTC, as epoch seconds."""
    return int(
        datetime.strptime(f"2026-{stamp}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    )


def iso(stamp: str | None) -> str | None:
    return None if stamp is None else f"2026-{stamp[:5]}T{stamp[6:]}+00:00"


def row(at: str, index: int, status: str = "NEW", *, priority: Any = None, sla: Any = None,
        active: bool | None = None) -> list[Any]:  # fmt: skip
    """A condition row; a bare status is active unless PENDING; resolved for COMPLETED/CLOSED."""
    resolved = status in ("COMPLETED", "CLOSED")
    if active is None:
        active = status in ("NEW", "OPEN")
    return [t(at), index, status, active, resolved, priority, sla]


def cycle(started: str, opened_in: int, completed: str | None = None, by: str | None = None,
          closed_in: int | None = None) -> list[Any]:  # fmt: skip
    return [t(started), opened_in, None if completed is None else t(completed), by, closed_in]


def cut(rows: list[list[Any]], cycles: list[list[Any]], as_of: int) -> SlaRecord:
    """The record as it stood once every event up to ``as_of`` had been applied."""
    kept_rows = [r for r in rows if r[0] <= as_of]
    kept_cycles = []
    for c in cycles:
        if c[0] > as_of:
            continue
        if c[2] is not None and c[2] > as_of:
            c = [c[0], c[1], None, None, None]
        kept_cycles.append(c)
    return SlaRecord(kept_rows, kept_cycles, [[rows[0][0], None]])


def clocks(rows: list[list[Any]], cycles: list[list[Any]], as_of: str, sla: Any = POLICIES,
           calendar: Any = C, teams: list[list[Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    record = cut(rows, cycles, t(as_of))
    if teams is not None:
        record = record._replace(team_segments=teams)
    return build_sla(record, sla, as_of=t(as_of), calendar=calendar).to_dict()


COLUMNS = ("stage", "started_at", "due_at", "completed_at", "completed_by", "last_paused_at",
           "breached_at", "elapsed_seconds", "remaining_seconds")  # fmt: skip


def table(result: dict[str, Any]) -> dict[tuple[str, int], tuple[Any, ...]]:
    return {
        (m["metric_type"], m["cycle"]): tuple(m[key] for key in COLUMNS)
        for m in result["sla_metrics"]
    }


def line(stage: str, started: str, due: str | None, completed: str | None, by: str | None,
         paused: str | None, breached: str | None, elapsed: int,
         remaining: int | None) -> tuple[Any, ...]:  # fmt: skip
    return (stage, iso(started), iso(due), iso(completed), by, iso(paused), iso(breached),
            elapsed, remaining)  # fmt: skip


# --- Example 1: the case of the events docs, a standalone policy ----------------------------

# created 03-02 14:15 by customer 17 (NEW, priority NORMAL, team 3); 14:20 OPEN; agent reply
# 15:02:10; 15:02:30 PENDING; customer post 03-03 13:00:00 then system OPEN in that second;
# agent reply 14:30; 14:31 COMPLETED.
EX1_ROWS = [
    row("03-02 14:15:00", 0, "NEW", priority="NORMAL"),
    row("03-02 14:20:00", 1, "OPEN", priority="NORMAL"),
    row("03-02 15:02:30", 3, "PENDING", priority="NORMAL"),
    row("03-03 13:00:00", 5, "OPEN", priority="NORMAL"),
    row("03-03 14:31:00", 7, "COMPLETED", priority="NORMAL"),
]
EX1_CYCLES = [
    cycle("03-02 14:15:00", 0, "03-02 15:02:10", "reply", 1),
    cycle("03-03 13:00:00", 2, "03-03 14:30:00", "reply", 3),
]
EX1_JSON = {
    "sla_metrics": [
        {"metric_type": "FIRST_REPLY_TIME", "cycle": 1, "stage": "COMPLETED",
         "started_at": "2026-03-02T14:15:00+00:00", "due_at": "2026-03-02T15:15:00+00:00",
         "completed_at": "2026-03-02T15:02:10+00:00", "completed_by": "reply",
         "last_paused_at": None, "is_breached": False, "breached_at": None,
         "elapsed_seconds": 2830, "remaining_seconds": 770,
         "target": {"sla": None, "priority": None, "goal_in_seconds": 3600,
                    "operational_hours": "CALENDAR_HOURS"},
         "resource_type": "sla_metric"},
        {"metric_type": "NEXT_REPLY_TIME", "cycle": 1, "stage": "COMPLETED",
         "started_at": "2026-03-03T13:00:00+00:00", "due_at": "2026-03-03T15:00:00+00:00",
         "completed_at": "2026-03-03T14:30:00+00:00", "completed_by": "reply",
         "last_paused_at": None, "is_breached": False, "breached_at": None,
         "elapsed_seconds": 5400, "remaining_seconds": 1800,
         "target": {"sla": None, "priority": None, "goal_in_seconds": 7200,
                    "operational_hours": "CALENDAR_HOURS"},
         "resource_type": "sla_metric"},
        {"metric_type": "RESOLUTION_TIME", "cycle": 1, "stage": "COMPLETED",
         "started_at": "2026-03-02T14:15:00+00:00", "due_at": "2026-03-04T12:12:30+00:00",
         "completed_at": "2026-03-03T14:31:00+00:00", "completed_by": "resolution",
         "last_paused_at": "2026-03-02T15:02:30+00:00",
         "is_breached": False, "breached_at": None, "elapsed_seconds": 8310,
         "remaining_seconds": 78090,
         "target": {"sla": None, "priority": None, "goal_in_seconds": 86400,
                    "operational_hours": "CALENDAR_HOURS"},
         "resource_type": "sla_metric"},
    ],
    "breach_count": {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0},
    "next_breach_at": None,
}  # fmt: skip


def test_example_1_standalone_policy_gives_the_documented_json() -> None:
    gold = SlaPolicy.from_dict(GOLD)
    assert clocks(EX1_ROWS, EX1_CYCLES, "03-03 14:31:00", sla=gold) == EX1_JSON


def test_example_1_standalone_policy_ignores_the_sla_field() -> None:
    rows = [[*r[:6], "anything"] for r in EX1_ROWS]
    gold = SlaPolicy.from_dict(GOLD)
    assert clocks(rows, EX1_CYCLES, "03-03 14:31:00", sla=gold) == EX1_JSON


def test_example_1_in_another_time_zone() -> None:
    gold = SlaPolicy.from_dict(GOLD)
    record = cut(EX1_ROWS, EX1_CYCLES, t("03-03 14:31:00"))
    out = build_sla(record, gold, as_of=t("03-03 14:31:00"), calendar=None)
    shown = out.to_dict(timezone="America/New_York")
    assert shown["sla_metrics"][0]["started_at"] == "2026-03-02T09:15:00-05:00"
    assert shown["sla_metrics"][2]["due_at"] == "2026-03-04T07:12:30-05:00"


# --- Example 2 and 3: a pause in PENDING, a breach -------------------------------------------

# created 09:00 by customer 21 (sla gold); 09:30 PENDING; customer post 11:00 and system OPEN
# at 11:00; agent reply at 11:20 (Example 2) or 11:45 (Example 3).
EX2_ROWS = [
    row("03-09 09:00:00", 0, "NEW", sla="gold"),
    row("03-09 09:30:00", 1, "PENDING", sla="gold"),
    row("03-09 11:00:00", 3, "OPEN", sla="gold"),
]


def ex2_cycles(reply: str) -> list[list[Any]]:
    return [cycle("03-09 09:00:00", 0, reply, "reply", 2)]


EXAMPLE_2 = [
    ("03-09 09:45:00", "03-09 11:20:00", {
        ("FIRST_REPLY_TIME", 1): line("PAUSED", "03-09 09:00:00", "03-09 10:00:00", None, None,
                                      "03-09 09:30:00", None, 1800, 1800),
        ("RESOLUTION_TIME", 1): line("PAUSED", "03-09 09:00:00", "03-10 09:00:00", None, None,
                                     "03-09 09:30:00", None, 1800, 84600),
    }),
    ("03-09 10:45:00", "03-09 11:20:00", {
        ("FIRST_REPLY_TIME", 1): line("PAUSED", "03-09 09:00:00", "03-09 10:00:00", None, None,
                                      "03-09 09:30:00", None, 1800, 1800),
        ("RESOLUTION_TIME", 1): line("PAUSED", "03-09 09:00:00", "03-10 09:00:00", None, None,
                                     "03-09 09:30:00", None, 1800, 84600),
    }),
    ("03-09 11:20:00", "03-09 11:20:00", {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-09 09:00:00", "03-09 11:30:00",
                                      "03-09 11:20:00", "reply", "03-09 09:30:00", None,
                                      3000, 600),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-09 09:00:00", "03-10 10:30:00", None, None,
                                     "03-09 09:30:00", None, 3000, 83400),
    }),
    # Example 3: the reply comes at 11:45 instead.
    ("03-09 11:40:00", "03-09 11:45:00", {
        ("FIRST_REPLY_TIME", 1): line("ACTIVE", "03-09 09:00:00", "03-09 11:30:00", None, None,
                                      "03-09 09:30:00", "03-09 11:30:00", 4200, -600),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-09 09:00:00", "03-10 10:30:00", None, None,
                                     "03-09 09:30:00", None, 4200, 82200),
    }),
    ("03-09 11:45:00", "03-09 11:45:00", {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-09 09:00:00", "03-09 11:30:00",
                                      "03-09 11:45:00", "reply", "03-09 09:30:00",
                                      "03-09 11:30:00", 4500, -900),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-09 09:00:00", "03-10 10:30:00", None, None,
                                     "03-09 09:30:00", None, 4500, 81900),
    }),
    # A reply at exactly the due instant is in time.
    ("03-09 11:30:00", "03-09 11:30:00", {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-09 09:00:00", "03-09 11:30:00",
                                      "03-09 11:30:00", "reply", "03-09 09:30:00", None,
                                      3600, 0),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-09 09:00:00", "03-10 10:30:00", None, None,
                                     "03-09 09:30:00", None, 3600, 82800),
    }),
]  # fmt: skip


@pytest.mark.parametrize(("as_of", "reply", "expected"), EXAMPLE_2)
def test_examples_2_and_3_pause_and_breach(
    as_of: str, reply: str, expected: dict[Any, Any]
) -> None:
    assert table(clocks(EX2_ROWS, ex2_cycles(reply), as_of)) == expected


def test_example_2_summary_at_the_reply() -> None:
    out = clocks(EX2_ROWS, ex2_cycles("03-09 11:20:00"), "03-09 11:20:00")
    assert out["next_breach_at"] == iso("03-10 10:30:00")
    assert out["breach_count"] == {
        "FIRST_REPLY_TIME": 0,
        "NEXT_REPLY_TIME": 0,
        "RESOLUTION_TIME": 0,
    }


def test_example_3_breach_count() -> None:
    out = clocks(EX2_ROWS, ex2_cycles("03-09 11:45:00"), "03-09 11:45:00")
    assert out["breach_count"] == {
        "FIRST_REPLY_TIME": 1,
        "NEXT_REPLY_TIME": 0,
        "RESOLUTION_TIME": 0,
    }
    # the breached FIRST_REPLY_TIME is not "next"; the resolution clock's due is
    assert out["next_breach_at"] == iso("03-10 10:30:00")


# --- Example 4: two next-reply cycles -------------------------------------------------------

# created 08:00 by customer 31 (gold); agent 08:30; customer 09:00 (cycle 1); customer 32 at
# 10:30 (no effect); agent 11:30; customer 12:00 (cycle 2). The status stays NEW.
EX4_ROWS = [row("03-10 08:00:00", 0, "NEW", sla="gold")]
EX4_CYCLES = [
    cycle("03-10 08:00:00", 0, "03-10 08:30:00", "reply", 0),
    cycle("03-10 09:00:00", 0, "03-10 11:30:00", "reply", 0),
    cycle("03-10 12:00:00", 0),
]


def test_example_4_next_reply_cycles() -> None:
    out = clocks(EX4_ROWS, EX4_CYCLES, "03-10 13:00:00")
    assert table(out) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-10 08:00:00", "03-10 09:00:00",
                                      "03-10 08:30:00", "reply", None, None, 1800, 1800),
        ("NEXT_REPLY_TIME", 1): line("COMPLETED", "03-10 09:00:00", "03-10 11:00:00",
                                     "03-10 11:30:00", "reply", None, "03-10 11:00:00",
                                     9000, -1800),
        ("NEXT_REPLY_TIME", 2): line("ACTIVE", "03-10 12:00:00", "03-10 14:00:00", None, None,
                                     None, None, 3600, 3600),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-10 08:00:00", "03-11 08:00:00", None, None,
                                     None, None, 18000, 68400),
    }  # fmt: skip
    assert [(m["metric_type"], m["cycle"]) for m in out["sla_metrics"]] == [
        ("FIRST_REPLY_TIME", 1), ("NEXT_REPLY_TIME", 1), ("NEXT_REPLY_TIME", 2),
        ("RESOLUTION_TIME", 1),
    ]  # fmt: skip
    assert out["breach_count"]["NEXT_REPLY_TIME"] == 1
    assert out["next_breach_at"] == iso("03-10 14:00:00")


# --- Example 5: a reopen ---------------------------------------------------------------------

# created 09:00 by customer 41 (gold); agent 09:20; 10:00 COMPLETED; customer 03-12 09:00 on
# the COMPLETED case (deferred) and system OPEN at 09:00 (opens it); agent 09:40;
# 03-13 09:30 COMPLETED.
EX5_ROWS = [
    row("03-11 09:00:00", 0, "NEW", sla="gold"),
    row("03-11 10:00:00", 2, "COMPLETED", sla="gold"),
    row("03-12 09:00:00", 4, "OPEN", sla="gold"),
    row("03-13 09:30:00", 6, "COMPLETED", sla="gold"),
]
EX5_CYCLES = [
    cycle("03-11 09:00:00", 0, "03-11 09:20:00", "reply", 0),
    cycle("03-12 09:00:00", 2, "03-12 09:40:00", "reply", 2),
]


def test_example_5_resolution_clock_completed_before_the_reopen() -> None:
    out = table(clocks(EX5_ROWS, EX5_CYCLES, "03-11 18:00:00"))
    assert out[("RESOLUTION_TIME", 1)] == line(
        "COMPLETED", "03-11 09:00:00", "03-12 09:00:00", "03-11 10:00:00", "resolution",
        None, None, 3600, 82800,
    )  # fmt: skip


def test_example_5_reopen() -> None:
    assert table(clocks(EX5_ROWS, EX5_CYCLES, "03-13 09:30:00")) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-11 09:00:00", "03-11 10:00:00",
                                      "03-11 09:20:00", "reply", None, None, 1200, 2400),
        ("NEXT_REPLY_TIME", 1): line("COMPLETED", "03-12 09:00:00", "03-12 11:00:00",
                                     "03-12 09:40:00", "reply", None, None, 2400, 4800),
        ("RESOLUTION_TIME", 1): line("COMPLETED", "03-11 09:00:00", "03-13 08:00:00",
                                     "03-13 09:30:00", "resolution", None, "03-13 08:00:00",
                                     91800, -5400),
    }  # fmt: skip


def test_example_5_running_again_after_the_reopen() -> None:
    out = table(clocks(EX5_ROWS, EX5_CYCLES, "03-12 10:00:00"))
    # 3600 s before the resolution plus one hour since the reopen; completed_at is cleared
    assert out[("RESOLUTION_TIME", 1)] == line(
        "ACTIVE", "03-11 09:00:00", "03-13 08:00:00", None, None, None, None, 7200, 79200
    )


# --- Example 6: a priority change ------------------------------------------------------------

# created 10:00 by customer 51 (gold, NORMAL); 10:20 URGENT; agent 10:25; 11:00 NORMAL.
EX6_ROWS = [
    row("03-12 10:00:00", 0, "NEW", sla="gold", priority="NORMAL"),
    row("03-12 10:20:00", 1, "NEW", sla="gold", priority="URGENT"),
    row("03-12 11:00:00", 3, "NEW", sla="gold", priority="NORMAL"),
]
EX6_CYCLES = [cycle("03-12 10:00:00", 0, "03-12 10:25:00", "reply", 1)]
URGENT_FIRST = {"sla": "gold", "priority": "URGENT", "goal_in_seconds": 900,
                "operational_hours": "CALENDAR_HOURS"}  # fmt: skip


def test_example_6_goal_lowered_below_the_elapsed_time() -> None:
    out = clocks(EX6_ROWS, EX6_CYCLES, "03-12 10:20:00")
    assert table(out) == {
        ("FIRST_REPLY_TIME", 1): line("ACTIVE", "03-12 10:00:00", "03-12 10:15:00", None, None,
                                      None, "03-12 10:20:00", 1200, -300),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-12 10:00:00", "03-12 14:00:00", None, None,
                                     None, None, 1200, 13200),
    }  # fmt: skip
    assert out["sla_metrics"][0]["target"] == URGENT_FIRST
    assert out["sla_metrics"][1]["target"]["goal_in_seconds"] == 14400


def test_example_6_completed_clock_keeps_its_target() -> None:
    out = clocks(EX6_ROWS, EX6_CYCLES, "03-12 11:00:00")
    assert table(out) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-12 10:00:00", "03-12 10:15:00",
                                      "03-12 10:25:00", "reply", None, "03-12 10:20:00",
                                      1500, -600),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-12 10:00:00", "03-13 10:00:00", None, None,
                                     None, None, 3600, 82800),
    }  # fmt: skip
    assert out["sla_metrics"][0]["target"] == URGENT_FIRST
    assert out["sla_metrics"][1]["target"] == {
        "sla": "gold", "priority": None, "goal_in_seconds": 86400,
        "operational_hours": "CALENDAR_HOURS",
    }  # fmt: skip


def test_example_6_priority_back_before_the_reply() -> None:
    rows = [
        EX6_ROWS[0],
        EX6_ROWS[1],
        row("03-12 10:22:00", 2, "NEW", sla="gold", priority="NORMAL"),
    ]
    cycles = [cycle("03-12 10:00:00", 0, "03-12 10:25:00", "reply", 2)]
    first = clocks(rows, cycles, "03-12 10:25:00")["sla_metrics"][0]
    assert first["breached_at"] == iso("03-12 10:20:00")
    assert first["due_at"] == iso("03-12 11:00:00")
    assert first["remaining_seconds"] == 2100
    assert first["target"]["priority"] is None


def test_a_change_in_the_completing_second_before_the_reply_counts() -> None:
    # URGENT at 10:25:00, then the reply in the same second: it completes under URGENT,
    # overdue at its completion (1500 > 900) and not earlier (the goal was 3600 until then).
    rows = [EX6_ROWS[0], row("03-12 10:25:00", 1, "NEW", sla="gold", priority="URGENT")]
    cycles = [cycle("03-12 10:00:00", 0, "03-12 10:25:00", "reply", 1)]
    first = clocks(rows, cycles, "03-12 10:25:00")["sla_metrics"][0]
    assert (first["breached_at"], first["due_at"]) == (iso("03-12 10:25:00"), iso("03-12 10:15:00"))


def test_the_completing_events_own_change_does_not_count() -> None:
    # An update that sets URGENT and COMPLETED at 10:25 completes the clocks under the
    # targets in force before it (closed_in is the row before the resolution's).
    rows = [EX6_ROWS[0], row("03-12 10:25:00", 1, "COMPLETED", sla="gold", priority="URGENT")]
    cycles = [cycle("03-12 10:00:00", 0, "03-12 10:25:00", "resolution", 0)]
    out = clocks(rows, cycles, "03-12 10:25:00")
    assert not out["sla_metrics"][0]["is_breached"]
    assert out["sla_metrics"][0]["target"]["goal_in_seconds"] == 3600
    assert out["sla_metrics"][1]["target"]["goal_in_seconds"] == 86400


# --- Example 7: business hours across a weekend ------------------------------------------------

# created Friday 03-13 15:00 EDT (19:00Z) by customer 61 (office); agent Monday 10:30 EDT.
EX7_ROWS = [row("03-13 19:00:00", 0, "NEW", sla="office")]
EX7_CYCLES = [cycle("03-13 19:00:00", 0, "03-16 14:30:00", "reply", 0)]


def test_example_7_business_hours() -> None:
    assert table(clocks(EX7_ROWS, EX7_CYCLES, "03-14 16:00:00", calendar=C)) == {
        ("FIRST_REPLY_TIME", 1): line("ACTIVE", "03-13 19:00:00", "03-16 15:00:00", None, None,
                                      None, None, 7200, 7200),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-13 19:00:00", "03-17 19:00:00", None, None,
                                     None, None, 7200, 50400),
    }  # fmt: skip
    assert table(clocks(EX7_ROWS, EX7_CYCLES, "03-16 14:30:00", calendar=C)) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-13 19:00:00", "03-16 15:00:00",
                                      "03-16 14:30:00", "reply", None, None, 12600, 1800),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-13 19:00:00", "03-17 19:00:00", None, None,
                                     None, None, 12600, 45000),
    }  # fmt: skip


def short_office(goal: int) -> SlaPolicy:
    return SlaPolicy.from_dict({"targets": [
        {"type": "FIRST_REPLY_TIME", "goal_in_seconds": goal,
         "operational_hours": "business_hours"},
    ]})  # fmt: skip


def test_example_7_breach_while_the_office_is_closed() -> None:
    cycles = [cycle("03-13 19:00:00", 0, "03-13 21:30:00", "reply", 0)]
    out = clocks(EX7_ROWS, cycles, "03-13 21:30:00", sla=short_office(7200), calendar=C)
    assert table(out)[("FIRST_REPLY_TIME", 1)] == line(
        "COMPLETED", "03-13 19:00:00", "03-13 21:00:00", "03-13 21:30:00", "reply", None,
        "03-13 21:00:00", 7200, 0,
    )  # fmt: skip


def test_breached_at_the_instant_the_goal_runs_out_while_active() -> None:
    cycles = [cycle("03-13 19:00:00", 0)]
    out = clocks(EX7_ROWS, cycles, "03-13 21:00:00", sla=short_office(7200), calendar=C)
    first = out["sla_metrics"][0]
    assert (first["breached_at"], first["remaining_seconds"]) == (iso("03-13 21:00:00"), 0)
    assert out["next_breach_at"] is None
    just_before = clocks(EX7_ROWS, cycles, "03-13 20:59:59", sla=short_office(7200), calendar=C)
    assert not just_before["sla_metrics"][0]["is_breached"]
    assert just_before["next_breach_at"] == iso("03-13 21:00:00")


def test_team_calendars_measure_each_piece_with_the_team_of_the_time() -> None:
    # Team 3 works around the clock; from Saturday 12:00 EDT (16:00Z) the case is with team 3.
    always = BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {d: [["00:00", "24:00"]] for d in
                                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    )  # fmt: skip
    teams = TeamCalendars(default=C, teams={3: always})
    segments: list[list[Any]] = [[t("03-13 19:00:00"), None], [t("03-14 16:00:00"), "3"]]
    cycles = [cycle("03-13 19:00:00", 0)]
    out = clocks(EX7_ROWS, cycles, "03-14 17:00:00", calendar=teams, teams=segments)
    first = table(out)[("FIRST_REPLY_TIME", 1)]
    # Friday 15:00-17:00 with the office calendar, then one hour with team 3's.
    assert first[7] == 7200 + 3600
    # due: the remaining 3600 s on team 3's calendar, from as_of
    assert first[2] == iso("03-14 18:00:00")


# --- Example 8: an SLA removed, then a late one ------------------------------------------------

# created 09:00 by customer 71 (gold); 09:30 sla null; agent 10:30; 11:00 sla silver.
EX8_ROWS = [
    row("03-16 09:00:00", 0, "NEW", sla="gold"),
    row("03-16 09:30:00", 1, "NEW", sla=None),
    row("03-16 11:00:00", 3, "NEW", sla="silver"),
]
EX8_CYCLES = [cycle("03-16 09:00:00", 0, "03-16 10:30:00", "reply", 1)]


def test_example_8_removed_sla() -> None:
    out = clocks(EX8_ROWS, EX8_CYCLES, "03-16 10:45:00")
    assert table(out) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-16 09:00:00", None, "03-16 10:30:00",
                                      "reply", None, None, 5400, None),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-16 09:00:00", None, None, None, None, None,
                                     6300, None),
    }  # fmt: skip
    assert [m["target"] for m in out["sla_metrics"]] == [None, None]


def test_example_8_late_policy_breaches_at_its_arrival() -> None:
    out = clocks(EX8_ROWS, EX8_CYCLES, "03-16 11:00:00")
    assert table(out) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-16 09:00:00", None, "03-16 10:30:00",
                                      "reply", None, None, 5400, None),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-16 09:00:00", "03-16 10:00:00", None, None,
                                     None, "03-16 11:00:00", 7200, -3600),
    }  # fmt: skip
    assert out["sla_metrics"][1]["target"] == {
        "sla": "silver", "priority": None, "goal_in_seconds": 3600,
        "operational_hours": "CALENDAR_HOURS",
    }  # fmt: skip


def test_example_8_with_a_default_policy() -> None:
    with_default = SlaPolicies.from_dict({**P, "default": "gold"})
    first = table(clocks(EX8_ROWS, EX8_CYCLES, "03-16 10:45:00", sla=with_default))[
        ("FIRST_REPLY_TIME", 1)
    ]
    assert first == line("COMPLETED", "03-16 09:00:00", "03-16 10:00:00", "03-16 10:30:00",
                         "reply", None, "03-16 10:00:00", 5400, -1800)  # fmt: skip


# --- Example 9: a case opened by an agent ------------------------------------------------------

# created 09:00 by agent 5 (requester 81, gold, PENDING; the opening post is the agent's);
# customer 13:00 (opens FIRST_REPLY_TIME) and system OPEN at 13:00; agent 13:30.
EX9_ROWS = [
    row("03-17 09:00:00", 0, "PENDING", sla="gold"),
    row("03-17 13:00:00", 2, "OPEN", sla="gold"),
]
EX9_CYCLES = [cycle("03-17 13:00:00", 0, "03-17 13:30:00", "reply", 1)]


def test_example_9_outbound_case_starts_paused() -> None:
    assert table(clocks(EX9_ROWS, EX9_CYCLES, "03-17 13:30:00")) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-17 13:00:00", "03-17 14:00:00",
                                      "03-17 13:30:00", "reply", None, None, 1800, 1800),
        ("RESOLUTION_TIME", 1): line("ACTIVE", "03-17 09:00:00", "03-18 13:00:00", None, None,
                                     "03-17 09:00:00", None, 1800, 84600),
    }  # fmt: skip


# --- Example 10: a resolution closes a reply cycle ---------------------------------------------

# created 09:00 by customer 91 (gold); agent 09:10; customer 09:15 (cycle 1); 09:20 COMPLETED.
EX10_ROWS = [
    row("03-18 09:00:00", 0, "NEW", sla="gold"),
    row("03-18 09:20:00", 3, "COMPLETED", sla="gold"),
]
EX10_CYCLES = [
    cycle("03-18 09:00:00", 0, "03-18 09:10:00", "reply", 0),
    cycle("03-18 09:15:00", 0, "03-18 09:20:00", "resolution", 0),
]


def test_example_10_resolution_completes_the_open_cycle() -> None:
    assert table(clocks(EX10_ROWS, EX10_CYCLES, "03-18 09:20:00")) == {
        ("FIRST_REPLY_TIME", 1): line("COMPLETED", "03-18 09:00:00", "03-18 10:00:00",
                                      "03-18 09:10:00", "reply", None, None, 600, 3000),
        ("NEXT_REPLY_TIME", 1): line("COMPLETED", "03-18 09:15:00", "03-18 11:15:00",
                                     "03-18 09:20:00", "resolution", None, None, 300, 6900),
        ("RESOLUTION_TIME", 1): line("COMPLETED", "03-18 09:00:00", "03-19 09:00:00",
                                     "03-18 09:20:00", "resolution", None, None, 1200, 85200),
    }  # fmt: skip


# --- pauses, records, statuses -----------------------------------------------------------------


def test_a_status_that_holds_for_no_time_pauses_nothing() -> None:
    # PENDING and back to OPEN within 10:00:00: two rows at one instant.
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold"),
            row("03-09 10:00:00", 1, "PENDING", sla="gold"),
            row("03-09 10:00:00", 2, "OPEN", sla="gold")]  # fmt: skip
    out = clocks(rows, [cycle("03-09 09:00:00", 0)], "03-09 10:30:00")
    assert all(m["last_paused_at"] is None for m in out["sla_metrics"])
    assert out["sla_metrics"][0]["elapsed_seconds"] == 5400


def test_paused_breach_waits_for_the_resume() -> None:
    # The goal (3600) runs out at 10:00:00 exactly when the case goes PENDING: not overdue
    # while paused; breached at the resume.
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold"),
            row("03-09 10:00:00", 1, "PENDING", sla="gold"),
            row("03-09 12:00:00", 2, "OPEN", sla="gold")]  # fmt: skip
    cycles = [cycle("03-09 09:00:00", 0)]
    paused = clocks(rows, cycles, "03-09 11:00:00")["sla_metrics"][0]
    shown = (paused["stage"], paused["is_breached"], paused["due_at"], paused["remaining_seconds"])
    assert shown == ("PAUSED", False, iso("03-09 10:00:00"), 0)
    resumed = clocks(rows, cycles, "03-09 12:00:00")["sla_metrics"][0]
    assert (resumed["breached_at"], resumed["remaining_seconds"]) == (iso("03-09 12:00:00"), 0)


def test_policy_statuses_map_overrides_the_status_object_and_the_type() -> None:
    # "Waiting on vendor" (type OPEN) is not SLA-active under P's statuses map, whatever the
    # status object said; a policy without the map keeps the status's own value.
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold"),
            row("03-09 09:30:00", 1, "Waiting on vendor", sla="gold", active=True)]  # fmt: skip
    cycles = [cycle("03-09 09:00:00", 0)]
    with_map = clocks(rows, cycles, "03-09 10:00:00")["sla_metrics"][0]
    assert (with_map["stage"], with_map["elapsed_seconds"]) == ("PAUSED", 1800)
    no_map = clocks(rows, cycles, "03-09 10:00:00", sla=SlaPolicy.from_dict(GOLD))["sla_metrics"][0]
    assert (no_map["stage"], no_map["elapsed_seconds"]) == ("ACTIVE", 3600)
    standalone = SlaPolicy.from_dict({**GOLD, "statuses": {"NEW": False}})
    first = clocks(rows, cycles, "03-09 10:00:00", sla=standalone)["sla_metrics"][0]
    assert (first["stage"], first["elapsed_seconds"], first["last_paused_at"]) == (
        "ACTIVE", 1800, iso("03-09 09:00:00"))  # fmt: skip


def test_no_policy_in_force_ever_gives_no_records() -> None:
    rows = [row("03-09 09:00:00", 0, "NEW", sla=None)]
    out = clocks(rows, [cycle("03-09 09:00:00", 0)], "03-09 10:00:00")
    assert out == {
        "sla_metrics": [],
        "breach_count": {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0},
        "next_breach_at": None,
    }


def test_a_policy_after_a_clock_completed_gives_it_no_record() -> None:
    rows = [row("03-09 09:00:00", 0, "NEW", sla=None), row("03-09 10:00:00", 2, "NEW", sla="gold")]
    cycles = [cycle("03-09 09:00:00", 0, "03-09 09:30:00", "reply", 0)]
    out = clocks(rows, cycles, "03-09 10:00:00")
    assert [m["metric_type"] for m in out["sla_metrics"]] == ["RESOLUTION_TIME"]


def test_opened_and_completed_within_one_second_under_a_target_has_a_record() -> None:
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold")]
    cycles = [cycle("03-09 09:00:00", 0, "03-09 09:00:00", "reply", 0)]
    first = clocks(rows, cycles, "03-09 09:00:00")["sla_metrics"][0]
    assert (first["stage"], first["elapsed_seconds"], first["due_at"]) == (
        "COMPLETED", 0, iso("03-09 10:00:00"))  # fmt: skip


def test_unknown_sla_value_raises_with_the_index_of_the_event_that_set_it() -> None:
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold"), row("03-09 09:10:00", 4, "NEW", sla=9)]
    with pytest.raises(
        EventError, match=r'event 4: sla "9" has no policy \(known: "gold", "office", "silver"\)'
    ):
        clocks(rows, [], "03-09 10:00:00")


def test_business_targets_without_a_calendar_raise() -> None:
    with pytest.raises(SlaPolicyError, match='sla policy "office" has BUSINESS_HOURS targets'):
        clocks(EX7_ROWS, EX7_CYCLES, "03-14 16:00:00", calendar=None)
