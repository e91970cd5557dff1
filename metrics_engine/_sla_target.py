"""SLA targets: the clock types and hours, a target and a goal, and reading a target from JSON.

A *target* is a goal for one clock type (first reply, next reply, resolution), optionally for
one priority, in calendar or business hours: :class:`SlaTarget` as written, :class:`Goal` as
the clocks read it. Reading a target checks every key; every problem is one
:class:`SlaPolicyError` line that names the JSON path of the bad value (:class:`_Path`, which
``_sla_spec`` uses for the policies and policy sets around the targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from metrics_engine._errors import MetricsEngineError
from metrics_engine._kayako_sla import as_key, quote, show

__all__ = [
    "BUSINESS_HOURS",
    "CALENDAR_HOURS",
    "METRIC_TYPES",
    "Goal",
    "SlaPolicyError",
    "SlaTarget",
]

FIRST_REPLY_TIME: Final = "FIRST_REPLY_TIME"
NEXT_REPLY_TIME: Final = "NEXT_REPLY_TIME"
RESOLUTION_TIME: Final = "RESOLUTION_TIME"
#: The three clock types, in the order records are reported.
METRIC_TYPES: Final = (FIRST_REPLY_TIME, NEXT_REPLY_TIME, RESOLUTION_TIME)
BUSINESS_HOURS: Final = "BUSINESS_HOURS"
CALENDAR_HOURS: Final = "CALENDAR_HOURS"
_HOURS: Final = (BUSINESS_HOURS, CALENDAR_HOURS)

_TARGET_KEYS: Final = frozenset({"type", "priority", "goal_in_seconds", "operational_hours"})

Value = str | int | None
Key = str | int


class SlaPolicyError(MetricsEngineError):
    """An SLA policy (or Kayako's SLA response) is malformed, or does not fit the options."""


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """One goal as reported with a clock: the policy key (``None`` for a standalone policy),
    the target's own priority as written, the goal in seconds and the hours it counts."""

    sla: Key | None
    priority: Value
    goal_in_seconds: int
    operational_hours: str

    @property
    def business(self) -> bool:
        """Whether the goal counts business seconds only."""
        return self.operational_hours == BUSINESS_HOURS

    def to_dict(self) -> dict[str, Any]:
        return {
            "sla": self.sla,
            "priority": self.priority,
            "goal_in_seconds": self.goal_in_seconds,
            "operational_hours": self.operational_hours,
        }


def _text(value: Value) -> str | None:
    """The lookup key of a priority, an ``sla`` value or a policy key: its text."""
    return value if value is None or type(value) is str else str(value)


class Goal(NamedTuple):
    """A target as the clocks read it: the goal, whether it counts business seconds, and
    the target itself (what the records report)."""

    seconds: int
    business: bool
    target: SlaTarget


#: The goals of the three clock types (in :data:`METRIC_TYPES` order), ``None`` for no target.
Goals = tuple[Goal | None, Goal | None, Goal | None]


class _Path:
    """A JSON path for messages: ``policies["gold"].targets[1].type``."""

    __slots__ = ("prefix", "text")

    def __init__(self, prefix: str, text: str = "") -> None:
        self.prefix = prefix  # "sla policy" or "kayako sla"
        self.text = text

    def key(self, name: str) -> _Path:
        return _Path(self.prefix, f"{self.text}.{name}" if self.text else name)

    def item(self, key: str) -> _Path:
        return _Path(self.prefix, f"{self.text}[{quote(key)}]")

    def index(self, position: int) -> _Path:
        return _Path(self.prefix, f"{self.text}[{position}]")

    def error(self, detail: str) -> SlaPolicyError:
        where = f"{self.text}: " if self.text else ""
        return SlaPolicyError(f"{self.prefix}: {where}{detail}")


def _check_keys(obj: Mapping[Any, Any], allowed: frozenset[str], path: _Path) -> None:
    for key in obj:
        if key not in allowed:
            raise path.error(f"unknown key {show(key)}")


def _read_target(obj: object, path: _Path, key: Key | None) -> tuple[str, SlaTarget]:
    if not isinstance(obj, Mapping):
        raise path.error(f"expected a target object, found {show(obj)}")
    _check_keys(obj, _TARGET_KEYS, path)
    for name in ("type", "goal_in_seconds", "operational_hours"):
        if name not in obj:
            raise path.error(f"missing {name}")
    metric_type = _upper_choice(obj["type"], METRIC_TYPES)
    if metric_type is None:
        raise path.key("type").error(
            f"expected FIRST_REPLY_TIME, NEXT_REPLY_TIME or RESOLUTION_TIME, found "
            f"{show(obj['type'])}"
        )
    priority = obj.get("priority")
    if priority is not None:
        priority = as_key(priority)
        if priority is None:
            raise path.key("priority").error(
                f"expected a string, an integer or null, found {show(obj['priority'])}"
            )
    goal = obj["goal_in_seconds"]
    if isinstance(goal, bool) or not isinstance(goal, int) or goal <= 0 or as_key(goal) is None:
        raise path.key("goal_in_seconds").error(f"expected a positive integer, found {show(goal)}")
    hours = _upper_choice(obj["operational_hours"], _HOURS)
    if hours is None:
        raise path.key("operational_hours").error(
            f"expected BUSINESS_HOURS or CALENDAR_HOURS, found {show(obj['operational_hours'])}"
        )
    return metric_type, SlaTarget(key, priority, int(goal), hours)


def _upper_choice(value: object, choices: tuple[str, ...]) -> str | None:
    if isinstance(value, str):
        upper = value.upper()
        if upper in choices:
            return upper
    return None
