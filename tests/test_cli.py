"""End-to-end tests of the ``metrics-engine`` command, run as a real subprocess.

Expected values are either worked out by hand (the SPEC's example case and a few tiny cases
below, with the reasoning beside them) or taken from the library's own ``compute_metrics`` on
the same events: the batch layer must agree with the library.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import holidays
import pytest

import metrics_engine as me

ROOT = Path(__file__).resolve().parent.parent
# Where the build under test lives (the checkout, or site-packages for an installed build):
# the commands run in subprocesses import that one.
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COLUMNS = ["case_id", *me.FIELDS]


def run_cli(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PACKAGE_PARENT), environment.get("PYTHONPATH")])
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "metrics_engine", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: Sequence[object]) -> Path:
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    path.write_text(text, encoding="utf-8")
    return path


def input_cases(path: Path) -> set[str]:
    """Case ids (as text) of every line that is a JSON object with a usable case id."""
    cases = set()
    with open(path, "rb") as head:
        opener = gzip.open if head.read(2) == b"\x1f\x8b" else open  # as the command does
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                case = event.get("case")
                if isinstance(case, str) or (isinstance(case, int) and not isinstance(case, bool)):
                    cases.add(str(case))
    return cases


def check_accounting(
    inputs: set[str], rows: list[dict[str, Any]], rejects: list[dict[str, Any]], not_created: int
) -> None:
    """Every input case is in exactly one of the two outputs, once, or not yet created."""
    row_cases = [row["case_id"] for row in rows]
    rejected = [reject["case_id"] for reject in rejects if reject["case_id"] is not None]
    assert all(type(case) is str for case in row_cases + rejected)  # ids as text
    assert len(row_cases) == len(set(row_cases))
    assert len(rejected) == len(set(rejected))
    assert not set(row_cases) & set(rejected)
    assert set(row_cases) | set(rejected) <= inputs
    assert len(inputs) == len(rows) + len(rejected) + not_created


def summary_count(result: subprocess.CompletedProcess[bytes], what: str) -> int:
    """A count of the summary line (0 when the run was quiet)."""
    match = re.search(rf"(\d+) {what}", result.stderr.decode())
    return int(match.group(1)) if match else 0


def compute(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[bytes], list[dict[str, Any]], list[dict[str, Any]]]:
    """``metrics-engine compute ARGS``; its rows and rejects, wherever they went.

    Every run that computes (exit 0 or 1) is checked: each input case is in exactly one of
    the two outputs. A run that stops (exit 2) must leave no output behind.
    """
    from metrics_engine._cli import build_parser

    options = build_parser().parse_args(["compute", *map(str, args)])
    result = run_cli("compute", *args, cwd=cwd, stdin=stdin, env=env)
    out = None if options.out in (None, "-") else cwd / options.out
    rejects_path = options.rejects
    if rejects_path is None and out is not None:
        rejects_path = f"{options.out}.rejects.jsonl"
    rejects_file = None if rejects_path in (None, "-") else cwd / rejects_path
    if result.returncode == 2:
        assert out is None or not out.exists() or out.read_bytes() == PREVIOUS
        assert rejects_file is None or not rejects_file.exists()
        assert not list(cwd.glob(".*.partial"))
        return result, [], []
    assert result.returncode in (0, 1), result.stderr
    out_text = out.read_text(encoding="utf-8") if out is not None else result.stdout.decode()
    if options.format == "csv":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(out_text)))
    else:
        rows = [json.loads(line) for line in out_text.splitlines()]
    if rejects_file is not None:
        rejects = jsonl(rejects_file)
    else:
        stderr = result.stderr.decode().splitlines()
        rejects = [json.loads(line) for line in stderr if line.startswith("{")]
    assert (result.returncode == 1) == bool(rejects)
    cases: set[str] = set()
    for name in options.inputs:
        if name == "-":
            (cwd / ".stdin.jsonl").write_bytes(stdin or b"")
            cases |= input_cases(cwd / ".stdin.jsonl")
            (cwd / ".stdin.jsonl").unlink()
        else:
            cases |= input_cases(cwd / name)
    check_accounting(cases, rows, rejects, summary_count(result, "not yet created"))
    return result, rows, rejects


PREVIOUS = b"previous run\n"


# ---------------------------------------------------------------------------- the data

# SPEC section 2's example, with its hand-worked figures (SPEC: "Without a calendar this
# gives ..."). All instants in UTC: created 2026-03-02T14:15Z, resolved 2026-03-03T14:31Z.
SPEC_CASE = [
    {"case": 1042, "event": "created", "at": "2026-03-02T09:15:00-05:00",
     "actor": {"id": 17, "role": "customer"},
     "fields": {"requester": 17, "priority": "NORMAL", "team": 3}},
    {"case": 1042, "event": "update", "at": "2026-03-02T09:20:00-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"assignee": 5, "status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-02T10:02:10-05:00",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1042, "event": "update", "at": "2026-03-02T10:02:30-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "PENDING"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T08:00:00-05:00",
     "actor": {"id": 17, "role": "customer"}},
    {"case": 1042, "event": "update", "at": "2026-03-03T08:00:00-05:00",
     "changes": {"status": "OPEN"}},
    {"case": 1042, "event": "message", "at": "2026-03-03T09:30:00-05:00",
     "actor": {"id": 5, "role": "agent"}},
    {"case": 1042, "event": "update", "at": "2026-03-03T09:31:00-05:00",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip

USER_5 = "5"  # a user is written as its id's text
# Every field of SPEC_CASE by hand (no calendar, so every business field is absent).
SPEC_ROW: dict[str, Any] = {
    "case_id": "1042",  # ids as text
    "is_first_contact_resolved": False,  # two agent replies before the resolution
    "was_reopened": False,
    "last_reopened_at": None,
    "first_assignment_at": "2026-03-02T14:20:00+00:00",  # assignee null -> 5
    "last_assignment_at": "2026-03-02T14:20:00+00:00",
    "last_activity_by_requester_at": "2026-03-03T13:00:00+00:00",  # 17's message
    "last_activity_by_assignee_at": "2026-03-03T14:31:00+00:00",  # 5 completes
    "last_reply_by_agent_at": "2026-03-03T14:30:00+00:00",
    "last_reply_by_assignee_at": "2026-03-03T14:30:00+00:00",
    "last_reply_by_requester_at": "2026-03-03T13:00:00+00:00",
    "last_reply_by_customer_at": "2026-03-03T13:00:00+00:00",
    "agent_updated_at": "2026-03-03T14:31:00+00:00",
    "customer_updated_at": "2026-03-03T13:00:00+00:00",
    "requester_updated_at": "2026-03-03T13:00:00+00:00",
    "team_updated_at": None,  # team 3 set at creation only
    "priority_updated_at": None,
    "type_updated_at": None,
    "status_update_at": "2026-03-03T14:31:00+00:00",
    "reopen_count": 0,
    "resolution_at": "2026-03-03T14:31:00+00:00",
    "agents_to_resolution": 1,
    "replies_to_resolution": 3,  # agent, customer, agent
    "last_replier": USER_5,
    "resolved_by": USER_5,
    "resolution_calendar_time": 87360,  # 24 h 16 min
    "resolution_business_time": None,
    "average_calendar_response_time": 4115,  # (2830 + 5400) // 2
    "average_business_response_time": None,
    "agent_first_calendar_response_time": 2830,  # 14:15:00 -> 15:02:10
    "agent_first_business_response_time": None,
    "agent_calendar_wait_time": 79050,  # PENDING 15:02:30 -> 13:00:00 next day
    "agent_business_wait_time": None,
    "customer_calendar_wait_time": 8310,  # NEW 300 + OPEN 2550 + OPEN 5460
    "customer_business_wait_time": None,
    "priority_change_count": 0,
    "sla_change_count": 0,
    "agent_reply_count": 2,
    "requester_reply_count": 1,
    "assignee_change_count": 1,  # null -> 5 after creation
    "team_change_count": 0,
    "agent_touch_count": 5,
}
BUSINESS_FIELDS = [name for name in me.FIELDS if "_business_" in name]

# A string case id: created by a customer at 10:00Z, answered and completed at 10:10Z.
CASE_A = [
    {"case": "A-1", "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": "c-1", "role": "customer"}},
    {"case": "A-1", "event": "message", "at": "2026-03-02T10:10:00Z",
     "actor": {"id": 9, "role": "agent"}},
    {"case": "A-1", "event": "update", "at": "2026-03-02T10:10:00Z",
     "actor": {"id": 9, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip
# Opened at 12:00Z and never answered: its NEW wait runs to as_of.
CASE_7 = [
    {"case": 7, "event": "created", "at": "2026-03-02T12:00:00Z",
     "actor": {"id": 70, "role": "customer"}},
]  # fmt: skip
# Bad cases: an unknown kind, a naive time, an event out of order.
CASE_50 = [
    {"case": 50, "event": "created", "at": "2026-03-02T11:00:00Z",
     "actor": {"id": 500, "role": "customer"}},
    {"case": 50, "event": "escalated", "at": "2026-03-02T11:05:00Z"},
]  # fmt: skip
CASE_51 = [
    {"case": 51, "event": "created", "at": "2026-03-02T11:00:00Z",
     "actor": {"id": 510, "role": "customer"}},
    {"case": 51, "event": "message", "at": "2026-03-02T11:30:00",
     "actor": {"id": 9, "role": "agent"}},
]  # fmt: skip
CASE_52 = [
    {"case": 52, "event": "created", "at": "2026-03-02T12:00:00Z",
     "actor": {"id": 520, "role": "customer"}},
    {"case": 52, "event": "message", "at": "2026-03-02T12:30:00Z",
     "actor": {"id": 9, "role": "agent"}},
    {"case": 52, "event": "update", "at": "2026-03-02T12:10:00Z",
     "actor": {"id": 9, "role": "agent"}, "changes": {"status": "PENDING"}},
]  # fmt: skip
NOT_JSON = "this is not json"
NO_CASE = {"event": "note", "at": "2026-03-02T11:00:00Z"}
FLOAT_CASE = {"case": 1.5, "event": "note", "at": "2026-03-02T11:00:00Z"}

# Line numbers (from 1) are given beside each line.
MIXED: list[object] = [
    SPEC_CASE[0],  # 1
    NOT_JSON,  # 2
    CASE_A[0],  # 3
    CASE_7[0],  # 4
    SPEC_CASE[1],  # 5
    NO_CASE,  # 6
    CASE_50[0],  # 7
    CASE_A[1],  # 8
    CASE_50[1],  # 9
    CASE_51[0],  # 10
    SPEC_CASE[2],  # 11
    CASE_51[1],  # 12
    FLOAT_CASE,  # 13
    CASE_A[2],  # 14
    CASE_52[0],  # 15
    CASE_52[1],  # 16
    CASE_52[2],  # 17
    *SPEC_CASE[3:],  # 18-22
]
LATEST = "2026-03-03T14:31:00+00:00"  # the last event of SPEC_CASE


def expected_row(events: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """The library's row, as the batch writes it: ids as text, no resource_type."""
    absent = options.pop("absent", "null")
    row = me.compute_metrics(events, **options).to_dict(absent=absent)
    assert row.pop("resource_type") == "case_metric"
    for name in ("last_replier", "resolved_by"):
        if row[name] is not None:
            row[name] = str(row[name]["id"])
    return {"case_id": str(events[0]["case"]), **row}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "mixed.jsonl", MIXED)


