"""Snapshot of the batch command's outputs over a matrix of options, for before/after checks.

Run: ``python -m benchmarks.snapshot_batch OUT_DIR`` in two checkouts (before and after a
refactoring), then ``diff -r`` the two folders: a refactoring must leave every file identical.
Each run of the matrix writes its rows, rejects, summary (stderr, with timings removed) and
exit code. The inputs are the shipped examples (good and bad lines, a team calendar) and a
generated interleaved file.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Paths are relative to the output folder, where the inputs are copied: the snapshots of two
# checkouts then name the same files.
OPTION_SETS: list[list[str]] = [
    [],
    ["--format", "csv"],
    ["--absent", "zero"],
    ["--lenient"],
    ["--calendar", "calendar.json"],
    ["--team-calendars", "team_calendars.json"],
    ["--as-of", "2026-03-01T00:00:00Z"],
    ["--reopen-on-customer-message", "--resolution-time", "elapsed"],
    ["--team-only-assignment", "--lenient", "--format", "csv"],
]
VALIDATE_OPTION_SETS: list[list[str]] = [[], ["--lenient"], ["--reopen-on-customer-message"]]
WORKERS = ["1", "2"]
MODES: list[list[str]] = [[], ["--grouped"]]
_TIMING = re.compile(r"\d+(\.\d+)? ?(s|ms|µs|events/s|cases/s)\b".encode())


def _inputs(folder: Path) -> list[str]:
    for name in ("events.jsonl", "calendar.json", "team_calendars.json"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    mixed = (EXAMPLES / "events.jsonl").read_bytes() + (EXAMPLES / "bad_events.jsonl").read_bytes()
    (folder / "mixed.jsonl").write_bytes(mixed)
    return ["events.jsonl", "mixed.jsonl"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    runs = 0
    for source in _inputs(out):
        for number, (options, workers, mode) in enumerate(
            itertools.product(OPTION_SETS, WORKERS, MODES)
        ):
            if mode and source == "mixed.jsonl":
                continue  # the mixed file is not grouped
            stem = f"{source.removesuffix('.jsonl')}-{number:02d}"
            command = [
                sys.executable, "-m", "metrics_engine", "compute", source,
                "--out", f"{stem}.out", "--rejects", f"{stem}.rejects", "--workers", workers,
                *mode, *options,
            ]  # fmt: skip
            environment = {**os.environ, "PYTHONPATH": str(ROOT)}
            done = subprocess.run(command, capture_output=True, cwd=out, env=environment)
            (out / f"{stem}.summary").write_bytes(
                " ".join(command[3:]).encode()
                + b"\n"
                + _TIMING.sub(b"<t>", done.stderr)
                + f"exit {done.returncode}\n".encode()
            )
            runs += 1
        for number, (options, workers) in enumerate(
            itertools.product(VALIDATE_OPTION_SETS, WORKERS)
        ):
            stem = f"{source.removesuffix('.jsonl')}-validate-{number:02d}"
            command = [
                sys.executable, "-m", "metrics_engine", "validate", source,
                "--workers", workers, *options,
            ]  # fmt: skip
            environment = {**os.environ, "PYTHONPATH": str(ROOT)}
            done = subprocess.run(command, capture_output=True, cwd=out, env=environment)
            (out / f"{stem}.report").write_bytes(
                " ".join(command[3:]).encode()
                + b"\n"
                + done.stdout
                + _TIMING.sub(b"<t>", done.stderr)
                + f"exit {done.returncode}\n".encode()
            )
            runs += 1
    print(f"{runs} runs written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
