"""Many cases in one call, from Python: the batch command's rules without files or processes.

:func:`compute_batch` takes the events of many cases (dicts, in any order, or grouped by
case), one ``as_of`` for all of them, and returns a :class:`BatchResult`: one row per case in
the order each case first appears, and one reject per case that fails or per event that has no
usable case id, exactly as ``metrics-engine compute`` decides them (docs/python.md); with an
SLA policy, also each computed case's SLA clocks, beside the rows.
Each case goes through :func:`~metrics_engine._case.compute_case`, the per-case function the
command and Spark share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from metrics_engine._case import compute_case
from metrics_engine._columns import COLUMNS, RowValue, row_values
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text, parse_instant
from metrics_engine._foreign import plain_event
from metrics_engine._metrics import CalendarLike
from metrics_engine._replay import parse_as_of
from metrics_engine._rules import Rules
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, check_sla_option, require_calendar

__all__ = ["BatchResult", "NotGroupedError", "compute_batch"]

_NAMES = tuple(column.name for column in COLUMNS)


@dataclass(slots=True)
class BatchResult:
    """What :func:`compute_batch` gives back.

    ``rows``: one dict per computed case, keyed by the column names (``case_id`` then the 41
    fields), with typed values: ids as text, aware UTC datetimes, ints, bools, ``None`` when
    absent — ``pandas.DataFrame(result.rows)`` types each column. ``rejects``: one dict per
    rejected case (``case_id``, ``position`` of the offending event in the input, ``index`` in
    its case, ``error``) or per input item that is not an event with a case id (``case_id``
    ``None``, its ``position``, ``error``), in input order. ``as_of``: the instant used.
    ``sla``: with an SLA policy, one dict per computed case, in the order of ``rows``:
    ``case_id`` then ``CaseSla.to_dict()`` (``sla_metrics``, ``breach_count``,
    ``next_breach_at``); empty without a policy.
    """

    rows: list[dict[str, RowValue]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    sla: list[dict[str, Any]] = field(default_factory=list)
    as_of: datetime | None = None
    cases: int = 0
    events: int = 0
    not_created: int = 0  # cases created after as_of: neither a row nor a reject
    skipped_events: int = 0  # unknown kinds skipped in lenient mode, in computed cases


class NotGroupedError(MetricsEngineError):
    """``grouped=True`` but a case's events are not together."""


def compute_batch(
    events: Iterable[Mapping[str, Any]],
    *,
    calendar: CalendarLike | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
    grouped: bool = False,
    sla: SlaPolicy | SlaPolicies | None = None,
) -> BatchResult:
    """The metrics of many cases at one ``as_of`` (default: the latest ``at`` in the input).

    ``grouped=True`` promises that each case's events come together; a case that appears
    again after another raises :class:`NotGroupedError` and nothing is returned. With an SLA
    policy (``sla``), ``result.sla`` holds each computed case's SLA clocks (docs/sla.md); a
    policy with business-hours targets and no calendar raises before any event is read.
    """
    sla = check_sla_option(sla)
    require_calendar(sla, calendar is not None)
    result = BatchResult()
    cases: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    latest: int | None = None
    current: str | None = None
    for position, event in enumerate(events):
        key, error = _case_key(event)
        if key is None:
            result.rejects.append({"case_id": None, "position": position, "error": error})
            continue
        assert isinstance(event, Mapping)
        group = cases.get(key)
        if group is None:
            group = cases[key] = []
        elif grouped and key != current:
            raise NotGroupedError(
                f"grouped input: expected the events of case {key!r} together, "
                f"found another case before position {position}",
                case=event.get("case"),
            )
        current = key
        group.append((position, event))
        if as_of is None:
            at = _instant(event.get("at"))
            if at is not None and (latest is None or at > latest):
                latest = at
    limit = parse_as_of(as_of) if as_of is not None else latest
    result.as_of = None if limit is None else datetime.fromtimestamp(limit, UTC)
    for group in cases.values():
        _compute_one(group, limit, result, calendar=calendar, strict=strict, rules=rules, sla=sla)
    result.rejects.sort(key=lambda reject: reject["position"])
    return result


def _compute_one(
    group: list[tuple[int, Mapping[str, Any]]],
    limit: int | None,
    result: BatchResult,
    *,
    calendar: CalendarLike | None,
    strict: bool,
    rules: Rules,
    sla: SlaPolicy | SlaPolicies | None,
) -> None:
    positions = [position for position, _ in group]
    outcome = compute_case(
        [event for _, event in group],
        calendar=calendar,
        as_of=limit,
        strict=strict,
        rules=rules,
        sla=sla,
    )
    result.cases += 1
    result.events += len(group)
    if outcome.not_created:
        result.not_created += 1
    elif outcome.metrics is not None:
        values = row_values(outcome.case, outcome.metrics)
        result.rows.append(dict(zip(_NAMES, values, strict=True)))
        result.skipped_events += outcome.metrics.skipped_events
        if sla is not None:
            case_id = values[0]
            result.sla.append({"case_id": case_id, **outcome.metrics.sla.to_dict()})
    else:
        index = outcome.index
        where = positions[index] if index is not None and 0 <= index < len(group) else positions[0]
        result.rejects.append(
            {
                "case_id": id_text(outcome.case, "case"),
                "position": where,
                "index": index,
                "error": outcome.detail,
            }
        )


def _case_key(event: object) -> tuple[str | None, str | None]:
    """The case id text of an input item, or ``None`` and why it is not an event."""
    if not isinstance(event, Mapping):
        return None, f"expected an event object, found {type(event).__name__}"
    if "case" not in event:
        return None, "field 'case': expected a case id, found nothing"
    try:
        return id_text(event["case"], "field 'case'"), None
    except MetricsEngineError as error:
        plain = plain_event({"case": event["case"]})  # a NumPy integer from pandas
        if plain is not None and "case" in plain:
            return _case_key(plain)
        return None, error.detail


def _instant(value: object) -> int | None:
    try:
        return parse_instant(value, "at")
    except MetricsEngineError:
        return None
