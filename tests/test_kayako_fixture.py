"""Kayako's own timeline fixture: 82 posts covering every timeline kind Kayako's team tested
(tests/kayako/samples/mirage_case_posts_all_permutations.flat.json, flat mode, newest first).

Every post is either mapped to a step or listed in the report with its reason, and the
counts below were made by reading the fixture post by post:

- posts 1–3: the requester's help-centre activities dated 1966 (view, search, comment);
- posts 4–9: customer messages (two e-mails, one each of chat, Facebook, tweet, Twitter DM);
  post 5 is an agent's e-mail;
- post 10: the SLA engine attaches an SLA; posts 11, 44, 58: breaches;
- posts 12–41: 30 ``update_case`` activities, one per field and combination;
- posts 42–43: tags added by a trigger and a monitor;
- posts 45–48: merges; posts 49–50: trash and restore by an agent;
- posts 51–57: seven integration events (verb TRIGGER);
- posts 59–61: two ratings and a rating update;
- posts 62–64: agent completes (twice), monitor Completed → Closed;
- post 65: an activity named ``unknown``; post 66: an empty update with no actor;
  post 67: an activity with no name at all;
- posts 68–69: notes; 70–73: two organization notes and two user notes;
- posts 74–76: an agent's Messenger replies (two chat messages, one Messenger-2 e-mail);
- posts 77–82: trigger and monitor completions, trash and restore.

The fixture's case object (``mirage_case.json``) belongs to another of Kayako's scenarios and
was created on 2017-02-07, after most of these posts: the tests move its ``created_at`` to the
first message's instant (post 4, 2017-01-02T01:00:00Z) so that the timeline is the case's own.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from metrics_engine.sources import kayako

SAMPLES = Path(__file__).parent / "kayako" / "samples"


def _load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def timeline() -> kayako.Timeline:
    case = _load("mirage_case.json")
    case["data"]["created_at"] = "2017-01-02T01:00:00.000Z"
    posts = _load("mirage_case_posts_all_permutations.flat.json")
    return kayako.read_case(case, posts, directory=kayako.Directory())


def test_every_post_is_mapped_or_reported(timeline: kayako.Timeline) -> None:
    posts = _load("mirage_case_posts_all_permutations.flat.json")["data"]
    assert len(posts) == 82
    mapped = [step.post for step in timeline.steps]
    reported = [item.post or item.id.removeprefix("post:") for item in timeline.reader.report]
    assert sorted(mapped + reported, key=int) == [str(post["id"]) for post in reversed(posts)]


def test_mapped_steps_by_kind(timeline: kayako.Timeline) -> None:
    counts = Counter((step.kind, step.origin) for step in timeline.steps)
    assert counts == {
        ("message", "case_message"): 3,  # posts 4, 5, 76
        ("message", "chat_message"): 3,  # posts 6, 74, 75
        ("message", "facebook_message"): 1,
        ("message", "twitter_tweet"): 1,
        ("message", "twitter_message"): 1,
        ("note", "note"): 2,  # posts 68, 69
        ("update", "update_case"): 43,  # 10, 12–41, 49, 50, 62–64, 66, 77–82
        ("update", "create_tag"): 2,  # 42, 43
    }


def test_report_counts_by_kind(timeline: kayako.Timeline) -> None:
    counts = Counter(item.kind for item in timeline.reader.report)
    assert counts == {
        "view_article": 1,
        "search_helpcenter": 1,
        "create_helpcenter_comment": 1,
        "create_user_note": 2,
        "create_organization_note": 2,
        "breach_case": 3,
        "merge_case": 4,
        "event": 7,
        "create_case_rating": 2,
        "update_case_rating": 1,
        "unknown": 1,  # post 65: an activity Kayako names "unknown"
        "activity": 1,  # post 67: no activity name at all
    }
    for item in timeline.reader.report:
        assert item.reason
        assert item.id.startswith("activity:")  # every post set aside here carries one


def _step(timeline: kayako.Timeline, post: int) -> Any:
    (found,) = [step for step in timeline.steps if step.post == str(post)]
    return found


def test_actors(timeline: kayako.Timeline) -> None:
    # User 1 has role 4 (CUSTOMER), user 2 role 2 (AGENT), in the page's resources.
    assert _step(timeline, 4).actor == {"id": 1, "role": "CUSTOMER"}
    assert _step(timeline, 5).actor == {"id": 2, "role": "AGENT"}
    assert _step(timeline, 10).actor is None  # the SLA engine
    assert _step(timeline, 42).actor is None  # a trigger
    assert _step(timeline, 43).actor is None  # a monitor
    # Post 39's activity has no actor although the post names user 2 as creator: the
    # activity's actor is who did it, so this is the system's.
    assert _step(timeline, 39).actor is None


def test_agent_and_team_in_one_activity(timeline: kayako.Timeline) -> None:
    # Post 36: "Old Agent" → unassigned (old_object user 2), "Old Team" → "New Team" (labels).
    step = _step(timeline, 36)
    (agent_field, agent_old, agent_new), (team_field, team_old, team_new) = step.changes
    assert (agent_field, agent_old.key, agent_new.null) == ("assignee", "2", True)
    assert (team_field, team_old.label, team_new.label) == ("team", "Old Team", "New Team")


def test_monitor_completed_to_closed(timeline: kayako.Timeline) -> None:
    step = _step(timeline, 64)
    assert step.actor is None
    ((name, old, new),) = step.changes
    assert (name, old.key, new.key) == ("status", "4", "5")


def test_ignored_fields_keep_the_update(timeline: kayako.Timeline) -> None:
    # Post 38: nine actions, six of them on fields the events ignore (subject, form, tags,
    # a custom field) — still one update, with those kept under Kayako's names.
    step = _step(timeline, 38)
    assert [name for name, _, _ in step.changes] == [
        "team",
        "assignee",
        "status",
        "priority",
        "type",
    ]
    assert dict(step.ignored) == {
        "subject": "New Subject",
        "caseformid": "Support",
        "tags": "testtag",
        "custom_fields_are_lower_case_underscore_separated": "new string",
    }


def test_messenger_replies_by_an_agent_are_public_messages(timeline: kayako.Timeline) -> None:
    for post in (74, 75, 76):
        step = _step(timeline, post)
        assert (step.kind, step.public, step.channel) == ("message", True, "MESSENGER")
        assert step.actor == {"id": 2, "role": "AGENT"}


def test_the_fixture_cannot_be_rewound_and_says_which_field() -> None:
    # The fixture's activities are independent permutations, not one history: the case's
    # priority is known by id only and the activities name priorities by label only.
    case = _load("mirage_case.json")
    case["data"]["created_at"] = "2017-01-02T01:00:00.000Z"
    posts = _load("mirage_case_posts_all_permutations.flat.json")
    with pytest.raises(kayako.KayakoError, match=r"^case 1: field 'priority': ") as caught:
        kayako.convert_case(case, posts, directory=kayako.Directory())
    assert len(caught.value.report) == 26
    assert "\n" not in str(caught.value)
