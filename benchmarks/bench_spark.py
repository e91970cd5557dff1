"""Benchmark of ``metrics_engine.spark`` on ``local[2]`` beside the ``compute`` command.

Usage (from the repository root, with the ``spark`` extra and Java 17+)::

    python -m benchmarks.bench_spark                  # 1,000,000 events, about 30,000 cases
    python -m benchmarks.bench_spark --events 100000  # smaller

In one run, on the same generated file (``benchmarks.synth``, cached under
``/tmp/metrics_engine_bench``) and with ``examples/calendar.json``:

- the ``compute`` command with one and with two workers (a subprocess each);
- the Spark session's start-up (``SparkSession.builder...getOrCreate()``), then one warm-up
  job on a small file (Python workers start, the library is imported), then
  ``compute_metrics_df`` on the file read with ``spark.read.text``, with the default ``as_of``
  and with an explicit one, and on the file read with ``spark.read.json`` (schema inference
  included), each written to Parquet;
- CPU seconds of each (the command and its workers; the Spark driver, its JVM and the Python
  workers), and the parallel capacity of the machine right now (two CPU-bound processes
  against one), since a shared machine gives less than 2x.

Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_batch import CALENDAR, ROOT, _ensure_input, _parallel_capacity

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its descendants so far (Linux /proc; children that exited
    and were waited for are in their parent's figures)."""
    children: dict[int, list[int]] = {}
    spent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        spent[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += spent.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / CLOCK_TICKS


def _timed(action: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process tree) of one call."""
    cpu = _tree_cpu(os.getpid())
    started = time.perf_counter()
    action()
    return time.perf_counter() - started, _tree_cpu(os.getpid()) - cpu


def _command(path: Path, workers: int, folder: str) -> tuple[float, float]:
    command = [
        sys.executable,
        "-m",
        "metrics_engine",
        "compute",
        str(path),
        "--calendar",
        str(CALENDAR),
        "--workers",
        str(workers),
        "--out",
        os.path.join(folder, f"command-{workers}.jsonl"),
        "--quiet",
    ]

    def run() -> None:
        status = subprocess.call(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        if status not in (0, 1):
            raise SystemExit(f"the compute command failed with exit status {status}")

    return _timed(run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_spark")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the input")
    parser.add_argument("--cache", default="/tmp/metrics_engine_bench", help="input cache folder")
    parser.add_argument(
        "--partitions", type=int, default=None, help="shuffle partitions (default: Spark's)"
    )
    args = parser.parse_args(argv)

    cache = Path(args.cache)
    path = _ensure_input(cache, args.events, interleaved=True)
    small = _ensure_input(cache, 10_000, interleaved=True)
    with path.open("rb") as handle:
        events = sum(1 for _ in handle)
    # The Python workers run this interpreter (PySpark reads this when the session starts).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    alone, both = _parallel_capacity()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"machine: one CPU burn {alone:.2f}s alone, two in parallel {both:.2f}s "
        f"-> parallel capacity {2 * alone / both:.2f}x of 2x"
    )
    print(f"input: {path} ({events} events, {path.stat().st_size / 1e6:.0f} MB)")
    print()
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as folder:
        for workers in (1, 2):
            wall, cpu = _command(path, workers, folder)
            rows.append((f"compute command, --workers {workers}", wall, cpu))

        from pyspark.sql import SparkSession

        import metrics_engine as me
        from metrics_engine.spark import compute_metrics_df

        started = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("metrics_engine benchmark")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        startup = time.perf_counter() - started
        spark.sparkContext.setLogLevel("ERROR")
        calendar = me.BusinessCalendar.from_dict(json.loads(CALENDAR.read_text()))
        options: dict[str, Any] = {"calendar": calendar, "partitions": args.partitions}

        def write(frame: Any, name: str) -> None:
            frame.write.mode("overwrite").parquet(os.path.join(folder, name))

        warm_wall, _ = _timed(
            lambda: write(compute_metrics_df(spark.read.text(str(small)), **options), "warm")
        )
        as_of = "2026-08-01T00:00:00Z"
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("spark, read.text, default as_of", lambda: spark.read.text(str(path))),
            ("spark, read.text, given as_of", lambda: spark.read.text(str(path))),
            ("spark, read.json (inference incl.)", lambda: spark.read.json(str(path))),
        ]
        for number, (label, reader) in enumerate(runs):
            given = {"as_of": as_of} if "given" in label else {}

            def run(
                reader: Callable[[], Any] = reader,
                given: dict[str, Any] = given,
                name: str = f"out-{number}",
            ) -> None:
                write(compute_metrics_df(reader(), **options, **given), name)

            wall, cpu = _timed(run)
            rows.append((label, wall, cpu))
        spark.stop()

    print(f"spark session start-up {startup:.2f}s; warm-up job on 10,000 events {warm_wall:.2f}s")
    print()
    header = f"{'run':<38} {'wall s':>7} {'events/s':>10} {'us/event':>9} {'cpu s':>7}"
    print(f"{header} {'x cmd 2w':>9}")
    two_workers = rows[1][1]
    for label, wall, cpu in rows:
        print(
            f"{label:<38} {wall:>7.2f} {events / wall:>10,.0f} {wall / events * 1e6:>9.2f} "
            f"{cpu:>7.2f} {wall / two_workers:>9.2f}"
        )
    print()
    print("x cmd 2w: wall seconds / the compute command's with 2 workers (lower is better)")
    print("Spark rows are after start-up and warm-up; they include reading, shuffling, Parquet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
