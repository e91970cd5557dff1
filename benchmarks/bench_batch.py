"""Benchmark of ``metrics-engine compute`` against a bare ``json.loads`` loop.

Usage (from the repository root)::

    python -m benchmarks.bench_batch                  # 1,000,000 events, about 30,000 cases
    python -m benchmarks.bench_batch --events 100000  # smaller
    python -m benchmarks.bench_batch --compare .venv-compiled/bin/python  # + a compiled build
    python -m benchmarks.bench_batch --paths stdlib   # only the standard library's JSON path
    python -m benchmarks.bench_batch --layouts interleaved --workers 1 --repeats 3
    python -m benchmarks.bench_batch --check-identical  # also compare the outputs' bytes

Every configuration, build × JSON path × workers, runs on each layout (interleaved, grouped).
Build ``pure`` is this interpreter on the checkout's source; each ``--compare PYTHON`` runs
its own installed package (from a temporary folder, the repository off ``PYTHONPATH``), and
is labelled by the ``metrics_engine.COMPILED`` it reports. JSON path ``stdlib`` sets
``METRICS_ENGINE_JSON=json``; ``fast`` unsets it (orjson and msgspec, the ``fast`` extra;
skipped where they are missing). ``--repeats N`` keeps the best wall of N runs.

Inputs come from ``benchmarks.synth``, cached under ``/tmp/metrics_engine_bench`` (``--cache``).
Each run is the real command in a subprocess with ``examples/calendar.json``; wall and CPU
seconds (with workers) and peak RSS (largest process) come from GNU ``/usr/bin/time`` (or
``os.wait4``). Beside them, measured by this interpreter in the same run: a bare
``json.loads`` loop (and ``orjson.loads``, when installed) over the same file, and a CPU burn
in one and two processes: the parallelism the machine gives now (a shared machine gives less
than 2x). A "targets" block rates the interleaved rows against the project's goals;
``--check-identical`` compares the rows, rejects and summary (timings removed) of the last
run of every configuration. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CALENDAR = ROOT / "examples" / "calendar.json"
_TIME = "/usr/bin/time"
_TIMING = re.compile(r"\d+(\.\d+)? ?(s|ms|µs|events/s|cases/s)\b".encode())
Digests = tuple[str, ...]  # rows, rejects, summary
_PROBE = "import metrics_engine as m; print(m.COMPILED, m.__file__)"


@dataclass(frozen=True)
class Measure:
    wall: float
    cpu: float
    peak_mib: float
    status: int


@dataclass(frozen=True)
class Build:
    name: str  # "pure" or "compiled" (from metrics_engine.COMPILED), "#2"... when repeated
    python: str
    cwd: Path
    env: dict[str, str]
    fast: bool  # orjson and msgspec import


@dataclass(frozen=True)
class Row:
    layout: str
    build: str
    path: str
    workers: int
    measure: Measure
    loads: float  # the bare json.loads loop on the same file


def _ensure_input(cache: Path, events: int, layout: str) -> Path:
    from benchmarks.synth import write_jsonl

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"events-{events}-{layout}.jsonl"
    if not path.exists():
        temp = path.with_suffix(".partial")
        started = time.perf_counter()
        interleaved = layout == "interleaved"
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
    loads: Callable[[bytes], object] = json.loads
    if backend == "orjson":
        import orjson

        loads = orjson.loads
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


def _run(command: list[str], env: dict[str, str], cwd: Path, stderr: Path) -> Measure:
    """Run a command; its wall and CPU seconds and the peak RSS of its largest process.

    GNU time measures from a process of its own: ``os.wait4`` on a child forked from this
    (by now large) benchmark process would report this process's high-water mark instead.
    """
    with stderr.open("wb") as errors:
        options: dict[str, Any] = {"env": env, "cwd": cwd, "stderr": errors}
        options["stdout"] = subprocess.DEVNULL
        if os.path.exists(_TIME):
            with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
                started = time.perf_counter()
                timed = [_TIME, "-o", report.name, "-f", "%e %U %S %M", *command]
                status = subprocess.call(timed, **options)
                wall = time.perf_counter() - started
                fields = report.read().split()[-4:]
            _, user, system, peak_kib = (float(field) for field in fields)
            return Measure(wall=wall, cpu=user + system, peak_mib=peak_kib / 1024, status=status)
        started = time.perf_counter()
        process = subprocess.Popen(command, **options)
        _, wait_status, usage = os.wait4(process.pid, 0)
    return Measure(
        wall=time.perf_counter() - started,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mib=usage.ru_maxrss / 1024,  # Linux: KiB; an upper bound here (see above)
        status=os.waitstatus_to_exitcode(wait_status),
    )


def _without_root(env: dict[str, str]) -> dict[str, str]:
    """The environment with the repository taken off ``PYTHONPATH``."""
    parts = env.get("PYTHONPATH", "").split(os.pathsep)
    kept = os.pathsep.join(p for p in parts if p and Path(p).resolve() != ROOT)
    result = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    return {**result, "PYTHONPATH": kept} if kept else result


def _build(python: str, cwd: Path, env: dict[str, str], taken: list[str]) -> Build | None:
    """Ask the interpreter which build it imports and whether it has the fast extra."""
    probe = subprocess.run(
        [python, "-c", _PROBE], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        print(f"{python}: cannot import metrics_engine ({last}); skipped")
        return None
    compiled, _, where = probe.stdout.strip().partition(" ")
    label = "compiled" if compiled == "True" else "pure"
    name = label if label not in taken else f"{label}#{taken.count(label) + 1}"
    taken.append(label)
    check = [python, "-c", "import orjson, msgspec"]
    fast = subprocess.run(check, env=env, cwd=cwd, capture_output=True).returncode == 0
    print(f"{name:<10} {python}: metrics_engine.COMPILED={compiled}, {where}")
    if not fast:
        print(f"{name:<10} has no orjson/msgspec: its 'fast' path is skipped")
    return Build(name=name, python=python, cwd=cwd, env=env, fast=fast)


def _digest(path: Path) -> str:
    """A file's SHA-256; timings are blanked in the summary (stderr)."""
    data = path.read_bytes() if path.exists() else b"missing"
    return hashlib.sha256(_TIMING.sub(b"<t>", data) if path.name == "stderr" else data).hexdigest()


