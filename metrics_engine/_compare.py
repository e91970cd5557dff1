"""Our recomputed metrics beside Kayako's own ``case_metric``, field by field (pure).

Rows are joined by case id (compared by text; a row names its case in ``case_id`` or, in older
outputs, ``case``). For each of the 41 fields, each case counts once as *compared* (equal or
different) or as missing on our side or Kayako's (no row, or no such key). Values are read
by the field's kind before they are compared: instants by the moment they name (any offset),
users by their id's text, integers with ``null`` read as ``0`` (Kayako writes ``0`` where a
value is absent, our batch output writes ``null``), flags as they are. Kayako's two other
spellings, ``last_reopen_at`` and ``agent_update_at``, are read where the canonical key is
missing, on both sides. docs/kayako.md describes the command that prints this.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text, parse_instant
from metrics_engine._output import ALIASES, FIELDS, INTEGER_FIELDS, TIMESTAMP_FIELDS, USER_FIELDS

__all__ = ["CompareError", "Comparison", "Difference", "FieldCounts", "compare"]

_MISSING: Final[Any] = object()
#: Each field's spellings, canonical first: Kayako's sample also writes two of them otherwise.
_SPELLINGS: Final = {name: (name, alias) for name, alias in ALIASES.items()}


class CompareError(MetricsEngineError):
    """A row or a Kayako metrics object cannot be read."""


@dataclass(slots=True)
class FieldCounts:
    """How one field fared over all cases."""

    compared: int = 0
    equal: int = 0
    different: int = 0
    missing_ours: int = 0
    missing_kayako: int = 0


@dataclass(frozen=True, slots=True)
class Difference:
    """One field of one case whose values differ, both as they were written."""

    case_id: str
    field: str
    ours: Any
    kayako: Any


@dataclass(slots=True)
class Comparison:
    """Per-field counts, the differences, and which cases each side has."""

    fields: dict[str, FieldCounts]
    differences: list[Difference] = field(default_factory=list)
    both: int = 0
    only_ours: list[str] = field(default_factory=list)
    only_kayako: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every value compared is equal, 1 when one differs."""
        return 1 if self.differences else 0

    def lines(self) -> Iterator[str]:
        """The report as text: a table of fields, then every difference."""
        yield (
            f"cases: {self.both} in both, {len(self.only_ours)} only in ours, "
            f"{len(self.only_kayako)} only in Kayako's export"
        )
        width = max(len(name) for name in FIELDS)
        header = ("compared", "equal", "different", "missing ours", "missing Kayako")
        yield f"{'field':<{width}}  " + "  ".join(header)
        for name, counts in self.fields.items():
            numbers = (
                counts.compared,
                counts.equal,
                counts.different,
                counts.missing_ours,
                counts.missing_kayako,
            )
            yield f"{name:<{width}}  " + "  ".join(
                f"{number:>{len(title)}}" for number, title in zip(numbers, header, strict=True)
            )
        if self.differences:
            yield f"differences ({len(self.differences)}):"
            for item in self.differences:
                yield (
                    f"  case {item.case_id}  {item.field}: ours {_show(item.field, item.ours)}, "
                    f"Kayako {_show(item.field, item.kayako)}"
                )
        else:
            yield "differences: none"

    def records(self) -> Iterator[dict[str, Any]]:
        """The report as JSON objects: one per field, then one per difference."""
        for name, counts in self.fields.items():
            yield {
                "field": name,
                "compared": counts.compared,
                "equal": counts.equal,
                "different": counts.different,
                "missing_ours": counts.missing_ours,
                "missing_kayako": counts.missing_kayako,
            }
        for item in self.differences:
            yield {
                "case_id": item.case_id,
                "field": item.field,
                "ours": item.ours,
                "kayako": item.kayako,
            }


def compare(ours: Iterable[Mapping[str, Any]], kayako: Mapping[str, Any]) -> Comparison:
    """Join our rows with Kayako's metrics objects (by case id text) and compare each field.

    ``kayako`` maps a case id to its ``GET /api/v1/cases/:id/metrics.json`` response (or the
    ``data`` object alone).
    """
    rows: dict[str, Mapping[str, Any]] = {}
    for number, row in enumerate(ours, 1):
        key = _row_id(row, number)
        if key in rows:
            raise CompareError(
                f"metrics row {number}: expected each case once, found {key!r} again"
            )
        rows[key] = row
    theirs = {id_text(key, "case id"): _unwrap(value, key) for key, value in kayako.items()}
    result = Comparison(fields={name: FieldCounts() for name in FIELDS})
    result.only_ours = [key for key in rows if key not in theirs]
    result.only_kayako = [key for key in theirs if key not in rows]
    result.both = len(rows) - len(result.only_ours)
    for key in _case_order(rows.keys() | theirs.keys()):
        mine, other = rows.get(key), theirs.get(key)
        for name in FIELDS:
            counts = result.fields[name]
            a = _value(mine, name)
            b = _value(other, name)
            if a is _MISSING:
                counts.missing_ours += 1
            if b is _MISSING:
                counts.missing_kayako += 1
            if a is _MISSING or b is _MISSING:
                continue
            counts.compared += 1
            if _read(name, a) == _read(name, b):
                counts.equal += 1
            else:
                counts.different += 1
                result.differences.append(Difference(key, name, a, b))
    return result


def _row_id(row: Mapping[str, Any], number: int) -> str:
    if not isinstance(row, Mapping):
        raise CompareError(
            f"metrics row {number}: expected a JSON object, found {type(row).__name__}"
        )
    for name in ("case_id", "case"):
        if name in row:
            try:
                return id_text(row[name], name)
            except MetricsEngineError as error:
                raise CompareError(f"metrics row {number}: {error.detail}") from None
    raise CompareError(f"metrics row {number}: expected a 'case_id' (or 'case') key, found none")


def _unwrap(value: object, key: object) -> Mapping[str, Any]:
    if isinstance(value, Mapping) and isinstance(value.get("data"), Mapping):
        value = value["data"]
    if not isinstance(value, Mapping):
        raise CompareError(
            f"Kayako metrics of case {key}: expected a case_metric object, found "
            f"{type(value).__name__}"
        )
    return value


def _case_order(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda key: (0, int(key), key) if key.isdigit() else (1, 0, key))


def _value(row: Mapping[str, Any] | None, name: str) -> Any:
    if row is None:
        return _MISSING
    for spelling in _SPELLINGS.get(name, (name,)):
        if spelling in row:
            return row[spelling]
    return _MISSING


def _read(name: str, value: Any) -> Any:
    """A value as it compares: instants by moment, users by id text, absent integers as 0."""
    if name in TIMESTAMP_FIELDS and value is not None:
        try:
            return parse_instant(value, name)
        except MetricsEngineError:
            return ("unreadable", value)
    if name in USER_FIELDS and value is not None:
        user = value.get("id") if isinstance(value, Mapping) else value
        try:
            return id_text(user, name)
        except MetricsEngineError:
            return ("unreadable", value)
    if name in INTEGER_FIELDS:
        if value is None:
            return 0
        if isinstance(value, float) and value.is_integer():
            return int(value)
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)  # true is not 1
    return value


def _show(field: str, value: Any) -> str:
    """A value for the text report; a user as ``user <id>``, whether written as an object
    (Kayako's API) or as its bare id (batch rows)."""
    if field in USER_FIELDS and value is not None:
        user = value.get("id") if isinstance(value, Mapping) else value
        return f"user {user}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
