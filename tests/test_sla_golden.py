"""Hand-worked SLA scenarios (tests/golden_sla/*.json): expected values are never regenerated.

Each file holds a policy, events and the expected ``CaseSla.to_dict()`` (or the expected
error), worked out by hand with the reasoning beside it; tests/golden_sla/README.md gives the
format. Every scenario with an outcome is also run one event at a time through
``CaseReplay``, and saved and restored halfway, which must give the same clocks; and the 41
fields must be what they are without a policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me
from metrics_engine._replay import parse_as_of
from tests.test_golden import _calendar

GOLDEN = Path(__file__).parent / "golden_sla"
SCENARIOS = sorted(GOLDEN.glob("*.json"))


def _policy(spec: dict[str, Any] | None) -> Any:
    if spec is None:
        return None
    if spec["kind"] == "policy":
        return me.SlaPolicy.from_dict(spec["json"])
    if spec["kind"] == "policies":
        return me.SlaPolicies.from_dict(spec["json"])
    assert spec["kind"] == "kayako", spec["kind"]
    options = {key: spec[key] for key in ("default", "unknown_sla", "statuses") if key in spec}
    return me.SlaPolicies.from_kayako(spec["json"], **options)


def _load(path: Path) -> dict[str, Any]:
    scenario: dict[str, Any] = json.loads(path.read_text())
    return scenario


def test_there_are_enough_scenarios_of_each_kind() -> None:
    kinds = [_load(path) for path in SCENARIOS]
    assert len(kinds) >= 30
    assert sum("expected_sla" in scenario for scenario in kinds) >= 30
    assert any("policy_error" in scenario for scenario in kinds)
    assert any("error" in scenario for scenario in kinds)
    # every worked example of the documentation is a scenario
    examples = {path.name.split("_")[1] for path in SCENARIOS if "_example" in path.name}
    assert {f"example{number}" for number in range(1, 11)} <= examples


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_golden_sla(path: Path) -> None:
    scenario = _load(path)
    if "policy_error" in scenario:
        _check_policy_error(scenario)
        return
    sla = _policy(scenario["policy"])
    kwargs: dict[str, Any] = {
        "calendar": _calendar(scenario.get("calendar")),
        "as_of": scenario.get("as_of"),
        "strict": scenario.get("strict", True),
        "rules": me.Rules(**scenario.get("rules", {})),
    }
    events = scenario["events"]
    if "error" in scenario:
        with pytest.raises(me.MetricsEngineError) as caught:
            me.compute_metrics(events, sla=sla, **kwargs)
        error = caught.value
        assert error.index == scenario["error"]["index"], str(error)
        message = scenario["error"].get("message")
        assert message is None or message in str(error), str(error)
        assert "\n" not in str(error)
        return
    metrics = me.compute_metrics(events, sla=sla, **kwargs)
    assert isinstance(metrics.sla, me.CaseSla)
    got = metrics.sla.to_dict()
    expected = scenario["expected_sla"]
    assert json.dumps(got) == json.dumps(expected), _difference(got, expected)
    # the 41 fields do not depend on the policy
    assert metrics.to_dict() == me.compute_metrics(events, **kwargs).to_dict()
    if kwargs["strict"]:
        _check_incremental(events, sla, kwargs, metrics.sla)


def _check_policy_error(scenario: dict[str, Any]) -> None:
    expected = scenario["policy_error"]
    if expected["raised_by"] == "construction":
        with pytest.raises(me.SlaPolicyError) as caught:
            _policy(scenario["policy"])
    else:
        assert expected["raised_by"] == "compute_metrics"
        sla = _policy(scenario["policy"])
        calendar = _calendar(scenario.get("calendar"))
        with pytest.raises(me.SlaPolicyError):
            me.CaseReplay(calendar=calendar, sla=sla)
        with pytest.raises(me.SlaPolicyError) as caught:
            me.compute_metrics(_NOT_READ, calendar=calendar, sla=sla)
    error = caught.value
    assert isinstance(error, me.MetricsEngineError)
    assert (error.case, error.index) == (None, None)
    if expected.get("message") is not None:
        assert str(error) == expected["message"]
    if expected.get("path"):
        assert expected["path"] in str(error)
    assert "\n" not in str(error)


class _NotRead:
    """An event stream that fails the test if anything reads it."""

    def __iter__(self) -> Any:
        raise AssertionError("an event was read before the policy was refused")


_NOT_READ: Any = _NotRead()


def _check_incremental(
    events: list[dict[str, Any]], sla: Any, kwargs: dict[str, Any], expected: me.CaseSla
) -> None:
    """One event at a time, and saved and restored halfway: the same clocks."""
    as_of = kwargs["as_of"]
    limit = None if as_of is None else parse_as_of(as_of)
    applied = [event for event in events if limit is None or parse_as_of(event["at"]) <= limit]
    options = {"calendar": kwargs["calendar"], "rules": kwargs["rules"]}
    replay = me.CaseReplay(sla=sla, **options)
    half = len(applied) // 2
    for event in applied[:half]:
        replay.apply(event)
    state = json.loads(json.dumps(replay.to_state()))
    restored = me.CaseReplay.from_state(state, calendar=kwargs["calendar"], sla=sla)
    for event in applied[half:]:
        replay.apply(event)
        restored.apply(event)
    assert replay.metrics(as_of=as_of).sla == expected
    assert restored.metrics(as_of=as_of).sla == expected


def _difference(got: dict[str, Any], expected: dict[str, Any]) -> str:
    """The keys that differ, record by record, for a readable failure."""
    lines = []
    for mine, theirs in zip(got["sla_metrics"], expected["sla_metrics"], strict=False):
        keys = [key for key in theirs if mine.get(key) != theirs[key]]
        if keys or list(mine) != list(theirs):
            label = f"{theirs.get('metric_type')} {theirs.get('cycle')}"
            lines.append(
                f"{label}: " + ", ".join(f"{k} {mine.get(k)!r} != {theirs[k]!r}" for k in keys)
            )
    if len(got["sla_metrics"]) != len(expected["sla_metrics"]):
        lines.append(f"records {len(got['sla_metrics'])} != {len(expected['sla_metrics'])}")
    for key in ("breach_count", "next_breach_at"):
        if got[key] != expected[key]:
            lines.append(f"{key} {got[key]!r} != {expected[key]!r}")
    return "; ".join(lines) or "key order differs"
