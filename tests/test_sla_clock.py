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
from hypothesis import given
from hypothesis import strategies as st

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import EventError
from metrics_engine._sla import measure_clocks
from metrics_engine._sla_output import CaseSla, case_sla
from metrics_engine._sla_record import SlaRecord
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


def build_sla(record: SlaRecord, sla: Any, *, as_of: int, calendar: Any) -> CaseSla:
    """What the replay will do: measure the clocks, then shape them."""
    return case_sla(measure_clocks(record, sla, as_of=as_of, calendar=calendar))


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


def test_one_paused_status_after_another_is_one_pause() -> None:
    rows = [
        row("03-09 09:00:00", 0, "NEW", sla="gold"),
        row("03-09 09:30:00", 1, "PENDING", sla="gold"),
        row("03-09 09:40:00", 2, "Hold", sla="gold", active=False),
        row("03-09 09:50:00", 3, "OPEN", sla="gold"),
        row("03-09 10:00:00", 4, "Working", sla="gold", active=True),
    ]
    first = clocks(rows, [cycle("03-09 09:00:00", 0)], "03-09 10:30:00")["sla_metrics"][0]
    # active 09:00-09:30 and 09:50-10:30
    assert (first["last_paused_at"], first["elapsed_seconds"]) == (iso("03-09 09:30:00"), 4200)


def test_a_reopen_into_a_paused_status_resumes_the_resolution_clock_paused() -> None:
    rows = [
        row("03-09 09:00:00", 0, "NEW", sla="gold"),
        row("03-09 10:00:00", 1, "COMPLETED", sla="gold"),
        row("03-09 12:00:00", 2, "PENDING", sla="gold"),
        row("03-09 13:00:00", 3, "OPEN", sla="gold"),
    ]
    paused = clocks(rows, [], "03-09 12:30:00")["sla_metrics"][0]
    assert (paused["stage"], paused["last_paused_at"]) == ("PAUSED", iso("03-09 12:00:00"))
    # due from the pause: 82800 s left after 12:00
    assert paused["due_at"] == iso("03-10 11:00:00")
    running = clocks(rows, [], "03-09 13:30:00")["sla_metrics"][0]
    assert (running["stage"], running["elapsed_seconds"]) == ("ACTIVE", 5400)
    assert (running["completed_at"], running["completed_by"]) == (None, None)


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


def test_resolved_twice_in_one_second_completes_under_the_last_resolutions_target() -> None:
    # At 13:00: COMPLETED, reopened, URGENT, COMPLETED again. The clock completed under the
    # target before the last resolution: URGENT's 14400, against 4 hours used.
    rows = [
        row("03-09 09:00:00", 0, "NEW", sla="gold", priority="NORMAL"),
        row("03-09 13:00:00", 1, "COMPLETED", sla="gold", priority="NORMAL"),
        row("03-09 13:00:00", 2, "OPEN", sla="gold", priority="NORMAL"),
        row("03-09 13:00:00", 3, "OPEN", sla="gold", priority="URGENT"),
        row("03-09 13:00:00", 4, "COMPLETED", sla="gold", priority="URGENT"),
    ]
    resolution = clocks(rows, [], "03-09 14:00:00")["sla_metrics"][0]
    assert resolution["target"]["priority"] == "URGENT"
    assert (resolution["breached_at"], resolution["due_at"]) == (None, iso("03-09 13:00:00"))
    assert resolution["remaining_seconds"] == 0
    rows[3] = row("03-09 13:00:00", 3, "OPEN", sla="silver", priority="URGENT")
    rows[4] = row("03-09 13:00:00", 4, "COMPLETED", sla="silver", priority="URGENT")
    resolution = clocks(rows, [], "03-09 14:00:00")["sla_metrics"][0]
    # silver's 3600 against 14400 used: overdue when it completed, at 13:00
    assert resolution["breached_at"] == iso("03-09 13:00:00")
    assert resolution["due_at"] == iso("03-09 10:00:00")


