"""Benchmark of BusinessCalendar.business_seconds against the slow reference.

Run from the repository root: ``python -m benchmarks.bench_calendar``. It prints the median
time per call for spans of one hour, day, month, year and ten years (US federal holidays,
America/New_York, Mon–Fri 09:00–17:00), the ratios 10 y / 1 h and reference / ours, the time
to build one calendar year, and the time per call when several threads share one calendar
(built years are read without a lock). It asserts nothing about timing: numbers depend on the
machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics_engine import BusinessCalendar

try:
    from tests.reference.ref_calendar import RefCalendar
except ImportError:  # the reference lives in the test tree; a wheel install has none
    RefCalendar = None  # type: ignore[assignment,misc]

CALENDAR = {
    "timezone": "America/New_York",
    "week": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "US"},
}
NEW_YORK = ZoneInfo("America/New_York")
SPANS = {
    "1 hour": timedelta(hours=1),
    "1 day": timedelta(days=1),
    "1 month": timedelta(days=30),
    "1 year": timedelta(days=365),
    "10 years": timedelta(days=3652),
}
# Different start instants through 2026, at odd minutes, so that lookups land everywhere.
STARTS = [
    datetime(2026, 1, 1, 0, 7, tzinfo=NEW_YORK) + timedelta(hours=37 * i, minutes=13 * i)
    for i in range(200)
]


def median_microseconds_per_call(call: Callable[[], object], calls: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time of ``calls`` calls, in microseconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(calls):
            call()
        samples.append((time.perf_counter_ns() - started) / calls / 1000)
    return statistics.median(samples)


def time_ours(calendar: BusinessCalendar, span: timedelta) -> float:
    pairs = [(start, start + span) for start in STARTS]
    for start, end in pairs:  # build the years first: the steady state is what is timed
        calendar.business_seconds(start, end)

    def run() -> None:
        for start, end in pairs:
            calendar.business_seconds(start, end)

    return median_microseconds_per_call(run, calls=50, rounds=21) / len(pairs)


def time_epoch_path(calendar: BusinessCalendar, span: timedelta) -> float:
    pairs = [(int(start.timestamp()), int((start + span).timestamp())) for start in STARTS]

    def run() -> None:
        for start, end in pairs:
            calendar.epoch_business_seconds(start, end)

    return median_microseconds_per_call(run, calls=50, rounds=21) / len(pairs)


def time_reference(span: timedelta) -> float:
    reference = RefCalendar(CALENDAR)
    start = STARTS[0]
    reference.business_seconds(start, start + span)  # let it warm any cache it keeps
    budget_calls = 200 if span <= timedelta(days=1) else 20 if span <= timedelta(days=30) else 3
    return median_microseconds_per_call(
        lambda: reference.business_seconds(start, start + span), calls=budget_calls, rounds=5
    )


def year_build_milliseconds() -> tuple[float, float]:
    """Median time to build one calendar year on a fresh calendar, and the same per year of a
    ten-year build; each calendar is constructed (and validated) outside the timing."""
    single = []
    for year in range(2030, 2045):
        calendar = BusinessCalendar.from_dict(CALENDAR)
        midyear = datetime(year, 7, 1, tzinfo=NEW_YORK)
        started = time.perf_counter_ns()
        calendar.business_seconds(midyear, midyear + timedelta(hours=1))  # builds only `year`
        single.append((time.perf_counter_ns() - started) / 1e6)
    decade = []
    for first_year in range(2050, 2110, 10):
        calendar = BusinessCalendar.from_dict(CALENDAR)
        start = datetime(first_year, 1, 5, tzinfo=NEW_YORK)
        started = time.perf_counter_ns()
        calendar.business_seconds(start, datetime(first_year + 9, 12, 25, tzinfo=NEW_YORK))
        decade.append((time.perf_counter_ns() - started) / 1e6 / 10)
    return statistics.median(single), statistics.median(decade)


def shared_microseconds_per_call(calendar: BusinessCalendar, threads: int) -> float:
    """Wall time per call, over all threads, when ``threads`` threads share one warm calendar."""
    pairs = [
        (int(start.timestamp()), int((start + SPANS["1 month"]).timestamp())) for start in STARTS
    ]
    calls_per_thread = 10_000

    def work() -> None:
        for _ in range(calls_per_thread // len(pairs)):
            for start, end in pairs:
                calendar.epoch_business_seconds(start, end)

    samples = []
    for _ in range(5):
        workers = [threading.Thread(target=work) for _ in range(threads)]
        started = time.perf_counter_ns()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        samples.append((time.perf_counter_ns() - started) / 1000 / (threads * calls_per_thread))
    return statistics.median(samples)


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print("calendar: America/New_York, Mon–Fri 09:00–17:00, US federal holidays\n")
    calendar = BusinessCalendar.from_dict(CALENDAR)
    ours = {name: time_ours(calendar, span) for name, span in SPANS.items()}
    epoch = {name: time_epoch_path(calendar, span) for name, span in SPANS.items()}
    reference = (
        {name: time_reference(span) for name, span in SPANS.items()}
        if RefCalendar is not None
        else {}
    )

    print(f"{'span':<10}{'ours µs':>10}{'epoch µs':>10}{'reference µs':>15}{'ref / ours':>12}")
    for name in SPANS:
        ref_text = (
            f"{reference[name]:>15.1f}{reference[name] / ours[name]:>12.0f}" if reference else ""
        )
        print(f"{name:<10}{ours[name]:>10.2f}{epoch[name]:>10.2f}{ref_text}")
    print(f"\nratio 10 years / 1 hour (ours): {ours['10 years'] / ours['1 hour']:.2f}")
    single, per_year_of_decade = year_build_milliseconds()
    print(f"build one calendar year (fresh calendar, first query): {single:.2f} ms")
    print(f"build ten years at once, per year: {per_year_of_decade:.2f} ms")
    shared = {threads: shared_microseconds_per_call(calendar, threads) for threads in (1, 4)}
    print(
        f"epoch path, 1 month, µs per call over all threads: 1 thread {shared[1]:.2f}, "
        f"4 threads sharing one calendar {shared[4]:.2f}"
    )


if __name__ == "__main__":
    main()
