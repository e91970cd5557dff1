"""``metrics-engine compute`` and ``validate`` from start to end: options in, outputs written
and committed (or nothing, when the run fails or is interrupted), a summary out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from metrics_engine._batch.cases import Job, iso
from metrics_engine._batch.grouped import run_grouped
from metrics_engine._batch.inputs import check_sources, locate
from metrics_engine._batch.interleaved import run_interleaved
from metrics_engine._batch.lines import json_backend, struct_decoding
from metrics_engine._batch.options import (
    ComputeOptions,
    Summary,
    ValidateOptions,
    ValidateSummary,
    holidays_version,
    parse_as_of,
    plural,
    resolve_workers,
)
from metrics_engine._batch.outputs import (
    COLUMNS,
    Output,
    OutputPair,
    RowsOutput,
    check_parquet,
    open_output,
    open_rows,
    reject_json,
    utf8,
)
from metrics_engine._batch.run import Run
from metrics_engine._batch.signals import Interrupted, deferred
from metrics_engine._batch.sla import SLA_COLUMNS
from metrics_engine._batch.spill import LINE_REJECT, ROW, SLA
from metrics_engine._batch.targets import plan_all_outputs

__all__ = ["run_compute", "run_validate"]


def _interrupted(caught: KeyboardInterrupt, pair: OutputPair | None) -> Interrupted:
    """The interruption, saying what had been written when it came."""
    return Interrupted.of(caught, pair.left() if pair is not None else "nothing was written")


def _clean_up(run: Run | None, opened: Sequence[RowsOutput], pair: OutputPair | None) -> None:
    """Discard the outputs not committed, end the workers, remove the temp folder.

    A signal may cut this short, once (see ``signals``): it is then run again, and the
    interruption raised once it is done.
    """
    late: Interrupted | None = None
    while True:
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


def run_compute(options: ComputeOptions) -> Summary:
    """``metrics-engine compute``: rows and rejects; raises :class:`BatchError` (exit 2).

    Every output is checked before any input is read; both are committed together at the
    end (see ``outputs.OutputPair``). Interrupted, it raises :class:`Interrupted`
    saying what was written.
    """
    workers = resolve_workers(options.workers)
    as_of = parse_as_of(options.as_of)
    sources = check_sources(options.inputs)
    with_sla = options.sla is not None
    suffix = (".sla.csv" if options.format == "csv" else ".sla.jsonl") if with_sla else None
    rows_target, rejects_target, sla_target = plan_all_outputs(
        options.out,
        options.rejects,
        [*options.inputs, *options.other_inputs],
        sla=options.sla_out,
        sla_suffix=suffix,
    )
    if options.format == "parquet":
        check_parquet(options.absent, rows_target)
    job = Job(
        mode="compute",
        fast=json_backend() == "orjson",
        structs=struct_decoding(),
        calendar=options.calendar,
        rules=options.rules,
        strict=not options.lenient,
        absent=options.absent,
        csv=options.format == "csv",
        parquet=options.format == "parquet",
        tuning=options.tuning,
        sla=options.sla,
    )
    run: Run | None = None
    opened: list[RowsOutput] = []
    pair: OutputPair | None = None
    try:
        with deferred():  # a signal now would leave a temp file not yet on the lists
            run = Run(job, workers, options.quiet, options.max_line_bytes, options.hooks)
            rows_output = open_rows(rows_target, run.folder, options.format)
            opened.append(rows_output)
            rejects_output = open_output(rejects_target, run.folder)
            opened.append(rejects_output)
            sla_output: Output | None = None
            if sla_target is not None:
                sla_output = open_output(sla_target, run.folder)
                opened.append(sla_output)
            pair = OutputPair(rows_output, rejects_output, sla_output)
        mode = run_grouped if options.grouped else run_interleaved
        records, lines, as_of = mode(run, sources, as_of, options.as_of is None)
        run.stop_pool()  # nothing left for the workers (and no thread to take a signal)
        write_row, write_reject, write_sla = pair.write_row, pair.write_reject, pair.write_sla
        if job.csv:
            write_row((",".join(COLUMNS) + "\n").encode())
            if with_sla:
                write_sla((",".join(SLA_COLUMNS) + "\n").encode())
        rows = 0
        for record in records:
            if record[1] == ROW:
                write_row(record[2])
                rows += 1
            elif record[1] == SLA:
                write_sla(record[2])
            else:
                write_reject(reject_json(record, lines.files))
        assert rows == run.counts.rows
        run.progress.clear()
        pair.commit()
    except KeyboardInterrupt as caught:
        raise _interrupted(caught, pair) from None
    finally:
        _clean_up(run, opened, pair)
    assert run is not None
    counts = run.counts
    return Summary(
        cases=counts.cases,
        events=counts.events,
        rows=counts.rows,
        case_rejects=counts.case_rejects,
        line_rejects=counts.line_rejects,
        as_of=None if as_of is None else iso(as_of),
        holidays_version=holidays_version(),
        not_created=counts.not_created,
        skipped_events=counts.skipped,
        sla_records=counts.sla_records if with_sla else None,
        sla_breaches=tuple(sorted(counts.sla_breaches.items())),
    )


def run_validate(options: ValidateOptions, stdout: IO[str]) -> ValidateSummary:
    """``metrics-engine validate``: a report per case and every problem, by file and line."""
    workers = resolve_workers(options.workers)
    sources = check_sources(options.inputs)
    job = Job(
        mode="validate",
        fast=json_backend() == "orjson",
        strict=not options.lenient,
        rules=options.rules,
        tuning=options.tuning,
    )
    run: Run | None = None
    cases_with_problems = 0

    def write(text: str) -> None:  # a lone surrogate (a case id, a name) as \udXXX text
        stdout.write(utf8(text).decode())

    try:
        with deferred():  # see run_compute
            run = Run(job, workers, options.quiet, options.max_line_bytes, options.hooks)
        records, lines, _ = run_interleaved(run, sources, None, track_at=False)
        # Nothing left for the workers: they end now, of their own accord. (Ended by the
        # clean-up instead, a worker may leave before the pool has said goodbye to it, and
        # the pool's write to its closed pipe raises SIGPIPE: a clean run exited 141.)
        run.stop_pool()
        for ordinal, kind, payload in records:
            if kind == LINE_REJECT:
                name, number = locate(lines.files, ordinal)
                write(f"{name}:{number}: {payload.decode()}\n")
                continue
            report = json.loads(payload)
            problems = report["problems"]
            cases_with_problems += bool(problems)
            if options.quiet and not problems:
                continue
            kinds = ", ".join(f"{kind} {count}" for kind, count in report["kinds"].items())
            verdict = "ok" if not problems else plural(len(problems), "problem")
            write(
                f"case {json.dumps(report['case'], ensure_ascii=False)}: {report['events']} "
                f"events ({kinds}), first {report['first'] or '-'}, last "
                f"{report['last'] or '-'}: {verdict}\n"
            )
            for where, index, detail in problems:
                name, number = locate(lines.files, where)
                write(f"  {name}:{number}: event {index}: {detail}\n")
    except KeyboardInterrupt as caught:
        raise _interrupted(caught, None) from None
    finally:
        _clean_up(run, (), None)
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
