"""Saved states (``CaseReplay.to_state`` / ``from_state``): a state restores exactly, or
``from_state`` raises ``StateError`` naming the key; never a wrong metric, never a later crash.

The properties take real states (streams from ``metrics_engine.testing``, cut anywhere, in
both modes, under every rule, with and without calendars), tamper with them at random, and
check that each tampered state is refused at once or is one the engine itself could have
written: it writes itself back unchanged, reads sane metrics and goes on taking events.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine.testing import event_streams

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CAL = me.BusinessCalendar.from_dict(
    {"timezone": "America/New_York", "week": {day: [["09:00", "17:00"]] for day in WEEKDAYS}}
)
NIGHTS = me.BusinessCalendar.from_dict({"timezone": "UTC", "week": {"sun": [["22:00", "06:00"]]}})
TEAMS = me.TeamCalendars(default=CAL, teams={"2": NIGHTS, 3: CAL})

CASE = 1042
H = 3600
T0 = 1772442000  # 2026-03-02T09:00:00Z, a Monday


def at(hours: float) -> str:
    """The instant ``hours`` after 09:00 UTC on 2026-03-02, as ISO text."""
    return datetime.fromtimestamp(T0 + int(hours * H), UTC).isoformat()


AGENT = {"id": 5, "role": "agent"}
CUSTOMER = {"id": 17, "role": "customer"}
# A case with something in every list of the state (worked through in the comments).
EXAMPLE = [
    # 09:00 opened by the requester: a response span and the customer's wait start.
    {
        "case": CASE,
        "event": "created",
        "at": at(0),
        "actor": CUSTOMER,
        "id": "c0",
        "fields": {"status": "OPEN", "team": 2, "priority": "HIGH"},
    },
    # 09:30 assigned to agent 5, team 2 -> 3: a second team segment.
    {
        "case": CASE,
        "event": "update",
        "at": at(0.5),
        "actor": AGENT,
        "id": "u1",
        "changes": {"assignee": 5, "team": 3},
    },
    # 10:00 the first reply: response span [09:00, 10:00].
    {"case": CASE, "event": "message", "at": at(1), "actor": AGENT, "id": "m2"},
    # 10:00 pending: the customer's wait [09:00, 10:00] closes, the agent's opens.
    {
        "case": CASE,
        "event": "update",
        "at": at(1),
        "actor": AGENT,
        "changes": {"status": "PENDING"},
    },
    # 11:00 the requester writes: a response span opens.
    {"case": CASE, "event": "message", "at": at(2), "actor": CUSTOMER, "id": 4},
    # 11:00 a trigger reopens to OPEN: the agent's wait [10:00, 11:00] closes.
    {"case": CASE, "event": "update", "at": at(2), "changes": {"status": "OPEN"}},
    # 12:00 solved: unresolved [09:00, 12:00], customer wait [11:00, 12:00].
    {
        "case": CASE,
        "event": "update",
        "at": at(3),
        "actor": AGENT,
        "id": "u6",
        "changes": {"status": "COMPLETED"},
    },
    # 13:00 the requester reopens it: a reopen, a customer wait from 13:00.
    {
        "case": CASE,
        "event": "update",
        "at": at(4),
        "actor": CUSTOMER,
        "changes": {"status": "OPEN"},
    },
]


def replay_of(
    events: list[dict[str, Any]],
    *,
    calendar: Any = None,
    strict: bool = True,
    rules: me.Rules = me.Rules(),  # noqa: B008 - frozen
) -> me.CaseReplay:
    replay = me.CaseReplay(calendar=calendar, strict=strict, rules=rules)
    for event in events:
        replay.apply(event)
    return replay


def saved(replay: me.CaseReplay) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(json.dumps(replay.to_state(), allow_nan=False))
    return state


def refused(state: Any, *names: str, calendar: Any = None) -> str:
    """from_state raises StateError, one line, naming every one of ``names``."""
    with pytest.raises(me.StateError) as caught:
        me.CaseReplay.from_state(state, calendar=calendar)
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message, (name, message)
    return message


# --------------------------------------------------------------------------- the example


def test_the_example_metrics_as_worked_by_hand() -> None:
    m = replay_of(EXAMPLE).metrics()
    assert m.customer_calendar_wait_time == 2 * H  # [09, 10] and [11, 12]; 13:00 is now
    assert m.agent_calendar_wait_time == H  # [10, 11]
    assert m.average_calendar_response_time == H  # [09, 10]; [11, ...] closed unrecorded
    assert (m.agent_reply_count, m.requester_reply_count, m.reopen_count) == (1, 1, 1)


@pytest.mark.parametrize("cut", range(len(EXAMPLE) + 1))
@pytest.mark.parametrize("calendar", [None, CAL, TEAMS])
def test_a_state_restores_exactly_at_every_cut(cut: int, calendar: Any) -> None:
    replay = replay_of(EXAMPLE[:cut], calendar=calendar)
    state = saved(replay)
    restored = me.CaseReplay.from_state(state, calendar=calendar)
    assert restored.to_state() == state
    for event in EXAMPLE[cut:]:
        restored.apply(event)
    assert restored.metrics() == replay_of(EXAMPLE, calendar=calendar).metrics()


# --------------------------------------------------------------------------- the cases


def test_a_negative_span_is_refused_rather_than_shortening_a_wait() -> None:
    state = saved(replay_of(EXAMPLE))
    start, end = state["case"]["customer_waits"][0]
    state["case"]["customer_waits"][0] = [end, start]
    refused(state, "'case.customer_waits[0]'")


def test_a_negative_reply_count_is_refused_rather_than_output() -> None:
    state = saved(replay_of(EXAMPLE))
    state["case"]["agent_reply_count"] = -7
    refused(state, "'case.agent_reply_count'", "-7")


def test_the_old_messages_still_name_version_and_format() -> None:
    state = saved(replay_of(EXAMPLE))
    refused({**state, "version": 999}, "version 999")
    refused({"format": "something else"}, "CaseReplay.to_state")
    refused([state], "CaseReplay.to_state")


# --------------------------------------------------------------------------- every key


def object_paths(state: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """Paths of the keys of the fixed-shape objects (not of the seen and status maps)."""
    for key, value in state.items():
        yield (key,)
        if key in ("rules", "replay", "case"):
            for inner in value:
                yield (key, inner)


def at_path(state: dict[str, Any], path: tuple[Any, ...]) -> tuple[Any, Any]:
    """The container holding the last step of ``path``, and that step."""
    node: Any = state
    for step in path[:-1]:
        node = node[step]
    return node, path[-1]


STATE = saved(replay_of(EXAMPLE, calendar=TEAMS))
KEY_PATHS = list(object_paths(STATE))


@pytest.mark.parametrize("path", KEY_PATHS, ids=".".join)
def test_every_key_is_required(path: tuple[str, ...]) -> None:
    state = copy.deepcopy(STATE)
    container, key = at_path(state, path)
    del container[key]
    refused(state, f"'{'.'.join(path)}'", calendar=TEAMS)


@pytest.mark.parametrize("where", [(), ("rules",), ("replay",), ("case",)], ids=str)
def test_no_key_is_added(where: tuple[str, ...]) -> None:
    state = copy.deepcopy(STATE)
    container = state
    for step in where:
        container = container[step]
    container["surprise"] = 1
    refused(state, "surprise", calendar=TEAMS)


LEAF_PATHS = [path for path in KEY_PATHS if path[0] in ("replay", "case") and len(path) == 2]


@pytest.mark.parametrize("path", LEAF_PATHS, ids=".".join)
@pytest.mark.parametrize(
    "junk",
    [1.5, math.nan, True, {"x": [1]}, 10**5000],
    ids=["float", "nan", "bool", "dict", "huge"],
)
def test_every_field_checks_its_type(path: tuple[str, ...], junk: Any) -> None:
    state = copy.deepcopy(STATE)
    container, key = at_path(state, path)
    if type(container[key]) is bool or (isinstance(junk, dict) and type(container[key]) is dict):
        junk = 7  # a bool field or an object: an int is the wrong type there
    container[key] = junk
    refused(state, f"'{'.'.join(path)}", calendar=TEAMS)


COUNTERS = [
    path
    for path in LEAF_PATHS
    if path[1].endswith("_count")
    or path[1].endswith("_resolution")
    or path[1] in ("applied", "index", "skipped")
]


@pytest.mark.parametrize("path", COUNTERS, ids=".".join)
@pytest.mark.parametrize("value", [-1, -7, 2**63])
def test_counts_are_whole_numbers_in_range(path: tuple[str, ...], value: int) -> None:
    state = copy.deepcopy(STATE)
    container, key = at_path(state, path)
    container[key] = value
    refused(state, f"'{'.'.join(path)}'", calendar=TEAMS)


CREATED = STATE["case"]["created_at"]
LAST = STATE["case"]["last_at"]
INSTANT_FIELDS = [
    name
    for name in STATE["case"]
    if name.endswith(("_at", "_start")) and name not in ("created_at", "last_at")
]


@pytest.mark.parametrize("name", INSTANT_FIELDS)
@pytest.mark.parametrize("instant", [CREATED - 1, LAST + 1, -(2**70)])
def test_instants_lie_within_the_case(name: str, instant: int) -> None:
    state = copy.deepcopy(STATE)
    state["case"][name] = instant
    refused(state, f"'case.{name}'", calendar=TEAMS)


SPAN_LISTS = ["unresolved_periods", "response_spans", "customer_waits", "agent_waits"]


@pytest.mark.parametrize("name", SPAN_LISTS)
def test_spans_lie_within_the_case_in_order(name: str) -> None:
    spans = STATE["case"][name]
    assert spans, name  # the example has one of each
    start, end = spans[0]
    for bad in (
        [CREATED - 1, end],
        [start, LAST + 1],
        [start, end, end],
        [start],
        [str(start), end],
        {"start": start},
    ):
        state = copy.deepcopy(STATE)
        state["case"][name][0] = bad
        refused(state, f"'case.{name}[0]'", calendar=TEAMS)
    state = copy.deepcopy(STATE)
    state["case"][name] = [*spans, spans[0]]  # the first span again, after the others
    refused(state, f"'case.{name}[{len(spans)}]'", calendar=TEAMS)


# (a change to the example's final state, what the message must name)
BROKEN: list[tuple[str, Any, str]] = [
    ("case.case_raw", True, "'case.case_raw'"),
    ("case.case_raw", 1043, "'case.case_raw'"),
    ("replay.case_key", "999", "'replay.case_key'"),
    ("replay.error_case", None, "'replay.error_case'"),
    ("replay.last_at", LAST - 1, "'replay.last_at'"),
    ("replay.applied", 0, "'replay.applied'"),
    ("replay.index", 3, "'replay.index'"),
    ("replay.skipped", 1, "'replay.skipped'"),  # strict mode skips nothing
    ("replay.status_now", "PENDING", "'replay.status_now'"),
    ("replay.status_now", "WAITING", "'replay.status_now'"),
    ("replay.status_types", {"PENDING": "PENDING"}, "'replay.status_types'"),  # no OPEN
    ("replay.status_types", {"OPEN": "open", "COMPLETED": "COMPLETED"}, "'replay.status_types"),
    ("replay.seen", {"c0": "not a digest"}, "'replay.seen"),
    ("replay.seen", {"c0": 5}, "'replay.seen"),
    ("replay.seen", {str(n): "0" * 24 for n in range(9)}, "'replay.seen'"),  # > applied
    ("case.requester", 17, "'case.requester'"),
    ("case.assignee", 5, "'case.assignee'"),
    ("case.team", "2", "'case.team'"),  # the last team segment says 3
    ("case.priority", 10**700, "'case.priority'"),
    ("case.last_replier", 1.0, "'case.last_replier'"),
    ("case.resolved_by", False, "'case.resolved_by'"),
    ("case.status_type", "COMPLETED", "'case.status_type'"),
    ("case.status_name", "", "'case.status_name'"),
    ("case.resolved", True, "'case.resolved'"),
    ("case.wait_side", "agent", "'case.wait_side'"),
    ("case.wait_start", CREATED, "'case.wait_start'"),  # before the end of the last wait
    ("case.first_assignment_at", None, "'case.first_assignment_at'"),
    ("case.last_reopened_at", None, "'case.last_reopened_at'"),
    ("case.reopen_count", 2, "'case.reopen_count'"),
    ("case.resolution_at", LAST, "'case.resolution_at'"),
    ("case.unresolved_start", None, "'case.unresolved_start'"),
    ("case.assignees_seen", ["5", "5"], "'case.assignees_seen"),
    ("case.assignees_seen", [5], "'case.assignees_seen"),
    ("case.assignees_seen", [], "'case.assignee"),
    ("case.agents_at_resolution", 2, "'case.agents_at_resolution'"),
    ("case.reply_count", 1, "'case.reply_count'"),
    ("case.agent_touch_count", 0, "'case.agent_touch_count'"),
    ("case.team_segments", [], "'case.team_segments'"),
    ("case.team_segments", [[CREATED + 1, "2"]], "'case.team_segments"),
    ("case.team_segments", [[CREATED, 2]], "'case.team_segments"),
    ("case.team_segments", [[CREATED, "2"], [CREATED, "3"]], "'case.team_segments"),
    ("case.first_response", [CREATED + 1, CREATED + H], "'case.first_response'"),
    ("case.first_response_start", None, "'case.first_response"),
    ("case.response_span_start", CREATED, "'case.response_span_start'"),
    ("case.customer_waits", [[CREATED, CREATED]], "'case.customer_waits[0]'"),  # empty
    ("case.customer_waits", [[CREATED, CREATED + H], [CREATED + 1, CREATED + 2]], "waits"),
    ("case.agent_waits", [[CREATED, CREATED + H]], "waits"),  # overlaps a customer wait
    ("strict", 1, "'strict'"),
    ("rules", {"resolution_time": "weekly"}, "'rules"),
    ("version", True, "'version'"),
    ("version", 2.0, "'version'"),
]


@pytest.mark.parametrize(("path", "value", "name"), BROKEN, ids=lambda item: str(item)[:40])
def test_broken_invariants_are_refused(path: str, value: Any, name: str) -> None:
    state = copy.deepcopy(STATE)
    container, key = at_path(state, tuple(path.split(".")))
    if path == "rules":
        container[key].update(value)
    else:
        container[key] = value
    refused(state, name, calendar=TEAMS)


def test_an_empty_replay_restores_and_a_tampered_empty_one_is_refused() -> None:
    empty = saved(me.CaseReplay(strict=False))
    assert me.CaseReplay.from_state(empty).to_state() == empty
    for name, value in (("reply_count", 1), ("created_at", T0), ("team_segments", [[T0, None]])):
        state = copy.deepcopy(empty)
        state["case"][name] = value
        refused(state, f"'case.{name}'")
    state = copy.deepcopy(empty)
    state["replay"]["index"] = 2  # two events taken, none skipped, none applied
    refused(state, "'replay.index'")
    state["replay"]["skipped"] = 2
    assert me.CaseReplay.from_state(state).to_state() == state  # two unknown kinds skipped


def test_lenient_states_with_skips_and_a_first_event_of_another_case_restore() -> None:
    replay = me.CaseReplay(strict=False)
    replay.apply({"case": "other", "event": "merged", "at": at(0)})
    for event in EXAMPLE:
        replay.apply(event)
    state = saved(replay)
    assert state["replay"]["error_case"] == "other"
    assert state["replay"]["skipped"] == 1
    assert me.CaseReplay.from_state(state).to_state() == state


def test_values_too_big_or_too_deep_to_show_are_still_refused_in_one_line() -> None:
    refused({**STATE, "version": 10**5000}, "'version'", "too large to show")
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    for path, value in (
        (("case", "customer_waits"), deep),
        (("case", "priority"), deep),
        (("replay", "seen"), {"x": deep}),
        (("replay", "index"), 10**5000),
        (("case", "created_at"), -(10**5000)),
        (("case", "last_replier"), 10**5000),
    ):
        state = copy.deepcopy(STATE)
        container, key = at_path(state, path)
        container[key] = value
        refused(state, f"'{'.'.join(path)}", calendar=TEAMS)
    state = copy.deepcopy(STATE)
    state["case"][10**5000] = 1  # a key that is no text
    refused(state, "'case'", calendar=TEAMS)


# --------------------------------------------------------------------------- properties

rules_strategy = st.builds(
    me.Rules,
    resolution_time=st.sampled_from(["cumulative", "elapsed"]),
    reopen_on_customer_message=st.booleans(),
    team_only_assignment=st.booleans(),
)


@st.composite
def real_states(draw: st.DrawFn) -> tuple[dict[str, Any], Any, list[dict[str, Any]]]:
    """A state the engine wrote, its calendar, and the events that would follow it."""
    strict = draw(st.booleans())
    rules = draw(rules_strategy)
    calendar = draw(st.sampled_from([None, CAL, TEAMS]))
    events = draw(event_streams(max_events=12))
    if not strict:  # unknown kinds, skipped wherever they come
        for _ in range(draw(st.integers(0, 2))):
            position = draw(st.integers(0, len(events)))
            case = draw(st.sampled_from([events[0]["case"], "elsewhere", None]))
            events.insert(position, {"case": case, "event": "merged", "at": "junk"})
    replay = me.CaseReplay(calendar=calendar, strict=strict, rules=rules)
    if draw(st.booleans()):  # a failed first event leaves its case behind for messages
        with contextlib.suppress(me.EventError):
            replay.apply({"case": 77, "event": "message", "at": "no time"})
    cut = draw(st.integers(0, len(events)))
    for event in events[:cut]:
        replay.apply(event)
    return saved(replay), calendar, events[cut:]


def node_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from node_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from node_paths(value, (*path, index))


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


JUNK = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        -1,
        1,
        2**63,
        10**5000,
        1.5,
        math.nan,
        math.inf,
        "",
        "x",
        "NEW",
        "COMPLETED",
        "agent",
        "0" * 24,
        [],
        {},
        [1, 2],
        [2, 1],
        [None, "3"],
        {"a": 1},
        nested(50),
    ]
)


def mutate(draw: st.DrawFn, state: dict[str, Any]) -> None:
    """One random change anywhere in the state."""
    path = draw(st.sampled_from(list(node_paths(state))))
    container, key = at_path(state, path)
    value = container[key]
    case = state.get("case") if isinstance(state.get("case"), dict) else {}
    created, last = (case.get(name) for name in ("created_at", "last_at"))
    if type(created) is not int or type(last) is not int:  # tampered already
        created, last = T0, T0 + H
    kind = draw(
        st.sampled_from(["negate", "shift", "junk", "drop", "add", "swap", "copy", "instant"])
    )
    if kind == "negate" and type(value) is int:
        container[key] = -value
    elif kind == "shift" and type(value) is int:
        container[key] = value + draw(st.sampled_from([-86400, -2, -1, 1, 2, 3600]))
    elif kind == "drop":
        del container[key]
    elif kind == "add" and isinstance(value, dict | list):
        siblings = list(value.values()) if isinstance(value, dict) else value
        if siblings and draw(st.booleans()):
            extra = copy.deepcopy(draw(st.sampled_from(siblings)))
        else:
            extra = copy.deepcopy(draw(JUNK))
        if isinstance(value, dict):
            value[draw(st.sampled_from(["junk", "0", "c0", "OPEN", "e1"]))] = extra
        else:
            value.insert(draw(st.integers(0, len(value))), extra)
    elif kind == "swap" and isinstance(value, list) and len(value) >= 2:
        i, j = draw(st.lists(st.integers(0, len(value) - 1), min_size=2, max_size=2))
        value[i], value[j] = value[j], value[i]
    elif kind == "copy":
        source = draw(st.sampled_from(list(node_paths(state))))
        holder, step = at_path(state, source)
        container[key] = copy.deepcopy(holder[step])
    elif kind == "instant":
        container[key] = draw(
            st.sampled_from([created - 1, created, (created + last) // 2, last, last + 1])
        )
    else:
        container[key] = copy.deepcopy(draw(JUNK))


def check_sane(metrics: me.CaseMetrics, created: int, as_of: int) -> None:
    """What the metrics of any valid state satisfy."""
    values = {name: getattr(metrics, name) for name in me.FIELDS}
    for name, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool):
            assert value >= 0, name
        if name.endswith("_at") and value is not None:
            assert created <= value.timestamp() <= as_of, name
    for calendar_name in [name for name in values if "_calendar_" in name]:
        business = values[calendar_name.replace("_calendar_", "_business_")]
        if business is not None:
            assert values[calendar_name] is not None
            assert business <= values[calendar_name], calendar_name
    assert metrics.agent_reply_count <= metrics.agent_touch_count


def check_usable(replay: me.CaseReplay, calendar: Any, rest: list[dict[str, Any]]) -> None:
    """A restored replay reads, takes events and saves like one that was never saved."""
    for stage in ("restored", "fed"):
        state = replay.to_state()
        json.dumps(state, allow_nan=False)
        if replay.last_at is not None:
            created = state["case"]["created_at"]
            last = state["case"]["last_at"]
            check_sane(replay.metrics(), created, last)
            later = datetime.fromtimestamp(last + 30 * H, UTC)
            check_sane(replay.metrics(as_of=later), created, last + 30 * H)
        if stage == "restored":
            for event in rest:
                # a failed event changes nothing; the next one is taken as usual
                with contextlib.suppress(me.MetricsEngineError):
                    replay.apply(event)
        # what the engine writes from an accepted state, it accepts again
        assert me.CaseReplay.from_state(state, calendar=calendar).to_state() == state


@given(real=real_states())
def test_real_states_restore_exactly(real: tuple[dict[str, Any], Any, list[Any]]) -> None:
    state, calendar, rest = real
    restored = me.CaseReplay.from_state(state, calendar=calendar)
    assert restored.to_state() == state
    check_usable(restored, calendar, rest)


@given(real=real_states(), data=st.data())
def test_a_tampered_state_is_refused_at_once_or_is_a_state_the_engine_could_write(
    real: tuple[dict[str, Any], Any, list[Any]], data: st.DataObject
) -> None:
    state, calendar, rest = real
    for _ in range(data.draw(st.integers(1, 3))):
        if isinstance(state, dict) and state:
            mutate(data.draw, state)
    try:
        restored = me.CaseReplay.from_state(state, calendar=calendar)
    except me.StateError as error:
        refusal = str(error)
    else:
        refusal = ""
    if refusal:
        assert "\n" not in refusal
        return
    assert restored.to_state() == state  # exactly what was given: nothing dropped or mended
    check_usable(restored, calendar, rest)


def surely_broken(draw: st.DrawFn, state: dict[str, Any]) -> tuple[str, ...]:
    """Break the state in a way no valid state allows; return the names the error may give."""
    paths = [path for path in node_paths(state) if not isinstance(at_path(state, path)[1], int)]
    leaves = [
        path
        for path in node_paths(state)
        if not isinstance(at_path(state, path)[0][at_path(state, path)[1]], dict | list)
    ]
    kind = draw(st.sampled_from(["drop", "add", "retype", "negative", "outside", "reverse"]))
    fixed = [path for path in paths if len(path) == 1 or path[0] in ("rules", "replay", "case")]
    fixed = [path for path in fixed if len(path) <= 2]
    if kind == "drop":
        path = draw(st.sampled_from(fixed))
        container, key = at_path(state, path)
        del container[key]
        return (key,)
    if kind == "add":
        where = draw(st.sampled_from([(), ("rules",), ("replay",), ("case",)]))
        container = state
        for step in where:
            container = container[step]
        container["surprise"] = draw(JUNK)
        return ("surprise",)
    if kind == "retype":
        path = draw(st.sampled_from(leaves))
        container, key = at_path(state, path)
        value = container[key]
        if type(value) is bool:
            container[key] = int(value)
        elif type(value) is int:
            container[key] = draw(st.sampled_from([True, False, float(value), math.nan, 10**5000]))
        else:
            container[key] = draw(st.sampled_from([True, math.inf, 2.5]))
        return tuple(step for step in path if isinstance(step, str))[-1:]
    case = state["case"]
    if kind == "negative":
        names = [path[-1] for path in COUNTERS]
        name = draw(st.sampled_from(names))
        section = "replay" if name in ("applied", "index", "skipped") else "case"
        value = state[section][name]
        state[section][name] = -value if value > 0 else -1
        return (name,)
    if case["created_at"] == 0:  # an empty replay: any change to its case is refused
        case["wait_start"] = 1
        return ("wait_start",)
    created, last = case["created_at"], case["last_at"]
    if kind == "outside":
        name = draw(st.sampled_from([*INSTANT_FIELDS, *SPAN_LISTS, "created_at", "last_at"]))
        if name in SPAN_LISTS and case[name]:
            index = draw(st.integers(0, len(case[name]) - 1))
            case[name][index][draw(st.sampled_from([0, 1]))] = draw(
                st.sampled_from([created - 1, last + 1])
            )
            return (name,)
        if name == "created_at":
            case[name] = last + 1
            return ("created_at", "last_at")
        if name == "last_at":
            case[name] = created - 1
            return ("created_at", "last_at")
        if name in INSTANT_FIELDS:
            case[name] = draw(st.sampled_from([created - 1, last + 1]))
            return (name,)
    spans = [(name, index) for name in SPAN_LISTS for index, _ in enumerate(case[name])]
    spans = [(name, index) for name, index in spans if case[name][index][0] < case[name][index][1]]
    if spans:
        name, index = draw(st.sampled_from(spans))
        case[name][index].reverse()
        return (name,)
    state["version"] = 0
    return ("version",)


@given(real=real_states(), data=st.data())
def test_a_state_broken_for_sure_is_refused_naming_the_key(
    real: tuple[dict[str, Any], Any, list[Any]], data: st.DataObject
) -> None:
    state, calendar, _ = real
    names = surely_broken(data.draw, state)
    with pytest.raises(me.StateError) as caught:
        me.CaseReplay.from_state(state, calendar=calendar)
    message = str(caught.value)
    assert "\n" not in message
    assert any(name in message for name in names), (names, message)


# --------------------------------------------------------------------------- calendar fingerprints

NEW_YORK = {"timezone": "America/New_York", "week": {day: [["09:00", "17:00"]] for day in WEEKDAYS}}


def test_a_fingerprint_follows_the_definition_not_the_object() -> None:
    again = me.BusinessCalendar.from_dict(copy.deepcopy(NEW_YORK))
    assert again is not CAL
    assert again.fingerprint == CAL.fingerprint
    assert len(CAL.fingerprint) == 24
    assert int(CAL.fingerprint, 16) >= 0  # hex digits
    split = {"timezone": "UTC", "week": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]}}
    swapped = {"timezone": "UTC", "week": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}}
    same = [me.BusinessCalendar.from_dict(obj).fingerprint for obj in (split, swapped)]
    assert same[0] == same[1]  # the order of a day's intervals means nothing
    kayako = me.BusinessCalendar.from_kayako(
        {
            "zones": {
                name: list(range(9, 17))
                for name in ("monday", "tuesday", "wednesday", "thursday", "friday")
            }
        },
        timezone="America/New_York",
    )
    assert kayako.fingerprint == CAL.fingerprint  # the same hours, imported from Kayako


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "America/Chicago"},
        {"week": {day: [["09:00", "17:30"]] for day in WEEKDAYS}},
        {"dates": {"2026-12-24": [["09:00", "12:00"]]}},
        {"dates": {"2026-12-25": []}},
        {"holidays": {"country": "US"}},
    ],
)
def test_a_fingerprint_changes_with_any_part_of_the_definition(change: dict[str, Any]) -> None:
    other = me.BusinessCalendar.from_dict({**NEW_YORK, **change})
    assert other.fingerprint != CAL.fingerprint


def test_a_fingerprint_survives_pickling() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(CAL)).fingerprint == CAL.fingerprint


def test_team_calendars_fingerprint_covers_default_and_every_team() -> None:
    same = me.TeamCalendars(default=CAL, teams={2: NIGHTS, "3": CAL})  # 3 and "3" are one team
    assert same.fingerprint == TEAMS.fingerprint
    assert TEAMS.fingerprint not in (CAL.fingerprint, NIGHTS.fingerprint)
    for other in (
        me.TeamCalendars(default=NIGHTS, teams={"2": NIGHTS, "3": CAL}),
        me.TeamCalendars(default=CAL, teams={"2": CAL, "3": CAL}),
        me.TeamCalendars(default=CAL, teams={"2": NIGHTS, "4": CAL}),
        me.TeamCalendars(default=CAL, teams={"2": NIGHTS}),
        me.TeamCalendars(default=CAL),
    ):
        assert other.fingerprint != TEAMS.fingerprint
    assert me.TeamCalendars(default=CAL).fingerprint != CAL.fingerprint


@pytest.mark.parametrize("calendar", [None, CAL, TEAMS])
def test_a_state_records_the_fingerprint_of_its_calendar(calendar: Any) -> None:
    state = saved(replay_of(EXAMPLE, calendar=calendar))
    assert state["version"] == me.STATE_VERSION
    assert state["calendar"] == (None if calendar is None else calendar.fingerprint)


def test_the_same_calendar_built_again_restores_without_a_word() -> None:
    state = saved(replay_of(EXAMPLE[:4], calendar=CAL))
    again = me.BusinessCalendar.from_dict(copy.deepcopy(NEW_YORK))
    restored = me.CaseReplay.from_state(state, calendar=again)
    for event in EXAMPLE[4:]:
        restored.apply(event)
    assert restored.metrics() == me.compute_metrics(EXAMPLE, calendar=CAL)


@pytest.mark.parametrize(
    ("built", "given"),
    [(CAL, NIGHTS), (CAL, None), (None, CAL), (CAL, TEAMS), (TEAMS, CAL)],
    ids=["other", "dropped", "added", "to-teams", "from-teams"],
)
def test_another_calendar_is_refused_unless_asked_for(built: Any, given: Any) -> None:
    state = saved(replay_of(EXAMPLE[:4], calendar=built))
    message = refused(state, "'calendar'", "recalendar=True", calendar=given)
    for calendar in (built, given):
        assert (calendar.fingerprint if calendar is not None else "no calendar") in message
    restored = me.CaseReplay.from_state(state, calendar=given, recalendar=True)
    for event in EXAMPLE[4:]:
        restored.apply(event)
    # re-measured: exactly what the whole history gives with the calendar given now
    assert restored.metrics() == me.compute_metrics(EXAMPLE, calendar=given)
    assert restored.to_state()["calendar"] == (None if given is None else given.fingerprint)


def test_recalendar_is_true_or_false() -> None:
    state = saved(replay_of(EXAMPLE, calendar=CAL))
    if me.COMPILED:  # compiled code checks a flag's type on entry (docs/performance.md)
        with pytest.raises(TypeError, match="bool object expected; got str"):
            me.CaseReplay.from_state(state, calendar=CAL, recalendar="yes")  # type: ignore[arg-type]
        return
    with pytest.raises(me.MetricsEngineError, match="recalendar: expected true or false"):
        me.CaseReplay.from_state(state, calendar=CAL, recalendar="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [5, "", "zz" * 12, "A" * 24, True, ["0" * 24]])
def test_a_fingerprint_that_is_no_fingerprint_is_refused(value: Any) -> None:
    state = saved(replay_of(EXAMPLE, calendar=CAL))
    state["calendar"] = value
    refused(state, "'calendar'", calendar=CAL)


def version_1(state: dict[str, Any]) -> dict[str, Any]:
    """The state as version 1 wrote it: the same, without the calendar's fingerprint (nor
    the SLA record of version 3)."""
    old = {key: value for key, value in state.items() if key != "calendar"}
    old["version"] = 1
    old["replay"] = {k: v for k, v in state["replay"].items() if k != "status_sla_active"}
    sla_record = ("sla_conditions", "sla_cycles", "sla_deferred", "sla_status_active")
    old["case"] = {k: v for k, v in state["case"].items() if k not in sla_record}
    return old


@pytest.mark.parametrize("given", [None, CAL, TEAMS])
def test_a_version_1_state_is_read_with_the_calendar_given(given: Any) -> None:
    old = version_1(saved(replay_of(EXAMPLE[:4], calendar=CAL)))
    restored = me.CaseReplay.from_state(old, calendar=given)  # it records no calendar
    for event in EXAMPLE[4:]:
        restored.apply(event)
    assert restored.metrics() == me.compute_metrics(EXAMPLE, calendar=given)
    new = restored.to_state()
    expected = (me.STATE_VERSION, None if given is None else given.fingerprint)
    assert (new["version"], new["calendar"]) == expected


def test_version_1_and_2_keep_their_own_keys() -> None:
    state = saved(replay_of(EXAMPLE, calendar=CAL))
    refused({**state, "version": 1}, "calendar", calendar=CAL)  # version 1 had no such key
    del state["calendar"]
    refused(state, "'calendar'", calendar=CAL)