# ---------------------------------------------------------------------------- compute


def test_jsonl_rows_hand_worked_and_rejects_strict(tmp_path: Path, mixed: Path) -> None:
    result, rows, rejects = compute(
        "mixed.jsonl", "--out", "out.jsonl", "--workers", "1", cwd=tmp_path
    )
    assert result.returncode == 1
    # Rows in order of first appearance: 1042 (line 1), A-1 (line 3), 7 (line 4).
    assert [row["case_id"] for row in rows] == ["1042", "A-1", "7"]
    assert all(list(row) == COLUMNS for row in rows)
    assert rows[0] == SPEC_ROW
    case_a, case_7 = rows[1], rows[2]
    # reply 10 min after a customer's opening post, completed in the same second.
    assert case_a["agent_first_calendar_response_time"] == 600
    assert case_a["average_calendar_response_time"] == 600
    assert case_a["resolution_calendar_time"] == 600
    assert case_a["customer_calendar_wait_time"] == 600  # NEW 10:00 -> 10:10
    assert case_a["is_first_contact_resolved"] is True
    assert case_a["replies_to_resolution"] == 1
    assert case_a["resolved_by"] == "9"
    assert case_a["first_assignment_at"] is None
    # 7: NEW from 12:00Z to the latest 'at' of the whole input, 2026-03-03T14:31Z.
    assert case_7["customer_calendar_wait_time"] == 26 * 3600 + 31 * 60
    assert case_7["agent_first_calendar_response_time"] is None
    assert case_7["resolution_calendar_time"] is None
    assert case_7["replies_to_resolution"] is None
    assert case_7["is_first_contact_resolved"] is False
    assert case_7["last_replier"] == "70"
    # Rejects in file order, each pointing at its line; case ids as text.
    assert [(r["case_id"], r["line"], r.get("index", "-")) for r in rejects] == [
        (None, 2, "-"),  # not JSON
        (None, 6, "-"),  # no case id
        ("50", 9, 1),  # unknown kind, strict
        ("51", 12, 1),  # naive time
        (None, 13, "-"),  # a float is no case id
        ("52", 17, 2),  # out of order, strict
    ]
    assert all(r["file"] == "mixed.jsonl" for r in rejects)
    assert list(rejects[0]) == ["case_id", "file", "line", "error"]
    assert list(rejects[2]) == ["case_id", "file", "line", "index", "error"]
    assert rejects[0]["error"].startswith("not JSON")
    assert "'escalated'" in rejects[2]["error"]
    assert "offset" in rejects[3]["error"]
    assert "2026-03-02T12:30:00+00:00" in rejects[5]["error"]


