"""Interleaved input (the default mode): lines partitioned by case into temp files, then
every partition run as a task, the records merged back in input order (see the package's
theory of operation)."""

from __future__ import annotations

import heapq
import math
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence

from metrics_engine._batch.cases import CaseLines, CaseRunner, Counts, worker_job
from metrics_engine._batch.inputs import InputLines, Source
from metrics_engine._batch.lines import RESCAN, LatestAt, exact_latest_at
from metrics_engine._batch.options import Tuning
from metrics_engine._batch.ranges import Piece, plan_ranges, scan_in_ranges
from metrics_engine._batch.run import Run
from metrics_engine._batch.scan import event_lines, flush_after_long, partition_events
from metrics_engine._batch.spill import (
    Partitions,
    Record,
    by_ordinal,
    read_chunks,
    read_records,
    write_records,
)

__all__ = ["run_interleaved"]


def run_interleaved(
    run: Run, sources: Sequence[Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], InputLines, int | None]:
    """Partition, then run every partition; an iterator over all records in ordinal order."""
    lines = InputLines(sources, run.max_line)
    count = _partition_count(sources, run.workers, run.job.tuning)
    ranges = plan_ranges(sources, run.workers, run.job.tuning)
    if ranges is not None:  # the workers read the input (see ``ranges``)
        planned, latest_at = scan_in_ranges(run, lines, ranges, count, track_at)
    else:
        planned, latest_at = _partition(run, lines, count, track_at)
    if track_at:
        as_of = latest_at
        if as_of == RESCAN:
            as_of = exact_latest_at(line for _, _, line in _piece_lines(p for p in planned))
    outputs = _run_partitions(run, planned, as_of, lines.count)
    streams = [read_records(path) for path in outputs]
    streams.extend(run.parent_reject_streams())
    return heapq.merge(*streams, key=by_ordinal), lines, as_of


def _partition(
    run: Run, lines: InputLines, count: int, track_at: bool
) -> tuple[list[list[Piece]], int | None]:
    """The first pass in this process: each event line into the partition of its case."""
    partitions = Partitions(run.folder, count)
    latest = LatestAt() if track_at else None
    after_long = flush_after_long(partitions)
    partition_events(event_lines(run, lines, latest, after_long=after_long), partitions)
    planned = [[(path, size, 0)] for path, size in partitions.close()]
    return planned, latest.result() if latest is not None else None


def _piece_lines(partitions: Iterable[list[Piece]]) -> Iterator[tuple[int, str, bytes]]:
    """(ordinal, case id text, line) of every line in these partitions, piece by piece."""
    for pieces in partitions:
        for path, _, offset in pieces:
            for chunk in read_chunks(path):
                if offset:
                    for ordinal, key, line in chunk:
                        yield ordinal + offset, key, line
                else:
                    yield from chunk


def _run_partitions(
    run: Run, planned: list[list[Piece]], as_of: int | None, lines_read: int
) -> list[str]:
    outputs = [pieces[0][0] + ".out" for pieces in planned]
    tuning = run.job.tuning
    resplit_at = tuning.partition_bytes * tuning.resplit_factor
    pool = run.pool if run.pool is not None else run.start_pool(min(run.workers, len(planned)))
    if pool is None:
        for done, (pieces, out) in enumerate(zip(planned, outputs, strict=True), 1):
            run.counts.add(_partition_task(pieces, out, as_of, resplit_at))
            run.progress.update("computing", lines_read, run.counts.cases, done / len(planned))
        return outputs
    futures = [
        pool.submit(_partition_task, pieces, out, as_of, resplit_at)
        for pieces, out in zip(planned, outputs, strict=True)
    ]
    for done, future in enumerate(futures, 1):
        run.counts.add(future.result())
        run.progress.update("computing", lines_read, run.counts.cases, done / len(futures))
    return outputs


def _partition_count(sources: Sequence[Source], workers: int, tuning: Tuning) -> int:
    sizes = [source.estimated_size() for source in sources]
    if any(size is None for size in sizes):
        wanted = tuning.unknown_size_partitions
    else:
        wanted = math.ceil(sum(s for s in sizes if s is not None) / tuning.partition_bytes)
    if workers > 1:
        wanted = max(wanted, 2 * workers)
    return max(1, min(wanted, tuning.max_partitions))


def _partition_task(
    pieces: list[Piece], out_path: str, as_of: int | None, resplit_at: int
) -> Counts:
    """Worker: one partition in (its files deleted after), one sorted record file out."""
    runner = CaseRunner(worker_job(), as_of)
    counts = Counts()
    if sum(os.path.getsize(path) for path, _, _ in pieces) > resplit_at:
        _resplit(pieces, out_path, runner, counts, resplit_at)
    else:
        write_records(out_path, _run_partition(pieces, runner, counts))
    for path, _, _ in pieces:
        os.unlink(path)
    return counts


def _run_partition(pieces: list[Piece], runner: CaseRunner, counts: Counts) -> list[Record]:
    groups: dict[str, CaseLines] = {}
    for ordinal, key, line in _piece_lines([pieces]):
        group = groups.get(key)
        if group is None:
            groups[key] = [(ordinal, line)]
        else:
            group.append((ordinal, line))
    records: list[Record] = []
    for key in list(groups):
        case_records, case_counts = runner.run(groups.pop(key))
        records.extend(case_records)
        counts.add(case_counts)
    records.sort(key=by_ordinal)
    return records


def _resplit(
    pieces: list[Piece], out_path: str, runner: CaseRunner, counts: Counts, resplit_at: int
) -> None:
    """A partition too large to hold: split it by another hash, run each piece, merge."""
    folder = os.path.dirname(out_path)
    size = sum(os.path.getsize(path) for path, _, _ in pieces)
    salt = zlib.crc32(os.path.basename(out_path).encode()) | 1
    tuning = runner.job.tuning
    split = Partitions(
        folder, min(tuning.max_resplit, math.ceil(size * tuning.resplit_factor / resplit_at)), salt
    )
    for ordinal, key, line in _piece_lines([pieces]):
        split.add(ordinal, key, line)
    outputs = []
    for part, part_size in split.close():
        part_out = part + ".out"
        records = _run_partition([(part, part_size, 0)], runner, counts)
        write_records(part_out, records)
        os.unlink(part)
        outputs.append(part_out)
    write_records(out_path, heapq.merge(*(read_records(p) for p in outputs), key=by_ordinal))
    for part_out in outputs:
        os.unlink(part_out)
