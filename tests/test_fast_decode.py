"""compute_metrics_from_lines: JSON text in, exactly what compute_metrics gives out.

The reference is ``compute_metrics`` on the lines decoded with ``json.loads``: the same
metrics, or the same error (class, message, case, index). The fast decode path must never
accept a line the careful way would read otherwise: for any line, what it builds is
``parse_event(json.loads(line))``, or it builds nothing. Lines come from the library's
strategies, broken by hand-picked defects, by random values in random places, and by text
edits (bad bytes, long numbers, deep nesting, duplicate keys, escapes).
"""

from __future__ import annotations

import ast
import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import metrics_engine as me
from metrics_engine import _events, _fast
from metrics_engine._events import parse_event
from metrics_engine._fast import _fast_event
from metrics_engine.testing import event_streams, sla_policies
from tests.breakage import break_stream

needs_msgspec = pytest.mark.skipif(
    not _fast.HAVE_STRUCT_DECODER, reason="msgspec (the extra 'fast') is not installed"
)

CREATED = {
    "case": 7,
    "event": "created",
    "at": "2026-03-02T09:00:00Z",
    "actor": {"id": 1, "role": "customer"},
}
REPLY = {
    "case": 7,
    "event": "message",
    "at": "2026-03-02T09:30:00Z",
    "actor": {"id": 2, "role": "agent"},
}
DONE = {
    "case": 7,
    "event": "update",
    "at": "2026-03-02T10:00:00Z",
    "actor": {"id": 2, "role": "agent"},
    "changes": {"status": "COMPLETED"},
}


def dumps(event: object) -> bytes:
    return json.dumps(event).encode()


def verdict(call: Any) -> tuple[str, Any]:
    """Metrics, or everything an error shows (class, text, case, index)."""
    try:
        return "metrics", call()
    except me.MetricsEngineError as error:
        return "error", (type(error), str(error), error.case, error.index, error.detail)


class NotJson:
    """Stands for a line json refuses: the dict path refuses it at the same place."""


BLANK = " \t\n\r\x0b\x0c"


def reference(lines: list[bytes], **options: Any) -> tuple[str, Any]:
    """compute_metrics on the decoded lines (blank ones left out), a line json refuses
    replaced by an object the parser refuses at the same place."""
    events: list[Any] = []
    for line in lines:
        if not line.strip(BLANK.encode()):
            continue
        try:
            events.append(json.loads(line))
        except (ValueError, RecursionError):
            events.append(NotJson())
    return verdict(lambda: me.compute_metrics(events, **options))


# --------------------------------------------------------------------------- whole streams

