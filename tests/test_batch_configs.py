"""The batch command gives byte-identical outputs in every configuration, on inputs that stress
the two JSON readers.

Each input is run through ``metrics-engine compute`` (several option sets) and ``validate``
(real subprocesses) in every configuration: the standard library's ``json``
(``METRICS_ENGINE_JSON=json``) and the extra ``fast`` (orjson in the parent, msgspec in the
workers) × one worker and two × interleaved and ``--grouped`` (compute, on grouped input). The
rows file, the rejects file, stdout, stderr (timings removed) and the exit status must be those
of the first configuration, byte for byte.

The inputs: the shipped examples (good and bad lines), a generated interleaved file with a few
lines cut off mid-write, a file of edge lines that the two readers might read differently
(integers beyond 64 bits, lone surrogates, duplicate keys, a BOM, NaN, deep nesting, invalid
UTF-8, ...) placed inside valid cases, and the edge lines inside a generated file of over
4 MiB (where two workers read the input in byte ranges and --grouped sends several batches).
A few rows and rejects of the edge file are checked by hand below, from docs/events.md and
docs/batch.md.

The subprocesses import the build this process imports: the checkout's source, or the
compiled install when ``.ci/check-compiled`` runs the suite on it.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import metrics_engine as me
from benchmarks.snapshot_batch import _TIMING
from benchmarks.synth import write_jsonl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent  # the build under test
FAST = all(importlib.util.find_spec(name) is not None for name in ("orjson", "msgspec"))
REQUIRE_FAST = os.environ.get("METRICS_ENGINE_REQUIRE_FAST") == "1"


class Config(NamedTuple):
    json: str  # "json" (METRICS_ENGINE_JSON=json) or "fast" (the variable unset)
    workers: str
    grouped: bool

    def __str__(self) -> str:
        mode = "grouped" if self.grouped else "interleaved"
        return f"{self.json}/workers {self.workers}/{mode}"


JSON_PATHS = ["json", "fast"] if FAST else ["json"]
BASELINE = Config("json", "1", False)


def configs(grouped: bool) -> list[Config]:
    modes = [False, True] if grouped else [False]
    return [Config(*c) for c in itertools.product(JSON_PATHS, ["1", "2"], modes)]


# ---------------------------------------------------------------------------- the edge file

BIG_CASE = 2**70  # 1180591620717411303424
BIG_AGENT = 2**67  # 147573952589676412928
LATEST = "2026-03-05T12:00:00Z"  # the latest `at` of an event in the edge file
LONG_DIGITS = "9" * 700


def _line(case: Any, kind: str, at: str, actor: Any = None, **keys: Any) -> str:
    event: dict[str, Any] = {"case": case, "event": kind, "at": at}
    if actor is not None:
        event["actor"] = {"id": actor[1], "role": actor[0]}
    event.update(keys)
    return json.dumps(event)


def _customer(user: Any) -> tuple[str, Any]:
    return ("customer", user)


def _agent(user: Any) -> tuple[str, Any]:
    return ("agent", user)


def _at(clock: str) -> str:
    return f"2026-03-02T{clock}Z"


def edge_lines() -> list[tuple[str, bytes]]:
    """(tag, line with its end) of the edge file; each case's lines together (grouped), with
    lines that are not events among them. Tags name the lines the hand checks point at."""
    c, a = _customer, _agent
    raw: list[tuple[str, str | bytes]] = [
        # a BOM before the first line of the file, and before a line inside a case
        ("bom", b"\xef\xbb\xbf" + _line(5008, "created", _at("12:00:00"), c(79)).encode()),
        ("", b"\xef\xbb\xbf" + _line(5008, "message", _at("12:03:00"), a(24)).encode()),
        # integers beyond 64 bits: a case id, user ids, an event id, field values
        ("big", _line(BIG_CASE, "created", _at("09:00:00"), c(2**65),
                      fields={"priority": 2**64, "team": 2**66})),
        ("", _line(BIG_CASE, "message", _at("09:05:00"), a(BIG_AGENT), id=-(2**70))),
        ("", _line(BIG_CASE, "update", _at("09:06:00"), a(BIG_AGENT),
                   changes={"status": "COMPLETED"})),
        # floats as ids: an actor's, an event's, a team's; a float case id (no usable case id)
        ("float-actor", _line(5003, "created", _at("09:10:00"), c(7.5))),
        ("", _line(5004, "created", _at("09:20:00"), c(71))),
        ("float-case", _line(5002.0, "created", "2026-10-10T00:00:00Z", c(71))),
        ("float-event-id", _line(5004, "message", _at("09:21:00"), a(19), id=2.0)),
        ("float-team", _line(5029, "created", _at("09:25:00"), c(100), fields={"team": 3.0})),
        # 700 digits under an unknown key (json reads it); 5,000 digits (json refuses it)
        ("", _line(5005, "created", _at("09:00:00"), c(75))),
        ("", _line(5005, "message", _at("09:30:00"), a(20))[:-1] + ', "blob": '
         + LONG_DIGITS + "}"),
        ("huge-number", _line(5005, "message", "2029-03-01T00:00:00Z", a(20))[:-1]
         + ', "blob": ' + "7" * 5000 + "}"),
        # invalid UTF-8 in an unknown key's string, and in a case id
        ("", _line(5006, "created", _at("10:00:00"), c(76))),
        ("bad-utf8", _line(5006, "message", "2029-02-01T00:00:00Z", a(21))[:-1].encode()
         + b', "subject": "caf\xe9 \xff"}'),
        ("", b'{"case": "x\xff", "event": "note", "at": "2029-02-02T00:00:00Z"}'),
        ("", _line(5006, "message", _at("10:20:00"), a(21))),
        # lone surrogates: in a case id, in a status name (one name, two types: an error)
        ("surrogate", r'{"case": "\ud800lone", "event": "created", "at": "2026-03-02T11:00:00Z",'
         r' "actor": {"id": 77, "role": "customer"}}'),
        ("", r'{"case": "\ud800lone", "event": "message", "at": "2026-03-02T11:01:00Z",'
         r' "actor": {"id": 22, "role": "agent"}}'),
        ("", _line(5007, "created", _at("11:30:00"), c(78))),
        ("", r'{"case": 5007, "event": "update", "at": "2026-03-02T11:40:00Z", "actor": {"id": 23,'
         r' "role": "agent"}, "changes": {"status": {"name": "wait\udc00", "type": "PENDING"}}}'),
        ("", r'{"case": 5007, "event": "update", "at": "2026-03-02T11:41:00Z", "actor": {"id": 23,'
         r' "role": "agent"}, "changes": {"status": {"name": "wait\udc00", "type": "pending"}}}'),
        ("", _line(5107, "created", _at("11:30:00"), c(78))),
        ("", r'{"case": 5107, "event": "update", "at": "2026-03-02T11:40:00Z", "actor": {"id": 23,'
         r' "role": "agent"}, "changes": {"status": {"name": "wait\udc00", "type": "PENDING"}}}'),
        ("two-types", r'{"case": 5107, "event": "update", "at": "2026-03-02T11:41:00Z", "actor":'
         r' {"id": 23, "role": "agent"}, "changes": {"status": {"name": "wait\udc00",'
         r' "type": "OPEN"}}}'),
        # NaN and Infinity: as a field value (an error), as a case id, under unknown keys
        ("", _line(5009, "created", _at("12:30:00"), c(80))),
        ("nan-priority", '{"case": 5009, "event": "update", "at": "2026-03-02T12:31:00Z", '
         '"actor": {"id": 25, "role": "agent"}, "changes": {"priority": NaN}}'),
        ("nan-case", '{"case": NaN, "event": "note", "at": "2029-05-01T00:00:00Z"}'),
        ("", _line(5010, "created", _at("13:00:00"), c(81))),
        ("", _line(5010, "message", _at("13:02:00"), a(26))[:-1]
         + ', "score": Infinity, "low": -Infinity}'),
        # duplicate keys: the last value counts, as json reads them
        ("dup-case", '{"case": "dup-first", "case": "dup-last", "event": "created", '
         '"at": "2026-03-02T13:30:00Z", "actor": {"id": 82, "role": "customer"}}'),
        ("", _line("dup-last", "message", _at("13:45:00"), a(27))),
        ("", _line(5011, "created", _at("14:00:00"), c(83))),
        ("", '{"case": 5011, "event": "message", "at": "2027-01-01T00:00:00Z", '
         '"at": "2026-03-02T14:30:00Z", "actor": {"id": 28, "role": "agent"}}'),
        ("", _line(5012, "created", _at("14:30:00"), c(84))),
        ("", '{"case": 5012, "event": "created", "event": "message", '
         '"at": "2026-03-02T14:50:00Z", "actor": {"id": 29, "role": "agent"}}'),
        # keys a kind must not carry
        ("", _line(5013, "created", _at("15:00:00"), c(85))),
        ("fields-on-update", _line(5013, "update", _at("15:01:00"), a(30),
                                   fields={"priority": "HIGH"})),
        ("changes-on-created", _line(5014, "created", _at("15:10:00"), c(86), changes=None)),
        # an unknown kind: rejected when strict, skipped with --lenient
        ("", _line(5015, "created", _at("15:20:00"), c(87))),
        ("merged", _line(5015, "merged", _at("15:21:00"), a(31))),
        ("", _line(5015, "message", _at("15:25:00"), a(31))),
        ("", "   "),
        # 2,000 nested arrays under an unknown key
        ("", _line(5016, "created", _at("15:30:00"), c(88))),
        ("deep", _line(5016, "message", "2029-04-01T00:00:00Z", a(32))[:-1]
         + ', "x": ' + "[" * 2000 + "]" * 2000 + "}"),
        ("", _line(5016, "message", _at("15:40:00"), a(32))),
        ("", _line(5017, "created", _at("15:50:00"), c(89))),
        ("public-yes", _line(5017, "message", _at("15:51:00"), a(33), public="yes")),
        # the less common forms of `at`, on lines ending with CRLF
        ("at-forms", _line(5018, "created", "2026-03-02T09:00:00.750z", c(90)) + "\r\n"),
        ("", _line(5018, "message", "2026-03-02T09:10:00.999Z", a(34)) + "\r\n"),
        ("", _line(5018, "note", "20260302T120000Z", a(34)) + " \t\r\n"),
        ("", _line(5018, "update", "2026-03-02T24:00:00+00:00", a(34),
                   changes={"status": "COMPLETED"}) + "\r\n"),
        ("", "\t \r\n"),
        ("", _line(5019, "created", _at("16:00:00"), c(91))),
        ("naive", _line(5019, "message", "2026-03-02T16:10:00", a(35))),
        ("", _line(5020, "created", _at("16:20:00"), c(92))),
        ("", _line(5020, "message", _at("16:25:00"), a(36))),
        # a private message is a note
        ("", _line(5021, "created", _at("16:30:00"), c(93))),
        ("array", '[{"case": "arr", "event": "created", "at": "2028-01-01T00:00:00Z"}]'),
        ("", _line(5021, "message", _at("16:31:00"), a(37), public=False)),
        ("", _line(5021, "message", _at("16:35:00"), a(37))),
        # custom statuses with sla_active: one name with two values is an error
        ("", _line(5022, "created", _at("16:40:00"), c(94),
                   fields={"status": {"name": "Triage", "type": "OPEN", "sla_active": False}})),
        ("", _line(5022, "update", _at("16:41:00"), a(38),
                   changes={"status": {"name": "Vendor", "type": "PENDING", "sla_active": True}})),
        ("sla-active", _line(5022, "update", _at("16:42:00"), a(38),
                             changes={"status": {"name": "Triage", "type": "OPEN",
                                                 "sla_active": True}})),
        ("", _line(5023, "created", _at("16:50:00"), c(95),
                   fields={"status": {"name": "Triage", "type": "OPEN", "sla_active": False}})),
        ("", _line(5023, "update", _at("16:55:00"), a(39),
                   changes={"status": {"name": "Vendor", "type": "pending", "sla_active": True}})),
        # events of equal instants (one spelt with another offset), given in order
        ("", _line(5024, "created", _at("17:00:00"), c(96))),
        ("string", '"just a string"'),
        ("", _line(5024, "message", _at("17:10:00"), a(40))),
        ("", _line(5024, "update", "2026-03-02T12:10:00-05:00", a(40),
                   changes={"status": "COMPLETED"})),
        ("", ""),
        # a repeated event id: the same content (ignored), different content (an error)
        ("", _line(5026, "created", _at("17:20:00"), c(97), id="e1")),
        ("", _line(5026, "message", _at("17:25:00"), a(41), id="e2", channel="MAIL")),
        ("number", "42"),
        ("", _line(5026, "message", "2026-03-02T12:25:00-05:00", a(41), id="e2", channel="CHAT")),
        ("", _line(5026, "update", _at("17:30:00"), a(41), id="e3",
                   changes={"status": "COMPLETED"})),
        ("", _line(5027, "created", _at("17:40:00"), c(98), id="f1")),
        ("", _line(5027, "message", _at("17:45:00"), a(42), id="f2")),
        ("dup-id", _line(5027, "message", _at("17:45:00"), a(43), id="f2")),
        # out of order: rejected when strict, sorted with --lenient
        ("", _line(5028, "created", _at("18:00:00"), c(99))),
        ("", _line(5028, "message", _at("18:30:00"), a(44))),
        ("back", _line(5028, "update", _at("18:10:00"), a(44), changes={"assignee": 44})),
        ("last", _line("last", "created", LATEST, opening="none")),
        # a line of case 5020 cut off mid-write, after other cases, without a line end
        ("truncated", '{"case": 5020, "event": "message", "at": "2026-09-09T00:00:00Z", '
         '"actor": {"id": 36, "ro'),
    ]  # fmt: skip
    lines = []
    for number, (tag, text) in enumerate(raw):
        line = text.encode() if isinstance(text, str) else text
        if not line.endswith(b"\n") and number < len(raw) - 1:
            line += b"\n"
        lines.append((tag, line))
    return lines


EDGE = edge_lines()
LINE_OF = {tag: number for number, (tag, _) in enumerate(EDGE, 1) if tag}


def synth_file(path: Path) -> None:
    """A generated interleaved file (fixed seed), with a few lines cut off mid-write: the
    first (a ``created``, so its case is rejected) and a few others (line rejects)."""
    write_jsonl(path, n_cases=120, seed=11)
    lines = path.read_bytes().splitlines(keepends=True)
    for number in (0, 700, 1500, 2900):
        lines[number] = lines[number][: len(lines[number]) // 2] + b"\n"
    path.write_bytes(b"".join(lines))


def large_file(path: Path) -> None:
    """Over 4 MiB, so that two workers read the input in byte ranges (``ranges``) and
    ``--grouped`` sends several batches: generated cases, each case's lines together, with the
    edge lines among them (the cut-off line last, as in the edge file)."""
    write_jsonl(path, n_events=25_000, seed=12, interleaved=False)
    lines = path.read_bytes().splitlines(keepends=True)
    middle = len(lines) // 2
    case = json.loads(lines[middle])["case"]
    while json.loads(lines[middle])["case"] == case:  # a case boundary
        middle += 1
    edge = [line for _, line in EDGE]
    path.write_bytes(b"".join([*lines[:middle], *edge[:-1], *lines[middle:], edge[-1]]))


class Input(NamedTuple):
    grouped: bool  # each case's lines together: --grouped applies
    compute: list[list[str]]  # option sets
    validate: list[list[str]]


def _compute_options(as_of: str, *more: list[str]) -> list[list[str]]:
    return [
        [],
        ["--lenient"],
        ["--as-of", as_of],  # inside the input's span: some cases are not yet created
        ["--calendar", "calendar.json"],
        *more,
    ]


# Every option set costs 4 to 8 runs (about 0.4 s each, 1 s for the large file): the CSV
# output (the surrogate in a case id) only on the edge file, one option set for the large one.
INPUTS = {
    "mixed.jsonl": Input(False, _compute_options("2025-12-20T00:00:00Z"), [[]]),
    "synth.jsonl": Input(False, _compute_options("2025-12-01T15:00:00Z"), [[]]),
    "edge.jsonl": Input(
        True,
        _compute_options("2026-03-02T15:00:00Z", ["--format", "csv"]),
        [[], ["--lenient"]],
    ),
    "large.jsonl": Input(True, [[]], [[]]),
}
PARTS = ("exit", "rows", "rejects", "stdout", "stderr")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("configs")
    (folder / "calendar.json").write_bytes((EXAMPLES / "calendar.json").read_bytes())
    mixed = (EXAMPLES / "events.jsonl").read_bytes() + (EXAMPLES / "bad_events.jsonl").read_bytes()
    (folder / "mixed.jsonl").write_bytes(mixed)
    synth_file(folder / "synth.jsonl")
    (folder / "edge.jsonl").write_bytes(b"".join(line for _, line in EDGE))
    large_file(folder / "large.jsonl")
    long_id = '{"case": ' + LONG_DIGITS + ', "event": "created", "at": "2026-03-02T08:00:00Z"}'
    (folder / "long-id.jsonl").write_bytes(EDGE[0][1] + long_id.encode() + b"\n")
    return folder


_OUTCOMES: dict[tuple[Path, str, str, tuple[str, ...], Config], dict[str, bytes]] = {}


def outcome(
    folder: Path, command: str, source: str, options: list[str], config: Config
) -> dict[str, bytes]:
    """What one run gives: exit status, rows file, rejects file, stdout, stderr (no timings).

    Runs go one after another in ``folder`` and write the same relative names, so that
    nothing in them differs but the configuration. Memoized: the hand checks reuse runs.
    """
    key = (folder, command, source, tuple(options), config)
    if key in _OUTCOMES:
        return _OUTCOMES[key]
    environment = dict(os.environ)
    environment.pop("METRICS_ENGINE_JSON", None)
    if config.json == "json":
        environment["METRICS_ENGINE_JSON"] = "json"
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PACKAGE_PARENT), environment.get("PYTHONPATH")])
    )
    arguments = [command, source, "--workers", config.workers, *options]
    if command == "compute":
        arguments += ["--out", "rows.out", "--rejects", "rejects.out"]
        if config.grouped:
            arguments.append("--grouped")
    done = subprocess.run(
        [sys.executable, "-m", "metrics_engine", *arguments],
        capture_output=True,
        cwd=folder,
        env=environment,
        timeout=120,
        check=False,
    )
    result = {
        "exit": str(done.returncode).encode(),
        "stdout": done.stdout,
        "stderr": _TIMING.sub(b"<t>", done.stderr),
    }
    for part in ("rows", "rejects"):
        path = folder / f"{part}.out"
        result[part] = path.read_bytes() if path.exists() else b"<no file>"
        path.unlink(missing_ok=True)
    _OUTCOMES[key] = result
    return result


def _difference(part: str, first: bytes, other: bytes) -> str:
    """The first lines where two outputs part, each side shown (and their line counts)."""
    ours, theirs = first.splitlines(), other.splitlines()
    at = next(
        (n for n, pair in enumerate(zip(ours, theirs, strict=False)) if pair[0] != pair[1]),
        min(len(ours), len(theirs)),
    )
    shown = [f"  {part}: {len(ours)} and {len(theirs)} lines, first difference at line {at + 1}"]
    for name, lines in (("first", ours), ("other", theirs)):
        for line in lines[at : at + 3]:
            shown.append(f"    {name}: {line[:400].decode(errors='backslashreplace')}")
    return "\n".join(shown)


def check_all_agree(
    folder: Path, command: str, source: str, options: list[str], *, grouped: bool
) -> dict[str, bytes]:
    """Run every configuration (``--grouped`` too when ``grouped``, with compute); fail naming
    each one that differs from the first, and how."""
    runs = configs(grouped and command == "compute")
    first = outcome(folder, command, source, options, runs[0])
    problems = []
    for config in runs[1:]:
        other = outcome(folder, command, source, options, config)
        differing = [part for part in PARTS if other[part] != first[part]]
        if differing:
            problems.append(
                f"{config} differs from {runs[0]}:\n"
                + "\n".join(_difference(part, first[part], other[part]) for part in differing)
            )
    assert not problems, f"{command} {source} {' '.join(options)}:\n" + "\n".join(problems)
    return first


def _cases(command: str) -> Iterator[Any]:
    for source, given in INPUTS.items():
        for options in given.compute if command == "compute" else given.validate:
            yield pytest.param(source, options, id=f"{source}-{' '.join(options) or 'default'}")


# ---------------------------------------------------------------------------- the comparisons


def _probe(json_setting: str | None) -> list[str]:
    """What the command's process would see, with METRICS_ENGINE_JSON set so (or unset): its
    JSON backend, whether workers decode with msgspec, whether the build is compiled."""
    probe = (
        "import metrics_engine as me; "
        "from metrics_engine._batch.lines import json_backend, struct_decoding; "
        "print(json_backend(), struct_decoding(), me.COMPILED)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "METRICS_ENGINE_JSON"}
    environment["PYTHONPATH"] = str(PACKAGE_PARENT)
    if json_setting is not None:
        environment["METRICS_ENGINE_JSON"] = json_setting
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, env=environment, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().split()


def test_the_runs_use_the_build_under_test() -> None:
    assert _probe("json") == ["json", "False", str(me.COMPILED)]


def test_the_fast_path_is_compared() -> None:
    """Without orjson and msgspec, the comparisons below run on the standard library alone.
    With them, the two configurations do read lines in two ways."""
    if not FAST:
        message = (
            "orjson or msgspec is not importable: the stdlib-vs-fast comparisons cannot differ "
            "and were not run (pip install '.[fast]'); workers and --grouped were still compared"
        )
        if REQUIRE_FAST:
            pytest.fail(f"METRICS_ENGINE_REQUIRE_FAST=1 but {message}")
        pytest.skip(message)
    assert _probe(None)[:2] == ["orjson", "True"]


@pytest.mark.parametrize(("source", "options"), list(_cases("compute")))
def test_compute_is_the_same_in_every_configuration(
    workspace: Path, source: str, options: list[str]
) -> None:
    first = check_all_agree(workspace, "compute", source, options, grouped=INPUTS[source].grouped)
    assert first["exit"] == b"1", first["stderr"]
    header = 1 if "csv" in options else 0
    assert len(first["rows"].splitlines()) > header, "no row: the comparison proves little"
    assert first["rejects"].strip(), "no reject: the comparison proves little"


@pytest.mark.parametrize(("source", "options"), list(_cases("validate")))
def test_validate_is_the_same_in_every_configuration(
    workspace: Path, source: str, options: list[str]
) -> None:
    first = check_all_agree(workspace, "validate", source, options, grouped=False)
    assert first["exit"] == b"1", first["stderr"]
    assert b": ok\n" in first["stdout"], "no case without problems: the comparison proves little"
    assert b" problem" in first["stdout"], "no problem found: the comparison proves little"


# ---------------------------------------------------------------------------- by hand


def _records(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _edge(workspace: Path, *options: str) -> tuple[dict[str, Any], dict[Any, Any], bytes]:
    """Rows by case id, rejects by line, stderr of the edge file in the first configuration."""
    result = outcome(workspace, "compute", "edge.jsonl", list(options), BASELINE)
    rows = {row["case_id"]: row for row in _records(result["rows"])}
    rejects = {reject["line"]: reject for reject in _records(result["rejects"])}
    assert all(reject["file"] == "edge.jsonl" for reject in rejects.values())
    return rows, rejects, result["stderr"]


def _line_reject(rejects: dict[Any, Any], tag: str, error: str) -> None:
    reject = rejects.pop(LINE_OF[tag])
    assert reject["case_id"] is None, (tag, reject)
    assert "index" not in reject, (tag, reject)
    assert error in reject["error"], (tag, reject)


def _case_reject(rejects: dict[Any, Any], tag: str, case: str, index: int) -> dict[str, Any]:
    reject: dict[str, Any] = rejects.pop(LINE_OF[tag])
    assert (reject["case_id"], reject["index"]) == (case, index), (tag, reject)
    return reject


def test_edge_file_by_hand(workspace: Path) -> None:
    """Worked out from docs/events.md and docs/batch.md (not from the command's output)."""
    rows, rejects, stderr = _edge(workspace)
    # Lines that are no event: case_id null, no index; Python's json decides what is JSON.
    for tag in ("array", "string", "number"):
        _line_reject(rejects, tag, "expected a JSON object")
    _line_reject(rejects, "float-case", "'case'")
    _line_reject(rejects, "nan-case", "'case'")
    _line_reject(rejects, "deep", "not JSON this reader accepts")
    _line_reject(rejects, "huge-number", "not JSON this reader accepts")
    _line_reject(rejects, "bad-utf8", "not JSON")
    _line_reject(rejects, "truncated", "not JSON")
    # Cases the library refuses: the case id as text, the line and index of the event.
    _case_reject(rejects, "float-actor", "5003", 0)
    _case_reject(rejects, "float-event-id", "5004", 1)
    _case_reject(rejects, "float-team", "5029", 0)
    _case_reject(rejects, "two-types", "5107", 2)
    _case_reject(rejects, "fields-on-update", "5013", 1)
    _case_reject(rejects, "changes-on-created", "5014", 0)
    _case_reject(rejects, "merged", "5015", 1)
    _case_reject(rejects, "public-yes", "5017", 1)
    naive = _case_reject(rejects, "naive", "5019", 1)
    assert naive["error"] == (
        "field 'at': expected a time with an offset or Z, found naive 2026-03-02T16:10:00"
    )
    _case_reject(rejects, "sla-active", "5022", 2)
    _case_reject(rejects, "dup-id", "5027", 2)
    _case_reject(rejects, "back", "5028", 2)
    assert [reject["case_id"] for reject in rejects.values()] == [None]  # the case "x\xff"

    # The default as_of is the latest `at` of an event: lines that are no event (a later
    # `at` in a truncated line, an array, a float case id...) and the first of two `at` keys
    # do not count.
    assert b"as_of 2026-03-05T12:00:00+00:00," in stderr, stderr
    # Duplicate keys: the last value counts (as Python's json reads them).
    assert "dup-first" not in rows
    assert rows["dup-last"]["agent_first_calendar_response_time"] == 900  # 13:30 → 13:45
    assert rows["5011"]["agent_first_calendar_response_time"] == 1800  # the second `at`
    assert rows["5012"]["agent_reply_count"] == 1  # "event": the second, a message
    # Integers beyond 64 bits are ids like any other, written as their text.
    big = rows[str(BIG_CASE)]
    assert big["last_replier"] == big["resolved_by"] == str(BIG_AGENT)
    assert big["agent_first_calendar_response_time"] == 300
    assert big["resolution_calendar_time"] == 360
    # A lone surrogate is written back as its JSON escape.
    assert "\ud800lone" in rows
    assert (
        b'"case_id":"\\ud800lone"'
        in outcome(workspace, "compute", "edge.jsonl", [], BASELINE)["rows"]
    )
    assert rows["5007"]["agent_touch_count"] == 2
    # Unknown keys are ignored, whatever they hold (700 digits, Infinity).
    assert rows["5005"]["agent_first_calendar_response_time"] == 1800
    assert rows["5005"]["agent_reply_count"] == 1  # the 5,000-digit line is no event
    assert rows["5010"]["agent_first_calendar_response_time"] == 120
    assert rows["5006"]["agent_first_calendar_response_time"] == 1200
    assert rows["5016"]["agent_reply_count"] == 1
    # `at`: fractions cut (09:00:00.750 → 09:00:00), lower-case z, compact form, 24:00.
    forms = rows["5018"]
    assert forms["agent_first_calendar_response_time"] == 600
    assert forms["resolution_calendar_time"] == 15 * 3600  # 09:00 → 24:00
    assert forms["agent_touch_count"] == 3
    assert forms["resolved_by"] == "34"
    # A private message is a note: the first response is the public one.
    assert rows["5021"]["agent_first_calendar_response_time"] == 300
    assert rows["5021"]["agent_reply_count"] == 1
    assert rows["5021"]["agent_touch_count"] == 2
    # The reply given before the resolution in the same second counts before it.
    assert rows["5024"]["is_first_contact_resolved"] is True
    assert rows["5024"]["replies_to_resolution"] == 1
    # The repeated event (same content, another offset and channel) is ignored.
    assert rows["5026"]["agent_reply_count"] == 1
    assert rows["5026"]["is_first_contact_resolved"] is True
    assert rows["5020"]["agent_reply_count"] == 1  # its truncated line is no event
    assert rows["last"]["agent_touch_count"] == 0
    assert "5023" in rows


def test_edge_file_lenient_by_hand(workspace: Path) -> None:
    rows, rejects, stderr = _edge(workspace, "--lenient")
    assert rows["5015"]["agent_first_calendar_response_time"] == 300  # "merged" skipped
    assert b" 1 events skipped by --lenient," in stderr, stderr
    assert rows["5028"]["assignee_change_count"] == 1  # sorted: 18:10 comes before 18:30
    assert not {LINE_OF["merged"], LINE_OF["back"]} & set(rejects)
    _case_reject(rejects, "naive", "5019", 1)  # lenient mode relaxes nothing else


def test_a_case_id_of_700_digits_is_rejected(workspace: Path) -> None:
    """An integer of more than 600 digits is no id (docs/events.md): its line is rejected as
    having no usable case id, and the run goes on. (It used to stop with a traceback.)"""
    first = check_all_agree(workspace, "compute", "long-id.jsonl", [], grouped=True)
    assert b"Traceback" not in first["stderr"], first["stderr"].decode()[-400:]
    assert first["exit"] == b"1"
    assert [row["case_id"] for row in _records(first["rows"])] == ["5008"]
    (reject,) = _records(first["rejects"])
    assert reject["line"] == 2, reject
    assert reject["case_id"] is None, reject
    assert reject["error"] == (
        "field 'case': expected an integer id of at most 600 digits, "
        "found an integer of more than 600 digits"
    ), reject
