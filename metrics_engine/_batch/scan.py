"""The parent's pass over the input lines (batch layer): for each line that is an event, its
ordinal, case id and raw bytes; lines that are not events are rejected on the way, and the
latest ``at`` is kept."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator, Iterator
from typing import Any

from metrics_engine._batch.cases import Job
from metrics_engine._batch.inputs import InputLines, line_reader, over_limit, skip_rest, too_long
from metrics_engine._batch.lines import (
    PLAIN_AT,
    LatestAt,
    extract_cheap,
    extract_std,
    key_struct,
    orjson,
    read_event_fast,
    read_event_std,
    std_loads,
)
from metrics_engine._batch.run import Run
from metrics_engine._batch.spill import CHUNK_LINES, Partitions
from metrics_engine._events import int_fits

__all__ = ["case_runs", "event_lines", "partition_events", "stream_events"]


def event_lines(
    run: Run,
    lines: InputLines,
    latest: LatestAt | None,
    *,
    parse_all: bool = False,
    after_long: Callable[[str], None] | None = None,
) -> Iterator[tuple[int, str, bytes, Any]]:
    """(ordinal, case id text, raw line, parsed event or None) for each line that is an event,
    over every input in turn (see :func:`stream_events`); lines are numbered across inputs."""
    progress = run.progress

    def tick(ordinal: int) -> None:
        progress.update("reading", ordinal, run.counts.cases, lines.fraction())

    for source in lines.sources:
        with lines.reading(source) as stream:
            read = line_reader(stream, lines.max_line)
            lines.count = yield from stream_events(
                run.job,
                read,
                lines.count,
                lines.max_line,
                run.reject_line,
                latest,
                parse_all=parse_all,
                after_long=after_long,
                tick=tick,
            )


def partition_events(events: Iterator[tuple[int, str, bytes, Any]], partitions: Partitions) -> None:
    """Each event line into the partition of its case (``crc32`` of the case id text), in
    buffers written out by :class:`Partitions` (the first pass of interleaved input)."""
    count = partitions.count
    buffers = partitions.buffers
    flush = partitions.flush
    crc32 = zlib.crc32
    for ordinal, key, line, _ in events:
        index = crc32(key.encode("utf-8", "surrogatepass")) % count
        buffer = buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= CHUNK_LINES:
            flush(index)


def case_runs(
    events: Iterator[tuple[int, str, bytes, Any]], reject: Callable[[int, str], None]
) -> list[tuple[str, int]]:
    """(case id text, ordinal) of each line at which the case id changes: where the cases of
    grouped input start (the first pass of ``--grouped``).

    A case id found by a quick way (``obj`` None) may come from a line that is no event (cut
    off, or naming a case only inside a nested object): inside a case that does no harm (the
    worker rejects the line), but at a change it would start a case, or repeat one, that is
    not there. So a change is confirmed by a full parse; a line that is no event is rejected
    (``reject``) in place. One parse per case.
    """
    runs: list[tuple[str, int]] = []
    now: str | None = None
    for ordinal, key, line, obj in events:
        if key == now:
            continue
        if obj is None:
            confirmed, _, error, _ = extract_std(line)
            if confirmed is None:
                reject(ordinal, error or "")
                continue
            if confirmed == now:
                continue
            key = confirmed
        runs.append((key, ordinal))
        now = key
    return runs


def flush_after_long(partitions: Partitions) -> Callable[[str], None]:
    """``after_long`` of :func:`stream_events` for :func:`partition_events`: the partition of
    a long line is written out at once, so that long lines never pile up in memory."""

    def flush_long(key: str) -> None:
        partitions.flush(zlib.crc32(key.encode("utf-8", "surrogatepass")) % partitions.count)

    return flush_long


def stream_events(
    job: Job,
    read: Callable[[], bytes],
    count: int,
    limit: int,
    reject: Callable[[int, str], None],
    latest: LatestAt | None,
    *,
    parse_all: bool = False,
    after_long: Callable[[str], None] | None = None,
    tick: Callable[[int], None] | None = None,
) -> Generator[tuple[int, str, bytes, Any], None, int]:
    """(ordinal, case id text, raw line, parsed event or None) for each line of one stream
    that is an event, numbered from ``count + 1``; returns the last ordinal handed out.

    The hot loop of the first pass, written flat because it runs once per input line. The
    case id and ``at`` come from msgspec decoding only those two keys (when the job parses
    lines into events with it), else from a full orjson parse, else from the byte search of
    :func:`extract_cheap`; json decides whenever the quick way is unsure. Lines that are
    certainly not events are rejected on the way (``reject``), and ``latest`` (when given)
    sees every ``at``. ``tick`` is called every 16,384 lines (the progress line).
    ``parse_all`` asks for the parsed event on the stdlib path too (grouped mode in one
    process uses it at once, so each line is parsed once).
    ``read`` gives a line in chunks of at most the length limit: a longer one is rejected
    without being held whole. A long line within the limit (rare) is parsed in full and, once
    the caller has taken it, ``after_long`` is called with its case id (the partition pass
    then writes that partition's buffer out, so that long lines never pile up in memory).
    """
    fast = job.fast
    structs = job.structs
    loads = orjson.loads if fast else std_loads
    decode_error = orjson.JSONDecodeError if fast else ValueError
    extract = extract_std if parse_all else extract_cheap
    plain_at = PLAIN_AT.fullmatch
    by_offset = latest.by_offset if latest is not None else {}
    note_other = latest.note_other if latest is not None else None
    long_line = min(limit, job.tuning.long_line)
    read_full = read_event_fast if fast else read_event_std
    key: str | None
    at: Any
    obj: Any
    ordinal = count
    for ordinal, line in enumerate(iter(read, b""), count + 1):
        if len(line) > long_line:  # rare: see the docstring
            if over_limit(line, limit):
                skip_rest(read, line)
                reject(ordinal, too_long(limit))
                continue
            obj, key, error = read_full(line)
            if key is None:
                reject(ordinal, error or "")
                continue
            at = obj.get("at")
            if note_other is not None and type(at) is str:
                note_other(at, line)
            yield ordinal, key, line, obj
            if after_long is not None:
                after_long(key)
            continue
        if line[0] != 0x7B and line.isspace():
            continue  # blank lines are not events: skipped, not rejected
        key = None
        at = None
        obj = None
        if structs:
            key, at = key_struct(line)
            if key is None:  # not for msgspec: json decides, and words any error
                key, at, error, obj = extract_std(line)
        elif fast:
            try:
                obj = loads(line)
            except decode_error:
                obj = None
            if type(obj) is dict:
                case = obj.get("case")
                if type(case) is str:
                    key = case
                elif type(case) is int and int_fits(case):
                    key = str(case)
                at = obj.get("at")
            if key is None:  # not JSON for orjson, no usable case id, a huge integer
                key, at, error, obj = extract_std(line)
        else:
            key, at, error, obj = extract(line)
        if key is None:
            reject(ordinal, error or "")
            continue
        if note_other is not None and type(at) is str:
            if plain_at(at) is not None:
                stamp = at[:19]
                latest_here = by_offset.get(at[19:])
                if latest_here is None:
                    by_offset[at[19:]] = [stamp, line]
                elif stamp > latest_here[0]:
                    latest_here[0] = stamp
                    latest_here[1] = line
            else:
                note_other(at, line)
        if not ordinal & 0x3FFF and tick is not None:
            tick(ordinal)
        yield ordinal, key, line, obj
    return ordinal
