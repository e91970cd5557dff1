"""Reference SLA policy parsing (SPEC 10.1, 10.3 ``statuses``, 10.9 policy errors).

Written from the SPEC alone, for clarity, not speed. See the READING list in ``ref_sla.py``
for the choices made where the SPEC is silent.

Public API
----------
- ``RefSlaPolicyError(path, message)``: ``.path`` is the JSON path ("" for the top level),
  ``.message`` the text after it; ``str()`` is ``sla policy: <path>: <message>`` (``kayako
  sla: ...`` for the Kayako import).
- ``RefTarget``, ``RefPolicy``: one target, one policy (``.lookup(type, case_priority)``).
- ``RefSlaPolicy.from_dict(obj)``: a standalone policy (may carry ``statuses``).
- ``RefSlaPolicies.from_dict(obj)`` and ``RefSlaPolicies.from_kayako(obj, default=None,
  unknown_sla="error", statuses=None)``: a policy set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .ref_calendar import RefError, id_text

CLOCK_TYPES: tuple[str, ...] = ("FIRST_REPLY_TIME", "NEXT_REPLY_TIME", "RESOLUTION_TIME")
HOURS: tuple[str, ...] = ("BUSINESS_HOURS", "CALENDAR_HOURS")
UNKNOWN_SLA: tuple[str, ...] = ("error", "none", "default")


class RefSlaPolicyError(RefError):
    """A malformed policy: ``.path`` names where, ``.message`` says expected / found."""

    def __init__(
        self, path: str, message: str, *, source: str = "sla policy", text: str | None = None
    ) -> None:
        self.path: str = path
        self.message: str = message
        if text is None:
            text = f"{source}: {path}: {message}" if path else f"{source}: {message}"
        super().__init__("sla_policy", text)


def found(value: Any) -> str:
    """How a found value is shown: JSON for scalars, a kind for containers."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def key_path(parent: str, key: Any) -> str:
    """``policies["gold"]``; an integer key shows bare: ``policies[3]``."""
    return f"{parent}[{found(key)}]"


def _is_id(v: Any) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)


# =========================================================================== data model


@dataclass(frozen=True)
class RefTarget:
    type: str  # upper case
    priority: Any  # as written (None for the fallback)
    goal: int
    hours: str  # upper case

    def to_dict(self, sla_key: Any) -> dict[str, Any]:
        return {
            "sla": sla_key,
            "priority": self.priority,
            "goal_in_seconds": self.goal,
            "operational_hours": self.hours,
        }


@dataclass(frozen=True)
class RefPolicy:
    title: str | None
    targets: tuple[RefTarget, ...]

    def lookup(self, clock_type: str, case_priority: Any) -> RefTarget | None:
        """SPEC 10.1 target lookup: exact priority text, else the null-priority target, else none."""
        if case_priority is not None:
            for t in self.targets:
                if (
                    t.type == clock_type
                    and t.priority is not None
                    and id_text(t.priority) == id_text(case_priority)
                ):
                    return t
        for t in self.targets:
            if t.type == clock_type and t.priority is None:
                return t
        return None

    @property
    def has_business(self) -> bool:
        return any(t.hours == "BUSINESS_HOURS" for t in self.targets)


@dataclass(frozen=True)
class RefSlaPolicy:
    """A standalone policy: in force for the whole case, whatever its ``sla`` holds."""

    policy: RefPolicy
    statuses: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Any) -> RefSlaPolicy:
        if not isinstance(obj, Mapping):
            raise RefSlaPolicyError(
                "", f'expected an object with "targets" or "policies", found {found(obj)}'
            )
        policy = _parse_policy(obj, "", allow_statuses=True)
        statuses = _parse_statuses(obj["statuses"], "statuses") if "statuses" in obj else {}
        return cls(policy, statuses)


