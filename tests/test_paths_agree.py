"""Every path that replays a case gives the same verdict, error, index and metrics.

``compute_metrics``, ``CaseReplay`` fed one event at a time, the per-case function of batch and
Spark (``compute_case``), ``validate_case`` and the ``metrics-engine compute`` and ``validate``
commands all run one replay loop; these tests hold them to it on generated streams, valid and
broken, in strict and lenient mode, under every combination of rules.
"""

from __future__ import annotations

import io
import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._batch.command import run_compute, run_validate
from metrics_engine._batch.options import ComputeOptions, ValidateOptions
from metrics_engine._case import compute_case, validate_case
from metrics_engine._events import parse_instant
from metrics_engine.testing import event_streams
from tests.breakage import break_stream

RULE_COMBINATIONS = [
    me.Rules(resolution_time=time, reopen_on_customer_message=reopen, team_only_assignment=team)
    for time, reopen, team in itertools.product(
        ["cumulative", "elapsed"], [False, True], [False, True]
    )
]


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid stream, or a broken one (about half of the time)."""
    events = draw(event_streams(max_events=20))
    if draw(st.booleans()):
        events = break_stream(events, random.Random(draw(st.integers(0, 2**32))))
    return events


def _verdict(call: Any) -> tuple[str, Any]:
    try:
        metrics = call()
    except me.MetricsEngineError as error:
        return "error", (error.index, error.detail)
    return "metrics", metrics


def _one_by_one(events: list[dict[str, Any]], rules: me.Rules) -> me.CaseMetrics:
    replay = me.CaseReplay(rules=rules)
    for event in events:
        replay.apply(event)
    return replay.metrics()


@pytest.mark.parametrize("rules", RULE_COMBINATIONS, ids=lambda rules: repr(rules.to_dict()))
@given(events=streams(), strict=st.booleans())
def test_every_library_path_agrees(
    rules: me.Rules, events: list[dict[str, Any]], strict: bool
) -> None:
    expected = _verdict(lambda: me.compute_metrics(events, strict=strict, rules=rules))

    outcome = compute_case(events, strict=strict, rules=rules)
    if outcome.error is not None:
        assert isinstance(outcome.error, me.MetricsEngineError), repr(outcome.error)
        assert expected == ("error", (outcome.index, outcome.detail))
    else:
        assert expected == ("metrics", outcome.metrics)
    assert not outcome.not_created

    found = validate_case(events, strict=strict, rules=rules)
    if expected[0] == "error":
        assert found.problems, "validate found nothing where compute_metrics raised"
        first = found.problems[0]
        assert (first.index, first.detail) == expected[1]
    else:
        assert found.problems == []

    if strict:  # CaseReplay cannot re-sort: only strict mode is the same stream
        assert _verdict(lambda: _one_by_one(events, rules)) == expected


def test_validate_applies_the_rules() -> None:
    """The reproduction of the issue: validate said clean where compute (reopen rule) rejected.

    With the reopen rule, a customer's message on a COMPLETED case reopens it to the bare
    status OPEN, so a custom status named OPEN of another type conflicts with it."""
    events = [
        {"case": 7, "event": "created", "at": "2026-03-02T09:00:00Z",
         "actor": {"id": 1, "role": "customer"}},
        {"case": 7, "event": "update", "at": "2026-03-02T09:10:00Z",
         "actor": {"id": 2, "role": "agent"}, "changes": {"status": "COMPLETED"}},
        {"case": 7, "event": "message", "at": "2026-03-02T09:20:00Z",
         "actor": {"id": 1, "role": "customer"}},
        {"case": 7, "event": "update", "at": "2026-03-02T09:30:00Z",
         "actor": {"id": 2, "role": "agent"},
         "changes": {"status": {"name": "OPEN", "type": "PENDING"}}},
    ]  # fmt: skip
    rules = me.Rules(reopen_on_customer_message=True)
    with pytest.raises(me.MetricsEngineError) as caught:
        me.compute_metrics(events, rules=rules)
    assert caught.value.index == 3
    problems = validate_case(events, rules=rules).problems
    assert [(p.index, p.detail) for p in problems] == [(3, caught.value.detail)]
    assert validate_case(events).problems == []  # without the rule the stream is clean


@st.composite
def many_streams(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Up to four cases' streams (valid or broken), each with its own case id."""
    count = draw(st.integers(1, 4))
    out = []
    for number in range(count):
        events = draw(event_streams(case=number, max_events=12))
        if draw(st.booleans()):
            events = break_stream(events, random.Random(draw(st.integers(0, 2**32))))
        out.append(events)
    return out


@given(
    streams=many_streams(),
    rules=st.sampled_from(RULE_COMBINATIONS),
    strict=st.booleans(),
)
def test_the_commands_agree_with_the_library(
    tmp_path_factory: pytest.TempPathFactory,
    streams: list[list[dict[str, Any]]],
    rules: me.Rules,
    strict: bool,
) -> None:
    """``metrics-engine compute`` and ``validate`` on a file of the same cases: the same rows,
    the same rejects (index and error), the same verdict per case as the library."""
    folder = tmp_path_factory.mktemp("paths")
    source = folder / "in.jsonl"
    lines = [json.dumps(event) for stream in streams for event in stream]
    source.write_text("".join(line + "\n" for line in lines))
    out, rejects = folder / "out.jsonl", folder / "rejects.jsonl"
    summary = run_compute(
        ComputeOptions(
            inputs=[str(source)], out=str(out), rejects=str(rejects), quiet=True,
            lenient=not strict, rules=rules,
        )
    )  # fmt: skip
    rows = {row["case_id"]: row for row in map(json.loads, out.read_text().splitlines())}
    case_rejects = {
        reject["case_id"]: reject
        for reject in map(json.loads, rejects.read_text().splitlines())
        if reject["case_id"] is not None
    }
    as_of = None if summary.as_of is None else parse_instant(summary.as_of, "as_of")
    report = io.StringIO()
    run_validate(ValidateOptions(inputs=[str(source)], lenient=not strict, rules=rules), report)
    for number, events in enumerate(streams):
        if not events:
            continue
        outcome = compute_case(events, as_of=as_of, strict=strict, rules=rules)
        key = str(number)
        if outcome.metrics is not None:
            expected = outcome.metrics.to_dict(absent="null")
            for name in me.FIELDS:
                value = expected[name]
                if isinstance(value, dict):  # a user: its id as text in batch
                    value = str(value["id"])
                assert rows[key][name] == value, name
            assert key not in case_rejects
        elif outcome.error is not None:
            assert key not in rows
            assert (case_rejects[key]["index"], case_rejects[key]["error"]) == (
                outcome.index,
                outcome.detail,
            )
        # validate judges the whole stream, with no as_of: clean exactly when the library is
        verdict = validate_case(events, strict=strict, rules=rules).problems
        # the case as its first event gives it: 0 or "0" (strategies spell ids either way)
        said = (f"case {number}: ", f'case "{number}": ')
        line = next(line for line in report.getvalue().splitlines() if line.startswith(said))
        assert line.endswith(": ok") == (not verdict), line
