"""Creation values rewound from the final case through the changes, newest to oldest; and
the cases where that cannot be done, which are rejected naming the field, never guessed."""

from __future__ import annotations

import pytest

from metrics_engine.sources import kayako
from tests.kayako_build import (
    AGENT,
    STATUSES,
    T0,
    action,
    activity,
    activity_post,
    at,
    case,
    convert,
    message,
    user,
)

HIGH = {"id": 3, "label": "High", "resource_type": "case_priority"}
LOW = {"id": 1, "label": "Low", "resource_type": "case_priority"}


def test_rewinding_through_several_changes() -> None:
    # Final: OPEN, agent 6, priority High. Oldest first: (1) priority Low → High, status
    # NEW → PENDING; (2) status PENDING → OPEN, agent 5 → 6. Undoing (2) gives PENDING,
    # agent 5; undoing (1) gives NEW, Low: the case was created NEW, agent 5, priority Low.
    other = user(6, "AGENT")
    result = convert(
        case(status=STATUSES["OPEN"], assigned_agent=other, priority=HIGH),
        message(1, T0),
        activity_post(
            2,
            activity(
                7,
                at(5),
                AGENT,
                [
                    action("casepriorityid", LOW, HIGH, 1),
                    action("casestatusid", STATUSES["NEW"], STATUSES["PENDING"], 2),
                ],
            ),
        ),
        activity_post(
            3,
            activity(
                8,
                at(9),
                AGENT,
                [
                    action("casestatusid", STATUSES["PENDING"], STATUSES["OPEN"], 3),
                    action("assigneeagentid", AGENT, other, 4),
                ],
            ),
        ),
    )
    assert result.events[0]["fields"] == {
        "requester": 17,
        "status": "NEW",
        "assignee": 5,
        "team": None,
        "priority": 1,
        "type": None,
        "sla": None,
    }
    assert [event.get("changes") for event in result.events[1:]] == [
        {"priority": 3, "status": "PENDING"},
        {"status": "OPEN", "assignee": 6},
    ]


def test_a_change_that_does_not_fit_rejects_the_case() -> None:
    # The case is COMPLETED but its last status change set OPEN: an activity is missing (or
    # the case changed between saving it and saving its posts). Rewinding would guess.
    with pytest.raises(kayako.KayakoError) as caught:
        convert(
            case(status=STATUSES["COMPLETED"]),
            message(1, T0),
            activity_post(
                2,
                activity(
                    7, at(5), AGENT, [action("casestatusid", STATUSES["NEW"], STATUSES["OPEN"])]
                ),
            ),
        )
    assert str(caught.value) == (
        "case 1042: field 'status': cannot be rewound: activity 7 (post 2) sets 'OPEN', but the "
        "next value known is 'COMPLETED'; the export misses activities or was saved while the "
        "case changed"
    )


def test_a_null_status_cannot_be_rewound() -> None:
    # Kayako's own example sets a status "from null": a case always has a status.
    with pytest.raises(
        kayako.KayakoError, match="field 'status': activity 7 \\(post 2\\) gives no status"
    ):
        convert(
            case(status=STATUSES["OPEN"]),
            message(1, T0),
            activity_post(
                2, activity(7, at(5), AGENT, [action("casestatusid", None, STATUSES["OPEN"])])
            ),
        )


def test_unknown_status_id_and_label() -> None:
    # A status Kayako deleted still appears in histories: the statuses list must hold it.
    with pytest.raises(
        kayako.KayakoError, match="names status 77, which is not in the statuses list"
    ):
        convert(case(status={"id": 77, "resource_type": "case_status"}), message(1, T0))
    with pytest.raises(kayako.KayakoError, match="names the status 'Gone' without an id"):
        convert(
            case(status=STATUSES["OPEN"]),
            message(1, T0),
            activity_post(
                2, activity(7, at(5), AGENT, [action("casestatusid", "Gone", STATUSES["OPEN"])])
            ),
        )


def test_a_user_known_only_by_a_name_nobody_has() -> None:
    with pytest.raises(
        kayako.KayakoError, match=r"field 'assignee': .* names the user 'Old Agent' without an id"
    ):
        convert(
            case(assigned_agent=AGENT),
            message(1, T0),
            activity_post(
                2, activity(7, at(5), AGENT, [action("assigneeagentid", "Old Agent", AGENT)])
            ),
        )


def test_labels_and_ids_that_cannot_meet() -> None:
    # The case gives its priority as a bare reference (no label) and the activity gives only
    # labels that match nothing: neither ids nor labels are known for every value.
    with pytest.raises(kayako.KayakoError, match=r"field 'priority': .* names 'Old' by label only"):
        convert(
            case(priority={"id": 3, "resource_type": "case_priority"}),
            message(1, T0),
            activity_post(2, activity(7, at(5), AGENT, [action("casepriorityid", "Old", "High")])),
        )


def test_labels_match_ids_through_any_object_of_the_export() -> None:
    # Activity 7 names "low" and "Low" by label only; activity 8 embeds the Low priority
    # object (id 1): the labels find that id (letter case aside), so ids serve the whole case.
    result = convert(
        case(priority=HIGH),
        message(1, T0),
        activity_post(2, activity(7, at(5), AGENT, [action("casepriorityid", "low", "Low", 1)])),
        activity_post(3, activity(8, at(6), AGENT, [action("casepriorityid", LOW, HIGH, 2)])),
    )
    assert result.events[0]["fields"]["priority"] == 1
    assert [event["changes"] for event in result.events[1:]] == [{"priority": 1}, {"priority": 3}]


def test_a_missing_activity_object_rejects() -> None:
    # References only, and the activities were not saved: post 2's activity is unknown.
    with pytest.raises(kayako.KayakoError, match="post 2: its activity 7 is not in the export"):
        convert(
            case(),
            message(1, T0),
            activity_post(2, {"id": 7, "resource_type": "activity", "created_at": at(5)}),
        )
