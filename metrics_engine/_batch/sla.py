"""SLA clocks in a batch run (batch layer): the ``--sla`` file, and each case's SLA results as
a JSON line or CSV rows (see docs/sla.md, "Batch").

The policy file holds one of three things, told apart by its keys: ``targets`` (one policy
for every case), ``policies`` (a set chosen by each case's ``sla``) or ``data`` (Kayako's
``/api/v1/slas`` response, read with its defaults). Policies pickle, so the workers get them
with the job.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Final

from metrics_engine._batch.inputs import BatchError, read_json_file
from metrics_engine._batch.outputs import csv_cell, dumps, utf8
from metrics_engine._columns import CASE_ID
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text
from metrics_engine._sla_output import CaseSla
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy, require_calendar

__all__ = ["SLA_COLUMNS", "SlaEncoder", "load_sla"]

#: Columns of the SLA results in CSV: one row per record, the target flattened.
_RECORD_COLUMNS: Final = (
    "metric_type",
    "cycle",
    "stage",
    "started_at",
    "due_at",
    "completed_at",
    "completed_by",
    "last_paused_at",
    "is_breached",
    "breached_at",
    "elapsed_seconds",
    "remaining_seconds",
)
_TARGET_COLUMNS: Final = ("sla", "priority", "goal_in_seconds", "operational_hours")
SLA_COLUMNS: Final = (CASE_ID, *_RECORD_COLUMNS, *_TARGET_COLUMNS)


def load_sla(path: str, has_calendar: bool) -> SlaPolicy | SlaPolicies:
    """The policy (or set) in ``path``; :class:`BatchError` (exit 2) when it cannot be read,
    is not one of the three forms, is invalid, or needs a calendar that was not given."""
    obj = read_json_file(path, "--sla")
    policy: SlaPolicy | SlaPolicies
    try:
        if isinstance(obj, dict) and "targets" in obj:
            policy = SlaPolicy.from_dict(obj)
        elif isinstance(obj, dict) and "policies" in obj:
            policy = SlaPolicies.from_dict(obj)
        elif isinstance(obj, dict) and "data" in obj:
            policy = SlaPolicies.from_kayako(obj)
        else:
            found = (
                "an object with keys " + ", ".join(json.dumps(key) for key in obj)
                if isinstance(obj, dict) and obj
                else _kind(obj)
            )
            raise BatchError(
                f'--sla {path}: expected an object with "targets" (a policy), "policies" (a '
                f'policy set) or "data" (Kayako\'s SLAs), found {found}'
            )
        require_calendar(policy, has_calendar)
    except MetricsEngineError as error:
        hint = " (give --calendar or --team-calendars)" if "no calendar" in error.detail else ""
        raise BatchError(f"--sla {path}: {error.detail}{hint}") from None
    return policy


def _kind(obj: object) -> str:
    if isinstance(obj, dict):
        return "an empty object"
    if isinstance(obj, list):
        return "a list"
    return json.dumps(obj)[:40]


class SlaEncoder:
    """A case's SLA results: one JSON line (``case_id`` then ``CaseSla.to_dict()``), or one
    CSV row per record (none for a case without records)."""

    def __init__(self, as_csv: bool) -> None:
        self.csv = as_csv
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def encode(self, case: object, sla: CaseSla) -> bytes:
        case_id = id_text(case, "case")
        results = sla.to_dict()
        if not self.csv:
            return dumps({CASE_ID: case_id, **results}) + b"\n"
        self._buffer.seek(0)
        self._buffer.truncate()
        for record in results["sla_metrics"]:
            target: dict[str, Any] | None = record["target"]
            cells = [case_id, *(csv_cell(record[name]) for name in _RECORD_COLUMNS)]
            cells.extend(
                "" if target is None else csv_cell(target[name]) for name in _TARGET_COLUMNS
            )
            self._writer.writerow(cells)
        return utf8(self._buffer.getvalue())
