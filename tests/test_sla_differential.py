"""The SLA clocks against the slow reference tests/reference/ref_sla.py (written from the
contract alone, without looking at the engine).

Both read the same generated streams and policies: they must give the same ``CaseSla``
records, or refuse the same input at the same event (or, for a policy, at the same JSON
path). Where the reference reads the contract differently, the test says so and why the
engine's reading stands (see READING in ref_sla.py and docs/sla.md).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._replay import parse_as_of
from metrics_engine.testing import calendars, event_streams, sla_policies, team_calendars
from tests.breakage import break_stream
from tests.reference.ref_calendar import RefError
from tests.reference.ref_sla import check_calendar_needed, parse_sla, ref_sla
from tests.reference.test_ref_sla_selfcheck_random import CALENDARS, random_events, random_policy

GOLDEN = Path(__file__).parent / "golden_sla"
#: The policy set of the documentation's worked examples (as the golden scenarios hold it).
_EXAMPLE_2: dict[str, Any] = json.loads((GOLDEN / "002_example2_pause_asof_0945.json").read_text())
P: dict[str, Any] = _EXAMPLE_2["policy"]["json"]
#: The calendar of the worked examples (P's "office" policy counts business hours).
C: dict[str, Any] = _EXAMPLE_2["calendar"]


def engine_policy(policy: dict[str, Any]) -> me.SlaPolicy | me.SlaPolicies:
    if "targets" in policy:
        return me.SlaPolicy.from_dict(policy)
    return me.SlaPolicies.from_dict(policy)


def engine_calendar(calendar: dict[str, Any] | None) -> Any:
    if calendar is None:
        return None
    if "default" in calendar:
        return me.TeamCalendars.from_dict(calendar)
    return me.BusinessCalendar.from_dict(calendar)


def compare(
    events: list[dict[str, Any]],
    policy: dict[str, Any],
    calendar: dict[str, Any] | None = None,
    as_of: datetime | None = None,
    strict: bool = True,
    rules: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Both sides on one input: the same output, or errors at the same event. Returns the
    output (None when both refused)."""
    rules = rules or {}
    try:
        expected: dict[str, Any] | None = ref_sla(
            events, policy, calendar=calendar, as_of=as_of, strict=strict, rules=rules
        )
        expected_error: RefError | None = None
    except RefError as error:
        expected, expected_error = None, error
    try:
        metrics = me.compute_metrics(
            events,
            calendar=engine_calendar(calendar),
            as_of=as_of,
            strict=strict,
            rules=me.Rules(**rules),
            sla=engine_policy(policy),
        )
        got: dict[str, Any] | None = metrics.sla.to_dict()
        engine_error: me.MetricsEngineError | None = None
    except me.MetricsEngineError as error:
        got, engine_error = None, error
    if engine_error is not None or expected_error is not None:
        assert engine_error is not None, f"reference raised {expected_error}, engine did not"
        assert expected_error is not None, f"engine raised {engine_error}, reference did not"
        assert isinstance(engine_error, me.SlaPolicyError) == (
            expected_error.kind == "sla_policy"
        ), (str(engine_error), str(expected_error))
        if strict:  # in lenient mode the two may report different ones of several errors
            assert engine_error.index == expected_error.index, (
                str(engine_error),
                str(expected_error),
            )
        return None
    assert got == expected, _difference(got, expected)
    return got


def _difference(got: Any, expected: Any) -> str:
    lines = []
    for mine, theirs in zip(got["sla_metrics"], expected["sla_metrics"], strict=False):
        keys = [key for key in theirs if mine.get(key) != theirs[key]]
        if keys:
            label = f"{theirs['metric_type']} {theirs['cycle']}"
            lines.append(
                label + ": " + ", ".join(f"{k} {mine[k]!r} != {theirs[k]!r}" for k in keys)
            )
    counts = (len(got["sla_metrics"]), len(expected["sla_metrics"]))
    if counts[0] != counts[1]:
        lines.append(f"records {counts[0]} (engine) != {counts[1]} (reference)")
    for key in ("breach_count", "next_breach_at"):
        if got[key] != expected[key]:
            lines.append(f"{key} {got[key]!r} != {expected[key]!r}")
    return "; ".join(lines)


# --------------------------------------------------------------------------- generated input

rules_strategy = st.fixed_dictionaries(
    {
        "resolution_time": st.sampled_from(["cumulative", "elapsed"]),
        "reopen_on_customer_message": st.booleans(),
    }
)


def _as_of(events: list[dict[str, Any]], data: st.DataObject) -> datetime | None:
    """None (the last event), or an instant at or after one of the events."""
    if data.draw(st.booleans()):
        return None
    instants = [parse_as_of(event["at"]) for event in events]
    chosen = data.draw(st.sampled_from(instants))
    later = data.draw(st.sampled_from([0, 0, 1, 59, 3600, 86400, 10 * 86400]))
    return datetime.fromtimestamp(chosen + later, UTC)


