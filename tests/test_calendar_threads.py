"""One BusinessCalendar shared by many threads answers exactly as it does in one thread.

A calendar builds its years lazily, on the query that first reaches them, and the holidays
package computes its years lazily too; both happen while other threads read. Sixteen threads
each ask the same 10,000 questions, each thread in its own order, so that builds of different
years overlap with reads, and every answer is compared with the answer of a fresh calendar used
by one thread alone. The interpreter switches threads every microsecond during the run (the
default is every 5 ms), so that a thread is interrupted inside a build as often as possible.

The expected answers come from the same class used single-threaded; what this test checks is
only that sharing changes nothing (the single-threaded answers are checked by hand in
test_calendar.py and against the reference in test_calendar_differential.py).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from metrics_engine._calendar import BusinessCalendar

THREADS = 16
QUERIES_PER_THREAD = 10_000

CALENDAR = {
    "timezone": "America/New_York",
    "week": {
        **{day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        # Overnight: Saturday's interval ends on Sunday, so years touch across New Year.
        "sat": [["22:00", "02:00"]],
    },
    "dates": {"2021-12-24": [["10:00", "12:00"]]},
    "holidays": {"country": "US"},
}

# The queries reach every year from 2000 to 2040; the warm calendar has built 2015 to 2024.
FIRST = datetime(2000, 1, 1, tzinfo=UTC)
LAST = datetime(2040, 1, 1, tzinfo=UTC)
WARM_FROM = datetime(2015, 1, 1, tzinfo=UTC)
WARM_UNTIL = datetime(2024, 12, 31, tzinfo=UTC)

# (kind, start, end or n): kind 0 is business_seconds on datetimes, 1 is
# epoch_business_seconds, 2 is add_business_seconds(start, n).
Query = tuple[int, datetime, datetime | int]
Answer = int | datetime


def make_queries(count: int, seed: int) -> list[Query]:
    rng = random.Random(seed)
    span_seconds = int((LAST - FIRST).total_seconds())
    queries: list[Query] = []
    for _ in range(count):
        start = FIRST + timedelta(seconds=rng.randrange(span_seconds))
        kind = rng.randrange(3)
        if kind == 2:
            queries.append((kind, start, rng.randrange(0, 30 * 8 * 3600)))
        else:
            # Mostly short spans; some over a year boundary; some backwards (negative answers).
            length = rng.choice((3600, 86_400, 40 * 86_400, 400 * 86_400))
            end = start + timedelta(seconds=rng.randrange(-length // 4, length))
            queries.append((kind, start, end))
    return queries


def answer(calendar: BusinessCalendar, query: Query) -> Answer:
    kind, start, other = query
    if kind == 2:
        assert isinstance(other, int)
        return calendar.add_business_seconds(start, other)
    assert isinstance(other, datetime)
    if kind == 1:
        return calendar.epoch_business_seconds(int(start.timestamp()), int(other.timestamp()))
    return calendar.business_seconds(start, other)


QUERIES = make_queries(QUERIES_PER_THREAD, seed=15)


@pytest.fixture(scope="module")
def expected() -> list[Answer]:
    calendar = BusinessCalendar.from_dict(CALENDAR)
    return [answer(calendar, query) for query in QUERIES]


@pytest.fixture
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_threads(calendar: BusinessCalendar, expected: Sequence[Answer]) -> list[str]:
    """Every difference from ``expected`` and every exception, across all threads."""
    problems: list[str] = []
    problems_lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work(thread_number: int) -> None:
        order = list(range(len(QUERIES)))
        random.Random(thread_number).shuffle(order)
        found: list[str] = []
        try:
            barrier.wait()
            for index in order:
                got = answer(calendar, QUERIES[index])
                if got != expected[index]:
                    found.append(f"query {index} {QUERIES[index]}: {got!r} != {expected[index]!r}")
        except Exception as error:  # a dead thread is a failure like a wrong answer
            found.append(f"thread {thread_number} died: {type(error).__name__}: {error}")
        with problems_lock:
            problems.extend(found)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def summary(problems: list[str]) -> str:
    return f"{len(problems)} problems of {THREADS * QUERIES_PER_THREAD} answers, e.g. " + (
        "; ".join(problems[:3])
    )


@pytest.mark.usefixtures("fast_switching")
def test_cold_calendar_shared_by_threads(expected: list[Answer]) -> None:
    calendar = BusinessCalendar.from_dict(CALENDAR)
    problems = run_threads(calendar, expected)
    assert problems == [], summary(problems)


@pytest.mark.usefixtures("fast_switching")
def test_warm_calendar_shared_by_threads(expected: list[Answer]) -> None:
    calendar = BusinessCalendar.from_dict(CALENDAR)
    # Ten built years that the threads read while others are built around them.
    assert calendar.business_seconds(WARM_FROM, WARM_UNTIL) > 0
    problems = run_threads(calendar, expected)
    assert problems == [], summary(problems)


def test_expected_answers_are_not_trivial(expected: list[Answer]) -> None:
    # Guards the comparison itself: the queries mix kinds, signs and zero answers.
    numbers = [value for value in expected if isinstance(value, int)]
    assert any(value > 0 for value in numbers)
    assert any(value < 0 for value in numbers)
    assert any(value == 0 for value in numbers)
    assert any(isinstance(value, datetime) for value in expected)