def test_lenient_sorts_and_skips(tmp_path: Path, mixed: Path) -> None:
    result, rows, rejects = compute(
        "mixed.jsonl", "--lenient", "--out", "out.jsonl", "--workers", "1", cwd=tmp_path
    )
    assert result.returncode == 1  # the bad lines and the naive time stay rejected
    assert [row["case_id"] for row in rows] == ["1042", "A-1", "7", "50", "52"]
    assert [(r["case_id"], r["line"]) for r in rejects] == [
        (None, 2),
        (None, 6),
        ("51", 12),
        (None, 13),
    ]
    # 50's "escalated" event is skipped, and counted: the only unknown kind of the input.
    assert "1 events skipped by --lenient" in result.stderr.decode()
    assert rows[3] == expected_row(CASE_50, as_of=LATEST, strict=False)
    case_52 = rows[4]
    assert case_52 == expected_row(CASE_52, as_of=LATEST, strict=False)
    # By hand: sorted, NEW 12:00 -> 12:10, then PENDING up to as_of; reply at 12:30.
    assert case_52["customer_calendar_wait_time"] == 600
    assert case_52["agent_first_calendar_response_time"] == 1800


def test_summary_line_and_warning(tmp_path: Path, mixed: Path) -> None:
    result, _, _ = compute("mixed.jsonl", "--out", "out.jsonl", "--workers", "1", cwd=tmp_path)
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("metrics-engine: warning: no --calendar")
    summary = lines[-1]
    assert summary.startswith("metrics-engine compute: 6 cases, ")
    assert "19 events" in summary  # 22 lines, 3 of which are not events
    assert "3 rows written" in summary
    assert "6 rejects (3 cases, 3 lines)" in summary
    assert "0 not yet created, 0 events skipped by --lenient" in summary
    assert f"as_of {LATEST}" in summary
    assert f"holidays {holidays.__version__}" in summary