@dataclass(frozen=True)
class RefSlaPolicies:
    """A policy set: the case's ``sla`` value picks the policy."""

    policies: dict[str, tuple[Any, RefPolicy]]  # key text -> (key as given, policy)
    default: str | None  # key text
    unknown_sla: str
    statuses: dict[str, bool]

    @classmethod
    def from_dict(cls, obj: Any) -> RefSlaPolicies:
        if not isinstance(obj, Mapping):
            raise RefSlaPolicyError(
                "", f'expected an object with "targets" or "policies", found {found(obj)}'
            )
        _check_keys(obj, "", ("policies", "default", "unknown_sla", "statuses"), ("policies",))
        pol_obj = obj["policies"]
        if not isinstance(pol_obj, Mapping):
            raise RefSlaPolicyError("policies", f"expected an object, found {found(pol_obj)}")
        policies: dict[str, tuple[Any, RefPolicy]] = {}
        for key, value in pol_obj.items():
            text = _policy_key_text(key, policies)
            path = key_path("policies", key)
            if not isinstance(value, Mapping):
                raise RefSlaPolicyError(path, f"expected an object, found {found(value)}")
            policies[text] = (key, _parse_policy(value, path, allow_statuses=False))
        statuses = obj.get("statuses", {})
        return cls._finish(
            policies,
            obj.get("default"),
            obj.get("unknown_sla", "error"),
            statuses,
            source="sla policy",
        )

    @classmethod
    def from_kayako(
        cls,
        obj: Any,
        default: Any = None,
        unknown_sla: Any = "error",
        statuses: Any = None,
    ) -> RefSlaPolicies:
        from .ref_sla_kayako import kayako_policies  # one job per module

        policies = kayako_policies(obj)
        return cls._finish(policies, default, unknown_sla, statuses, source="kayako sla")

    @classmethod
    def _finish(
        cls,
        policies: dict[str, tuple[Any, RefPolicy]],
        default: Any,
        unknown_sla: Any,
        statuses: Any,
        *,
        source: str,
    ) -> RefSlaPolicies:
        if default is not None and (not _is_id(default) or id_text(default) not in policies):
            raise RefSlaPolicyError(
                "default",
                f"expected a key of policies or null, found {found(default)}",
                source=source,
            )
        if not isinstance(unknown_sla, str) or unknown_sla not in UNKNOWN_SLA:
            raise RefSlaPolicyError(
                "unknown_sla",
                f'expected "error", "none" or "default", found {found(unknown_sla)}',
                source=source,
            )
        if unknown_sla == "default" and default is None:
            raise RefSlaPolicyError(
                "", 'unknown_sla is "default" but default is null', source=source
            )
        # READING: from_kayako's statuses=None means {}; in policy JSON "statuses": null is an error.
        status_map = (
            {}
            if statuses is None and source == "kayako sla"
            else (_parse_statuses(statuses, "statuses", source=source))
        )
        return cls(policies, None if default is None else id_text(default), unknown_sla, status_map)

    def resolve(self, sla_value: Any) -> tuple[str, Any, RefPolicy] | str | None:
        """The policy in force for a case ``sla`` value: (key text, key as given, policy),
        None for no policy, or the string "unknown" for an unmapped value under "error"."""
        if sla_value is not None and id_text(sla_value) in self.policies:
            key, pol = self.policies[id_text(sla_value)]
            return id_text(sla_value), key, pol
        if sla_value is None or self.unknown_sla == "default":
            if self.default is None:
                return None
            key, pol = self.policies[self.default]
            return self.default, key, pol
        if self.unknown_sla == "none":
            return None
        return "unknown"

    def known_keys_text(self) -> str:
        keys = sorted(self.policies)
        if not keys:
            return "none"
        shown = ", ".join(found(k) for k in keys[:10])
        return shown + (", ..." if len(keys) > 10 else "")

    def business_policy_key(self) -> str | None:
        for text, (_key, pol) in self.policies.items():
            if pol.has_business:
                return text
        return None


# =========================================================================== parsing helpers


def _check_keys(
    obj: Mapping[str, Any],
    path: str,
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    *,
    source: str = "sla policy",
) -> None:
    for k in obj:
        if k not in allowed:
            raise RefSlaPolicyError(path, f"unknown key {found(k)}", source=source)
    for k in required:
        if k not in obj:
            raise RefSlaPolicyError(path, f"missing {k}", source=source)


def _policy_key_text(key: Any, seen: Mapping[str, tuple[Any, RefPolicy]]) -> str:
    if not _is_id(key):
        raise RefSlaPolicyError(
            "policies", f"expected keys that are strings or integers, found {found(key)}"
        )
    text = id_text(key)
    if text in seen:
        first = seen[text][0]
        raise RefSlaPolicyError(
            "policies", f"keys {found(first)} and {found(key)} have the same text"
        )
    return text


