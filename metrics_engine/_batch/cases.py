"""The per-case work of a batch run: a case's lines in, its records and counts out.

A worker (or the parent, when it works alone) runs each case through the per-case function
that Spark and ``compute_batch`` use too. What it does is a :class:`Job`, sent once to each
worker by the pool initializer (the calendar keeps its cache there).
"""

from __future__ import annotations

import functools
import json
import pickle
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Literal

from metrics_engine._batch.inputs import Calendar
from metrics_engine._batch.lines import read_event_fast, read_event_std
from metrics_engine._batch.options import Tuning
from metrics_engine._batch.outputs import Absent, RowEncoder, dumps, dumps_std, utf8
from metrics_engine._batch.signals import PoolGuard, watch_parent
from metrics_engine._batch.sla import SlaEncoder
from metrics_engine._batch.spill import CASE_REJECT, CASE_REPORT, LINE_REJECT, ROW, SLA, Record
from metrics_engine._case import compute_case, validate_case
from metrics_engine._columns import row_values
from metrics_engine._events import Event
from metrics_engine._fast import ParsedReplay, events_of_lines
from metrics_engine._replay import CaseReplay
from metrics_engine._rules import Rules
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy

__all__ = [
    "CaseLines",
    "CaseRunner",
    "Counts",
    "Job",
    "init_worker",
    "iso",
    "set_worker_job",
    "worker_job",
]


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker does with a case. Sent once to each worker (the calendar keeps its cache)."""

    mode: Literal["compute", "validate"]
    fast: bool = False  # read lines with orjson (chosen once per run: see json_backend)
    #: compute: parse each line straight into an event with msgspec where it can (the fast
    #: path of ``_fast``; any other line is read as without it). Chosen with ``fast``.
    structs: bool = False
    calendar: Calendar | None = None
    rules: Rules = field(default_factory=Rules)
    strict: bool = True
    absent: Absent = "null"
    csv: bool = False
    #: Rows for a Parquet file: a row record holds its values pickled (marshal, which holds
    #: the records in temp files, has no datetimes), in column order.
    parquet: bool = False
    tuning: Tuning = field(default_factory=Tuning)
    sla: SlaPolicy | SlaPolicies | None = None  # SLA results beside each row (they pickle)


@dataclass(slots=True)
class Counts:
    events: int = 0
    cases: int = 0
    rows: int = 0
    case_rejects: int = 0
    line_rejects: int = 0
    problems: int = 0  # validate: problems inside cases
    not_created: int = 0  # compute: cases created after as_of (no row, no reject)
    skipped: int = 0  # compute: events skipped by lenient mode in the rows written
    sla_records: int = 0  # compute with SLA policies: the SLA records written
    sla_breaches: dict[str, int] = field(default_factory=dict)  # breached records per type

    def add(self, other: Counts) -> None:
        self.events += other.events
        self.cases += other.cases
        self.rows += other.rows
        self.case_rejects += other.case_rejects
        self.line_rejects += other.line_rejects
        self.problems += other.problems
        self.not_created += other.not_created
        self.skipped += other.skipped
        self.sla_records += other.sla_records
        for kind, count in other.sla_breaches.items():
            self.sla_breaches[kind] = self.sla_breaches.get(kind, 0) + count


CaseLines = list[tuple[int, bytes]]


def _read_case(
    job: Job, lines: CaseLines, parsed: list[Any] | None, records: list[Record], counts: Counts
) -> tuple[list[Any], list[int]]:
    """The events of one case and their ordinals; lines that are not events become records.

    An event is a decoded JSON object, or, on the fast path (``job.structs``), the parsed
    event itself (what ``ParsedReplay`` takes as it is).
    """
    read = read_event_fast if job.fast else read_event_std
    if job.structs and job.mode == "compute" and parsed is None:
        parsed = events_of_lines(lines)
        if None not in parsed:  # every line an ordinary event: the common case
            counts.events += len(parsed)
            return parsed, [ordinal for ordinal, _ in lines]
    events: list[Any] = []
    ordinals: list[int] = []
    for position, (ordinal, line) in enumerate(lines):
        obj = parsed[position] if parsed is not None else None
        if obj is None:  # not taken the fast way, or no fast way
            obj, _, error = read(line)
            if error is not None:
                records.append((ordinal, LINE_REJECT, utf8(error)))
                counts.line_rejects += 1
                continue
        events.append(obj)
        ordinals.append(ordinal)
    counts.events += len(events)
    return events, ordinals


def _reread_std(lines: CaseLines, ordinals: list[int], events: list[Any]) -> list[Any]:
    """The same events read with json (see the module docstring: integers beyond 64 bits)."""
    by_ordinal = dict(lines)
    again = []
    for ordinal, event in zip(ordinals, events, strict=True):
        if type(event) is Event:  # parsed by msgspec, which reads big integers exactly
            again.append(event)
            continue
        try:
            again.append(json.loads(by_ordinal[ordinal]))
        except (ValueError, RecursionError):
            again.append(event)
    return again


def _case_value(event: Any) -> Any:
    """The case id of an event as its line gives it."""
    return event.case_raw if type(event) is Event else event["case"]


def iso(epoch_second: int) -> str:
    return datetime.fromtimestamp(epoch_second, UTC).isoformat(timespec="seconds")


class CaseRunner:
    """Runs cases for one job at one ``as_of`` (one per task; it holds a row encoder)."""

    def __init__(self, job: Job, as_of: int | None) -> None:
        self.job = job
        self.as_of = as_of
        self.encoder = RowEncoder(job.absent, job.csv)
        self.sla_encoder = SlaEncoder(job.csv) if job.sla is not None else None

    def run(self, lines: CaseLines, parsed: list[Any] | None = None) -> tuple[list[Record], Counts]:
        """A case's records (its row, report or reject; its lines that are no events), counted."""
        records: list[Record] = []
        counts = Counts()
        events, ordinals = _read_case(self.job, lines, parsed, records, counts)
        if events:
            counts.cases = 1
            if self.job.mode == "validate":
                self._validate(events, ordinals, records, counts)
            else:
                self._compute(lines, events, ordinals, records, counts)
        return records, counts

    def _compute(
        self,
        lines: CaseLines,
        events: list[Any],
        ordinals: list[int],
        records: list[Record],
        counts: Counts,
    ) -> None:
        """One case through the per-case function (the one Spark and ``compute_batch`` use):
        a row, a reject pointing at the offending line, or a case not yet created at ``as_of``."""
        job = self.job
        compute = functools.partial(
            compute_case,
            calendar=job.calendar,
            as_of=self.as_of,
            strict=job.strict,
            rules=job.rules,
            sla=job.sla,
            replay_type=ParsedReplay if job.structs else CaseReplay,
        )
        outcome = compute(events)
        if outcome.error is not None and job.fast:  # orjson reads huge integers as floats
            events = _reread_std(lines, ordinals, events)
            outcome = compute(events)
        first = ordinals[0]
        case = _case_value(events[0])
        if outcome.metrics is not None:
            if job.parquet:
                row = pickle.dumps(row_values(case, outcome.metrics), pickle.HIGHEST_PROTOCOL)
            else:
                row = self.encoder.encode(case, outcome.metrics)
            records.append((first, ROW, row))
            counts.rows = 1
            counts.skipped = outcome.metrics.skipped_events
            sla = outcome.metrics.sla
            if self.sla_encoder is not None and sla is not None:
                records.append((first, SLA, self.sla_encoder.encode(case, sla)))
                counts.sla_records = len(sla.metrics)
                counts.sla_breaches = {k: n for k, n in sla.breach_count.items() if n}
        elif outcome.not_created:
            counts.not_created = 1
        else:
            index = outcome.index
            where = ordinals[index] if index is not None and 0 <= index < len(ordinals) else first
            payload = dumps([case, where, index, outcome.detail])
            # Keyed by the line it points at: rejects read in file order. (Still inside the
            # case's span of lines, which grouped mode relies on.)
            records.append((where, CASE_REJECT, payload))
            counts.case_rejects = 1

    def _validate(
        self, events: list[Any], ordinals: list[int], records: list[Record], counts: Counts
    ) -> None:
        """A case's summary and every problem in it, by line (``metrics-engine validate``):
        the same replay loop as ``compute``, with the same rules, recording every problem."""
        kinds: Counter[str] = Counter()
        for event in events:
            kind = event.get("event")
            kinds[kind if isinstance(kind, str) else json.dumps(kind)] += 1
        found = validate_case(events, strict=self.job.strict, rules=self.job.rules)
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
            "first": iso(min(instants)) if instants else None,
            "last": iso(max(instants)) if instants else None,
            "problems": problems,
        }
        records.append((ordinals[0], CASE_REPORT, dumps_std(report)))


# The job of this worker process, set once by the pool initializer (or by the parent when
# it works alone).
_WORKER_JOB: Job | None = None


def init_worker(job: Job, guard: PoolGuard | None) -> None:
    """The pool initializer of a worker process."""
    set_worker_job(job)
    # The terminal's signals reach the whole process group: the parent cleans up and ends
    # the pool; a worker also ends when its parent dies (see ``signals``).
    watch_parent(guard)


def set_worker_job(job: Job | None) -> None:
    """The job of this process: set by the parent when it works alone, cleared at the end."""
    global _WORKER_JOB
    _WORKER_JOB = job


def worker_job() -> Job:
    assert _WORKER_JOB is not None, "worker used before init_worker"
    return _WORKER_JOB
