"""Batch runs of the ``metrics-engine`` command (SPEC section 8): how a run is carried out.

The batch layer is the only code with files. It is split by job: ``_batch_lines`` (what one
input line holds: JSON backend, case id, ``at``), ``_batch_input`` (event files, stdin, pipes,
gzip, line numbers, calendar files), ``_batch_spill`` (records, temp files, partitions) and
``_batch_output`` (rows, rejects, output files). This module runs them: the options, the
per-case work, the worker pool, the two modes and the summary counts.

Theory of operation
-------------------
Every input line has a global *ordinal* (1, 2, ... across the inputs in the order given).
Everything that leaves a worker is a *record* ``(ordinal, type, payload)``: a row,
a rejected case or a rejected line. A row's ordinal is that of its case's first valid line,
so sorting records by ordinal gives rows "in the order in which each case first appears",
whatever the number of workers; a reject's is that of the line it points at, so rejects read
in file order.

Interleaved input (default), two passes:

1. The parent reads every line once, finds its case id and ``at`` cheaply (``orjson`` when it
   is installed; else a pinned-down byte search that falls back to ``json`` whenever it could
   be fooled), and appends ``(ordinal, case id text, raw line)`` to one of P partition files
   chosen by ``zlib.crc32`` of the case id text. It also keeps the latest ``at`` (for the
   default ``as_of``) and rejects lines it already knows are not events.
2. Each partition (in a process pool, or in-process for one worker) is read into memory,
   grouped by case, and each case goes through the per-case function ``_case.compute_case``.
   Its records, sorted, go to a partition output file; the parent then merges those files
   by ordinal (``heapq.merge``) into the final outputs. A partition far larger than planned
   (stdin of unknown size) is split again by a salted hash before it is read.

Grouped input (``--grouped``) streams: consecutive lines of one case form a case, cases go
in batches to the pool (a bounded window of batches in flight), results come back in order.
Without ``--as-of`` a first pass finds the latest ``at``, checks the grouping and notes
where each case starts, so that the second pass cuts cases without parsing a line (stdin is
spooled to a temp file for it). A case that appears again after another case stops the run:
nothing is committed. The byte search may find a case id in a line that is no event; a line
where the case id changes is therefore parsed in full before it counts (one parse per case),
so that such a line is rejected in place, as with orjson, and never cuts or repeats a case.

The default ``as_of`` is kept exact cheaply (see ``_batch_lines``). With ``orjson``, results
are identical to the stdlib path by construction: a case that fails is re-read with ``json``
before it is rejected (orjson reads integers beyond 64 bits as floats).

Outputs are committed only at the very end, once the run has succeeded (see ``_batch_output``).
"""

from __future__ import annotations

import heapq
import json
import math
import os
import shutil
import sys
import tempfile
import time
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import IO, Any, Literal

import holidays

from metrics_engine._batch_input import (
    DEFAULT_MAX_LINE,
    BatchError,
    Calendar,
    _Lines,
    _locate,
    _skip_rest,
    _Source,
    _sources,
    _spool_stdin,
    line_reader,
    load_calendar,
    over_limit,
    too_long,
)
from metrics_engine._batch_lines import (
    _PLAIN_AT,
    _RESCAN,
    _exact_latest_at,
    _extract_cheap,
    _extract_std,
    _LatestAt,
    _orjson,
    _read_event_fast,
    _read_event_std,
    _std_loads,
    json_backend,
)
from metrics_engine._batch_output import (
    COLUMNS,
    Absent,
    Output,
    OutputFormat,
    OutputPair,
    _dumps,
    _dumps_std,
    _reject_json,
    _RowEncoder,
    _utf8,
    open_output,
)
from metrics_engine._batch_signals import (
    Interrupted,
    PoolGuard,
    deferred,
    start_pool,
    stop_pool,
    watch_parent,
)
from metrics_engine._batch_spill import (
    _CASE_REJECT,
    _CASE_REPORT,
    _CHUNK_LINES,
    _LINE_REJECT,
    _ROW,
    Record,
    _by_ordinal,
    _Partitions,
    _read_chunks,
    _read_records,
    _temp_error,
    _write_chunk,
    _write_records,
)
from metrics_engine._batch_targets import plan_outputs
from metrics_engine._case import compute_case, validate_case
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import parse_instant
from metrics_engine._rules import Rules

