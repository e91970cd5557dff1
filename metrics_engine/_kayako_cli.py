"""The Kayako commands of ``metrics-engine``: ``kayako events``, ``compare``, and the
``--kayako-calendars`` option of ``compute`` (arguments and handlers; files through
:mod:`metrics_engine._kayako_export`). docs/kayako.md describes them for users.

Exit codes as ``compute``: 0 all converted (for ``compare``: everything compared is equal),
1 some case rejected (some value differs), 2 a usage error or an unreadable export.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from metrics_engine._batch.inputs import BatchError
from metrics_engine._compare import CompareError, compare
from metrics_engine._events import id_text
from metrics_engine._kayako_export import (
    atomic_output,
    kayako_metrics,
    load_kayako_calendars,
    open_export,
    read_rows,
)
from metrics_engine.sources import kayako

__all__ = [
    "KAYAKO_COMMANDS",
    "add_kayako_calendars",
    "add_kayako_commands",
    "compute_calendar",
    "run_kayako",
]

PROG: Final = "metrics-engine"
#: The top-level commands this module handles.
KAYAKO_COMMANDS: Final = frozenset({"kayako", "compare"})
_TYPES: Final = ("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED")

_EVENTS_EXAMPLES = """\
examples:
  metrics-engine kayako events export/ --out events.jsonl --report unmapped.jsonl
  metrics-engine kayako events export/ --status-type 7=COMPLETED --out events.jsonl
  metrics-engine compute events.jsonl --grouped --kayako-calendars export/ \\
      --timezone Europe/London --out metrics.jsonl

EXPORT holds statuses.json, optionally users-*.json, teams.json and businesshours.json, and
cases/<id>/case.json, posts-*.json (filters=all), optionally activities-*.json (see
docs/kayako.md). Events are written case by case, ready for compute --grouped. Exit status:
0 every case converted, 1 some rejected (see the rejects), 2 usage error or unreadable export.
"""

_COMPARE_EXAMPLES = """\
examples:
  metrics-engine compare metrics.jsonl --kayako export/
  metrics-engine compare metrics.jsonl --kayako export/ --format jsonl --out differences.jsonl

