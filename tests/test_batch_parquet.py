"""``metrics-engine compute --format parquet``: the rows of the JSON Lines output, typed, in a
Parquet file of ``metrics_engine.arrow.schema()``; refused where a Parquet file cannot go
(exit 2), and committed with the other outputs: a run that fails leaves the old file.

Skipped without pyarrow, except under ``METRICS_ENGINE_REQUIRE_ARROW=1`` (as in CI).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me
from metrics_engine._batch import outputs as batch_outputs
from metrics_engine._batch.command import run_compute
from metrics_engine._batch.inputs import BatchError
from metrics_engine._batch.options import ComputeOptions, Hooks
from metrics_engine._batch.outputs import OutputPair, ParquetOutput, _AtomicFile
from metrics_engine._batch.targets import plan_outputs
from metrics_engine._columns import COLUMNS

_REASON = "needs the arrow extra (pyarrow): pip install -e '.[arrow]'"
if os.environ.get("METRICS_ENGINE_REQUIRE_ARROW") == "1":
    import pyarrow as pa  # a missing pyarrow fails here: CI requires these tests to run
else:
    pa = pytest.importorskip("pyarrow", reason=_REASON)
import pyarrow.parquet as pq  # noqa: E402 - only once pyarrow is known to be there

from metrics_engine import arrow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Where the build under test lives (the checkout, or site-packages for an installed build):
# the commands run in subprocesses import that one.
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent
PREVIOUS = b"previous run\n"

# Case 17 (an integer id) answered and resolved by agent 5; case "17x" answered by agent "5"
# and still open. In every output both users are the text "5" and both case ids text.
EVENTS = [
    {"case": 17, "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": 900, "role": "customer"}},
    {"case": "17x", "event": "created", "at": "2026-03-02T10:00:00Z",
     "actor": {"id": "c-1", "role": "customer"}},
    {"case": "17", "event": "message", "at": "2026-03-02T10:05:00Z",
     "actor": {"id": 5, "role": "agent"}},
    {"case": "17x", "event": "message", "at": "2026-03-02T10:06:00Z",
     "actor": {"id": "5", "role": "agent"}},
    {"case": 17, "event": "update", "at": "2026-03-02T10:07:00Z",
     "actor": {"id": 5, "role": "agent"}, "changes": {"status": "COMPLETED"}},
]  # fmt: skip


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, preexec: Any = None
) -> subprocess.CompletedProcess[bytes]:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PACKAGE_PARENT), environ.get("PYTHONPATH")])
    )
    environ["TMPDIR"] = str(cwd)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "metrics_engine", "compute", *args],
        capture_output=True,
        cwd=cwd,
        env=environ,
        timeout=60,
        check=False,
        preexec_fn=preexec,
    )


def write(path: Path, events: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))


def error(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = [line for line in result.stderr.decode().splitlines() if "warning" not in line]
    assert len(lines) == 1, result.stderr.decode()
    return lines[0]


def as_json_values(row: dict[str, Any]) -> dict[str, Any]:
    """A row read from Parquet, written as the JSON Lines output writes it."""
    return {
        key: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def jsonl_timestamp(text: str) -> str:
    return text.replace("+00:00", "Z")


@pytest.mark.parametrize("grouped", [False, True])
def test_parquet_rows_are_the_jsonl_rows_typed(tmp_path: Path, grouped: bool) -> None:
    events = sorted(EVENTS, key=lambda e: str(e["case"])) if grouped else EVENTS
    write(tmp_path / "in.jsonl", events)
    mode = ["--grouped"] if grouped else []
    assert run("in.jsonl", *mode, "--out", "o.jsonl", cwd=tmp_path).returncode == 0
    tables = []
    for workers in ("1", "2"):
        result = run(
            "in.jsonl", *mode, "-f", "parquet", "--workers", workers,
            "--out", f"o{workers}.parquet", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        tables.append(pq.read_table(tmp_path / f"o{workers}.parquet"))
    assert tables[0].equals(tables[1])  # 1 worker or 2: the same file contents
    table = tables[0]
    # arrow.schema(), as Parquet stores it: timestamps of whole seconds kept in milliseconds
    # (docs/arrow.md), the same names, nullability and metadata.
    stored = pa.schema(
        [
            field.with_type(pa.timestamp("ms", tz="UTC"))
            if field.type == pa.timestamp("s", tz="UTC")
            else field
            for field in arrow.schema()
        ],
        metadata=arrow.schema().metadata,
    )
    assert table.schema.equals(stored, check_metadata=True)
    assert table.column_names == [column.name for column in COLUMNS]
    rows = table.to_pylist()
    expected = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(rows) == len(expected) == 2
    for row, want in zip(rows, expected, strict=True):
        got = as_json_values(row)
        want = {k: jsonl_timestamp(v) if isinstance(v, str) and k.endswith("_at") else v
                for k, v in want.items()}  # fmt: skip
        assert got == want
    # Checked by hand: ids are text, timestamps UTC datetimes, integers ints, flags bools,
    # absent values real nulls.
    first, second = rows
    assert (first["case_id"], second["case_id"]) == ("17", "17x")
    assert (first["last_replier"], second["last_replier"]) == ("5", "5")
    assert first["resolved_by"] == "5"
    assert second["resolved_by"] is None
    assert first["last_reply_by_agent_at"] == datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    assert second["last_reply_by_agent_at"] == datetime(2026, 3, 2, 10, 6, tzinfo=UTC)
    assert first["last_reply_by_agent_at"].utcoffset().total_seconds() == 0
    assert first["agent_first_calendar_response_time"] == 300
    assert second["agent_first_calendar_response_time"] == 360
    assert first["resolution_calendar_time"] == 420
    assert second["resolution_calendar_time"] is None
    assert first["agent_first_business_response_time"] is None  # no calendar: absent
    flags = [c.name for c in COLUMNS if c.kind == "flag"]
    assert all(type(row[name]) is bool for row in rows for name in flags)


def test_the_exit_2_cases_write_nothing(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", EVENTS)
    result = run("in.jsonl", "-f", "parquet", cwd=tmp_path)
    assert result.returncode == 2
    assert error(result) == (
        "metrics-engine: error: --format parquet: expected --out FILE (a regular file), found "
        "stdout: a Parquet file is written whole and renamed into place"
    )
    assert result.stdout == b""
    result = run("in.jsonl", "-f", "parquet", "--out", "/dev/null", cwd=tmp_path)
    assert result.returncode == 2
    assert "found the device or pipe /dev/null" in error(result)
    result = run(
        "in.jsonl", "-f", "parquet", "--out", "o.parquet", "--absent", "zero", cwd=tmp_path
    )
    assert result.returncode == 2
    assert error(result) == (
        "metrics-engine: error: --absent zero: expected the default (null) with --format "
        "parquet, found zero: Parquet has real nulls"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_no_pyarrow_is_exit_2_naming_the_extra(tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    (fake / "pyarrow").mkdir(parents=True)
    (fake / "pyarrow" / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    work = tmp_path / "work"
    work.mkdir()
    write(work / "in.jsonl", EVENTS)
    (work / "o.parquet").write_bytes(PREVIOUS)
    result = run(
        "in.jsonl", "-f", "parquet", "--out", "o.parquet", cwd=work,
        env={"PYTHONPATH": os.pathsep.join([str(fake), str(PACKAGE_PARENT)])},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert error(result) == (
        "metrics-engine: error: --format parquet needs pyarrow: pip install 'metrics-engine[arrow]'"
    )
    assert (work / "o.parquet").read_bytes() == PREVIOUS
    # JSON Lines never needs it.
    path = os.pathsep.join([str(fake), str(PACKAGE_PARENT)])
    assert run("in.jsonl", "--out", "o.jsonl", cwd=work, env={"PYTHONPATH": path}).returncode == 0


def test_with_sla_the_sla_results_stay_json_lines(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", EVENTS)
    policy = {"title": "p", "targets": [{
        "type": "FIRST_REPLY_TIME", "goal_in_seconds": 3600, "operational_hours": "CALENDAR_HOURS"
    }]}  # fmt: skip
    (tmp_path / "sla.json").write_text(json.dumps(policy))
    result = run(
        "in.jsonl", "-f", "parquet", "--out", "o.parquet", "--sla", "sla.json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "o.parquet.sla.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["case_id"] for line in lines] == ["17", "17x"]
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 2


def test_a_full_disk_at_finish_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Parquet file cannot reach the disk (its fsync fails): nothing is committed, the
    old rows and rejects stay, no temp file is left."""
    write(tmp_path / "in.jsonl", EVENTS)
    (tmp_path / "o.parquet").write_bytes(PREVIOUS)
    (tmp_path / "o.parquet.rejects.jsonl").write_bytes(PREVIOUS)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if (
            os.readlink(f"/proc/self/fd/{fd}").endswith(".partial")
            and "o.parquet." in (os.readlink(f"/proc/self/fd/{fd}"))
            and "rejects" not in os.readlink(f"/proc/self/fd/{fd}")
        ):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = str(tmp_path / "o.parquet")
    options = ComputeOptions(
        inputs=[str(tmp_path / "in.jsonl")], out=out, format="parquet", quiet=True,
        hooks=Hooks(temp_root=str(tmp_path)),
    )  # fmt: skip
    with pytest.raises(BatchError) as failed:
        run_compute(options)
    assert str(failed.value) == (
        f"cannot write {out}: No space left on device; nothing was written "
        f"({out} and {out}.rejects.jsonl left as they were)"
    )
    assert (tmp_path / "o.parquet").read_bytes() == PREVIOUS
    assert (tmp_path / "o.parquet.rejects.jsonl").read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.jsonl", "o.parquet", "o.parquet.rejects.jsonl"
    ]  # fmt: skip


def test_a_failed_rename_leaves_the_previous_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are renamed last: should their rename fail, the old file stays, the message says
    what was written, and discarding removes the temp file."""
    (tmp_path / "o.parquet").write_bytes(PREVIOUS)
    rows_target, rejects_target = plan_outputs(str(tmp_path / "o.parquet"), None, [])
    pair = OutputPair(ParquetOutput(rows_target), _AtomicFile(rejects_target))
    case = me.compute_batch([{"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"}]).rows[0]
    pair.write_row(pickle.dumps(tuple(case[c.name] for c in COLUMNS)))
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        if target.endswith("o.parquet"):
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(BatchError) as failed:
        pair.commit()
    pair.discard()
    rejects = tmp_path / "o.parquet.rejects.jsonl"
    assert str(failed.value) == (
        f"cannot write {tmp_path / 'o.parquet'}: Permission denied; rejects written in full "
        f"to {rejects}; {tmp_path / 'o.parquet'} left as it was"
    )
    assert (tmp_path / "o.parquet").read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.parquet", "o.parquet.rejects.jsonl"]
    assert batch_outputs.PARQUET_NEEDS.endswith("pip install 'metrics-engine[arrow]'")
    assert pa.__version__  # the module under test is the real pyarrow