__all__ = [
    "BatchError",
    "ComputeOptions",
    "Hooks",
    "Summary",
    "Tuning",
    "ValidateOptions",
    "ValidateSummary",
    "json_backend",
    "load_calendar",
    "run_compute",
    "run_validate",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tuning:
    """The limits of a run's memory and work. The defaults suit every input; tests pass small
    ones to reach the paths that only big inputs take (re-split partitions, spilled rejects)."""

    #: Raw input bytes planned per partition (a worker holds about 3x this in memory).
    partition_bytes: int = 16 * 1024 * 1024
    #: A partition larger than this many times ``partition_bytes`` is split again.
    resplit_factor: int = 4
    max_partitions: int = 256
    max_resplit: int = 256  # pieces of one re-split partition
    unknown_size_partitions: int = 64  # stdin: its size is unknown
    batch_lines: int = 4000  # grouped mode: lines per batch sent to a worker
    #: Interleaved mode: lines rejected by the parent are spilled to disk beyond this many.
    parent_rejects_in_memory: int = 65536
    #: A line longer than this is handled apart (see _event_lines); events are ~200 bytes.
    long_line: int = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Hooks:
    """What a run takes from its surroundings; tests pass their own."""

    clock: Callable[[], float] = time.monotonic  # times the progress line
    progress_stream: IO[str] | None = None  # None: stderr as the run starts
    temp_root: str | None = None  # where the run's temp folder goes; None: TMPDIR's choice


# ====================================================================== per-case work


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker does with a case. Sent once to each worker (the calendar keeps its cache)."""

    mode: Literal["compute", "validate"]
    fast: bool = False  # read lines with orjson (chosen once per run: see json_backend)
    calendar: Calendar | None = None
    rules: Rules = field(default_factory=Rules)
    strict: bool = True
    absent: Absent = "null"
    csv: bool = False
    tuning: Tuning = field(default_factory=Tuning)


@dataclass(slots=True)
class _Counts:
    events: int = 0
    cases: int = 0
    rows: int = 0
    case_rejects: int = 0
    line_rejects: int = 0
    problems: int = 0  # validate: problems inside cases
    not_created: int = 0  # compute: cases created after as_of (no row, no reject)
    skipped: int = 0  # compute: events skipped by lenient mode in the rows written

    def add(self, other: _Counts) -> None:
        self.events += other.events
        self.cases += other.cases
        self.rows += other.rows
        self.case_rejects += other.case_rejects
        self.line_rejects += other.line_rejects
        self.problems += other.problems
        self.not_created += other.not_created
        self.skipped += other.skipped


Lines = list[tuple[int, bytes]]


def _read_case(
    job: _Job, lines: Lines, parsed: list[Any] | None, records: list[Record], counts: _Counts
) -> tuple[list[Any], list[int]]:
    """The events of one case and their ordinals; lines that are not events become records."""
    read = _read_event_fast if job.fast else _read_event_std
    events: list[Any] = []
    ordinals: list[int] = []
    for position, (ordinal, line) in enumerate(lines):
        obj = parsed[position] if parsed is not None else None
        if obj is None:
            obj, _, error = read(line)
            if error is not None:
                records.append((ordinal, _LINE_REJECT, _utf8(error)))
                counts.line_rejects += 1
                continue
        events.append(obj)
        ordinals.append(ordinal)
    counts.events += len(events)
    return events, ordinals


def _reread_std(lines: Lines, ordinals: list[int], events: list[Any]) -> list[Any]:
    """The same events read with json (see the module docstring: integers beyond 64 bits)."""
    by_ordinal = dict(lines)
    again = []
    for ordinal, event in zip(ordinals, events, strict=True):
        try:
            again.append(json.loads(by_ordinal[ordinal]))
        except (ValueError, RecursionError):
            again.append(event)
    return again


def _compute_case(
    job: _Job, as_of: int | None, lines: Lines, parsed: list[Any] | None, encoder: _RowEncoder
) -> tuple[list[Record], _Counts]:
    """One case through the per-case function (the one Spark and ``compute_batch`` use): a
    row, a reject pointing at the offending line, or a case not yet created at ``as_of``."""
    records: list[Record] = []
    counts = _Counts()
    events, ordinals = _read_case(job, lines, parsed, records, counts)
    if not events:
        return records, counts
    counts.cases = 1
    outcome = compute_case(
        events, calendar=job.calendar, as_of=as_of, strict=job.strict, rules=job.rules
    )
    if outcome.error is not None and job.fast:  # orjson reads huge integers as floats
        events = _reread_std(lines, ordinals, events)
        outcome = compute_case(
            events, calendar=job.calendar, as_of=as_of, strict=job.strict, rules=job.rules
        )
    first = ordinals[0]
    if outcome.metrics is not None:
        records.append((first, _ROW, encoder.encode(events[0]["case"], outcome.metrics)))
        counts.rows = 1
        counts.skipped = outcome.metrics.skipped_events
    elif outcome.not_created:
        counts.not_created = 1
    else:
        index = outcome.index
        where = ordinals[index] if index is not None and 0 <= index < len(ordinals) else first
        payload = _dumps([events[0]["case"], where, index, outcome.detail])
        # Keyed by the line it points at: rejects read in file order. (Still inside the
        # case's span of lines, which grouped mode relies on.)
        records.append((where, _CASE_REJECT, payload))
        counts.case_rejects = 1
    return records, counts


def _validate_case(
    job: _Job, lines: Lines, parsed: list[Any] | None
) -> tuple[list[Record], _Counts]:
    """A case's summary and every problem in it, by line (``metrics-engine validate``): the
    same replay loop as ``compute``, with the same rules, recording every problem."""
    records: list[Record] = []
    counts = _Counts()
    events, ordinals = _read_case(job, lines, parsed, records, counts)
    if not events:
        return records, counts
    counts.cases = 1
    kinds: Counter[str] = Counter()
    for event in events:
        kind = event.get("event")
        kinds[kind if isinstance(kind, str) else json.dumps(kind)] += 1
    found = validate_case(events, strict=job.strict, rules=job.rules)
    problems = [
        (ordinals[problem.index] if problem.index is not None else ordinals[0], problem.index,
         problem.detail)
        for problem in found.problems
    ]  # fmt: skip
    problems.sort(key=itemgetter(0, 1))  # by line, as a reader goes through the file
    counts.problems = len(problems)
    instants = found.instants
    report = {
        "case": events[0]["case"],
        "events": len(events),
        "kinds": dict(sorted(kinds.items())),
        "first": _iso(min(instants)) if instants else None,
        "last": _iso(max(instants)) if instants else None,
        "problems": problems,
    }
    records.append((ordinals[0], _CASE_REPORT, _dumps_std(report)))
    return records, counts


def _iso(epoch_second: int) -> str:
    return datetime.fromtimestamp(epoch_second, UTC).isoformat(timespec="seconds")


class _CaseRunner:
    """Runs cases for one job at one ``as_of`` (one per task; it holds a row encoder)."""

    def __init__(self, job: _Job, as_of: int | None) -> None:
        self.job = job
        self.as_of = as_of
        self.encoder = _RowEncoder(job.absent, job.csv)

    def run(self, lines: Lines, parsed: list[Any] | None = None) -> tuple[list[Record], _Counts]:
        if self.job.mode == "validate":
            return _validate_case(self.job, lines, parsed)
        return _compute_case(self.job, self.as_of, lines, parsed, self.encoder)


# The job of this worker process, set once by the pool initializer (or by the parent when
# it works alone).
_WORKER_JOB: _Job | None = None


def _init_worker(job: _Job, guard: PoolGuard | None) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    # The terminal's signals reach the whole process group: the parent cleans up and ends
    # the pool; a worker also ends when its parent dies (see _batch_signals).
    watch_parent(guard)


def _job() -> _Job:
    assert _WORKER_JOB is not None, "worker used before _init_worker"
    return _WORKER_JOB


# ====================================================================== worker tasks


def _partition_task(path: str, out_path: str, as_of: int | None, resplit_at: int) -> _Counts:
    """Worker: one partition file in (deleted after), one sorted record file out."""
    runner = _CaseRunner(_job(), as_of)
    counts = _Counts()
    if os.path.getsize(path) > resplit_at:
        _resplit(path, out_path, runner, counts, resplit_at)
    else:
        _write_records(out_path, _run_partition(path, runner, counts))
    os.unlink(path)
    return counts


def _run_partition(path: str, runner: _CaseRunner, counts: _Counts) -> list[Record]:
    groups: dict[str, Lines] = {}
    for chunk in _read_chunks(path):
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
    records.sort(key=_by_ordinal)
    return records


def _resplit(
    path: str, out_path: str, runner: _CaseRunner, counts: _Counts, resplit_at: int
) -> None:
    """A partition too large to hold: split it by another hash, run each piece, merge."""
    folder = os.path.dirname(path)
    size = os.path.getsize(path)
    salt = zlib.crc32(os.path.basename(path).encode()) | 1
    tuning = runner.job.tuning
    pieces = _Partitions(
        folder, min(tuning.max_resplit, math.ceil(size * tuning.resplit_factor / resplit_at)), salt
    )
    for chunk in _read_chunks(path):
        for ordinal, key, line in chunk:
            pieces.add(ordinal, key, line)
    outputs = []
    for piece, _ in pieces.close():
        piece_out = piece + ".out"
        records = _run_partition(piece, runner, counts)
        _write_records(piece_out, records)
        os.unlink(piece)
        outputs.append(piece_out)
    _write_records(out_path, heapq.merge(*(_read_records(p) for p in outputs), key=_by_ordinal))
    for piece_out in outputs:
        os.unlink(piece_out)


def _batch_task(
    as_of: int | None, batch: list[tuple[Lines, list[Any] | None]]
) -> tuple[list[Record], _Counts]:
    """Worker (grouped mode): a batch of whole cases; records sorted by ordinal."""
    runner = _CaseRunner(_job(), as_of)
    records: list[Record] = []
    counts = _Counts()
    for lines, parsed in batch:
        case_records, case_counts = runner.run(lines, parsed)
        records.extend(case_records)
        counts.add(case_counts)
    records.sort(key=_by_ordinal)
    return records, counts


# ====================================================================== progress


class _Progress:
    """One self-rewriting line on stderr: only on a terminal and after two seconds."""

    def __init__(self, enabled: bool, hooks: Hooks) -> None:
        stream = hooks.progress_stream if hooks.progress_stream is not None else sys.stderr
        self.enabled = enabled and stream is not None and stream.isatty()
        self.stream = stream
        self.clock = hooks.clock
        self.started = self.clock()
        self._last = 0.0
        self._shown = False

    def update(self, phase: str, lines_read: int, cases: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self.started
        if elapsed < 2.0 or now - self._last < 0.5:
            return
        self._last = now
        rate = lines_read / elapsed if elapsed else 0.0
        self.stream.write(
            f"\r{phase}: {lines_read:,} lines read, {cases:,} cases done, {rate:,.0f} lines/s\x1b[K"
        )
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


# ====================================================================== the run


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeOptions:
    """Everything ``metrics-engine compute`` was asked (paths are as given)."""

    inputs: Sequence[str]
    calendar: Calendar | None = None
    out: str | None = None  # None: stdout
    rejects: str | None = None  # None: OUT.rejects.jsonl, or stderr without out; "-": stderr
    format: OutputFormat = "jsonl"
    as_of: str | None = None
    absent: Absent = "null"
    lenient: bool = False
    grouped: bool = False
    workers: int = 1
    quiet: bool = False
    rules: Rules = field(default_factory=Rules)
    max_line_bytes: int = DEFAULT_MAX_LINE
    #: Files read besides the inputs (calendars): no output may name one of them.
    other_inputs: Sequence[str] = ()
    tuning: Tuning = field(default_factory=Tuning)
    hooks: Hooks = field(default_factory=Hooks)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidateOptions:
    inputs: Sequence[str]
    lenient: bool = False
    workers: int = 1
    quiet: bool = False
    max_line_bytes: int = DEFAULT_MAX_LINE
    rules: Rules = field(default_factory=Rules)
    tuning: Tuning = field(default_factory=Tuning)
    hooks: Hooks = field(default_factory=Hooks)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a compute run did; ``line()`` is the summary printed on stderr."""

    cases: int
    events: int
    rows: int
    case_rejects: int
    line_rejects: int
    as_of: str | None
    holidays_version: str
    not_created: int = 0  # cases created after as_of: no row, no reject
    skipped_events: int = 0  # unknown event kinds skipped by --lenient, in the rows written

    @property
    def rejects(self) -> int:
        return self.case_rejects + self.line_rejects

    @property
    def exit_code(self) -> int:
        return 1 if self.rejects else 0

    def line(self) -> str:
        return (
            f"metrics-engine compute: {self.cases} cases, {self.events} events, "
            f"{self.rows} rows written, {self.rejects} rejects "
            f"({self.case_rejects} cases, {self.line_rejects} lines), "
            f"{self.not_created} not yet created, "
            f"{self.skipped_events} events skipped by --lenient, "
            f"as_of {self.as_of or 'none'}, holidays {self.holidays_version}"
        )


@dataclass(frozen=True, slots=True)
class ValidateSummary:
    files: int
    lines: int
    cases: int
    events: int
    bad_lines: int
    problems: int
    cases_with_problems: int

    @property
    def exit_code(self) -> int:
        return 1 if self.bad_lines or self.problems else 0

    def line(self) -> str:
        total = self.bad_lines + self.problems
        verdict = "clean" if not total else _plural(total, "problem")
        return (
            f"metrics-engine validate: {self.files} files, {self.lines} lines, "
            f"{self.cases} cases, {self.events} events: {verdict} "
            f"({self.cases_with_problems} cases with problems, {self.bad_lines} bad lines)"
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def holidays_version() -> str:
    """The release of the ``holidays`` package (business results depend on it)."""
    return str(getattr(holidays, "__version__", "unknown"))


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int) -> int:
    """``0`` means every usable CPU; more workers than CPUs never help, so never more."""
    if workers < 0:
        raise BatchError(f"--workers: expected 0 (every CPU) or more, found {workers}")
    cpus = _usable_cpus()
    return min(workers, cpus) if workers else cpus


def _parse_as_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_instant(value, "--as-of")
    except MetricsEngineError as error:
        raise BatchError(error.detail) from None


class _Run:
    """State shared by both modes: temp folder, pool, parent-side rejects, counts."""

    def __init__(
        self,
        job: _Job,
        workers: int,
        quiet: bool,
        max_line: int = DEFAULT_MAX_LINE,
        hooks: Hooks | None = None,
    ) -> None:
        hooks = hooks if hooks is not None else Hooks()
        self.job = job
        self.workers = workers
        self.max_line = max_line
        self.progress = _Progress(not quiet, hooks)
        self.counts = _Counts()
        try:
            self.folder = tempfile.mkdtemp(prefix="metrics-engine-", dir=hooks.temp_root)
        except OSError as error:
            where = hooks.temp_root if hooks.temp_root is not None else tempfile.gettempdir()
            raise _temp_error(where, error) from None
        self.pool: ProcessPoolExecutor | None = None
        self._guard: PoolGuard | None = None
        # lines the parent already knows are not events: (ordinal, error)
        self.parent_rejects: list[Record] = []
        self._parent_reject_files: list[str] = []
        self._rejects_in_memory = job.tuning.parent_rejects_in_memory

    def start_pool(self, workers: int) -> ProcessPoolExecutor | None:
        global _WORKER_JOB
        if workers <= 1:
            _WORKER_JOB = self.job
            return None
        self.pool, self._guard = start_pool(workers, _init_worker, (self.job,))
        return self.pool

    def stop_pool(self, *, kill: bool = False) -> None:
        """Shut the pool down (``kill``: end its workers now, the run has failed)."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            stop_pool(pool, self._guard, kill=kill)

    def reject_line(self, ordinal: int, error: str) -> None:
        self.parent_rejects.append((ordinal, _LINE_REJECT, _utf8(error)))
        self.counts.line_rejects += 1
        if len(self.parent_rejects) >= self._rejects_in_memory:  # a file of garbage
            path = os.path.join(self.folder, f"parent-rejects-{len(self._parent_reject_files)}")
            try:
                _write_records(path, self.parent_rejects)
            except OSError as error:
                raise _temp_error(self.folder, error) from None
            self._parent_reject_files.append(path)
            self.parent_rejects = []

    def parent_reject_streams(self) -> list[Iterator[Record]]:
        streams: list[Iterator[Record]] = [_read_records(p) for p in self._parent_reject_files]
        streams.append(iter(self.parent_rejects))
        return streams

    def close(self) -> None:
        """Workers ended, temp folder removed. Safe to call again (see _finish)."""
        global _WORKER_JOB
        _WORKER_JOB = None
        self.stop_pool(kill=True)  # a run that succeeded has stopped it already
        shutil.rmtree(self.folder, ignore_errors=True)
        self.progress.clear()


def _partition_count(sources: Sequence[_Source], workers: int, tuning: Tuning) -> int:
    sizes = [source.estimated_size() for source in sources]
    if any(size is None for size in sizes):
        wanted = tuning.unknown_size_partitions
    else:
        wanted = math.ceil(sum(s for s in sizes if s is not None) / tuning.partition_bytes)
    if workers > 1:
        wanted = max(wanted, 2 * workers)
    return max(1, min(wanted, tuning.max_partitions))


def _event_lines(
    run: _Run,
    lines: _Lines,
    latest: _LatestAt | None,
    *,
    parse_all: bool = False,
    after_long: Callable[[str], None] | None = None,
) -> Iterator[tuple[int, str, bytes, Any]]:
    """(ordinal, case id text, raw line, parsed event or None) for each line that is an event.

    The parent's hot loop, written flat because it runs once per input line: with orjson a
    full parse is the cheapest way to the case id and ``at``; without it, the byte search of
    :func:`_extract_cheap`. Lines that are certainly not events are rejected on the way, and
    ``latest`` (when given) sees every ``at``.
    ``parse_all`` asks for the parsed event on the stdlib path too (grouped mode in one
    process uses it at once, so each line is parsed once).
    A line is read in chunks of at most the length limit: a longer one is rejected without
    being held whole. A long line within the limit (rare) is parsed in full and, once the
    caller has taken it, ``after_long`` is called with its case id (the partition pass then
    writes that partition's buffer out, so that long lines never pile up in memory).
    """
    fast = run.job.fast
    loads = _orjson.loads if fast else _std_loads
    decode_error = _orjson.JSONDecodeError if fast else ValueError
    extract = _extract_std if parse_all else _extract_cheap
    reject = run.reject_line
    progress = run.progress
    plain_at = _PLAIN_AT.fullmatch
    by_offset = latest.by_offset if latest is not None else {}
    note_other = latest.note_other if latest is not None else None
    limit = lines.max_line
    long_line = min(limit, run.job.tuning.long_line)
    read_full = _read_event_fast if fast else _read_event_std
    key: str | None
    at: Any
    obj: Any
    for source in lines.sources:
        with lines.reading(source) as stream:
            ordinal = lines.count
            read = line_reader(stream, limit)
            for ordinal, line in enumerate(iter(read, b""), lines.count + 1):
                if len(line) > long_line:  # rare: see the docstring
                    if over_limit(line, limit):
                        _skip_rest(read, line)
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
                if fast:
                    try:
                        obj = loads(line)
                    except decode_error:
                        obj = None
                    if type(obj) is dict:
                        case = obj.get("case")
                        if type(case) is str:
                            key = case
                        elif type(case) is int:
                            key = str(case)
                        at = obj.get("at")
                    if key is None:  # not JSON for orjson, no usable case id, a huge integer
                        key, at, error, obj = _extract_std(line)
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
                if not ordinal & 0x3FFF:
                    progress.update("reading", ordinal, run.counts.cases)
                yield ordinal, key, line, obj
            lines.count = ordinal


def _run_interleaved(
    run: _Run, sources: Sequence[_Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], _Lines, int | None]:
    """Partition, then run every partition; an iterator over all records in ordinal order."""
    lines = _Lines(sources, run.max_line)
    partitions = _Partitions(run.folder, _partition_count(sources, run.workers, run.job.tuning))
    latest = _LatestAt() if track_at else None
    crc32 = zlib.crc32
    count = partitions.count
    buffers = partitions.buffers
    flush = partitions.flush

    def flush_long(key: str) -> None:
        flush(crc32(key.encode("utf-8", "surrogatepass")) % count)

    for ordinal, key, line, _ in _event_lines(run, lines, latest, after_long=flush_long):
        index = crc32(key.encode("utf-8", "surrogatepass")) % count
        buffer = buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= _CHUNK_LINES:
            flush(index)
    planned = partitions.close()
    if latest is not None:
        as_of = latest.result()
        if as_of == _RESCAN:
            as_of = _exact_latest_at(
                line for path, _ in planned for chunk in _read_chunks(path) for _, _, line in chunk
            )
    outputs = _run_partitions(run, planned, as_of, lines.count)
    streams = [_read_records(path) for path in outputs]
    streams.extend(run.parent_reject_streams())
    return heapq.merge(*streams, key=_by_ordinal), lines, as_of


def _run_partitions(
    run: _Run, planned: list[tuple[str, int]], as_of: int | None, lines_read: int
) -> list[str]:
    outputs = [path + ".out" for path, _ in planned]
    tuning = run.job.tuning
    resplit_at = tuning.partition_bytes * tuning.resplit_factor
    pool = run.start_pool(min(run.workers, len(planned)))
    if pool is None:
        for (path, _), out in zip(planned, outputs, strict=True):
            run.counts.add(_partition_task(path, out, as_of, resplit_at))
            run.progress.update("computing", lines_read, run.counts.cases)
        return outputs
    futures = [
        pool.submit(_partition_task, path, out, as_of, resplit_at)
        for (path, _), out in zip(planned, outputs, strict=True)
    ]
    for future in futures:
        run.counts.add(future.result())
        run.progress.update("computing", lines_read, run.counts.cases)
    return outputs


class NotGroupedError(BatchError):
    """--grouped input in which a case appears again after another case."""


def _not_grouped(lines: _Lines, key: str, ordinal: int, first: int) -> NotGroupedError:
    name, number = _locate(lines.files, ordinal)
    first_name, first_number = _locate(lines.files, first)
    return NotGroupedError(
        f"--grouped: expected each case's events together, found case {key!r} again at "
        f"{name}:{number} after other cases (first at {first_name}:{first_number}); "
        "run without --grouped"
    )


def _confirmed_key(run: _Run, ordinal: int, line: bytes) -> str | None:
    """The case id of a line whose byte-search guess starts a case, after a full parse.

    The guess is exact on every event, but a line that is no event (cut off, or naming a
    case only inside a nested object) may still yield one. Inside a case that does no harm
    (the worker rejects the line); at a case boundary it would start a case, or "repeat"
    one, that is not there. So a boundary is confirmed: a line that is no event is
    rejected here, in place, as the orjson path does. One parse per case.
    """
    key, _, error, _ = _extract_std(line)
    if key is None:
        run.reject_line(ordinal, error or "")
    return key


def _scan_grouped(run: _Run, lines: _Lines) -> tuple[array[int], int | None]:
    """First pass of grouped input (no --as-of): where each case starts, the latest ``at``.

    It also checks the grouping (before any work is done) and rejects the lines that are not
    events (all of them with orjson; with the byte search, at least every line that would
    start a case), so that the second pass cuts cases without parsing a line.
    """
    latest = _LatestAt()
    starts: array[int] = array("q")
    seen: dict[str, int] = {}
    key_now: str | None = None
    for ordinal, key, line, obj in _event_lines(run, lines, latest):
        if key != key_now:
            if obj is None:  # a guess of the byte search: confirm it
                confirmed = _confirmed_key(run, ordinal, line)
                if confirmed is None or confirmed == key_now:
                    continue
                key = confirmed
            first = seen.get(key)
            if first is not None:
                raise _not_grouped(lines, key, ordinal, first)
            seen[key] = ordinal
            key_now = key
            starts.append(ordinal)
    as_of = latest.result()
    if as_of == _RESCAN:
        as_of = _exact_latest_at(line for _, line in lines)
    return starts, as_of


def _planned_cases(
    run: _Run, lines: _Lines, starts: array[int]
) -> Iterator[tuple[Lines, list[Any] | None]]:
    """Second pass: whole cases cut at the starts found by the first, nothing parsed."""
    rejected = (r[0] for r in heapq.merge(*run.parent_reject_streams(), key=_by_ordinal))
    next_rejected = next(rejected, None)
    boundaries = iter(starts)
    next_start = next(boundaries, None)
    case: Lines = []
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
            run.progress.update("computing", ordinal, run.counts.cases)
    if case:
        yield case, None


def _streamed_cases(
    run: _Run, lines: _Lines, keep_parsed: bool
) -> Iterator[tuple[Lines, list[Any] | None]]:
    """One pass (--as-of given): whole cases as they come, the grouping checked on the way."""
    seen: dict[str, int] = {}
    key_now: str | None = None
    case: Lines = []
    parsed: list[Any] = []
    for ordinal, key, line, obj in _event_lines(run, lines, None, parse_all=keep_parsed):
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


def _run_grouped(
    run: _Run, sources: Sequence[_Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], _Lines, int | None]:
    """Stream whole cases, in batches to the workers; records come back in input order.

    Each batch's records are sorted and batches cover consecutive stretches of lines, so the
    file written here is sorted; the lines the parent rejected are merged in at the end.
    """
    if track_at and any(source.path is None for source in sources):
        sources = [_spool_stdin(run.folder, source, i) for i, source in enumerate(sources)]
    lines = _Lines(sources, run.max_line)
    workers = run.workers
    batch_lines = run.job.tuning.batch_lines
    if track_at:
        starts, as_of = _scan_grouped(run, lines)
        workers = min(workers, math.ceil(lines.count / batch_lines))  # no idle workers
    pool = run.start_pool(workers)
    runner = _CaseRunner(run.job, as_of) if pool is None else None
    if track_at:
        cases = _planned_cases(run, lines, starts)
    else:
        cases = _streamed_cases(run, lines, keep_parsed=runner is not None)
    out_path = os.path.join(run.folder, "grouped.out")
    with open(out_path, "wb", buffering=1 << 20) as out:
        window: deque[Future[tuple[list[Record], _Counts]]] = deque()

        def drain(keep: int) -> None:
            while len(window) > keep:
                records, counts = window.popleft().result()
                run.counts.add(counts)
                _write_chunk(out, records)

        batch: list[tuple[Lines, list[Any] | None]] = []
        done: list[Record] = []
        size = 0
        for case, parsed in cases:
            size += len(case)
            if runner is not None:
                records, counts = runner.run(case, parsed)
                run.counts.add(counts)
                done.extend(sorted(records, key=_by_ordinal))
                if size >= batch_lines:
                    _write_chunk(out, done)
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
            _write_chunk(out, done)
    streams = [_read_records(out_path), *run.parent_reject_streams()]
    return heapq.merge(*streams, key=_by_ordinal), lines, as_of


def _interrupted(caught: KeyboardInterrupt, pair: OutputPair | None) -> Interrupted:
    """The interruption, saying what had been written when it came."""
    return Interrupted.of(caught, pair.left() if pair is not None else "nothing was written")


def run_compute(options: ComputeOptions) -> Summary:
    """``metrics-engine compute``: rows and rejects; raises :class:`BatchError` (exit 2).

    Every output is checked before any input is read; both are committed together at the
    end (see ``_batch_output.OutputPair``). Interrupted, it raises :class:`Interrupted`
    saying what was written.
    """
    workers = resolve_workers(options.workers)
    as_of = _parse_as_of(options.as_of)
    sources = _sources(options.inputs)
    targets = plan_outputs(options.out, options.rejects, [*options.inputs, *options.other_inputs])
    job = _Job(
        mode="compute",
        fast=json_backend() == "orjson",
        calendar=options.calendar,
        rules=options.rules,
        strict=not options.lenient,
        absent=options.absent,
        csv=options.format == "csv",
        tuning=options.tuning,
    )
    run: _Run | None = None
    opened: list[Output] = []
    pair: OutputPair | None = None
    late: KeyboardInterrupt | None = None
    try:
        with deferred():  # a signal now would leave a temp file not yet on the lists
            run = _Run(job, workers, options.quiet, options.max_line_bytes, options.hooks)
            for target in targets:
                opened.append(open_output(target, run.folder))
            pair = OutputPair(*opened)
        mode = _run_grouped if options.grouped else _run_interleaved
        records, lines, as_of = mode(run, sources, as_of, options.as_of is None)
        run.stop_pool()  # nothing left for the workers (and no thread to take a signal)
        write_row, write_reject = pair.write_row, pair.write_reject
        if job.csv:
            write_row((",".join(COLUMNS) + "\n").encode())
        rows = 0
        for record in records:
            if record[1] == _ROW:
                write_row(record[2])
                rows += 1
            else:
                write_reject(_reject_json(record, lines.files))
        assert rows == run.counts.rows
        run.progress.clear()
        pair.commit()
    except KeyboardInterrupt as caught:
        raise _interrupted(caught, pair) from None
    finally:
        while True:  # a signal may cut this short, once (see _batch_signals): run it again
            try:
                for output in opened:
                    output.discard()
                if run is not None:
                    run.close()
                break
            except KeyboardInterrupt as caught:
                late = _interrupted(caught, pair)
        if late is not None:
            raise late
    assert run is not None
    counts = run.counts
    return Summary(
        cases=counts.cases,
        events=counts.events,
        rows=counts.rows,
        case_rejects=counts.case_rejects,
        line_rejects=counts.line_rejects,
        as_of=None if as_of is None else _iso(as_of),
        holidays_version=holidays_version(),
        not_created=counts.not_created,
        skipped_events=counts.skipped,
    )


def run_validate(options: ValidateOptions, stdout: IO[str]) -> ValidateSummary:
    """``metrics-engine validate``: a report per case and every problem, by file and line."""
    workers = resolve_workers(options.workers)
    sources = _sources(options.inputs)
    job = _Job(
        mode="validate",
        fast=json_backend() == "orjson",
        strict=not options.lenient,
        rules=options.rules,
        tuning=options.tuning,
    )
    run: _Run | None = None
    cases_with_problems = 0
    late: KeyboardInterrupt | None = None

    def write(text: str) -> None:  # a lone surrogate (a case id, a name) as \udXXX text
        stdout.write(_utf8(text).decode())

    try:
        with deferred():  # see run_compute
            run = _Run(job, workers, options.quiet, options.max_line_bytes, options.hooks)
        records, lines, _ = _run_interleaved(run, sources, None, track_at=False)
        for ordinal, kind, payload in records:
            if kind == _LINE_REJECT:
                name, number = _locate(lines.files, ordinal)
                write(f"{name}:{number}: {payload.decode()}\n")
                continue
            report = json.loads(payload)
            problems = report["problems"]
            cases_with_problems += bool(problems)
            if options.quiet and not problems:
                continue
            kinds = ", ".join(f"{kind} {count}" for kind, count in report["kinds"].items())
            verdict = "ok" if not problems else _plural(len(problems), "problem")
            write(
                f"case {json.dumps(report['case'], ensure_ascii=False)}: {report['events']} "
                f"events ({kinds}), first {report['first'] or '-'}, last "
                f"{report['last'] or '-'}: {verdict}\n"
            )
            for where, index, detail in problems:
                name, number = _locate(lines.files, where)
                write(f"  {name}:{number}: event {index}: {detail}\n")
    except KeyboardInterrupt as caught:
        raise _interrupted(caught, None) from None
    finally:
        while True:  # a signal may cut this short, once (see _batch_signals): run it again
            try:
                if run is not None:
                    run.close()
                break
            except KeyboardInterrupt as caught:
                late = _interrupted(caught, None)
        if late is not None:
            raise late
    assert run is not None
    counts = run.counts
    return ValidateSummary(
        files=len(sources),
        lines=lines.count,
        cases=counts.cases,
        events=counts.events,
        bad_lines=counts.line_rejects,
        problems=counts.problems,
        cases_with_problems=cases_with_problems,
    )