def _parse_policy(obj: Mapping[str, Any], path: str, *, allow_statuses: bool) -> RefPolicy:
    allowed = ("title", "targets", "statuses") if allow_statuses else ("title", "targets")
    _check_keys(obj, path, allowed, ("targets",))
    title = obj.get("title")
    if "title" in obj and not isinstance(title, str):
        raise RefSlaPolicyError(_join(path, "title"), f"expected a string, found {found(title)}")
    targets = parse_targets(obj["targets"], _join(path, "targets"))
    return RefPolicy(title, targets)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_targets(
    raw: Any,
    path: str,
    *,
    source: str = "sla policy",
    kayako: bool = False,
    resolve: Callable[[Any, str], Any] | None = None,
) -> tuple[RefTarget, ...]:
    if not isinstance(raw, (list, tuple)):
        raise RefSlaPolicyError(path, f"expected a list, found {found(raw)}", source=source)
    out: list[RefTarget] = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, t_obj in enumerate(raw):
        tpath = f"{path}[{i}]"
        if resolve is not None:
            t_obj = resolve(t_obj, tpath)
        target = parse_target(t_obj, tpath, source=source, kayako=kayako)
        dup_key = (target.type, None if target.priority is None else id_text(target.priority))
        if dup_key in seen:
            prio = "null" if target.priority is None else found(target.priority)
            tail = path.rsplit(".", 1)[-1]
            raise RefSlaPolicyError(
                tpath,
                f"duplicate target for {target.type}, priority {prio} (also {tail}[{seen[dup_key]}])",
                source=source,
            )
        seen[dup_key] = i
        out.append(target)
    return tuple(out)


def parse_target(
    obj: Any, path: str, *, source: str = "sla policy", kayako: bool = False
) -> RefTarget:
    if not isinstance(obj, Mapping):
        raise RefSlaPolicyError(path, f"expected an object, found {found(obj)}", source=source)
    if not kayako:
        _check_keys(
            obj,
            path,
            ("type", "priority", "goal_in_seconds", "operational_hours"),
            (),
            source=source,
        )
    for k in ("type", "goal_in_seconds", "operational_hours"):
        if k not in obj:
            raise RefSlaPolicyError(path, f"missing {k}", source=source)

    ctype = obj["type"]
    if not isinstance(ctype, str) or ctype.upper() not in CLOCK_TYPES:
        raise RefSlaPolicyError(
            _join(path, "type"),
            f"expected FIRST_REPLY_TIME, NEXT_REPLY_TIME or RESOLUTION_TIME, found {found(ctype)}",
            source=source,
        )

    priority = obj.get("priority")
    if kayako:
        priority = kayako_priority(priority, _join(path, "priority"))
    elif priority is not None and not _is_id(priority):
        raise RefSlaPolicyError(
            _join(path, "priority"),
            f"expected a string, an integer or null, found {found(priority)}",
            source=source,
        )

    goal = obj["goal_in_seconds"]
    if isinstance(goal, bool) or not isinstance(goal, int) or goal <= 0:
        raise RefSlaPolicyError(
            _join(path, "goal_in_seconds"),
            f"expected a positive integer, found {found(goal)}",
            source=source,
        )

    hours = obj["operational_hours"]
    if not isinstance(hours, str) or hours.upper() not in HOURS:
        raise RefSlaPolicyError(
            _join(path, "operational_hours"),
            f"expected BUSINESS_HOURS or CALENDAR_HOURS, found {found(hours)}",
            source=source,
        )
    return RefTarget(ctype.upper(), priority, goal, hours.upper())


def kayako_priority(raw: Any, path: str) -> Any:
    """Kayako: null, an integer, or a case_priority reference (or embedded object) -> its id."""
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if isinstance(raw, Mapping) and _is_id(raw.get("id")):
        rtype = raw.get("resource_type", "case_priority")
        if rtype == "case_priority":
            return raw["id"]
    raise RefSlaPolicyError(
        path,
        f"expected null, an integer or a case_priority reference, found {found(raw)}",
        source="kayako sla",
    )


def _parse_statuses(raw: Any, path: str, *, source: str = "sla policy") -> dict[str, bool]:
    if not isinstance(raw, Mapping):
        raise RefSlaPolicyError(path, f"expected an object, found {found(raw)}", source=source)
    out: dict[str, bool] = {}
    for name, value in raw.items():
        if not isinstance(name, str):
            raise RefSlaPolicyError(
                path, f"expected status names as strings, found {found(name)}", source=source
            )
        if not isinstance(value, bool):
            raise RefSlaPolicyError(
                key_path(path, name), f"expected true or false, found {found(value)}", source=source
            )
        out[name] = value
    return out
