"""``metrics-engine kayako events``, ``compute --kayako-calendars`` and ``compare`` on an export
directory written by the tests (three cases: the worked example of docs/metrics.md, a case with
an SLA breach and a rating, and a case whose saved state does not fit its history)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from metrics_engine._cli import main
from tests.kayako_build import STATUSES
from tests.kayako_render import render
from tests.test_kayako_spec_example import EXPECTED, SPEC_EXAMPLE

CUSTOMER = {"id": 17, "role": "customer"}
SMALL = [
    {"case": 7, "event": "created", "at": "2026-03-02T09:00:00Z", "actor": CUSTOMER},
    {
        "case": 7,
        "event": "message",
        "at": "2026-03-02T09:30:00Z",
        "actor": {"id": 5, "role": "agent"},
    },
]
OFFICE = {
    "id": 1,
    "title": "Office",
    "zones": {
        day: list(range(9, 17)) for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    "holidays": [],
    "is_default": True,
    "resource_type": "business_hour",
}


def _write(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    spec = render(SPEC_EXAMPLE, page_size=4, case_id=1042)
    _write(root / "statuses.json", spec.statuses)
    _write(root / "users-1.json", spec.users[0])
    _write(root / "teams.json", spec.teams)
    _write(
        root / "businesshours.json", {"status": 200, "data": [OFFICE], "resource": "business_hour"}
    )
    for number, page in enumerate(spec.posts, 1):
        _write(root / "cases" / "1042" / f"posts-{number}.json", page)
    _write(root / "cases" / "1042" / "case.json", spec.case)
    # Case 7: a reply, then an SLA breach and a rating, which become no event.
    small = render(SMALL, case_id=7)
    (page,) = small.posts
    page["data"].insert(0, _activity_post(90, 900, "breach_case", "BREACH"))
    page["data"].insert(0, _activity_post(91, 901, "create_case_rating", "RATE"))
    _write(root / "cases" / "7" / "posts-1.json", page)
    _write(root / "cases" / "7" / "case.json", small.case)
    # Case 9: saved as OPEN although its only change left it PENDING.
    broken = render(
        [
            *SMALL,
            {
                "case": 9,
                "event": "update",
                "at": "2026-03-02T10:00:00Z",
                "changes": {"status": "PENDING"},
            },
        ],
        case_id=9,
    )
    broken.case["data"]["status"] = {"id": STATUSES["OPEN"]["id"], "resource_type": "case_status"}
    _write(root / "cases" / "9" / "posts-1.json", broken.posts[0])
    _write(root / "cases" / "9" / "case.json", broken.case)
    return root


def _activity_post(post: int, number: int, name: str, verb: str) -> dict[str, Any]:
    return {
        "id": post,
        "creator": None,
        "original": {
            "id": number,
            "activity": name,
            "verb": verb,
            "actor": None,
            "actions": [],
            "resource_type": "activity",
        },
        "created_at": "2026-03-02T09:40:00+00:00",
        "updated_at": "2026-03-02T09:40:00+00:00",
        "resource_type": "post",
    }


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_events_rejects_and_report(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "events.jsonl", tmp_path / "unmapped.jsonl"
    code = main(["kayako", "events", str(export), "--out", str(out), "--report", str(report)])
    assert code == 1  # case 9 was rejected
    events = _lines(out)
    # Grouped by case, cases in id order: 7 (created + reply), then 1042 (8 events).
    assert [event["case"] for event in events] == [7, 7] + [1042] * 8
    rejects = _lines(Path(f"{out}.rejects.jsonl"))
    assert [(reject["case_id"], reject["file"]) for reject in rejects] == [
        ("9", str(export / "cases" / "9"))
    ]
    assert rejects[0]["error"].startswith("field 'status': cannot be rewound")
    assert [(item["case_id"], item["kind"], item["id"]) for item in _lines(report)] == [
        ("7", "breach_case", "activity:900"),
        ("7", "create_case_rating", "activity:901"),
    ]
    summary = capsys.readouterr().err
    assert "3 cases, 2 converted (10 events), 1 rejected; 2 items became no event" in summary
    assert "1  breach_case: an SLA breach changes no case field" in summary


def test_events_compute_and_compare(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events, metrics = tmp_path / "events.jsonl", tmp_path / "metrics.jsonl"
    assert main(["kayako", "events", str(export), "--out", str(events), "--quiet"]) == 1
    code = main(
        [
            "compute",
            str(events),
            "--grouped",
            "--kayako-calendars",
            str(export),
            "--timezone",
            "America/New_York",
            "--out",
            str(metrics),
            "--quiet",
        ]
    )
    assert code == 0
    rows = {str(row.get("case_id", row.get("case"))): row for row in _lines(metrics)}
    assert {name: rows["1042"][name] for name in EXPECTED} == EXPECTED
    # Business time, New York office hours 09:00–17:00 Mon–Fri: the first response (09:15 →
    # 10:02:10 on Monday) lies wholly inside them.
    assert rows["1042"]["agent_first_business_response_time"] == 2830

    # Kayako's own metrics: ours, spelt as Kayako spells them (0 for absent integers, the
    # other spellings of two keys), with three values made to differ in two cases.
    for case, row in rows.items():
        theirs = {
            name: (0 if value is None and name.endswith(("_time", "_count")) else value)
            for name, value in row.items()
            if name not in ("case", "case_id")
        }
        theirs["last_reopen_at"] = theirs.pop("last_reopened_at")
        theirs["agent_update_at"] = theirs.pop("agent_updated_at")
        if case == "1042":
            theirs["agent_first_calendar_response_time"] = 2700
            theirs["last_replier"] = {"id": 999, "resource_type": "user"}
        if case == "7":
            theirs["agent_reply_count"] = 2
        _write(
            export / "cases" / case / "metrics.json",
            {"status": 200, "data": theirs, "resource": "case_metric"},
        )
    report = tmp_path / "report.txt"
    capsys.readouterr()
    assert main(["compare", str(metrics), "--kayako", str(export), "--out", str(report)]) == 1
    text = report.read_text().splitlines()
    assert text[0] == "cases: 2 in both, 0 only in ours, 0 only in Kayako's export"
    differences = text[text.index("differences (3):") + 1 :]
    assert differences == [
        "  case 7  agent_reply_count: ours 1, Kayako 2",
        # A user is "101" in our rows and {"id": 999} in Kayako's: both shown as users.
        "  case 1042  last_replier: ours user 101, Kayako user 999",
        "  case 1042  agent_first_calendar_response_time: ours 2830, Kayako 2700",
    ]
    table = {line.split()[0]: line.split()[1:] for line in text[2 : 2 + 41]}
    assert table["agent_reply_count"] == ["2", "1", "1", "0", "0"]
    assert table["last_reopened_at"] == ["2", "2", "0", "0", "0"]  # read under either spelling
    assert "2 cases in both, 3 values differ in 2 cases" in capsys.readouterr().err

    # Made equal again: exit 0; the JSON form lists 41 fields and no difference.
    for case in ("1042", "7"):
        path = export / "cases" / case / "metrics.json"
        data = json.loads(path.read_text())["data"]
        data.update(
            {
                name: rows[case][name]
                for name in (
                    "agent_first_calendar_response_time",
                    "last_replier",
                    "agent_reply_count",
                )
            }
        )
        _write(path, data)
    out = tmp_path / "report.jsonl"
    assert (
        main(
            [
                "compare",
                str(metrics),
                "--kayako",
                str(export),
                "--format",
                "jsonl",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    records = _lines(out)
    assert len(records) == 41
    assert all(record["different"] == 0 and record["compared"] == 2 for record in records)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kayako", "events", "{tmp}/nowhere"], "expected a directory, found nothing there"),
        (["kayako", "events", "{tmp}"], "expected statuses.json (or statuses-*.json), found none"),
        (["kayako", "events", "{export}", "--status-type", "7=DONE"], "expected STATUS_ID=TYPE"),
        (["compute", "-", "--kayako-calendars", "{export}"], "expected --timezone too"),
        (
            [
                "compute",
                "-",
                "--kayako-calendars",
                "{export}",
                "--calendar",
                "x.json",
                "--timezone",
                "UTC",
            ],
            "expected one of --kayako-calendars and --calendar",
        ),
        (["compare", "{tmp}/none.jsonl", "--kayako", "{export}"], "cannot read"),
        (
            ["compare", "{tmp}/rows.jsonl", "--kayako", "{export}"],
            "expected a 'case_id' (or 'case') key",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rows.jsonl").write_text('{"id": 1}\n')
    filled = [part.format(tmp=tmp_path, export=export) for part in argv]
    assert main(filled) == 2
    assert message in capsys.readouterr().err


def test_a_case_file_that_is_not_json_rejects_that_case_only(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (export / "cases" / "7" / "case.json").write_text("{not json")
    assert main(["kayako", "events", str(export), "--rejects", "-", "--quiet"]) == 1
    captured = capsys.readouterr()
    rejects = [json.loads(line) for line in captured.err.splitlines()]
    assert [reject["case_id"] for reject in rejects] == ["7", "9"]
    assert "case.json: expected JSON, found a parse error" in rejects[0]["error"]
    assert [json.loads(line)["case"] for line in captured.out.splitlines()] == [1042] * 8
