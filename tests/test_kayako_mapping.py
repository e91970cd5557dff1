"""What each Kayako post kind and activity becomes (docs/kayako.md), one case at a time.

Each case is written by hand as Kayako's embedded layout shows it; the expected events and
metrics are worked out in the comments.
"""

from __future__ import annotations

from typing import Any

import pytest

import metrics_engine as me
from metrics_engine.sources import kayako
from tests.kayako_build import (
    AGENT,
    CUSTOMER,
    MONITOR,
    STATUSES,
    T0,
    TRIGGER,
    action,
    activity,
    activity_post,
    at,
    case,
    convert,
    message,
    note,
    post,
    user,
)


def _kinds(result: kayako.KayakoConversion) -> list[tuple[str, str]]:
    return [(event["event"], event["id"]) for event in result.events]


# ---------------------------------------------------------------------------- posts


@pytest.mark.parametrize(
    "kind",
    [
        "case_message",
        "chat_message",
        "facebook_message",
        "facebook_post",
        "facebook_comment",
        "twitter_tweet",
        "twitter_message",
    ],
)
def test_public_post_kinds_are_messages(kind: str) -> None:
    # The customer opens with an e-mail; the agent answers 10 minutes later on `kind`: a
    # reply, 600 s after creation.
    result = convert(case(), message(1, T0), message(2, at(10), AGENT, kind=kind))
    assert result.events[1] == {
        "case": 1042,
        "event": "message",
        "at": "2026-03-02T09:10:00+00:00",
        "id": "post:2",
        "actor": {"id": 5, "role": "AGENT"},
        "channel": "MAIL",
    }
    assert me.compute_metrics(result.events).agent_first_calendar_response_time == 600


def test_messenger_2_agent_post_is_a_reply() -> None:
    # Messenger 2 sends an agent's chat as a case_message on a MESSENGER channel: public.
    result = convert(case(), message(1, T0), message(2, at(1), AGENT, channel="MESSENGER"))
    assert result.events[1]["channel"] == "MESSENGER"
    assert me.compute_metrics(result.events).agent_reply_count == 1


@pytest.mark.parametrize("status", ["REJECTED", "NOT_SENT", "not_sent"])
def test_a_failed_send_is_a_private_message(status: str) -> None:
    # The customer never saw it: not a reply (no response time, no reply count), but the
    # agent did act on the case (a touch).
    result = convert(case(), message(1, T0), message(2, at(5), AGENT, post_status=status))
    assert result.events[1]["public"] is False
    metrics = me.compute_metrics(result.events)
    assert (metrics.agent_reply_count, metrics.agent_touch_count) == (0, 1)
    assert metrics.agent_first_calendar_response_time is None


def test_notes_and_side_conversations_are_notes() -> None:
    side = post(
        3,
        at(2),
        {"id": 3, "subject": "Ask the vendor", "resource_type": "side_conversation"},
        AGENT,
    )
    result = convert(case(), message(1, T0), note(2, at(1)), side)
    assert _kinds(result)[1:] == [("note", "post:2"), ("note", "post:3")]
    metrics = me.compute_metrics(result.events)
    # Two agent touches, no reply.
    assert (metrics.agent_touch_count, metrics.agent_reply_count) == (2, 0)


def test_an_ai_draft_is_reported_not_a_note() -> None:
    result = convert(case(), message(1, T0), note(2, at(1), note={"is_ai_draft": True}))
    assert _kinds(result) == [("created", "case:1042")]
    assert result.report == (
        kayako.Unmapped("note", "post:2", "an AI draft, not written by the agent"),
    )


def test_shadow_and_unknown_posts_are_reported() -> None:
    shadow = post(2, at(1), {"id": 2, "resource_type": "case_shadow_post"})
    odd = post(3, at(2), {"id": 3, "resource_type": "carrier_pigeon"})
    bare = post(4, at(3), None)  # type: ignore[arg-type]
    result = convert(case(), message(1, T0), shadow, odd, bare)
    assert [(item.kind, item.id) for item in result.report] == [
        ("case_shadow_post", "post:2"),
        ("carrier_pigeon", "post:3"),
        ("post", "post:4"),
    ]
    assert "unknown post kind 'carrier_pigeon'" in result.report[1].reason


