"""Tests of the synthetic event generator (benchmarks/synth.py), against SPEC section 2."""

from __future__ import annotations

import gzip
import heapq
import json
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synth import (
    SOLVED,
    WAITING_ON_VENDOR,
    generate_case,
    generate_cases,
    iter_events,
    main,
    write_jsonl,
)

Event = dict[str, Any]

KINDS = {"created", "message", "note", "update"}
STATUS_TYPES = {"NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED"}
ROLES = {"agent", "customer", "system", "owner", "admin", "collaborator"}
FIELD_NAMES = {"requester", "status", "assignee", "team", "priority", "type", "sla"}


def instant(ev: Event) -> datetime:
    at = ev["at"]
    assert isinstance(at, str)
    t = datetime.fromisoformat(at)
    assert t.tzinfo is not None, f"naive at {at!r}"
    return t


def is_id(v: object) -> bool:
    return isinstance(v, (int, str)) and not isinstance(v, bool)


def status_of(v: object) -> tuple[str, str]:
    """(name, type) of a status value; fails on anything the spec rejects."""
    if isinstance(v, str):
        assert v.upper() in STATUS_TYPES, v
        return v.upper(), v.upper()
    assert isinstance(v, dict), v
    assert set(v) == {"name", "type"}, v
    assert isinstance(v["name"], str)
    assert isinstance(v["type"], str)
    assert v["type"].upper() in STATUS_TYPES, v
    return v["name"], v["type"].upper()


def check_values(values: Event) -> None:
    for key, v in values.items():
        if key in ("requester", "assignee", "team") or key in ("priority", "type", "sla"):
            assert v is None or is_id(v), (key, v)
        elif key == "status":
            status_of(v)


def check_event(ev: Event) -> None:
    """Every rule of SPEC section 2 that one event must meet on its own."""
    for key in ("case", "event", "at"):
        assert key in ev, f"missing {key}: {ev}"
    assert is_id(ev["case"])
    assert ev["event"] in KINDS
    instant(ev)
    actor = ev.get("actor")
    if actor is not None:
        assert isinstance(actor, dict)
        assert isinstance(actor.get("role"), str)
        assert actor["role"].lower() in ROLES
        if actor["role"].lower() != "system":
            assert is_id(actor.get("id")), actor
    if "id" in ev:
        assert is_id(ev["id"])
    kind = ev["event"]
    if kind == "created":
        assert isinstance(ev.get("fields", {}), dict)
        check_values(ev.get("fields", {}))
        assert ev.get("opening", "message") in ("message", "note", "none")
    else:
        assert "fields" not in ev, ev
        assert "opening" not in ev, ev
    if kind == "update":
        assert isinstance(ev["changes"], dict), ev
        assert ev["changes"], ev
        check_values(ev["changes"])
    else:
        assert "changes" not in ev, ev
    if kind != "message":
        assert "channel" not in ev, ev
        assert "public" not in ev, ev
    elif "public" in ev:
        assert isinstance(ev["public"], bool)


def check_case(events: list[Event]) -> None:
    """Case-level rules: one case, created first and once, order, ids, statuses."""
    assert events
    assert len({str(ev["case"]) for ev in events}) == 1
    assert events[0]["event"] == "created"
    assert sum(ev["event"] == "created" for ev in events) == 1
    times = [instant(ev) for ev in events]
    assert all(a <= b for a, b in pairwise(times)), events
    ids = [str(ev["id"]) for ev in events if "id" in ev]
    assert len(ids) == len(set(ids))
    types: dict[str, str] = {}
    for ev in events:
        check_event(ev)
        values = ev.get("fields") or ev.get("changes") or {}
        if "status" in values:
            name, typ = status_of(values["status"])
            assert types.setdefault(name, typ) == typ, f"{name} is {types[name]} and {typ}"


def by_case(events: list[Event]) -> dict[str, list[Event]]:
    cases: dict[str, list[Event]] = defaultdict(list)
    for ev in events:
        cases[str(ev["case"])].append(ev)
    return cases


def canon(ev: Event) -> str:
    return json.dumps(ev, sort_keys=True)


@pytest.fixture(scope="module")
def cases() -> list[list[Event]]:
    return list(generate_cases(1500, seed=11))


# ---- determinism ------------------------------------------------------------------------


def test_deterministic_by_seed() -> None:
    a = list(generate_cases(40, seed=5))
    assert a == list(generate_cases(40, seed=5))
    assert a != list(generate_cases(40, seed=6))
    # Case i does not depend on how many cases were asked for.
    assert list(generate_cases(15, seed=5)) == a[:15]
    assert list(iter_events(40, seed=5)) == list(iter_events(40, seed=5))


def test_generate_case_same_rng_same_case() -> None:
    start = datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=-5)))
    one = generate_case(random.Random(42), 1042, start)
    assert one == generate_case(random.Random(42), 1042, start)
    check_case(one)
    assert instant(one[0]) == start
    assert {ev["case"] for ev in one} <= {1042, "1042"}


