"""What a batch run is asked and what it reports: the options of ``compute`` and ``validate``,
the tuning limits and hooks a caller (a test) may pass, and the summaries."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

import holidays

from metrics_engine._batch.inputs import DEFAULT_MAX_LINE, BatchError, Calendar
from metrics_engine._batch.outputs import Absent, OutputFormat
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import parse_instant
from metrics_engine._rules import Rules
from metrics_engine._sla_spec import METRIC_TYPES, SlaPolicies, SlaPolicy

__all__ = [
    "ComputeOptions",
    "Hooks",
    "Summary",
    "Tuning",
    "ValidateOptions",
    "ValidateSummary",
    "holidays_version",
    "parse_as_of",
    "plural",
    "resolve_workers",
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
    #: A line longer than this is handled apart (see ``scan``); events are ~200 bytes.
    long_line: int = 64 * 1024
    #: Interleaved mode with several workers: plain files at least this large (all inputs
    #: together) are read by the workers in byte ranges, each range at most this long.
    parallel_scan_bytes: int = 4 * 1024 * 1024
    scan_range_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Hooks:
    """What a run takes from its surroundings; tests pass their own."""

    clock: Callable[[], float] = time.monotonic  # times the progress line
    progress_stream: IO[str] | None = None  # None: stderr as the run starts
    temp_root: str | None = None  # where the run's temp folder goes; None: TMPDIR's choice


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
    #: SLA policies (see ``sla.load_sla``): each computed case's SLA results go to ``sla_out``
    #: (None: OUT.sla.jsonl or OUT.sla.csv beside a rows file; "-": stdout).
    sla: SlaPolicy | SlaPolicies | None = None
    sla_out: str | None = None


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
    sla_records: int | None = None  # None: no SLA policies in the run
    sla_breaches: tuple[tuple[str, int], ...] = ()  # breached SLA records per type

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
            f"as_of {self.as_of or 'none'}, holidays {self.holidays_version}" + self._sla_text()
        )

    def _sla_text(self) -> str:
        if self.sla_records is None:
            return ""
        found = dict(self.sla_breaches)
        breaches = ", ".join(f"{kind} {found.get(kind, 0)}" for kind in METRIC_TYPES)
        return f", {plural(self.sla_records, 'SLA record')} written (breached: {breaches})"


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
        verdict = "clean" if not total else plural(total, "problem")
        return (
            f"metrics-engine validate: {self.files} files, {self.lines} lines, "
            f"{self.cases} cases, {self.events} events: {verdict} "
            f"({self.cases_with_problems} cases with problems, {self.bad_lines} bad lines)"
        )


def plural(count: int, noun: str) -> str:
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


def parse_as_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_instant(value, "--as-of")
    except MetricsEngineError as error:
        raise BatchError(error.detail) from None
