"""The dependency direction of the package: errors, events and calendars at the bottom, the
command line on top; the core and the vendor sources pure.

Every module of the package, in subpackages too, is named by its dotted path inside the
package (``_replay``, ``sources.kayako``, ``sources`` for ``sources/__init__.py``) and must
match a row of :data:`RULES` (first match wins, shell-style patterns). A module may import
only modules of a strictly lower layer; a module that is not allowed I/O may import none of
:data:`FORBIDDEN_WITHOUT_IO` and open no file. A new module is checked from its first commit:
without a row it fails :func:`test_every_module_has_a_rule`.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path
from typing import NamedTuple

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "metrics_engine"


class Rule(NamedTuple):
    pattern: str  # a dotted module path inside the package, shell-style
    layer: float  # lower = lower layer; imports go strictly down (2.5 fits between 2 and 3)
    io: bool = False  # may it touch files, streams, processes, the clock?


RULES: tuple[Rule, ...] = (
    # The core: pure.
    Rule("_errors", 0),
    Rule("_foreign", 0),
    Rule("_events", 1),
    Rule("_calendar_spec", 1),
    Rule("_kayako_hours", 1),
    Rule("_kayako_sla", 1),
    Rule("_rules", 1),
    Rule("_output", 1),
    Rule("_calendar_index", 1.5),  # the open-seconds time line, built for _calendar
    Rule("_calendar", 2),
    Rule("_state_slots", 1.5),  # the slots and status-type tables of _state's CaseState
    Rule("_state", 2),
    Rule("_saved_values", 2),
    Rule("_saved_case", 2.5),  # the case part of a saved state, read for _saved_state
    Rule("_saved_state", 3),
    Rule("_sla_target", 1.5),  # one SLA target, read for the policies of _sla_spec
    Rule("_sla_spec", 2),
    Rule("_sla_record", 2.5),  # the SLA record and one read of it with a policy, for _sla
    Rule("_sla*", 3),
    Rule("_metrics", 3),
    Rule("_replay", 4),
    Rule("_compute", 4.5),  # compute_metrics, one call over _replay's CaseReplay
    Rule("_columns", 4),
    Rule("_case", 5),
    Rule("_fast_structs", 0),
    Rule("_fast", 5),
    Rule("_compiled", 6),  # loads the compiled modules (_fast included) to see how they were built
    Rule("_cases", 6),
    Rule("__init__", 7),
    # Pure layers on top of the core: vendor adapters, comparisons, strategies.
    Rule("sources", 8),
    Rule("sources.*", 8),
    Rule("_compare", 8),
    Rule("testing", 8),
    # The only modules with files, streams and processes.
    Rule("spark", 10, io=True),  # above _batch.lines: it reads lines as the command does
    Rule("_spark*", 9, io=True),
    Rule("_arrow_events", 8.5, io=True),  # read_events, which arrow exports
    Rule("arrow", 10.5, io=True),  # above _batch.targets (sync_folder), below _batch.outputs
    # The batch package: one unit (its modules import each other freely); the rows of the
    # modules others import say how low they stand.
    Rule("_batch.signals", 9, io=True),
    Rule("_batch.lines", 9, io=True),
    Rule("_batch.inputs", 9, io=True),  # BatchError, which the Kayako export raises too
    Rule("_batch.spill", 10, io=True),
    Rule("_batch.targets", 10, io=True),
    Rule("_kayako_export", 10, io=True),
    Rule("_batch.outputs", 11, io=True),
    Rule("_batch.sla", 11, io=True),
    Rule("_batch.options", 12, io=True),
    Rule("_batch.cases", 12, io=True),
    Rule("_batch.run", 12, io=True),
    Rule("_batch.scan", 12, io=True),
    Rule("_batch.ranges", 12, io=True),
    Rule("_batch.grouped_ranges", 12, io=True),
    Rule("_batch.interleaved", 12, io=True),
    Rule("_batch.grouped", 12, io=True),
    Rule("_batch.command", 12, io=True),
    Rule("_batch", 12, io=True),
    Rule("_kayako_cli", 13, io=True),
    Rule("_cli", 14, io=True),
    Rule("__main__", 15, io=True),
)
FORBIDDEN_WITHOUT_IO = {
    "os",
    "io",
    "gzip",
    "tempfile",
    "subprocess",
    "multiprocessing",
    "sys",
    "time",
    "pathlib",
    "shutil",
    "signal",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def rule_of(module: str) -> Rule | None:
    return next((rule for rule in RULES if fnmatchcase(module, rule.pattern)), None)


def _imports(path: Path, module: str) -> set[str]:
    """Dotted names this file imports; relative imports resolved against ``module``."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                stem = ".".join(["metrics_engine", *base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _internal_targets(imported: set[str]) -> set[str]:
    """The package's own modules among imported names (longest known module path wins)."""
    targets: set[str] = set()
    for name in imported:
        if name != "metrics_engine" and not name.startswith("metrics_engine."):
            continue
        parts = name.removeprefix("metrics_engine").lstrip(".").split(".")
        parts = [part for part in parts if part]
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in MODULES:
                targets.add(candidate)
                break
        else:
            targets.add("__init__")
    return targets


def test_every_module_has_a_rule() -> None:
    missing = [module for module in MODULES if rule_of(module) is None]
    assert not missing, f"add a row to RULES for: {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    mine = rule_of(module)
    assert mine is not None
    for target in _internal_targets(_imports(MODULES[module], module)):
        if _same_unit(module, target):
            continue  # one subpackage is one unit of the layering (see test_no_cycles)
        theirs = rule_of(target)
        assert theirs is not None, target
        assert theirs.layer < mine.layer, (
            f"{module} (layer {mine.layer}) imports {target} (layer {theirs.layer})"
        )


def _same_unit(module: str, target: str) -> bool:
    """Itself, or two modules of one subpackage (its ``__init__`` included)."""
    unit = module.split(".")[0]
    return target == module or (
        unit in MODULES and "." in module + target and target.split(".")[0] == unit
    )


def test_no_cycles() -> None:
    """No module imports itself through others (inside a subpackage too)."""
    graph = {module: _internal_targets(_imports(path, module)) for module, path in MODULES.items()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            raise AssertionError(" -> ".join((*trail[trail.index(module) :], module)))
        if module in done:
            return
        for target in graph.get(module, ()):
            if target != module and not module.startswith(target + "."):
                visit(target, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def _pure(module: str) -> bool:
    rule = rule_of(module)
    return rule is not None and not rule.io


@pytest.mark.parametrize("module", sorted(filter(_pure, MODULES)))
def test_pure_modules_do_no_io(module: str) -> None:
    imported = _imports(MODULES[module], module)
    top_level = {name.split(".")[0] for name in imported}
    forbidden = top_level & FORBIDDEN_WITHOUT_IO
    assert not forbidden, f"{module} imports {forbidden}"
    source = MODULES[module].read_text()
    assert "open(" not in source.replace("reopen(", ""), f"{module} opens a file"


def test_layering_test_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from metrics_engine._replay import CaseReplay\nimport os\nfrom . import x\n")
    imported = _imports(bad, "sources.bad")
    assert "metrics_engine._replay" in imported
    assert "os" in imported
    assert "metrics_engine.sources.x" in imported
    assert _internal_targets({"metrics_engine._replay.CaseReplay"}) == {"_replay"}
    assert rule_of("sources.kayako") == Rule("sources.*", 8)
    assert rule_of("_brand_new_module") is None  # fails test_every_module_has_a_rule
