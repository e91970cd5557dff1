"""The ``metrics-engine`` command (also ``python -m metrics_engine``): argument parsing only.

Everything that touches a file is in the ``metrics_engine._batch`` package; this turns the command
line into options, calls it, prints the warning and the summary, and maps outcomes to exit
codes: 0 when every case was computed, 1 when something was rejected (or, for ``validate``,
a problem was found), 2 on a usage error or an unreadable input or calendar file, or an
output that cannot be written; 128 + N when signal N (HUP, INT, QUIT, PIPE, TERM) stopped it,
after its temp files were removed.

A standard stream closed by whoever started the command (``>&-``) is opened on the null
device at once, so that no file of the run can take its number; the run then refuses to
write there (exit 2) and stays silent where it only had something to say.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import NoReturn

from metrics_engine import __version__
from metrics_engine._batch.command import run_compute, run_validate
from metrics_engine._batch.inputs import DEFAULT_MAX_LINE, BatchError, load_calendar
from metrics_engine._batch.options import ComputeOptions, Hooks, Tuning, ValidateOptions
from metrics_engine._batch.signals import Interrupted, trapped
from metrics_engine._batch.sla import load_sla
from metrics_engine._kayako_cli import (
    KAYAKO_COMMANDS,
    add_kayako_calendars,
    add_kayako_commands,
    compute_calendar,
    run_kayako,
)
from metrics_engine._rules import Rules

__all__ = ["main"]

PROG = "metrics-engine"

_COMPUTE_EXAMPLES = """\
examples:
  metrics-engine compute events.jsonl --calendar calendar.json --out metrics.jsonl
  zcat events.jsonl.gz | metrics-engine compute - --format csv > metrics.csv
  metrics-engine compute 2026-*.jsonl.gz --team-calendars teams.json --as-of 2026-04-01T00:00:00Z \\
      --out metrics.csv --format csv --rejects rejects.jsonl --workers 0
  metrics-engine compute events.jsonl --calendar kayako_hours.json --timezone Europe/London

