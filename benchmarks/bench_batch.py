"""Benchmark of ``metrics-engine compute`` against a bare ``json.loads`` loop.

Usage (from the repository root)::

    python -m benchmarks.bench_batch                 # 1,000,000 events, about 30,000 cases
    python -m benchmarks.bench_batch --events 100000 # smaller
    python -m benchmarks.bench_batch --backends json # only the stdlib JSON path

Input files come from ``benchmarks.synth`` (grouped and interleaved) and are cached under
``/tmp/metrics_engine_bench`` (``--cache DIR``). Each configuration runs the real command in
a subprocess with ``examples/calendar.json``; wall seconds, CPU seconds (the process and its
workers) and peak RSS (largest process of the run) come from GNU ``/usr/bin/time`` (or
``os.wait4`` where it is missing). Beside them, in
the same run: a bare ``json.loads`` loop (and an ``orjson.loads`` loop when installed) over
the same file, and a CPU-burn with one and two processes, which tells how much parallelism
the machine gives right now (a shared or throttled machine gives less than 2x). Nothing is
asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALENDAR = ROOT / "examples" / "calendar.json"


@dataclass(frozen=True)
class Measure:
    wall: float
    cpu: float
    peak_mib: float
    status: int


def _ensure_input(cache: Path, events: int, interleaved: bool) -> Path:
    from benchmarks.synth import write_jsonl

    cache.mkdir(parents=True, exist_ok=True)
    layout = "interleaved" if interleaved else "grouped"
    path = cache / f"events-{events}-{layout}.jsonl"
    if not path.exists():
        temp = path.with_suffix(".partial")
        started = time.perf_counter()
        cases, written, size = write_jsonl(temp, n_events=events, seed=0, interleaved=interleaved)
        temp.replace(path)
        print(
            f"generated {path}: {cases} cases, {written} events, {size / 1e6:.0f} MB "
            f"in {time.perf_counter() - started:.1f}s"
        )
    return path


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _loop_seconds(path: Path, backend: str) -> float:
    """A bare loop: read each line and parse it, nothing kept."""
    if backend == "orjson":
        import orjson

        loads = orjson.loads
    else:
        loads = json.loads
    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            loads(line)
    return time.perf_counter() - started


def _burn(n: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - started


def _parallel_capacity() -> tuple[float, float]:
    """(seconds for one burn alone, seconds for two burns in two processes)."""
    n = 15_000_000
    alone = min(_burn(n) for _ in range(2))
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_burn, [1000, 1000]))  # start the workers first
        started = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        both = time.perf_counter() - started
    return alone, both


_TIME = "/usr/bin/time"


def _run(command: list[str], env: dict[str, str]) -> Measure:
    """Run a command; its wall and CPU seconds and the peak RSS of its largest process.

    GNU time measures from a process of its own: ``os.wait4`` on a child forked from this
    (by now large) benchmark process would report this process's high-water mark instead.
    """
    if os.path.exists(_TIME):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            started = time.perf_counter()
            status = subprocess.call(
                [_TIME, "-o", report.name, "-f", "%e %U %S %M", *command],
                env=env,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
            wall = time.perf_counter() - started
            fields = report.read().split()[-4:]
        _, user, system, peak_kib = (float(field) for field in fields)
        return Measure(wall=wall, cpu=user + system, peak_mib=peak_kib / 1024, status=status)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    _, wait_status, usage = os.wait4(process.pid, 0)
    return Measure(
        wall=time.perf_counter() - started,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mib=usage.ru_maxrss / 1024,  # Linux: KiB; an upper bound here (see above)
        status=os.waitstatus_to_exitcode(wait_status),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_batch")
    parser.add_argument("--events", type=int, default=1_000_000, help="events per input file")
    parser.add_argument("--cache", default="/tmp/metrics_engine_bench", help="input cache folder")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument(
        "--backends",
        default="orjson,json",
        help="JSON paths to measure: orjson (when installed) and/or json",
    )
    args = parser.parse_args(argv)

    try:
        import orjson  # noqa: F401
    except ImportError:
        has_orjson = False
    else:
        has_orjson = True
    backends = [b for b in args.backends.split(",") if b and (b != "orjson" or has_orjson)]
    workers = [int(w) for w in args.workers.split(",")]
    cache = Path(args.cache)

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, backends {backends}")
    alone, both = _parallel_capacity()
    print(
        f"machine: one CPU burn {alone:.2f}s alone, two in parallel {both:.2f}s "
        f"-> parallel capacity {2 * alone / both:.2f}x of 2x"
    )
    print()
    header = (
        f"{'input':<12} {'json':<6} {'w':>2} {'wall s':>7} {'events/s':>10} {'cpu s':>7} "
        f"{'peak MiB':>8} {'x loads':>8} {'x 1 worker':>10}"
    )
    for interleaved in (True, False):
        path = _ensure_input(cache, args.events, interleaved)
        events = _count_lines(path)
        layout = "interleaved" if interleaved else "grouped"
        loads_json = min(_loop_seconds(path, "json") for _ in range(2))
        line = f"{layout}: {events} events, {path.stat().st_size / 1e6:.0f} MB; "
        line += f"bare json.loads loop {loads_json:.2f}s ({events / loads_json:,.0f}/s)"
        if has_orjson:
            loads_orjson = min(_loop_seconds(path, "orjson") for _ in range(2))
            line += f", bare orjson.loads loop {loads_orjson:.2f}s"
        print(line)
        print(header)
        for backend in backends:
            one_worker: float | None = None
            for count in workers:
                with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
                    command = [
                        sys.executable,
                        "-m",
                        "metrics_engine",
                        "compute",
                        str(path),
                        "--calendar",
                        str(CALENDAR),
                        "--workers",
                        str(count),
                        "--out",
                        os.path.join(folder, "out.jsonl"),
                        "--quiet",
                    ]
                    if not interleaved:
                        command.append("--grouped")
                    run_env = dict(env, METRICS_ENGINE_JSON=backend)
                    measure = _run(command, run_env)
                if count == 1:
                    one_worker = measure.wall
                speedup = f"{one_worker / measure.wall:.2f}" if one_worker else "-"
                print(
                    f"{layout:<12} {backend:<6} {count:>2} {measure.wall:>7.2f} "
                    f"{events / measure.wall:>10,.0f} {measure.cpu:>7.2f} "
                    f"{measure.peak_mib:>8.0f} {measure.wall / loads_json:>8.2f} {speedup:>10}"
                    + ("" if measure.status in (0, 1) else f"  exit {measure.status}!")
                )
        print()
    print("x loads: wall seconds / bare json.loads loop seconds on the same file (lower is better)")
    print("x 1 worker: speedup over the same configuration with 1 worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
