"""Self-checks of the reference SLA clocks, part 2: small cases worked out by hand.

Every expected value is derived in the comments from the SPEC's rules, not read off the
reference's output. Unless stated, cases start on Monday 2026-04-06 (UTC), use the policy set
P of the worked examples, and every run is also checked second by second (``run``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .ref_sla import ref_sla
from .test_ref_sla_selfcheck import (
    BUS,
    CAL,
    EVENTS_1042,
    EXAMPLE_1_JSON,
    C,
    Day,
    P,
    check,
    jl,
    kinds,
    rec,
    run,
)


def run_fast(events: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """``run`` without the second-by-second twin (for spans of days in business hours)."""
    return ref_sla(events, P, calendar=C, **kw)


UTC_OFFICE: dict[str, Any] = {
    "timezone": "UTC",
    "week": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
ALWAYS_UTC: dict[str, Any] = {
    "timezone": "UTC",
    "week": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


D = Day("2026-04-06")


def ev(kind: str, hms: str, actor: Any = None, **extra: Any) -> dict[str, Any]:
    """One event of case 1 on 2026-04-06 (``hms`` may be "MM-DD HH:MM:SS")."""
    md, t = hms.split(" ") if " " in hms else ("04-06", hms)
    out: dict[str, Any] = {"case": 1, "event": kind, "at": f"2026-{md}T{t}Z"}
    if actor is not None:
        role, uid = actor
        out["actor"] = {"id": uid, "role": role}
    out.update(extra)
    return out


CUST = ("customer", 1)
AGENT = ("agent", 5)


def created(hms: str = "09:00:00", actor: Any = CUST, **fields: Any) -> dict[str, Any]:
    return ev("created", hms, actor, fields={"requester": 1, **fields})


def msg(hms: str, actor: Any) -> dict[str, Any]:
    return ev("message", hms, actor)


def upd(hms: str, actor: Any = None, **changes: Any) -> dict[str, Any]:
    return ev("update", hms, actor, changes=changes)


def standalone(*targets: tuple[str, int, str], **extra: Any) -> dict[str, Any]:
    return {
        "targets": [
            {"type": t, "goal_in_seconds": g, "operational_hours": h} for t, g, h in targets
        ],
        **extra,
    }


# =========================================================================== pauses


def test_created_into_pending_starts_paused() -> None:
    # FRT and RT open at 09:00 in PENDING: PAUSED, last_paused_at = started_at. OPEN at 10:00
    # resumes them; the reply at 10:30 completes FRT after 1800 active seconds.
    # FRT: x = completed_at (ACTIVE the second before), due = 10:30 + (3600 - 1800) = 11:00.
    # RT: still ACTIVE, E 1800, due = 10:30 + 84600 = 04-07 10:00.
    events = [
        created(status="PENDING", sla="gold"),
        upd("10:00:00", AGENT, status="OPEN"),
        msg("10:30:00", AGENT),
    ]
    out = run(events)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", started="09:00:00",
          due="11:00:00", completed="10:30:00", by="reply", paused="09:00:00", breached=None,
          E=1800, rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", started="09:00:00",
          due="04-07 10:00:00", paused="09:00:00", breached=None, E=1800, rem=84600)  # fmt: skip


VENDOR = "Waiting on vendor"


def vendor_case(status: dict[str, Any], sla: Any = "gold") -> list[dict[str, Any]]:
    return [
        created(**({"sla": sla} if sla is not None else {})),
        upd("09:10:00", AGENT, status=status),
        upd("09:40:00", AGENT, status="OPEN"),
    ]


def test_custom_status_paused_by_the_policy_statuses_map() -> None:
    # P's statuses map says "Waiting on vendor" is not SLA-active (the object, of type OPEN,
    # carries nothing). Active 09:00-09:10 (600) and 09:40-10:00 (1200): E 1800 at 10:00.
    # FRT due = 10:00 + 1800 = 10:30; RT due = 10:00 + 84600 = 04-07 09:30.
    out = run(vendor_case({"name": VENDOR, "type": "OPEN"}), as_of="2026-04-06T10:00:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="10:30:00", paused="09:10:00",
          breached=None, E=1800, rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="04-07 09:30:00",
          paused="09:10:00", E=1800, rem=84600)  # fmt: skip


def test_custom_status_paused_by_its_own_sla_active() -> None:
    # Same numbers through rule 2: a standalone gold has no map; the object says false.
    gold = P["policies"]["gold"]
    status = {"name": VENDOR, "type": "OPEN", "sla_active": False}
    out = run(vendor_case(status), gold, as_of="2026-04-06T10:00:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="10:30:00", paused="09:10:00",
          E=1800, rem=1800, target=(None, None, 3600, CAL))  # fmt: skip


def test_statuses_map_wins_over_the_status_object() -> None:
    # The map says true, the object false: rule 1 wins, nothing pauses. At 10:00 FRT has used
    # its 3600 s while ACTIVE: overdue at 10:00 (E = goal, ACTIVE), due 10:00, remaining 0.
    gold = {**P["policies"]["gold"], "statuses": {VENDOR: True}}
    status = {"name": VENDOR, "type": "OPEN", "sla_active": False}
    out = run(vendor_case(status), gold, as_of="2026-04-06T10:00:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="10:00:00", paused=None,
          breached="10:00:00", E=3600, rem=0)  # fmt: skip
    assert out["next_breach_at"] == D("04-07 09:00:00")  # RT's, FRT is breached


def test_pending_made_active_by_the_map() -> None:
    # statuses {"PENDING": true}: PENDING at 09:30 pauses nothing; at 10:30 E 5400 > 3600.
    gold = {**P["policies"]["gold"], "statuses": {"PENDING": True}}
    events = [created(), upd("09:30:00", AGENT, status="PENDING")]
    out = run(events, gold, as_of="2026-04-06T10:30:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="10:00:00", paused=None,
          breached="10:00:00", E=5400, rem=-1800)  # fmt: skip


def test_pause_at_the_very_instant_the_goal_runs_out() -> None:
    # FRT goal 600: used up at 09:10, the instant it pauses (PENDING). Paused at its goal it
    # is not overdue (E = goal but not ACTIVE); due = first t with E(t) >= 600 = 09:10.
    # The customer's post and OPEN at 09:30 resume it: ACTIVE with E = goal, overdue at 09:30.
    # Only FRT has a target, so RT has no record.
    pol = standalone(("FIRST_REPLY_TIME", 600, CAL))
    events = [
        created(),
        upd("09:10:00", AGENT, status="PENDING"),
        msg("09:30:00", CUST),
        upd("09:30:00", status="OPEN"),
    ]
    out = run(events, pol, as_of="2026-04-06T09:20:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="PAUSED", due="09:10:00", paused="09:10:00",
          breached=None, E=600, rem=0)  # fmt: skip
    out = run(events, pol)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="09:10:00", paused="09:10:00",
          breached="09:30:00", E=600, rem=0)  # fmt: skip
    assert out["next_breach_at"] is None


def test_goal_lowered_while_paused_to_exactly_e() -> None:
    # NORMAL priority (gold fallback 3600). PENDING at 09:15 with E 900. URGENT at 09:30:
    # goal 900 = E, PAUSED: not overdue. OPEN at 09:50: ACTIVE with E = goal: breached 09:50.
    # due = first t with E(t) >= 900 = 09:15. RT (URGENT 14400): paused at 09:15 with 900 used,
    # due = x + 13500 s: 09:15 -> 13:00 while paused, 09:50 -> 13:35 once resumed.
    events = [
        created(priority="NORMAL", sla="gold"),
        upd("09:15:00", AGENT, status="PENDING"),
        upd("09:30:00", AGENT, priority="URGENT"),
        upd("09:50:00", AGENT, status="OPEN"),
    ]
    out = run(events, as_of="2026-04-06T09:40:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="PAUSED", due="09:15:00", paused="09:15:00",
          breached=None, E=900, rem=0, target=("gold", "URGENT", 900, CAL))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="PAUSED", due="13:00:00", paused="09:15:00",
          breached=None, E=900, rem=13500)  # fmt: skip
    out = run(events)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="ACTIVE", due="09:15:00",
          breached="09:50:00", E=900, rem=0)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="13:35:00", E=900, rem=13500)


def test_goal_lowered_below_e_while_paused_breaches_at_the_change() -> None:
    # PENDING at 09:20 (E 1200); URGENT at 09:30: E 1200 > 900, overdue though PAUSED.
    events = [
        created(priority="NORMAL", sla="gold"),
        upd("09:20:00", AGENT, status="PENDING"),
        upd("09:30:00", AGENT, priority="URGENT"),
    ]
    out = run(events, as_of="2026-04-06T09:45:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="PAUSED", due="09:15:00", paused="09:20:00",
          breached="09:30:00", E=1200, rem=-300)  # fmt: skip


def test_completed_while_paused_reads_at_last_paused_at() -> None:
    # PENDING at 09:30 (E 1800), resolved at 10:30 while still PENDING: the clocks were PAUSED
    # the second before completed_at, so x = last_paused_at = 09:30: FRT due 09:30 + 1800 =
    # 10:00 (not 11:00), RT due 09:30 + 84600 = 04-07 09:00.
    events = [created(sla="gold"), upd("09:30:00", AGENT, status="PENDING"), upd("10:30:00", AGENT, status="COMPLETED")]  # fmt: skip
    out = run(events)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", due="10:00:00",
          completed="10:30:00", by="resolution", paused="09:30:00", breached=None, E=1800,
          rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="COMPLETED", due="04-07 09:00:00",
          completed="10:30:00", paused="09:30:00", E=1800, rem=84600)  # fmt: skip


def test_the_completing_events_own_changes_do_not_count() -> None:
    # One update resolves the case and raises the priority to URGENT: both clocks complete
    # under the NORMAL (fallback) targets in force before it. FRT: 1800 of 3600, not the
    # URGENT 900 (which would be a breach).
    events = [created(priority="NORMAL", sla="gold"), upd("09:30:00", AGENT, status="COMPLETED", priority="URGENT")]  # fmt: skip
    out = run(events)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", due="10:00:00", breached=None,
          E=1800, rem=1800, target=("gold", None, 3600, CAL))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="COMPLETED", due="04-07 09:00:00",
          E=1800, rem=84600, target=("gold", None, 86400, CAL))  # fmt: skip


# =========================================================================== opening and cycles


def test_creation_into_completed_defers_everything_to_the_reopen() -> None:
    # The customer's opening post leaves the case COMPLETED: FRT is deferred, RT not started.
    # Before the reopen there is no clock at all. The reopen at 10:00 starts both; the reply
    # at 10:20 completes FRT after 1200 s: due 10:00 + 3600 = 11:00. RT due 10:20 + 85200.
    events = [created(status="COMPLETED", sla="gold"), upd("10:00:00", status="OPEN"), msg("10:20:00", AGENT)]  # fmt: skip
    out = run(events, as_of="2026-04-06T09:30:00Z")
    assert out["sla_metrics"] == []
    out = run(events)
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", started="10:00:00",
          due="11:00:00", completed="10:20:00", by="reply", E=1200, rem=2400)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", started="10:00:00",
          due="04-07 10:00:00", E=1200, rem=85200)  # fmt: skip


def test_deferred_cycle_cancelled_by_an_agent_reply_before_the_reopen() -> None:
    # Reply 09:05 (FRT 300 s). Resolved 09:10. The customer's 09:30 post on the COMPLETED
    # case defers an NRT cycle; the agent's 09:40 reply cancels it; the 10:00 reopen opens
    # nothing. RT: 600 s before the resolution + 1800 s since the reopen = 2400 at 10:30;
    # due 10:30 + 84000 s = 04-07 09:50; completed_at back to null.
    events = [
        created(sla="gold"),
        msg("09:05:00", AGENT),
        upd("09:10:00", AGENT, status="COMPLETED"),
        msg("09:30:00", CUST),
        msg("09:40:00", AGENT),
        upd("10:00:00", status="OPEN"),
    ]
    out = run(events, as_of="2026-04-06T10:30:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", due="10:00:00",
          completed="09:05:00", by="reply", E=300, rem=3300)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", started="09:00:00",
          due="04-07 09:50:00", completed=None, by=None, paused=None, E=2400,
          rem=84000)  # fmt: skip


def test_outbound_case_without_a_customer_post_has_only_resolution_time() -> None:
    out = run([created(actor=AGENT, sla="gold")], as_of="2026-04-06T10:00:00Z")
    assert kinds(out) == [("RESOLUTION_TIME", 1)]
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="04-07 09:00:00", E=3600,
          rem=82800)  # fmt: skip


def test_agent_opening_with_a_note_or_nothing_is_not_outbound() -> None:
    # FRT opens at created_at; the agent's first public message (09:20) completes it.
    for opening in ("none", "note"):
        first = created(actor=AGENT, sla="gold")
        first["opening"] = opening
        out = run([first, msg("09:20:00", AGENT)])
        check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", started="09:00:00",
              due="10:00:00", completed="09:20:00", by="reply", E=1200, rem=2400)  # fmt: skip


def test_completed_to_closed_changes_nothing() -> None:
    # The 09:30 resolution completes FRT (by resolution) and RT; CLOSED at 10:00 is neither a
    # resolution nor a reopen.
    events = [created(sla="gold"), upd("09:30:00", AGENT, status="COMPLETED"), upd("10:00:00", AGENT, status="CLOSED")]  # fmt: skip
    out = run(events, as_of="2026-04-06T10:30:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", due="10:00:00",
          completed="09:30:00", by="resolution", E=1800, rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="COMPLETED", due="04-07 09:00:00",
          completed="09:30:00", by="resolution", E=1800, rem=84600)  # fmt: skip


def test_resolution_and_reopen_in_one_second() -> None:
    # Instants are atomic: RT is running after 09:30, never paused, never completed; FRT was
    # completed by the resolution step (1800 s). Nothing was deferred, so no NRT.
    events = [created(sla="gold"), upd("09:30:00", AGENT, status="COMPLETED"), upd("09:30:00", status="OPEN")]  # fmt: skip
    out = run(events, as_of="2026-04-06T10:00:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D, stage="COMPLETED", completed="09:30:00",
          by="resolution", E=1800, rem=1800)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", completed=None, by=None,
          paused=None, due="04-07 09:00:00", E=3600, rem=82800)  # fmt: skip


def test_reopen_on_customer_message() -> None:
    # With the rule, the customer's 10:00 post on the COMPLETED case reopens it at 10:00:
    # NRT 1 opens then (1800 s at 10:30, due 12:00); RT: 1200 + 1800 = 3000, due 10:30 +
    # 83400 s = 04-07 09:40. Without the rule: no NRT, RT stays completed at 09:20 (1200).
    events = [
        created(sla="gold"),
        msg("09:10:00", AGENT),
        upd("09:20:00", AGENT, status="COMPLETED"),
        msg("10:00:00", CUST),
    ]
    out = run(events, as_of="2026-04-06T10:30:00Z", rules={"reopen_on_customer_message": True})
    check(rec(out, "NEXT_REPLY_TIME"), D, stage="ACTIVE", started="10:00:00", due="12:00:00",
          E=1800, rem=5400)  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="04-07 09:40:00", E=3000,
          rem=83400)  # fmt: skip
    out = run(events, as_of="2026-04-06T10:30:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    check(rec(out, "RESOLUTION_TIME"), D, stage="COMPLETED", completed="09:20:00",
          due="04-07 09:00:00", E=1200, rem=85200)  # fmt: skip


# =========================================================================== policies over time


def test_policy_after_completion_gives_no_record_and_no_policy_no_records() -> None:
    # sla null (no default): FRT completes at 09:10 with no policy ever -> no record.
    # silver from 09:20 gives RT a target: 1800 s at 09:30, due 10:00.
    events = [created(), msg("09:10:00", AGENT), upd("09:20:00", AGENT, sla="silver")]
    out = run(events, as_of="2026-04-06T09:30:00Z")
    assert kinds(out) == [("RESOLUTION_TIME", 1)]
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="10:00:00", E=1800, rem=1800,
          target=("silver", None, 3600, CAL))  # fmt: skip
    # gold (which has an FRT target) arriving after the reply: still no FRT record.
    events[2] = upd("09:20:00", AGENT, sla="gold")
    out = run(events, as_of="2026-04-06T09:30:00Z")
    assert kinds(out) == [("RESOLUTION_TIME", 1)]
    out = run([created()], as_of="2026-04-06T10:00:00Z")
    assert out == {
        "sla_metrics": [],
        "breach_count": {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0},
        "next_breach_at": None,
    }


def test_unknown_sla_none_and_default() -> None:
    events = [created(sla="zzz")]
    none_pol = {**P, "unknown_sla": "none"}
    assert run(events, none_pol, as_of="2026-04-06T09:30:00Z")["sla_metrics"] == []
    # "default" with default silver: silver is in force; its key is reported.
    dflt = {**P, "unknown_sla": "default", "default": "silver"}
    out = run(events, dflt, as_of="2026-04-06T09:30:00Z")
    assert kinds(out) == [("RESOLUTION_TIME", 1)]
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="10:00:00", E=1800, rem=1800,
          target=("silver", None, 3600, CAL))  # fmt: skip


def test_integer_sla_and_priority_values_match_keys_by_text() -> None:
    # Keys "7" and priority 2 in the policy; the case says sla 7 and priority "2".
    pol = {
        "policies": {
            "7": {
                "targets": [
                    {"type": "RESOLUTION_TIME", "priority": 2, "goal_in_seconds": 600, "operational_hours": "calendar_hours"},
                    {"type": "resolution_time", "goal_in_seconds": 6000, "operational_hours": "CALENDAR_HOURS"},
                ]
            }
        }
    }  # fmt: skip
    out = run([created(sla=7, priority="2")], pol, as_of="2026-04-06T09:05:00Z")
    check(rec(out, "RESOLUTION_TIME"), D, stage="ACTIVE", due="09:10:00", E=300, rem=300,
          target=("7", 2, 600, CAL))  # fmt: skip


def test_switch_from_calendar_to_business_hours_remeasures_from_the_start() -> None:
    # Monday 2026-03-16 (EDT, C open 13:00-21:00 UTC). gold 09:00-15:00 UTC, then office.
    # Under gold FRT used 3600 s at 10:00 while ACTIVE: breached 10:00, and it stays breached.
    # At 16:00 under office, E counts business seconds since 09:00: 13:00-16:00 = 10800;
    # remaining 3600, due 17:00. RT: 10800 of 57600 business: the 46800 left run 5 h on
    # Monday (to 21:00) and the full 8 h of Tuesday: due 03-17 21:00.
    d = Day("2026-03-16")
    events = [
        {"case": 1, "event": "created", "at": "2026-03-16T09:00:00Z", "actor": {"id": 1, "role": "customer"}, "fields": {"sla": "gold"}},
        {"case": 1, "event": "update", "at": "2026-03-16T15:00:00Z", "actor": {"id": 5, "role": "agent"}, "changes": {"sla": "office"}},
    ]  # fmt: skip
    out = run(events, as_of="2026-03-16T16:00:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), d, stage="ACTIVE", due="17:00:00", breached="10:00:00",
          E=10800, rem=3600, target=("office", None, 14400, BUS))  # fmt: skip
    check(rec(out, "RESOLUTION_TIME"), d, stage="ACTIVE", due="03-17 21:00:00", breached=None,
          E=10800, rem=46800)  # fmt: skip
    assert out["next_breach_at"] == d("03-17 21:00:00")


# =========================================================================== business hours


def test_business_clock_overdue_while_the_office_is_closed() -> None:
    # office, calendar C. Created Friday 2026-03-13 16:00 EDT: Friday gives 3600 business s.
    # Saturday noon: due = 3 more business hours = Monday 12:00 EDT (16:00 UTC).
    # Monday 12:00 EDT: E = 3600 + 10800 = 14400 = goal while ACTIVE -> breached then, due
    # then, remaining 0. At 13:00 EDT: 18000, remaining -3600.
    d = Day("2026-03-13")
    events = [
        {"case": 1, "event": "created", "at": "2026-03-13T16:00:00-04:00", "actor": {"id": 1, "role": "customer"}, "fields": {"sla": "office"}},
    ]  # fmt: skip
    out = run(events, as_of="2026-03-14T12:00:00-04:00")
    check(rec(out, "FIRST_REPLY_TIME"), d, stage="ACTIVE", due="03-16 16:00:00", breached=None,
          E=3600, rem=10800)  # fmt: skip
    out = run(events, as_of="2026-03-16T12:00:00-04:00")
    check(rec(out, "FIRST_REPLY_TIME"), d, stage="ACTIVE", due="03-16 16:00:00",
          breached="03-16 16:00:00", E=14400, rem=0)  # fmt: skip
    # RT: 43200 left from Monday 12:00 EDT: 5 h Monday, 7 h Tuesday -> Tuesday 16:00 EDT
    check(rec(out, "RESOLUTION_TIME"), d, stage="ACTIVE", due="03-17 20:00:00", E=14400,
          rem=43200)  # fmt: skip
    out = run_fast(events, as_of="2026-03-16T13:00:00-04:00")
    check(rec(out, "FIRST_REPLY_TIME"), d, stage="ACTIVE", due="03-16 16:00:00",
          breached="03-16 16:00:00", E=18000, rem=-3600)  # fmt: skip


def test_team_calendars_measure_each_piece_with_its_team() -> None:
    # Default: Mon-Fri 09-17 UTC; team 7 (text of the integer team in the events): always open.
    # Monday 2026-03-02: created 16:00 (no team): 16-17 open = 3600; team 7 from 18:00 to
    # Tuesday 02:00: 8 h = 28800; default again: Tuesday 09:00-09:30 = 1800 -> 34200.
    # Tuesday 09:30: due = 1800 business s later with the team then (default) = 10:00.
    # Tuesday 01:00 (team 7 assigned): E = 3600 + 25200 = 28800; due with team 7, "as if it
    # stayed assigned": 01:00 + 7200 = 03:00. Tuesday 10:00: E = goal, ACTIVE -> breached.
    d = Day("2026-03-02")
    cal = {"default": UTC_OFFICE, "teams": {"7": ALWAYS_UTC}}
    pol = standalone(("RESOLUTION_TIME", 36000, BUS))
    events = [
        {"case": 1, "event": "created", "at": "2026-03-02T16:00:00Z", "actor": {"id": 1, "role": "customer"}},
        {"case": 1, "event": "update", "at": "2026-03-02T18:00:00Z", "actor": {"id": 5, "role": "agent"}, "changes": {"team": 7}},
        {"case": 1, "event": "update", "at": "2026-03-03T02:00:00Z", "actor": {"id": 5, "role": "agent"}, "changes": {"team": None}},
    ]  # fmt: skip
    out = run(events, pol, calendar=cal, as_of="2026-03-03T09:30:00Z")
    assert kinds(out) == [("RESOLUTION_TIME", 1)]
    check(rec(out, "RESOLUTION_TIME"), d, stage="ACTIVE", due="03-03 10:00:00", breached=None,
          E=34200, rem=1800, target=(None, None, 36000, BUS))  # fmt: skip
    out = run(events[:2], pol, calendar=cal, as_of="2026-03-03T01:00:00Z")
    check(rec(out, "RESOLUTION_TIME"), d, stage="ACTIVE", due="03-03 03:00:00", E=28800,
          rem=7200)  # fmt: skip
    out = run(events, pol, calendar=cal, as_of="2026-03-03T10:00:00Z")
    check(rec(out, "RESOLUTION_TIME"), d, stage="ACTIVE", due="03-03 10:00:00",
          breached="03-03 10:00:00", E=36000, rem=0)  # fmt: skip


# =========================================================================== output


def test_timezone_option_and_standalone_ignores_sla_values() -> None:
    # Example 1 in New York time: 14:15 UTC is 09:15 EST. A standalone policy ignores the
    # case's sla value, even one no policy set would know.
    events = jl(EVENTS_1042)
    events[0]["fields"]["sla"] = "no such policy"
    out = run(events, P["policies"]["gold"], timezone="America/New_York")
    frt = rec(out, "FIRST_REPLY_TIME")
    assert frt["started_at"] == "2026-03-02T09:15:00-05:00"
    assert frt["completed_at"] == "2026-03-02T10:02:10-05:00"
    utc = json.loads(EXAMPLE_1_JSON)
    assert [r["elapsed_seconds"] for r in out["sla_metrics"]] == [2830, 5400, 8310]
    assert len(out["sla_metrics"]) == len(utc["sla_metrics"])


def test_copy_of_p_is_untouched() -> None:
    before = copy.deepcopy(P)
    run([created(sla="gold")], as_of="2026-04-06T09:10:00Z")
    assert before == P
