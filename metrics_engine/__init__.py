"""metrics_engine: Kayako's case metrics, recomputed by replaying a case's events.

The core is pure: no I/O, no global state, no clock reads. Batch I/O lives in
the ``metrics_engine._batch*`` modules and the ``metrics-engine`` command.
"""

from __future__ import annotations

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._cases import BatchResult, NotGroupedError, compute_batch
from metrics_engine._errors import (
    CalendarError,
    EventError,
    MetricsEngineError,
    SequenceError,
    StateError,
)
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS
from metrics_engine._replay import STATE_VERSION, CaseReplay, compute_metrics
from metrics_engine._rules import Rules

__all__ = [
    "DEFINITIONS_VERSION",
    "FIELDS",
    "STATE_VERSION",
    "BatchResult",
    "BusinessCalendar",
    "CalendarError",
    "CaseMetrics",
    "CaseReplay",
    "EventError",
    "MetricsEngineError",
    "NotGroupedError",
    "Rules",
    "SequenceError",
    "StateError",
    "TeamCalendars",
    "__version__",
    "compute_batch",
    "compute_metrics",
]

__version__ = "0.1.0"

#: Changes whenever the definition of a metric changes (dashboards can record it).
DEFINITIONS_VERSION = "1"