def test_a_post_by_a_rule_is_the_systems() -> None:
    # An autoresponder's e-mail (creator: a trigger) and a post with no creator: system
    # posts, never replies.
    result = convert(case(), message(1, T0), message(2, at(1), TRIGGER), message(3, at(2), None))
    assert [event["actor"] for event in result.events[1:]] == [None, None]
    assert me.compute_metrics(result.events).agent_reply_count == 0


# ---------------------------------------------------------------------------- opening


def test_opening_post_in_the_creation_second() -> None:
    # Kayako creates a case and its first post in one request: the post in the creation
    # second is the opening post, not a reply.
    result = convert(case(), message(1, T0))
    assert result.events == [
        {
            "case": 1042,
            "event": "created",
            "at": "2026-03-02T09:00:00+00:00",
            "id": "case:1042",
            "actor": {"id": 17, "role": "CUSTOMER"},
            "fields": {
                "requester": 17,
                "status": "NEW",
                "assignee": None,
                "team": None,
                "priority": None,
                "type": None,
                "sla": None,
            },
            "opening": "message",
        }
    ]


def test_opened_with_a_note_or_nothing() -> None:
    by_note = convert(case(creator=AGENT), note(1, T0))
    assert (by_note.events[0]["opening"], by_note.events[0]["actor"]["role"]) == ("note", "AGENT")
    # A first post a second later is an ordinary message: the case was opened with nothing.
    later = convert(case(), message(1, "2026-03-02T09:00:01+00:00"))
    assert later.events[0]["opening"] == "none"
    assert _kinds(later)[1] == ("message", "post:1")


def test_outbound_case() -> None:
    # An agent opens the case for customer 17 with a message: the opening post is the agent's,
    # so the first response is measured from the customer's first post (outbound rule).
    result = convert(
        case(creator=AGENT), message(1, T0, AGENT), message(2, at(30)), message(3, at(40), AGENT)
    )
    assert result.events[0]["actor"] == {"id": 5, "role": "AGENT"}
    assert me.compute_metrics(result.events).agent_first_calendar_response_time == 600


# ---------------------------------------------------------------------------- activities


def _one_update(*actions: dict[str, Any], who: Any = AGENT, **final: Any) -> dict[str, Any]:
    result = convert(
        case(**final), message(1, T0), activity_post(2, activity(7, at(5), who, list(actions)))
    )
    assert result.events[-1]["id"] == "activity:7"
    return result.events[-1]


def test_status_change() -> None:
    event = _one_update(
        action("casestatusid", STATUSES["NEW"], STATUSES["OPEN"]), status=STATUSES["OPEN"]
    )
    assert (event["event"], event["changes"]) == ("update", {"status": "OPEN"})


def test_status_by_label_or_type_name() -> None:
    # Kayako's own examples show statuses as labels ("Open") or upper-case types ("NEW")
    # with no object: the statuses list says which is which.
    event = _one_update(action("casestatusid", "NEW", "Open"), status=STATUSES["OPEN"])
    assert event["changes"] == {"status": "OPEN"}


def test_assignee_by_id_and_by_name() -> None:
    event = _one_update(action("assigneeagentid", None, AGENT), assigned_agent=AGENT)
    assert event["changes"] == {"assignee": 5}
    # Only the agent's name: the user list has exactly one user with it.
    event = _one_update(action("assigneeagentid", "", "Ann Agent"), assigned_agent=AGENT)
    assert event["changes"] == {"assignee": 5}


def test_requester_change() -> None:
    other = user(18, "CUSTOMER", "Cora Customer")
    event = _one_update(action("requesterid", CUSTOMER, other), requester=other)
    assert event["changes"] == {"requester": 18}


def test_team_by_id_or_by_title_through_the_team_list() -> None:
    team = {"id": 3, "title": "Billing", "resource_type": "team"}
    event = _one_update(action("assigneeteamid", None, team), assigned_team=team)
    assert event["changes"] == {"team": 3}
    # Kayako's examples show teams by title only: the team list gives the id.
    result = convert(
        case(assigned_team={"id": 3, "resource_type": "team"}),
        message(1, T0),
        activity_post(2, activity(7, at(5), AGENT, [action("assigneeteamid", None, "Billing")])),
        teams=[team],
    )
    assert result.events[-1]["changes"] == {"team": 3}


