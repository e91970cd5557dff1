"""The first pass of interleaved input, run by the workers over byte ranges of the files.

With several workers and plain files (not gzip, not stdin or a pipe), the parent does not read
the input itself: each worker takes a byte range of one file and reads the lines that *start*
in it (a range that starts inside a line leaves that line to the range before) with the first
pass's own loop (``scan.stream_events``), writing partition files of its own, rejecting the
lines that are not events and keeping the latest ``at``. It numbers lines within its range;
once every range is read the parent knows how many lines each holds, and a line's ordinal is
its number plus the lines of the ranges before it. Everything after — the partitions run as
tasks, records merged in ordinal order — is as with one reader, so the outputs are the same
byte for byte.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from metrics_engine._batch.cases import worker_job
from metrics_engine._batch.inputs import BatchError, InputLines, Source, os_reason
from metrics_engine._batch.lines import RESCAN, LatestAt
from metrics_engine._batch.options import Tuning
from metrics_engine._batch.outputs import utf8
from metrics_engine._batch.run import Run
from metrics_engine._batch.scan import (
    case_runs,
    flush_after_long,
    partition_events,
    stream_events,
)
from metrics_engine._batch.spill import (
    Partitions,
    RejectedLines,
)

__all__ = [
    "ByteRange",
    "Piece",
    "RangeReader",
    "RangeScan",
    "plan_ranges",
    "read_ranges",
    "scan_in_ranges",
]

#: Part of one partition: (temp file, its bytes, what to add to the ordinals it holds).
Piece = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of one input file (``index``: its place among the inputs)."""

    index: int
    name: str
    path: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RangeScan:
    """What a worker found in one byte range (ordinals counted from the range's first line)."""

    lines: int  # lines that start in the range, blank and rejected ones included
    rejected: RejectedLines  # the lines that are not events
    latest: int | None  # latest ``at`` of an event in the range, None (no event) or RESCAN
    partitions: dict[int, tuple[str, int]]  # interleaved: partition index -> (file, bytes)
    runs: list[tuple[str, int]]  # grouped: (case id text, ordinal) where the case id changes


def plan_ranges(sources: Sequence[Source], workers: int, tuning: Tuning) -> list[ByteRange] | None:
    """The byte ranges for the workers, in input order; None to read the input in one pass
    (one worker, a gzip file, stdin or a pipe, or an input too small to be worth it)."""
    if workers < 2:
        return None
    paths: list[str] = []
    for source in sources:
        if source.path is None or source.packed or source.pipe is not None:
            return None
        paths.append(source.path)
    try:
        sizes = [os.path.getsize(path) for path in paths]
    except OSError:
        return None  # reading will say why
    total = sum(sizes)
    if total < tuning.parallel_scan_bytes:
        return None
    # At least four ranges per worker, so that the last to finish does not wait alone.
    size = max(1, min(tuning.scan_range_bytes, math.ceil(total / (4 * workers))))
    return [
        ByteRange(index, source.name, path, start, min(start + size, file_size))
        for index, (source, path, file_size) in enumerate(zip(sources, paths, sizes, strict=True))
        for start in range(0, max(file_size, 1), size)
    ]


def read_ranges(
    run: Run, lines: InputLines, ranges: list[ByteRange], count: int, track_at: bool, grouped: bool
) -> tuple[list[tuple[RangeScan, int]], int | None]:
    """The first pass by the workers: each range's findings with the number of lines before
    it (what makes its ordinals input-wide), and the latest ``at`` (RESCAN: not sure). The
    rejects go to ``run``; ``lines.files`` and ``lines.count`` are set."""
    pool = run.start_pool(run.workers)
    assert pool is not None
    futures = [
        pool.submit(
            scan_range, byte_range, run.folder, count, f"r{number}", track_at, run.max_line, grouped
        )
        for number, byte_range in enumerate(ranges)
    ]
    scans: list[RangeScan] = []
    for done, future in enumerate(futures, 1):
        scans.append(future.result())
        read = sum(scan.lines for scan in scans)
        run.progress.update("reading", read, 0, done / len(futures))
    offset = 0
    files: list[tuple[int, str]] = []
    found: list[tuple[RangeScan, int]] = []
    latest: int | None = None
    for byte_range, scan in zip(ranges, scans, strict=True):
        if byte_range.start == 0:
            files.append((offset + 1, byte_range.name))
        found.append((scan, offset))
        if scan.rejected.count:
            run.add_reject_stream(
                functools.partial(scan.rejected.read, offset), scan.rejected.count
            )
        if scan.latest == RESCAN or latest == RESCAN:
            latest = RESCAN
        elif scan.latest is not None and (latest is None or scan.latest > latest):
            latest = scan.latest
        offset += scan.lines
    lines.files = files
    lines.count = offset
    return found, latest