@given(
    events=event_streams(max_events=15, sla=True),
    policy=sla_policies(business=False, unknown_sla=("none", "default", "error")),
    rules=rules_strategy,
    data=st.data(),
)
def test_calendar_hours_agree(
    events: list[dict[str, Any]], policy: dict[str, Any], rules: dict[str, Any], data: Any
) -> None:
    compare(events, policy, as_of=_as_of(events, data), rules=rules)


@given(
    events=event_streams(max_events=12, sla=True),
    policy=sla_policies(unknown_sla=("none", "default", "error")),
    calendar=st.one_of(st.none(), calendars(holidays=False), team_calendars()),
    data=st.data(),
)
def test_business_hours_agree(
    events: list[dict[str, Any]], policy: dict[str, Any], calendar: Any, data: Any
) -> None:
    # without a calendar, a policy with business targets is refused by both
    compare(events, policy, calendar=calendar, as_of=_as_of(events, data))


@given(
    events=event_streams(max_events=15, sla=True),
    policy=sla_policies(business=False),
    seed=st.integers(0, 2**32),
    strict=st.booleans(),
)
def test_broken_and_shuffled_streams_agree(
    events: list[dict[str, Any]], policy: dict[str, Any], seed: int, strict: bool
) -> None:
    compare(break_stream(events, random.Random(seed)), policy, strict=strict)


@pytest.mark.parametrize("first", range(0, 240, 40))
def test_minute_scale_cases_agree(first: int) -> None:
    """The reference's own random cases: minutes long, goals of minutes, an office that opens
    and closes within the hour, two teams with their own hours, so that breaches, pauses,
    goal changes and closed minutes all happen; half the sets refuse unknown values."""
    records = 0
    for seed in range(first, first + 40):
        rng = random.Random(seed)
        events = random_events(rng)
        policy = random_policy(rng)
        if rng.random() < 0.5:
            policy["unknown_sla"] = "error"
        last = datetime.fromisoformat(events[-1]["at"])
        as_of = last + timedelta(seconds=rng.choice([0, 0, 45, 400]))
        rules = {"reopen_on_customer_message": rng.random() < 0.3}
        out = compare(events, policy, calendar=CALENDARS, as_of=as_of, rules=rules)
        records += 0 if out is None else len(out["sla_metrics"])
    assert records > 40  # the cases do run clocks


# --------------------------------------------------------------------------- bad policies


def _mutations(policy: Any) -> Iterator[Any]:
    """Copies of ``policy`` with one thing wrong: a value replaced by one of another kind, a
    key removed, an unknown key added, a list item repeated."""
    bad_values = [0, -5, 1.5, True, "3600", "x", None, [], {}, 10**700]

    def nodes(obj: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
        yield path, obj
        if isinstance(obj, dict | list):
            items = obj.items() if isinstance(obj, dict) else enumerate(obj)
            for key, value in items:
                yield from nodes(value, (*path, key))

    def at(copied: Any, path: tuple[Any, ...]) -> Any:
        for key in path:
            copied = copied[key]
        return copied

    for path, node in list(nodes(policy, ())):
        if path:
            for value in bad_values:
                copied = copy.deepcopy(policy)
                at(copied, path[:-1])[path[-1]] = value
                yield copied
            if isinstance(path[-1], str):
                copied = copy.deepcopy(policy)
                del at(copied, path[:-1])[path[-1]]
                yield copied
        if isinstance(node, dict):
            copied = copy.deepcopy(policy)
            at(copied, path)["extra"] = 1
            yield copied
        if isinstance(node, list) and node:
            copied = copy.deepcopy(policy)
            at(copied, path).append(copy.deepcopy(node[0]))
            yield copied


def _where(message: str) -> str:
    """The part of a policy error that names the place (before what was expected)."""
    for cut in (": expected", ": missing", ": unknown key", ": duplicate", ": keys", " is "):
        message = message.split(cut)[0]
    return message


STANDALONE = {"title": "One", "targets": P["policies"]["gold"]["targets"], "statuses": {"A": True}}


def _engine_refusal(kind: str, policy: Any) -> str | None:
    """The engine's policy error for ``policy`` read as ``kind``, or None if it takes it."""
    try:
        sla = me.SlaPolicy.from_dict(policy) if kind == "policy" else None
        me.CaseReplay(calendar=engine_calendar(C), sla=sla or me.SlaPolicies.from_dict(policy))
    except me.SlaPolicyError as error:
        if (error.case, error.index) != (None, None):
            return f"a policy error with a case or an index: {error}"
        return str(error)
    return None


def _reference_refusal(kind: str, policy: Any) -> str | None:
    try:
        check_calendar_needed(parse_sla(policy, kind), C)
    except RefError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("kind", "policy"), [("policies", P), ("policy", STANDALONE)])