Joins each row (by case_id, or case) with EXPORT/cases/<id>/metrics.json and prints, per
field, the cases compared, equal and different and those missing on either side, then every
difference with both values. Exit status: 0 everything compared is equal, 1 something
differs, 2 usage error or unreadable input.
"""


def _status_type(text: str) -> tuple[str, str]:
    key, sep, kind = text.partition("=")
    if not sep or not key.strip() or kind.strip().upper() not in _TYPES:
        raise argparse.ArgumentTypeError(
            f"expected STATUS_ID=TYPE with TYPE one of {', '.join(_TYPES)}, found {text!r}"
        )
    return key.strip(), kind.strip().upper()


def add_kayako_calendars(group: argparse._ArgumentGroup) -> None:
    """``compute --kayako-calendars EXPORT`` (with ``--timezone``)."""
    group.add_argument(
        "--kayako-calendars",
        metavar="EXPORT",
        help="per-team calendars from a Kayako export directory (businesshours.json, "
        "teams.json; see docs/kayako.md), in the zone of --timezone; not with --calendar or "
        "--team-calendars. Example: --kayako-calendars export/ --timezone Europe/London",
    )


def compute_calendar(args: argparse.Namespace, load: Callable[..., Any]) -> Any:
    """The calendar of ``compute``: from ``--kayako-calendars``, else through ``load``."""
    export = getattr(args, "kayako_calendars", None)
    if export is None:
        return load(args.calendar, team_calendars=args.team_calendars, timezone=args.timezone)
    given = [name for name in ("calendar", "team_calendars") if getattr(args, name) is not None]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise BatchError(f"expected one of --kayako-calendars and {option}, found both")
    return load_kayako_calendars(export, args.timezone)


def add_kayako_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``kayako`` command group and ``compare``."""
    group = commands.add_parser(
        "kayako",
        help="convert a Kayako export directory into events",
        description="Read Kayako API responses saved in an export directory.",
    )
    actions = group.add_subparsers(
        dest="kayako_command", metavar="COMMAND", parser_class=type(group)
    )
    actions.required = True
    events = actions.add_parser(
        "events",
        help="each case's events (JSON Lines, grouped by case), rejects and a report beside",
        description="Convert every case of a Kayako export directory into events; a case that "
        "cannot be converted goes to the rejects; every post or activity that becomes no "
        "event is listed in the report with its reason.",
        epilog=_EVENTS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    events.add_argument("export", metavar="EXPORT", help="the export directory. Example: export/")
    events.add_argument(
        "--out",
        metavar="FILE",
        help="write events here (replaced atomically); default stdout. Example: --out events.jsonl",
    )
    events.add_argument(
        "--rejects",
        metavar="FILE",
        help="write rejected cases (JSON Lines) here; default OUT.rejects.jsonl with --out, "
        "else stderr; '-' means stderr. Example: --rejects rejects.jsonl",
    )
    events.add_argument(
        "--report",
        metavar="FILE",
        help="write every item that became no event (JSON Lines: case_id, kind, id, post, "
        "reason) here; stderr gets a summary either way. Example: --report unmapped.jsonl",
    )
    events.add_argument(
        "--status-type",
        type=_status_type,
        action="append",
        default=[],
        metavar="ID=TYPE",
        help="the status type a Kayako status behaves like, overriding what Kayako says "
        "(custom statuses are otherwise OPEN when SLA-active, PENDING when not); repeatable. "
        "Example: --status-type 7=COMPLETED",
    )
    events.add_argument("--quiet", action="store_true", help="no summary on stderr")

    comparison = commands.add_parser(
        "compare",
        help="our metrics beside Kayako's own case_metric, field by field",
        description="Compare metrics rows (compute's JSON Lines output) with Kayako's own "
        "metrics.json of each case of an export directory.",
        epilog=_COMPARE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comparison.add_argument(
        "metrics",
        metavar="METRICS",
        help="compute's JSON Lines output (gzip too). Example: metrics.jsonl",
    )
    comparison.add_argument(
        "--kayako",
        metavar="EXPORT",
        required=True,
        help="the export directory holding cases/<id>/metrics.json. Example: --kayako export/",
    )
    comparison.add_argument(
        "--out",
        metavar="FILE",
        help="write the report here; default stdout. Example: --out report.txt",
    )
    comparison.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="text (default): a table and the differences; jsonl: one object per field, then "
        "one per difference. Example: --format jsonl",
    )
    comparison.add_argument("--quiet", action="store_true", help="no summary on stderr")


def run_kayako(args: argparse.Namespace) -> int:
    """Run ``kayako events`` or ``compare``; BatchError for exit 2."""
    if args.command == "compare":
        return _compare(args)
    return _events(args)


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def _events(args: argparse.Namespace) -> int:
    export = open_export(args.export)
    directory = export.directory(dict(args.status_type))
    out = None if args.out in (None, "-") else args.out
    rejects = args.rejects if args.rejects is not None else (f"{out}.rejects.jsonl" if out else "-")
    kinds: Counter[tuple[str, str]] = Counter()
    converted = rejected = events = 0
    with (
        atomic_output(out, sys.stdout) as writer,
        atomic_output(None if rejects == "-" else rejects, sys.stderr) as reject_writer,
        atomic_output(args.report, None) as report_writer,
    ):
        for case_id in export.case_ids:
            report: tuple[kayako.Unmapped, ...]
            try:
                files = export.read_case(case_id)
                result = kayako.convert_case(
                    files.case, files.posts, files.activities, directory=directory
                )
                if id_text(result.case_id, "case id") != case_id:
                    raise kayako.KayakoError(
                        f"case.json: expected case {case_id} (its folder's name), found case "
                        f"{result.case_id}"
                    )
            except kayako.KayakoError as error:
                rejected += 1
                reject_writer.write(
                    _line(
                        {
                            "case_id": case_id,
                            "file": export.case_folder(case_id),
                            "error": error.detail,
                        }
                    )
                )
                report = tuple(error.report)
            else:
                converted += 1
                events += len(result.events)
                writer.write("".join(_line(event) for event in result.events))
                report = result.report
            for item in report:
                kinds[item.kind, item.reason] += 1
                report_writer.write(_line({"case_id": case_id, **item.to_dict()}))
    if not args.quiet:
        _summary(export.root, len(export.case_ids), converted, rejected, events, kinds, args.report)
    return 1 if rejected else 0


def _summary(
    root: str,
    cases: int,
    converted: int,
    rejected: int,
    events: int,
    kinds: Counter[tuple[str, str]],
    report: str | None,
) -> None:
    print(
        f"{PROG} kayako events: {root}: {cases} cases, {converted} converted ({events} events), "
        f"{rejected} rejected; {sum(kinds.values())} items became no event"
        + (f" (listed in {report})" if report else " (list them with --report FILE)"),
        file=sys.stderr,
    )
    for (kind, reason), count in sorted(kinds.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:>8}  {kind}: {reason}", file=sys.stderr)


def _compare(args: argparse.Namespace) -> int:
    rows = read_rows(args.metrics)
    theirs = kayako_metrics(open_export(args.kayako, cases=False))
    try:
        result = compare(rows, theirs)
    except CompareError as error:
        raise BatchError(error.detail) from None
    out = None if args.out in (None, "-") else args.out
    with atomic_output(out, sys.stdout) as writer:
        if args.format == "text":
            writer.write("".join(f"{line}\n" for line in result.lines()))
        else:
            writer.write("".join(_line(record) for record in result.records()))
    if not args.quiet:
        cases = len({item.case_id for item in result.differences})
        print(
            f"{PROG} compare: {result.both} cases in both, {len(result.differences)} values "
            f"differ in {cases} cases",
            file=sys.stderr,
        )
    return result.exit_code
