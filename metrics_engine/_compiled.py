"""Which build is running: modules compiled with mypyc, or pure Python (docs/performance.md).

A compiled build compiles the modules named in :data:`COMPILED_MODULES` from the same source
(``METRICS_ENGINE_COMPILE=1 pip install .``; ``setup.py`` reads the tuple below); every other
install, an editable one included, runs the pure-Python modules. Behaviour is the same
either way.
"""

from __future__ import annotations

from importlib import import_module
from importlib.machinery import EXTENSION_SUFFIXES
from typing import Final

__all__ = ["COMPILED", "COMPILED_MODULES", "compiled_modules"]

#: The modules of the package that a compiled build compiles: the per-event path (parsing,
#: the replay loop, the state machine, the fast decode path) and the batch command's
#: per-line first pass (reading each line's case id and ``at``). The others stay Python:
#: their time is spent per case or per call, and some take arguments of any type on purpose
#: to word the error themselves, which compiled code would refuse with a TypeError first.
COMPILED_MODULES: Final = (
    "_events",
    "_state_slots",
    "_state",
    "_replay",
    "_compute",
    "_fast",
    "_batch.lines",
    "_batch.scan",
)


def compiled_modules() -> tuple[str, ...]:
    """Those of :data:`COMPILED_MODULES` that are running compiled (a shared-library file)."""
    suffixes = tuple(EXTENSION_SUFFIXES)
    return tuple(
        name
        for name in COMPILED_MODULES
        if str(getattr(import_module(f"metrics_engine.{name}"), "__file__", "")).endswith(suffixes)
    )


#: True when the compiled modules are running; False for pure Python.
COMPILED: Final = compiled_modules() == COMPILED_MODULES
