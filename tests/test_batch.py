"""Unit and property tests of the ``metrics_engine._batch`` package, in process.

The end-to-end behaviour of the command is in ``test_cli.py``; here: the cheap extraction
against a full parse, the latest-``at`` shortcut against an exact scan, the paths that only
show on big or broken inputs (re-split partitions, spilled rejects, the exact rescan),
interruption, and JSON backends giving identical bytes.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine._batch import interleaved
from metrics_engine._batch import scan as line_scan
from metrics_engine._batch.cases import Job
from metrics_engine._batch.command import run_compute
from metrics_engine._batch.grouped import NotGroupedError, scan_grouped, streamed_cases
from metrics_engine._batch.inputs import (
    BatchError,
    InputLines,
    check_sources,
    load_calendar,
    locate,
)
from metrics_engine._batch.lines import (
    RESCAN,
    LatestAt,
    exact_latest_at,
    extract_cheap,
    extract_std,
    orjson,
    read_event_fast,
    read_event_std,
)
from metrics_engine._batch.options import ComputeOptions, Hooks, Tuning
from metrics_engine._batch.outputs import COLUMNS
from metrics_engine._batch.run import Progress, Run
from metrics_engine._cli import main
from metrics_engine._events import parse_instant

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


# ---------------------------------------------------------------------------- extraction

_TRICKY = st.sampled_from(
    ["a", "Z", " ", '"', "\\", "é", "\n", "\u2028", ":", ",", "{", "}", "case", "at", '"case":']
)
_text = st.lists(_TRICKY, max_size=6).map("".join)
_keys = st.sampled_from(["case", "at", "event", "changes", "x", 'a"case', 'case"', "at\\"])
_instants = st.builds(
    lambda second, zone: (
        (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=second)).astimezone(zone).isoformat()
    ),
    st.integers(0, 10**8),
    st.sampled_from([UTC, *(datetime.now(UTC).astimezone().tzinfo,)]),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
    _instants,
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def event_lines(draw: st.DrawFn) -> bytes:
    obj = draw(st.dictionaries(_keys, _values, max_size=5))
    if draw(st.booleans()):
        obj["case"] = draw(st.one_of(st.integers(-(2**70), 2**70), _text, _scalars))
    if draw(st.booleans()):
        obj["at"] = draw(st.one_of(_instants, _scalars))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=separators)
    if draw(st.booleans()):  # keys spelled with escapes are the same keys
        text = text.replace('"case"', '"c\\u0061se"', draw(st.integers(1, 2)))
    if draw(st.booleans()):
        text = text.replace('"at"', '"\\u0061t"', 1)
    return (text + draw(st.sampled_from(["\n", "\r\n", ""]))).encode()


@given(event_lines())
def test_cheap_extraction_agrees_with_json_on_every_event(line: bytes) -> None:
    obj, key, error = read_event_std(line)
    cheap_key, cheap_at, cheap_error, _ = extract_cheap(line)
    if error is not None:
        return  # not an event: the worker rejects the line, whatever the guess
    assert cheap_error is None
    assert cheap_key == key
    at = obj.get("at")
    try:
        parse_instant(at, "at")
    except me.MetricsEngineError:
        return  # not an instant: the event is rejected, its at does not count
    assert cheap_at == at


def hot_loop(
    lines: list[bytes], *, fast: bool, latest: LatestAt | None = None
) -> tuple[list[tuple[int, str]], list[int]]:
    """The parent's hot loop over these lines: (ordinal, case id) of events, rejected ordinals."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.jsonl")
        with open(path, "wb") as handle:
            handle.writelines(line if line.endswith(b"\n") else line + b"\n" for line in lines)
        hooks = Hooks(temp_root=folder)
        run = Run(Job(mode="compute", fast=fast), 1, quiet=True, hooks=hooks)
        try:
            lines_ = InputLines(check_sources([path]))
            keyed = [(o, key) for o, key, _, _ in line_scan.event_lines(run, lines_, latest)]
            return keyed, [record[0] for record in run.rejected.read()]
        finally:
            run.close()


BACKENDS = [False, *([True] if orjson is not None else [])]


