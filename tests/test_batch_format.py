"""The batch output format, end to end: ``case_id`` first, ids as text, no ``resource_type``;
a case created after ``--as-of`` is counted, not rejected; events skipped by ``--lenient``
are counted. Expected values are worked out by hand beside each case.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me

ROOT = Path(__file__).resolve().parent.parent
# Where the build under test lives (the checkout, or site-packages for an installed build):
# the commands run in subprocesses import that one.
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "metrics_engine", "compute", *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def write(path: Path, events: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))


def summary(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode().splitlines()[-1]


# Case 17 (an integer id) answered by agent 5 (an integer id); case "17x" answered by agent
# "5": in the output both users are the text "5", both case ids text.
EVENTS = [
    {"case": 17, "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": 900, "role": "customer"}},
    {"case": "17x", "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": "c-1", "role": "customer"}},
    {"case": "17", "event": "message", "at": "2026-03-02T10:05:00Z",
     "actor": {"id": 5, "role": "agent"}},  # "17" is case 17: ids compare by text
    {"case": "17x", "event": "message", "at": "2026-03-02T10:06:00Z",
     "actor": {"id": "5", "role": "agent"}},
    {"case": 17, "event": "update", "at": "2026-03-02T10:07:00Z",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip


@pytest.mark.parametrize("workers", ["1", "2"])
def test_rows_start_with_case_id_and_write_every_id_as_text(tmp_path: Path, workers: str) -> None:
    write(tmp_path / "in.jsonl", EVENTS)
    result = run("in.jsonl", "--workers", workers, "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [list(row) for row in rows] == [["case_id", *me.FIELDS]] * 2  # no resource_type
    assert [row["case_id"] for row in rows] == ["17", "17x"]
    assert [row["last_replier"] for row in rows] == ["5", "5"]
    assert rows[0]["resolved_by"] == "5"
    assert rows[1]["resolved_by"] is None
    # CSV: the same columns, the same text.
    result = run(
        "in.jsonl", "--workers", workers, "--format", "csv", "--out", "o.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    table = list(csv.reader(io.StringIO((tmp_path / "o.csv").read_text())))
    assert table[0] == ["case_id", *me.FIELDS]
    cells = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert [(c["case_id"], c["last_replier"], c["resolved_by"]) for c in cells] == [
        ("17", "5", "5"),
        ("17x", "5", ""),
    ]


def test_rejects_name_the_case_as_text(tmp_path: Path) -> None:
    write(
        tmp_path / "in.jsonl",
        [
            {"case": 8, "event": "created", "at": "2026-03-02T10:00:00Z"},
            {"case": 8, "event": "created", "at": "2026-03-02T10:01:00Z"},  # a second created
        ],
    )
    (tmp_path / "in.jsonl").write_text((tmp_path / "in.jsonl").read_text() + "[1]\n")
    result = run("in.jsonl", "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    lines = (tmp_path / "o.jsonl.rejects.jsonl").read_text().splitlines()
    rejects = [json.loads(line) for line in lines]
    assert [(r["case_id"], r["line"], r.get("index")) for r in rejects] == [
        ("8", 2, 1),
        (None, 3, None),
    ]


def test_a_case_created_after_as_of_gets_no_row_and_no_reject(tmp_path: Path) -> None:
    """As of 11:00Z: case 1 (created 10:00Z) is computed; case 2 (created 12:00Z) did not
    exist yet; case 3 (created 12:00Z too) has a naive time in a later event, which is an
    error whenever it was created: rejected. Case 4 was created before as_of and its first
    event is no created event: rejected, not taken for a case not yet created."""
    write(
        tmp_path / "in.jsonl",
        [
            {"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"},
            {"case": 2, "event": "created", "at": "2026-03-02T12:00:00Z"},
            {"case": 2, "event": "note", "at": "2026-03-02T12:30:00Z"},
            {"case": 3, "event": "created", "at": "2026-03-02T12:00:00Z"},
            {"case": 3, "event": "note", "at": "2026-03-02T12:30:00"},
            {"case": 4, "event": "note", "at": "2026-03-02T09:00:00Z"},
            {"case": 4, "event": "created", "at": "2026-03-02T09:30:00Z"},
        ],
    )
    for flags in ([], ["--grouped"], ["--lenient"], ["--workers", "2"]):
        result = run("in.jsonl", *flags, "--as-of", "2026-03-02T11:00:00Z", cwd=tmp_path)
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        rejects = [json.loads(line) for line in result.stderr.splitlines() if line[:1] == b"{"]
        # (--lenient sorts by at: case 4's note, an hour earlier, still comes first.)
        assert [row["case_id"] for row in rows] == ["1"]
        assert [(r["case_id"], r["index"]) for r in rejects] == [("3", 1), ("4", 0)]
        assert result.returncode == 1
        assert ", 1 not yet created, " in summary(result)
        assert summary(result).startswith("metrics-engine compute: 4 cases, 7 events, ")


def test_every_case_created_after_as_of_is_a_clean_run(tmp_path: Path) -> None:
    """A month-end snapshot over a later export: nothing is wrong, exit 0."""
    write(tmp_path / "in.jsonl", [{"case": 5, "event": "created", "at": "2026-04-02T10:00:00Z"}])
    result = run("in.jsonl", "--as-of", "2026-03-31T23:59:59Z", "--out", "o.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o.jsonl").read_bytes() == b""
    assert (tmp_path / "o.jsonl.rejects.jsonl").read_bytes() == b""
    assert summary(result) == (
        f"metrics-engine compute: 1 cases, 1 events, 0 rows written, 0 rejects (0 cases, "
        "0 lines), 1 not yet created, 0 events skipped by --lenient, "
        f"as_of 2026-03-31T23:59:59+00:00, holidays {me_holidays()}"
    )


def me_holidays() -> str:
    import holidays

    return str(holidays.__version__)


def test_events_skipped_by_lenient_are_counted(tmp_path: Path) -> None:
    """Two unknown kinds in case 1, one in case 2: 3 skipped (strict: both rejected)."""
    write(
        tmp_path / "in.jsonl",
        [
            {"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"},
            {"case": 1, "event": "tagged", "at": "2026-03-02T10:01:00Z"},
            {"case": 2, "event": "created", "at": "2026-03-02T10:00:00Z"},
            {"case": 1, "event": "merged", "at": "2026-03-02T10:02:00Z"},
            {"case": 2, "event": "rated", "at": "2026-03-02T10:03:00Z"},
        ],
    )
    for workers in ("1", "2"):
        result = run("in.jsonl", "--lenient", "--workers", workers, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert ", 0 not yet created, 3 events skipped by --lenient, " in summary(result)
    result = run("in.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert ", 0 events skipped by --lenient, " in summary(result)
