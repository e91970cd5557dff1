"""``compute_metrics``: the metrics of one case from its whole event stream, in one call.

A thin layer over :class:`~metrics_engine._replay.CaseReplay`: the whole stream goes through
the replay's one loop (lenient sorting included), events after ``as_of`` are checked but not
applied, then the metrics are read at ``as_of``. There is one implementation of the rules, so
this and a replay fed event by event agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from metrics_engine._errors import MetricsEngineError
from metrics_engine._metrics import CaseMetrics
from metrics_engine._replay import Calendar, CaseReplay, Sla, _from_epoch, _iso, parse_as_of
from metrics_engine._rules import Rules

__all__ = ["compute_metrics"]


def compute_metrics(
    events: Iterable[Mapping[str, Any]],
    calendar: Calendar | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
    sla: Sla | None = None,
) -> CaseMetrics:
    """The metrics of one case from its whole event stream (docs/metrics.md).

    The whole stream is validated; events after ``as_of`` are checked but not applied. In
    lenient mode the events are first sorted by ``at`` (``created`` first in its second,
    stream order otherwise) and unknown kinds are skipped and counted. With an SLA policy
    (``sla``), ``.sla`` of the result holds the case's SLA clocks (docs/sla.md).
    """
    replay = CaseReplay(calendar=calendar, strict=strict, rules=rules, sla=sla)
    limit = None if as_of is None else parse_as_of(as_of)
    replay._feed(events, limit=limit)
    if limit is not None and replay._created_after(limit):
        raise MetricsEngineError(
            f"as_of: expected a time at or after creation, found {_iso(limit)}",
            case=replay._error_case,
        )
    return replay.metrics(as_of=None if limit is None else _from_epoch(limit))