@given(st.lists(event_lines(), min_size=1, max_size=4))
def test_hot_loop_finds_the_case_of_every_event(lines: list[bytes]) -> None:
    expected = [
        (number, key)
        for number, (_, key, error) in enumerate(map(read_event_std, lines), 1)
        if error is None
    ]
    for fast in BACKENDS:
        keyed, rejected = hot_loop(lines, fast=fast)
        if fast:  # orjson or json parsed every line: exact
            assert keyed == expected
            assert len(keyed) + len(rejected) == len(lines)
        else:  # the byte search may let a line that is no event through: the worker rejects it
            assert [k for k in keyed if k in expected] == expected


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b'{"case": -0, "at": "x"}', "0"),
        (b'{"case": 123456789012345678901234567890}', "123456789012345678901234567890"),
        (b'{"case": "17"}', "17"),
        (b'{"case":17}', "17"),
        (b'{"case": 17.0}', None),
        (b'{"case": true}', None),
        (b'{"case": null}', None),
        (b'{"subject": "case"}', None),
        (b'[{"case": 1}]', None),
        (b'{"case": "caf\\u00e9"}', "café"),
        (b'{"c\\u0061se": 3, "x": {"case": 4}}', "3"),
    ],
)
def test_case_keys(line: bytes, key: str | None) -> None:
    if key is not None or line.startswith(b"{"):
        # (on a line that is no event object the byte search may guess: the worker rejects it)
        assert extract_cheap(line)[0] == key
    assert extract_std(line)[0] == key
    assert read_event_std(line)[1] == key
    if orjson is not None:
        assert read_event_fast(line)[1] == key


def test_line_errors_are_one_line_and_say_why() -> None:
    assert read_event_std(b'{"case": 1, "at": "2026-\n')[2] == (
        "not JSON: Unterminated string starting at: line 1 column 19 (char 18)"
    )
    assert read_event_std(b"[1]\n")[2] == ("expected a JSON object (one event), found a JSON array")
    assert read_event_std(b'{"at": 1}')[2] == ("field 'case': expected a case id, found nothing")
    assert read_event_std(b"[" * 100_000)[2] == (
        "not JSON this reader accepts: expected at most about 1,000 nested levels, found more"
    )
    # An integer beyond int()'s default limit of digits: one line, no advice about Python.
    huge = b'{"case": ' + b"7" * 5000 + b', "event": "created", "at": "2026-03-02T10:00:00Z"}'
    expected = (
        "not JSON this reader accepts: expected numbers of at most 4300 digits, found a longer one"
    )
    assert read_event_std(huge)[2] == expected
    assert extract_cheap(huge)[2] == expected  # the byte search defers to json
    if orjson is not None:
        assert read_event_fast(huge)[2] == expected
    assert read_event_std(b'{"case": [1]}')[2] == (
        "field 'case': expected a string or integer id, found list [1]"
    )


# ---------------------------------------------------------------------------- latest at

_spellings = st.sampled_from(["Z", "+00:00", "-05:00", "+05:30", ".75Z", " +01:00", "bad"])


@st.composite
def at_lines(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(draw(st.integers(1, 12))):
        second = draw(st.integers(0, 10**6))
        spelling = draw(_spellings)
        moment = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=second)
        if spelling == "bad":
            at = draw(st.sampled_from(["2026-13-01T00:00:00Z", "2026-03-02T10:00:00", "soon"]))
        elif spelling == ".75Z":
            at = moment.strftime("%Y-%m-%dT%H:%M:%S") + ".75Z"
        elif spelling == " +01:00":
            at = moment.astimezone(_zone(60)).strftime("%Y-%m-%d %H:%M:%S") + "+01:00"
        else:
            minutes = {"Z": 0, "+00:00": 0, "-05:00": -300, "+05:30": 330}[spelling]
            at = moment.astimezone(_zone(minutes)).strftime("%Y-%m-%dT%H:%M:%S") + spelling
        line = json.dumps({"case": 1, "event": "note", "at": at}).encode()
        if draw(st.integers(0, 5)) == 0:
            line = line[:-1]  # cut off: not an event, its at must not count
        out.append((at, line))
    return out