def test_both_refuse_the_same_bad_policies(kind: str, policy: dict[str, Any]) -> None:
    """Every mutation is refused by both or by neither, at the same JSON path. The wording
    of what was expected may differ where the documentation gives none (the golden scenarios
    hold the documented messages, which both give word for word)."""
    refused = accepted = 0
    for mutated in _mutations(policy):
        got = _engine_refusal(kind, mutated)
        expected = _reference_refusal(kind, mutated)
        assert (got is None) == (expected is None), (mutated, got, expected)
        if got is None or expected is None:
            accepted += 1
            continue
        refused += 1
        assert _where(got) == _where(expected), (got, expected)
    assert refused > 200
    assert accepted > 10


# --------------------------------------------------------------------------- bad streams


def _stream_with_status(status: Any, later: Any) -> list[dict[str, Any]]:
    return [
        {"case": 3, "event": "created", "at": "2026-03-09T09:00:00Z",
         "actor": {"id": 1, "role": "customer"}, "fields": {"sla": "gold", "status": status}},
        {"case": 3, "event": "message", "at": "2026-03-09T09:10:00Z",
         "actor": {"id": 5, "role": "agent"}},
        {"case": 3, "event": "update", "at": "2026-03-09T09:20:00Z",
         "changes": {"status": later}},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "later"),
    [
        ({"name": "Vendor", "type": "OPEN", "sla_active": None}, "OPEN"),
        ({"name": "Vendor", "type": "OPEN", "sla_active": 0}, "OPEN"),
        ("NEW", {"name": "Vendor", "type": "OPEN", "sla_active": "false"}),
        ({"name": "V", "type": "OPEN", "sla_active": False}, {"name": "V", "type": "OPEN"}),
        ("PENDING", {"name": "PENDING", "type": "PENDING", "sla_active": True}),
        ("NEW", {"name": "NEW", "type": "NEW", "sla_active": False}),
        ({"name": "X", "type": "OPEN", "sla_active": False}, {"name": "X", "type": "NEW"}),
        ({"name": "X", "type": "COMPLETED", "sla_active": True}, "OPEN"),
        ({"name": "X", "type": "PENDING", "sla_active": True}, {"name": "X", "type": "PENDING"}),
    ],
)  # fmt: skip
def test_sla_active_errors_agree(status: Any, later: Any) -> None:
    for policy in (P, {"targets": []}):
        for strict in (True, False):
            compare(_stream_with_status(status, later), policy, calendar=C, strict=strict)


def test_an_unknown_sla_before_a_later_error_is_where_the_two_readings_differ() -> None:
    """The one difference found: a stream with an unknown ``sla`` (under "error") at event 1
    and another error later (event 3, a time going back). The reference validates the whole
    stream first and reports event 3 (its READING 1); the engine reports event 1, the first
    event that cannot be taken. The engine's reading stands: the replay taken one event at a
    time must give what compute_metrics gives (docs/sla.md), and CaseReplay.apply must
    refuse event 1 when it is given, before event 3 exists. Alone, each error is found by
    both at the same event."""
    events = [
        {"case": 4, "event": "created", "at": "2026-03-09T09:00:00Z",
         "actor": {"id": 1, "role": "customer"}, "fields": {"sla": "gold"}},
        {"case": 4, "event": "update", "at": "2026-03-09T09:10:00Z", "changes": {"sla": 9}},
        {"case": 4, "event": "message", "at": "2026-03-09T09:20:00Z",
         "actor": {"id": 5, "role": "agent"}},
        {"case": 4, "event": "message", "at": "2026-03-09T09:00:00Z",
         "actor": {"id": 1, "role": "customer"}},
    ]  # fmt: skip
    policies = me.SlaPolicies.from_dict(P)
    with pytest.raises(RefError) as reference:
        ref_sla(events, P, calendar=C)
    with pytest.raises(me.MetricsEngineError) as engine:
        me.compute_metrics(events, calendar=engine_calendar(C), sla=policies)
    assert (reference.value.index, engine.value.index) == (3, 1)
    replay = me.CaseReplay(calendar=engine_calendar(C), sla=policies)
    replay.apply(events[0])
    with pytest.raises(me.MetricsEngineError) as one_at_a_time:
        replay.apply(events[1])
    assert str(one_at_a_time.value) == str(engine.value)
    assert 'sla "9" has no policy' in str(engine.value)
    assert compare(events[:3], P, calendar=C) is None  # the unknown value alone: event 1
    assert compare([events[0], *events[2:]], P, calendar=C) is None  # the time alone: event 2
