"""The shape of Kayako's ``case_metric`` object (docs/metrics.md): names, order, encodings.

Pure formatting: it knows which field is a timestamp, a user, a flag or an integer, and
how each is written, but nothing about how a value was computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics_engine._errors import MetricsEngineError

__all__ = ["FIELDS", "FLAG_FIELDS", "TIMESTAMP_FIELDS", "USER_FIELDS", "Absent", "kayako_dict"]

#: The 41 fields, in Kayako's order and spelling (``status_update_at`` included).
FIELDS: Final = (
    "is_first_contact_resolved",
    "was_reopened",
    "last_reopened_at",
    "first_assignment_at",
    "last_assignment_at",
    "last_activity_by_requester_at",
    "last_activity_by_assignee_at",
    "last_reply_by_agent_at",
    "last_reply_by_assignee_at",
    "last_reply_by_requester_at",
    "last_reply_by_customer_at",
    "agent_updated_at",
    "customer_updated_at",
    "requester_updated_at",
    "team_updated_at",
    "priority_updated_at",
    "type_updated_at",
    "status_update_at",
    "reopen_count",
    "resolution_at",
    "agents_to_resolution",
    "replies_to_resolution",
    "last_replier",
    "resolved_by",
    "resolution_calendar_time",
    "resolution_business_time",
    "average_calendar_response_time",
    "average_business_response_time",
    "agent_first_calendar_response_time",
    "agent_first_business_response_time",
    "agent_calendar_wait_time",
    "agent_business_wait_time",
    "customer_calendar_wait_time",
    "customer_business_wait_time",
    "priority_change_count",
    "sla_change_count",
    "agent_reply_count",
    "requester_reply_count",
    "assignee_change_count",
    "team_change_count",
    "agent_touch_count",
)
FLAG_FIELDS: Final = frozenset({"is_first_contact_resolved", "was_reopened"})
USER_FIELDS: Final = frozenset({"last_replier", "resolved_by"})
TIMESTAMP_FIELDS: Final = frozenset(name for name in FIELDS if name.endswith("_at"))
INTEGER_FIELDS: Final = frozenset(FIELDS) - FLAG_FIELDS - USER_FIELDS - TIMESTAMP_FIELDS
#: Keys that Kayako's sample response spells differently, each emitted after its canonical key.
ALIASES: Final = {"last_reopened_at": "last_reopen_at", "agent_updated_at": "agent_update_at"}

Absent = Literal["zero", "null"]


def resolve_zone(timezone: str | tzinfo | None) -> tzinfo | None:
    """An IANA zone name (or a tzinfo) for output; ``None`` means UTC."""
    if timezone is None or isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise MetricsEngineError(
            f"timezone: expected an IANA time zone name, found {timezone!r}"
        ) from None


def format_instant(moment: datetime, zone: tzinfo | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS+HH:MM``; UTC unless a zone is named."""
    if zone is not None:
        moment = moment.astimezone(zone)
    if moment.microsecond:  # never from the engine (whole seconds), but keep the format
        moment = moment.replace(microsecond=0)
    return moment.isoformat()  # a quarter faster than with timespec="seconds"


def kayako_dict(
    values: Mapping[str, Any],
    *,
    timezone: str | tzinfo | None = None,
    absent: Absent = "zero",
    aliases: bool = False,
) -> dict[str, Any]:
    """Kayako's ``case_metric`` data object from the 41 field values (``None`` = absent)."""
    if absent not in ("zero", "null"):
        raise MetricsEngineError(f"absent: expected 'zero' or 'null', found {absent!r}")
    zone = resolve_zone(timezone)
    missing = 0 if absent == "zero" else None
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = values[name]
        if value is None:
            out[name] = None if name not in INTEGER_FIELDS else missing
        elif name in TIMESTAMP_FIELDS:
            out[name] = format_instant(value, zone)
        elif name in USER_FIELDS:
            out[name] = {"id": value, "resource_type": "user"}
        else:
            out[name] = value
        if aliases and name in ALIASES:
            out[ALIASES[name]] = out[name]
    out["resource_type"] = "case_metric"
    return out
