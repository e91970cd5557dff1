"""SLA policies: reading and validating policies and policy sets (docs/sla.md).

A *policy* is a list of targets (read in ``_sla_target``: a goal for one clock type,
optionally for one priority, in calendar or business hours) and, standalone, a map of
SLA-active statuses. A *policy set* maps a case's ``sla`` value to a policy, with a default
and a rule for values it does not know. Everything is validated once, here and in
``_sla_target``, and every problem is one :class:`SlaPolicyError` line that names the JSON
path of the bad value. ``SlaPolicyError``, ``SlaTarget`` and ``METRIC_TYPES`` come from
``_sla_target`` and are exported here too, beside the policies.

Lookups compare by text: a priority or a policy key ``2`` matches a case value ``"2"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Literal

from metrics_engine._errors import EventError, MetricsEngineError
from metrics_engine._kayako_sla import as_key, kayako_policies, quote, show
from metrics_engine._sla_target import (
    METRIC_TYPES,
    Goal,
    Goals,
    Key,
    SlaPolicyError,
    SlaTarget,
    Value,
    _check_keys,
    _Path,
    _read_target,
    _text,
)

__all__ = [
    "METRIC_TYPES",
    "SlaPolicies",
    "SlaPolicy",
    "SlaPolicyError",
    "SlaTarget",
    "UnknownSla",
    "check_sla_option",
    "require_calendar",
]

UnknownSla = Literal["error", "none", "default"]
_UNKNOWN_SLA: Final = ("error", "none", "default")

_POLICY_KEYS: Final = frozenset({"title", "targets", "statuses"})
_SET_POLICY_KEYS: Final = frozenset({"title", "targets"})
_SET_KEYS: Final = frozenset({"policies", "default", "unknown_sla", "statuses"})
_KNOWN_KEYS_SHOWN: Final = 10

#: At most this many priorities' goals are remembered by one policy (a stream may hold any
#: number of distinct priority values; the goals of the others are worked out each time).
_GOALS_REMEMBERED: Final = 256


class SlaPolicy:
    """One policy: targets by clock type and priority. Build it with :meth:`from_dict`.

    Immutable. :meth:`target` is the lookup of a goal: the target of that type for the
    priority's text, else the one with a null priority, else ``None``.
    """

    __slots__ = ("_business", "_goals", "_lookup", "_statuses", "_targets", "_title")

    _title: str | None
    _targets: tuple[tuple[str, SlaTarget], ...]
    _statuses: Mapping[str, bool]
    _lookup: dict[tuple[str, str | None], SlaTarget]
    _business: bool
    _goals: dict[str | None, Goals]  # by priority text: a cache, not part of the value

    def __init__(
        self,
        title: str | None,
        targets: Sequence[tuple[str, SlaTarget]],
        statuses: Mapping[str, bool] | None = None,
    ) -> None:
        """Wrap already validated parts; the public constructor is :meth:`from_dict`."""
        self._title = title
        self._targets = tuple(targets)
        self._statuses = MappingProxyType(dict(statuses or {}))
        self._lookup = {
            (metric_type, _text(target.priority)): target for metric_type, target in targets
        }
        self._business = any(target.business for _, target in self._targets)
        self._goals = {}

    @classmethod
    def from_dict(cls, obj: object) -> SlaPolicy:
        """A standalone policy: ``{"title": ..., "targets": [...], "statuses": {...}}``."""
        if isinstance(obj, Mapping) and "targets" not in obj and "policies" in obj:
            raise SlaPolicyError(
                'sla policy: expected an object with "targets", found one with "policies" '
                "(a policy set: use SlaPolicies.from_dict)"
            )
        return _read_policy(obj, _Path("sla policy"), standalone=True, key=None)

    @property
    def title(self) -> str | None:
        return self._title

    @property
    def targets(self) -> tuple[tuple[str, SlaTarget], ...]:
        """``(metric type, target)`` pairs in the order they were written."""
        return self._targets

    @property
    def statuses(self) -> Mapping[str, bool]:
        """SLA-active statuses by name (standalone policies only; empty in a set)."""
        return self._statuses

    @property
    def has_business_hours(self) -> bool:
        return self._business

    def target(self, metric_type: str, priority: Value) -> SlaTarget | None:
        """The goal of a clock type for a case priority, or ``None``."""
        lookup = self._lookup
        found = lookup.get((metric_type, _text(priority)))
        if found is None and priority is not None:
            found = lookup.get((metric_type, None))
        return found

    def goals(self, priority: Value) -> Goals:
        """The targets of the three clock types for a case priority, as the clocks read
        them (worked out once per priority text)."""
        text = _text(priority)
        found = self._goals.get(text)
        if found is None:
            first, following, resolution = (
                None if target is None else Goal(target.goal_in_seconds, target.business, target)
                for target in (self.target(metric_type, text) for metric_type in METRIC_TYPES)
            )
            found = (first, following, resolution)
            if len(self._goals) < _GOALS_REMEMBERED:
                self._goals[text] = found  # the same tuple whoever computes it: no lock needed
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SlaPolicy):
            return NotImplemented
        return (self._title, self._targets, dict(self._statuses)) == (
            other._title,
            other._targets,
            dict(other._statuses),
        )

    __hash__ = None  # type: ignore[assignment]  # equal by content, which is a dict

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Picklable (worker processes): the parts, not the read-only views.
        return (SlaPolicy, (self._title, self._targets, dict(self._statuses)))

    def __repr__(self) -> str:
        return f"SlaPolicy(title={self._title!r}, targets={len(self._targets)})"


class SlaPolicies:
    """A policy set: the policy in force is chosen by the case's ``sla`` value.

    Build it with :meth:`from_dict` or :meth:`from_kayako`. Immutable. Keys are compared by
    their text; :attr:`policies` is keyed by that text.
    """

    __slots__ = ("_business", "_default", "_keys", "_policies", "_statuses", "_unknown_sla")

    _policies: Mapping[str, SlaPolicy]
    _keys: Mapping[str, Key]
    _default: str | None
    _unknown_sla: UnknownSla
    _statuses: Mapping[str, bool]
    _business: bool

    def __init__(
        self,
        policies: Sequence[tuple[Key, SlaPolicy]],
        default: str | None,
        unknown_sla: UnknownSla,
        statuses: Mapping[str, bool] | None = None,
    ) -> None:
        """Wrap already validated parts; the public constructors are the ``from_*`` ones."""
        self._policies = MappingProxyType({str(key): policy for key, policy in policies})
        self._keys = MappingProxyType({str(key): key for key, _ in policies})
        self._default = default
        self._unknown_sla = unknown_sla
        self._statuses = MappingProxyType(dict(statuses or {}))
        self._business = any(policy.has_business_hours for _, policy in policies)

    @classmethod
    def from_dict(cls, obj: object) -> SlaPolicies:
        """``{"policies": {...}, "default": ..., "unknown_sla": ..., "statuses": {...}}``."""
        path = _Path("sla policy")
        if not isinstance(obj, Mapping):
            raise path.error(f'expected an object with "targets" or "policies", found {show(obj)}')
        if "policies" not in obj and "targets" in obj:
            raise path.error(
                'expected an object with "policies", found one with "targets" '
                "(a single policy: use SlaPolicy.from_dict)"
            )
        _check_keys(obj, _SET_KEYS, path)
        if "policies" not in obj:
            raise path.error("missing policies")
        policies_path = path.key("policies")
        raw = obj["policies"]
        if not isinstance(raw, Mapping):
            raise policies_path.error(f"expected an object, found {show(raw)}")
        seen: dict[str, Key] = {}
        policies: list[tuple[Key, SlaPolicy]] = []
        for raw_key, value in raw.items():
            key = as_key(raw_key)
            if key is None:
                raise policies_path.error(
                    f"expected keys as strings or integers, found {show(raw_key)}"
                )
            text = str(key)
            if text in seen:
                raise policies_path.error(
                    f"keys {show(seen[text])} and {show(key)} have the same text"
                )
            seen[text] = key
            policy = _read_policy(value, policies_path.item(text), standalone=False, key=key)
            policies.append((key, policy))
        return _finish_set(
            policies,
            obj.get("default"),
            obj.get("unknown_sla", "error"),
            obj.get("statuses", {}),
            path,
        )

    @classmethod
    def from_kayako(
        cls,
        obj: object,
        default: Key | None = None,
        unknown_sla: str = "error",
        statuses: Mapping[str, bool] | None = None,
    ) -> SlaPolicies:
        """A set from Kayako's ``GET /api/v1/slas`` (or ``/slas/:id``) response.

        Accepts the whole envelope or just its ``data``, embedded or flat. One policy per SLA,
        keyed by the SLA's id as text; disabled and deleted SLAs are included.
        """
        policies = [
            (key, _read_policy(raw, _Path("kayako sla", where), standalone=False, key=key))
            for key, raw, where in kayako_policies(obj, SlaPolicyError)
        ]
        return _finish_set(
            policies,
            default,
            unknown_sla,
            {} if statuses is None else statuses,
            _Path("sla policy"),
        )

    @property
    def policies(self) -> Mapping[str, SlaPolicy]:
        """The policies, keyed by the text of their keys."""
        return self._policies

    @property
    def default(self) -> str | None:
        """The text of the default policy's key, or ``None``."""
        return self._default

    @property
    def unknown_sla(self) -> UnknownSla:
        return self._unknown_sla

    @property
    def statuses(self) -> Mapping[str, bool]:
        return self._statuses

    @property
    def has_business_hours(self) -> bool:
        return self._business

    def policy_for(self, sla: Value) -> SlaPolicy | None:
        """The policy in force while the case's ``sla`` holds this value.

        Raises :class:`EventError` (without case or index) for a value without a policy
        under ``unknown_sla="error"``.
        """
        text = _text(sla)
        if text is None:
            return None if self._default is None else self._policies[self._default]
        found = self._policies.get(text)
        if found is not None:
            return found
        if self._unknown_sla == "none":
            return None
        if self._unknown_sla == "default" and self._default is not None:
            return self._policies[self._default]
        raise EventError(self.unknown_message(sla))

    def unknown_message(self, sla: Value) -> str:
        """``sla "9" has no policy (known: ...)``, the first ten keys in text order."""
        known = sorted(self._policies)
        shown = ", ".join(quote(key) for key in known[:_KNOWN_KEYS_SHOWN])
        if len(known) > _KNOWN_KEYS_SHOWN:
            shown += f", and {len(known) - _KNOWN_KEYS_SHOWN} more"
        return f"sla {quote(str(sla))} has no policy (known: {shown or 'none'})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SlaPolicies):
            return NotImplemented
        return (self._keys, self._policies, self._default, self._unknown_sla) == (
            other._keys,
            other._policies,
            other._default,
            other._unknown_sla,
        ) and dict(self._statuses) == dict(other._statuses)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (
            SlaPolicies,
            (
                [(self._keys[text], policy) for text, policy in self._policies.items()],
                self._default,
                self._unknown_sla,
                dict(self._statuses),
            ),
        )

    def __repr__(self) -> str:
        return (
            f"SlaPolicies(policies={list(self._policies)!r}, default={self._default!r}, "
            f"unknown_sla={self._unknown_sla!r})"
        )


