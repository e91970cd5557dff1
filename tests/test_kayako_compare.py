"""compare: our rows beside Kayako's case_metric objects, field by field."""

from __future__ import annotations

from typing import Any

import pytest

import metrics_engine as me
from metrics_engine._compare import CompareError, Difference, compare
from metrics_engine._output import FIELDS
from tests.test_kayako_spec_example import SPEC_EXAMPLE


def _ours() -> dict[str, Any]:
    """The worked example as a batch row: case_id text, absent integers null."""
    return {"case_id": "1042", **me.compute_metrics(SPEC_EXAMPLE).to_dict(absent="null")}


def _kayako() -> dict[str, Any]:
    """The same metrics as Kayako's API writes them: 0 for absent, the other spellings, ids
    as integers, times in another offset."""
    data = me.compute_metrics(SPEC_EXAMPLE).to_dict(timezone="America/New_York", aliases=True)
    del data["last_reopened_at"], data["agent_updated_at"]
    return {"status": 200, "data": data, "resource": "case_metric"}


def test_the_same_metrics_written_two_ways_are_equal() -> None:
    result = compare([_ours()], {1042: _kayako()})
    assert result.differences == []
    assert result.exit_code == 0
    assert all(
        (counts.compared, counts.equal, counts.missing_ours, counts.missing_kayako) == (1, 1, 0, 0)
        for counts in result.fields.values()
    )
    assert list(result.fields) == list(FIELDS)


def test_old_rows_name_the_case_in_case() -> None:
    row = _ours()
    row["case"] = int(row.pop("case_id"))
    assert compare([row], {"1042": _kayako()}).exit_code == 0


def test_differences_name_case_field_and_both_values() -> None:
    theirs = _kayako()
    theirs["data"]["agent_reply_count"] = 3
    theirs["data"]["resolved_by"] = {"id": 6, "resource_type": "user"}
    theirs["data"]["agent_update_at"] = "2026-03-03T09:31:01-05:00"  # one second later
    result = compare([_ours()], {"1042": theirs})
    assert result.exit_code == 1
    assert [(item.case_id, item.field) for item in result.differences] == [
        ("1042", "agent_updated_at"),
        ("1042", "resolved_by"),
        ("1042", "agent_reply_count"),
    ]
    assert result.differences[2] == Difference("1042", "agent_reply_count", 2, 3)
    counts = result.fields["agent_reply_count"]
    assert (counts.compared, counts.equal, counts.different) == (1, 0, 1)
    lines = list(result.lines())
    assert "  case 1042  resolved_by: ours user 5, Kayako user 6" in lines


def test_missing_cases_and_keys() -> None:
    other = {"case_id": "7", **dict.fromkeys(FIELDS)}
    theirs = _kayako()
    del theirs["data"]["reopen_count"]
    result = compare([_ours(), other], {"1042": theirs, "9": {"data": {}}})
    assert (result.both, result.only_ours, result.only_kayako) == (1, ["7"], ["9"])
    counts = result.fields["reopen_count"]
    # 1042: Kayako lacks the key; 7: no Kayako object; 9: no row of ours (and no key).
    assert (counts.compared, counts.missing_ours, counts.missing_kayako) == (0, 1, 3)
    assert result.exit_code == 0  # nothing compared differs


def test_absent_integers_and_flags() -> None:
    # null (ours) and 0 (Kayako) both say "absent"; but a flag false is not 0.
    row = {"case_id": "1", "resolution_calendar_time": None, "was_reopened": False}
    theirs = {"resolution_calendar_time": 0, "was_reopened": 0}
    result = compare([row], {"1": theirs})
    assert result.fields["resolution_calendar_time"].equal == 1
    assert [item.field for item in result.differences] == ["was_reopened"]


@pytest.mark.parametrize(
    ("rows", "kayako", "message"),
    [
        ([{"case_id": 1}, {"case_id": "1"}], {}, "metrics row 2: expected each case once"),
        ([{"id": 1}], {}, r"metrics row 1: expected a 'case_id' \(or 'case'\) key"),
        ([{"case_id": 1.5}], {}, "metrics row 1: case_id: expected a string or integer id"),
        ([], {"1": [1]}, "Kayako metrics of case 1: expected a case_metric object"),
    ],
)
def test_errors(rows: list[Any], kayako: dict[str, Any], message: str) -> None:
    with pytest.raises(CompareError, match=message):
        compare(rows, kayako)
