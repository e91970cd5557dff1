"""The dependency direction of STYLE.md: events and calendars at the bottom, batch on top.

Each module may import only modules of a lower layer (or of its own layer when listed as
allowed below). The core never imports I/O-bound modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "metrics_engine"

# Lower number = lower layer. A module may import from strictly lower layers only.
LAYERS: dict[str, int] = {
    "_errors": 0,
    "_events": 1,
    "_calendar_spec": 1,
    "_kayako_hours": 1,
    "_rules": 1,
    "_output": 1,
    "_calendar": 2,
    "_state": 2,
    "_metrics": 3,
    "_replay": 4,
    "__init__": 5,
    "testing": 6,
    # The batch layer, bottom up: _batch_lines and _batch_input import no other batch module.
    "_batch_lines": 6,
    "_batch_input": 6,
    "_batch_spill": 7,
    "_batch_output": 8,
    "_batch": 9,
    "_cli": 10,
    "__main__": 11,
}
#: Modules that may do I/O (open files, read stdin); the core may import none of them.
IO_MODULES = {
    "_batch",
    "_batch_input",
    "_batch_lines",
    "_batch_output",
    "_batch_spill",
    "_cli",
    "__main__",
}
FORBIDDEN_IN_CORE = {"os", "io", "gzip", "tempfile", "subprocess", "multiprocessing", "sys", "time"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "metrics_engine":
                found.update(f"metrics_engine.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules() -> list[str]:
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert set(_modules()) <= set(LAYERS), set(_modules()) - set(LAYERS)


@pytest.mark.parametrize("module", _modules())
def test_imports_point_down(module: str) -> None:
    mine = LAYERS[module]
    for name in _imports(PACKAGE / f"{module}.py"):
        if not name.startswith("metrics_engine"):
            continue
        target = name.removeprefix("metrics_engine").lstrip(".") or "__init__"
        target = target.split(".")[0]
        if target not in LAYERS:
            continue  # a name imported from the package itself, e.g. `from metrics_engine import X`
        assert LAYERS[target] < mine, f"{module} (layer {mine}) imports {target} ({LAYERS[target]})"


@pytest.mark.parametrize("module", [m for m in _modules() if m not in IO_MODULES])
def test_core_does_no_io(module: str) -> None:
    top_level = {name.split(".")[0] for name in _imports(PACKAGE / f"{module}.py")}
    assert not top_level & FORBIDDEN_IN_CORE, f"{module} imports {top_level & FORBIDDEN_IN_CORE}"
    source = (PACKAGE / f"{module}.py").read_text()
    assert "open(" not in source.replace("reopen(", ""), f"{module} opens a file"


def test_layering_test_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from metrics_engine._replay import CaseReplay\nimport os\n")
    assert "metrics_engine._replay" in _imports(bad)
    assert "os" in _imports(bad)