def check_sla_option(sla: object) -> SlaPolicy | SlaPolicies | None:
    """The ``sla=`` argument, checked."""
    if sla is None or isinstance(sla, SlaPolicy | SlaPolicies):
        return sla
    raise MetricsEngineError(
        f"sla: expected a SlaPolicy, a SlaPolicies or None, found {type(sla).__name__}"
    )


def require_calendar(sla: SlaPolicy | SlaPolicies | None, has_calendar: bool) -> None:
    """Raise if the policy has business-hours targets and no calendar was given."""
    if has_calendar or sla is None:
        return
    if isinstance(sla, SlaPolicy):
        if sla.has_business_hours:
            raise SlaPolicyError("sla policy has BUSINESS_HOURS targets but no calendar was given")
        return
    for text, policy in sla.policies.items():
        if policy.has_business_hours:
            raise SlaPolicyError(
                f"sla policy {quote(text)} has BUSINESS_HOURS targets but no calendar was given"
            )


# --- reading ---------------------------------------------------------------------------------


def _read_policy(obj: object, path: _Path, *, standalone: bool, key: Key | None) -> SlaPolicy:
    if not isinstance(obj, Mapping):
        if standalone:
            raise path.error(f'expected an object with "targets" or "policies", found {show(obj)}')
        raise path.error(f"expected a policy object, found {show(obj)}")
    _check_keys(obj, _POLICY_KEYS if standalone else _SET_POLICY_KEYS, path)
    if "targets" not in obj:
        raise path.error("missing targets")
    title = obj.get("title")
    if "title" in obj and not isinstance(title, str):
        raise path.key("title").error(f"expected a string, found {show(title)}")
    raw_targets = obj["targets"]
    targets_path = path.key("targets")
    if not isinstance(raw_targets, list | tuple):
        raise targets_path.error(f"expected a list of targets, found {show(raw_targets)}")
    targets = [
        _read_target(raw, targets_path.index(position), key)
        for position, raw in enumerate(raw_targets)
    ]
    _check_duplicates(targets, targets_path)
    statuses = _read_statuses(obj.get("statuses", {}), path.key("statuses"))
    return SlaPolicy(title, targets, statuses)


