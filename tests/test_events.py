"""Parsing one event (SPEC sections 1 and 2): one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_engine._errors import EventError, MetricsEngineError
from metrics_engine._events import SYSTEM, Actor, Status, parse_event, parse_instant


def ev(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "case": 1,
        "event": "message",
        "at": "2026-03-02T09:15:00-05:00",
        "actor": {"id": 17, "role": "customer"},
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def parse(**overrides: Any) -> Any:
    event = parse_event(ev(**overrides))
    assert event is not None
    return event


# --------------------------------------------------------------------------- instants


def test_offset_time_becomes_utc_epoch_seconds() -> None:
    # 09:15 at -05:00 is 14:15 UTC.
    expected = int(datetime(2026, 3, 2, 14, 15, tzinfo=UTC).timestamp())
    assert parse().at == expected


def test_z_suffix_is_utc() -> None:
    assert parse(at="2026-03-02T14:15:00Z").at == parse().at


def test_same_instant_with_another_offset_is_equal() -> None:
    assert parse(at="2026-03-02T19:45:00+05:30").at == parse().at


def test_fractions_truncate_toward_the_past() -> None:
    whole = parse(at="2026-03-02T14:15:00Z").at
    assert parse(at="2026-03-02T14:15:00.999999Z").at == whole
    assert parse(at="2026-03-02T14:14:59.000001Z").at == whole - 1


def test_fractions_truncate_toward_the_past_before_1970() -> None:
    # -0.5 s is in the second that starts at -1, not at 0.
    assert parse_instant("1969-12-31T23:59:59.500000Z", "at") == -1


@pytest.mark.parametrize(
    "written",
    ["2026-03-02t14:15:00z", "20260302T141500Z", "2026-03-02T14:15:00.000+00:00"],
)
def test_other_iso_forms_are_read(written: str) -> None:
    assert parse(at=written).at == parse().at


def test_24_00_is_midnight_of_the_next_day() -> None:
    assert parse(at="2026-03-01T24:00:00Z").at == parse(at="2026-03-02T00:00:00Z").at


@pytest.mark.parametrize("edge", ["0001-01-01T02:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_instants_at_the_edge_of_datetime_are_refused(edge: str) -> None:
    with pytest.raises(EventError, match="between 0001-01-02 and 9999-12-30"):
        parse(at=edge)


def test_aware_datetime_is_accepted_and_truncated() -> None:
    moment = datetime(2026, 3, 2, 9, 15, 0, 750000, tzinfo=timezone(timedelta(hours=-5)))
    assert parse(at=moment).at == parse().at


@pytest.mark.parametrize("naive", ["2026-03-02T09:15:00", datetime(2026, 3, 2, 9, 15)])
def test_naive_time_is_an_error(naive: object) -> None:
    with pytest.raises(EventError, match=r"'at'.*naive"):
        parse(at=naive)


@pytest.mark.parametrize("bad", ["yesterday", "", 1772460900, None, ["2026-03-02"]])
def test_bad_time_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match="'at'"):
        parse(at=bad)


def test_missing_time_is_an_error() -> None:
    with pytest.raises(EventError, match="'at': expected"):
        parse(at=...)


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize("kind", ["created", "message", "note", "update"])
def test_the_four_kinds_parse(kind: str) -> None:
    assert parse(event=kind).kind == kind


@pytest.mark.parametrize("bad", ["reply", "Message", "", None, 3])
def test_unknown_kind_is_an_error_in_strict_mode(bad: object) -> None:
    with pytest.raises(EventError, match="'event'"):
        parse(event=bad)


def test_unknown_kind_is_none_in_lenient_mode() -> None:
    assert parse_event(ev(event="tag_added"), lenient=True) is None


def test_missing_kind_is_an_error_even_in_lenient_mode() -> None:
    # CHOICE: only a *named* unknown kind is skipped; a missing or non-string one is malformed.
    with pytest.raises(EventError):
        parse_event(ev(event=...), lenient=True)


def test_not_an_object_is_an_error() -> None:
    with pytest.raises(EventError, match="expected an event object"):
        parse_event(["case", 1])


# --------------------------------------------------------------------------- ids


def test_case_id_is_compared_by_text() -> None:
    assert parse(case=17).case_key == parse(case="17").case_key == "17"
    assert parse(case=17).case_raw == 17


@pytest.mark.parametrize("bad", [True, 1.0, None, {"id": 1}])
def test_bad_case_id_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match="'case'"):
        parse(case=bad)


def test_missing_case_is_an_error() -> None:
    with pytest.raises(EventError, match="'case'"):
        parse(case=...)


def test_event_id_by_text() -> None:
    assert parse(id=99).event_id == "99"
    assert parse(id="e-1").event_id == "e-1"
    assert parse().event_id is None


@pytest.mark.parametrize("bad", [False, 2.5, [1]])
def test_bad_event_id_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match="'id'"):
        parse(id=bad)


# --------------------------------------------------------------------------- actors


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agent", "agent"),
        ("customer", "customer"),
        ("OWNER", "agent"),
        ("ADMIN", "agent"),
        ("AGENT", "agent"),
        ("COLLABORATOR", "agent"),
        ("CUSTOMER", "customer"),
        ("Collaborator", "agent"),
        ("cUsToMeR", "customer"),
    ],
)
def test_roles_and_kayako_role_names(role: str, expected: str) -> None:
    assert parse(actor={"id": 5, "role": role}).actor == Actor(expected, "5", 5)


def test_missing_or_null_actor_is_system() -> None:
    assert parse(actor=...).actor is SYSTEM
    assert parse(actor=None).actor is SYSTEM


def test_system_role_needs_no_id() -> None:
    assert parse(actor={"role": "system"}).actor.role == "system"


def test_system_actor_with_an_id_is_still_nobody() -> None:
    # The system is never a user: its id is checked for type, then ignored.
    assert parse(actor={"role": "SYSTEM", "id": 5}).actor is SYSTEM
    with pytest.raises(EventError, match=r"'actor\.id'"):
        parse(actor={"role": "system", "id": 5.5})


@pytest.mark.parametrize("bad", ["robot", "", None, 1])
def test_bad_role_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match=r"'actor\.role'"):
        parse(actor={"id": 5, "role": bad})


def test_actor_without_role_is_an_error() -> None:
    with pytest.raises(EventError, match=r"'actor\.role'"):
        parse(actor={"id": 5})


@pytest.mark.parametrize("role", ["agent", "customer", "ADMIN"])
def test_actor_without_id_is_an_error(role: str) -> None:
    with pytest.raises(EventError, match=r"'actor\.id'"):
        parse(actor={"role": role})


@pytest.mark.parametrize("bad", [True, 5.0])
def test_bad_actor_id_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match=r"'actor\.id'"):
        parse(actor={"id": bad, "role": "agent"})


def test_actor_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(EventError, match="'actor'"):
        parse(actor="agent")


def test_actor_ids_compare_by_text_and_keep_their_form() -> None:
    as_int = parse(actor={"id": 17, "role": "agent"}).actor
    as_str = parse(actor={"id": "17", "role": "agent"}).actor
    assert as_int.key == as_str.key == "17"
    assert (as_int.raw, as_str.raw) == (17, "17")


# --------------------------------------------------------------------------- created


def test_created_defaults() -> None:
    created = parse(event="created")
    assert created.values == {
        "requester": "17",  # an absent requester defaults to a customer creator
        "status": Status("NEW", "NEW"),
    }
    assert created.opening == "message"


def test_created_by_agent_has_no_default_requester() -> None:
    created = parse(event="created", actor={"id": 5, "role": "agent"})
    assert created.values["requester"] is None


def test_explicit_null_requester_stays_null() -> None:
    created = parse(event="created", fields={"requester": None})
    assert created.values["requester"] is None


def test_created_fields_are_normalised() -> None:
    created = parse(
        event="created",
        fields={
            "requester": 40,
            "status": "open",
            "assignee": "5",
            "team": 3,
            "priority": "HIGH",
            "type": 2,
            "sla": None,
            "tags": ["ignored"],
        },
    )
    assert created.values == {
        "requester": "40",
        "status": Status("OPEN", "OPEN"),
        "assignee": "5",
        "team": "3",
        "priority": "HIGH",
        "type": 2,
        "sla": None,
    }


@pytest.mark.parametrize(
    ("given", "expected"), [("note", "note"), ("NONE", "none"), (None, "message")]
)
def test_opening(given: object, expected: str) -> None:
    assert parse(event="created", opening=given).opening == expected


def test_bad_opening_is_an_error() -> None:
    with pytest.raises(EventError, match="'opening'"):
        parse(event="created", opening="email")


# --------------------------------------------------------------------------- statuses


def test_custom_status() -> None:
    update = parse(
        event="update", changes={"status": {"name": "Waiting on vendor", "type": "pending"}}
    )
    assert update.values["status"] == Status("Waiting on vendor", "PENDING")


@pytest.mark.parametrize(
    "bad",
    ["SOLVED", {"name": "x"}, {"name": "", "type": "OPEN"}, {"name": "x", "type": "DONE"}, 3],
)
def test_bad_status_is_an_error(bad: object) -> None:
    with pytest.raises(EventError, match="status"):
        parse(event="update", changes={"status": bad})


def test_null_status_is_an_error() -> None:
    with pytest.raises(EventError, match=r"status.*null"):
        parse(event="update", changes={"status": None})
    with pytest.raises(EventError, match=r"status.*null"):
        parse(event="created", fields={"status": None})


# --------------------------------------------------------------------------- values


def test_update_keeps_only_known_fields() -> None:
    update = parse(event="update", changes={"priority": 11, "tags": ["a"], "subject": "x"})
    assert update.values == {"priority": 11}


def test_update_without_changes_is_an_empty_update() -> None:
    assert parse(event="update").values == {}
    assert parse(event="update", changes=None).values == {}


@pytest.mark.parametrize("name", ["priority", "type", "sla"])
@pytest.mark.parametrize("bad", [1.5, True, ["x"], {"id": 1}])
def test_bad_value_type_is_an_error(name: str, bad: object) -> None:
    with pytest.raises(EventError, match=f"'changes.{name}'"):
        parse(event="update", changes={name: bad})


@pytest.mark.parametrize("name", ["requester", "assignee", "team"])
@pytest.mark.parametrize("bad", [1.5, False])
def test_bad_id_value_is_an_error(name: str, bad: object) -> None:
    with pytest.raises(EventError, match=f"'fields.{name}'"):
        parse(event="created", fields={name: bad})


def test_changes_that_are_not_an_object_are_an_error() -> None:
    with pytest.raises(EventError, match="'changes'"):
        parse(event="update", changes=["status", "OPEN"])


# --------------------------------------------------------------------------- misuse


@pytest.mark.parametrize("kind", ["message", "note", "update"])
def test_fields_on_another_kind_is_an_error_even_null(kind: str) -> None:
    with pytest.raises(EventError, match="'fields'"):
        parse(event=kind, fields=None)


@pytest.mark.parametrize("kind", ["created", "message", "note"])
def test_changes_on_another_kind_is_an_error_even_null(kind: str) -> None:
    with pytest.raises(EventError, match="'changes'"):
        parse(event=kind, changes=None)


def test_private_message_is_a_note() -> None:
    assert parse(public=False).kind == "note"
    assert parse(public=True).kind == "message"


def test_bad_public_flag_is_an_error() -> None:
    with pytest.raises(EventError, match="'public'"):
        parse(public="no")


def test_unknown_keys_are_ignored() -> None:
    assert parse(channel="MAIL", body="hi", extra={"x": 1}).kind == "message"


def test_event_content_ignores_the_form_of_ids() -> None:
    a = parse(id="1", actor={"id": 17, "role": "agent"}, at="2026-03-02T14:15:00Z")
    b = parse(id=1, actor={"id": "17", "role": "AGENT"}, at="2026-03-02T09:15:00-05:00")
    assert a.content() == b.content()
    assert a.content() != parse(id=1, actor={"id": 18, "role": "agent"}).content()


# --------------------------------------------------------------------------- errors


def test_errors_are_one_line_and_say_expected_and_found() -> None:
    with pytest.raises(EventError) as caught:
        parse(actor={"id": 5, "role": "robot\nx"})
    message = str(caught.value)
    assert "\n" not in message
    assert "expected" in message
    assert "found" in message


def test_errors_carry_case_and_index_once_located() -> None:
    with pytest.raises(EventError) as caught:
        parse(event="bogus")
    error = caught.value.locate(case=1042, index=3)
    assert (error.case, error.index) == (1042, 3)
    assert str(error).startswith("case 1042, event 3: ")
    assert isinstance(error, ValueError)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "created",
            "message",
            "note",
            "update",
            "agent",
            "customer",
            "OPEN",
            "2026-03-02T09:15:00Z",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "case": json_values,
        "event": st.sampled_from(["created", "message", "note", "update", "x"]) | json_values,
        "at": st.sampled_from(["2026-03-02T09:15:00Z", "2026-03-02T09:15:00"]) | json_values,
        "actor": st.fixed_dictionaries(
            {},
            optional={"id": json_values, "role": st.sampled_from(["agent", "ADMIN"]) | json_values},
        )
        | json_values,
        "id": json_values,
        "fields": st.dictionaries(
            st.sampled_from(["requester", "status", "assignee", "team", "priority", "type", "sla"]),
            json_values,
        )
        | json_values,
        "changes": json_values,
        "opening": json_values,
        "public": json_values,
    },
)


@given(raw=event_like | json_values, lenient=st.booleans())
def test_arbitrary_input_raises_only_library_errors(raw: object, lenient: bool) -> None:
    try:
        parse_event(raw, lenient=lenient)
    except MetricsEngineError as error:
        message = str(error)
    else:
        return
    assert "\n" not in message