@pytest.mark.parametrize(
    ("field", "key", "kind", "label_key"),
    [
        ("casepriorityid", "priority", "case_priority", "label"),
        ("casetypeid", "type", "case_type", "label"),
        ("slaversionid", "sla", "sla_version", "title"),
    ],
)
def test_reference_fields_ids_or_labels(field: str, key: str, kind: str, label_key: str) -> None:
    low = {"id": 1, label_key: "Low", "resource_type": kind}
    high = {"id": 3, label_key: "High", "resource_type": kind}
    case_key = {"priority": "priority", "type": "type", "sla": "sla_version"}[key]
    # With objects: ids.
    event = _one_update(action(field, low, high), **{case_key: high})
    assert event["changes"] == {key: 3}
    # Labels only, and "Low" is nowhere in the export with an id: the whole case uses
    # labels, the case's own value included (read from its embedded object).
    result = convert(
        case(**{case_key: high}),
        message(1, T0),
        activity_post(2, activity(7, at(5), AGENT, [action(field, "Low", "High")])),
    )
    assert result.events[0]["fields"][key] == "Low"
    assert result.events[-1]["changes"] == {key: "High"}


def test_other_fields_make_an_update_that_changes_nothing() -> None:
    event = _one_update(
        action("subject", "Old", "New", 1),
        action("tags", "a, b", "b", 2),
        action("state", "Active", "Trash", 3),
        action("serial_number", None, "X-1", 4),
        action("status", None, "custom field named like a case field", 5),
    )
    assert event["changes"] == {
        "subject": "New",
        "tags": "b",
        "state": "Trash",
        "serial_number": "X-1",
        "kayako_status": "custom field named like a case field",
    }


def test_an_empty_update_is_a_touch() -> None:
    result = convert(case(), message(1, T0), activity_post(2, activity(7, at(5), AGENT, [])))
    assert result.events[-1]["changes"] == {}
    assert me.compute_metrics(result.events).agent_touch_count == 1


def test_agent_and_team_in_one_activity() -> None:
    # One save assigns team Billing and agent 5: one update, both changes, one touch; the
    # case was created with neither.
    team = {"id": 3, "title": "Billing", "resource_type": "team"}
    result = convert(
        case(assigned_agent=AGENT, assigned_team=team),
        message(1, T0),
        activity_post(
            2,
            activity(
                7,
                at(5),
                AGENT,
                [
                    action("assigneeteamid", None, team, 1),
                    action("assigneeagentid", None, AGENT, 2),
                ],
            ),
        ),
    )
    assert result.events[0]["fields"]["team"] is None
    assert result.events[0]["fields"]["assignee"] is None
    assert result.events[1]["changes"] == {"team": 3, "assignee": 5}
    metrics = me.compute_metrics(result.events)
    assert (metrics.team_change_count, metrics.assignee_change_count) == (1, 1)
    assert metrics.first_assignment_at == metrics.team_updated_at


def test_trigger_status_change_is_the_systems() -> None:
    result = convert(
        case(status=STATUSES["OPEN"]),
        message(1, T0),
        activity_post(
            2,
            activity(
                7, at(1), TRIGGER, [action("casestatusid", STATUSES["NEW"], STATUSES["OPEN"])]
            ),
        ),
    )
    assert result.events[1]["actor"] is None
    assert me.compute_metrics(result.events).agent_touch_count == 0


def test_monitor_completed_to_closed_is_not_a_reopen() -> None:
    # Agent completes at +10 min; the monitor closes at +4 days. Resolution stays at +10 min
    # (COMPLETED → CLOSED is neither a resolution nor a reopen), by the agent.
    result = convert(
        case(status=STATUSES["CLOSED"]),
        message(1, T0),
        message(2, at(5), AGENT),
        activity_post(
            3,
            activity(
                7, at(10), AGENT, [action("casestatusid", STATUSES["NEW"], STATUSES["COMPLETED"])]
            ),
        ),
        activity_post(
            4,
            activity(
                8,
                "2026-03-06T09:10:00+00:00",
                MONITOR,
                [action("casestatusid", STATUSES["COMPLETED"], STATUSES["CLOSED"])],
            ),
        ),
    )
    assert result.events[-1]["actor"] is None
    metrics = me.compute_metrics(result.events)
    assert metrics.reopen_count == 0
    assert metrics.resolution_calendar_time == 600
    assert metrics.resolved_by == 5
    assert metrics.is_first_contact_resolved is True


