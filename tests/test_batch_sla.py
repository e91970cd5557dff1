"""``metrics-engine compute --sla``: the SLA results beside the rows (docs/sla.md, "Batch").

Expected values are the worked examples of the SLA documentation, typed here by hand.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from metrics_engine._cli import main

GOLDEN = Path(__file__).resolve().parent / "golden_sla"

CALENDAR_C = {
    "timezone": "America/New_York",
    "week": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def _golden(name: str) -> dict[str, Any]:
    found = json.loads(next(GOLDEN.glob(f"{name}_*.json")).read_text())
    assert isinstance(found, dict)
    return found


def _lines(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def _record(
    kind: str,
    started: str,
    due: str,
    completed: str,
    by: str,
    paused: str | None,
    elapsed: int,
    remaining: int,
    goal: int,
) -> dict[str, Any]:
    return {
        "metric_type": kind,
        "cycle": 1,
        "stage": "COMPLETED",
        "started_at": started,
        "due_at": due,
        "completed_at": completed,
        "completed_by": by,
        "last_paused_at": paused,
        "is_breached": False,
        "breached_at": None,
        "elapsed_seconds": elapsed,
        "remaining_seconds": remaining,
        "target": {
            "sla": None,
            "priority": None,
            "goal_in_seconds": goal,
            "operational_hours": "CALENDAR_HOURS",
        },
        "resource_type": "sla_metric",
    }


#: Example 1 (case 1042, the standalone gold policy), as the documentation prints it.
EXAMPLE_1 = {
    "case_id": "1042",
    "sla_metrics": [
        _record(
            "FIRST_REPLY_TIME",
            "2026-03-02T14:15:00+00:00",
            "2026-03-02T15:15:00+00:00",
            "2026-03-02T15:02:10+00:00",
            "reply",
            None,
            2830,
            770,
            3600,
        ),
        _record(
            "NEXT_REPLY_TIME",
            "2026-03-03T13:00:00+00:00",
            "2026-03-03T15:00:00+00:00",
            "2026-03-03T14:30:00+00:00",
            "reply",
            None,
            5400,
            1800,
            7200,
        ),
        _record(
            "RESOLUTION_TIME",
            "2026-03-02T14:15:00+00:00",
            "2026-03-04T12:12:30+00:00",
            "2026-03-03T14:31:00+00:00",
            "resolution",
            "2026-03-02T15:02:30+00:00",
            8310,
            78090,
            86400,
        ),
    ],
    "breach_count": {"FIRST_REPLY_TIME": 0, "NEXT_REPLY_TIME": 0, "RESOLUTION_TIME": 0},
    "next_breach_at": None,
}

SLA_COLUMNS = (
    "case_id,metric_type,cycle,stage,started_at,due_at,completed_at,completed_by,"
    "last_paused_at,is_breached,breached_at,elapsed_seconds,remaining_seconds,sla,priority,"
    "goal_in_seconds,operational_hours"
)


@pytest.fixture
def example1(tmp_path: Path) -> tuple[Path, Path]:
    golden = _golden("001")
    events = tmp_path / "events.jsonl"
    events.write_text(_lines(golden["events"]))
    policy = tmp_path / "gold.json"
    policy.write_text(json.dumps(golden["policy"]["json"]))
    return events, policy


def _compute(*args: str | Path) -> int:
    return main(["compute", *(str(arg) for arg in args), "--quiet", "--workers", "1"])


def test_example_1_jsonl_line(tmp_path: Path, example1: tuple[Path, Path]) -> None:
    events, policy = example1
    out = tmp_path / "rows.jsonl"
    assert _compute(events, "--sla", policy, "--out", out) == 0
    text = (tmp_path / "rows.jsonl.sla.jsonl").read_text()
    assert text.count("\n") == 1
    line = json.loads(text)
    assert line == EXAMPLE_1
    assert list(line) == ["case_id", "sla_metrics", "breach_count", "next_breach_at"]
    assert list(line["sla_metrics"][0]) == list(EXAMPLE_1["sla_metrics"][0])  # type: ignore[index]
    # The rows are those of a run without --sla.
    plain = tmp_path / "plain.jsonl"
    assert _compute(events, "--out", plain) == 0
    assert out.read_bytes() == plain.read_bytes()


def test_example_1_csv(tmp_path: Path, example1: tuple[Path, Path]) -> None:
    events, policy = example1
    out = tmp_path / "rows.csv"
    assert _compute(events, "--sla", policy, "--out", out, "--format", "csv") == 0
    lines = (tmp_path / "rows.csv.sla.csv").read_text().splitlines()
    assert lines[0] == SLA_COLUMNS
    rows = list(csv.reader(lines[1:]))
    assert [row[1] for row in rows] == ["FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME"]
    assert rows[0] == [
        "1042",
        "FIRST_REPLY_TIME",
        "1",
        "COMPLETED",
        "2026-03-02T14:15:00+00:00",
        "2026-03-02T15:15:00+00:00",
        "2026-03-02T15:02:10+00:00",
        "reply",
        "",
        "false",
        "",
        "2830",
        "770",
        "",
        "",
        "3600",
        "CALENDAR_HOURS",
    ]
    assert rows[2][7:9] == ["resolution", "2026-03-02T15:02:30+00:00"]
    assert rows[2][11:13] == ["8310", "78090"]


def _set_case(case: str, sla: str | None, hour: int) -> list[dict[str, Any]]:
    fields: dict[str, Any] = {"requester": 21}
    if sla is not None:
        fields["sla"] = sla
    day = f"2026-03-09T{hour:02d}"
    return [
        {
            "case": case,
            "event": "created",
            "at": f"{day}:00:00Z",
            "actor": {"id": 21, "role": "customer"},
            "fields": fields,
        },
        {
            "case": case,
            "event": "message",
            "at": f"{day}:45:00Z",
            "actor": {"id": 5, "role": "agent"},
        },
    ]


def _policy_set(tmp_path: Path) -> Path:
    policy = tmp_path / "set.json"
    policy.write_text(
        json.dumps(
            {
                "policies": {
                    "gold": {
                        "targets": [
                            {
                                "type": "FIRST_REPLY_TIME",
                                "priority": None,
                                "goal_in_seconds": 1800,
                                "operational_hours": "CALENDAR_HOURS",
                            }
                        ]
                    }
                },
                "unknown_sla": "error",
            }
        )
    )
    return policy


def test_no_records_rejects_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A case with no policy gets a line with []; a case whose sla has no policy is rejected
    (pointing at the event that set it) and writes nothing to the SLA file; the summary."""
    events = tmp_path / "events.jsonl"
    events.write_text(
        _lines(_set_case("a", "gold", 9) + _set_case("b", None, 10) + _set_case("c", "nope", 11))
    )
    out = tmp_path / "rows.jsonl"
    code = main(["compute", str(events), "--sla", str(_policy_set(tmp_path)), "--out", str(out)])
    assert code == 1
    sla_lines = [
        json.loads(line) for line in (tmp_path / "rows.jsonl.sla.jsonl").read_text().splitlines()
    ]
    assert [line["case_id"] for line in sla_lines] == ["a", "b"]
    # a: created 09:00, replied 09:45, goal 30 minutes: breached at 09:30.
    (record,) = sla_lines[0]["sla_metrics"]
    assert record["is_breached"] is True
    assert record["breached_at"] == "2026-03-09T09:30:00+00:00"
    assert record["elapsed_seconds"] == 2700
    assert record["remaining_seconds"] == -900
    assert record["target"]["sla"] == "gold"
    assert sla_lines[1]["sla_metrics"] == []
    assert sla_lines[1]["next_breach_at"] is None
    (reject,) = [
        json.loads(line)
        for line in (tmp_path / "rows.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert reject["case_id"] == "c"
    assert reject["line"] == 5
    assert reject["index"] == 0
    assert 'sla "nope" has no policy' in reject["error"]
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.endswith(
        ", 1 SLA record written (breached: FIRST_REPLY_TIME 1, NEXT_REPLY_TIME 0, "
        "RESOLUTION_TIME 0)"
    )
    # CSV: no row at all for the case without records.
    csv_out = tmp_path / "rows.csv"
    code = _compute(events, "--sla", _policy_set(tmp_path), "--out", csv_out, "--format", "csv")
    assert code == 1
    lines = (tmp_path / "rows.csv.sla.csv").read_text().splitlines()
    assert lines[0] == SLA_COLUMNS
    assert [line.split(",")[:2] for line in lines[1:]] == [["a", "FIRST_REPLY_TIME"]]


def test_summary_without_sla_is_unchanged(
    tmp_path: Path, example1: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, _ = example1
    assert main(["compute", str(events), "--out", str(tmp_path / "o.jsonl")]) == 0
    assert "SLA" not in capsys.readouterr().err


def test_workers_and_modes_agree(tmp_path: Path) -> None:
    """Interleaved or grouped, one worker or two: the same rows and SLA results."""
    cases = [
        _set_case(f"k{n}", ("gold", None, "nope")[n % 3] if n % 5 else "gold", 8 + n % 9)
        for n in range(40)
    ]
    grouped = tmp_path / "grouped.jsonl"
    grouped.write_text(_lines([event for case in cases for event in case]))
    mixed = tmp_path / "mixed.jsonl"  # each case's events in order, the cases interleaved
    mixed.write_text(_lines([case[i] for i in range(2) for case in cases]))
    policy = _policy_set(tmp_path)
    results = []
    for name, source, extra in (
        ("a", mixed, []),
        ("b", mixed, []),
        ("c", grouped, ["--grouped"]),
        ("d", grouped, ["--grouped"]),
    ):
        workers = "1" if name in "ac" else "2"
        out = tmp_path / f"{name}.jsonl"
        args = ["compute", str(source), "--sla", str(policy), "--out", str(out), *extra]
        assert main([*args, "--quiet", "--workers", workers]) == 1
        results.append(
            (
                out.read_bytes(),
                (tmp_path / f"{name}.jsonl.sla.jsonl").read_bytes(),
                (tmp_path / f"{name}.jsonl.rejects.jsonl").read_bytes(),
            )
        )
    assert results[0][1].count(b"\n") == sum(1 for n in range(40) if n % 5 == 0 or n % 3 < 2)
    assert all(result[:2] == results[0][:2] for result in results)
    # Rejects name their file and line: the same for one input, whatever the workers.
    assert results[0][2] == results[1][2]
    assert results[2][2] == results[3][2]
    assert results[0][2].count(b"\n") == sum(1 for n in range(40) if n % 5 and n % 3 == 2)


def _fails(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    assert _compute(*args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_exit_2(
    tmp_path: Path, example1: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    events, policy = example1
    out = tmp_path / "o.jsonl"

    def bad(content: str) -> Path:
        path = tmp_path / "bad.json"
        path.write_text(content)
        return path

    err = _fails(capsys, events, "--sla-out", tmp_path / "s.jsonl", "--out", out)
    assert "--sla-out: expected --sla as well" in err
    err = _fails(capsys, events, "--sla", policy)
    assert "expected --sla-out FILE when the rows go to stdout" in err
    assert "--sla" in _fails(capsys, events, "--sla", tmp_path / "missing.json", "--out", out)
    assert "expected JSON" in _fails(capsys, events, "--sla", bad("{"), "--out", out)
    err = _fails(capsys, events, "--sla", bad("[1]"), "--out", out)
    assert 'expected an object with "targets"' in err
    assert "found a list" in err
    err = _fails(capsys, events, "--sla", bad('{"other": 1}'), "--out", out)
    assert 'found an object with keys "other"' in err
    err = _fails(
        capsys,
        events,
        "--sla",
        bad(
            '{"targets": [{"type": "FIRST_REPLY_TIME", "goal_in_seconds": 0, '
            '"operational_hours": "CALENDAR_HOURS"}]}'
        ),
        "--out",
        out,
    )
    assert "targets[0].goal_in_seconds: expected a positive integer, found 0" in err
    # Business-hours targets without a calendar: refused before any input is read.
    p_set = bad(json.dumps(_golden("006")["policy"]["json"]))
    err = _fails(capsys, tmp_path / "no-such-input.jsonl", "--sla", p_set, "--out", out)
    assert "BUSINESS_HOURS targets but no calendar was given" in err
    # The SLA output may not be the rows, the rejects, an input or the policy file.
    err = _fails(capsys, events, "--sla", policy, "--out", out, "--sla-out", out)
    assert "expected a file other than the rows'" in err
    rejects = tmp_path / "r.jsonl"
    err = _fails(
        capsys, events, "--sla", policy, "--out", out, "--rejects", rejects, "--sla-out", rejects
    )
    assert "expected a file other than the rejects'" in err
    assert "destroy the input" in _fails(
        capsys, events, "--sla", policy, "--out", out, "--sla-out", events
    )
    assert "destroy the input" in _fails(
        capsys, events, "--sla", policy, "--out", out, "--sla-out", policy
    )
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "events.jsonl", "gold.json"]


def test_business_hours_with_calendar(tmp_path: Path) -> None:
    """Example 3 at 11:45 (a policy set with business targets, so --calendar is needed):
    the first reply breached at 11:30."""
    golden = _golden("006")
    events = tmp_path / "events.jsonl"
    events.write_text(_lines(golden["events"]))
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps(golden["policy"]["json"]))
    calendar = tmp_path / "c.json"
    calendar.write_text(json.dumps(CALENDAR_C))
    sla_out = tmp_path / "sla.jsonl"
    code = main(
        [
            "compute",
            str(events),
            "--sla",
            str(policy),
            "--calendar",
            str(calendar),
            "--out",
            "/dev/null",
            "--sla-out",
            str(sla_out),
            "--quiet",
        ]
    )
    assert code == 0
    (line,) = [json.loads(text) for text in sla_out.read_text().splitlines()]
    assert line["breach_count"] == {
        "FIRST_REPLY_TIME": 1,
        "NEXT_REPLY_TIME": 0,
        "RESOLUTION_TIME": 0,
    }
    first = line["sla_metrics"][0]
    assert (first["metric_type"], first["stage"]) == ("FIRST_REPLY_TIME", "COMPLETED")
    assert first["breached_at"] == "2026-03-09T11:30:00+00:00"
    assert (first["elapsed_seconds"], first["remaining_seconds"]) == (4500, -900)