def _zone(minutes: int) -> Any:
    from datetime import timezone

    return timezone(timedelta(minutes=minutes))


@given(at_lines())
def test_latest_at_is_exact(items: list[tuple[str, bytes]]) -> None:
    lines = [line for _, line in items]
    exact = exact_latest_at(lines)
    for fast in BACKENDS:
        latest = LatestAt()
        hot_loop(lines, fast=fast, latest=latest)
        assert latest.result() in (exact, RESCAN)


def test_locate() -> None:
    files = [(1, "a"), (4, "b"), (4, "empty-then-c"), (10, "d")]
    assert locate(files, 1) == ("a", 1)
    assert locate(files, 3) == ("a", 3)
    assert locate(files, 4) == ("empty-then-c", 1)
    assert locate(files, 12) == ("d", 3)


# ---------------------------------------------------------------------------- grouped boundaries

_GROUP_IDS = st.sampled_from([1, 2, "2", 3, "x"])


def _event(case: object) -> bytes:
    return json.dumps({"case": case, "event": "note", "at": "2026-03-02T10:00:00Z"}).encode()


# Lines that are no event but in which the byte search finds a case id.
_NOISE = [
    lambda case: _event(case)[:-8],  # cut off mid-write
    lambda case: json.dumps({"meta": {"case": case}, "event": "note"}).encode(),  # nested id
    lambda case: json.dumps([{"case": case}]).encode(),  # an array
    lambda case: b'{"case": ' + json.dumps(case).encode() + b", }",  # a trailing comma
]


@st.composite
def grouped_input(draw: st.DrawFn) -> list[bytes]:
    """Events grouped by case (ids may repeat: 2 and "2" are one case), noise anywhere."""
    lines = [
        _event(case)
        for case in draw(st.lists(_GROUP_IDS, min_size=1, max_size=4))
        for _ in range(draw(st.integers(1, 3)))
    ]
    for _ in range(draw(st.integers(0, 3))):
        noise = draw(st.sampled_from(_NOISE))(draw(_GROUP_IDS))
        lines.insert(draw(st.integers(0, len(lines))), noise)
    return lines


