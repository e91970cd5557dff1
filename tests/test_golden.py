"""Hand-worked golden scenarios (tests/golden/*.json): expected values are never regenerated.

Each file holds events, the expected 41 fields worked out by hand from the SPEC, and the
reasoning. See tests/golden/README.md for the format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me

GOLDEN = Path(__file__).parent / "golden"
SCENARIOS = sorted(GOLDEN.glob("*.json"))


def _calendar(spec: dict[str, Any] | None) -> Any:
    if spec is None:
        return None
    if "kayako" in spec:
        return me.BusinessCalendar.from_kayako(spec["kayako"], timezone=spec["timezone"])
    if "default" in spec:
        return me.TeamCalendars.from_dict(spec)
    return me.BusinessCalendar.from_dict(spec)


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 30


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_golden(path: Path) -> None:
    scenario = json.loads(path.read_text())
    kwargs: dict[str, Any] = {
        "calendar": _calendar(scenario.get("calendar")),
        "as_of": scenario.get("as_of"),
        "strict": scenario.get("strict", True),
        "rules": me.Rules(**scenario.get("rules", {})),
    }
    if "error" in scenario:
        with pytest.raises(me.MetricsEngineError) as caught:
            me.compute_metrics(scenario["events"], **kwargs)
        assert caught.value.index == scenario["error"]["index"], str(caught.value)
        assert "\n" not in str(caught.value)
        return
    metrics = me.compute_metrics(scenario["events"], **kwargs)
    got = metrics.to_dict(absent="null")
    expected = scenario["expected"]
    assert list(expected)[:41] == list(me.FIELDS), "expected must list the 41 fields in order"
    wrong = {
        name: {"expected": value, "got": got[name]}
        for name, value in expected.items()
        if name in got and got[name] != value
    }
    if "skipped_events" in expected and expected["skipped_events"] != metrics.skipped_events:
        wrong["skipped_events"] = {
            "expected": expected["skipped_events"],
            "got": metrics.skipped_events,
        }
    assert not wrong, json.dumps(wrong, indent=1)