def test_generate_case_rejects_naive_start() -> None:
    with pytest.raises(ValueError, match="naive"):
        generate_case(random.Random(1), 1, datetime(2026, 3, 2, 9, 15))


def test_write_jsonl_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert write_jsonl(a, n_cases=30, seed=3) == write_jsonl(b, n_cases=30, seed=3)
    assert a.read_bytes() == b.read_bytes()


# ---- validity ---------------------------------------------------------------------------


def test_every_case_is_strict_valid(cases: list[list[Event]]) -> None:
    for events in cases:
        check_case(events)


def test_required_keys_on_every_event(cases: list[list[Event]]) -> None:
    for events in cases:
        for ev in events:
            assert {"case", "event", "at"} <= ev.keys()
            if ev["event"] == "update":
                assert "changes" in ev
            if ev["event"] == "created":
                assert "fields" in ev


def test_created_first_and_once_and_order(cases: list[list[Event]]) -> None:
    for events in cases:
        assert events[0]["event"] == "created"
        assert [ev["event"] for ev in events].count("created") == 1
        times = [instant(ev) for ev in events]
        assert times == sorted(times)


def test_status_name_never_has_two_types(cases: list[list[Event]]) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for events in cases:
        for ev in events:
            values = ev.get("fields") or ev.get("changes") or {}
            if "status" in values:
                name, typ = status_of(values["status"])
                seen[name].add(typ)
    assert all(len(types) == 1 for types in seen.values()), seen
    assert seen[WAITING_ON_VENDOR["name"]] == {"PENDING"}
    assert seen[SOLVED["name"]] == {"COMPLETED"}


@settings(max_examples=60, deadline=None, database=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    case_id=st.one_of(st.integers(1, 10**9), st.text("abc-0123456789", min_size=1, max_size=12)),
    start=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2060, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
)
def test_any_seed_gives_a_valid_case(seed: int, case_id: int | str, start: datetime) -> None:
    events = generate_case(random.Random(seed), case_id, start)
    check_case(events)
    assert instant(events[0]) == start.replace(microsecond=0)


# ---- the documented mix -----------------------------------------------------------------


def test_mix_is_as_documented(cases: list[list[Event]]) -> None:
    n = len(cases)
    events = [ev for case in cases for ev in case]
    assert 29 <= len(events) / n <= 38  # ~33 events per case
    size = sum(len(json.dumps(ev)) + 1 for ev in events) / len(events)
    assert 150 <= size <= 250, size
    created = [case[0] for case in cases]
    outbound = [
        ev
        for ev in created
        if ev.get("opening", "message") == "message"
        and (ev.get("actor") or {}).get("role", "").lower() not in ("customer", "")
    ]
    assert 0.06 <= len(outbound) / n <= 0.14
    assert any(ev.get("opening") == "note" for ev in created)
    assert any(ev.get("opening") == "none" for ev in created)

    reopen_counts: Counter[int] = Counter()
    open_at_end = 0
    for case in cases:
        resolved = False
        reopens = 0
        for ev in case:
            values = ev.get("fields") or ev.get("changes") or {}
            if "status" in values:
                now = status_of(values["status"])[1] in ("COMPLETED", "CLOSED")
                reopens += resolved and not now
                resolved = now
        reopen_counts[reopens] += 1
        open_at_end += not resolved
    assert reopen_counts[1]
    assert reopen_counts[2]
    assert 0.05 <= open_at_end / n <= 0.2
    offsets = {ev["at"][19:] for ev in events}
    assert {"Z", "-05:00", "+01:00", "+05:30"} <= offsets
    assert any(isinstance(ev.get("id"), int) for ev in events)
    assert any(isinstance(ev.get("id"), str) for ev in events)
    assert any(isinstance(ev["case"], int) for ev in events)
    assert any(isinstance(ev["case"], str) for ev in events)
    assert any(ev["event"] == "message" and ev.get("public") is False for ev in events)
    # System actors in all three spellings, also a system post.
    assert any("actor" not in ev for ev in events)
    assert any("actor" in ev and ev["actor"] is None for ev in events)
    assert any((ev.get("actor") or {}).get("role") == "system" for ev in events)
    assert any(ev["event"] == "message" and not ev.get("actor") for ev in events)
    changed = Counter(k for ev in events if ev["event"] == "update" for k in ev["changes"])
    for key in ("assignee", "team", "priority", "type", "sla", "requester", "tags", "subject"):
        assert changed[key], key
    roles = {(ev.get("actor") or {}).get("role") for ev in events}
    assert {"agent", "customer", "AGENT", "CUSTOMER"} <= roles
    # A reply and a status change in the same second, the message listed first.
    ties = sum(
        a["event"] == "message" and b["event"] == "update" and instant(a) == instant(b)
        for case in cases
        for a, b in pairwise(case)
    )
    assert ties > n
    # Gaps over nights and weekends exist.
    gaps = [instant(b) - instant(a) for case in cases for a, b in pairwise(case)]
    assert max(gaps) > timedelta(days=2)
    assert sum(g > timedelta(hours=12) for g in gaps) > n / 10


