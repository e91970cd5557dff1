"""Interleaved input (the default mode): lines partitioned by case into temp files, then
every partition run as a task, the records merged back in input order (see the package's
theory of operation)."""

from __future__ import annotations

import heapq
import math
import os
import zlib
from collections.abc import Iterator, Sequence

from metrics_engine._batch.cases import CaseLines, CaseRunner, Counts, worker_job
from metrics_engine._batch.inputs import InputLines, Source
from metrics_engine._batch.lines import RESCAN, LatestAt, exact_latest_at
from metrics_engine._batch.options import Tuning
from metrics_engine._batch.run import Run
from metrics_engine._batch.scan import event_lines
from metrics_engine._batch.spill import (
    CHUNK_LINES,
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
    partitions = Partitions(run.folder, _partition_count(sources, run.workers, run.job.tuning))
    latest = LatestAt() if track_at else None
    crc32 = zlib.crc32
    count = partitions.count
    buffers = partitions.buffers
    flush = partitions.flush

    def flush_long(key: str) -> None:
        flush(crc32(key.encode("utf-8", "surrogatepass")) % count)

    for ordinal, key, line, _ in event_lines(run, lines, latest, after_long=flush_long):
        index = crc32(key.encode("utf-8", "surrogatepass")) % count
        buffer = buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= CHUNK_LINES:
            flush(index)
    planned = partitions.close()
    if latest is not None:
        as_of = latest.result()
        if as_of == RESCAN:
            as_of = exact_latest_at(
                line for path, _ in planned for chunk in read_chunks(path) for _, _, line in chunk
            )
    outputs = _run_partitions(run, planned, as_of, lines.count)
    streams = [read_records(path) for path in outputs]
    streams.extend(run.parent_reject_streams())
    return heapq.merge(*streams, key=by_ordinal), lines, as_of


def _run_partitions(
    run: Run, planned: list[tuple[str, int]], as_of: int | None, lines_read: int
) -> list[str]:
    outputs = [path + ".out" for path, _ in planned]
    tuning = run.job.tuning
    resplit_at = tuning.partition_bytes * tuning.resplit_factor
    pool = run.start_pool(min(run.workers, len(planned)))
    if pool is None:
        for done, ((path, _), out) in enumerate(zip(planned, outputs, strict=True), 1):
            run.counts.add(_partition_task(path, out, as_of, resplit_at))
            run.progress.update("computing", lines_read, run.counts.cases, done / len(planned))
        return outputs
    futures = [
        pool.submit(_partition_task, path, out, as_of, resplit_at)
        for (path, _), out in zip(planned, outputs, strict=True)
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


def _partition_task(path: str, out_path: str, as_of: int | None, resplit_at: int) -> Counts:
    """Worker: one partition file in (deleted after), one sorted record file out."""
    runner = CaseRunner(worker_job(), as_of)
    counts = Counts()
    if os.path.getsize(path) > resplit_at:
        _resplit(path, out_path, runner, counts, resplit_at)
    else:
        write_records(out_path, _run_partition(path, runner, counts))
    os.unlink(path)
    return counts


def _run_partition(path: str, runner: CaseRunner, counts: Counts) -> list[Record]:
    groups: dict[str, CaseLines] = {}
    for chunk in read_chunks(path):
        for ordinal, key, line in chunk:
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


def _resplit(path: str, out_path: str, runner: CaseRunner, counts: Counts, resplit_at: int) -> None:
    """A partition too large to hold: split it by another hash, run each piece, merge."""
    folder = os.path.dirname(path)
    size = os.path.getsize(path)
    salt = zlib.crc32(os.path.basename(path).encode()) | 1
    tuning = runner.job.tuning
    pieces = Partitions(
        folder, min(tuning.max_resplit, math.ceil(size * tuning.resplit_factor / resplit_at)), salt
    )
    for chunk in read_chunks(path):
        for ordinal, key, line in chunk:
            pieces.add(ordinal, key, line)
    outputs = []
    for piece, _ in pieces.close():
        piece_out = piece + ".out"
        records = _run_partition(piece, runner, counts)
        write_records(piece_out, records)
        os.unlink(piece)
        outputs.append(piece_out)
    write_records(out_path, heapq.merge(*(read_records(p) for p in outputs), key=by_ordinal))
    for piece_out in outputs:
        os.unlink(piece_out)
