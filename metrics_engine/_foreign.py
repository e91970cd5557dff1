"""Events that come from pandas, NumPy or Arrow rather than from JSON.

``DataFrame.to_dict("records")`` fills every key a row lacks with a missing-value marker (a
float NaN, ``pandas.NA``, ``NaT``) and gives integers as NumPy scalars (``numpy.int64``). An
event is read as JSON would give it: a missing-value marker means the key is absent, and a
NumPy scalar is the plain Python value it holds. This is only tried on an event the parser has
refused, so events from JSON pay nothing for it; no NumPy or pandas import is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["plain_event"]

_MISSING_TYPES = frozenset({"NAType", "NaTType"})


class _Plain:
    """One conversion; ``changed`` says whether anything foreign was met."""

    __slots__ = ("changed",)

    def __init__(self) -> None:
        self.changed = False

    def mapping(self, value: Mapping[Any, Any]) -> dict[Any, Any]:
        out = {}
        for key, item in value.items():
            if self.missing(item):
                self.changed = True
                continue
            out[key] = self.value(item)
        return out

    def missing(self, value: object) -> bool:
        if isinstance(value, float):
            return math.isnan(value)
        kind = type(value)
        return kind.__name__ in _MISSING_TYPES and kind.__module__.startswith("pandas")

    def value(self, value: object) -> object:
        if isinstance(value, Mapping):
            return self.mapping(value)
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            self.changed = True
            return value.item()
        return value


def plain_event(raw: object) -> dict[str, Any] | None:
    """``raw`` with plain values, or ``None`` when it holds nothing from pandas or NumPy."""
    if not isinstance(raw, Mapping):
        return None
    plain = _Plain()
    out = plain.mapping(raw)
    return out if plain.changed else None