Each input case becomes exactly one output row or one reject, or is counted as not yet
created (after --as-of). Exit status: 0 every case computed, 1 something rejected (see the
rejects), 2 usage error, unreadable input/calendar or an output that cannot be written,
128+N stopped by signal N (temporary files removed). See docs/batch.md.
"""

_VALIDATE_EXAMPLES = """\
examples:
  metrics-engine validate events.jsonl
  metrics-engine validate --lenient --quiet exports/*.jsonl.gz

Prints, per case in order of first appearance, its events, kinds, first and last instant,
then each problem as FILE:LINE. Exit status: 0 clean, 1 problems found, 2 usage error or
unreadable input.
"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors end ``main`` with 2 instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise _Exit(2, f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _Exit(status, message.rstrip() if message else None)


class _Exit(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (every CPU) or more, found {value}")
    return value


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _byte_count(text: str) -> int:
    number, unit = text.rstrip("KMGkmg"), text[len(text.rstrip("KMGkmg")) :].upper()
    try:
        value = int(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"expected a number of bytes (K, M or G may follow), found {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 byte or more, found {text!r}")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="FILE",
        help="JSON Lines of events, many cases, in any order; '-' reads stdin, and so does no "
        "FILE at all when stdin is not a terminal (a pipe); gzip (a file or stdin) is "
        "recognised by its content, whatever the name. "
        "Example: events.jsonl or - or export.jsonl.gz",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="sort each case's events by 'at' before replaying (created first in its second) "
        "and skip unknown event kinds instead of rejecting the case",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=0,
        metavar="N",
        help="worker processes; 0 (default) uses every usable CPU, 1 works in this process; "
        "never more than the usable CPUs. The output is identical for every N. "
        "Example: --workers 4",
    )
    parser.add_argument(
        "--max-line-bytes",
        type=_byte_count,
        default=DEFAULT_MAX_LINE,
        metavar="N",
        help="longest input line read, in bytes (K, M or G may follow); a longer line is "
        "rejected without being held in memory. Default 1M. Example: --max-line-bytes 8M",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line, no warning and no summary on stderr (validate still prints "
        "its report and its summary on stdout: that is its output)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Recompute Kayako case metrics from case event histories (JSON Lines).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    compute = commands.add_parser(
        "compute",
        help="one row of metrics per case (JSON Lines or CSV), rejects beside",
        description="Replay every case of the input and write one row of Kayako's 41 "
        "case_metric fields per case; a case that cannot be computed goes to the rejects.",
        epilog=_COMPUTE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(compute)
    calendars = compute.add_argument_group("business time")
    calendars.add_argument(
        "--calendar",
        metavar="FILE",
        help="business calendar, canonical JSON (see docs/calendars.md), or Kayako business "
        "hours with --timezone. Example: --calendar calendar.json",
    )
    calendars.add_argument(
        "--team-calendars",
        metavar="FILE",
        help='a default calendar plus one per team: {"default": {...}, "teams": {"3": {...}}}; '
        "not together with --calendar. Example: --team-calendars teams.json",
    )
    calendars.add_argument(
        "--timezone",
        metavar="ZONE",
        help="read --calendar as Kayako's business-hours resource, in this IANA time zone. "
        "Example: --calendar kayako_hours.json --timezone America/New_York",
    )
    add_kayako_calendars(calendars)
    out = compute.add_argument_group("output")
    out.add_argument(
        "-o",
        "--out",
        metavar="FILE",
        help="write rows here (a regular file is replaced atomically, with its rejects: complete "
        "or not at all; a device or pipe is written directly); default stdout. It may not "
        "name an input. Example: --out metrics.jsonl",
    )
    out.add_argument(
        "--rejects",
        metavar="FILE",
        help="write rejects (JSON Lines) here; default OUT.rejects.jsonl with --out, else "
        "stderr; '-' means stderr. Not the file of --out, nor an input. "
        "Example: --rejects rejects.jsonl",
    )
    out.add_argument(
        "-f",
        "--format",
        choices=("jsonl", "csv", "parquet"),
        default="jsonl",
        help='jsonl (default): {"case_id": "...", <41 fields>}, every id (case, users) as its '
        "text; csv: the same columns with a header, true/false, absent empty; parquet: the "
        "same typed columns, real nulls, to an --out file only (needs the arrow extra; not "
        "with --absent zero; see docs/batch.md). Example: --format csv",
    )
    out.add_argument(
        "--as-of",
        metavar="T",
        help="read every case at this instant (ISO-8601 with an offset or Z); default: the "
        "latest 'at' in the input. A case created after T gets no row and no reject: the "
        "summary counts it as not yet created. Example: --as-of 2026-04-01T00:00:00Z",
    )
    out.add_argument(
        "--absent",
        choices=("null", "zero"),
        default="null",
        help="absent integers (no resolution yet, no response, no calendar) as null (default) "
        "or as 0 like Kayako's API. Example: --absent zero",
    )
    out.add_argument(
        "--grouped",
        action="store_true",
        help="the input lists each case's events together: stream it with memory bounded by "
        "the largest case and no temporary partitions. A case that appears again after "
        "another case stops the run with exit 2 and writes nothing",
    )
    sla = compute.add_argument_group("SLA clocks (see docs/sla.md)")
    sla.add_argument(
        "--sla",
        metavar="FILE",
        help='SLA policies, JSON: one policy {"targets": [...]}, a set {"policies": {...}} '
        "chosen by each case's sla, or Kayako's /api/v1/slas response {\"data\": [...]}. "
        "Business-hours targets need --calendar or --team-calendars. "
        "Example: --sla policies.json",
    )
    sla.add_argument(
        "--sla-out",
        metavar="FILE",
        help="write each computed case's SLA results here (JSON Lines, or CSV with --format "
        "csv: one row per record); default OUT.sla.jsonl or OUT.sla.csv with --out, required "
        "without it; '-' means stdout. Committed with the rows. Example: --sla-out sla.jsonl",
    )
    _add_rules(compute)

    validate = commands.add_parser(
        "validate",
        help="check events and case sequences; a summary per case and every problem",
        description="Parse every line, check every event and each case's sequence, and print "
        "a summary per case and every problem by file and line.",
        epilog=_VALIDATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(validate)
    _add_rules(validate)
    add_kayako_commands(commands)
    return parser


def _add_rules(parser: argparse.ArgumentParser) -> None:
    """The rules a helpdesk may change: compute and validate take the same ones, so that
    validate judges a stream exactly as compute will."""
    rules = parser.add_argument_group("rules (see docs/metrics.md)")
    rules.add_argument(
        "--resolution-time",
        choices=("cumulative", "elapsed"),
        default="cumulative",
        help="cumulative (default): the sum of unresolved periods; elapsed: resolution_at "
        "minus created_at. Example: --resolution-time elapsed",
    )
    rules.add_argument(
        "--reopen-on-customer-message",
        action="store_true",
        help="a customer's public post on a COMPLETED case reopens it (as Kayako does)",
    )
    rules.add_argument(
        "--team-only-assignment",
        action="store_true",
        help="setting a team while no agent is assigned counts as an assignment for "
        "first_assignment_at and last_assignment_at",
    )


def _rules(args: argparse.Namespace) -> Rules:
    return Rules(
        resolution_time=args.resolution_time,
        reopen_on_customer_message=args.reopen_on_customer_message,
        team_only_assignment=args.team_only_assignment,
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    tuning: Tuning | None = None,
    hooks: Hooks | None = None,
) -> int:
    """Run the command; returns the exit status. ``tuning`` and ``hooks`` reach the batch run
    (tests pass small limits, a clock, a stream, a temp folder)."""
    tuning = tuning if tuning is not None else Tuning()
    hooks = hooks if hooks is not None else Hooks()
    _open_closed_std_fds()
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except _Exit as done:
        if done.message:
            _say(done.message, to_stdout=not done.status)
        return done.status
    with trapped():
        try:
            if args.command == "compute":
                return _compute(args, tuning=tuning, hooks=hooks)
            if args.command in KAYAKO_COMMANDS:
                return run_kayako(args)
            return _validate(args, tuning=tuning, hooks=hooks)
        except BatchError as error:
            _say(f"{PROG}: error: {error.detail}")
        except Interrupted as stop:
            if stop.signum != signal.SIGPIPE:  # the reader went away: nothing to tell it
                _say(f"{PROG}: interrupted by {stop.name}; {stop.outcome or 'nothing was written'}")
            return _signalled(stop.signum)
        except BrokenPipeError:  # the reader went away (``| head``): as SIGPIPE, silently
            return _signalled(signal.SIGPIPE)
        except BrokenProcessPool:
            _say(f"{PROG}: error: a worker process died (out of memory?); nothing was written")
        except OSError as error:
            _say(f"{PROG}: error: {error}")
        return 2


def _signalled(signum: int) -> int:
    if signum == signal.SIGPIPE:  # do not fail again when Python flushes stdout at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno() if sys.stdout is not None else 1)
            os.close(devnull)
    return 128 + signum


def _say(text: str, *, to_stdout: bool = False) -> None:
    """A line on stderr (or stdout), unless it is closed or gone (a hung-up terminal)."""
    target = sys.stdout if to_stdout else sys.stderr
    if target is None:
        return  # closed when we started: say nothing rather than write elsewhere
    with contextlib.suppress(OSError, ValueError):
        print(text, file=target, flush=True)


def _open_closed_std_fds() -> None:
    """Open the null device on a closed stdin, stdout or stderr (see the module docstring)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _compute(args: argparse.Namespace, *, tuning: Tuning, hooks: Hooks) -> int:
    calendar = compute_calendar(args, load_calendar)
    if args.sla_out is not None and args.sla is None:
        raise BatchError("--sla-out: expected --sla as well, found --sla-out alone")
    sla = None if args.sla is None else load_sla(args.sla, calendar is not None)
    options = ComputeOptions(
        inputs=_inputs(args),
        calendar=calendar,
        sla=sla,
        sla_out=args.sla_out,
        out=None if args.out in (None, "-") else args.out,
        rejects=args.rejects,
        format=args.format,
        as_of=args.as_of,
        absent=args.absent,
        lenient=args.lenient,
        grouped=args.grouped,
        workers=args.workers,
        quiet=args.quiet,
        max_line_bytes=args.max_line_bytes,
        other_inputs=[path for path in (args.calendar, args.team_calendars, args.sla) if path],
        rules=_rules(args),
        tuning=tuning,
        hooks=hooks,
    )
    summary = run_compute(options)
    if not args.quiet:
        if calendar is None:  # after the run: an error in the arguments is said alone
            _say(
                f"{PROG}: warning: no --calendar or --team-calendars given: every "
                "*_business_* field is absent"
            )
        _say(summary.line())
    return summary.exit_code


def _inputs(args: argparse.Namespace) -> list[str]:
    """The FILEs given; none means stdin, when it is a pipe or a file (as jq and sort do)."""
    if args.inputs:
        return list(args.inputs)
    if sys.stdin is None or sys.stdin.isatty():
        raise BatchError(
            "expected FILE (or '-', or events piped to stdin), found no input: "
            f"see '{PROG} {args.command} --help'"
        )
    return ["-"]


def _validate(args: argparse.Namespace, *, tuning: Tuning, hooks: Hooks) -> int:
    options = ValidateOptions(
        inputs=_inputs(args),
        lenient=args.lenient,
        workers=args.workers,
        quiet=args.quiet,
        max_line_bytes=args.max_line_bytes,
        rules=_rules(args),
        tuning=tuning,
        hooks=hooks,
    )
    if sys.stdout is None:
        raise BatchError("cannot write to stdout: it is closed")
    summary = run_validate(options, sys.stdout)
    print(summary.line(), file=sys.stdout)
    sys.stdout.flush()
    return summary.exit_code
