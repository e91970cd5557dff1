"""The ``metrics-engine`` command (also ``python -m metrics_engine``): argument parsing only.

Everything that touches a file is in the ``metrics_engine._batch*`` modules; this turns the command
line into options, calls it, prints the warning and the summary, and maps outcomes to exit
codes: 0 when every case was computed, 1 when something was rejected (or, for ``validate``,
a problem was found), 2 on a usage error or an unreadable input or calendar file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

from metrics_engine import __version__
from metrics_engine._batch import (
    BatchError,
    ComputeOptions,
    ValidateOptions,
    load_calendar,
    run_compute,
    run_validate,
)
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

Each input case becomes exactly one output row or one reject. Exit status: 0 every case
computed, 1 something rejected (see the rejects), 2 usage error or unreadable input/calendar.
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


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="FILE",
        help="JSON Lines of events, many cases, in any order; '-' reads stdin; gzip (a file "
        "or stdin) is recognised by its content, whatever the name. "
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
        help="worker processes; 0 (default) uses every usable CPU, 1 works in this process. "
        "The output is identical for every N. Example: --workers 4",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress line, no warning and no summary on stderr",
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
        help="business calendar, canonical JSON (SPEC section 4), or Kayako business hours "
        "with --timezone. Example: --calendar calendar.json",
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
        "--out",
        metavar="FILE",
        help="write rows here (atomically: complete or not at all); default stdout. "
        "Example: --out metrics.jsonl",
    )
    out.add_argument(
        "--rejects",
        metavar="FILE",
        help="write rejects (JSON Lines) here; default OUT.rejects.jsonl with --out, else "
        "stderr; '-' means stderr. Example: --rejects rejects.jsonl",
    )
    out.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help='jsonl (default): {"case": ..., <41 fields>, "resource_type": "case_metric"}; '
        "csv: the same columns with a header, users as their id, true/false, absent empty. "
        "Example: --format csv",
    )
    out.add_argument(
        "--as-of",
        metavar="T",
        help="read every case at this instant (ISO-8601 with an offset or Z); default: the "
        "latest 'at' in the input. A case created after T is rejected. "
        "Example: --as-of 2026-04-01T00:00:00Z",
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
    rules = compute.add_argument_group("rules (SPEC section 9)")
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

    validate = commands.add_parser(
        "validate",
        help="check events and case sequences; a summary per case and every problem",
        description="Parse every line, check every event and each case's sequence, and print "
        "a summary per case and every problem by file and line.",
        epilog=_VALIDATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(validate)
    add_kayako_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except _Exit as done:
        if done.message:
            print(done.message, file=sys.stderr if done.status else sys.stdout)
        return done.status
    try:
        with _terminate_as_interrupt():
            if args.command == "compute":
                return _compute(args)
            if args.command in KAYAKO_COMMANDS:
                return run_kayako(args)
            return _validate(args)
    except BatchError as error:
        print(f"{PROG}: error: {error.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no output file was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing more, and do not fail at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except BrokenProcessPool:
        print(f"{PROG}: error: a worker process died (out of memory?)", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM cleans up like Ctrl-C (temporary files removed, nothing committed)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous: Any = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _compute(args: argparse.Namespace) -> int:
    calendar = compute_calendar(args, load_calendar)
    if calendar is None and not args.quiet:
        print(
            f"{PROG}: warning: no --calendar or --team-calendars given: every *_business_* "
            "field is absent",
            file=sys.stderr,
        )
    options = ComputeOptions(
        inputs=args.inputs,
        calendar=calendar,
        out=None if args.out in (None, "-") else args.out,
        rejects=args.rejects,
        format=args.format,
        as_of=args.as_of,
        absent=args.absent,
        lenient=args.lenient,
        grouped=args.grouped,
        workers=args.workers,
        quiet=args.quiet,
        rules=Rules(
            resolution_time=args.resolution_time,
            reopen_on_customer_message=args.reopen_on_customer_message,
            team_only_assignment=args.team_only_assignment,
        ),
    )
    summary = run_compute(options)
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    return summary.exit_code


def _validate(args: argparse.Namespace) -> int:
    options = ValidateOptions(
        inputs=args.inputs, lenient=args.lenient, workers=args.workers, quiet=args.quiet
    )
    summary = run_validate(options, sys.stdout)
    print(summary.line(), file=sys.stdout)
    sys.stdout.flush()
    return summary.exit_code