def test_self_assignment_happens(cases: list[list[Event]]) -> None:
    selfs = 0
    for case in cases:
        for ev in case:
            actor = ev.get("actor") or {}
            if ev["event"] == "update" and "id" in actor and "assignee" in ev["changes"]:
                selfs += str(actor["id"]) == str(ev["changes"]["assignee"])
    assert selfs > len(cases) / 3


# ---- interleaving -----------------------------------------------------------------------


def test_interleaved_is_globally_ordered_and_same_as_grouped() -> None:
    inter = list(iter_events(400, seed=2))
    grouped = list(iter_events(400, seed=2, interleaved=False))
    times = [instant(ev) for ev in inter]
    assert all(a <= b for a, b in pairwise(times))
    assert Counter(map(canon, inter)) == Counter(map(canon, grouped))
    # Each case keeps its own stream order, and the result is heapq.merge's.
    assert by_case(inter) == by_case(grouped)
    lists = list(generate_cases(400, seed=2))
    assert inter == list(heapq.merge(*lists, key=instant))
    assert grouped == [ev for case in lists for ev in case]
    assert max(instant(ev) for ev in inter) - min(times) > timedelta(days=1)


def test_interleaving_streams() -> None:
    t0 = time.perf_counter()
    first = list(islice(iter_events(10**9, seed=1), 2000))
    assert len(first) == 2000
    assert time.perf_counter() - t0 < 10


# ---- files ------------------------------------------------------------------------------


def read_lines(path: Path, compressed: bool) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
    return data.splitlines(keepends=True)


@pytest.mark.parametrize("compressed", [False, True])
def test_write_jsonl_counts_by_events(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / ("e.jsonl.gz" if compressed else "e.jsonl")
    n_cases, n_events, size = write_jsonl(path, n_events=2500, seed=4, gzip=compressed)
    lines = read_lines(path, compressed)
    assert len(lines) == n_events >= 2500
    assert size == sum(map(len, lines))
    if not compressed:
        assert size == path.stat().st_size
    events = [json.loads(line) for line in lines]
    cases = by_case(events)
    assert len(cases) == n_cases
    # Whole cases, and no more than needed: without the last case there are < 2500 events.
    ref = list(generate_cases(n_cases, seed=4))
    assert sum(map(len, ref)) == n_events
    assert sum(map(len, ref[:-1])) < 2500
    for events_of_case in cases.values():
        check_case(events_of_case)


@pytest.mark.parametrize("interleaved", [True, False])
def test_write_jsonl_counts_by_cases(tmp_path: Path, interleaved: bool) -> None:
    path = tmp_path / "c.jsonl.gz"  # gzip=None: by suffix
    n_cases, n_events, _ = write_jsonl(path, n_cases=25, seed=9, interleaved=interleaved)
    events = [json.loads(line) for line in read_lines(path, True)]
    assert n_cases == 25 == len(by_case(events))
    assert n_events == len(events)
    assert events == list(iter_events(25, seed=9, interleaved=interleaved))


def test_write_jsonl_needs_a_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_events or n_cases"):
        write_jsonl(tmp_path / "x.jsonl")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.jsonl"
    assert main(["--events", "500", "--seed", "3", "--grouped", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for word in ("cases", "events", "bytes", "bytes/line"):
        assert word in printed
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) >= 500
    n_cases = len(by_case(events))
    assert f"cases {n_cases} " in printed
    assert events == list(iter_events(n_cases, seed=3, interleaved=False))


# ---- shipped example data ---------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_example_events_are_the_documented_command_output(tmp_path: Path) -> None:
    # examples/README.md: python -m benchmarks.synth --cases 300 --seed 2025 --per-day 10
    out = tmp_path / "events.jsonl"
    assert main(["--cases", "300", "--seed", "2025", "--per-day", "10", "--out", str(out)]) == 0
    assert out.read_bytes() == (EXAMPLES / "events.jsonl").read_bytes(), (
        "examples/events.jsonl is stale: regenerate it with the command in examples/README.md"
    )


def test_example_team_calendars_match_generator_teams() -> None:
    data = json.loads((EXAMPLES / "team_calendars.json").read_text())
    assert set(data) == {"default", "teams"}
    assert set(data["teams"]) == {"2", "3"}
    events = [json.loads(line) for line in (EXAMPLES / "events.jsonl").read_text().splitlines()]
    teams = {
        str(values["team"])
        for ev in events
        for values in (ev.get("fields") or ev.get("changes") or {},)
        if values.get("team") is not None
    }
    assert set(data["teams"]) < teams
