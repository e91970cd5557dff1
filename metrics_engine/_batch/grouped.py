"""Grouped input (``--grouped``): whole cases as they come, in batches to the workers, records
back in input order; a case that appears again after another stops the run."""

from __future__ import annotations

import heapq
import math
import os
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from metrics_engine._batch.cases import CaseLines, CaseRunner, Counts, worker_job
from metrics_engine._batch.grouped_ranges import run_cases_in_ranges, within_files
from metrics_engine._batch.inputs import BatchError, InputLines, Source, locate, spool_stdin
from metrics_engine._batch.lines import RESCAN, LatestAt, exact_latest_at, extract_std
from metrics_engine._batch.ranges import ByteRange, RangeScan, plan_ranges, read_ranges
from metrics_engine._batch.run import Run
from metrics_engine._batch.scan import case_runs, event_lines
from metrics_engine._batch.spill import Record, by_ordinal, read_records, write_chunk

__all__ = ["NotGroupedError", "run_grouped", "scan_grouped", "streamed_cases"]


class NotGroupedError(BatchError):
    """--grouped input in which a case appears again after another case."""


def _not_grouped(lines: InputLines, key: str, ordinal: int, first: int) -> NotGroupedError:
    name, number = locate(lines.files, ordinal)
    first_name, first_number = locate(lines.files, first)
    return NotGroupedError(
        f"--grouped: expected each case's events together, found case {key!r} again at "
        f"{name}:{number} after other cases (first at {first_name}:{first_number}); "
        "run without --grouped"
    )


def _confirmed_key(run: Run, ordinal: int, line: bytes) -> str | None:
    """The case id of a line at which a quick way's id changes, after a full parse; a line
    that is no event is rejected here, in place (see ``scan.case_runs``)."""
    key, _, error, _ = extract_std(line)
    if key is None:
        run.reject_line(ordinal, error or "")
    return key


@dataclass(frozen=True, slots=True)
class FirstPass:
    """What the first pass of grouped input found (see :func:`scan_grouped`)."""

    starts: array[int]  # the ordinal of each case's first line
    as_of: int | None  # the latest ``at``
    ranges: list[ByteRange] | None = None  # when the workers read it in byte ranges
    found: list[tuple[RangeScan, int]] = field(default_factory=list)  # and what they found


def scan_grouped(run: Run, lines: InputLines) -> tuple[array[int], int | None]:
    """First pass of grouped input (no --as-of): where each case starts, the latest ``at``."""
    first = first_pass(run, lines)
    return first.starts, first.as_of


def first_pass(run: Run, lines: InputLines) -> FirstPass:
    """First pass of grouped input (no --as-of): where each case starts, the latest ``at``.

    It also checks the grouping (before any work is done) and rejects the lines that are not
    events (all of them with orjson; with the quick ways, at least every line that would
    start a case: see ``scan.case_runs``), so that the second pass cuts cases without parsing
    a line. With several workers and plain files, the workers read the input in byte ranges
    (see ``ranges``); otherwise this process does.
    """
    ranges = plan_ranges(lines.sources, run.workers, run.job.tuning)
    found: list[tuple[RangeScan, int]] = []
    if ranges is not None:
        found, as_of = read_ranges(run, lines, ranges, 0, track_at=True, grouped=True)
        runs = [(scan.runs, offset) for scan, offset in found]
    else:
        latest = LatestAt()
        runs = [(case_runs(event_lines(run, lines, latest), run.reject_line), 0)]
        as_of = latest.result()
    starts = _case_starts(lines, runs)
    if as_of == RESCAN:
        as_of = exact_latest_at(line for _, line in lines)
    return FirstPass(starts, as_of, ranges, found)


def _case_starts(lines: InputLines, runs: list[tuple[list[tuple[str, int]], int]]) -> array[int]:
    """Where each case starts, from the case id changes of each stretch of the input (with
    what to add to its ordinals); a case that appears again after another stops the run."""
    starts: array[int] = array("q")
    seen: dict[str, int] = {}
    now: str | None = None
    for stretch, offset in runs:
        for key, local in stretch:
            if key == now:  # the case the stretch before ended with, going on
                continue
            ordinal = local + offset
            first = seen.get(key)
            if first is not None:
                raise _not_grouped(lines, key, ordinal, first)
            seen[key] = ordinal
            now = key
            starts.append(ordinal)
    return starts


def _planned_cases(
    run: Run, lines: InputLines, starts: array[int]
) -> Iterator[tuple[CaseLines, list[Any] | None]]:
    """Second pass: whole cases cut at the starts found by the first, nothing parsed."""
    rejected = (r[0] for r in heapq.merge(*run.parent_reject_streams(), key=by_ordinal))
    next_rejected = next(rejected, None)
    boundaries = iter(starts)
    next_start = next(boundaries, None)
    case: CaseLines = []
    for ordinal, line in lines:
        if ordinal == next_rejected:
            next_rejected = next(rejected, None)
            continue
        if ordinal == next_start:
            if case:
                yield case, None
            case = []
            next_start = next(boundaries, None)
        case.append((ordinal, line))
        if not ordinal & 0x3FFF:
            run.progress.update("computing", ordinal, run.counts.cases, lines.fraction())
    if case:
        yield case, None