def test_customer_reply_and_system_reopen_in_the_same_second() -> None:
    # The agent completes at +10 min. The customer writes at +60 min and the system reopens
    # in that same second; the activity's id (6) is lower than the post's (9), yet the post
    # comes first (posts before activities within a second): the reply happens on the
    # completed case, then the reopen moves the start of its response span to the reopen.
    result = convert(
        case(status=STATUSES["OPEN"]),
        message(1, T0),
        message(2, at(5), AGENT),
        activity_post(
            3,
            activity(
                5, at(10), AGENT, [action("casestatusid", STATUSES["NEW"], STATUSES["COMPLETED"])]
            ),
        ),
        message(9, at(60)),
        activity_post(
            4,
            activity(
                6, at(60), None, [action("casestatusid", STATUSES["COMPLETED"], STATUSES["OPEN"])]
            ),
        ),
    )
    assert _kinds(result)[-2:] == [("message", "post:9"), ("update", "activity:6")]
    metrics = me.compute_metrics(result.events)
    assert metrics.reopen_count == 1
    assert metrics.requester_reply_count == 1


def test_set_aside_activities_are_reported() -> None:
    rating = activity(
        11, at(3), CUSTOMER, name="create_case_rating", verb="RATE",
        object={"title": "GOOD", "original": {"id": 1, "resource_type": "rating"}},
    )  # fmt: skip
    api_event = activity(
        12, at(4), AGENT, name=None, verb="TRIGGER",
        object={"title": "Clicked pricing", "original": {"id": 7, "resource_type": "event"}},
    )  # fmt: skip
    items = [
        activity(
            8,
            at(1),
            {"id": 4, "title": "FRT", "resource_type": "sla_version"},
            name="breach_case",
            verb="BREACH",
        ),
        activity(9, at(2), AGENT, name="merge_case", verb="MERGE"),
        activity(10, at(2), CUSTOMER, name="update_case_rating", verb="RATE"),
        rating,
        api_event,
        activity(13, at(5), CUSTOMER, name="reply_case", verb="REPLY"),
        activity(14, at(6), AGENT, name="launch_rocket", verb="LAUNCH"),
        activity(15, at(7), None, name=None, verb=None),
    ]
    result = convert(
        case(), message(1, T0), *[activity_post(20 + n, a) for n, a in enumerate(items)]
    )
    assert _kinds(result) == [("created", "case:1042")]
    assert [(item.kind, item.id, item.post) for item in result.report] == [
        ("breach_case", "activity:8", "20"),
        ("merge_case", "activity:9", "21"),
        ("update_case_rating", "activity:10", "22"),
        ("create_case_rating", "activity:11", "23"),
        ("event", "activity:12", "24"),
        ("reply_case", "activity:13", "25"),
        ("launch_rocket", "activity:14", "26"),
        ("activity", "activity:15", "27"),
    ]


def test_foreign_timeline_items_are_reported() -> None:
    # The requester's help-centre visits (before the case existed), notes on the user and the
    # organization, a Messenger engagement, an article suggestion, and an activity about
    # another case: none is an event of this case, whatever its date.
    engagement = {"id": 2, "title": "Welcome", "resource_type": "engagement"}
    items = [
        activity(1, "1966-01-01T00:00:00+00:00", CUSTOMER, name="view_article", verb="VIEW"),
        activity(2, "1966-01-01T00:00:00+00:00", CUSTOMER, name="search_helpcenter", verb="SEARCH"),
        activity(3, at(1), AGENT, name="create_user_note", verb="NOTE"),
        activity(4, at(1), AGENT, name="create_organization_note", verb="NOTE"),
        activity(5, at(2), engagement, name="engage_user", verb="ENGAGE", actor=None),
        activity(6, at(3), CUSTOMER, name="view_suggested_article", verb="VIEW"),
        activity(7, at(4), AGENT, object={"original": {"id": 99, "resource_type": "case"}}),
    ]
    result = convert(
        case(), message(100, T0), *[activity_post(10 + n, a) for n, a in enumerate(items)]
    )
    assert _kinds(result) == [("created", "case:1042")]
    reasons = [item.reason for item in result.report]
    assert all("not an event of this case" in reason for reason in reasons[:6])
    assert reasons[6] == "about case 99, not this one"


