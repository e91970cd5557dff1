"""Kayako's output shape (SPEC section 6): order, encodings, absent values, aliases, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import metrics_engine as me

EVENTS: list[dict[str, Any]] = [
    {
        "case": 7,
        "event": "created",
        "at": "2026-03-02T09:00:00Z",
        "actor": {"id": 17, "role": "customer"},
    },
    {
        "case": 7,
        "event": "message",
        "at": "2026-03-02T09:30:00Z",
        "actor": {"id": "5", "role": "agent"},
    },
]


def metrics(**kwargs: Any) -> me.CaseMetrics:
    return me.compute_metrics(EVENTS, **kwargs)


def test_keys_in_kayako_order_then_resource_type() -> None:
    out = metrics().to_dict()
    assert list(out) == [*me.FIELDS, "resource_type"]
    assert len(me.FIELDS) == 41
    assert out["resource_type"] == "case_metric"


def test_absent_integers_are_zero_by_default_and_null_on_request() -> None:
    m = metrics()  # unresolved, no calendar
    assert m.resolution_calendar_time is None
    assert m.customer_business_wait_time is None
    default = m.to_dict()
    nulls = m.to_dict(absent="null")
    for name in (
        "resolution_calendar_time",
        "resolution_business_time",
        "replies_to_resolution",
        "agents_to_resolution",
        "customer_business_wait_time",
        "agent_first_business_response_time",
    ):
        assert default[name] == 0, name
        assert nulls[name] is None, name
    # The opening post's span closed at the reply: a real value, in both forms.
    assert (
        default["average_calendar_response_time"] == nulls["average_calendar_response_time"] == 1800
    )
    # Counts and calendar waits always have a value; flags are never null.
    assert nulls["customer_calendar_wait_time"] == 1800
    assert nulls["agent_calendar_wait_time"] == 0
    assert nulls["is_first_contact_resolved"] is False
    assert nulls["was_reopened"] is False


def test_absent_timestamps_and_users_are_null_never_epoch_zero() -> None:
    out = metrics().to_dict()
    assert out["resolution_at"] is None
    assert out["resolved_by"] is None
    assert out["last_reopened_at"] is None
    assert "1970" not in str(out)


def test_timestamps_are_utc_iso_seconds() -> None:
    out = metrics().to_dict()
    assert out["last_reply_by_agent_at"] == "2026-03-02T09:30:00+00:00"
    assert metrics().last_reply_by_agent_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_timestamps_in_a_named_zone() -> None:
    out = metrics().to_dict(timezone="America/New_York")
    assert out["last_reply_by_agent_at"] == "2026-03-02T04:30:00-05:00"
    out = metrics().to_dict(timezone="Asia/Kolkata")
    assert out["last_reply_by_agent_at"] == "2026-03-02T15:00:00+05:30"


def test_unknown_zone_and_bad_absent_are_errors() -> None:
    with pytest.raises(me.MetricsEngineError, match="IANA"):
        metrics().to_dict(timezone="Mars/Olympus")
    with pytest.raises(me.MetricsEngineError, match="absent"):
        metrics().to_dict(absent="none")  # type: ignore[arg-type]


def test_users_keep_the_id_as_given() -> None:
    out = metrics().to_dict()
    assert out["last_replier"] == {"id": "5", "resource_type": "user"}
    assert metrics().last_replier == "5"


def test_aliases_follow_their_canonical_keys() -> None:
    events = [
        *EVENTS,
        {
            "case": 7,
            "event": "update",
            "at": "2026-03-02T10:00:00Z",
            "changes": {"status": "CLOSED"},
        },
        {"case": 7, "event": "update", "at": "2026-03-02T11:00:00Z", "changes": {"status": "OPEN"}},
    ]
    out = me.compute_metrics(events).to_dict(aliases=True)
    keys = list(out)
    assert keys[keys.index("last_reopened_at") + 1] == "last_reopen_at"
    assert keys[keys.index("agent_updated_at") + 1] == "agent_update_at"
    assert out["last_reopen_at"] == out["last_reopened_at"] == "2026-03-02T11:00:00+00:00"
    assert out["agent_update_at"] == out["agent_updated_at"] == "2026-03-02T09:30:00+00:00"
    assert len(out) == 41 + 2 + 1
    assert "last_reopen_at" not in me.compute_metrics(events).to_dict()


def test_skipped_events_is_an_attribute_not_a_key() -> None:
    events = [*EVENTS, {"case": 7, "event": "sla_breach", "at": "2026-03-02T10:00:00Z"}]
    m = me.compute_metrics(events, strict=False)
    assert m.skipped_events == 1
    assert "skipped_events" not in m.to_dict()


def test_metrics_are_frozen() -> None:
    m = metrics()
    with pytest.raises(AttributeError):
        m.reopen_count = 3  # type: ignore[misc]
