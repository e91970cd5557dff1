"""What an SLA policy adds to a replay, beside the replay without one and ``json.loads``.

Run: ``python -m benchmarks.bench_sla [--cases 5000] [--repeats 5] [--profile NAME]``.

The synthetic cases (``benchmarks.synth``: ``sla`` values 1, 2, 3 set at creation or later,
priorities changing, pauses in PENDING, reopens) are decoded once; then, in the same run and
on the same events, each configuration is timed (round robin, ``--repeats`` times, the best
CPU time kept):

- ``json.loads`` of every event's line: the floor any reader pays;
- ``compute_metrics`` with the business calendar (Mon–Fri 09:00–17:00 New York, US
  holidays) and no policy;
- the same with a standalone policy of three business-hours targets (first reply, next
  reply, resolution): every case runs three clocks in open hours;
- the same with a policy set keyed 1, 2, 3 as the cases' ``sla`` values (calendar and
  business targets, URGENT targets of their own), so that clocks change goals mid-way;
- the same three-target policy in calendar hours.

It prints µs per event, the ratio to ``json.loads`` and what each policy adds to the
replay without one (the issue's target: at most +50%, goal +25%). No thresholds: the figures
go in the issue notes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

import metrics_engine as me
from benchmarks.synth import generate_cases

CALENDAR = {
    "timezone": "America/New_York",
    "week": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "US"},
}


def _targets(hours: str, first: int, following: int, resolution: int) -> list[dict[str, Any]]:
    return [
        {"type": "FIRST_REPLY_TIME", "goal_in_seconds": first, "operational_hours": hours},
        {"type": "NEXT_REPLY_TIME", "goal_in_seconds": following, "operational_hours": hours},
        {"type": "RESOLUTION_TIME", "goal_in_seconds": resolution, "operational_hours": hours},
    ]


BUSINESS_POLICY = {"title": "Office", "targets": _targets("BUSINESS_HOURS", 4 * 3600, 8 * 3600,
                                                          3 * 8 * 3600)}  # fmt: skip
CALENDAR_POLICY = {"title": "Clock", "targets": _targets("CALENDAR_HOURS", 3600, 4 * 3600,
                                                         2 * 86400)}  # fmt: skip
POLICY_SET = {
    "policies": {
        "1": {"targets": _targets("BUSINESS_HOURS", 8 * 3600, 16 * 3600, 5 * 8 * 3600)},
        "2": {"targets": _targets("CALENDAR_HOURS", 4 * 3600, 8 * 3600, 3 * 86400)},
        "3": {
            "targets": [
                *_targets("BUSINESS_HOURS", 2 * 3600, 4 * 3600, 2 * 8 * 3600),
                {
                    "type": "FIRST_REPLY_TIME",
                    "priority": "URGENT",
                    "goal_in_seconds": 1800,
                    "operational_hours": "CALENDAR_HOURS",
                },
                {
                    "type": "RESOLUTION_TIME",
                    "priority": "URGENT",
                    "goal_in_seconds": 4 * 3600,
                    "operational_hours": "CALENDAR_HOURS",
                },
            ]
        },
    },
    "default": "2",
    "unknown_sla": "default",
}


def measure(cases_count: int, repeats: int, profile: str | None) -> dict[str, Any]:
    cases = list(generate_cases(cases_count, seed=11))
    lines = [[json.dumps(event).encode() for event in case] for case in cases]
    events = sum(len(case) for case in cases)
    calendar = me.BusinessCalendar.from_dict(CALENDAR)
    business = me.SlaPolicy.from_dict(BUSINESS_POLICY)
    wall_clock = me.SlaPolicy.from_dict(CALENDAR_POLICY)
    policy_set = me.SlaPolicies.from_dict(POLICY_SET)
    loads = json.loads
    compute = me.compute_metrics

    def decode() -> None:
        for case in lines:
            for line in case:
                loads(line)

    def replay(sla: me.SlaPolicy | me.SlaPolicies | None) -> Callable[[], None]:
        def run() -> None:
            for case in cases:
                compute(case, calendar=calendar, sla=sla)

        return run

    runs: dict[str, Callable[[], None]] = {
        "json.loads": decode,
        "replay, calendar, no policy": replay(None),
        "replay, 3 business-hours targets": replay(business),
        "replay, policy set by sla value": replay(policy_set),
        "replay, 3 calendar-hours targets": replay(wall_clock),
    }
    replay(business)()  # builds the calendar's years once, as a long batch would
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            start = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - start)

    records = breached = 0
    for case in cases:
        sla = compute(case, calendar=calendar, sla=business).sla
        records += len(sla.metrics)
        breached += sum(sla.breach_count.values())

    if profile is not None:
        chosen = next((name for name in runs if profile in name), None)
        if chosen is None:
            raise SystemExit(f"--profile: expected part of one of {list(runs)}, found {profile!r}")
        print(f"profile of {chosen!r}:", file=sys.stderr)
        profiler = cProfile.Profile()
        profiler.enable()
        runs[chosen]()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)

    return {
        "build": "compiled" if getattr(me, "COMPILED", False) else "pure Python",
        "cases": len(cases),
        "events": events,
        "records": records,
        "breached": breached,
        "seconds": best,
    }


def report(result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    base = seconds["replay, calendar, no policy"]
    print(
        f"{result['cases']} cases, {result['events']} events ({result['build']}); "
        f"{result['records']} records under the business-hours policy, {result['breached']} "
        "breached; CPU time, best of each"
    )
    for name, value in seconds.items():
        micro = value * 1e6 / result["events"]
        ratio = value / seconds["json.loads"]
        added = ""
        if name.startswith("replay, ") and name != "replay, calendar, no policy":
            added = f"  {100 * (value - base) / base:+5.1f}% on the replay"
        print(f"{name:36s} {micro:8.2f} µs/event {ratio:6.2f}× json.loads{added}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", help="profile the configuration whose name contains this")
    args = parser.parse_args(argv)
    report(measure(args.cases, args.repeats, args.profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