def streamed_cases(
    run: Run, lines: InputLines, keep_parsed: bool
) -> Iterator[tuple[CaseLines, list[Any] | None]]:
    """One pass (--as-of given): whole cases as they come, the grouping checked on the way."""
    seen: dict[str, int] = {}
    key_now: str | None = None
    case: CaseLines = []
    parsed: list[Any] = []
    for ordinal, key, line, obj in event_lines(run, lines, None, parse_all=keep_parsed):
        if key != key_now and obj is None:  # a guess of the byte search: confirm it
            confirmed = _confirmed_key(run, ordinal, line)
            if confirmed is None:
                continue
            key = confirmed
        if key != key_now:
            if case:
                yield case, parsed if keep_parsed else None
            first = seen.get(key)
            if first is not None:
                raise _not_grouped(lines, key, ordinal, first)
            seen[key] = ordinal
            key_now = key
            case = []
            parsed = []
        case.append((ordinal, line))
        parsed.append(obj)
    if case:
        yield case, parsed if keep_parsed else None


def run_grouped(
    run: Run, sources: Sequence[Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], InputLines, int | None]:
    """Stream whole cases, in batches to the workers; records come back in input order.

    Each batch's records are sorted and batches cover consecutive stretches of lines, so the
    file written here is sorted; the lines the parent rejected are merged in at the end.
    """
    if track_at and any(source.path is None for source in sources):
        sources = [spool_stdin(run.folder, source, i) for i, source in enumerate(sources)]
    lines = InputLines(sources, run.max_line)
    workers = run.workers
    batch_lines = run.job.tuning.batch_lines
    if track_at:
        first = first_pass(run, lines)
        starts, as_of = first.starts, first.as_of
        if first.ranges is not None and within_files(first.ranges, first.found, starts):
            # The workers read the second pass in byte ranges too (see ``grouped_ranges``).
            rejected = (r[0] for r in heapq.merge(*run.parent_reject_streams(), key=by_ordinal))
            outputs = run_cases_in_ranges(
                run, first.ranges, first.found, starts, rejected, as_of, lines.count
            )
            streams = [read_records(path) for path in outputs]
            streams.extend(run.parent_reject_streams())
            return heapq.merge(*streams, key=by_ordinal), lines, as_of
        workers = min(workers, math.ceil(lines.count / batch_lines))  # no idle workers
    # The pool of a first pass read in byte ranges serves the second too.
    pool = run.pool if run.pool is not None else run.start_pool(workers)
    workers = run.workers if run.pool is not None else workers
    runner = CaseRunner(run.job, as_of) if pool is None else None
    if track_at:
        cases = _planned_cases(run, lines, starts)
    else:
        # In this process, lines parsed once are kept for the runner; not when it parses
        # them straight into events itself (msgspec).
        keep = runner is not None and not run.job.structs
        cases = streamed_cases(run, lines, keep_parsed=keep)
    out_path = os.path.join(run.folder, "grouped.out")
    with open(out_path, "wb", buffering=1 << 20) as out:
        window: deque[Future[tuple[list[Record], Counts]]] = deque()

        def drain(keep: int) -> None:
            while len(window) > keep:
                records, counts = window.popleft().result()
                run.counts.add(counts)
                write_chunk(out, records)

        batch: list[tuple[CaseLines, list[Any] | None]] = []
        done: list[Record] = []
        size = 0
        for case, parsed in cases:
            size += len(case)
            if runner is not None:
                records, counts = runner.run(case, parsed)
                run.counts.add(counts)
                done.extend(sorted(records, key=by_ordinal))
                if size >= batch_lines:
                    write_chunk(out, done)
                    done, size = [], 0
                continue
            assert pool is not None
            batch.append((case, parsed))
            if size >= batch_lines:
                window.append(pool.submit(_batch_task, as_of, batch))
                batch, size = [], 0
                drain(2 * workers)
        if batch:
            assert pool is not None
            window.append(pool.submit(_batch_task, as_of, batch))
        drain(0)
        if done:
            write_chunk(out, done)
    streams = [read_records(out_path), *run.parent_reject_streams()]
    return heapq.merge(*streams, key=by_ordinal), lines, as_of


def _batch_task(
    as_of: int | None, batch: list[tuple[CaseLines, list[Any] | None]]
) -> tuple[list[Record], Counts]:
    """Worker (grouped mode): a batch of whole cases; records sorted by ordinal."""
    runner = CaseRunner(worker_job(), as_of)
    records: list[Record] = []
    counts = Counts()
    for lines, parsed in batch:
        case_records, case_counts = runner.run(lines, parsed)
        records.extend(case_records)
        counts.add(case_counts)
    records.sort(key=by_ordinal)
    return records, counts
