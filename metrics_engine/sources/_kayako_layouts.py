"""Reading Kayako's saved responses whatever their layout: letter case, pages, references.

Kayako answers in three layouts (references only; related resources embedded in place with
``include=``; flat mode, every included resource once under ``resources[type][id]``) and in
three letter cases (snake_case, ``_case=camel``, ``_case=pascal``). Everything here turns a
saved response into one shape: snake_case keys and ``resource_type`` values, the items of
its ``data``, and an :class:`Index` in which any reference ``{"id", "resource_type"}`` can be
looked up, whether its object was embedded, listed under ``resources`` or given separately.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from metrics_engine._errors import MetricsEngineError

__all__ = [
    "Index",
    "KayakoError",
    "Obj",
    "canonical_type",
    "id_key",
    "items_of",
    "ref_of",
    "snake_name",
]

#: A decoded JSON object.
Obj = Mapping[str, Any]

#: Resource types that name the same resource as another (the lighter form of a user, the
#: two spellings of business hours).
_TYPE_ALIASES: Final = {
    "user_minimal": "user",
    "businesshour": "business_hour",
    "businesshours": "business_hour",
}
#: Keys a bare reference may have; an object with any other key is the resource itself.
_REF_KEYS: Final = frozenset({"id", "resource_type", "resource_url"})
_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class KayakoError(MetricsEngineError):
    """A Kayako case that cannot be converted; ``report`` lists what was set aside so far."""

    report: tuple[Any, ...] = ()


def snake_name(name: str) -> str:
    """``resourceType`` and ``ResourceType`` → ``resource_type``; snake_case stays as it is."""
    if name.islower() or not any(char.isupper() for char in name):
        return name
    return _BOUNDARY.sub("_", name).lower()


def canonical_type(name: object) -> str | None:
    """A resource type in snake_case, aliases folded (``userMinimal`` → ``user``)."""
    if type(name) is not str:
        return None
    snake = name if name.islower() else snake_name(name)
    return _TYPE_ALIASES.get(snake, snake)


def id_key(value: object) -> str | None:
    """An id as its text (ids compare by their text); ``None`` for anything that is no id."""
    if type(value) is int:
        return str(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value:
        return value
    return None


def ref_of(value: object) -> tuple[str, str] | None:
    """``(resource type, id text)`` of a reference or an embedded resource, else ``None``."""
    if not isinstance(value, dict):
        return None
    kind = canonical_type(value.get("resource_type"))
    key = id_key(value.get("id"))
    if kind is None or key is None:
        return None
    return kind, key


class Index:
    """Resources by ``(type, id text)``: the case's own, then its directory's (``parent``).

    Resources embedded in responses are indexed lazily: the walk through a response costs
    about as much as decoding it, and is needed only when a reference is not embedded where
    it is used and the directory does not hold it, or when every object of a type is wanted.
    """

    __slots__ = ("_objects", "_parent", "_pending")

    def __init__(self, parent: Index | None = None) -> None:
        self._objects: dict[tuple[str, str], list[Obj]] = {}
        self._parent = parent
        self._pending: list[object] = []

    def add(self, kind: str, key: str, obj: Obj) -> None:
        copies = self._objects.get((kind, key))
        if copies is None:
            self._objects[kind, key] = [obj]
            return
        for copy in copies:
            if copy is obj:
                return
        copies.append(obj)

    def get(self, kind: str, key: str, *wanted: str) -> Obj | None:
        """The object of that type and id; with ``wanted`` keys, preferably a copy holding
        one of them (an embedded ``user_minimal`` has no ``role``; the user list does).
        The case's own objects first, then the directory's, then those still to be indexed."""
        fallback: Obj | None = None
        for layer in self._layers():
            for obj in layer._objects.get((kind, key), ()):
                if not wanted or _holds(obj, wanted):
                    return obj
                fallback = fallback or obj
        return fallback

    def _layers(self) -> Iterator[Index]:
        layer: Index | None = self
        while layer is not None:
            yield layer
            layer = layer._parent
        for layer in self._with_pending():
            layer._flush()
            yield layer

    def _with_pending(self) -> list[Index]:
        found = []
        layer: Index | None = self
        while layer is not None:
            if layer._pending:
                found.append(layer)
            layer = layer._parent
        return found

    def resolve(self, value: object, *wanted: str) -> Obj | None:
        """The resource a reference points to (itself when embedded), or ``None``; with
        ``wanted`` keys, preferably a copy holding one of them."""
        if not isinstance(value, dict):
            return None
        ref = ref_of(value)
        if ref is None:
            return None
        # A bare reference holds id and resource_type, perhaps resource_url; nothing else.
        size = len(value)
        embedded = size > 3 or (size == 3 and "resource_url" not in value)
        if embedded and (not wanted or _holds(value, wanted)):
            return value
        found = self.get(ref[0], ref[1], *wanted)
        if found is not None and (not wanted or _holds(found, wanted)):
            return found
        return value if embedded else found

    def of_type(self, kind: str) -> Iterator[Obj]:
        """Every object of one type, the case's first, each id once."""
        for pending in self._with_pending():
            pending._flush()
        seen: set[str] = set()
        layer: Index | None = self
        while layer is not None:
            for (held, key), copies in layer._objects.items():
                if held == kind and key not in seen:
                    seen.add(key)
                    yield copies[0]
            layer = layer._parent

    def collect(self, value: object) -> None:
        """Index every embedded resource inside a decoded (snake_case) response, when first
        needed."""
        self._pending.append(value)

    def _flush(self) -> None:
        stack, self._pending = self._pending, []
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = ref_of(node)
                if ref is not None and not node.keys() <= _REF_KEYS:
                    self.add(*ref, node)
                stack.extend(child for child in node.values() if isinstance(child, list | dict))
            elif isinstance(node, list):
                stack.extend(child for child in node if isinstance(child, list | dict))