def scan_in_ranges(
    run: Run, lines: InputLines, ranges: list[ByteRange], count: int, track_at: bool
) -> tuple[list[list[Piece]], int | None]:
    """Interleaved input: the partitions (each a list of pieces, largest first) written by
    the workers, and the latest ``at`` (see :func:`read_ranges`)."""
    found, latest = read_ranges(run, lines, ranges, count, track_at, grouped=False)
    pieces: dict[int, list[Piece]] = {}
    for scan, offset in found:
        for index, (path, size) in scan.partitions.items():
            pieces.setdefault(index, []).append((path, size, offset))
    planned = sorted(pieces.values(), key=lambda p: sum(size for _, size, _ in p), reverse=True)
    return planned, latest


def scan_range(
    byte_range: ByteRange,
    folder: str,
    count: int,
    tag: str,
    track_at: bool,
    limit: int,
    grouped: bool,
) -> RangeScan:
    """Worker: the first pass over one byte range (see the module docstring): lines into
    ``count`` partitions, or (``grouped``) the case id changes noted."""
    job = worker_job()
    latest = LatestAt() if track_at else None
    partitions = Partitions(folder, count, tag=tag)  # grouped: count 0, none written
    rejects = RejectedLines(folder, f"rejects{tag}", job.tuning.parent_rejects_in_memory)
    runs: list[tuple[str, int]] = []

    def reject(ordinal: int, error: str) -> None:
        rejects.add(ordinal, utf8(error))

    try:
        with open(byte_range.path, "rb") as stream:
            reader = RangeReader(stream, limit, byte_range.start, byte_range.end)
            if grouped:
                events = stream_events(job, reader.read, 0, limit, reject, latest)
                runs = case_runs(events, reject)
            else:
                flush = flush_after_long(partitions)
                events = stream_events(job, reader.read, 0, limit, reject, latest, after_long=flush)
                partition_events(events, partitions)
    except OSError as error:
        raise BatchError(f"cannot read input {byte_range.name}: {os_reason(error)}") from None
    return RangeScan(
        lines=reader.lines,
        rejected=rejects,
        latest=latest.result() if latest is not None else None,
        partitions=partitions.close_by_index(),
        runs=runs,
    )


class RangeReader:
    """``readline`` (of at most the length limit and a line end) over the lines that start in
    ``[start, end)``: the first pass's reader, for one byte range. Counts the lines."""

    __slots__ = ("_end", "_line_start", "_position", "_readline", "_size", "lines")

    def __init__(self, stream: IO[bytes], limit: int, start: int, end: int) -> None:
        self._readline = stream.readline
        self._size = limit + 2
        self._end = end
        self.lines = 0
        position = start
        if start > 0:
            stream.seek(start - 1)
            if stream.read(1) != b"\n":  # inside a line: the range before reads it
                while True:
                    chunk = stream.readline(self._size)
                    position += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
        else:
            stream.seek(0)
        self._position = position
        self._line_start = True

    def read(self) -> bytes:
        """The next line, or chunk of a long line; ``b""`` at the range's end."""
        if self._line_start:
            if self._position >= self._end:
                return b""
            self.lines += 1
        chunk = self._readline(self._size)
        self._position += len(chunk)
        self._line_start = chunk.endswith(b"\n")
        return chunk