def _grouped_parent(lines: list[bytes], *, fast: bool, scan: bool) -> tuple[object, list[int]]:
    """The parent's side of --grouped: (case starts, or the error) and the lines it rejected.

    ``scan``: the first pass (no --as-of); else the one pass with --as-of and a pool.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.jsonl")
        with open(path, "wb") as handle:
            handle.writelines(line + b"\n" for line in lines)
        hooks = Hooks(temp_root=folder)
        run = Run(Job(mode="compute", fast=fast), 1, quiet=True, hooks=hooks)
        try:
            lines_ = InputLines(check_sources([path]))
            starts: object
            try:
                if scan:
                    starts = list(scan_grouped(run, lines_)[0])
                else:
                    cases = streamed_cases(run, lines_, keep_parsed=False)
                    starts = [case[0][0] for case, _ in cases]
            except NotGroupedError as error:
                starts = error.detail
            return starts, [record[0] for record in run.rejected.read()]
        finally:
            run.close()


@given(grouped_input())
def test_grouped_case_boundaries_are_exact_on_both_backends(lines: list[bytes]) -> None:
    """A line that is no event never starts a case, nor repeats one (it is rejected)."""
    keys = [(n, read_event_std(line)[1]) for n, line in enumerate(lines, 1)]
    events = [(n, key) for n, key in keys if key is not None]
    order = [key for n, (_, key) in enumerate(events) if n == 0 or key != events[n - 1][1]]
    starts = [n for i, (n, key) in enumerate(events) if i == 0 or key != events[i - 1][1]]
    not_events = {n for n, key in keys if key is None}
    for fast in BACKENDS:
        for scan in (True, False):
            found, rejected = _grouped_parent(lines, fast=fast, scan=scan)
            if len(order) == len(set(order)):
                assert found == starts
            else:  # a case appears again after another: the run stops
                assert isinstance(found, str)
                assert "--grouped: expected each case's events together" in found
            assert set(rejected) <= not_events
            assert not set(rejected) & set(starts)


@pytest.mark.parametrize("as_of", [None, "2026-01-06T00:00:00Z"])
@pytest.mark.parametrize(
    "broken",
    [
        '{"case": 1, "event": "message", "at": "2026-01-05T09:1',  # cut off mid-write
        '{"meta": {"case": 1}, "event": "note", "at": "2026-01-05T09:05:00Z"}',  # no case id
    ],
)
def test_grouped_broken_line_naming_an_earlier_case_is_rejected_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, as_of: str | None
) -> None:
    """Review 8, finding 1: the byte search took such a line for case 1 "appearing again"."""
    lines = [
        '{"case": 1, "event": "created", "at": "2026-01-05T09:00:00Z"}',
        '{"case": 2, "event": "created", "at": "2026-01-05T09:01:00Z"}',
        broken,
        '{"case": 2, "event": "message", "at": "2026-01-05T09:10:00Z", '
        '"actor": {"id": 3, "role": "agent"}}',
    ]
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(lines) + "\n")
    flags = [] if as_of is None else ["--as-of", as_of]
    results = {}
    for backend in ("json", "orjson"):
        monkeypatch.setenv("METRICS_ENGINE_JSON", backend)
        for mode in ([], ["--grouped"]):
            name = f"{backend}{'-'.join(['', *mode])}.jsonl"
            results[backend, bool(mode)] = _compute(tmp_path, str(path), *mode, *flags, name=name)
    assert len(set(results.values())) == 1, results
    status, out, rejects = results["json", True]
    assert status == 1
    assert [json.loads(row)["case_id"] for row in out.splitlines()] == ["1", "2"]
    reject = json.loads(rejects)
    assert (reject["case_id"], reject["file"], reject["line"]) == (None, str(path), 3)


# ---------------------------------------------------------------------------- in-process runs


def _mixed_lines() -> list[str]:
    events = (EXAMPLES / "events.jsonl").read_text().splitlines()[:1500]
    bad = ["not json", '{"at": "2026-01-01T00:00:00Z"}', "", "   ", '{"case": 1.5}']
    out = []
    for number, line in enumerate(events):
        out.append(line)
        if number % 97 == 0:
            out.append(bad[number % len(bad)])
    return out


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(_mixed_lines()) + "\n")
    return path


def _compute(
    tmp_path: Path, *args: str, name: str = "out.jsonl", tuning: Tuning | None = None
) -> tuple[int, bytes, bytes]:
    """The command in process, its temp files in the folder of :func:`_own_tmpdir`."""
    status = main(
        ["compute", *args, "--out", str(tmp_path / name), "--quiet", "--workers", "1"],
        tuning=tuning,
        hooks=_hooks(tmp_path),
    )
    out = tmp_path / name
    rejects = tmp_path / f"{name}.rejects.jsonl"
    return (
        status,
        out.read_bytes() if out.exists() else b"",
        rejects.read_bytes() if rejects.exists() else b"",
    )


def _hooks(tmp_path: Path) -> Hooks:
    """Batch temp files go to a folder the test can inspect (see :func:`_own_tmpdir`)."""
    return Hooks(temp_root=str(tmp_path / "tmp"))


@pytest.fixture(autouse=True)
def _own_tmpdir(tmp_path: Path) -> Iterator[Path]:
    """The folder of :func:`_hooks`: every run must leave it empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    yield folder
    assert list(folder.iterdir()) == []  # every run cleans up after itself


