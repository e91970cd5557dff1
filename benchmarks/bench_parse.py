"""Event parsing speed beside ``json.loads`` of the same lines, measured in one run.

Run: ``python -m benchmarks.bench_parse [--events 200000]``. Prints µs per event for
``json.loads`` of each JSON Lines text, for ``parse_event`` of the decoded dicts, and for
both together, with the ratios. No thresholds: the figures go in the issue notes.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable

from benchmarks.synth import iter_events
from metrics_engine._events import parse_event


def _best_of(repeats: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    lines: list[str] = []
    for event in iter_events(args.events // 30 + 1, seed=3):
        lines.append(json.dumps(event))
        if len(lines) == args.events:
            break
    decoded = [json.loads(line) for line in lines]
    n = len(lines)
    size = sum(len(line) + 1 for line in lines)
    print(f"{n} events, {size / n:.0f} bytes per line")

    loads = json.loads

    # Each loop drops its results, as a streaming batch does: keeping 200,000 fresh dicts
    # alive would time the garbage collector instead of the parsers.
    def decode_only() -> None:
        for line in lines:
            loads(line)

    def parse_only() -> None:
        for raw in decoded:
            parse_event(raw)

    def decode_and_parse() -> None:
        for line in lines:
            parse_event(loads(line))

    t_json = _best_of(args.repeats, decode_only)
    t_parse = _best_of(args.repeats, parse_only)
    t_both = _best_of(args.repeats, decode_and_parse)
    for name, seconds in (
        ("json.loads", t_json),
        ("parse_event (from dicts)", t_parse),
        ("json.loads + parse_event", t_both),
    ):
        print(
            f"{name:26s} {seconds * 1e6 / n:6.2f} µs/event  {n / seconds:>10,.0f} events/s  "
            f"{seconds / t_json:5.2f}× json.loads"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
