"""The worked example of docs/metrics.md (case 1042), as Kayako would return it, converts and
replays to exactly the published numbers in every layout and letter case.

Kayako keeps the case's final state (COMPLETED, assigned to agent 5, team 3, priority
Normal), and its timeline newest first: four posts (the customer's opening message, two agent
replies, the customer's reply) and four activities (assign + open, pending, the system's
reopen in the same second as the customer's reply, completed).
"""

from __future__ import annotations

from typing import Any

import pytest

import metrics_engine as me
from tests.kayako_render import render
from tests.test_kayako_roundtrip import LAYOUTS, convert

SPEC_EXAMPLE: list[dict[str, Any]] = [
    {"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00",
     "actor": {"id": 17, "role": "customer"},
     "fields": {"requester": 17, "priority": "NORMAL", "team": 3}},
    {"case": 1042, "event": "update", "at": "2026-03-02T09:20:00-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"assignee": 5, "status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1042, "event": "update", "at": "2026-03-02T10:02:30-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00",
     "actor": {"id": 17, "role": "customer"}},
    {"case": 1042, "event": "update", "at": "2026-03-03T08:00:00-05:00",
     "changes": {"status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T09:30:00-05:00",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1042, "event": "update", "at": "2026-03-03T09:31:00-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip

# The numbers published with the example (calendar time, no business calendar).
EXPECTED = {
    "agent_first_calendar_response_time": 2830,
    "average_calendar_response_time": 4115,
    "customer_calendar_wait_time": 8310,
    "agent_calendar_wait_time": 79050,
    "resolution_calendar_time": 87360,
    "replies_to_resolution": 3,
    "agent_touch_count": 5,
    "agent_reply_count": 2,
    "requester_reply_count": 1,
    "is_first_contact_resolved": False,
}


def test_the_rendering_is_what_kayako_keeps() -> None:
    rendered = render(SPEC_EXAMPLE, page_size=100)
    case = rendered.case["data"]
    objects = rendered.resources
    assert objects["case_status"][str(case["status"]["id"])]["type"] == "COMPLETED"
    assert case["assigned_agent"]["id"] == rendered.user_ids["5"]
    assert case["requester"]["id"] == rendered.user_ids["17"]
    (page,) = rendered.posts
    stamps = [post["created_at"] for post in page["data"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    kinds = [post["original"]["resource_type"] for post in page["data"]]
    assert kinds.count("case_message") == 4
    assert kinds.count("activity") == 4


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("page_size", [100, 2])
def test_spec_example_converts_to_the_published_numbers(layout: str, page_size: int) -> None:
    rendered = render(SPEC_EXAMPLE, page_size=page_size, activities_too=layout == "references")
    result = convert(rendered, layout)
    assert result.report == ()
    created = result.events[0]
    users, case = rendered.user_ids, rendered.case["data"]
    team, priority = case["assigned_team"]["id"], case["priority"]["id"]  # never changed
    assert created["fields"] == {
        "requester": users["17"],
        "status": "NEW",
        "assignee": None,
        "team": team,
        "priority": priority,
        "type": None,
        "sla": None,
    }
    assert created["opening"] == "message"
    # The customer's reply and the system's reopen share a second: the post comes first.
    kinds = [(event["event"], event["at"]) for event in result.events]
    assert kinds[4:6] == [
        ("message", "2026-03-03T13:00:00+00:00"),
        ("update", "2026-03-03T13:00:00+00:00"),
    ]
    assert result.events[5]["actor"] is None
    metrics = me.compute_metrics(result.events)
    assert {name: getattr(metrics, name) for name in EXPECTED} == EXPECTED
