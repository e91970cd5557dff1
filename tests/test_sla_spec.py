"""SLA policies: reading, validation (one-line errors with JSON paths), lookups, Kayako import."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from metrics_engine._errors import EventError, MetricsEngineError
from metrics_engine._sla_spec import (
    SlaPolicies,
    SlaPolicy,
    SlaPolicyError,
    SlaTarget,
    check_sla_option,
    require_calendar,
)

SAMPLES = Path(__file__).parent / "kayako" / "samples"
FLAT_SAMPLE = SAMPLES / "brewfictus_slas_flat_mode.json"


def target(kind: str = "FIRST_REPLY_TIME", goal: Any = 3600, priority: Any = ...,
           hours: str = "CALENDAR_HOURS") -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"type": kind, "goal_in_seconds": goal, "operational_hours": hours}
    if priority is not ...:
        out["priority"] = priority
    return out


GOLD: dict[str, Any] = {
    "title": "Gold",
    "targets": [
        target("FIRST_REPLY_TIME", 3600, None),
        target("FIRST_REPLY_TIME", 900, "URGENT"),
        target("NEXT_REPLY_TIME", 7200, None),
        target("RESOLUTION_TIME", 86400, None),
        target("RESOLUTION_TIME", 14400, "URGENT"),
    ],
}


def policy_set(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "policies": {
            "gold": copy.deepcopy(GOLD),
            "silver": {"targets": [target("RESOLUTION_TIME", 3600)]},
            "office": {
                "title": "Office hours",
                "targets": [target("RESOLUTION_TIME", 57600, hours="BUSINESS_HOURS")],
            },
        },
        "default": None,
        "unknown_sla": "error",
        "statuses": {"Waiting on vendor": False},
    }
    obj.update(changes)
    return obj


def gold_with(position: int, **fields: Any) -> dict[str, Any]:
    """The set whose gold policy has target ``position`` changed (``...`` removes a key)."""
    obj = policy_set()
    item = obj["policies"]["gold"]["targets"][position]
    for key, value in fields.items():
        if value is ...:
            del item[key]
        else:
            item[key] = value
    return obj


# --- every policy error, word for word -------------------------------------------------------

SET_ERRORS: list[tuple[Any, str]] = [
    ([], 'sla policy: expected an object with "targets" or "policies", found a list'),
    (gold_with(1, type="FIRST_RESPONSE"), 'sla policy: policies["gold"].targets[1].type: '
     'expected FIRST_REPLY_TIME, NEXT_REPLY_TIME or RESOLUTION_TIME, found "FIRST_RESPONSE"'),
    (gold_with(1, goal_in_seconds=...),
     'sla policy: policies["gold"].targets[1]: missing goal_in_seconds'),
    (gold_with(2, goal_in_seconds=0), 'sla policy: policies["gold"].targets[2].goal_in_seconds: '
     "expected a positive integer, found 0"),
    (gold_with(2, goal_in_seconds=True), 'sla policy: policies["gold"].targets[2].goal_in_seconds: '
     "expected a positive integer, found true"),
    (gold_with(2, goal_in_seconds=3600.0), 'sla policy: policies["gold"].targets[2].'
     "goal_in_seconds: expected a positive integer, found 3600.0"),
    (gold_with(2, goal_in_seconds="3600"), 'sla policy: policies["gold"].targets[2].'
     'goal_in_seconds: expected a positive integer, found "3600"'),
    (gold_with(2, goal_in_seconds=-5), 'sla policy: policies["gold"].targets[2].'
     "goal_in_seconds: expected a positive integer, found -5"),
    (gold_with(3, priority="URGENT"), 'sla policy: policies["gold"].targets[4]: duplicate '
     'target for RESOLUTION_TIME, priority "URGENT" (also targets[3])'),
    (gold_with(0, unexpected=1), 'sla policy: policies["gold"].targets[0]: unknown key '
     '"unexpected"'),
    (gold_with(0, type=...), 'sla policy: policies["gold"].targets[0]: missing type'),
    (gold_with(0, operational_hours=...),
     'sla policy: policies["gold"].targets[0]: missing operational_hours'),
    (policy_set(policies={"gold": {**GOLD, "statuses": {}}}),
     'sla policy: policies["gold"]: unknown key "statuses"'),
    (policy_set(policies={"gold": {**GOLD, "title": 7}}),
     'sla policy: policies["gold"].title: expected a string, found 7'),
    (policy_set(policies={"gold": {"title": "Gold"}}),
     'sla policy: policies["gold"]: missing targets'),
    (policy_set(policies={"gold": []}),
     'sla policy: policies["gold"]: expected a policy object, found a list'),
    (policy_set(policies={"gold": {"targets": {}}}),
     'sla policy: policies["gold"].targets: expected a list of targets, found an object'),
    (policy_set(policies={"gold": {"targets": [7]}}),
     'sla policy: policies["gold"].targets[0]: expected a target object, found 7'),
    (policy_set(policies={3: GOLD, "3": GOLD}),
     'sla policy: policies: keys 3 and "3" have the same text'),
    (policy_set(policies={2.5: GOLD}),
     "sla policy: policies: expected keys as strings or integers, found 2.5"),
    (policy_set(policies=[]), "sla policy: policies: expected an object, found a list"),
    (policy_set(default="platinum"),
     'sla policy: default: expected a key of policies or null, found "platinum"'),
    (policy_set(default=True),
     "sla policy: default: expected a key of policies or null, found true"),
    (policy_set(unknown_sla="skip"),
     'sla policy: unknown_sla: expected "error", "none" or "default", found "skip"'),
    (policy_set(unknown_sla="ERROR"),
     'sla policy: unknown_sla: expected "error", "none" or "default", found "ERROR"'),
    (policy_set(unknown_sla="default"), 'sla policy: unknown_sla is "default" but default is null'),
    (policy_set(statuses={"Waiting on vendor": "no"}),
     'sla policy: statuses["Waiting on vendor"]: expected true or false, found "no"'),
    (policy_set(statuses=[]),
     "sla policy: statuses: expected an object of status names, found a list"),
    (policy_set(extra=1), 'sla policy: unknown key "extra"'),
    ({"default": None}, "sla policy: missing policies"),
    ({"targets": []}, 'sla policy: expected an object with "policies", found one with "targets" '
     "(a single policy: use SlaPolicy.from_dict)"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "message"), SET_ERRORS)
def test_policy_set_errors(obj: Any, message: str) -> None:
    with pytest.raises(SlaPolicyError) as caught:
        SlaPolicies.from_dict(obj)
    assert str(caught.value) == message
    assert (caught.value.case, caught.value.index) == (None, None)
    assert isinstance(caught.value, MetricsEngineError)
    assert isinstance(caught.value, ValueError)


POLICY_ERRORS: list[tuple[Any, str]] = [
    ("gold", 'sla policy: expected an object with "targets" or "policies", found "gold"'),
    ({"targets": [target(hours="24/7")]},
     'sla policy: targets[0].operational_hours: expected BUSINESS_HOURS or CALENDAR_HOURS, '
     'found "24/7"'),
    ({"targets": [target(priority=2.5)]},
     "sla policy: targets[0].priority: expected a string, an integer or null, found 2.5"),
    ({"targets": [target(priority=True)]},
     "sla policy: targets[0].priority: expected a string, an integer or null, found true"),
    ({"targets": [target(priority=["URGENT"])]},
     "sla policy: targets[0].priority: expected a string, an integer or null, found a list"),
    ({"targets": [target(priority=2), target(priority="2")]},
     'sla policy: targets[1]: duplicate target for FIRST_REPLY_TIME, priority "2" '
     "(also targets[0])"),
    ({"targets": [target(), target(priority=None)]},
     "sla policy: targets[1]: duplicate target for FIRST_REPLY_TIME, priority null "
     "(also targets[0])"),
    ({"targets": [], "statuses": {"OPEN": 1}},
     'sla policy: statuses["OPEN"]: expected true or false, found 1'),
    ({"targets": [], "statuses": {3: True}},
     "sla policy: statuses: expected status names as strings, found 3"),
    ({"targets": [], "default": None}, 'sla policy: unknown key "default"'),
    ({"title": "x"}, "sla policy: missing targets"),
    ({"policies": {}}, 'sla policy: expected an object with "targets", found one with "policies" '
     "(a policy set: use SlaPolicies.from_dict)"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "message"), POLICY_ERRORS)
def test_standalone_policy_errors(obj: Any, message: str) -> None:
    with pytest.raises(SlaPolicyError) as caught:
        SlaPolicy.from_dict(obj)
    assert str(caught.value) == message


def test_messages_stay_on_one_line() -> None:
    with pytest.raises(SlaPolicyError) as caught:
        SlaPolicy.from_dict({"targets": [target(kind="A\nB")]})
    assert "\n" not in str(caught.value)


def test_business_hours_need_a_calendar() -> None:
    office = SlaPolicies.from_dict(policy_set())
    with pytest.raises(SlaPolicyError) as caught:
        require_calendar(office, has_calendar=False)
    assert str(caught.value) == (
        'sla policy "office" has BUSINESS_HOURS targets but no calendar was given'
    )
    standalone = SlaPolicy.from_dict({"targets": [target(hours="business_hours")]})
    with pytest.raises(SlaPolicyError) as caught:
        require_calendar(standalone, has_calendar=False)
    assert str(caught.value) == "sla policy has BUSINESS_HOURS targets but no calendar was given"
    require_calendar(office, has_calendar=True)
    require_calendar(SlaPolicy.from_dict(GOLD), has_calendar=False)
    require_calendar(None, has_calendar=False)


def test_the_sla_option_is_checked() -> None:
    assert check_sla_option(None) is None
    with pytest.raises(MetricsEngineError, match="expected a SlaPolicy, a SlaPolicies or None"):
        check_sla_option(GOLD)


# --- what a valid policy means -----------------------------------------------------------------


def test_letter_case_of_type_and_hours_is_free_and_normalised() -> None:
    policy = SlaPolicy.from_dict({"targets": [target("first_reply_time", hours="Business_Hours")]})
    assert policy.targets == (("FIRST_REPLY_TIME", SlaTarget(None, None, 3600, "BUSINESS_HOURS")),)
    assert policy.has_business_hours


def test_target_lookup_by_priority_text_then_fallback() -> None:
    policy = SlaPolicy.from_dict(
        {"targets": [target(priority=None), target(goal=600, priority=2),
                     target(goal=900, priority="HIGH")]}
    )  # fmt: skip
    goal = {p: getattr(policy.target("FIRST_REPLY_TIME", p), "goal_in_seconds", None)
            for p in (None, 2, "2", "HIGH", "high", 3)}  # fmt: skip
    assert goal == {None: 3600, 2: 600, "2": 600, "HIGH": 900, "high": 3600, 3: 3600}
    assert policy.target("RESOLUTION_TIME", "HIGH") is None
    # the target keeps its priority as written: an integer here
    found = policy.target("FIRST_REPLY_TIME", "2")
    assert found is not None
    assert found.priority == 2


def test_no_fallback_target_means_no_goal_for_other_priorities() -> None:
    policy = SlaPolicy.from_dict({"targets": [target(priority="URGENT")]})
    assert policy.target("FIRST_REPLY_TIME", "NORMAL") is None
    assert policy.target("FIRST_REPLY_TIME", None) is None


def test_empty_targets_and_empty_policies_are_allowed() -> None:
    assert SlaPolicy.from_dict({"targets": []}).targets == ()
    empty = SlaPolicies.from_dict({"policies": {}})
    assert (empty.default, empty.unknown_sla, dict(empty.statuses)) == (None, "error", {})
    with pytest.raises(EventError, match=r'sla "x" has no policy \(known: none\)'):
        empty.policy_for("x")


def test_policy_set_chooses_by_sla_text() -> None:
    pols = SlaPolicies.from_dict(policy_set(policies={3: GOLD, "silver": GOLD}))
    assert pols.policy_for(3) is pols.policy_for("3") is pols.policies["3"]
    assert pols.policy_for(None) is None
    target_3 = pols.policies["3"].target("FIRST_REPLY_TIME", None)
    assert target_3 is not None
    assert target_3.sla == 3
    assert pols.policies["silver"].target("NEXT_REPLY_TIME", None) == SlaTarget(
        "silver", None, 7200, "CALENDAR_HOURS"
    )


def test_unknown_sla_choices() -> None:
    as_error = SlaPolicies.from_dict(policy_set())
    with pytest.raises(EventError) as caught:
        as_error.policy_for(9)
    assert str(caught.value) == 'sla "9" has no policy (known: "gold", "office", "silver")'
    as_none = SlaPolicies.from_dict(policy_set(unknown_sla="none", default="gold"))
    assert as_none.policy_for(9) is None
    assert as_none.policy_for(None) is as_none.policies["gold"]
    as_default = SlaPolicies.from_dict(policy_set(unknown_sla="default", default="silver"))
    assert as_default.policy_for("platinum") is as_default.policies["silver"]


def test_known_keys_are_cut_after_ten() -> None:
    pols = SlaPolicies.from_dict({"policies": {f"k{n:02}": {"targets": []} for n in range(13)}})
    with pytest.raises(EventError) as caught:
        pols.policy_for("zz")
    assert str(caught.value) == (
        'sla "zz" has no policy (known: "k00", "k01", "k02", "k03", "k04", "k05", "k06", '
        '"k07", "k08", "k09", and 3 more)'
    )


def test_default_by_text() -> None:
    pols = SlaPolicies.from_dict({"policies": {"7": GOLD}, "default": 7})
    assert pols.default == "7"
    assert pols.policy_for(None) is pols.policies["7"]


def test_policies_are_immutable_comparable_and_picklable() -> None:
    pols = SlaPolicies.from_dict(policy_set())
    assert pickle.loads(pickle.dumps(pols)) == pols
    gold = SlaPolicy.from_dict(GOLD)
    assert pickle.loads(pickle.dumps(gold)) == gold
    assert gold != SlaPolicy.from_dict({"targets": []})
    with pytest.raises(AttributeError):
        gold.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pols.policies["x"] = gold  # type: ignore[index]
    with pytest.raises(TypeError):
        pols.statuses["x"] = True  # type: ignore[index]


def test_reading_does_not_keep_the_callers_objects() -> None:
    raw = policy_set()
    pols = SlaPolicies.from_dict(raw)
    raw["statuses"]["Waiting on vendor"] = True
    raw["policies"]["gold"]["targets"][0]["goal_in_seconds"] = 1
    assert pols.statuses["Waiting on vendor"] is False
    found = pols.policies["gold"].target("FIRST_REPLY_TIME", None)
    assert found is not None
    assert found.goal_in_seconds == 3600


def test_huge_integers_are_refused_not_crashed_on() -> None:
    huge = 10**5000
    with pytest.raises(SlaPolicyError, match="goal_in_seconds: expected a positive integer"):
        SlaPolicy.from_dict({"targets": [target(goal=huge)]})
    with pytest.raises(SlaPolicyError, match="priority: expected a string, an integer or null"):
        SlaPolicy.from_dict({"targets": [target(priority=huge)]})


# --- Kayako ----------------------------------------------------------------------------------


def flat_sample() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(FLAT_SAMPLE.read_text())
    return result


def test_kayako_flat_sample() -> None:
    pols = SlaPolicies.from_kayako(flat_sample())
    assert list(pols.policies) == ["3"]
    support = pols.policies["3"]
    assert support.title == "Support SLA"
    assert len(support.targets) == 15
    # target 37: FIRST_REPLY_TIME for priority 4 (Urgent), 600 business seconds
    assert support.target("FIRST_REPLY_TIME", 4) == SlaTarget("3", 4, 600, "BUSINESS_HOURS")
    assert support.target("FIRST_REPLY_TIME", "4") == SlaTarget("3", 4, 600, "BUSINESS_HOURS")
    # target 31: the null-priority fallback
    assert support.target("FIRST_REPLY_TIME", 99) == SlaTarget("3", None, 600, "BUSINESS_HOURS")
    assert pols.has_business_hours


def embedded(sample: dict[str, Any]) -> dict[str, Any]:
    """The flat sample rewritten as embedded mode: targets and priorities inline."""
    resources = sample["resources"]
    sla = copy.deepcopy(sample["data"][0])
    targets = []
    for ref in sla["targets"]:
        item = copy.deepcopy(resources["sla_target"][str(ref["id"])])
        if item["priority"] is not None:
            item["priority"] = resources["case_priority"][str(item["priority"]["id"])]
        targets.append(item)
    sla["targets"] = targets
    return {"status": 200, "data": [sla]}


def test_kayako_embedded_envelope_data_list_and_single_object_agree() -> None:
    flat = SlaPolicies.from_kayako(flat_sample())
    whole = embedded(flat_sample())
    assert SlaPolicies.from_kayako(whole) == flat
    assert SlaPolicies.from_kayako(whole["data"]) == flat
    assert SlaPolicies.from_kayako(whole["data"][0]) == flat
    assert SlaPolicies.from_kayako({"data": whole["data"][0]}) == flat


def test_kayako_options() -> None:
    pols = SlaPolicies.from_kayako(
        flat_sample(), default=3, unknown_sla="default", statuses={"Escalated": True}
    )
    assert (pols.default, pols.unknown_sla, dict(pols.statuses)) == (
        "3",
        "default",
        {"Escalated": True},
    )
    assert pols.policy_for("17") is pols.policies["3"]
    with pytest.raises(
        SlaPolicyError, match="default: expected a key of policies or null, found 4"
    ):
        SlaPolicies.from_kayako(flat_sample(), default=4)


def test_kayako_disabled_and_deleted_slas_are_included() -> None:
    sample = embedded(flat_sample())
    second = copy.deepcopy(sample["data"][0]) | {"id": 4, "is_enabled": False, "is_deleted": True}
    sample["data"].append(second)
    assert list(SlaPolicies.from_kayako(sample).policies) == ["3", "4"]


def test_kayako_integer_priority_and_no_targets() -> None:
    sla = {"id": 9, "title": "Plain", "targets": [
        {"type": "resolution_time", "priority": 2, "goal_in_seconds": 60,
         "operational_hours": "CALENDAR_HOURS"}]}  # fmt: skip
    found = SlaPolicies.from_kayako(sla).policies["9"].target("RESOLUTION_TIME", "2")
    assert found == SlaTarget("9", 2, 60, "CALENDAR_HOURS")
    assert SlaPolicies.from_kayako({"id": 1, "title": None}).policies["1"].targets == ()


def with_reference(target_id: Any) -> dict[str, Any]:
    sample = flat_sample()
    sample["data"][0]["targets"][2] = {"id": target_id, "resource_type": "sla_target"}
    return sample


def kayako_error(obj: Any) -> str:
    with pytest.raises(SlaPolicyError) as caught:
        SlaPolicies.from_kayako(obj)
    return str(caught.value)


def test_kayako_errors() -> None:
    # targets 33 ... 44 ... in that order: 44 now also sits at position 2
    assert kayako_error(with_reference(44)) == (
        "kayako sla: data[0].targets[11]: duplicate target for RESOLUTION_TIME, priority 3 "
        "(also targets[2])"
    )
    assert kayako_error(with_reference(999)) == (
        "kayako sla: data[0].targets[2]: reference sla_target 999 not found in resources"
    )
    assert kayako_error(with_reference(44) | {"resources": {}}) == (
        "kayako sla: data[0].targets[0]: reference sla_target 31 not found in resources"
    )
    data_only = flat_sample()["data"]
    assert kayako_error(data_only) == (
        "kayako sla: data[0].targets[0]: reference sla_target 31 not found in resources"
    )
    bad_goal = embedded(flat_sample())
    bad_goal["data"][0]["targets"][1]["goal_in_seconds"] = "600"
    assert kayako_error(bad_goal) == (
        'kayako sla: data[0].targets[1].goal_in_seconds: expected a positive integer, found "600"'
    )
    bad_priority = embedded(flat_sample())
    bad_priority["data"][0]["targets"][3]["priority"] = "High"
    assert kayako_error(bad_priority) == (
        "kayako sla: data[0].targets[3].priority: expected null, an integer or a case_priority "
        'reference, found "High"'
    )
    assert kayako_error("x") == (
        'kayako sla: expected a response object, its data list or one SLA object, found "x"'
    )
    assert kayako_error({"data": 5}) == (
        "kayako sla: data: expected a list of SLA objects or one SLA object, found 5"
    )
    assert kayako_error([{"title": "no id"}]) == (
        "kayako sla: data[0].id: expected a string or integer id, found null"
    )
    assert kayako_error([{"id": 3}, {"id": "3"}]) == (
        'kayako sla: data[1].id: expected each SLA once, found id "3" again (also data[0])'
    )
    assert kayako_error([{"id": 3, "title": 5}]) == (
        "kayako sla: data[0].title: expected a string, found 5"
    )


def test_kayako_camel_case_is_refused() -> None:
    sample = flat_sample()
    sample["resources"]["sla_target"]["31"]["goalInSeconds"] = 600
    message = kayako_error(sample)
    assert message.startswith(
        'kayako sla: data[0].targets[0]: expected snake_case keys, found "goalInSeconds"'
    )
    camel = {"status": 200, "data": [{"id": 3, "title": "x", "targets": [], "isEnabled": True}]}
    assert 'found "isEnabled"' in kayako_error(camel)
    assert 'found "totalCount"' in kayako_error({"data": [], "totalCount": 0})
