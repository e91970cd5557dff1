"""Reading what users saved: letter cases, layouts, pages in any order and overlapping, the
activities list beside the posts, and the real camelCase responses of Kayako's SDK tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from metrics_engine.sources import kayako
from metrics_engine.sources._kayako_layouts import Index, items_of, snake_name
from tests.kayako_build import (
    AGENT,
    STATUSES,
    T0,
    action,
    activity,
    activity_post,
    at,
    case,
    message,
    page,
)
from tests.kayako_render import camel

SAMPLES = Path(__file__).parent / "kayako" / "samples"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("resource_type", "resource_type"),
        ("resourceType", "resource_type"),
        ("ResourceType", "resource_type"),
        ("isSlaActive", "is_sla_active"),
        ("resourceURL", "resource_url"),
        ("caseStatus", "case_status"),
        ("userMinimal", "user_minimal"),
        ("businesshour", "businesshour"),
        ("id", "id"),
        ("Id", "id"),
    ],
)
def test_snake_names(given: str, expected: str) -> None:
    assert snake_name(given) == expected


def _pascal(value: Any) -> Any:
    """``_case=pascal``: keys and ``resource_type`` values capitalised (``CaseStatus``)."""

    def up(text: str) -> str:
        return text[:1].upper() + text[1:]

    def walk(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {(k if k.isdigit() else up(k)): walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(child) for child in node]
        if key in ("resourceType", "resource") and isinstance(node, str):
            return up(node)
        return node

    return walk(camel(value))


def _history() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    posts = [
        message(1, T0),
        message(2, at(5), AGENT),
        activity_post(
            3,
            activity(
                7, at(6), AGENT, [action("casestatusid", STATUSES["NEW"], STATUSES["PENDING"])]
            ),
        ),
        message(4, at(30)),
    ]
    return case(status=STATUSES["PENDING"]), posts


def _convert(the_case: Any, pages: Any, activities: Any = ()) -> list[dict[str, Any]]:
    directory = kayako.Directory(statuses=list(STATUSES.values()))
    return kayako.convert_case(the_case, pages, activities, directory=directory).events


def test_camel_and_pascal_read_as_snake() -> None:
    the_case, posts = _history()
    expected = _convert(the_case, page(*posts))
    assert _convert(camel(the_case), camel(page(*posts))) == expected
    assert camel(page(*posts))["data"][0]["resourceType"] == "post"
    pascal_statuses = _pascal({"data": list(STATUSES.values())})
    assert pascal_statuses["Data"][0]["ResourceType"] == "CaseStatus"
    directory = kayako.Directory(statuses=pascal_statuses)
    got = kayako.convert_case(_pascal(the_case), [_pascal(page(*posts))], directory=directory)
    assert got.events == expected


def test_pages_in_any_order_and_overlapping() -> None:
    the_case, posts = _history()
    expected = _convert(the_case, page(*posts))
    # Newest first, two per page, saved in reverse, the middle post on both pages.
    older, newer = page(posts[0], posts[1], posts[2]), page(posts[2], posts[3])
    assert _convert(the_case, [older, newer]) == expected
    assert _convert(the_case, [newer, older, copy.deepcopy(newer)]) == expected


def test_of_two_copies_the_later_update_wins() -> None:
    # A post fetched twice: first as NOT_SENT, then (updated later) as DELIVERED.
    the_case, posts = _history()
    failed = {**posts[1], "post_status": "NOT_SENT"}
    delivered = {**posts[1], "updated_at": at(7)}
    for pages in ([page(failed), page(delivered)], [page(delivered), page(failed)]):
        events = _convert(the_case, [*pages, page(posts[0], posts[2], posts[3])])
        assert "public" not in events[1]


def test_activities_list_and_posts_give_one_event_each() -> None:
    # The same activity as a post (filters=all) and in /activities: one event, its id
    # "activity:7" either way.
    the_case, posts = _history()
    listed = {"status": 200, "data": [posts[2]["original"]], "resource": "activity"}
    events = _convert(the_case, page(*posts), listed)
    assert [event["id"] for event in events].count("activity:7") == 1
    # Posts saved without activities (filters=messages): the list supplies them.
    alone = _convert(the_case, page(posts[0], posts[1], posts[3]), listed)
    assert alone == _convert(the_case, page(*posts))


def test_flat_mode_resources_resolve_references() -> None:
    the_case, posts = _history()
    flat_posts = []
    resources: dict[str, dict[str, Any]] = {}
    for post in posts:
        flat = dict(post)
        for key in ("creator", "original"):
            obj = post[key]
            if isinstance(obj, dict):
                flat[key] = {"id": obj["id"], "resource_type": obj["resource_type"]}
                resources.setdefault(obj["resource_type"], {})[str(obj["id"])] = obj
        flat_posts.append(flat)
    flat_page = {**page(*flat_posts), "resources": resources}
    assert _convert(the_case, flat_page) == _convert(the_case, page(*posts))


def test_bad_shapes() -> None:
    index = Index()
    with pytest.raises(kayako.KayakoError, match="expected a Kayako response"):
        items_of(42, index, "posts")
    with pytest.raises(kayako.KayakoError, match=r"data\[0\]: expected an object, found int"):
        items_of({"data": [1]}, index, "posts")
    with pytest.raises(kayako.KayakoError, match="case: expected one case object, found 0"):
        _convert({"status": 200, "data": [], "resource": "case"}, page())


def test_real_camel_case_responses_are_read() -> None:
    # Kayako's SDK test data: a conversation with embedded userMinimal users, a caseStatus
    # and a team whose businessHour lists each hour twice.
    index = Index()
    (conversation,) = items_of(
        json.loads((SAMPLES / "sdk_camel_conversation_get.json").read_text()), index, "c"
    )
    assert conversation["status"]["is_sla_active"] is True
    assert index.get("user", "15") is not None  # userMinimal is a user
    assert index.get("case_status", "1")["label"] == "New"  # type: ignore[index]
    teams = json.loads((SAMPLES / "sdk_camel_conversation_object.json").read_text())["assignedTeam"]
    calendars = kayako.team_calendars(teams=[teams], timezone="UTC")
    assert calendars.calendar_for("1") is calendars.default  # the default hours are the team's


def test_real_activities_that_are_not_about_cases_are_reported() -> None:
    # Five real activities from a Kayako server (log in, build a report, update a user or an
    # organization, invite an agent), given as a case's activities list: none is a case event,
    # each is reported under its own name.
    activities = json.loads((SAMPLES / "minutebase_user_activities_2017.json").read_text())
    the_case = case(created_at="2017-01-01T00:00:00+00:00")
    result = kayako.convert_case(
        the_case,
        page(message(1, "2017-01-01T00:00:00+00:00")),
        activities,
        directory=kayako.Directory(statuses=list(STATUSES.values())),
    )
    assert [event["event"] for event in result.events] == ["created"]
    assert [(item.kind, item.id, item.post) for item in result.report] == [
        ("agent_invite", "activity:153", None),
        ("log_in", "activity:198", None),
        ("build_report", "activity:201", None),
        ("update_user", "activity:283", None),
        ("update_organization", "activity:370", None),
    ]