def test_goal_used_up_exactly_at_an_event_that_keeps_the_clock_running() -> None:
    # The priority changes at 10:00 (the goal is unchanged for gold's fallback) exactly when
    # 3600 s are used: breached at 10:00, the instant the clock is active at its goal.
    rows = [
        row("03-09 09:00:00", 0, "NEW", sla="gold", priority="LOW"),
        row("03-09 10:00:00", 1, "NEW", sla="gold", priority="NORMAL"),
    ]
    first = clocks(rows, [cycle("03-09 09:00:00", 0)], "03-09 10:00:00")["sla_metrics"][0]
    assert (first["breached_at"], first["remaining_seconds"]) == (iso("03-09 10:00:00"), 0)


def test_unknown_sla_value_raises_with_the_index_of_the_event_that_set_it() -> None:
    rows = [row("03-09 09:00:00", 0, "NEW", sla="gold"), row("03-09 09:10:00", 4, "NEW", sla=9)]
    with pytest.raises(
        EventError, match=r'event 4: sla "9" has no policy \(known: "gold", "office", "silver"\)'
    ):
        clocks(rows, [], "03-09 10:00:00")


def test_business_targets_without_a_calendar_raise() -> None:
    with pytest.raises(SlaPolicyError, match='sla policy "office" has BUSINESS_HOURS targets'):
        clocks(EX7_ROWS, EX7_CYCLES, "03-14 16:00:00", calendar=None)


# --- a brute force of the rules, second by second ----------------------------------------------
#
# The recorder below does what the replay does while it applies events (the hooks), and the
# brute force reads the record by walking every second from creation to as_of, straight from
# the rules: stage per second, elapsed as a count of active seconds, overdue at each instant.

RESOLVED_NAMES = ("COMPLETED", "CLOSED")
STATUS_ACTIVE = {"NEW": True, "OPEN": True, "PENDING": False, "COMPLETED": False,
                 "CLOSED": False, "Hold": False, "Working": True}  # fmt: skip


