"""One case, start to finish, with no files in it: the unit of work of batch, Spark and sources.

:func:`compute_case` takes one case's events (decoded JSON), a calendar, the rules, one
``as_of`` and optionally an SLA policy, and returns a :class:`CaseOutcome`: the case's metrics
(with the SLA clocks), or the error that rejects it, or the fact that the case did not exist
yet at ``as_of``. It never raises for a bad case (a bug in the engine included: that becomes
an error outcome too), so that a run over many cases loses none. :func:`validate_case` runs
the same replay loop but records every problem instead of stopping at the first.

Both go through :meth:`CaseReplay._feed`, the one replay loop ``compute_metrics`` runs too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import Event
from metrics_engine._metrics import CalendarLike, CaseMetrics
from metrics_engine._replay import CaseReplay, _case_of
from metrics_engine._rules import Rules
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy

__all__ = ["CaseOutcome", "Problems", "compute_case", "validate_case"]


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """What became of one case: exactly one of metrics, an error, or not yet created."""

    case: object  # the case id of the first event, as given (None when it has no usable one)
    metrics: CaseMetrics | None = None
    error: Exception | None = None
    not_created: bool = False  # created after as_of: no row and no reject

    @property
    def index(self) -> int | None:
        """The 0-based position of the offending event in the case's stream, if any."""
        error = self.error
        return error.index if isinstance(error, MetricsEngineError) else None

    @property
    def detail(self) -> str | None:
        """The one-line error, without its case/index prefix; ``None`` on success."""
        error = self.error
        if error is None:
            return None
        if isinstance(error, MetricsEngineError):
            return error.detail
        return f"internal error ({type(error).__name__}: {error}); please report it"


def compute_case(
    events: Sequence[object],
    *,
    calendar: CalendarLike | None = None,
    as_of: int | None = None,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
    sla: SlaPolicy | SlaPolicies | None = None,
    replay_type: type[CaseReplay] = CaseReplay,
) -> CaseOutcome:
    """One case's outcome at ``as_of`` (epoch seconds; ``None``: its last applied event).

    With ``sla``, the metrics carry the case's SLA clocks in ``.sla`` (docs/sla.md); a case
    whose ``sla`` value the policy set refuses is an error outcome like any failing case.
    ``replay_type``: the replay that parses the stream's items (the batch command's workers
    give events parsed on the fast path among decoded objects: ``_fast.ParsedReplay``).
    """
    case = _first_case(events)
    try:
        replay = replay_type(calendar=calendar, strict=strict, rules=rules, sla=sla)
        replay._feed(events, limit=as_of)
        if replay._created_after(as_of):
            return CaseOutcome(case, not_created=True)
        at = None if as_of is None else datetime.fromtimestamp(as_of, UTC)
        return CaseOutcome(case, metrics=replay.metrics(as_of=at))
    except Exception as error:  # not only MetricsEngineError: a bug must not lose a case
        return CaseOutcome(case, error=error)


def _first_case(events: Sequence[object]) -> object:
    """The case id of the first item: a decoded object's, or an already parsed event's."""
    if not events:
        return None
    first = events[0]
    return first.case_raw if type(first) is Event else _case_of(first)


@dataclass(frozen=True, slots=True)
class Problems:
    """What :func:`validate_case` found in one case."""

    problems: list[MetricsEngineError]  # in the order the replay met them
    instants: list[int]  # of the events that parsed (epoch seconds), in stream order


def validate_case(
    events: Sequence[Mapping[str, Any]],
    *,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
) -> Problems:
    """Every problem of one case's stream, in the order the replay meets them.

    The first is the error :func:`compute_case` reports for the same stream and rules (with
    no ``as_of``); after a problem the replay goes on as if the offending event were absent.
    """
    problems: list[MetricsEngineError] = []
    instants: list[int] = []
    replay = CaseReplay(strict=strict, rules=rules)
    try:
        replay._feed(events, problems=problems, instants=instants)
    except MetricsEngineError as error:  # the stream itself is not a sequence of events
        problems.append(error)
    if not problems and not replay._applied:  # nothing to read metrics from
        problems.append(replay._nothing_applied())
    return Problems(problems, instants)
