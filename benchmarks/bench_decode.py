"""Where the time of JSON bytes to metrics goes: each stage beside ``json.loads``, one run.

Run: ``python -m benchmarks.bench_decode [--cases 3000] [--repeats 3]`` under the build to
look at (pure or compiled, see docs/performance.md). A profiler cannot see inside compiled
functions, so the stages are timed one after another on the same lines and the cost of each
step is the difference between two rows:

- decoding alone: ``json.loads`` to dicts, ``orjson.loads`` to dicts, msgspec to dicts, and
  msgspec into the typed ``EventLine`` of the fast path;
- decoding and parsing one event: ``json.loads`` + ``parse_event`` (the careful way), and the
  fast way (``EventLine`` turned into an ``Event``, with the checks parse_event makes);
- the whole case: ``compute_metrics_from_lines`` (decode, parse, sequence rules, state
  machine, metrics) and ``json.loads`` + ``compute_metrics``.

CPU time of this process (``time.process_time``), best of ``--repeats`` round-robin passes.
No thresholds: the figures go in the issue notes.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import metrics_engine as me
from benchmarks.synth import generate_cases
from metrics_engine import _fast
from metrics_engine._events import Actor, parse_event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    cases = [
        [json.dumps(event).encode() for event in case]
        for case in generate_cases(args.cases, seed=7)
    ]
    lines = [line for case in cases for line in case]
    n = len(lines)
    loads = json.loads

    # Each stage drops its results as it goes, as a streaming reader does: keeping every
    # decoded event alive would time the garbage collector instead.
    def each(step: Callable[[bytes], object]) -> Callable[[], None]:
        def run() -> None:
            for line in lines:
                step(line)

        return run

    stages: dict[str, Callable[[], None]] = {"json.loads": each(loads)}
    try:
        import orjson

        stages["orjson.loads"] = each(orjson.loads)
    except ImportError:
        pass
    if _fast.HAVE_STRUCT_DECODER:
        import msgspec

        from metrics_engine._fast_structs import decode_line

        stages["msgspec to dicts"] = each(msgspec.json.Decoder().decode)
        stages["msgspec into EventLine"] = each(decode_line)
    stages["json.loads + parse_event"] = each(lambda line: parse_event(loads(line)))
    if _fast.HAVE_STRUCT_DECODER:
        actors: dict[tuple[Any, Any], Actor] = {}
        fast_event = _fast._fast_event
        stages["fast way: EventLine -> Event"] = each(lambda line: fast_event(line, actors))

    def standard() -> None:
        for case in cases:
            me.compute_metrics([loads(line) for line in case])

    def from_lines() -> None:
        for case in cases:
            me.compute_metrics_from_lines(case)

    stages["json.loads + compute_metrics"] = standard
    stages["compute_metrics_from_lines"] = from_lines

    best = dict.fromkeys(stages, float("inf"))
    for _ in range(args.repeats):
        for name, run in stages.items():
            gc.collect()
            start = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - start)

    build = "compiled" if me.COMPILED else "pure Python"
    decoder = "msgspec" if _fast.HAVE_STRUCT_DECODER else "no msgspec"
    print(f"{n} events in {len(cases)} cases; {build}, {decoder}; CPU time, best of each")
    floor = best["json.loads"]
    for name, seconds in best.items():
        print(
            f"{name:32s} {seconds * 1e6 / n:6.2f} µs/event  {n / seconds:>10,.0f} events/s  "
            f"{seconds / floor:5.2f}× json.loads"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
