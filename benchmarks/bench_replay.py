"""Replay speed: parsed dicts in, metrics out, beside ``json.loads`` of the same events.

Run: ``python -m benchmarks.bench_replay [--cases 10000] [--profile]``.

Both figures are measured in the same run on the same events: the JSON Lines text of every
event is decoded with ``json.loads`` (the floor any batch pays), and the decoded dicts are
replayed case by case with ``compute_metrics`` (without a calendar, then with the example
business calendar and US holidays). It prints µs per event, events per second, the ratio to
``json.loads``, peak memory of one replay, and the size of a saved state. No thresholds:
the figures go in the issue notes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import time
import tracemalloc
from collections.abc import Callable

import metrics_engine as me
from benchmarks.synth import generate_cases

# Mon–Fri 09:00–17:00 in New York with US federal holidays: the benchmark calendar.
CALENDAR = {
    "timezone": "America/New_York",
    "week": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "US"},
}


def _best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args(argv)

    cases = list(generate_cases(args.cases, seed=7))
    lines = [[json.dumps(event) for event in case] for case in cases]
    events = sum(len(case) for case in cases)
    size = sum(len(line) + 1 for case in lines for line in case)
    print(f"{args.cases} cases, {events} events, {size / events:.0f} bytes per line")

    def decode() -> None:
        loads = json.loads
        for case in lines:
            for line in case:
                loads(line)

    calendar = me.BusinessCalendar.from_dict(CALENDAR)

    def replay(cal: me.BusinessCalendar | None) -> Callable[[], None]:
        def run() -> None:
            compute = me.compute_metrics
            for case in cases:
                compute(case, calendar=cal)

        return run

    replay(calendar)()  # builds the calendar's years once, as a long batch would
    t_json = _best_of(args.repeats, decode)
    t_plain = _best_of(args.repeats, replay(None))
    t_cal = _best_of(args.repeats, replay(calendar))
    t_dict = (
        _best_of(
            args.repeats,
            lambda: [me.compute_metrics(case).to_dict() for case in cases[: len(cases) // 10]],
        )
        * 10
    )

    def row(name: str, seconds: float) -> None:
        print(
            f"{name:34s} {seconds * 1e6 / events:6.2f} µs/event  "
            f"{events / seconds:>10,.0f} events/s  {seconds / t_json:5.2f}× json.loads"
        )

    row("json.loads", t_json)
    row("compute_metrics, no calendar", t_plain)
    row("compute_metrics, calendar+holidays", t_cal)
    row("compute_metrics + to_dict", t_dict)

    biggest = max(cases, key=len)
    tracemalloc.start()
    me.compute_metrics(biggest, calendar=calendar)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory replaying the largest case ({len(biggest)} events): {peak / 1024:.0f} KiB")

    sizes = []
    for case in cases[:1000]:
        replay_ = me.CaseReplay(calendar=calendar)
        for event in case:
            replay_.apply(event)
        sizes.append(len(json.dumps(replay_.to_state(), separators=(",", ":"))))
    print(
        f"saved state: median {statistics.median(sizes):.0f} bytes, "
        f"max {max(sizes)} bytes (first 1000 cases)"
    )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        replay(calendar)()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
