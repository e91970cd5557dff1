"""The first pass read by the workers in byte ranges (``_batch.ranges``): the same lines, the
same ordinals, and so the same outputs as one reader, whatever the ranges cut."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_engine._batch import grouped, interleaved
from metrics_engine._batch.inputs import check_sources, line_reader
from metrics_engine._batch.options import Hooks, Tuning
from metrics_engine._batch.ranges import RangeReader, plan_ranges
from metrics_engine._cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# ---------------------------------------------------------------------------- the reader


def _whole(data: bytes, limit: int) -> list[bytes]:
    """What one reader reads: ``readline`` chunks of at most the limit and a line end."""
    return list(iter(line_reader(io.BytesIO(data), limit), b""))


def _by_ranges(data: bytes, limit: int, size: int) -> tuple[list[bytes], int]:
    chunks: list[bytes] = []
    lines = 0
    for start in range(0, max(len(data), 1), size):
        reader = RangeReader(io.BytesIO(data), limit, start, min(start + size, len(data)))
        chunks.extend(iter(reader.read, b""))
        lines += reader.lines
    return chunks, lines


_LINE = st.one_of(
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"x")),
    st.sampled_from([b"", b"\r", b" ", b'{"case": 1}', b"x" * 40]),
)


@given(
    lines=st.lists(_LINE, max_size=30),
    final_newline=st.booleans(),
    limit=st.integers(1, 50),
    size=st.integers(1, 60),
)
def test_ranges_read_every_chunk_once_in_order(
    lines: list[bytes], final_newline: bool, limit: int, size: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    chunks, counted = _by_ranges(data, limit, size)
    assert chunks == _whole(data, limit)
    # Every line start counted once: the lines of the file (a last line without its end too).
    assert counted == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def test_a_range_starting_inside_a_line_leaves_it_to_the_range_before() -> None:
    data = b"aaaa\nbbbb\ncccc\n"  # lines start at 0, 5 and 10
    first = RangeReader(io.BytesIO(data), 100, 0, 7)
    assert list(iter(first.read, b"")) == [b"aaaa\n", b"bbbb\n"]  # bbbb starts before 7
    second = RangeReader(io.BytesIO(data), 100, 7, 15)
    assert list(iter(second.read, b"")) == [b"cccc\n"]
    at_start = RangeReader(io.BytesIO(data), 100, 5, 10)  # 5 is a line start: it is ours
    assert list(iter(at_start.read, b"")) == [b"bbbb\n"]
    assert (first.lines, second.lines, at_start.lines) == (2, 1, 1)


# ---------------------------------------------------------------------------- planning


def test_ranges_are_planned_only_for_plain_files_and_several_workers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"x" * 1000)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    sources = check_sources([str(path), str(empty)])
    tuning = Tuning(parallel_scan_bytes=0, scan_range_bytes=300)
    planned = plan_ranges(sources, 2, tuning)
    assert planned is not None
    # 1000 bytes in ranges of at most 300 (and of 1000 / 8 = 125: four per worker), then the
    # empty file's one empty range.
    assert [(r.index, r.start, r.end) for r in planned] == [
        *((0, start, min(start + 125, 1000)) for start in range(0, 1000, 125)),
        (1, 0, 0),
    ]
    assert plan_ranges(sources, 1, tuning) is None  # one worker: the parent reads
    assert plan_ranges(sources, 2, Tuning()) is None  # 1,000 bytes: not worth a pool
    packed = tmp_path / "in.jsonl.gz"
    packed.write_bytes(_gzip(b'{"case": 1}\n'))
    assert plan_ranges(check_sources([str(packed)]), 2, tuning) is None  # gzip: one reader


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


# ---------------------------------------------------------------------------- whole runs


def _run(
    tmp_path: Path, inputs: list[Path], *args: str, workers: int, tuning: Tuning, name: str
) -> tuple[int, bytes, bytes]:
    out = tmp_path / name
    status = main(
        ["compute", *map(str, inputs), "--out", str(out), "--quiet", "--workers", str(workers),
         *args],
        tuning=tuning,
        hooks=Hooks(temp_root=str(tmp_path)),
    )  # fmt: skip
    rejects = tmp_path / f"{name}.rejects.jsonl"
    return (
        status,
        out.read_bytes() if out.exists() else b"",
        rejects.read_bytes() if rejects.exists() else b"",
    )


def _inputs(tmp_path: Path) -> list[Path]:
    """Two files of interleaved cases with lines that are no events, blank lines, a long line,
    CRLF ends and no final newline; and an empty file between them."""
    events = (EXAMPLES / "events.jsonl").read_text().splitlines()
    bad = ["not json", '{"at": "2026-01-01T00:00:00Z"}', "", "   ", '{"case": 1.5}', "[1]"]
    lines = []
    for number, line in enumerate(events):
        lines.append(line + ("\r" if number % 11 == 0 else ""))
        if number % 37 == 0:
            lines.append(bad[number % len(bad)])
    lines.insert(5, '{"case": 77, "pad": "' + "y" * 3000 + '"}')  # over --max-line-bytes
    half = len(lines) // 2
    first, empty, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    first.write_text("\n".join(lines[:half]) + "\n")
    empty.write_text("")
    second.write_text("\n".join(lines[half:]))  # no final newline
    return [first, empty, second]


@pytest.mark.parametrize(
    "args",
    [[], ["--lenient", "--format", "csv"], ["--as-of", "2026-03-01T00:00:00Z"]],
)
def test_reading_by_ranges_gives_the_bytes_of_one_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    inputs = _inputs(tmp_path)
    planned: list[int] = []
    real = interleaved.plan_ranges

    def spy(*a: object) -> object:
        ranges = real(*a)  # type: ignore[arg-type]
        planned.append(0 if ranges is None else len(ranges))
        return ranges

    monkeypatch.setattr(interleaved, "plan_ranges", spy)
    common = ["--max-line-bytes", "2000", *args]
    alone = _run(tmp_path, inputs, *common, workers=1, tuning=Tuning(), name="one.jsonl")
    tuning = Tuning(parallel_scan_bytes=0, scan_range_bytes=997, parent_rejects_in_memory=3)
    ranged = _run(tmp_path, inputs, *common, workers=2, tuning=tuning, name="two.jsonl")
    assert planned[0] == 0
    assert planned[1] > 10
    assert ranged == alone
    status, _, rejects = alone
    assert status == 1
    found = [json.loads(line) for line in rejects.splitlines()]
    # The first rejects, worked out from _inputs: "not json" follows event 0 (line 2 of a.jsonl),
    # and the long line was inserted as line 6.
    assert (found[0]["file"], found[0]["line"]) == (str(inputs[0]), 2)
    assert (found[1]["file"], found[1]["line"]) == (str(inputs[0]), 6)
    assert "line too long" in found[1]["error"]
    last = found[-1]
    assert last["file"] == str(inputs[2])  # ordinals run on across the files


def test_a_latest_at_that_is_no_date_is_found_exactly_by_ranges(tmp_path: Path) -> None:
    """The cheap latest ``at`` is unsure (a month 13 sorts last): every range agrees to scan."""
    events = (EXAMPLES / "events.jsonl").read_text().splitlines()
    odd = '{"case": 9, "event": "created", "at": "2026-13-01T00:00:00Z"}'
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([*events[:200], odd, *events[200:400]]) + "\n")
    alone = _run(tmp_path, [path], workers=1, tuning=Tuning(), name="one.jsonl")
    tuning = Tuning(parallel_scan_bytes=0, scan_range_bytes=2048)
    ranged = _run(tmp_path, [path], workers=2, tuning=tuning, name="two.jsonl")
    assert ranged == alone
    assert b"2026-13-01" in alone[2]  # the odd line is a rejected case, not the as_of


def test_nothing_is_left_in_the_temp_folder(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    temp = tmp_path / "temp"
    temp.mkdir()
    main(
        ["compute", *map(str, inputs), "--out", str(tmp_path / "o.jsonl"), "--quiet",
         "--workers", "2"],
        tuning=Tuning(parallel_scan_bytes=0, scan_range_bytes=500),
        hooks=Hooks(temp_root=str(temp)),
    )  # fmt: skip
    assert list(temp.iterdir()) == []


# ---------------------------------------------------------------------------- grouped input


def _grouped_inputs(tmp_path: Path, split_case: bool = True) -> list[Path]:
    """The example cases each together (sorted by case, in their order otherwise), with
    lines that are no events between and inside cases, in two files (``split_case``: the
    second file goes on with the last case of the first)."""
    events = [json.loads(line) for line in (EXAMPLES / "events.jsonl").read_text().splitlines()]
    by_case: dict[str, list[str]] = {}
    for event in events:
        by_case.setdefault(str(event["case"]), []).append(json.dumps(event))
    odd = [
        "not json",
        '{"meta": {"case": 1}, "event": "note"}',  # names a case only inside an object
        '{"case": 3, "event": "mess',  # cut off
        "",
        '{"case": 2.5}',
    ]
    lines: list[str] = []
    half = 0
    for number, case_lines in enumerate(by_case.values()):
        if number == len(by_case) // 2:
            half = len(lines)
        lines.append(odd[number % len(odd)])
        lines.extend(case_lines[:1])
        if number % 3 == 0:
            lines.append(odd[(number + 2) % len(odd)])
        lines.extend(case_lines[1:])
    if split_case:
        half -= 2  # inside the case before
    first, second = tmp_path / "g1.jsonl", tmp_path / "g2.jsonl"
    first.write_text("\n".join(lines[:half]) + "\n")
    second.write_text("\n".join(lines[half:]) + "\n")
    return [first, second]


@pytest.mark.parametrize(("size", "split_case"), [(300, False), (4096, False), (300, True)])
def test_grouped_passes_by_ranges_give_the_bytes_of_one_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, split_case: bool
) -> None:
    inputs = _grouped_inputs(tmp_path, split_case)
    second_passes: list[int] = []
    real = grouped.run_cases_in_ranges

    def spy(*a: Any) -> list[str]:
        outputs = real(*a)
        second_passes.append(len(outputs))
        return outputs

    monkeypatch.setattr(grouped, "run_cases_in_ranges", spy)
    alone = _run(tmp_path, inputs, "--grouped", workers=1, tuning=Tuning(), name="one.jsonl")
    tuning = Tuning(parallel_scan_bytes=0, scan_range_bytes=size, batch_lines=50)
    ranged = _run(tmp_path, inputs, "--grouped", workers=2, tuning=tuning, name="two.jsonl")
    assert ranged == alone
    # A case running on into the next file keeps the second pass in the main process.
    if split_case:
        assert second_passes == []
    else:
        assert len(second_passes) == 1
        assert second_passes[0] > 1  # several ranges computed their cases
    interleaved_rows = _run(tmp_path, inputs, workers=1, tuning=Tuning(), name="three.jsonl")
    assert alone == interleaved_rows  # grouped and interleaved agree on grouped input
    status, out, rejects = alone
    assert status == 1
    assert out.count(b"\n") == len({json.loads(row)["case_id"] for row in out.splitlines()})
    assert b"not JSON" in rejects


def test_a_case_again_is_found_by_ranges_as_by_one_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = (EXAMPLES / "events.jsonl").read_text().splitlines()  # interleaved: not grouped
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(events) + "\n")
    alone = _run(tmp_path, [path], "--grouped", workers=1, tuning=Tuning(), name="one.jsonl")
    said_alone = capsys.readouterr().err
    tuning = Tuning(parallel_scan_bytes=0, scan_range_bytes=500)
    ranged = _run(tmp_path, [path], "--grouped", workers=2, tuning=tuning, name="two.jsonl")
    said_ranged = capsys.readouterr().err
    assert alone == ranged == (2, b"", b"")
    assert said_alone == said_ranged
    assert "again at" in said_alone
