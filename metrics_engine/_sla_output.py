"""The shape of a case's SLA clocks for users: ``SlaMetric``, ``CaseSla`` (docs/sla.md).

Pure formatting and summing, like ``_output`` for the 41 fields: the clocks arrive measured
(instants in epoch seconds, from ``_sla.measure_clocks``) and leave as aware UTC datetimes,
Kayako's ``sla_metric`` objects and the per-case summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from metrics_engine._output import format_instant, resolve_zone
from metrics_engine._sla_spec import METRIC_TYPES, SlaTarget

__all__ = ["CaseSla", "SlaMetric", "case_sla"]

#: A clock as ``_sla.measure_clocks`` gives it (see ``_sla.Clock``).
Clock = tuple[
    str, int, str, int, int | None, int | None, str | None, int | None, int | None, int,
    int | None, SlaTarget | None,
]  # fmt: skip


class SlaMetric(NamedTuple):
    """One clock as Kayako's ``sla_metric``: timestamps are aware UTC datetimes.

    A ``NamedTuple`` like the parsed events: as immutable as a frozen dataclass, and much
    cheaper to build, which counts when a batch reads millions of clocks.
    """

    metric_type: str
    cycle: int
    stage: str
    started_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    last_paused_at: datetime | None
    is_breached: bool
    breached_at: datetime | None
    elapsed_seconds: int
    remaining_seconds: int | None
    target: SlaTarget | None

    def to_dict(self, timezone: str | tzinfo | None = None) -> dict[str, Any]:
        """Kayako's ``sla_metric`` object; timestamps in UTC unless an IANA zone is named."""
        zone = resolve_zone(timezone)
        return {
            "metric_type": self.metric_type,
            "cycle": self.cycle,
            "stage": self.stage,
            "started_at": format_instant(self.started_at, zone),
            "due_at": _format(self.due_at, zone),
            "completed_at": _format(self.completed_at, zone),
            "completed_by": self.completed_by,
            "last_paused_at": _format(self.last_paused_at, zone),
            "is_breached": self.is_breached,
            "breached_at": _format(self.breached_at, zone),
            "elapsed_seconds": self.elapsed_seconds,
            "remaining_seconds": self.remaining_seconds,
            "target": None if self.target is None else self.target.to_dict(),
            "resource_type": "sla_metric",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSla:
    """A case's clocks at ``as_of``, in report order, with the per-case summary.

    ``breach_count`` counts the breached records of each type (all three keys present);
    ``next_breach_at`` is the earliest due instant among active clocks not yet breached.
    """

    metrics: tuple[SlaMetric, ...]
    breach_count: dict[str, int]
    next_breach_at: datetime | None

    def to_dict(self, timezone: str | tzinfo | None = None) -> dict[str, Any]:
        """``{"sla_metrics": [...], "breach_count": {...}, "next_breach_at": ...}``."""
        zone = resolve_zone(timezone)
        return {
            "sla_metrics": [metric.to_dict(zone) for metric in self.metrics],
            "breach_count": dict(self.breach_count),
            "next_breach_at": _format(self.next_breach_at, zone),
        }


def case_sla(clocks: Iterable[Clock]) -> CaseSla:
    """The records and the summary of measured clocks (given in report order)."""
    metrics = []
    breach_count = dict.fromkeys(METRIC_TYPES, 0)
    next_breach_at: int | None = None
    at = datetime.fromtimestamp
    for (
        kind,
        cycle,
        stage,
        started,
        due,
        completed,
        by,
        paused,
        breached,
        elapsed,
        left,
        target,
    ) in clocks:
        if breached is not None:
            breach_count[kind] += 1
        elif stage == "ACTIVE" and due is not None:
            next_breach_at = due if next_breach_at is None else min(next_breach_at, due)
        metrics.append(
            SlaMetric(
                kind,
                cycle,
                stage,
                at(started, UTC),
                None if due is None else at(due, UTC),
                None if completed is None else at(completed, UTC),
                by,
                None if paused is None else at(paused, UTC),
                breached is not None,
                None if breached is None else at(breached, UTC),
                elapsed,
                left,
                target,
            )
        )
    return CaseSla(
        metrics=tuple(metrics), breach_count=breach_count, next_breach_at=_instant(next_breach_at)
    )


def _instant(epoch_second: int | None) -> datetime | None:
    return None if epoch_second is None else datetime.fromtimestamp(epoch_second, UTC)


def _format(moment: datetime | None, zone: tzinfo | None) -> str | None:
    return None if moment is None else format_instant(moment, zone)
