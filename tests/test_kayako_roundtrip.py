"""Round trip: an event stream rendered as Kayako responses and converted back replays to
the same 41 metrics, in every layout and letter case, business time included (one calendar,
or one per team: the converted events name teams by Kayako's ids).

The renderer (tests/kayako_render.py) writes what Kayako keeps for a case: the final state,
each change as an activity with old and new values, posts newest first in overlapping pages
in any order. Converting that back must rewind the creation values, order the same second's
items and read each layout exactly. Kayako's whole seconds cannot tell an update from a post
within one second, nor a case opened with nothing from one whose first post came in its first
second: the stream is first put in the order Kayako can express (each second's posts before its
updates), and streams opened with nothing but with a post in their first second are skipped.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._events import parse_instant
from metrics_engine.sources import kayako
from metrics_engine.testing import calendars, event_streams, team_calendars
from tests.kayako_render import Rendered, camel, canonical_order, embedded, references_only, render

LAYOUTS = ("flat", "embedded", "references", "camel")


def _layout(rendered: Rendered, layout: str) -> dict[str, Any]:
    """The inputs of convert_case and Directory in one layout."""
    inputs: dict[str, Any] = {
        "case": rendered.case,
        "posts": rendered.posts,
        "activities": rendered.activities,
        "statuses": rendered.statuses,
        "users": rendered.users,
        "teams": rendered.teams,
    }
    if layout == "embedded":
        inputs = {
            k: [embedded(p) for p in v] if isinstance(v, list) else embedded(v)
            for k, v in inputs.items()
        }
    elif layout == "references":
        inputs = {
            "case": references_only(rendered.case),
            "posts": [references_only(page) for page in rendered.posts],
            # Without include, an activity post holds only a reference: the activities are
            # read from their own list, saved with their actions.
            "activities": [references_only(page, keep=("action",)) for page in rendered.activities],
            "statuses": rendered.statuses,
            "users": [embedded(page) for page in rendered.users],
            "teams": rendered.teams,
        }
    elif layout == "camel":
        inputs = {k: camel(v) for k, v in inputs.items()}
    return inputs


def convert(rendered: Rendered, layout: str) -> kayako.KayakoConversion:
    inputs = _layout(rendered, layout)
    directory = kayako.Directory(
        statuses=inputs["statuses"],
        users=inputs["users"],
        teams=inputs["teams"],
        status_types=rendered.status_types,
    )
    return kayako.convert_case(
        inputs["case"], inputs["posts"], inputs["activities"], directory=directory
    )


def _comparable(metrics: dict[str, Any], user_ids: dict[str, int] | None) -> dict[str, Any]:
    """User fields as Kayako ids (the renderer numbers the stream's users)."""
    out = dict(metrics)
    for name in ("last_replier", "resolved_by"):
        if out[name] is not None:
            user = str(out[name]["id"])
            out[name] = str(user_ids[user]) if user_ids is not None else user
    return out


Calendar = dict[str, Any] | None


def _calendars(drawn: Calendar, rendered: Rendered) -> tuple[Any, Any]:
    """The calendar for the stream, and the same for the converted events (whose teams are
    Kayako's ids)."""
    if drawn is None:
        return None, None
    if "default" not in drawn:
        calendar = me.BusinessCalendar.from_dict(drawn)
        return calendar, calendar
    default = me.BusinessCalendar.from_dict(drawn["default"])
    teams = {team: me.BusinessCalendar.from_dict(obj) for team, obj in drawn["teams"].items()}
    kayako_teams = {
        rendered.team_ids[team]: calendar
        for team, calendar in teams.items()
        if team in rendered.team_ids
    }
    return me.TeamCalendars(default, teams), me.TeamCalendars(default, kayako_teams)


@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[list[dict[str, Any]], str, random.Random, dict[str, Any], Calendar]:
    events = canonical_order(draw(event_streams(max_events=20)))
    created = events[0]
    first_second = parse_instant(created["at"], "at")
    # Opened with nothing, but a post in the first second: Kayako would show it as the
    # opening post. Such a history cannot be told apart in Kayako's data.
    assume(
        created.get("opening", "message") != "none"
        or not any(
            e["event"] in ("message", "note") and parse_instant(e["at"], "at") == first_second
            for e in events[1:]
        )
    )
    layout = draw(st.sampled_from(LAYOUTS))
    options = {
        "labels_only": frozenset(
            draw(st.sets(st.sampled_from(["team", "status", "assignee", "requester"])))
            if layout == "references"
            else draw(st.sets(st.sampled_from(["team", "priority", "type", "sla", "status"])))
        ),
        "private_as_failed_send": draw(st.booleans()),
        "page_size": draw(st.integers(1, 5)),
        "activities_too": layout == "references" or draw(st.booleans()),
    }
    calendar = draw(
        st.one_of(st.none(), calendars(holidays=False), team_calendars()), label="calendar"
    )
    return events, layout, random.Random(draw(st.integers(0, 2**16))), options, calendar


@given(cases())
def test_rendered_stream_converts_back_to_the_same_metrics(
    case: tuple[list[dict[str, Any]], str, random.Random, dict[str, Any], Calendar],
) -> None:
    events, layout, rng, options, drawn = case
    rendered = render(events, rng=rng, **options)
    result = convert(rendered, layout)
    assert result.report == ()
    calendar, kayako_calendar = _calendars(drawn, rendered)
    metrics = me.compute_metrics(events, calendar=calendar).to_dict(absent="null")
    expected = _comparable(metrics, rendered.user_ids)
    converted = me.compute_metrics(result.events, calendar=kayako_calendar)
    got = _comparable(converted.to_dict(absent="null"), None)
    assert got == expected
