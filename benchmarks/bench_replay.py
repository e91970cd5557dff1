"""Replay speed beside ``json.loads`` of the same events, for every way in, in one run.

Run: ``python -m benchmarks.bench_replay [--cases 5000] [--repeats 3] [--profile NAME]``
and, to put builds side by side, ``--compare PYTHON...`` (for example the interpreter of a
virtual environment holding the compiled build, see docs/performance.md).

The synthetic cases are written as JSON Lines once; then, in the same run and on the same
events, each configuration is timed (round robin, ``--repeats`` times, the best time kept):

- ``json.loads``: decoding every line to a dict, the floor any reader pays;
- ``replay from dicts``: ``compute_metrics`` on decoded dicts, without a calendar and with the
  example business calendar and US holidays;
- ``lines, json.loads + compute_metrics``: JSON bytes to metrics the standard way;
- ``lines, compute_metrics_from_lines``: JSON bytes to metrics through the fast decode path
  (msgspec when installed, else json.loads inside);
- ``compute_metrics + to_dict`` on a tenth of the cases.

Times are CPU seconds of the benchmark's process (``time.process_time``), so that other work
on a shared machine inflates them less; ratios are to ``json.loads`` in the same process. It
prints µs per event, the ratio, the peak memory (tracemalloc) of the largest case each way,
and the size of saved states. With ``--compare``, each interpreter runs the same benchmark in
turn (``--rounds`` times, alternating, best kept) and one table shows every build. No
thresholds: the figures go in the issue notes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import metrics_engine as me
from benchmarks.synth import generate_cases

# Mon–Fri 09:00–17:00 in New York with US federal holidays: the benchmark calendar.
CALENDAR = {
    "timezone": "America/New_York",
    "week": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "US"},
}
ROOT = Path(__file__).resolve().parent.parent


def build_name() -> str:
    """Which build of metrics_engine runs, with which decoder, in which environment."""
    try:
        import msgspec  # noqa: F401

        decoder = "msgspec"
    except ImportError:
        decoder = "no msgspec"
    build = "compiled" if getattr(me, "COMPILED", False) else "pure"
    return f"{build}, {decoder} ({Path(sys.prefix).name})"


def measure(cases_count: int, repeats: int, profile: str | None) -> dict[str, Any]:
    """Every configuration's best CPU time on the same events, and the memory figures."""
    cases = list(generate_cases(cases_count, seed=7))
    lines = [[json.dumps(event).encode() for event in case] for case in cases]
    events = sum(len(case) for case in cases)
    size = sum(len(line) + 1 for case in lines for line in case)
    calendar = me.BusinessCalendar.from_dict(CALENDAR)
    loads = json.loads
    compute = me.compute_metrics
    from_lines = getattr(me, "compute_metrics_from_lines", None)

    def decode() -> None:
        for case in lines:
            for line in case:
                loads(line)

    def from_dicts(cal: me.BusinessCalendar | None) -> Callable[[], None]:
        def run() -> None:
            for case in cases:
                compute(case, calendar=cal)

        return run

    def lines_standard() -> None:
        for case in lines:
            compute([loads(line) for line in case])

    def lines_fast() -> None:
        assert from_lines is not None
        for case in lines:
            from_lines(case)

    def lines_fast_calendar() -> None:
        assert from_lines is not None
        for case in lines:
            from_lines(case, calendar=calendar)

    tenth = cases[: max(len(cases) // 10, 1)]

    def to_dict() -> None:
        for case in tenth:
            compute(case).to_dict()

    runs: dict[str, tuple[Callable[[], None], float]] = {
        "json.loads": (decode, 1.0),
        "replay from dicts, no calendar": (from_dicts(None), 1.0),
        "replay from dicts, calendar+holidays": (from_dicts(calendar), 1.0),
        "lines, json.loads + compute_metrics": (lines_standard, 1.0),
    }
    if from_lines is not None:
        runs["lines, compute_metrics_from_lines"] = (lines_fast, 1.0)
        runs["lines, from_lines, calendar+holidays"] = (lines_fast_calendar, 1.0)
    runs["compute_metrics + to_dict (1/10)"] = (to_dict, len(cases) / len(tenth))

    from_dicts(calendar)()  # builds the calendar's years once, as a long batch would
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, (run, scale) in runs.items():
            gc.collect()
            start = time.process_time()
            run()
            best[name] = min(best[name], (time.process_time() - start) * scale)

    biggest = max(range(len(cases)), key=lambda i: len(cases[i]))
    peaks = {
        "from dicts": _peak(lambda: compute(cases[biggest], calendar=calendar)),
        "lines, json.loads + compute_metrics": _peak(
            lambda: compute([loads(line) for line in lines[biggest]], calendar=calendar)
        ),
    }
    if from_lines is not None:
        peaks["lines, from_lines"] = _peak(lambda: from_lines(lines[biggest], calendar=calendar))

    sizes = []
    for case in cases[:1000]:
        replay = me.CaseReplay(calendar=calendar)
        for event in case:
            replay.apply(event)
        sizes.append(len(json.dumps(replay.to_state(), separators=(",", ":"))))

    if profile is not None:
        chosen = next((name for name in runs if profile in name), None)
        if chosen is None:
            raise SystemExit(f"--profile: expected part of one of {list(runs)}, found {profile!r}")
        print(f"profile of {chosen!r}:", file=sys.stderr)
        profiler = cProfile.Profile()
        profiler.enable()
        runs[chosen][0]()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)

    return {
        "build": build_name(),
        "cases": len(cases),
        "events": events,
        "bytes_per_line": size / events,
        "seconds": best,
        "largest_case": len(cases[biggest]),
        "peak_kib": {key: value / 1024 for key, value in peaks.items()},
        "state_median": statistics.median(sizes),
        "state_max": max(sizes),
    }


def _peak(run: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def report(results: list[dict[str, Any]]) -> None:
    """One table: a row per configuration, a column pair per build."""
    first = results[0]
    print(
        f"{first['cases']} cases, {first['events']} events, "
        f"{first['bytes_per_line']:.0f} bytes per line; CPU time, best of each"
    )
    names = list(dict.fromkeys(name for result in results for name in result["seconds"]))
    header = "".join(f"  {result['build'][:30]:>30s}" for result in results)
    print(f"{'':38s}{header}")
    for name in names:
        cells = []
        for result in results:
            seconds = result["seconds"].get(name)
            if seconds is None:
                cells.append(f"  {'-':>30s}")
                continue
            ratio = seconds / result["seconds"]["json.loads"]
            micro = seconds * 1e6 / result["events"]
            cells.append(f"  {micro:11.2f} µs/event {ratio:5.2f}× json")
        print(f"{name:38s}{''.join(cells)}")
    for result in results:
        peaks = ", ".join(f"{key} {value:.0f} KiB" for key, value in result["peak_kib"].items())
        print(
            f"{result['build']}: peak memory, largest case ({result['largest_case']} events, "
            f"calendar): {peaks}; saved state median {result['state_median']:.0f} B, "
            f"max {result['state_max']} B (first 1000 cases)"
        )


def _child(python: str, argv: list[str]) -> dict[str, Any]:
    """The benchmark's figures under another interpreter, with its own metrics_engine.

    ``-P`` keeps the current folder off ``sys.path``, so the interpreter imports the
    metrics_engine installed for it (say a compiled build), not this checkout's source; the
    checkout is then appended for ``benchmarks``.
    """
    bootstrap = (
        "import sys, json, metrics_engine; "
        f"sys.path.append({str(ROOT)!r}); "
        "from benchmarks.bench_replay import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [python, "-P", "-c", bootstrap, *argv, "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", metavar="TEXT", help="cProfile the configuration named so")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--compare", nargs="+", metavar="PYTHON", help="also run under these interpreters"
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternations with --compare")
    args = parser.parse_args(argv)
    if args.compare:
        child_args = ["--cases", str(args.cases), "--repeats", str(args.repeats)]
        pythons = [sys.executable, *args.compare]
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for python in pythons:
                result = _child(python, child_args)
                kept = best.setdefault(python, result)
                for name, seconds in result["seconds"].items():
                    kept["seconds"][name] = min(kept["seconds"][name], seconds)
        report([best[python] for python in pythons])
        return 0
    result = measure(args.cases, args.repeats, args.profile)
    if args.json:
        print(json.dumps(result))
    else:
        report([result])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