def _check_duplicates(targets: list[tuple[str, SlaTarget]], path: _Path) -> None:
    first: dict[tuple[str, str | None], int] = {}
    for position, (metric_type, target) in enumerate(targets):
        slot = (metric_type, _text(target.priority))
        if slot in first:
            raise path.index(position).error(
                f"duplicate target for {metric_type}, priority {show(target.priority)} "
                f"(also targets[{first[slot]}])"
            )
        first[slot] = position


def _read_statuses(obj: object, path: _Path) -> dict[str, bool]:
    if not isinstance(obj, Mapping):
        raise path.error(f"expected an object of status names, found {show(obj)}")
    out: dict[str, bool] = {}
    for name, value in obj.items():
        if not isinstance(name, str):
            raise path.error(f"expected status names as strings, found {show(name)}")
        if not isinstance(value, bool):
            raise path.item(name).error(f"expected true or false, found {show(value)}")
        out[name] = value
    return out


def _finish_set(
    policies: Sequence[tuple[Key, SlaPolicy]],
    default: object,
    unknown_sla: object,
    statuses: object,
    path: _Path,
) -> SlaPolicies:
    texts = {str(key) for key, _ in policies}
    default_text: str | None = None
    if default is not None:
        plain = as_key(default)
        if plain is None or str(plain) not in texts:
            raise path.key("default").error(
                f"expected a key of policies or null, found {show(default)}"
            )
        default_text = str(plain)
    if unknown_sla not in _UNKNOWN_SLA or not isinstance(unknown_sla, str):
        raise path.key("unknown_sla").error(
            f'expected "error", "none" or "default", found {show(unknown_sla)}'
        )
    if unknown_sla == "default" and default_text is None:
        raise path.error('unknown_sla is "default" but default is null')
    checked: UnknownSla = (
        "error" if unknown_sla == "error" else ("none" if unknown_sla == "none" else "default")
    )
    return SlaPolicies(
        policies, default_text, checked, _read_statuses(statuses, path.key("statuses"))
    )
