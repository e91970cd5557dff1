"""Kayako's SLA response → canonical SLA policies (docs/sla.md, "Kayako import").

``GET /api/v1/slas`` (or ``/slas/:id``) answers with an envelope whose ``data`` is a list of
SLA objects (or one). Each SLA lists its targets either inline (embedded mode) or as
``{"id": N, "resource_type": "sla_target"}`` references resolved through
``resources.sla_target["N"]`` (flat mode). A target's priority is null, an integer, or a
``case_priority`` reference whose id is what a Kayako converter writes into events.

This module only reshapes: one canonical policy ``{"title", "targets"}`` per SLA, keyed by the
SLA's id as text, each with the JSON path of its SLA for messages. The target values are
validated by the policy reader (``_sla_spec``), which names those paths. Everything Kayako adds
(execution order, conditions, ids, URLs, timestamps, enabled and deleted flags) is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["KayakoPolicy", "as_key", "kayako_policies", "quote", "show"]

_REFERENCE_KEYS: Final = frozenset({"id", "resource_type", "resource_url"})
_TARGET_FIELDS: Final = ("type", "priority", "goal_in_seconds", "operational_hours")
_SHOWN_CHARACTERS: Final = 60
_PREFIX: Final = "kayako sla"

#: (policy key as text, canonical policy object, JSON path of the SLA in the response)
KayakoPolicy = tuple[str, dict[str, Any], str]
ErrorFactory = Callable[[str], Exception]


def kayako_policies(obj: object, error: ErrorFactory) -> list[KayakoPolicy]:
    """One canonical policy per SLA of a parsed Kayako response; ``error`` builds exceptions."""
    resources: object = {}
    if isinstance(obj, Mapping) and "data" in obj:
        _check_snake_case(obj, "", error)
        data = obj["data"]
        resources = obj.get("resources") or {}
    elif isinstance(obj, Mapping | list | tuple):
        data = obj
    else:
        raise error(
            f"{_PREFIX}: expected a response object, its data list or one SLA object, "
            f"found {show(obj)}"
        )
    if not isinstance(resources, Mapping):
        raise error(f"{_PREFIX}: resources: expected an object, found {show(resources)}")
    _check_snake_case(resources, "resources", error)
    if isinstance(data, Mapping):
        slas = [("data", data)]
    elif isinstance(data, list | tuple):
        slas = [(f"data[{position}]", sla) for position, sla in enumerate(data)]
    else:
        raise error(
            f"{_PREFIX}: data: expected a list of SLA objects or one SLA object, found {show(data)}"
        )
    seen: dict[str, str] = {}
    policies: list[KayakoPolicy] = []
    for path, sla in slas:
        if not isinstance(sla, Mapping):
            raise error(f"{_PREFIX}: {path}: expected an SLA object, found {show(sla)}")
        _check_snake_case(sla, path, error)
        sla_id = sla.get("id")
        key = as_key(sla_id)
        if key is None:
            raise error(
                f"{_PREFIX}: {path}.id: expected a string or integer id, found {show(sla_id)}"
            )
        text = str(key)
        if text in seen:
            raise error(
                f"{_PREFIX}: {path}.id: expected each SLA once, found id {show(key)} again "
                f"(also {seen[text]})"
            )
        seen[text] = path
        policy: dict[str, Any] = {"targets": _targets(sla.get("targets"), resources, path, error)}
        title = sla.get("title")
        if title is not None:
            policy["title"] = title
        policies.append((text, policy, path))
    return policies


def _targets(
    raw: object, resources: Mapping[Any, Any], path: str, error: ErrorFactory
) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise error(f"{_PREFIX}: {path}.targets: expected a list of targets, found {show(raw)}")
    out = []
    for position, item in enumerate(raw):
        where = f"{path}.targets[{position}]"
        target = _resolve(item, resources, where, error)
        canonical = {name: target[name] for name in _TARGET_FIELDS if name in target}
        if "priority" in canonical:
            canonical["priority"] = _priority(canonical["priority"], where, error)
        out.append(canonical)
    return out


def _resolve(
    item: object, resources: Mapping[Any, Any], where: str, error: ErrorFactory
) -> Mapping[Any, Any]:
    """A target object: itself when embedded, or the resource its reference names."""
    if not isinstance(item, Mapping):
        raise error(
            f"{_PREFIX}: {where}: expected a target object or an sla_target reference, "
            f"found {show(item)}"
        )
    _check_snake_case(item, where, error)
    if not set(item) <= _REFERENCE_KEYS:
        return item
    target_id = as_key(item.get("id"))
    table = resources.get("sla_target")
    found = None
    if isinstance(table, Mapping) and target_id is not None:
        found = table.get(str(target_id))
    if not isinstance(found, Mapping):
        raise error(
            f"{_PREFIX}: {where}: reference sla_target {show(item.get('id'))} not found in "
            "resources"
        )
    _check_snake_case(found, where, error)
    return found


def _priority(value: object, where: str, error: ErrorFactory) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        key = as_key(value)
    elif isinstance(value, Mapping):
        key = as_key(value.get("id"))
    else:
        key = None
    if key is None:
        raise error(
            f"{_PREFIX}: {where}.priority: expected null, an integer or a case_priority "
            f"reference, found {show(value)}"
        )
    return key


def _check_snake_case(obj: Mapping[Any, Any], path: str, error: ErrorFactory) -> None:
    for key in obj:
        if isinstance(key, str) and key != key.lower():
            where = f"{path}: " if path else ""
            raise error(
                f"{_PREFIX}: {where}expected snake_case keys, found {show(key)} "
                "(a camelCase response: request it without _case=camel)"
            )


# --- values in messages and keys -------------------------------------------------------------


def as_key(value: object) -> str | int | None:
    """A string, or a plain integer that has a text; ``None`` for anything else.

    (An integer too long for Python to write as text has none; events refuse such values
    anyway, so a key like that could never match a case.)
    """
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and _int_text(value) is not None:
        return int(value)
    return None


def _int_text(value: int) -> str | None:
    try:
        return str(int(value))
    except ValueError:  # beyond the interpreter's limit on integer digits
        return None


def quote(text: str) -> str:
    """A string as JSON writes it."""
    return json.dumps(text, ensure_ascii=False)


def show(value: object) -> str:
    """A value as it reads in JSON, for messages; containers by kind, long strings cut."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARACTERS:
            return quote(value[:_SHOWN_CHARACTERS]) + "…"
        return quote(value)
    if isinstance(value, int):
        text = _int_text(value)
        return text if text is not None else "an integer too long to write"
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
