"""Self-checks of the reference SLA clocks, part 4: the piecewise measurement equals the
second-by-second one on seeded random short cases, and the output keeps the contract's
invariants. Cases last minutes, with goals of minutes, so breaches, pauses, goal changes,
team changes and closed office minutes all happen."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .ref_sla import ref_sla

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CALENDARS: dict[str, Any] = {
    # the default calendar opens and closes a few times in the first hour (UTC)
    "default": {
        "timezone": "UTC",
        "week": {"mon": [["09:02", "09:07"], ["09:09:30", "09:20"], ["09:25", "09:40"]]},
    },
    "teams": {
        "7": {"timezone": "UTC", "week": {"mon": [["00:00", "24:00"]]}},
        "8": {"timezone": "UTC", "week": {"mon": [["09:05", "09:30"]]}},
    },
}
STATUSES: list[Any] = [
    "NEW",
    "OPEN",
    "PENDING",
    "COMPLETED",
    "CLOSED",
    {"name": "Vendor", "type": "OPEN", "sla_active": False},
    {"name": "Paused", "type": "OPEN"},  # not SLA-active through the statuses map
]


def random_policy(rng: random.Random) -> dict[str, Any]:
    def targets() -> list[dict[str, Any]]:
        out = []
        for ctype in ("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"):
            for prio in (None, "URGENT"):
                if rng.random() < 0.7:
                    out.append(
                        {
                            "type": ctype,
                            "priority": prio,
                            "goal_in_seconds": rng.randint(30, 600),
                            "operational_hours": rng.choice(["CALENDAR_HOURS", "BUSINESS_HOURS"]),
                        }
                    )
        return out

    return {
        "policies": {"a": {"targets": targets()}, "b": {"targets": targets()}},
        "default": rng.choice([None, "a"]),
        "unknown_sla": "none",
        "statuses": {"Paused": False},
    }


def random_events(rng: random.Random) -> list[dict[str, Any]]:
    t = START

    def at() -> str:
        return t.isoformat()

    creator = rng.choice([{"id": 1, "role": "customer"}, {"id": 5, "role": "agent"}, None])
    fields: dict[str, Any] = {
        "requester": 1,
        "status": rng.choice(["NEW", "NEW", "OPEN", "OPEN", "PENDING", "COMPLETED", STATUSES[5]]),
        "sla": rng.choice(["a", "a", "b", "b", None, "zzz"]),
        "priority": rng.choice([None, "URGENT", "NORMAL"]),
        "team": rng.choice([None, 7, 8]),
    }
    events: list[dict[str, Any]] = [
        {"case": 1, "event": "created", "at": at(), "actor": creator, "fields": fields,
         "opening": rng.choice(["message", "message", "note", "none"])}
    ]  # fmt: skip
    for _ in range(rng.randint(3, 14)):
        t += timedelta(seconds=rng.choice([0, 0, 30, 60, 120, 300, 600]))
        kind = rng.random()
        if kind < 0.3:
            events.append({"case": 1, "event": "message", "at": at(), "actor": {"id": rng.choice([1, 2]), "role": "customer"}})  # fmt: skip
        elif kind < 0.5:
            events.append({"case": 1, "event": "message", "at": at(), "actor": {"id": 5, "role": "agent"}, "public": rng.random() < 0.85})  # fmt: skip
        else:
            field = rng.choice(["status", "status", "status", "priority", "sla", "team"])
            choices: dict[str, list[Any]] = {
                "status": [*STATUSES, "OPEN", "OPEN"],
                "priority": [None, "URGENT", "NORMAL"],
                "sla": ["a", "b", "b", None, "zzz"],
                "team": [None, 7, 8],
            }
            value = rng.choice(choices[field])
            events.append({"case": 1, "event": "update", "at": at(), "changes": {field: value}})
    return events


def iso_seconds(text: str | None) -> int | None:
    return None if text is None else int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize("seed", range(200))
def test_pieces_equal_seconds_and_invariants(seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng)
    policy = random_policy(rng)
    last = datetime.fromisoformat(events[-1]["at"])
    as_of = (last + timedelta(seconds=rng.choice([0, 0, 45, 400]))).isoformat()
    rules = {"reopen_on_customer_message": rng.random() < 0.3}
    kw: dict[str, Any] = {"calendar": CALENDARS, "as_of": as_of, "rules": rules}
    out = ref_sla(events, policy, **kw)
    assert ref_sla(events, policy, per_second=True, **kw) == out

    as_of_s = iso_seconds(as_of)
    assert as_of_s is not None
    counts = {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0}
    for r in out["sla_metrics"]:
        started = iso_seconds(r["started_at"])
        assert started is not None and started <= as_of_s
        assert 0 <= r["elapsed_seconds"] <= as_of_s - started
        assert (r["stage"] == "COMPLETED") == (r["completed_at"] is not None)
        assert (r["completed_by"] is None) == (r["completed_at"] is None)
        assert r["is_breached"] == (r["breached_at"] is not None)
        if r["breached_at"] is not None:
            breached = iso_seconds(r["breached_at"])
            assert breached is not None and started < breached <= as_of_s
            counts[r["metric_type"]] += 1
        if r["target"] is None:
            assert r["remaining_seconds"] is None and r["due_at"] is None
        else:
            assert r["remaining_seconds"] == r["target"]["goal_in_seconds"] - r["elapsed_seconds"]
            if r["remaining_seconds"] < 0:
                assert r["is_breached"]
        if r["last_paused_at"] is not None:
            paused = iso_seconds(r["last_paused_at"])
            assert paused is not None and started <= paused <= as_of_s
        if r["stage"] == "PAUSED":
            assert r["last_paused_at"] is not None
    assert out["breach_count"] == counts
    dues = [
        r["due_at"]
        for r in out["sla_metrics"]
        if r["stage"] == "ACTIVE" and not r["is_breached"] and r["due_at"] is not None
    ]
    assert out["next_breach_at"] == (min(dues, key=lambda d: iso_seconds(d) or 0) if dues else None)
    order = [(r["metric_type"], r["cycle"]) for r in out["sla_metrics"]]
    assert order == sorted(
        order,
        key=lambda k: (
            ["FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"].index(k[0]),
            k[1],
        ),
    )