def _measure(
    build: Build, path: str, count: int, source: Path, layout: str, repeats: int
) -> tuple[Measure, Digests, str]:
    """The best run of ``repeats``; digests of the last run's rows, rejects and summary."""
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as name:
        folder = Path(name)
        command = [
            build.python, "-m", "metrics_engine", "compute", str(source),
            "--calendar", str(CALENDAR), "--workers", str(count),
            "--out", str(folder / "out.jsonl"), "--rejects", str(folder / "rejects.jsonl"),
        ]  # fmt: skip
        if layout == "grouped":
            command.append("--grouped")
        env = {k: v for k, v in build.env.items() if k != "METRICS_ENGINE_JSON"}
        if path == "stdlib":
            env["METRICS_ENGINE_JSON"] = "json"
        runs = [_run(command, env, build.cwd, folder / "stderr") for _ in range(repeats)]
        stderr = (folder / "stderr").read_text(errors="replace").strip().splitlines()
        digests = tuple(_digest(folder / n) for n in ("out.jsonl", "rejects.jsonl", "stderr"))
    return min(runs, key=lambda m: m.wall), digests, (stderr or [""])[-1]


def _mark(value: float, limit: float, at_most: bool) -> str:
    return "✓" if (value <= limit if at_most else value >= limit) else "✗"


def _targets(rows: list[Row], builds: list[Build]) -> None:
    """Rate the interleaved rows against the goals (figures and marks, nothing asserted)."""
    mine = [r for r in rows if r.layout == "interleaved"]
    if not mine:
        return
    print("targets (interleaved):")
    for row in mine:
        ratio = row.measure.wall / row.loads
        label = row.build.partition("#")[0]
        if row.workers == 1 and row.path == "stdlib" and label == "pure":
            print(f"  {row.build} stdlib 1 worker ≤ 4× loads: {ratio:.2f}× {_mark(ratio, 4, True)}")
        if row.workers == 1 and row.path == "fast" and label == "compiled":
            print(
                f"  {row.build} fast 1 worker ≤ 2.5× loads (goal 1.5×): {ratio:.2f}× "
                f"{_mark(ratio, 2.5, True)} (goal {_mark(ratio, 1.5, True)})"
            )
    for build in builds:
        for path in ("stdlib", "fast"):
            walls = {
                r.workers: r.measure.wall for r in mine if (r.build, r.path) == (build.name, path)
            }
            if 1 in walls and 2 in walls:
                speedup = walls[1] / walls[2]
                print(
                    f"  {build.name} {path} 2 workers ≥ 1.5× 1 worker (goal 1.8×): {speedup:.2f}× "
                    f"{_mark(speedup, 1.5, False)} (goal {_mark(speedup, 1.8, False)})"
                )


