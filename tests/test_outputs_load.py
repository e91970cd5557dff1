"""The batch outputs load cleanly into pandas and DuckDB, with one type per column: ids as
strings, timestamps as UTC timestamps, integers as (nullable) integers, booleans as booleans.

The examples in docs/loading.md are what a user runs; these tests run the same calls on the
command's real outputs (JSON Lines and CSV, absent values null) and check every column's type
and a few values worked out from the example data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import metrics_engine as me

ROOT = Path(__file__).resolve().parent.parent
TIMESTAMPS = [column.name for column in me.COLUMNS if column.kind == "timestamp"]
DTYPES = {column.name: column.pandas_dtype for column in me.COLUMNS if column.pandas_dtype}
SQL_TYPES = {column.name: column.sql_type for column in me.COLUMNS}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("outputs")
    found = {}
    for form in ("jsonl", "csv"):
        path = folder / f"metrics.{form}"
        subprocess.run(
            [sys.executable, "-m", "metrics_engine", "compute", "examples/events.jsonl",
             "--calendar", "examples/calendar.json", "--format", form, "--out", str(path),
             "--quiet"],
            cwd=ROOT, check=True,
        )  # fmt: skip
        found[form] = path
    return found


def test_the_column_list_says_each_type() -> None:
    assert [column.name for column in me.COLUMNS] == ["case_id", *me.FIELDS]
    kinds = {column.name: column.kind for column in me.COLUMNS}
    assert kinds["case_id"] == "id"
    assert kinds["last_replier"] == kinds["resolved_by"] == "user"
    assert kinds["resolution_at"] == "timestamp"
    assert kinds["resolution_calendar_time"] == "integer"  # a duration, despite its name
    assert kinds["was_reopened"] == "flag"
    assert SQL_TYPES["resolution_business_time"] == "BIGINT"
    assert DTYPES["agents_to_resolution"] == "Int64"


def _check_pandas(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == [column.name for column in me.COLUMNS]
    for column in me.COLUMNS:
        dtype = str(frame[column.name].dtype)
        if column.kind == "timestamp":
            assert dtype.startswith("datetime64"), column
            assert dtype.endswith(", UTC]"), column
        else:  # "string" shows as string[python] or string[pyarrow]
            assert dtype.split("[")[0] == column.pandas_dtype, column
    assert len(frame) == 300
    # every id is text; an unresolved case has no resolution time (null, not 0)
    assert all(isinstance(value, str) for value in frame["case_id"])
    unresolved = frame[frame["resolution_at"].isna()]
    assert len(unresolved) > 0
    assert unresolved["resolution_calendar_time"].isna().all()


def read_json_lines(path: Path) -> pd.DataFrame:
    """As docs/loading.md: no guessing by pandas (it would take every ``*_time`` duration for
    a date), then the column list's types."""
    frame = pd.read_json(path, lines=True, dtype=False).astype(DTYPES)
    for name in TIMESTAMPS:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def test_pandas_reads_json_lines(outputs: dict[str, Path]) -> None:
    _check_pandas(read_json_lines(outputs["jsonl"]))


def test_pandas_reads_csv(outputs: dict[str, Path]) -> None:
    frame = pd.read_csv(outputs["csv"], dtype=DTYPES, parse_dates=TIMESTAMPS)
    _check_pandas(frame)
    pd.testing.assert_frame_equal(frame, read_json_lines(outputs["jsonl"]))


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_duckdb_reads_both_forms(outputs: dict[str, Path], form: str) -> None:
    reader = "read_json" if form == "jsonl" else "read_csv"
    extra = ", header = true" if form == "csv" else ""
    relation = duckdb.sql(
        f"select * from {reader}('{outputs[form]}', columns = {SQL_TYPES!r}{extra})"
    )
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types["case_id"] == "VARCHAR"
    assert types["last_replier"] == "VARCHAR"
    assert types["resolution_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["agent_reply_count"] == "BIGINT"
    assert types["was_reopened"] == "BOOLEAN"
    [count] = duckdb.sql(
        f"select count(*), count(resolution_at), count(resolution_calendar_time) "
        f"from {reader}('{outputs[form]}', columns = {SQL_TYPES!r}{extra})"
    ).fetchall()
    assert count[0] == 300
    assert count[1] == count[2]  # a resolution time exactly where there is a resolution


def test_duckdb_infers_the_json_lines_alone(outputs: dict[str, Path]) -> None:
    """Without a column list: ids are strings in the file, so DuckDB sees text."""
    relation = duckdb.sql(f"select * from read_json_auto('{outputs['jsonl']}')")
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types["case_id"] == "VARCHAR"
    assert types["first_assignment_at"] == "TIMESTAMP WITH TIME ZONE"
    first = json.loads(outputs["jsonl"].read_text().splitlines()[0])
    assert isinstance(first["case_id"], str)
