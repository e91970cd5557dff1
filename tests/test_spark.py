"""metrics_engine.spark on a real local Spark session (``local[2]``).

Several hundred generated cases, interleaved in a shuffled order and split over two files
(with ties, reopens, custom statuses, malformed cases, a line that is not JSON, a line with
no case id and a blank line) go through :func:`~metrics_engine.spark.compute_metrics_df`;
every field of every case must equal ``compute_metrics`` on the case's events in input order,
and every row and reject must equal what the ``compute`` command writes for the same files.

Without PySpark or Java these tests are skipped with the reason; with
``METRICS_ENGINE_REQUIRE_SPARK=1`` (as in CI) that reason fails them instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from benchmarks.synth import generate_cases
from metrics_engine._columns import COLUMNS
from metrics_engine._events import parse_instant
from metrics_engine._output import FIELDS
from metrics_engine._spark_input import LatestAt

ROOT = Path(__file__).resolve().parent.parent
CALENDAR = ROOT / "examples" / "calendar.json"
TEAM_CALENDARS = ROOT / "examples" / "team_calendars.json"
REQUIRE = os.environ.get("METRICS_ENGINE_REQUIRE_SPARK") == "1"
TIMESTAMPS = {column.name for column in COLUMNS if column.kind == "timestamp"}

# PySpark warns when pandas is 3.x (the `spark` extra installs 2.x; a dev venv may have 3.x).
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)


# ====================================================================== is Spark usable here?


def java_major(version_output: str) -> int | None:
    """The major version in ``java -version`` output (``1.8.0`` is 8)."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def spark_unavailable() -> str | None:
    """Why Spark cannot run here, in words that say what to install; ``None`` if it can."""
    for module in ("pyspark", "pyarrow"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install -e '.[spark]'"
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if java is None or not os.path.exists(java):
        return (
            "PySpark needs Java 17 or later and no `java` was found on PATH or in JAVA_HOME "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    try:
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"PySpark needs Java 17 or later; `{java} -version` failed: {error}"
    major = java_major(probe.stderr + probe.stdout)
    if major is None or major < 17:
        return f"PySpark needs Java 17 or later; `{java} -version` says: {probe.stderr.strip()}"
    return None


def test_java_major_reads_both_numbering_schemes() -> None:
    assert java_major('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime') == 17
    assert java_major('java version "1.8.0_392"\nJava(TM) SE Runtime') == 8
    assert java_major('openjdk version "21" 2023-09-19') == 21
    assert java_major("no java here") is None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    reason = spark_unavailable()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"METRICS_ENGINE_REQUIRE_SPARK=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    # The Python workers run this interpreter, where metrics_engine and pyarrow are installed
    # (PySpark reads PYSPARK_PYTHON when the session starts).
    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("metrics_engine tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Small blocks: each file is read by several tasks, so the input order must come
        # from the files' names and offsets, not from the order in which tasks run.
        .config("spark.sql.files.maxPartitionBytes", "65536")
        .config("spark.sql.session.timeZone", "America/New_York")  # results must not care
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if saved is None:
        del os.environ["PYSPARK_PYTHON"]
    else:
        os.environ["PYSPARK_PYTHON"] = saved


# ====================================================================== test data

NOT_EVENTS = [
    '{"case": 1, "event": "created", "at": "2026-01-01T00:00:00Z"',  # cut off mid-write
    '{"event": "note", "at": "2026-01-02T00:00:00Z"}',  # no case id
    '{"case": 4.5, "event": "note", "at": "2026-01-02T00:00:00Z"}',  # a float case id
]


def _cases(seed: int, count: int) -> list[list[dict[str, Any]]]:
    cases = list(generate_cases(count, seed=seed))
    # Malformed cases, each rejected at a known event (strict mode).
    cases[3][2]["actor"] = {"id": 5, "role": "wizard"}  # unknown role
    cases[7] = cases[7][1:]  # no created event first
    late, early = cases[11][3], cases[11][4]
    late["at"], early["at"] = early["at"], late["at"]  # `at` decreases (lenient mode sorts it)
    return cases


def _interleave(cases: list[list[dict[str, Any]]], rng: random.Random) -> list[dict[str, Any]]:
    """Every case's events in their order, the cases mixed at random."""
    slots = [number for number, events in enumerate(cases) for _ in events]
    rng.shuffle(slots)
    positions = [0] * len(cases)
    stream = []
    for number in slots:
        stream.append(cases[number][positions[number]])
        positions[number] += 1
    return stream


def _shuffle_within(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """A case's events out of order, as an unsorted export gives them (for lenient mode)."""
    shuffled = list(events)
    rng.shuffle(shuffled)
    return shuffled


def _write(folder: Path, stream: list[dict[str, Any]], rng: random.Random) -> list[Path]:
    """Two files, the first smaller (Spark reads larger files first), with the lines that are
    not events and a blank line among the events."""
    lines = [json.dumps(event) for event in stream]
    for extra in [*NOT_EVENTS, "not JSON at all", "", "[1, 2]"]:
        lines.insert(rng.randrange(len(lines)), extra)
    cut = len(lines) * 2 // 5
    paths = [folder / "part-1.jsonl", folder / "part-2.jsonl"]
    paths[0].write_text("\n".join(lines[:cut]) + "\n")
    paths[1].write_text("\n".join(lines[cut:]) + "\n")
    return paths


def _read_lines(paths: list[Path]) -> list[str]:
    return [line for path in paths for line in path.read_text().splitlines()]


class Expected:
    """What the library says for the events of some lines, read in order."""

    def __init__(
        self,
        lines: list[str],
        *,
        calendar: Any,
        as_of: str | None = None,
        strict: bool = True,
        rules: me.Rules | None = None,
        rebuild: Any = None,
    ) -> None:
        cases: dict[str, list[dict[str, Any]]] = {}
        self.line_rejects: list[str] = []
        latest: int | None = None
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                self.line_rejects.append(line)
                continue
            if rebuild is not None and isinstance(event, dict):
                event = rebuild(event)
            case = event.get("case") if isinstance(event, dict) else None
            if type(case) not in (int, str):
                self.line_rejects.append(line)
                continue
            cases.setdefault(str(case), []).append(event)
            try:
                at = parse_instant(event.get("at"), "at")
            except me.MetricsEngineError:
                continue
            latest = at if latest is None else max(latest, at)
        assert latest is not None
        self.as_of = as_of or datetime.fromtimestamp(latest, UTC).isoformat()
        self.rows: dict[str, dict[str, Any]] = {}
        self.rejects: dict[str, tuple[int | None, str]] = {}
        self.not_created: set[str] = set()
        for key, events in cases.items():
            try:
                metrics = me.compute_metrics(
                    events, calendar, as_of=self.as_of, strict=strict, rules=rules or me.Rules()
                )
            except me.MetricsEngineError as error:
                if error.detail.startswith("as_of: expected a time at or after creation"):
                    self.not_created.add(key)
                else:
                    self.rejects[key] = (error.index, error.detail)
                continue
            self.rows[key] = {"case_id": key, **{name: _plain(metrics, name) for name in FIELDS}}


def _plain(metrics: me.CaseMetrics, name: str) -> Any:
    value = getattr(metrics, name)
    if isinstance(value, datetime):
        return int(value.timestamp())
    if name in ("last_replier", "resolved_by") and value is not None:
        return str(value)
    return value


class Result:
    """A Spark output, collected: rows by case id, case rejects, line rejects."""

    def __init__(self, frame: Any) -> None:
        from pyspark.sql import functions as F

        columns = [
            F.col(name).cast("long").alias(name) if name in TIMESTAMPS else F.col(name)
            for name in frame.columns
        ]
        self.rows: dict[str, dict[str, Any]] = {}
        self.rejects: dict[str, tuple[int | None, str]] = {}
        self.line_rejects: list[tuple[str, str]] = []
        self.records: dict[str, str | None] = {}
        for row in frame.select(*columns).collect():
            values = row.asDict()
            error, index, record = (
                values.pop("error"),
                values.pop("error_index"),
                values.pop("error_record"),
            )
            case = values["case_id"]
            if error is None:
                assert case not in self.rows, f"two rows for case {case}"
                assert index is None
                assert record is None
                self.rows[case] = values
            elif case is None:
                assert index is None
                self.line_rejects.append((record, error))
            else:
                assert case not in self.rejects
                assert case not in self.rows
                assert all(values[name] is None for name in FIELDS)
                self.rejects[case] = (index, error)
                self.records[case] = record


def _assert_equal(result: Result, expected: Expected) -> None:
    assert len(expected.rows) > 200  # several hundred cases really computed
    assert set(result.rows) == set(expected.rows)
    for key, row in expected.rows.items():
        assert result.rows[key] == row, key
    assert result.rejects == expected.rejects
    assert sorted(record for record, _ in result.line_rejects) == sorted(expected.line_rejects)
    assert all(error for _, error in result.line_rejects)


# ====================================================================== the command


def _command(paths: list[Path], out: Path, *options: str) -> tuple[list[dict[str, Any]], ...]:
    rows_path, rejects_path = out / "rows.jsonl", out / "rejects.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics_engine",
            "compute",
            *map(str, paths),
            "--out",
            str(rows_path),
            "--rejects",
            str(rejects_path),
            "--workers",
            "1",
            "--quiet",
            *options,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    rejects = [json.loads(line) for line in rejects_path.read_text().splitlines()]
    return rows, rejects


def _text(value: Any) -> str | None:
    """A value as text, the same whether it came from Spark or from the command."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a user as {"id": ..., "resource_type": "user"}
        return str(value["id"])
    return str(value)


def _spark_text(name: str, value: Any) -> str | None:
    if name in TIMESTAMPS and value is not None:
        return datetime.fromtimestamp(value, UTC).isoformat()
    return _text(value)


def _assert_same_as_command(
    result: Result, rows: list[dict[str, Any]], rejects: list[dict[str, Any]]
) -> None:
    by_case = {}
    for row in rows:
        case = _text(row.get("case_id", row.get("case")))
        by_case[case] = {name: _text(row[name]) for name in FIELDS}
    assert set(by_case) == set(result.rows)
    for case, fields in by_case.items():
        spark_row = result.rows[case]
        assert {name: _spark_text(name, spark_row[name]) for name in FIELDS} == fields, case
    # A case created after as_of did not exist yet: no row and no reject (docs/batch.md). The
    # command wrote such a case as a reject before it learnt that rule: those are left out.
    case_rejects = {
        _text(reject.get("case_id", reject.get("case"))): (reject["index"], reject["error"])
        for reject in rejects
        if reject.get("case_id", reject.get("case")) is not None
        and not reject["error"].startswith("as_of: expected a time at or after creation")
    }
    assert result.rejects == case_rejects
    line_errors = sorted(
        reject["error"] for reject in rejects if reject.get("case_id", reject.get("case")) is None
    )
    assert sorted(error for _, error in result.line_rejects) == line_errors


# ====================================================================== tests


@pytest.fixture(scope="module")
def strict_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    rng = random.Random("spark strict")
    folder = tmp_path_factory.mktemp("strict")
    return _write(folder, _interleave(_cases(1, 320), rng), rng)


@pytest.fixture(scope="module")
def strict_result(spark: Any, strict_files: list[Path]) -> Result:
    from metrics_engine.spark import compute_metrics_df

    calendar = me.BusinessCalendar.from_dict(json.loads(CALENDAR.read_text()))
    frame = compute_metrics_df(spark.read.text([str(path) for path in strict_files]), calendar)
    return Result(frame)


def test_text_lines_equal_the_library(strict_result: Result, strict_files: list[Path]) -> None:
    calendar = me.BusinessCalendar.from_dict(json.loads(CALENDAR.read_text()))
    expected = Expected(_read_lines(strict_files), calendar=calendar)
    _assert_equal(strict_result, expected)
    assert set(expected.rejects) == {str(case[0]["case"]) for case in _cases(1, 12)[3:12:4]}
    assert len(strict_result.line_rejects) == len(NOT_EVENTS) + 2


def test_text_lines_equal_the_command(
    strict_result: Result, strict_files: list[Path], tmp_path: Path
) -> None:
    rows, rejects = _command(strict_files, tmp_path, "--calendar", str(CALENDAR))
    _assert_same_as_command(strict_result, rows, rejects)


def test_a_case_reject_points_at_its_event(strict_result: Result) -> None:
    bad_role = str(_cases(1, 12)[3][0]["case"])
    index, error = strict_result.rejects[bad_role]
    assert index == 2
    assert "wizard" in error
    assert json.loads(strict_result.records[bad_role] or "null")["actor"]["role"] == "wizard"


def test_lenient_team_calendars_rules_and_as_of(spark: Any, tmp_path: Path) -> None:
    from metrics_engine.spark import compute_metrics_df

    rng = random.Random("spark lenient")
    cases = [_shuffle_within(events, rng) for events in _cases(2, 300)]
    paths = _write(tmp_path, _interleave(cases, rng), rng)
    teams = me.TeamCalendars.from_dict(json.loads(TEAM_CALENDARS.read_text()))
    rules = me.Rules(resolution_time="elapsed", reopen_on_customer_message=True)
    as_of = "2025-12-02T12:00:00Z"  # before the creation of the last cases
    expected = Expected(_read_lines(paths), calendar=teams, as_of=as_of, strict=False, rules=rules)
    assert expected.not_created  # some cases did not exist yet
    frame = compute_metrics_df(
        spark.read.text([str(path) for path in paths]),
        calendar=teams,
        as_of=as_of,
        strict=False,
        rules=rules,
        partitions=3,
    )
    result = Result(frame)
    _assert_equal(result, expected)
    rows, rejects = _command(
        paths,
        tmp_path,
        "--team-calendars",
        str(TEAM_CALENDARS),
        "--as-of",
        as_of,
        "--lenient",
        "--resolution-time",
        "elapsed",
        "--reopen-on-customer-message",
    )
    _assert_same_as_command(result, rows, rejects)


def _without_nulls(value: Any) -> Any:
    """A null is an absent key, at every level."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


def _as_inferred(event: dict[str, Any]) -> dict[str, Any]:
    """What ``spark.read.json`` keeps of an event of these files: nulls are absent keys, and
    the case id is text (the files give it as a number, as text and as a float)."""
    kept = _without_nulls(event)
    if "case" in kept:
        kept["case"] = str(kept["case"])
    return kept


def test_columns_from_read_json(spark: Any, strict_files: list[Path]) -> None:
    from metrics_engine.spark import compute_metrics_df

    calendar = me.BusinessCalendar.from_dict(json.loads(CALENDAR.read_text()))
    frame = spark.read.json([str(path) for path in strict_files])
    # Schema inference merges the events: statuses given as strings and as objects become
    # one string column, ids given as numbers and as text one string column.
    assert frame.schema["changes"].dataType["status"].dataType.simpleString() == "string"
    result = Result(compute_metrics_df(frame, calendar))
    expected = Expected(_read_lines(strict_files), calendar=calendar, rebuild=_as_inferred)
    assert "4.5" in expected.rejects  # a float case id is a case here, not a broken line
    assert set(result.rows) == set(expected.rows)
    for key, row in expected.rows.items():
        assert result.rows[key] == row, key
    assert result.rejects == expected.rejects
    corrupt = dict(result.line_rejects)
    assert corrupt["not JSON at all"].startswith("not JSON")
    assert corrupt[NOT_EVENTS[0]].startswith("not JSON")


def test_order_by_a_column(spark: Any) -> None:
    from metrics_engine.spark import compute_metrics_df

    rng = random.Random("spark order_by")
    stream = _interleave(_cases(3, 250), rng)
    numbered = [(json.dumps(event), position) for position, event in enumerate(stream)]
    rng.shuffle(numbered)  # the DataFrame's own order means nothing
    frame = spark.createDataFrame(numbered, "value string, seq long").repartition(3)
    as_of = "2026-03-01T00:00:00+01:00"
    result = Result(compute_metrics_df(frame, as_of=as_of, order_by="seq", partitions=5))
    expected = Expected([json.dumps(event) for event in stream], calendar=None, as_of=as_of)
    _assert_equal(result, expected)


def test_bad_arguments_say_what_was_expected(spark: Any) -> None:
    from metrics_engine.spark import compute_metrics_df

    frame = spark.createDataFrame([("{}",)], "value string")
    with pytest.raises(me.MetricsEngineError, match="calendar: expected a BusinessCalendar"):
        compute_metrics_df(frame, calendar={"timezone": "UTC"})  # type: ignore[arg-type]
    with pytest.raises(me.MetricsEngineError, match="order_by: expected a column of events_df"):
        compute_metrics_df(frame, order_by="seq")
    with pytest.raises(me.MetricsEngineError, match="partitions: expected a positive integer"):
        compute_metrics_df(frame, partitions=0)
    with pytest.raises(me.MetricsEngineError, match="as_of: expected a time with an offset"):
        compute_metrics_df(frame, as_of="2026-01-01T00:00:00")
    with pytest.raises(me.MetricsEngineError, match="expected a string column 'value'"):
        compute_metrics_df(spark.createDataFrame([(1,)], "n long"))
    with pytest.raises(me.MetricsEngineError, match=r"expected a pyspark\.sql\.DataFrame"):
        compute_metrics_df([{"case": 1}])


def test_the_docs_example_runs(spark: Any, tmp_path: Path) -> None:
    page = (ROOT / "docs" / "spark.md").read_text()
    found = re.search(r"tests/test_spark.py runs it\) -->\n```python\n(.*?)\n```", page, re.S)
    assert found is not None
    # Spark's JVM resolves relative paths against its own working directory: make them whole.
    code = found.group(1).replace('"examples/', f'"{ROOT}/examples/')
    code = code.replace('"out/', f'"{tmp_path}/out/')
    exec(compile(code, "docs/spark.md", "exec"), {"__name__": "docs_spark"})
    lines = (ROOT / "examples" / "events.jsonl").read_text().splitlines()
    written = spark.read.parquet(str(tmp_path / "out" / "metrics.parquet"))
    assert written.count() == len({str(json.loads(line)["case"]) for line in lines})
    assert "error" not in written.columns
    rejects = [path.read_text() for path in (tmp_path / "out" / "rejects").glob("part-*")]
    assert (tmp_path / "out" / "rejects" / "_SUCCESS").exists()
    assert "".join(rejects) == ""  # every example case computes


# ====================================================================== no Spark needed

_SPELLINGS = st.sampled_from(["Z", "+00:00", "-05:00", "+05:30", "z", ".5Z", "+0100", ""])


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.datetimes(min_value=datetime(2026, 2, 27), max_value=datetime(2026, 3, 2)),
                st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
            ),
            _SPELLINGS,
            # a valid stamp, a month 13, a broken digit, the end of the day as 24:00:00
            st.sampled_from(["", "13", "x", "24"]),
        ),
        max_size=200,
    )
)
def test_latest_at_is_the_latest_valid_instant(stamps: list[tuple[datetime, str, str]]) -> None:
    texts = []
    for moment, spelling, damage in stamps:
        text = moment.isoformat(timespec="seconds") + spelling
        if damage == "13":
            text = text[:5] + "13" + text[7:]
        elif damage == "x":
            text = text[:17] + "x" + text[18:]
        elif damage == "24":
            text = text[:11] + "24:00:00" + text[19:]
        texts.append(text)
    latest = LatestAt()
    for text in texts:
        latest.note(text)
    valid = []
    for text in texts:
        with contextlib.suppress(me.MetricsEngineError):
            valid.append(parse_instant(text, "at"))
    assert latest.result() == (max(valid) if valid else None)
