"""Reference import of Kayako's ``GET /api/v1/slas`` response into policies (SPEC 10.1).

Accepts the whole envelope (``{"data": ..., "resources": ...}``) or just its ``data`` (a list
of SLA objects, or one SLA object for ``/slas/:id``), embedded or flat. One policy per SLA,
keyed by the SLA's id as text. See the READING list in ``ref_sla.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ref_calendar import id_text
from .ref_sla_policy import RefPolicy, RefSlaPolicyError, found, parse_targets

SOURCE = "kayako sla"
REFERENCE_KEYS = frozenset({"id", "resource_type", "resource_url"})


def _err(path: str, message: str) -> RefSlaPolicyError:
    return RefSlaPolicyError(path, message, source=SOURCE)


def _snake_case(obj: Mapping[str, Any], path: str) -> None:
    """READING: a key with an upper-case letter is camelCase (or PascalCase): an error."""
    for key in obj:
        if isinstance(key, str) and key != key.lower():
            raise _err(path, f"expected snake_case keys, found {found(key)}")


def kayako_policies(obj: Any) -> dict[str, tuple[Any, RefPolicy]]:
    resources: Any = None
    if isinstance(obj, Mapping) and "data" in obj:
        _snake_case(obj, "")
        resources = obj.get("resources")
        data = obj["data"]
    else:
        data = obj
    if isinstance(resources, Mapping):
        _snake_case(resources, "resources")
    else:
        resources = {}

    if isinstance(data, Mapping):
        items: list[tuple[str, Any]] = [("data", data)]
    elif isinstance(data, (list, tuple)):
        items = [(f"data[{i}]", sla) for i, sla in enumerate(data)]
    else:
        raise _err("data", f"expected an SLA object or a list of them, found {found(data)}")

    table = resources.get("sla_target")
    targets_table: Mapping[str, Any] = table if isinstance(table, Mapping) else {}

    def resolve(t_obj: Any, tpath: str) -> Any:
        if isinstance(t_obj, Mapping):
            _snake_case(t_obj, tpath)
            if "type" not in t_obj and set(t_obj) <= REFERENCE_KEYS:
                ref_id = t_obj.get("id")
                hit = targets_table.get(id_text(ref_id)) if _is_id(ref_id) else None
                if not isinstance(hit, Mapping):
                    raise _err(
                        tpath, f"reference sla_target {found(ref_id)} not found in resources"
                    )
                _snake_case(hit, tpath)
                return hit
        return t_obj

    policies: dict[str, tuple[Any, RefPolicy]] = {}
    first_path: dict[str, str] = {}
    for path, sla in items:
        if not isinstance(sla, Mapping):
            raise _err(path, f"expected an SLA object, found {found(sla)}")
        _snake_case(sla, path)
        if "id" not in sla:
            raise _err(path, "missing id")
        sla_id = sla["id"]
        if not _is_id(sla_id):
            raise _err(f"{path}.id", f"expected a string or an integer, found {found(sla_id)}")
        text = id_text(sla_id)
        if text in policies:
            raise _err(f"{path}.id", f"duplicate SLA id {found(sla_id)} (also {first_path[text]})")
        title = sla.get("title")
        if title is not None and not isinstance(title, str):
            raise _err(f"{path}.title", f"expected a string, found {found(title)}")
        if "targets" not in sla:
            raise _err(path, "missing targets")
        targets = parse_targets(
            sla["targets"], f"{path}.targets", source=SOURCE, kayako=True, resolve=resolve
        )
        policies[text] = (text, RefPolicy(title, targets))  # the key is the id's text
        first_path[text] = path
    return policies


def _is_id(v: Any) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)