def _holds(obj: Obj, names: tuple[str, ...]) -> bool:
    # A plain loop (SIM110 silenced) costs a third of any() over a generator, per reference.
    for name in names:  # noqa: SIM110
        if name in obj:
            return True
    return False


def _is_snake(value: object) -> bool:
    """Whether a response is in snake_case: decided by its first resource's ``resource_type``
    key (one request has one letter case; camelCase data inside, such as an integration's
    event properties, does not count)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "resource_type" in node:
                return True
            if "resourceType" in node or "ResourceType" in node:
                return False
            stack.extend(child for child in node.values() if isinstance(child, list | dict))
        elif isinstance(node, list):
            stack.extend(child for child in node if isinstance(child, list | dict))
    return not _has_upper_keys(value)


def _has_upper_keys(value: object) -> bool:
    if isinstance(value, dict):
        return any(
            (isinstance(key, str) and not key.islower() and snake_name(key) != key)
            or _has_upper_keys(child)
            for key, child in value.items()
        )
    if isinstance(value, list):
        return any(_has_upper_keys(child) for child in value)
    return False


def _to_snake(value: Any, names: dict[str, str]) -> Any:
    """A copy with every key, and every ``resource_type`` value, in snake_case (``names``
    remembers each key's spelling: a response repeats the same few keys)."""
    if type(value) is list:
        return [
            _to_snake(child, names) if type(child) is dict or type(child) is list else child
            for child in value
        ]
    out: dict[str, Any] = {}
    for key, child in value.items():
        name = names.get(key)
        if name is None:
            name = names[key] = snake_name(key)
        if type(child) is dict or type(child) is list:
            child = _to_snake(child, names)
        out[name] = child
    for name in ("resource_type", "resource"):
        kind = out.get(name)
        if type(kind) is str:
            snake = names.get(kind)
            if snake is None:
                snake = names[kind] = snake_name(kind)
            out[name] = snake
    return out


def _documents(value: object, what: str) -> list[Obj]:
    """The saved responses given: one response, a list of them, or bare resources."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list | tuple):
        if all(isinstance(page, dict) and ("data" in page or "Data" in page) for page in value):
            return list(value)
        if all(isinstance(item, dict) for item in value):
            return [{"data": list(value)}]
    raise KayakoError(
        f"{what}: expected a Kayako response (an object with 'data'), a list of responses or "
        f"a list of resources, found {type(value).__name__}"
    )


def items_of(value: object, index: Index, what: str) -> list[Obj]:
    """The resources in the ``data`` of every response given, in snake_case; the related
    resources they carry (``resources`` in flat mode, embedded objects) go into ``index``."""
    found: list[Obj] = []
    names: dict[str, str] = {}
    for number, raw in enumerate(_documents(value, what)):
        document: Obj = raw if _is_snake(raw) else _to_snake(raw, names)
        resources = document.get("resources")
        if isinstance(resources, dict):
            for kind, by_id in resources.items():
                if not isinstance(by_id, dict):
                    continue
                name = canonical_type(kind) or kind
                for key, obj in by_id.items():
                    if isinstance(obj, dict) and key:
                        index.add(name, key, obj)
        if "data" in document:
            data = document["data"]
        elif "status" in document and "resource" in document:
            data = []  # an empty response without data
        else:
            data = document  # a bare resource
        if not isinstance(resources, dict):
            index.collect(data)
        if isinstance(data, dict):
            found.append(data)
        elif isinstance(data, list):
            for position, item in enumerate(data):
                if not isinstance(item, dict):
                    raise KayakoError(
                        f"{what} (response {number}) data[{position}]: expected an object, "
                        f"found {type(item).__name__}"
                    )
                found.append(item)
        elif data is not None:
            raise KayakoError(
                f"{what} (response {number}): expected 'data' to be an object or a list, "
                f"found {type(data).__name__}"
            )
    return found