def test_quiet_silences_stderr(tmp_path: Path, mixed: Path) -> None:
    result, _, _ = compute("mixed.jsonl", "--out", "o.jsonl", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == b""


def test_csv_columns_and_encodings(tmp_path: Path, mixed: Path) -> None:
    _, json_rows, json_rejects = compute(
        "mixed.jsonl", "--out", "out.jsonl", "--workers", "1", cwd=tmp_path
    )
    result, _, csv_rejects = compute(
        "mixed.jsonl", "--format", "csv", "--out", "out.csv", "--workers", "1", cwd=tmp_path
    )
    assert result.returncode == 1
    text = (tmp_path / "out.csv").read_bytes().decode("utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == COLUMNS
    spec = dict(zip(COLUMNS, table[1], strict=True))
    assert spec["case_id"] == "1042"
    assert spec["is_first_contact_resolved"] == "false"
    assert spec["last_replier"] == "5"  # a user as its id
    assert spec["resolution_business_time"] == ""  # absent
    assert spec["last_reopened_at"] == ""
    assert spec["resolution_calendar_time"] == "87360"
    assert spec["resolution_at"] == "2026-03-03T14:31:00+00:00"
    assert "resource_type" not in spec
    assert table[2][0] == "A-1"
    assert dict(zip(COLUMNS, table[2], strict=True))["is_first_contact_resolved"] == "true"
    # Every cell is the JSON Lines value, encoded.
    for row, cells in zip(json_rows, table[1:], strict=True):
        for name, cell in zip(COLUMNS, cells, strict=True):
            value = row[name]
            if value is None:
                assert cell == ""
            elif isinstance(value, bool):
                assert cell == str(value).lower()
            else:
                assert cell == str(value)
    assert csv_rejects == json_rejects  # the same whatever the format


def test_absent_zero(tmp_path: Path, mixed: Path) -> None:
    _, rows, _ = compute("mixed.jsonl", "--absent", "zero", "--out", "z.jsonl", cwd=tmp_path)
    for name in BUSINESS_FIELDS:
        assert rows[0][name] == 0
    assert rows[0]["last_reopened_at"] is None  # timestamps and users are never 0
    assert rows[0] == {**SPEC_ROW, **dict.fromkeys(BUSINESS_FIELDS, 0)}
    _, table, _ = compute(
        "mixed.jsonl", "--absent", "zero", "--format", "csv", "--out", "z.csv", cwd=tmp_path
    )
    case_7 = table[2]
    assert case_7["case_id"] == "7"
    assert case_7["resolution_calendar_time"] == "0"
    assert case_7["resolution_at"] == ""
    assert case_7["resolved_by"] == ""


def test_as_of_explicit(tmp_path: Path, mixed: Path) -> None:
    result, rows, rejects = compute(
        "mixed.jsonl", "--as-of", "2026-03-02T08:00:00.9-05:00", "--out", "o.jsonl",
        "--workers", "1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "as_of 2026-03-02T13:00:00+00:00" in result.stderr.decode()  # truncated to seconds
    assert [row["case_id"] for row in rows] == ["A-1", "7"]
    assert rows[1]["customer_calendar_wait_time"] == 3600  # 12:00Z -> 13:00Z
    # 1042 was created at 14:15Z, after as_of: it did not exist yet, no row and no reject.
    # (50 and 51 were created at 11:00Z, before as_of: rejected for their events as usual.)
    assert "1042" not in {r["case_id"] for r in rejects}
    assert "1 not yet created" in result.stderr.decode()
    # Events after as_of are checked but not applied: 52 is still out of order.
    assert any(r["case_id"] == "52" for r in rejects)


def test_stdin_and_gzip_give_the_same_rows(tmp_path: Path, mixed: Path) -> None:
    data = mixed.read_bytes()
    with gzip.open(tmp_path / "mixed.jsonl.gz", "wb") as packed:
        packed.write(data)
    _, expected, _ = compute("mixed.jsonl", "--out", "plain.jsonl", cwd=tmp_path)
    for flags in ([], ["--grouped"]):  # grouped stdin is spooled for the default as_of
        grouped = _grouped_copy(mixed, tmp_path / "g.jsonl").read_bytes() if flags else data
        _, rows, rejects = compute("-", *flags, "--out", "piped.jsonl", cwd=tmp_path, stdin=grouped)
        assert rows == expected
        assert {r["file"] for r in rejects} == {"-"}
    _, rows, rejects = compute("mixed.jsonl.gz", "--out", "zipped.jsonl", cwd=tmp_path)
    assert rows == expected
    assert {r["file"] for r in rejects} == {"mixed.jsonl.gz"}


def test_two_inputs_number_lines_per_file(tmp_path: Path) -> None:
    write_lines(tmp_path / "one.jsonl", [SPEC_CASE[0], NOT_JSON])
    write_lines(tmp_path / "two.jsonl", [NOT_JSON, *SPEC_CASE[1:]])
    result, rows, rejects = compute("one.jsonl", "two.jsonl", "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert rows == [SPEC_ROW]
    assert [(r["file"], r["line"]) for r in rejects] == [("one.jsonl", 2), ("two.jsonl", 1)]


def test_stdout_and_stderr_without_out(tmp_path: Path, mixed: Path) -> None:
    result, rows, rejects = compute("mixed.jsonl", "--workers", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert rows[0] == SPEC_ROW
    assert len(rejects) == 6
    _, rows_again, rejects_again = compute(
        "mixed.jsonl", "--out", "-", "--rejects", "-", cwd=tmp_path
    )
    assert (rows_again, rejects_again) == (rows, rejects)


def test_rejects_option(tmp_path: Path, mixed: Path) -> None:
    result, rows, rejects = compute("mixed.jsonl", "--rejects", "bad.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert len(jsonl(tmp_path / "bad.jsonl")) == len(rejects) == 6
    assert len(rows) == 3


def test_clean_run_exit_0_and_empty_rejects_file(tmp_path: Path) -> None:
    write_lines(tmp_path / "spec.jsonl", SPEC_CASE)
    result, rows, _ = compute("spec.jsonl", "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 0
    assert rows == [SPEC_ROW]
    assert (tmp_path / "o.jsonl.rejects.jsonl").read_bytes() == b""


def _library_rows(path: Path, **options: Any) -> list[dict[str, Any]]:
    from datetime import datetime

    events = [json.loads(line) for line in path.read_text().splitlines()]
    latest = max(datetime.fromisoformat(e["at"]) for e in events)
    by_case: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_case.setdefault(str(event["case"]), []).append(event)
    return [expected_row(case, as_of=latest, **options) for case in by_case.values()]


def test_matches_the_library_with_a_calendar(tmp_path: Path) -> None:
    calendar = me.BusinessCalendar.from_dict(json.loads((EXAMPLES / "calendar.json").read_text()))
    result, rows, _ = compute(
        EXAMPLES / "events.jsonl", "--calendar", EXAMPLES / "calendar.json", "--out", "o.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rows == _library_rows(EXAMPLES / "events.jsonl", calendar=calendar)
    assert any(row["resolution_business_time"] for row in rows)


def test_team_calendars_and_rules_match_the_library(tmp_path: Path) -> None:
    teams = me.TeamCalendars.from_dict(json.loads((EXAMPLES / "team_calendars.json").read_text()))
    rules = me.Rules(
        resolution_time="elapsed", reopen_on_customer_message=True, team_only_assignment=True
    )
    result, rows, _ = compute(
        EXAMPLES / "events.jsonl", "--team-calendars", EXAMPLES / "team_calendars.json",
        "--resolution-time", "elapsed", "--reopen-on-customer-message", "--team-only-assignment",
        "--absent", "zero", "--out", "o.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rows == _library_rows(
        EXAMPLES / "events.jsonl", calendar=teams, rules=rules, absent="zero"
    )


def test_kayako_business_hours_match_the_library(tmp_path: Path) -> None:
    hours = json.loads((EXAMPLES / "kayako_business_hours.json").read_text())
    calendar = me.BusinessCalendar.from_kayako(hours, timezone="America/New_York")
    result, rows, _ = compute(
        EXAMPLES / "events.jsonl", "--calendar", EXAMPLES / "kayako_business_hours.json",
        "--timezone", "America/New_York", "--out", "o.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rows == _library_rows(EXAMPLES / "events.jsonl", calendar=calendar)


def _grouped_copy(source: Path, target: Path) -> Path:
    """The same lines, each case's lines together, cases in order of first appearance."""
    groups: dict[str, list[str]] = {}
    loose: list[str] = []
    for line in source.read_text().splitlines():
        try:
            case = json.loads(line).get("case")
        except (ValueError, AttributeError):
            loose.append(line)
            continue
        if isinstance(case, str | int) and not isinstance(case, bool):
            groups.setdefault(str(case), []).append(line)
        else:
            loose.append(line)
    target.write_text("\n".join(loose + [line for g in groups.values() for line in g]) + "\n")
    return target


@pytest.mark.parametrize("layout", ["interleaved", "grouped"])
def test_workers_2_identical_to_1(tmp_path: Path, layout: str) -> None:
    events = (EXAMPLES / "events.jsonl").read_text().splitlines()
    source = write_lines(tmp_path / "all.jsonl", [*MIXED, *events])
    flags: list[str] = []
    if layout == "grouped":
        source = _grouped_copy(source, tmp_path / "grouped.jsonl")
        flags = ["--grouped"]
    outputs = []
    for workers in ("1", "2"):
        for backend in ("orjson", "json"):
            out = f"out-{workers}-{backend}.csv"
            result, _, _ = compute(
                source.name, *flags, "--workers", workers, "--format", "csv",
                "--calendar", EXAMPLES / "calendar.json", "--out", out, cwd=tmp_path,
                env={"METRICS_ENGINE_JSON": backend},
            )  # fmt: skip
            assert result.returncode == 1, result.stderr
            outputs.append(
                ((tmp_path / out).read_bytes(), (tmp_path / f"{out}.rejects.jsonl").read_bytes())
            )
    assert all(output == outputs[0] for output in outputs)


def test_grouped_gives_the_interleaved_rows(tmp_path: Path, mixed: Path) -> None:
    _grouped_copy(mixed, tmp_path / "grouped.jsonl")
    _, interleaved, _ = compute("grouped.jsonl", "--out", "i.jsonl", cwd=tmp_path)
    result, grouped, _ = compute("grouped.jsonl", "--grouped", "--out", "g.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert grouped == interleaved
    assert [row["case_id"] for row in grouped] == ["1042", "A-1", "7"]
    assert (tmp_path / "i.jsonl.rejects.jsonl").read_bytes() == (
        tmp_path / "g.jsonl.rejects.jsonl"
    ).read_bytes()


@pytest.mark.parametrize("as_of", [None, "2026-03-04T00:00:00Z"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_grouped_case_that_reappears_commits_nothing(
    tmp_path: Path, as_of: str | None, workers: str
) -> None:
    write_lines(tmp_path / "g.jsonl", [SPEC_CASE[0], CASE_7[0], SPEC_CASE[1]])
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    flags = ["--workers", workers] + ([] if as_of is None else ["--as-of", as_of])
    result, _, _ = compute("g.jsonl", "--grouped", *flags, "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert "case '1042' again at g.jsonl:3" in result.stderr.decode()
    assert (tmp_path / "o.jsonl").read_bytes() == PREVIOUS  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.jsonl", "o.jsonl"]  # no temp left
    # On stdout nothing is written either.
    result, _, _ = compute("g.jsonl", "--grouped", *flags, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""


@pytest.mark.parametrize("as_of", [None, "2026-03-04T00:00:00Z"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_grouped_broken_lines_are_rejected_alike_with_and_without_orjson(
    tmp_path: Path, as_of: str | None, workers: str
) -> None:
    """A line that is no event but names an earlier case (cut off mid-write, or a case id
    nested inside) is rejected in place: not taken for that case appearing again."""
    cut = json.dumps(SPEC_CASE[1])[:40]  # '{"case": 1042, "event": "update", "at": '
    nested = {"meta": {"case": 1042}, "event": "note", "at": "2026-03-02T11:00:00Z"}
    write_lines(
        tmp_path / "g.jsonl",
        [SPEC_CASE[0], CASE_A[0], cut, CASE_A[1], nested, CASE_A[2], CASE_7[0], cut],
    )
    flags = ["--workers", workers] + ([] if as_of is None else ["--as-of", as_of])
    outputs = []
    for backend in ("orjson", "json"):
        for mode in (["--grouped"], []):
            out = f"o-{backend}-{len(mode)}.jsonl"
            result, rows, rejects = compute(
                "g.jsonl", *mode, *flags, "--out", out, cwd=tmp_path,
                env={"METRICS_ENGINE_JSON": backend},
            )  # fmt: skip
            assert result.returncode == 1, result.stderr
            assert [row["case_id"] for row in rows] == ["1042", "A-1", "7"]
            assert [(r["case_id"], r["line"]) for r in rejects] == [(None, 3), (None, 5), (None, 8)]
            outputs.append(
                ((tmp_path / out).read_bytes(), (tmp_path / f"{out}.rejects.jsonl").read_bytes())
            )
    assert all(output == outputs[0] for output in outputs)


def test_lone_surrogates_are_written_as_valid_utf8(tmp_path: Path) -> None:
    """A case id spelled with a lone surrogate escape ("\\ud800") comes out as that JSON
    escape in rows and rejects, and as the text \\ud800 in CSV: never as invalid UTF-8."""
    write_lines(
        tmp_path / "s.jsonl",
        [
            {
                "case": "\ud800",
                "event": "created",
                "at": "2026-03-02T10:00:00Z",
                "actor": {"id": "u\udc01", "role": "customer"},
            },
            {
                "case": "\ud800",
                "event": "message",
                "at": "2026-03-02T10:05:00Z",
                "actor": {"id": "a\udfff", "role": "agent"},
            },
            {"case": "\udfff", "event": "bogus", "at": "2026-03-02T10:00:00Z"},
        ],
    )  # (json.dumps writes the escapes: the file is ASCII)
    outputs = []
    for backend in ("orjson", "json"):
        env = {"METRICS_ENGINE_JSON": backend}
        result, rows, rejects = compute(
            "s.jsonl", "--out", f"{backend}.jsonl", cwd=tmp_path, env=env
        )
        assert result.returncode == 1
        assert [row["case_id"] for row in rows] == ["\ud800"]
        assert rows[0]["last_replier"] == "a\udfff"
        assert [reject["case_id"] for reject in rejects] == ["\udfff"]
        out = (tmp_path / f"{backend}.jsonl").read_bytes()
        assert out.startswith(b'{"case_id":"\\ud800",')
        assert b'"a\\udfff"' in out
        assert (
            (tmp_path / f"{backend}.jsonl.rejects.jsonl")
            .read_bytes()
            .startswith(b'{"case_id":"\\udfff",')
        )
        # (not through compute(): its accounting would take the CSV text for another id)
        result = run_cli(
            "compute",
            "s.jsonl",
            "--format",
            "csv",
            "--out",
            f"{backend}.csv",
            cwd=tmp_path,
            env=env,
        )
        assert result.returncode == 1
        text = (tmp_path / f"{backend}.csv").read_text(encoding="utf-8")
        (row,) = csv.DictReader(io.StringIO(text))
        # In CSV, the text: a backslash, then "ud800".
        assert (row["case_id"], row["last_replier"]) == ("\\ud800", "a\\udfff")
        outputs.append(
            [(tmp_path / f"{backend}{suffix}").read_bytes()
             for suffix in (".jsonl", ".jsonl.rejects.jsonl", ".csv", ".csv.rejects.jsonl")]
        )  # fmt: skip
    assert outputs[0] == outputs[1]
    for output in outputs[0]:
        output.decode("utf-8")  # strict: valid UTF-8
    result = run_cli("validate", "s.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode("utf-8").startswith('case "\\ud800": 2 events')
    assert 'case "\\udfff": 1 events (bogus 1)' in result.stdout.decode("utf-8")


def test_gzip_is_recognised_by_its_content(tmp_path: Path, mixed: Path) -> None:
    """gzip on stdin, or in a file whose name does not say so, is read as gzip."""
    packed = gzip.compress(mixed.read_bytes())
    (tmp_path / "packed.jsonl").write_bytes(packed)
    _, expected, expected_rejects = compute("mixed.jsonl", "--out", "plain.jsonl", cwd=tmp_path)
    expected_lines = [(r["case_id"], r["line"], r["error"]) for r in expected_rejects]
    runs = [
        (["packed.jsonl"], None, "packed.jsonl"),
        (["-"], packed, "-"),
        (["-", "--as-of", LATEST], packed, "-"),
        (["-", "--workers", "1"], packed, "-"),
    ]
    for arguments, stdin, name in runs:
        result, rows, rejects = compute(*arguments, "--out", "o.jsonl", cwd=tmp_path, stdin=stdin)
        assert result.returncode == 1, result.stderr
        assert rows == expected
        assert [(r["case_id"], r["line"], r["error"]) for r in rejects] == expected_lines
        assert {r["file"] for r in rejects} == {name}
    grouped = gzip.compress(_grouped_copy(mixed, tmp_path / "g.jsonl").read_bytes())
    _, expected_grouped, _ = compute("g.jsonl", "--grouped", "--out", "g.out", cwd=tmp_path)
    for flags in ([], ["--as-of", LATEST]):  # spooled for the default as_of, else streamed
        result, rows, _ = compute(
            "-", "--grouped", *flags, "--out", "o.jsonl", cwd=tmp_path, stdin=grouped
        )
        assert result.returncode == 1, result.stderr
        assert rows == expected_grouped
    validated = run_cli("validate", "-", cwd=tmp_path, stdin=packed).stdout
    assert validated == run_cli("validate", "mixed.jsonl", cwd=tmp_path).stdout.replace(
        b"mixed.jsonl:", b"-:"
    )
    # A .gz name that is no gzip, and a gzip stream cut short, stop the run (exit 2).
    (tmp_path / "plain.jsonl.gz").write_bytes(mixed.read_bytes())
    result, _, _ = compute("plain.jsonl.gz", "--out", "o2.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot read input plain.jsonl.gz: Not a gzipped file" in result.stderr.decode()
    for flags in ([], ["--grouped"]):
        result, _, _ = compute(
            "-", *flags, "--out", "o3.jsonl", cwd=tmp_path, stdin=packed[: len(packed) // 2]
        )
        assert result.returncode == 2
        assert "cannot read input -: Compressed file ended" in result.stderr.decode()


def test_unreadable_input_commits_nothing(tmp_path: Path, mixed: Path) -> None:
    whole = gzip.compress(mixed.read_bytes() * 50)
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # truncated gzip
    result, _, _ = compute("mixed.jsonl", "cut.jsonl.gz", "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot read input cut.jsonl.gz" in result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl.gz", "mixed.jsonl"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["compute", "mixed.jsonl", "--calendar", "c.json", "--team-calendars", "c.json"], "both"),
        (["compute", "missing.jsonl"], "cannot read input missing.jsonl"),
        (["compute", "mixed.jsonl", "--calendar", "missing.json"], "cannot read calendar"),
        (["compute", "mixed.jsonl", "--calendar", "bad.json"], "calendar bad.json"),
        (["compute", "mixed.jsonl", "--calendar", "notjson.json"], "expected JSON"),
        (["compute", "mixed.jsonl", "--team-calendars", "c.json"], "team calendars"),
        (["compute", "mixed.jsonl", "--timezone", "UTC"], "--timezone"),
        (["compute", "mixed.jsonl", "--as-of", "2026-03-02T10:00:00"], "naive"),
        (["compute", "mixed.jsonl", "--format", "xml"], "invalid choice"),
        (["compute", "mixed.jsonl", "--workers", "-1"], "--workers"),
        (["compute", "mixed.jsonl", "--out", "no/such/folder/o.jsonl"], "cannot write"),
        ([], "required"),
        (["validate", "missing.jsonl"], "cannot read input"),
    ],
)
def test_exit_2(tmp_path: Path, mixed: Path, arguments: list[str], message: str) -> None:
    (tmp_path / "c.json").write_text((EXAMPLES / "calendar.json").read_text())
    (tmp_path / "bad.json").write_text('{"timezone": "Mars/Olympus", "week": {}}')
    (tmp_path / "notjson.json").write_text("{")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert result.stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_help_explains_every_option(tmp_path: Path) -> None:
    result = run_cli("compute", "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = result.stdout.decode()
    for option in (
        "--calendar", "--team-calendars", "--timezone", "--out", "--rejects", "--format",
        "--as-of", "--absent", "--lenient", "--grouped", "--workers", "--quiet",
        "--resolution-time", "--reopen-on-customer-message", "--team-only-assignment",
    ):  # fmt: skip
        assert option in text
    assert "Example" in text
    assert run_cli("--version", cwd=tmp_path).stdout.decode().startswith("metrics-engine ")


# ---------------------------------------------------------------------------- validate


def test_validate_reports_every_problem_by_line(tmp_path: Path, mixed: Path) -> None:
    result = run_cli("validate", "mixed.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout.decode().splitlines()
    assert out[0] == (
        "case 1042: 8 events (created 1, message 3, update 4), first 2026-03-02T14:15:00+00:00, "
        "last 2026-03-03T14:31:00+00:00: ok"
    )
    assert out[1].startswith("mixed.jsonl:2: not JSON")
    assert out[2].startswith('case "A-1": 3 events (created 1, message 1, update 1)')
    assert out[3].endswith(": ok")
    assert out[4].startswith("mixed.jsonl:6: field 'case'")
    assert out[5].startswith("case 50: 2 events (created 1, escalated 1), ")
    assert out[5].endswith(": 1 problem")
    assert out[6].startswith("  mixed.jsonl:9: event 1: field 'event'")
    text = "\n".join(out)
    assert "mixed.jsonl:6: field 'case'" in text
    assert "  mixed.jsonl:12: event 1: field 'at'" in text
    assert "mixed.jsonl:13: field 'case'" in text
    assert "  mixed.jsonl:17: event 2: field 'at'" in text
    assert out[-1] == (
        "metrics-engine validate: 1 files, 22 lines, 6 cases, 19 events: 6 problems "
        "(3 cases with problems, 3 bad lines)"
    )


def test_validate_lenient_and_clean(tmp_path: Path, mixed: Path) -> None:
    result = run_cli("validate", "--lenient", "--quiet", "mixed.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    text = result.stdout.decode()
    assert "case 50" not in text  # fine in lenient mode
    assert "case 52" not in text
    assert "  mixed.jsonl:12: event 1" in text
    write_lines(tmp_path / "spec.jsonl", SPEC_CASE)
    clean = run_cli("validate", "spec.jsonl", cwd=tmp_path)
    assert clean.returncode == 0
    assert (
        clean.stdout.decode()
        .splitlines()[-1]
        .endswith(": clean (0 cases with problems, 0 bad lines)")
    )


@pytest.mark.parametrize("grouped", [False, True])
def test_a_named_pipe_is_read_once_and_loses_nothing(tmp_path: Path, grouped: bool) -> None:
    # A pipe (or `<(zcat ...)`) cannot be read twice: probing it, or reading it in two
    # passes, would drop lines. It must give exactly what the regular file gives.
    source = EXAMPLES / "events.jsonl"
    flags = ["--grouped"] if grouped else []
    if grouped:  # grouped mode needs each case's events together
        rows = [json.loads(line) for line in source.read_text().splitlines()]
        rows.sort(key=lambda event: str(event["case"]))  # stable: each case keeps its order
        source = write_lines(tmp_path / "grouped.jsonl", rows)
    expected = run_cli("compute", source, "--quiet", *flags, cwd=tmp_path)
    pipe = tmp_path / "events.pipe"
    os.mkfifo(pipe)
    writer = subprocess.Popen(["sh", "-c", f'cat "{source}" > "{pipe}"'])
    try:
        got = run_cli("compute", pipe, "--quiet", *flags, cwd=tmp_path)
    finally:
        writer.wait(timeout=60)
    assert got.returncode == expected.returncode == 0, got.stderr
    assert got.stdout == expected.stdout
    assert len(got.stdout.splitlines()) == 300