TIMES: tuple[Literal["cumulative", "elapsed"], ...] = ("cumulative", "elapsed")
RULES = [
    me.Rules(resolution_time=time, reopen_on_customer_message=reopen, team_only_assignment=team)
    for time, reopen, team in itertools.product(TIMES, (False, True), (False, True))
]


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid stream, or a broken one (about half of the time)."""
    events = draw(event_streams(max_events=20))
    if draw(st.booleans()):
        events = break_stream(events, random.Random(draw(st.integers(0, 2**32))))
    return events


@given(
    events=streams(),
    strict=st.booleans(),
    rules=st.sampled_from(RULES),
    as_text=st.booleans(),
    as_of=st.sampled_from([None, "2026-01-01T00:00:00Z", "2030-06-01T00:00:00+02:00"]),
)
def test_lines_give_what_compute_metrics_gives(
    events: list[dict[str, Any]], strict: bool, rules: me.Rules, as_text: bool, as_of: str | None
) -> None:
    lines: list[Any] = [json.dumps(event) for event in events]
    if not as_text:
        lines = [line.encode() for line in lines]
    options: dict[str, Any] = {"strict": strict, "rules": rules, "as_of": as_of}
    expected = verdict(lambda: me.compute_metrics(events, **options))
    assert verdict(lambda: me.compute_metrics_from_lines(lines, **options)) == expected


@given(events=event_streams(max_events=20, sla=True), policy=sla_policies(business=False))
def test_sla_clocks_are_the_same(events: list[dict[str, Any]], policy: dict[str, Any]) -> None:
    read = me.SlaPolicy.from_dict if "targets" in policy else me.SlaPolicies.from_dict
    sla = read(policy)
    lines = [dumps(event) for event in events]
    expected = verdict(lambda: me.compute_metrics(events, sla=sla))
    found = verdict(lambda: me.compute_metrics_from_lines(lines, sla=sla))
    assert found == expected
    if expected[0] == "metrics":
        assert found[1].sla == expected[1].sla


def test_a_calendar_and_every_input_form() -> None:
    calendar = me.BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {"mon": [["09:00", "17:00"]]}}
    )
    events = [CREATED, REPLY, DONE]
    expected = me.compute_metrics(events, calendar=calendar)
    assert expected.agent_first_business_response_time == 1800  # Monday 09:00 → 09:30 UTC, open
    text = "".join(json.dumps(event) + "\n" for event in events)
    for lines in (
        [dumps(event) for event in events],
        [json.dumps(event) for event in events],
        text,
        text.encode(),
        bytearray(text.encode()),
        text.replace("\n", "\r\n").encode(),
        iter([dumps(event) + b"\n" for event in events]),
    ):
        assert me.compute_metrics_from_lines(lines, calendar=calendar) == expected


# --------------------------------------------------------------------------- line by line

# Values that are wrong somewhere, right elsewhere, or read differently by different parsers.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 17, 1.5, 2**64, -(2**63) - 1, 10**600 - 1, 10**600, "", "x",
    "17", "COMPLETED", "completed", "Z", "agent", "system", "note", "2026-03-02T09:00:00",
    "2026-03-02T09:00:00.5+01:00", "2026-03-02T24:00:00Z", "\u00e9", "\ud800", [], [1], {},
    {"role": "agent"}, {"role": "system", "id": 3}, {"role": "AGENT", "id": "5"},
    {"name": "Solved", "type": "COMPLETED"}, {"name": "", "type": "OPEN"},
]  # fmt: skip
KEYS = ["event", "case", "at", "actor", "id", "public", "opening", "fields", "changes", "via"]
INNER = ["role", "id", "status", "assignee", "team", "requester", "priority", "type", "sla", "x"]


@st.composite
def odd_events(draw: st.DrawFn) -> Any:
    """An event of a valid stream with zero to three keys changed, removed or added."""
    event: Any = dict(draw(st.sampled_from(draw(event_streams(max_events=6)))))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["set", "drop", "inner"]))
        key = draw(st.sampled_from(KEYS))
        if how == "set":
            event[key] = draw(st.sampled_from(ODD_VALUES))
        elif how == "drop":
            event.pop(key, None)
        else:
            inner = event.get(key)
            if isinstance(inner, dict):
                inner = dict(inner)
                inner[draw(st.sampled_from(INNER))] = draw(st.sampled_from(ODD_VALUES))
                event[key] = inner
    return event


def _edit(line: bytes, draw: st.DrawFn) -> bytes:
    """A text edit that a parser may read, refuse, or read differently from json."""
    how = draw(st.sampled_from(["none", "cut", "byte", "digits", "deep", "dup", "bom", "pad"]))
    if how == "cut":
        return line[: draw(st.integers(0, max(len(line) - 1, 0)))]
    if how == "byte":
        at = draw(st.integers(0, len(line)))
        bad = draw(st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\\ud800", b"\x00"]))
        return line[:at] + bad + line[at:]
    if how == "digits":
        digits = b"9" * draw(st.sampled_from([640, 641, 4300, 4301, 5000]))
        return line[:-1] + b', "note": ' + digits + b"}"
    if how == "deep":
        depth = draw(st.sampled_from([50, 129, 900, 3000]))
        return line[:-1] + b', "tags": ' + b"[" * depth + b"]" * depth + b"}"
    if how == "dup":
        key = draw(st.sampled_from(["case", "event", "at", "id", "public"]))
        value = json.dumps(draw(st.sampled_from(ODD_VALUES[:20]))).encode()
        return b'{"' + key.encode() + b'": ' + value + b", " + line[1:]
    if how == "bom":
        return b"\xef\xbb\xbf" + line
    if how == "pad":
        return b" \t" + line + b" \r\n"
    return line


@st.composite
def odd_lines(draw: st.DrawFn) -> bytes:
    event = draw(odd_events())
    ensure_ascii = draw(st.booleans())
    try:
        text = json.dumps(event, ensure_ascii=ensure_ascii)
        line = text.encode("utf-8", "surrogatepass")
    except ValueError:  # an integer beyond the digit limit: json cannot even write it
        line = dumps(CREATED)
    return _edit(line, draw)


def _careful(line: bytes | str) -> object:
    """``parse_event(json.loads(line))``, or why not."""
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError) as error:
        return ("not JSON", type(error))
    try:
        return parse_event(raw)
    except me.MetricsEngineError as error:
        return ("refused", str(error))


@needs_msgspec
@given(line=odd_lines(), as_text=st.booleans())
def test_the_fast_way_builds_what_the_careful_way_builds_or_nothing(
    line: bytes, as_text: bool
) -> None:
    item: bytes | str = line
    if as_text:
        try:
            item = line.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            item = line.decode("latin-1")
    fast = _fast_event(item, {})
    if fast is not None:
        assert fast == _careful(item)


@needs_msgspec
@given(events=event_streams(max_events=20))
def test_ordinary_lines_take_the_fast_way(events: list[dict[str, Any]]) -> None:
    for event in events:
        fast = _fast_event(dumps(event), {})
        assert fast is not None, event
        assert fast == parse_event(event)


def _line(**changes: Any) -> bytes:
    """A message line with keys set (or removed, with the value ``...``)."""
    event: dict[str, Any] = {**REPLY, **changes}
    return json.dumps({key: value for key, value in event.items() if value is not ...}).encode()


BIG = 10**600
# (line, taken fast?) — True: an ordinary line the fast way must take; False: it must not
# (a value the careful parser refuses, or one only it reads); None: either way.
TRICKY: list[tuple[bytes, bool | None]] = [
    (_line(), True),
    (_line(public=False), True),
    (_line(public=None), True),
    (_line(public="yes"), False),
    (_line(public=0), False),
    (_line(event="note", public="yes"), None),  # ignored on a note
    (_line(changes=None), False),
    (_line(changes={}), False),
    (_line(event="note", fields={}), False),
    (_line(event="update", fields=None), False),
    (_line(event="update", changes={"status": "open", "x": [1]}), True),
    (_line(event="update", changes={"status": {"name": "X", "type": "pending"}}), True),
    (_line(event="update", changes={"status": {"name": "", "type": "OPEN"}}), False),
    (_line(event="update", changes={"status": {"name": "X"}}), False),
    (_line(event="update", changes={"status": None}), False),
    (_line(event="update", changes={"priority": 1.5}), False),
    (_line(event="update", changes={"priority": True}), False),
    (_line(event="update", changes={"assignee": BIG}), False),
    (_line(event="update", changes={"assignee": BIG - 1, "team": None}), True),
    (_line(event="created", changes={}), False),
    (_line(event="created", fields=None, opening="NOTE"), True),
    (_line(event="created", opening="bad"), False),
    (_line(event="created", opening=5), False),
    (_line(event="created", actor=..., fields={"team": 3}), True),
    (_line(event="created", actor={"role": "customer", "id": "c"}), True),
    (_line(opening=5), None),  # ignored on a message
    (_line(actor=None), True),
    (_line(actor={"role": "system"}), True),
    (_line(actor={"role": "SYSTEM", "id": "x"}), True),
    (_line(actor={"role": "system", "id": 1.5}), False),
    (_line(actor={"role": "system", "id": True}), False),
    (_line(actor={"role": "system", "id": BIG}), False),
    (_line(actor={"role": "agent"}), False),
    (_line(actor={"role": "agent", "id": None}), False),
    (_line(actor={"role": "agent", "id": BIG}), False),
    (_line(actor={"role": "Owner", "id": BIG - 1}), True),
    (_line(actor={"role": "robot", "id": 1}), False),
    (_line(actor={"role": 5, "id": 1}), False),
    (_line(actor="agent"), False),
    (_line(case=True), False),
    (_line(case=1.0), False),
    (_line(case=BIG), False),
    (_line(case=""), True),
    (_line(case=...), False),
    (_line(id=BIG), False),
    (_line(id=True), False),
    (_line(id=-(2**70)), True),
    (_line(event="tag_added"), False),
    (_line(event=None), False),
    (_line(at="2026-03-02T09:30:00.999+00:00"), True),
    (_line(at="2026-03-02T24:00:00z"), True),
    (_line(at="2026-03-02T09:30:00"), False),
    (_line(at="0001-01-01T00:00:00Z"), False),
    (_line(at=5), False),
    (_line(at=...), False),
]


@needs_msgspec
@pytest.mark.parametrize(("line", "fast"), TRICKY)
def test_tricky_lines(line: bytes, fast: bool | None) -> None:
    built = _fast_event(line, {})
    if built is not None:
        assert built == _careful(line)
    if fast is not None:
        assert (built is not None) == fast, _careful(line)


@given(lines=st.lists(odd_lines(), min_size=1, max_size=6), strict=st.booleans())
def test_odd_streams_fail_as_compute_metrics_fails(lines: list[bytes], strict: bool) -> None:
    lines = [dumps(CREATED), *lines]
    expected = reference(lines, strict=strict)
    found = verdict(lambda: me.compute_metrics_from_lines(lines, strict=strict))
    if expected[0] == "error" and "found NotJson" in expected[1][4]:  # the stand-in
        assert found[0] == "error"
        assert found[1][0] is me.EventError
        assert found[1][2:4] == expected[1][2:4]  # case and index
        assert found[1][4].startswith("not JSON")
    else:
        assert found == expected


@needs_msgspec
@pytest.mark.parametrize(
    "line",
    [
        # Each is accepted by msgspec under a key it skips, and refused by json.
        b'{"case": 7, "event": "message", "at": "2026-03-02T09:30:00Z", "x": "\xff"}',
        b'{"case": 7, "event": "message", "at": "2026-03-02T09:30:00Z", "x": "\xf4\x90\x80\x80"}',
        b'{"case": 7, "event": "message", "at": "2026-03-02T09:30:00Z", "x": ' + b"9" * 5000 + b"}",
    ],
)
def test_lines_json_refuses_are_never_taken_fast(line: bytes) -> None:
    assert _fast_event(line, {}) is None
    with pytest.raises(me.EventError) as caught:
        me.compute_metrics_from_lines([dumps(CREATED), line])
    assert caught.value.index == 1
    assert caught.value.case == 7
    assert caught.value.detail.startswith("not JSON")


@needs_msgspec
def test_the_fast_way_knows_every_key_the_careful_parser_reads() -> None:
    """A key that parse_event starts to read must be taught to the fast way too."""
    from metrics_engine._fast_structs import ActorLine, EventLine

    source = Path(_events.__file__).with_name("_events.py").read_text()  # compiled or not
    read: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in {"parse_event", "_parse_actor"}:
            read |= _keys_read(node)
    assert read == {*EventLine.__struct_fields__, *ActorLine.__struct_fields__}


def _keys_read(function: ast.FunctionDef) -> set[str]:
    """Constant keys in ``raw.get(key)``, ``actor_raw.get(key)``, ``key in raw``, ``raw[key]``."""
    keys: set[str] = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"raw", "actor_raw"}
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(str(node.args[0].value))
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and isinstance(node.comparators[0], ast.Name)
            and node.comparators[0].id == "raw"
        ):
            keys.add(str(node.left.value))
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "raw"
            and isinstance(node.slice, ast.Constant)
        ):
            keys.add(str(node.slice.value))
    return keys


# --------------------------------------------------------------------------- the edges


def test_a_line_that_is_not_json_is_an_event_error_at_its_index() -> None:
    lines = [dumps(CREATED), b"\n", b'{"case": 7, "event": "message", "at": "2026', dumps(DONE)]
    with pytest.raises(me.EventError) as caught:
        me.compute_metrics_from_lines(lines)
    assert str(caught.value) == (
        "case 7, event 1: not JSON: Unterminated string starting at: line 1 column 39 (char 38)"
    )
    with pytest.raises(me.EventError) as first:
        me.compute_metrics_from_lines([b"{oops", dumps(CREATED)])
    assert str(first.value) == (
        "event 0: not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )


def test_json_limits_are_worded() -> None:
    deep = b'{"case": 7, "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(me.EventError, match="expected at most about 1,000 nested levels"):
        me.compute_metrics_from_lines([dumps(CREATED), deep])
    long = b'{"case": 7, "note": ' + b"9" * 5000 + b"}"
    with pytest.raises(me.EventError, match=r"expected numbers of at most \d+ digits"):
        me.compute_metrics_from_lines([dumps(CREATED), long])


def test_blank_lines_are_skipped_and_not_counted() -> None:
    lines: list[bytes | str] = [b"", b"  \r\n", dumps(CREATED), "\t\n", dumps(REPLY), "\x0c"]
    lines.append(dumps(DONE))
    assert me.compute_metrics_from_lines(lines) == me.compute_metrics([CREATED, REPLY, DONE])
    early = {**DONE, "at": "2026-03-02T08:00:00Z"}
    with pytest.raises(me.SequenceError) as caught:
        me.compute_metrics_from_lines([b"\n", dumps(CREATED), b"\n", dumps(early)])
    assert caught.value.index == 1


def test_items_that_are_not_text() -> None:
    with pytest.raises(me.EventError) as caught:
        me.compute_metrics_from_lines([dumps(CREATED), REPLY])  # type: ignore[list-item]
    assert str(caught.value) == (
        "case 7, event 1: expected a line of JSON text (bytes or str), found dict"
    )
    with pytest.raises(me.MetricsEngineError, match="lines: expected JSON text"):
        me.compute_metrics_from_lines(CREATED)  # a dict iterates its keys: refused
    with pytest.raises(me.MetricsEngineError, match="found int"):
        me.compute_metrics_from_lines(7)  # type: ignore[arg-type]


def test_json_that_is_not_an_event_is_refused_as_compute_metrics_refuses_it() -> None:
    for line, events in ((b"[1, 2]", [[1, 2]]), (b"null", [None]), (b'"x"', ["x"])):
        expected = verdict(lambda events=events: me.compute_metrics([CREATED, *events]))
        found = verdict(lambda line=line: me.compute_metrics_from_lines([dumps(CREATED), line]))
        assert found == expected
        assert found[0] == "error"


def test_lenient_mode_skips_and_counts_unknown_kinds() -> None:
    tag = {"case": 7, "event": "tag_added", "at": "2026-03-02T09:10:00Z"}
    late = {**REPLY, "at": "2026-03-02T08:59:00Z"}  # before the created event once sorted
    lines = [dumps(event) for event in (CREATED, tag, DONE, REPLY)]
    metrics = me.compute_metrics_from_lines(lines, strict=False)
    assert metrics.skipped_events == 1
    assert metrics == me.compute_metrics([CREATED, tag, DONE, REPLY], strict=False)
    expected = verdict(lambda: me.compute_metrics([CREATED, late], strict=False))
    assert expected[0] == "error"
    assert "expected the first event to be created" in expected[1][1]
    lines = [dumps(CREATED), dumps(late)]
    assert verdict(lambda: me.compute_metrics_from_lines(lines, strict=False)) == expected


def test_as_of_before_creation_is_the_same_error() -> None:
    lines = [dumps(CREATED), dumps(REPLY)]
    as_of = "2026-03-01T00:00:00Z"
    expected = verdict(lambda: me.compute_metrics([CREATED, REPLY], as_of=as_of))
    assert expected[0] == "error"
    assert verdict(lambda: me.compute_metrics_from_lines(lines, as_of=as_of)) == expected


def test_the_same_answers_without_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [CREATED, REPLY, DONE]
    lines = [dumps(event) for event in events]
    expected = me.compute_metrics(events)
    monkeypatch.setattr(_fast, "HAVE_STRUCT_DECODER", False)
    assert me.compute_metrics_from_lines(lines) == expected
    with pytest.raises(me.EventError, match="event 1: not JSON"):
        me.compute_metrics_from_lines([lines[0], b"{"])


# --------------------------------------------------------------------------- instants

OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timedelta(minutes=minutes))


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29)),
    offset=OFFSETS,
    z=st.booleans(),
)
def test_the_common_instant_is_what_timestamp_gives(
    moment: datetime, offset: timedelta, z: bool
) -> None:
    """_fast_instant counts whole seconds in integers; timestamp() is the reference."""
    aware = moment.replace(microsecond=0, tzinfo=timezone(offset))
    stamp = aware.isoformat()
    if z and not offset:
        stamp = stamp.replace("+00:00", "Z")
    assert _events._fast_instant(stamp) == int(aware.timestamp())
    assert _events._fast_instant(moment.replace(microsecond=0).isoformat()) is None  # naive
    if moment.microsecond:
        assert _events._fast_instant(moment.replace(tzinfo=timezone(offset)).isoformat()) is None
