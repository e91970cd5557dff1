"""Self-checks of the reference SLA clocks, part 3: policy parsing and its errors (every
message of SPEC 10.9, verbatim), the Kayako import, and the SLA errors of the event stream."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .ref_calendar import RefError
from .ref_sla import ref_sla
from .ref_sla_policy import RefSlaPolicies, RefSlaPolicy, RefSlaPolicyError
from .test_ref_sla_selfcheck import CAL, EX2, C, Day, P, check, jl, kinds, rec, run

D2 = Day("2026-03-09")


def policy_error(fn: Any, *args: Any, **kw: Any) -> RefSlaPolicyError:
    with pytest.raises(RefSlaPolicyError) as info:
        fn(*args, **kw)
    assert info.value.kind == "sla_policy" and info.value.index is None
    return info.value


def gold_with(**changes: Any) -> dict[str, Any]:
    pol = copy.deepcopy(P)
    for path, value in changes.items():
        *keys, last = path.split("__")
        obj: Any = pol["policies"]["gold"]
        for k in keys:
            obj = obj[int(k)] if k.isdigit() else obj[k]
        if value is KeyError:
            del obj[int(last) if last.isdigit() else last]
        else:
            obj[int(last) if last.isdigit() else last] = value
    return pol


# =========================================================================== 10.9, verbatim


def test_not_an_object() -> None:
    msg = 'sla policy: expected an object with "targets" or "policies", found a list'
    assert str(policy_error(RefSlaPolicies.from_dict, [])) == msg
    assert str(policy_error(RefSlaPolicy.from_dict, [])) == msg
    assert str(policy_error(ref_sla, jl(EX2), [])) == msg  # batch-style detection by keys


def test_bad_type() -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(targets__1__type="FIRST_RESPONSE"))
    assert str(e) == (
        'sla policy: policies["gold"].targets[1].type: expected FIRST_REPLY_TIME, '
        'NEXT_REPLY_TIME or RESOLUTION_TIME, found "FIRST_RESPONSE"'
    )
    assert e.path == 'policies["gold"].targets[1].type'


def test_missing_goal() -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(targets__1__goal_in_seconds=KeyError))
    assert str(e) == 'sla policy: policies["gold"].targets[1]: missing goal_in_seconds'


@pytest.mark.parametrize(
    ("goal", "shown"),
    [(0, "0"), (-5, "-5"), (True, "true"), (3600.0, "3600.0"), ("3600", '"3600"'), (None, "null")],
)
def test_goal_not_a_positive_integer(goal: Any, shown: str) -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(targets__2__goal_in_seconds=goal))
    assert str(e) == (
        'sla policy: policies["gold"].targets[2].goal_in_seconds: '
        f"expected a positive integer, found {shown}"
    )


def test_bad_operational_hours_and_priority_in_a_standalone_policy() -> None:
    t = {"type": "FIRST_REPLY_TIME", "goal_in_seconds": 60, "operational_hours": "24/7"}
    e = policy_error(RefSlaPolicy.from_dict, {"targets": [t]})
    assert str(e) == (
        "sla policy: targets[0].operational_hours: "
        'expected BUSINESS_HOURS or CALENDAR_HOURS, found "24/7"'
    )
    t = {**t, "operational_hours": "CALENDAR_HOURS", "priority": 2.5}
    e = policy_error(RefSlaPolicy.from_dict, {"targets": [t]})
    assert (
        str(e)
        == "sla policy: targets[0].priority: expected a string, an integer or null, found 2.5"
    )
    e = policy_error(RefSlaPolicy.from_dict, {"targets": [{**t, "priority": True}]})
    assert e.path == "targets[0].priority"


def test_duplicate_target() -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(targets__3__priority="URGENT"))
    assert str(e) == (
        'sla policy: policies["gold"].targets[4]: duplicate target for RESOLUTION_TIME, '
        'priority "URGENT" (also targets[3])'
    )
    # by text: 2 and "2" are the same priority; a lower-case type is the same type
    tgt = {"type": "RESOLUTION_TIME", "goal_in_seconds": 60, "operational_hours": "CALENDAR_HOURS"}
    pol: dict[str, Any] = {
        "targets": [{**tgt, "priority": 2}, {**tgt, "type": "resolution_time", "priority": "2"}]
    }
    assert policy_error(RefSlaPolicy.from_dict, pol).path == "targets[1]"


def test_unknown_keys_at_every_level() -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(statuses={}))
    assert str(e) == 'sla policy: policies["gold"]: unknown key "statuses"'
    assert (
        policy_error(RefSlaPolicies.from_dict, {**P, "extra": 1}).message == 'unknown key "extra"'
    )
    assert policy_error(RefSlaPolicies.from_dict, gold_with(targets__0__x=1)).path == (
        'policies["gold"].targets[0]'
    )
    assert policy_error(RefSlaPolicy.from_dict, {"targets": [], "default": None}).path == ""


def test_title_must_be_a_string() -> None:
    e = policy_error(RefSlaPolicies.from_dict, gold_with(title=7))
    assert str(e) == 'sla policy: policies["gold"].title: expected a string, found 7'


def test_two_keys_with_the_same_text() -> None:
    pol: dict[Any, Any] = {"policies": {3: {"targets": []}, "3": {"targets": []}}}
    e = policy_error(RefSlaPolicies.from_dict, pol)
    assert str(e) == 'sla policy: policies: keys 3 and "3" have the same text'


def test_default_and_unknown_sla() -> None:
    e = policy_error(RefSlaPolicies.from_dict, {**P, "default": "platinum"})
    assert str(e) == 'sla policy: default: expected a key of policies or null, found "platinum"'
    e = policy_error(RefSlaPolicies.from_dict, {**P, "unknown_sla": "skip"})
    assert str(e) == 'sla policy: unknown_sla: expected "error", "none" or "default", found "skip"'
    e = policy_error(RefSlaPolicies.from_dict, {**P, "unknown_sla": "default"})
    assert str(e) == 'sla policy: unknown_sla is "default" but default is null'


def test_statuses_values() -> None:
    e = policy_error(RefSlaPolicies.from_dict, {**P, "statuses": {"Waiting on vendor": "no"}})
    assert str(e) == 'sla policy: statuses["Waiting on vendor"]: expected true or false, found "no"'
    e = policy_error(RefSlaPolicy.from_dict, {"targets": [], "statuses": {"PENDING": 1}})
    assert e.path == 'statuses["PENDING"]'


def test_business_hours_without_a_calendar_raises_before_any_event() -> None:
    bad_events: Any = [42, "not an event"]
    e = policy_error(ref_sla, bad_events, P)
    assert str(e) == 'sla policy "office" has BUSINESS_HOURS targets but no calendar was given'
    e = policy_error(ref_sla, bad_events, P["policies"]["office"], kind="policy")
    assert str(e) == "sla policy has BUSINESS_HOURS targets but no calendar was given"
    # even if no case uses it: a calendar-hours case under P still needs the calendar
    policy_error(ref_sla, jl(EX2), P)
    # without business targets no calendar is needed
    assert run(jl(EX2), P["policies"]["gold"], kind="policy")["sla_metrics"]


def test_accepted_forms() -> None:
    # letter case of type and hours, no title, empty targets, empty policies, integer keys
    tgt = {"type": "first_reply_time", "goal_in_seconds": 60, "operational_hours": "Calendar_Hours"}
    pol = RefSlaPolicy.from_dict({"targets": [tgt]})
    assert pol.policy.targets[0].type == "FIRST_REPLY_TIME"
    assert pol.policy.targets[0].hours == "CALENDAR_HOURS"
    assert RefSlaPolicy.from_dict({"targets": []}).policy.targets == ()
    assert RefSlaPolicies.from_dict({"policies": {}}).policies == {}
    s = RefSlaPolicies.from_dict({"policies": {3: {"targets": [tgt]}}, "default": "3"})
    assert s.policies["3"][0] == 3 and s.default == "3"


# =========================================================================== event errors


def sla_error(events: list[dict[str, Any]], pol: Any = None, **kw: Any) -> RefError:
    with pytest.raises(RefError) as info:
        ref_sla(events, P if pol is None else pol, calendar=C, **kw)
    return info.value


def with_sla_change(value: Any) -> list[dict[str, Any]]:
    events = jl(EX2)
    events.insert(1, {"case": 2, "event": "update", "at": "2026-03-09T09:10:00Z", "changes": {"sla": value}})  # fmt: skip
    return events


def test_unknown_sla_raises_at_the_event_that_set_it() -> None:
    e = sla_error(with_sla_change(9))
    assert e.kind == "sla" and e.index == 1
    assert str(e).startswith('sla "9" has no policy (known: "gold", "office", "silver")')
    # not applied yet at as_of: no error; gold ran 09:00-09:05
    out = ref_sla(with_sla_change(9), P, calendar=C, as_of="2026-03-09T09:05:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1), ("RESOLUTION_TIME", 1)]
    # a created event with an unknown value raises at index 0
    events = jl(EX2)
    events[0]["fields"]["sla"] = "platinum"
    assert sla_error(events).index == 0


def test_unknown_sla_known_keys_are_cut_after_ten() -> None:
    pol: dict[str, Any] = {"policies": {f"p{i:02d}": {"targets": []} for i in range(12)}}
    events = with_sla_change("x")
    events[0]["fields"]["sla"] = "p00"
    e = sla_error(events, pol)
    assert e.index == 1
    known = ", ".join(f'"p{i:02d}"' for i in range(10))
    assert str(e).startswith(f'sla "x" has no policy (known: {known}')
    assert '"p10"' not in str(e)


def vendor_events(*statuses: Any) -> list[dict[str, Any]]:
    events = [{"case": 3, "event": "created", "at": "2026-03-09T09:00:00Z", "actor": {"id": 1, "role": "customer"}}]  # fmt: skip
    for i, st in enumerate(statuses):
        at = f"2026-03-09T09:{10 + i:02d}:00Z"
        if st is None:
            events.append({"case": 3, "event": "message", "at": at, "actor": {"id": 1, "role": "customer"}})  # fmt: skip
        else:
            events.append({"case": 3, "event": "update", "at": at, "changes": {"status": st}})
    return events


def vendor(active: Any = ...) -> dict[str, Any]:
    st: dict[str, Any] = {"name": "Waiting on vendor", "type": "OPEN"}
    if active is not ...:
        st["sla_active"] = active
    return st


NO_TARGETS: dict[str, Any] = {"targets": []}


def test_sla_active_must_be_a_boolean() -> None:
    e = sla_error(vendor_events(vendor("no")), NO_TARGETS)
    assert e.kind == "event" and e.index == 1
    assert str(e).startswith(
        'status "Waiting on vendor": sla_active expected true or false, found "no"'
    )
    assert sla_error(vendor_events(vendor(None)), NO_TARGETS).index == 1


def test_one_status_name_with_two_sla_active_values() -> None:
    # index 3 says true, index 5 says false: the SPEC's own message.
    events = vendor_events(None, None, vendor(True), "OPEN", vendor(False))
    e = sla_error(events, NO_TARGETS)
    assert e.kind == "event" and e.index == 5
    assert str(e).startswith('status "Waiting on vendor": sla_active false, but true at event 3')
    # absent means the type's default (true for OPEN): absent then false conflicts too
    assert sla_error(vendor_events(vendor(), "OPEN", vendor(False)), NO_TARGETS).index == 3
    # and absent then true does not
    ref_sla(vendor_events(vendor(), "OPEN", vendor(True)), NO_TARGETS)
    # "PENDING" is PENDING with sla_active false
    pend = {"name": "PENDING", "type": "PENDING", "sla_active": True}
    e = sla_error(vendor_events("PENDING", "OPEN", pend), NO_TARGETS)
    assert str(e).startswith('status "PENDING": sla_active true, but false at event 1')
    # the default NEW of created counts as NEW, true
    e = sla_error(vendor_events({"name": "NEW", "type": "NEW", "sla_active": False}), NO_TARGETS)
    assert e.index == 1


def test_sla_active_checks_the_whole_stream_even_after_as_of() -> None:
    events = vendor_events(vendor(True), "OPEN", vendor(False))
    e = sla_error(events, NO_TARGETS, as_of="2026-03-09T09:05:00Z")
    assert e.index == 3


def test_a_duplicate_id_differing_in_sla_active_conflicts() -> None:
    events = vendor_events(vendor(False))
    again = copy.deepcopy(events[1])
    events[1]["id"] = again["id"] = "e1"
    ref_sla([*events, copy.deepcopy(events[1])], NO_TARGETS)  # same content: dropped
    again["changes"]["status"]["sla_active"] = True
    e = sla_error([*events, again], NO_TARGETS)
    assert e.kind == "sequence" and e.index == 2


def test_sla_active_on_a_status_pauses_under_a_policy_set() -> None:
    # statuses map of P has no "Paused here"; the object's false pauses FRT 09:10-09:20.
    events = [
        *jl(EX2)[:1],
        {"case": 2, "event": "update", "at": "2026-03-09T09:10:00Z", "changes": {"status": {"name": "Paused here", "type": "OPEN", "sla_active": False}}},
        {"case": 2, "event": "update", "at": "2026-03-09T09:20:00Z", "changes": {"status": "OPEN"}},
    ]  # fmt: skip
    out = run(events, as_of="2026-03-09T09:30:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="ACTIVE", paused="09:10:00", E=1200,
          rem=2400, due="10:10:00", target=("gold", None, 3600, CAL))  # fmt: skip


# =========================================================================== Kayako import


def kayako_target(tid: int, ctype: str, goal: int, priority: Any = None) -> dict[str, Any]:
    return {
        "id": tid,
        "priority": priority,
        "type": ctype,
        "goal_in_seconds": goal,
        "operational_hours": "CALENDAR_HOURS",
        "resource_type": "sla_target",
    }


def kayako_flat() -> dict[str, Any]:
    return {
        "status": 200,
        "data": [
            {
                "id": 3,
                "title": "Support SLA",
                "description": "Support SLA",
                "execution_order": 1,
                "predicate_collections": [{"id": 3, "resource_type": "predicate_collection"}],
                "targets": [
                    {"id": 31, "resource_type": "sla_target"},
                    {"id": 34, "resource_type": "sla_target"},
                ],
                "is_enabled": False,
                "is_deleted": True,
                "created_at": "2016-06-28T09:27:50+00:00",
                "resource_type": "sla",
            }
        ],
        "resources": {
            "sla_target": {
                "31": kayako_target(31, "FIRST_REPLY_TIME", 600),
                "34": kayako_target(34, "FIRST_REPLY_TIME", 3600, {"id": 1, "resource_type": "case_priority"}),
            }
        },
        "total_count": 1,
        "logs": [{"level": "WARNING", "message": "Entire resources enforced for flat mode"}],
    }  # fmt: skip


def kayako_embedded() -> list[dict[str, Any]]:
    low = {"id": 1, "label": "Low", "level": 1, "resource_type": "case_priority"}
    flat = kayako_flat()
    sla = flat["data"][0]
    sla["targets"] = [kayako_target(31, "FIRST_REPLY_TIME", 600), kayako_target(34, "FIRST_REPLY_TIME", 3600, low)]  # fmt: skip
    return [sla]


def kayako_case(priority: Any) -> list[dict[str, Any]]:
    return [
        {"case": 4, "event": "created", "at": "2026-03-09T09:00:00Z", "actor": {"id": 1, "role": "customer"}, "fields": {"sla": 3, "priority": priority}},
    ]  # fmt: skip


@pytest.mark.parametrize("form", ["flat", "embedded", "embedded in an envelope"])
def test_kayako_import(form: str) -> None:
    obj: Any = {
        "flat": kayako_flat(),
        "embedded": kayako_embedded(),
        "embedded in an envelope": {"data": kayako_embedded()},
    }[form]
    pols = RefSlaPolicies.from_kayako(obj)
    assert list(pols.policies) == ["3"]  # disabled and deleted SLAs are included
    assert pols.policies["3"][1].title == "Support SLA"
    # priority 1 (the case_priority reference's id) -> its own target; 2 -> the fallback
    out = run(kayako_case(1), obj, kind="kayako", as_of="2026-03-09T09:10:00Z")
    assert kinds(out) == [("FIRST_REPLY_TIME", 1)]
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="ACTIVE", due="10:00:00", E=600, rem=3000,
          target=("3", 1, 3600, CAL))  # fmt: skip
    out = run(kayako_case("2"), obj, kind="kayako", as_of="2026-03-09T09:05:00Z")
    check(rec(out, "FIRST_REPLY_TIME"), D2, stage="ACTIVE", due="09:10:00", E=300, rem=300,
          target=("3", None, 600, CAL))  # fmt: skip


def test_kayako_single_object_and_options() -> None:
    sla = kayako_embedded()[0]
    pols = RefSlaPolicies.from_kayako({"data": sla}, default=3, unknown_sla="default")
    assert pols.default == "3" and pols.unknown_sla == "default"
    # an unknown sla value falls back to the default "3"
    events = kayako_case(None)
    events[0]["fields"]["sla"] = "nope"
    out = run(events, pols, as_of="2026-03-09T09:05:00Z")
    assert rec(out, "FIRST_REPLY_TIME")["target"]["sla"] == "3"
    e = policy_error(RefSlaPolicies.from_kayako, kayako_flat(), default=4)
    assert str(e) == "kayako sla: default: expected a key of policies or null, found 4"


def test_kayako_errors() -> None:
    flat = kayako_flat()
    flat["data"][0]["targets"].append({"id": 44, "resource_type": "sla_target"})
    e = policy_error(RefSlaPolicies.from_kayako, flat)
    assert (
        str(e) == "kayako sla: data[0].targets[2]: reference sla_target 44 not found in resources"
    )
    # flat data without its envelope cannot resolve references
    e = policy_error(RefSlaPolicies.from_kayako, kayako_flat()["data"])
    assert e.path == "data[0].targets[0]"
    # camelCase anywhere is an error
    camel = kayako_flat()
    camel["totalCount"] = camel.pop("total_count")
    e = policy_error(RefSlaPolicies.from_kayako, camel)
    assert str(e) == 'kayako sla: expected snake_case keys, found "totalCount"'
    embedded = kayako_embedded()
    embedded[0]["targets"][0]["goalInSeconds"] = embedded[0]["targets"][0].pop("goal_in_seconds")
    assert policy_error(RefSlaPolicies.from_kayako, embedded).path == "data[0].targets[0]"
    # target values are checked as in policy JSON
    bad = kayako_embedded()
    bad[0]["targets"][1]["goal_in_seconds"] = 0
    e = policy_error(RefSlaPolicies.from_kayako, bad)
    assert str(e) == (
        "kayako sla: data[0].targets[1].goal_in_seconds: expected a positive integer, found 0"
    )
