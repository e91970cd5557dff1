"""metrics_engine: Kayako's case metrics, recomputed by replaying a case's events.

Quick start: give ``compute_metrics`` one case's events, oldest first, and read the 41 fields
of Kayako's ``case_metric`` as attributes (durations in whole seconds)::

    >>> import metrics_engine as me
    >>> events = [
    ...     {"case": 1042, "event": "created", "at": "2026-03-02T08:15:00-05:00",
    ...      "actor": {"id": 17, "role": "customer"}},
    ...     {"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00",
    ...      "actor": {"id": 5, "role": "agent"}},
    ...     {"case": 1042, "event": "update", "at": "2026-03-02T10:05:00-05:00",
    ...      "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
    ... ]
    >>> m = me.compute_metrics(events)
    >>> m.agent_first_calendar_response_time, m.resolution_calendar_time, m.resolved_by
    (6430, 6600, 5)
    >>> m.to_dict()["resolution_at"]
    '2026-03-02T15:05:00+00:00'

Business time needs a calendar (here Mondays 09:00 to 17:00 in New York)::

    >>> cal = me.BusinessCalendar.from_dict(
    ...     {"timezone": "America/New_York", "week": {"mon": [["09:00", "17:00"]]}})
    >>> me.compute_metrics(events, calendar=cal).agent_first_business_response_time
    3730

Also here: ``CaseReplay`` (one event at a time, with a state to save and resume),
``TeamCalendars`` (a calendar per team), ``Rules`` (the rules helpdesks set differently),
and the ``metrics-engine`` command for files of many cases. Every error is a
``MetricsEngineError``, a ``ValueError`` whose one-line message says what was expected and
what was found.

Documentation, in the project's docs/ folder (beside README.md):

- docs/events.md: the event format (keys, ids, roles, statuses, order, duplicates, errors).
- docs/metrics.md: what each of the 41 fields measures, and the rules.
- docs/calendars.md: business calendars.
- docs/batch.md: the ``metrics-engine`` command.
- docs/performance.md: the compiled build; ``compute_metrics_from_lines`` (JSON lines in).
- docs/sla.md: SLA clocks (``sla=`` with an ``SlaPolicy`` or ``SlaPolicies``).

The core is pure: no I/O, no global state, no clock reads. Batch I/O lives in
the private ``metrics_engine._batch`` package and the ``metrics-engine`` command.
"""

from __future__ import annotations

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._cases import BatchResult, NotGroupedError, compute_batch
from metrics_engine._columns import COLUMNS, Column
from metrics_engine._compiled import COMPILED
from metrics_engine._compute import compute_metrics
from metrics_engine._errors import (
    CalendarError,
    EventError,
    MetricsEngineError,
    SequenceError,
    StateError,
)
from metrics_engine._fast import compute_metrics_from_lines
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS
from metrics_engine._replay import STATE_VERSION, CaseReplay
from metrics_engine._rules import Rules
from metrics_engine._sla_output import CaseSla, SlaMetric
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, SlaPolicyError, SlaTarget

__all__ = [
    "COLUMNS",
    "COMPILED",
    "DEFINITIONS_VERSION",
    "FIELDS",
    "STATE_VERSION",
    "BatchResult",
    "BusinessCalendar",
    "CalendarError",
    "CaseMetrics",
    "CaseReplay",
    "CaseSla",
    "Column",
    "EventError",
    "MetricsEngineError",
    "NotGroupedError",
    "Rules",
    "SequenceError",
    "SlaMetric",
    "SlaPolicies",
    "SlaPolicy",
    "SlaPolicyError",
    "SlaTarget",
    "StateError",
    "TeamCalendars",
    "__version__",
    "compute_batch",
    "compute_metrics",
    "compute_metrics_from_lines",
]

__version__ = "0.1.0"

#: Changes whenever the definition of a metric changes (dashboards can record it).
DEFINITIONS_VERSION = "1"