def test_resplit_partitions_give_the_same_output(
    tmp_path: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normal = _compute(tmp_path, str(mixed), name="a.jsonl")
    pieces: list[int] = []
    real = interleaved.Partitions

    def spy(folder: str, count: int, salt: int = 0) -> interleaved.Partitions:
        pieces.append(count)
        return real(folder, count, salt)

    monkeypatch.setattr(interleaved, "Partitions", spy)  # a spy: it only counts
    tuning = Tuning(max_partitions=1, partition_bytes=4096)
    resplit = _compute(tmp_path, str(mixed), name="b.jsonl", tuning=tuning)
    assert pieces[0] == 1  # one partition, far too large: split again
    assert pieces[1] > 10
    assert resplit == normal
    assert normal[0] == 1


def test_spilled_parent_rejects_give_the_same_output(tmp_path: Path, mixed: Path) -> None:
    normal = _compute(tmp_path, str(mixed), name="a.jsonl")
    tuning = Tuning(parent_rejects_in_memory=2)
    spilled = _compute(tmp_path, str(mixed), name="b.jsonl", tuning=tuning)
    assert spilled == normal
    assert normal[2].count(b"\n") == 10  # the non-blank bad lines


@pytest.mark.parametrize("grouped", [False, True])
def test_backends_give_identical_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grouped: bool
) -> None:
    big = 2**70
    lines = [
        {"case": big, "event": "created", "at": "2026-03-02T10:00:00Z",
         "actor": {"id": 2**65, "role": "customer"}},
        {"case": big, "event": "message", "at": "2026-03-02T10:05:00Z",
         "actor": {"id": 2**66, "role": "agent"}},
        {"case": "s\ud800", "event": "created", "at": "2026-03-02T10:00:00Z"},
        {"case": 3, "event": "created", "at": "2026-03-02T10:00:00Z", "x": float("nan")},
        {"case": 4, "event": "created", "at": "2026-03-02T10:00:00Z", "priority": 1.5},
        {"case": 5, "event": "created", "at": "2026-03-02T10:00:00Z",
         "fields": {"priority": 2**64}},
    ]  # fmt: skip
    text = "\n".join(json.dumps(line) for line in lines) + "\n\ufeff{}\n"
    path = tmp_path / "odd.jsonl"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    flags = ["--grouped"] if grouped else []
    results = []
    for backend in ("json", "orjson"):
        monkeypatch.setenv("METRICS_ENGINE_JSON", backend)
        results.append(_compute(tmp_path, str(path), *flags, name=f"{backend}.jsonl"))
    assert results[0] == results[1]
    rows = [json.loads(row) for row in results[0][1].splitlines()]
    assert rows[0]["case_id"] == str(big)  # ids as text, however long
    assert rows[0]["last_replier"] == str(2**66)
    assert [row["case_id"] for row in rows] == [str(big), "s\ud800", "3", "4", "5"]


def test_rescan_when_the_latest_at_is_not_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        '{"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"}',
        '{"case": 1, "event": "note", "at": "2027-01-01T00:00:00Z", "cut',  # not JSON
        '{"case": 2, "event": "created", "at": "2026-13-01T00:00:00Z"}',  # no such month
        '{"case": 3, "event": "created", "x": {"at": "2028-01-01T00:00:00Z"}}',  # nested at
        '{"case": 4, "event": "created", "at": "2026-03-02T11:00:00+01:00"}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for backend in ("json", "orjson"):
        monkeypatch.setenv("METRICS_ENGINE_JSON", backend)
        for flags in ([], ["--grouped"]):
            summary = run_compute(
                ComputeOptions(
                    inputs=[str(path)], out=str(tmp_path / "o.jsonl"), quiet=True, workers=1,
                    grouped=bool(flags), hooks=_hooks(tmp_path),
                )
            )  # fmt: skip
            assert summary.as_of == "2026-03-02T10:00:00+00:00"
            assert (summary.rows, summary.case_rejects, summary.line_rejects) == (2, 2, 1)


def test_interrupt_leaves_nothing(
    tmp_path: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "out.jsonl").write_text("previous\n")
    calls = []

    metrics = me.CaseReplay.metrics

    def interrupted(self: me.CaseReplay, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return metrics(self, *args, **kwargs)

    monkeypatch.setattr(me.CaseReplay, "metrics", interrupted)
    status, out, rejects = _compute(tmp_path, str(mixed))
    assert status == 130
    assert out == b"previous\n"
    assert rejects == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "tmp"]


