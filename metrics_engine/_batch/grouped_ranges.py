"""Grouped input's second pass run by the workers over byte ranges (batch layer).

When the first pass was read in byte ranges (see ``ranges``), the main process knows where
every case starts (its line's ordinal) and which lines it rejected. Each worker then takes the
byte range where some cases start and computes those cases: it reads the range again,
numbering lines as the first pass did, passes over the lines of a case begun in an earlier
range, and reads on past the range's end until the next case starts, so that it holds its
last case whole. The records of a range are sorted and written to a file of its own; the
main process merges them by line as for interleaved input. A case that runs on from one
input file into the next keeps the second pass in the main process (``grouped``).
"""

from __future__ import annotations

import bisect
import os
from array import array
from collections.abc import Iterator, Sequence
from typing import IO

from metrics_engine._batch.cases import CaseLines, CaseRunner, Counts, worker_job
from metrics_engine._batch.inputs import BatchError, os_reason, over_limit, skip_rest
from metrics_engine._batch.ranges import ByteRange, RangeReader, RangeScan
from metrics_engine._batch.run import Run
from metrics_engine._batch.spill import Record, by_ordinal, write_records

__all__ = ["run_cases_in_ranges", "within_files"]

_NO_END = 2**62  # a byte position past any file's end


def within_files(
    ranges: Sequence[ByteRange], found: Sequence[tuple[RangeScan, int]], starts: array[int]
) -> bool:
    """Whether every case lies within one input file: the first event line of each file
    after the first starts a case (no case runs on from the file before). The first event
    line of a range is always among its case id changes (``scan.case_runs``)."""
    first_event_of_file: dict[int, int] = {}
    for byte_range, (scan, offset) in zip(ranges, found, strict=True):
        if scan.runs and byte_range.index not in first_event_of_file:
            first_event_of_file[byte_range.index] = scan.runs[0][1] + offset
    for index, ordinal in first_event_of_file.items():
        place = bisect.bisect_left(starts, ordinal)
        if index > 0 and (place == len(starts) or starts[place] != ordinal):
            return False
    return True


def run_cases_in_ranges(
    run: Run,
    ranges: Sequence[ByteRange],
    found: Sequence[tuple[RangeScan, int]],
    starts: array[int],
    rejected: Iterator[int],
    as_of: int | None,
    lines_read: int,
) -> list[str]:
    """The second pass by the workers (see the module docstring): one record file per range
    in which a case starts, each sorted by line; the counts go to ``run``. ``rejected``: the
    ordinals of the lines the first pass rejected, in order."""
    pool = run.pool
    assert pool is not None, "the first pass in byte ranges started the pool"
    next_rejected = next(rejected, None)
    futures = []
    outputs = []
    for number, (byte_range, (scan, offset)) in enumerate(zip(ranges, found, strict=True)):
        first = bisect.bisect_right(starts, offset)  # the first start after the lines before
        last = bisect.bisect_right(starts, offset + scan.lines)
        if first == last:
            continue  # no case starts here: the range before reads these lines
        mine = starts[first:last]
        next_start = starts[last] if last < len(starts) else None
        skip = array("q")
        while next_rejected is not None and next_rejected < mine[0]:
            next_rejected = next(rejected, None)
        while next_rejected is not None and (next_start is None or next_rejected < next_start):
            skip.append(next_rejected)
            next_rejected = next(rejected, None)
        out = os.path.join(run.folder, f"cases-r{number}.out")
        outputs.append(out)
        futures.append(
            pool.submit(
                range_cases, byte_range, offset, mine, next_start, skip, as_of, run.max_line, out
            )
        )
    for done, future in enumerate(futures, 1):
        run.counts.add(future.result())
        run.progress.update("computing", lines_read, run.counts.cases, done / len(futures))
    return outputs


def range_cases(
    byte_range: ByteRange,
    offset: int,
    starts: array[int],
    next_start: int | None,
    skip: array[int],
    as_of: int | None,
    limit: int,
    out: str,
) -> Counts:
    """Worker: the cases that start in one byte range, computed; their records to ``out``."""
    runner = CaseRunner(worker_job(), as_of)
    counts = Counts()
    records: list[Record] = []
    try:
        with open(byte_range.path, "rb") as stream:
            for case in _cases(stream, byte_range.start, offset, starts, next_start, skip, limit):
                case_records, case_counts = runner.run(case)
                records.extend(case_records)
                counts.add(case_counts)
    except OSError as error:
        raise BatchError(f"cannot read input {byte_range.name}: {os_reason(error)}") from None
    records.sort(key=by_ordinal)
    write_records(out, records)
    return counts


def _cases(
    stream: IO[bytes],
    start: int,
    offset: int,
    starts: array[int],
    next_start: int | None,
    skip: array[int],
    limit: int,
) -> Iterator[CaseLines]:
    """The cases that start at ``starts``, lines read from byte ``start`` (numbered from
    ``offset + 1``) up to ``next_start`` or the end of the file."""
    reader = RangeReader(stream, limit, start, _NO_END)
    read = reader.read
    stop = next_start if next_start is not None else _NO_END
    first = starts[0]
    cut = iter(starts)
    next_case = next(cut, None)
    passed = iter(skip)
    next_skip = next(passed, None)
    case: CaseLines = []
    ordinal = offset
    for line in iter(read, b""):
        ordinal += 1
        if ordinal >= stop:
            break
        if len(line) > limit and over_limit(line, limit):
            skip_rest(read, line)
            continue
        if ordinal < first or (line[0] != 0x7B and line.isspace()):
            continue  # a case begun in an earlier range, or a blank line
        if ordinal == next_skip:
            next_skip = next(passed, None)
            continue  # rejected by the first pass
        if ordinal == next_case:
            if case:
                yield case
            case = []
            next_case = next(cut, None)
        case.append((ordinal, line))
    if case:
        yield case