def _report_identical(layout: str, outputs: dict[str, Digests]) -> None:
    """Per kind of output, the configurations grouped by content when they are not all alike."""
    same = True
    for index, kind in enumerate(("rows", "rejects", "summary")):
        groups: dict[str, list[str]] = {}
        for config, digests in outputs.items():
            groups.setdefault(digests[index], []).append(config)
        if len(groups) > 1:
            same = False
            print(f"  {layout} {kind} differ: " + " | ".join(map(", ".join, groups.values())))
    if same:
        print(f"  {layout}: all {len(outputs)} configurations byte-identical")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_batch")
    parser.add_argument("--events", type=int, default=1_000_000, help="events per input file")
    parser.add_argument("--cache", default="/tmp/metrics_engine_bench", help="input cache folder")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--paths", default="stdlib,fast", help="JSON paths: stdlib and/or fast")
    parser.add_argument("--layouts", default="interleaved,grouped", help="interleaved, grouped")
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration (best)")
    parser.add_argument("--compare", nargs="+", default=[], metavar="PYTHON", help="interpreters")
    parser.add_argument("--check-identical", action="store_true", help="compare the outputs")
    args = parser.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    layouts = [name for name in args.layouts.split(",") if name]
    if not set(paths) <= {"stdlib", "fast"} or not set(layouts) <= {"interleaved", "grouped"}:
        parser.error("--paths takes stdlib,fast and --layouts interleaved,grouped")
    workers = [int(w) for w in args.workers.split(",")]
    cache = Path(args.cache).resolve()
    has_orjson = importlib.util.find_spec("orjson") is not None

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, JSON paths {paths}")
    pure_env = dict(os.environ)
    pure_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), pure_env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="bench-batch-cwd-") as outside:
        taken: list[str] = []
        candidates = [_build(sys.executable, ROOT, pure_env, taken)]
        other_env = _without_root(dict(os.environ))
        candidates += [_build(p, Path(outside), other_env, taken) for p in args.compare]
        builds = [b for b in candidates if b is not None]
        alone, both = _parallel_capacity()
        print(
            f"machine: one CPU burn {alone:.2f}s alone, two in parallel {both:.2f}s "
            f"-> parallel capacity {2 * alone / both:.2f}x of 2x"
        )
        print()
        rows: list[Row] = []
        outputs: dict[str, dict[str, Digests]] = {}
        for layout in layouts:
            source = _ensure_input(cache, args.events, layout)
            events = _count_lines(source)
            loads_json = min(_loop_seconds(source, "json") for _ in range(2))
            line = f"{layout}: {events} events, {source.stat().st_size / 1e6:.0f} MB; "
            line += f"bare json.loads loop {loads_json:.2f}s ({events / loads_json:,.0f}/s)"
            if has_orjson:
                loads_orjson = min(_loop_seconds(source, "orjson") for _ in range(2))
                line += f", bare orjson.loads loop {loads_orjson:.2f}s"
            print(line)
            print(
                f"{'layout':<12} {'build':<10} {'path':<6} {'w':>2} {'wall s':>7} "
                f"{'events/s':>10} {'cpu s':>7} {'peak MiB':>8} {'x loads':>8} {'x 1 worker':>10}"
            )
            outputs[layout] = {}
            one_worker: dict[tuple[str, str], float] = {}
            configurations = [
                (b, p, c) for b in builds for p in paths if p != "fast" or b.fast for c in workers
            ]
            for build, path, count in configurations:
                measure, digests, last = _measure(build, path, count, source, layout, args.repeats)
                outputs[layout][f"{build.name}/{path}/{count}w"] = digests
                rows.append(Row(layout, build.name, path, count, measure, loads_json))
                if count == 1:
                    one_worker[build.name, path] = measure.wall
                single = one_worker.get((build.name, path))
                speedup = f"{single / measure.wall:.2f}" if single else "-"
                print(
                    f"{layout:<12} {build.name:<10} {path:<6} {count:>2} {measure.wall:>7.2f} "
                    f"{events / measure.wall:>10,.0f} {measure.cpu:>7.2f} "
                    f"{measure.peak_mib:>8.0f} {measure.wall / loads_json:>8.2f} {speedup:>10}"
                    + ("" if measure.status in (0, 1) else f"  exit {measure.status}: {last}")
                )
            print()
    print("x loads: wall seconds / bare json.loads loop seconds on the same file (lower is better)")
    print("x 1 worker: speedup over the same build and JSON path with 1 worker")
    print()
    _targets(rows, builds)
    if args.check_identical:
        print("identical outputs (rows, rejects, summary without timings):")
        for layout, kept in outputs.items():
            _report_identical(layout, kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