def test_items_dated_before_the_case_are_reported() -> None:
    # After a merge, the merged case's older posts show in this timeline.
    result = convert(case(), message(1, T0), message(2, "2026-03-01T08:00:00+00:00"))
    assert result.report == (
        kayako.Unmapped(
            "case_message",
            "post:2",
            "dated before the case was created (merged from an older case?)",
        ),
    )


# ---------------------------------------------------------------------------- actors


def test_roles_come_from_the_role_type() -> None:
    admin = user(6, "ADMIN")
    result = convert(case(), message(1, T0), message(2, at(1), admin))
    assert result.events[1]["actor"] == {"id": 6, "role": "ADMIN"}


def test_a_deleted_or_unknown_user_rejects_the_case() -> None:
    # Kayako no longer returns a deleted user, and the reference alone carries no role:
    # whether the post was a reply cannot be known, so the case is not guessed.
    ghost = {"id": 666, "resource_type": "user"}
    with pytest.raises(
        kayako.KayakoError, match="user 666: expected a user record with a role"
    ) as caught:
        convert(case(), message(1, T0), message(2, at(1), ghost))
    assert str(caught.value).startswith("case 1042: post 2: ")
    # A disabled user still has a record and a role: converted as usual.
    retired = {**user(7, "AGENT"), "is_enabled": False}
    assert (
        convert(case(), message(1, T0), message(2, at(1), retired)).events[1]["actor"]["role"]
        == "AGENT"
    )


def test_roles_from_the_user_list_when_posts_carry_references() -> None:
    result = convert(
        case(),
        message(1, T0),
        message(2, at(1), {"id": 5, "resource_type": "user"}),
        users={"status": 200, "data": [AGENT, CUSTOMER], "resource": "user"},
    )
    assert result.events[1]["actor"] == {"id": 5, "role": "AGENT"}


# ---------------------------------------------------------------------------- custom statuses

WAITING = {
    "id": 8,
    "label": "Waiting on vendor",
    "type": "CUSTOM",
    "is_sla_active": False,
    "resource_type": "case_status",
}
SOLVED = {
    "id": 9,
    "label": "Solved",
    "type": "CUSTOM",
    "is_sla_active": True,
    "resource_type": "case_status",
}


def _to(status: dict[str, Any], **directory: Any) -> kayako.KayakoConversion:
    directory.setdefault("statuses", [*STATUSES.values(), WAITING, SOLVED])
    return convert(
        case(status=status),
        message(1, T0),
        activity_post(
            2, activity(7, at(5), AGENT, [action("casestatusid", STATUSES["NEW"], status)])
        ),
        **directory,
    )


def test_custom_status_without_a_mapping() -> None:
    # Not SLA-active → behaves as PENDING: the agent now waits for the customer.
    result = _to(WAITING)
    assert result.events[1]["changes"] == {
        "status": {"name": "Waiting on vendor", "type": "PENDING", "sla_active": False}
    }
    assert me.compute_metrics(result.events).agent_calendar_wait_time == 0  # as_of = +5 min
    # SLA-active → OPEN: without a mapping, "Solved" does not resolve the case.
    assert me.compute_metrics(_to(SOLVED).events).resolution_at is None


def test_custom_status_with_a_mapping() -> None:
    result = _to(SOLVED, status_types={9: "completed"})
    assert result.events[1]["changes"] == {
        "status": {"name": "Solved", "type": "COMPLETED", "sla_active": True}
    }
    assert me.compute_metrics(result.events).resolution_calendar_time == 300


def test_custom_status_without_sla_flag_needs_a_mapping() -> None:
    odd = {"id": 10, "label": "Limbo", "type": "CUSTOM", "resource_type": "case_status"}
    with pytest.raises(
        kayako.KayakoError, match=r"status 10 \('Limbo'\) is CUSTOM .*--status-type 10=TYPE"
    ):
        _to(odd, statuses=[*STATUSES.values(), odd])


def test_bad_status_mapping() -> None:
    with pytest.raises(kayako.KayakoError, match="status types: expected status id"):
        kayako.Directory(status_types={9: "RESOLVED"})