class Recorder:
    """The replay's hooks: creation, a change of status/priority/sla, customer post, reply."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.cycles: list[list[Any]] = []
        self.deferred = False

    def created(self, at: int, index: int, status: str, priority: Any, sla: Any,
                outbound: bool) -> None:  # fmt: skip
        resolved = status in RESOLVED_NAMES
        self.rows.append([at, index, status, STATUS_ACTIVE[status], resolved, priority, sla])
        if not outbound:
            if resolved:
                self.deferred = True
            else:
                self._open(at)

    def changed(self, at: int, index: int, status: str, priority: Any, sla: Any) -> None:
        was = self.rows[-1][4]
        resolved = status in RESOLVED_NAMES
        if resolved and not was and self._is_open():
            self._complete(at, "resolution")
        self.rows.append([at, index, status, STATUS_ACTIVE[status], resolved, priority, sla])
        if was and not resolved and self.deferred:
            self.deferred = False
            self._open(at)

    def customer_post(self, at: int) -> None:
        if self._is_open():
            return
        if self.rows[-1][4]:
            self.deferred = True
        else:
            self._open(at)

    def agent_reply(self, at: int) -> None:
        if self._is_open():
            self._complete(at, "reply")
        self.deferred = False

    def _is_open(self) -> bool:
        return bool(self.cycles) and self.cycles[-1][2] is None

    def _open(self, at: int) -> None:
        self.cycles.append([at, len(self.rows) - 1, None, None, None])

    def _complete(self, at: int, by: str) -> None:
        self.cycles[-1][2:] = [at, by, len(self.rows) - 1]


def stamp(moment: int | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def brute_force(record: SlaRecord, sla: Any, as_of: int, calendar: Any) -> list[dict[str, Any]]:
    rows, cycles, segments = record
    statuses = sla.statuses

    def row_at(moment: int) -> int:
        return max(i for i, r in enumerate(rows) if r[0] <= moment)

    def active(moment: int) -> bool:
        r = rows[row_at(moment)]
        return bool(statuses.get(r[2], r[3]))

    def target(i: int, kind: str) -> Any:
        policy = sla if isinstance(sla, SlaPolicy) else sla.policy_for(rows[i][6])
        return None if policy is None else policy.target(kind, rows[i][5])

    def calendar_at(moment: int) -> Any:
        if isinstance(calendar, TeamCalendars):
            team = [s[1] for s in segments if s[0] <= moment][-1]
            return calendar.calendar_for(team)
        return calendar

    def open_second(moment: int) -> int:
        if calendar is None:
            return 0
        return int(calendar_at(moment).epoch_business_seconds(moment, moment + 1))

    def clock(kind: str, number: int, start: int, running_after: Any, completed: Any,
              closed: Any, exists: bool) -> dict[str, Any] | None:  # fmt: skip
        if not exists:
            return None
        # used[t] = (calendar, business) active seconds in [start, t), for t in start..as_of
        used = {start: (0, 0)}
        for u in range(start, as_of):
            cal, bus = used[u]
            if running_after(u) and active(u):
                cal, bus = cal + 1, bus + open_second(u)
            used[u + 1] = (cal, bus)

        def stage(moment: int) -> str:
            if moment < start or not running_after(moment):
                return "OFF"
            return "ACTIVE" if active(moment) else "PAUSED"

        breached = None
        for moment in range(start, as_of + 1):
            if running_after(moment):
                g = target(row_at(moment), kind)
                is_active = active(moment)
            elif moment in completed:
                g, is_active = target(completed[moment], kind), False
            else:
                continue
            if g is not None:
                e = used[moment][1 if g.business else 0]
                if e > g.goal_in_seconds or (e == g.goal_in_seconds and is_active):
                    breached = moment
                    break
        pauses = [p for p in range(start, as_of + 1)
                  if stage(p) == "PAUSED" and (p == start or stage(p - 1) != "PAUSED")]  # fmt: skip
        last_paused = pauses[-1] if pauses else None
        done = closed is not None
        if done:
            end_at = closed[0]
            final = target(closed[1], kind)
            paused_before = end_at > start and stage(end_at - 1) == "PAUSED"
            x = last_paused if paused_before else end_at
            shown = "COMPLETED"
        else:
            final = target(len(rows) - 1, kind)
            shown = "ACTIVE" if active(as_of) else "PAUSED"
            x = as_of if shown == "ACTIVE" else last_paused
        assert x is not None
        elapsed = used[x][1 if final is not None and final.business else 0]
        due = None
        if final is not None:
            goal = final.goal_in_seconds
            if elapsed < goal and final.business:
                found = calendar_at(x).add_business_seconds(
                    datetime.fromtimestamp(x, UTC), goal - elapsed
                )
                due = int(found.timestamp())
            elif elapsed < goal:
                due = x + goal - elapsed
            else:
                side = 1 if final.business else 0
                due = min(moment for moment in range(start, x + 1) if used[moment][side] >= goal)
        return {
            "metric_type": kind, "cycle": number, "stage": shown,
            "started_at": stamp(start), "due_at": stamp(due),
            "completed_at": stamp(closed[0]) if done else None,
            "completed_by": (closed[2] if len(closed) > 2 else "resolution") if done else None,
            "last_paused_at": stamp(last_paused), "is_breached": breached is not None,
            "breached_at": stamp(breached), "elapsed_seconds": elapsed,
            "remaining_seconds": None if final is None else final.goal_in_seconds - elapsed,
            "target": None if final is None else final.to_dict(), "resource_type": "sla_metric",
        }  # fmt: skip

    out = []
    for number, c in enumerate(cycles):
        kind = "FIRST_REPLY_TIME" if number == 0 else "NEXT_REPLY_TIME"
        last = len(rows) - 1 if c[2] is None else c[4]
        exists = any(target(i, kind) for i in range(c[1], last + 1))
        end = c[2]
        item = clock(
            kind, max(number, 1), c[0],
            lambda m, s=c[0], e=end: s <= m and (e is None or m < e),
            {} if end is None else {end: c[4]},
            None if end is None else (end, c[4], c[3]),
            exists,
        )  # fmt: skip
        if item is not None:
            out.append(item)
    unresolved = [i for i, r in enumerate(rows) if not r[4]]
    if unresolved:
        completions = {rows[i][0]: i - 1 for i in range(1, len(rows))
                       if rows[i][4] and not rows[i - 1][4]}  # fmt: skip
        closed = None
        if rows[-1][4]:
            closed = (max(completions), completions[max(completions)])
        item = clock(
            "RESOLUTION_TIME", 1, rows[unresolved[0]][0],
            lambda m: not rows[row_at(m)][4],
            completions, closed,
            any(target(i, "RESOLUTION_TIME") for i in unresolved),
        )  # fmt: skip
        if item is not None:
            out.append(item)
    return out


BASE = t("03-09 00:00:00")  # a Monday, UTC
# Open for a few short stretches early on Monday, then for the rest of each day.
SHORT_HOURS = BusinessCalendar.from_dict(
    {
        "timezone": "UTC",
        "week": {
            day: [
                ["00:00:20", "00:01:10"],
                ["00:01:40", "00:03:00"],
                ["00:04:00", "00:04:05"],
                ["00:05:00", "24:00"],
            ]
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    }
)
OTHER_HOURS = BusinessCalendar.from_dict({"timezone": "UTC", "week": {
    day: [["00:00:00", "00:00:30"], ["00:02:30", "00:06:00"], ["00:08:00", "24:00"]]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})  # fmt: skip
PRIORITIES = (None, "URGENT", "NORMAL", 2, "2")
# Goals and steps on a common grid, so that goals often run out exactly at an event.
GOALS = st.sampled_from([1, 5, 10, 15, 20, 30, 45, 60, 120])
SLA_VALUES = (None, "a", "b", "zz")


@st.composite
def policy_sets(draw: st.DrawFn, business: bool) -> SlaPolicies:
    hours = st.sampled_from(
        ["CALENDAR_HOURS", "BUSINESS_HOURS"] if business else ["CALENDAR_HOURS"]
    )
    policies = {}
    for key in ("a", "b"):
        targets = []
        for kind in ("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"):
            for priority in draw(
                st.lists(st.sampled_from([None, "URGENT", 2]), unique=True, max_size=2)
            ):
                targets.append(
                    {
                        "type": kind,
                        "priority": priority,
                        "operational_hours": draw(hours),
                        "goal_in_seconds": draw(GOALS),
                    }
                )
        policies[key] = {"targets": targets}
    unknown = draw(st.sampled_from(["none", "default"]))
    default = "a" if unknown == "default" else draw(st.sampled_from([None, "a", "b"]))
    statuses = draw(st.sampled_from([{}, {"Hold": True}, {"OPEN": False}, {"Working": False}]))
    return SlaPolicies.from_dict({"policies": policies, "default": default, "unknown_sla": unknown,
                                  "statuses": statuses})  # fmt: skip


STEPS = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(sorted(STATUS_ACTIVE))),
    st.tuples(st.just("priority"), st.sampled_from(PRIORITIES)),
    st.tuples(st.just("sla"), st.sampled_from(SLA_VALUES)),
    st.tuples(st.just("customer"), st.none()),
    st.tuples(st.just("agent"), st.none()),
)


@st.composite
def records(draw: st.DrawFn) -> tuple[SlaRecord, int]:
    """A record made by the recorder from a random script, and an as_of after its last event."""
    recorder = Recorder()
    at = BASE + draw(st.integers(0, 30))
    status = draw(st.sampled_from(sorted(STATUS_ACTIVE)))
    priority, sla = draw(st.sampled_from(PRIORITIES)), draw(st.sampled_from(SLA_VALUES))
    recorder.created(at, 0, status, priority, sla, outbound=draw(st.booleans()))
    segments: list[list[Any]] = [[at, draw(st.sampled_from([None, "1"]))]]
    for index, (kind, value) in enumerate(draw(st.lists(STEPS, max_size=12)), start=1):
        at += draw(st.sampled_from([0, 0, 0, 1, 5, 10, 15, 30, 60]))
        if kind == "customer":
            recorder.customer_post(at)
        elif kind == "agent":
            recorder.agent_reply(at)
        else:
            values: dict[str, Any] = {"status": status, "priority": priority, "sla": sla}
            values[kind] = value
            if values[kind] == (status, priority, sla)[("status", "priority", "sla").index(kind)]:
                continue  # not a change
            status, priority, sla = values["status"], values["priority"], values["sla"]
            recorder.changed(at, index, status, priority, sla)
        if draw(st.integers(0, 5)) == 0:
            team = draw(st.sampled_from([None, "1", "2"]))
            if segments[-1][0] == at:
                segments[-1][1] = team
            else:
                segments.append([at, team])
    as_of = at + draw(st.sampled_from([0, 1, 5, 15, 40, 200]))
    return SlaRecord(recorder.rows, recorder.cycles, segments), as_of


@given(records(), policy_sets(business=False))
def test_clocks_agree_with_the_brute_force_in_calendar_hours(
    made: tuple[SlaRecord, int], sla: SlaPolicies
) -> None:
    record, as_of = made
    got = build_sla(record, sla, as_of=as_of, calendar=None).to_dict()
    assert got["sla_metrics"] == brute_force(record, sla, as_of, None)


@given(records(), policy_sets(business=True), st.booleans())
def test_clocks_agree_with_the_brute_force_in_business_hours(
    made: tuple[SlaRecord, int], sla: SlaPolicies, per_team: bool
) -> None:
    record, as_of = made
    calendar: Any = SHORT_HOURS
    if per_team:
        calendar = TeamCalendars(default=SHORT_HOURS, teams={"1": OTHER_HOURS})
    got = build_sla(record, sla, as_of=as_of, calendar=calendar).to_dict()
    assert got["sla_metrics"] == brute_force(record, sla, as_of, calendar)


# The worked examples that span hours, not days (the brute force counts every second).
WORKED = [
    (EX2_ROWS, ex2_cycles("03-09 11:20:00"), "03-09 09:45:00", POLICIES),
    (EX2_ROWS, ex2_cycles("03-09 11:20:00"), "03-09 11:20:00", POLICIES),
    (EX2_ROWS, ex2_cycles("03-09 11:45:00"), "03-09 11:40:00", POLICIES),
    (EX4_ROWS, EX4_CYCLES, "03-10 13:00:00", POLICIES),
    (EX5_ROWS, EX5_CYCLES, "03-11 18:00:00", POLICIES),
    (EX6_ROWS, EX6_CYCLES, "03-12 10:20:00", POLICIES),
    (EX6_ROWS, EX6_CYCLES, "03-12 11:00:00", POLICIES),
    (EX8_ROWS, EX8_CYCLES, "03-16 11:00:00", POLICIES),
    (EX9_ROWS, EX9_CYCLES, "03-17 13:30:00", POLICIES),
    (EX10_ROWS, EX10_CYCLES, "03-18 09:20:00", POLICIES),
]


@pytest.mark.parametrize(("rows", "cycles", "as_of", "sla"), WORKED)
def test_the_brute_force_gives_the_worked_examples(
    rows: list[list[Any]], cycles: list[list[Any]], as_of: str, sla: Any
) -> None:
    # The brute force is only trusted because it reproduces the hand-worked examples too.
    record = cut(rows, cycles, t(as_of))
    assert brute_force(record, sla, t(as_of), C) == clocks(rows, cycles, as_of, sla)["sla_metrics"]