def test_a_library_bug_rejects_the_case_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = me.CaseReplay.metrics

    def buggy(self: me.CaseReplay, *args: Any, **kwargs: Any) -> Any:
        if self.case == 2:
            raise TypeError("oops")
        return metrics(self, *args, **kwargs)

    monkeypatch.setattr(me.CaseReplay, "metrics", buggy)
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(
            json.dumps({"case": case, "event": "created", "at": "2026-03-02T10:00:00Z"}) + "\n"
            for case in (1, 2, 3)
        )
    )
    status, out, rejects = _compute(tmp_path, str(path))
    assert status == 1
    assert out.count(b"\n") == 2
    reject = json.loads(rejects)
    assert reject["case_id"] == "2"
    assert reject["error"].startswith("internal error (TypeError: oops)")


def test_empty_and_blank_input(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n  \r\n\n")
    summary = run_compute(
        ComputeOptions(
            inputs=[str(path)], out=str(tmp_path / "o.csv"), format="csv", hooks=_hooks(tmp_path)
        )
    )
    assert (summary.cases, summary.events, summary.rejects, summary.exit_code) == (0, 0, 0, 0)
    assert summary.as_of is None
    assert "as_of none" in summary.line()
    assert (tmp_path / "o.csv").read_text() == ",".join(COLUMNS) + "\n"


def test_crlf_lines(tmp_path: Path) -> None:
    event = {"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"}
    (tmp_path / "in.jsonl").write_bytes(json.dumps(event).encode() + b"\r\n")
    status, out, rejects = _compute(tmp_path, str(tmp_path / "in.jsonl"))
    assert (status, rejects) == (0, b"")
    assert json.loads(out)["case_id"] == "1"


def test_output_file_mode_follows_the_umask(tmp_path: Path) -> None:
    event = {"case": 1, "event": "created", "at": "2026-03-02T10:00:00Z"}
    (tmp_path / "in.jsonl").write_text(json.dumps(event) + "\n")
    _compute(tmp_path, str(tmp_path / "in.jsonl"))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.jsonl").stat().st_mode & 0o777 == 0o666 & ~umask


class _Terminal(io.StringIO):
    """A progress stream that says it is a terminal; ``taken()`` is what came since last time."""

    def isatty(self) -> bool:
        return True

    def taken(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def test_progress_only_on_a_terminal_after_two_seconds() -> None:
    clock = [100.0]
    terminal = _Terminal()
    hooks = Hooks(clock=lambda: clock[0], progress_stream=terminal)
    progress = Progress(enabled=True, hooks=hooks)
    progress.update("reading", 1000, 0)
    assert terminal.taken() == ""  # not yet 2 s
    clock[0] = 104.0
    progress.update("reading", 4000, 3)
    assert terminal.taken() == "\rreading: 4,000 lines read, 3 cases done, 1,000 lines/s\x1b[K"
    progress.clear()
    assert terminal.taken() == "\r\x1b[K"
    quiet = Progress(enabled=False, hooks=hooks)
    clock[0] = 200.0
    quiet.update("reading", 1, 1)
    assert terminal.taken() == ""
    pipe = io.StringIO()  # no terminal: never a progress line
    piped = Progress(enabled=True, hooks=Hooks(clock=hooks.clock, progress_stream=pipe))
    clock[0] = 300.0
    piped.update("reading", 1, 1)
    assert pipe.getvalue() == ""


def test_load_calendar_errors(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match="found both"):
        load_calendar("a", team_calendars="b")
    with pytest.raises(BatchError, match="--timezone"):
        load_calendar(timezone="UTC")
    (tmp_path / "k.json").write_text(json.dumps({"zones": "not json"}))
    with pytest.raises(BatchError, match=r"calendar .*k\.json"):
        load_calendar(str(tmp_path / "k.json"), timezone="UTC")
    assert load_calendar() is None


def test_core_modules_do_not_import_the_batch_layer() -> None:
    """Dependencies run one way: only the I/O modules (see test_layering) touch files, and
    no other module imports the batch layer."""
    import ast

    from tests.test_layering import rule_of

    for path in (ROOT / "metrics_engine").glob("_*.py"):
        rule = rule_of(path.stem)
        if (rule is not None and rule.io) or path.name in ("__init__.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("metrics_engine._batch", "metrics_engine._cli")), (
                    f"{path.name} imports {name}"
                )
