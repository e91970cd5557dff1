"""The optional compiled build (docs/performance.md). All metadata lives in pyproject.toml.

``METRICS_ENGINE_COMPILE=1 pip install .`` (or ``python -m build --wheel`` with it set)
compiles the modules named in metrics_engine/_compiled.py with mypyc, from the same source;
without it, or set to 0, the package is pure Python. An editable install is always pure
Python. mypy, which compiles, is asked for only by a compiled build: the first pass of the
build names it (with what mypy needs to read the package's imports) as a build requirement.
"""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
# The compiler, pinned so that a given source always compiles the same way, and what mypy
# needs to type-check the compiled modules' imports: the package's own dependencies, msgspec
# and orjson (the fast paths) and dateutil's type stubs.
COMPILER = "mypy==2.4.1"
TYPE_NEEDS = ["msgspec>=0.18", "orjson>=3.9", "types-python-dateutil"]


def compiled_modules() -> list[str]:
    """``COMPILED_MODULES`` of metrics_engine/_compiled.py, read without importing it."""
    tree = ast.parse((HERE / "metrics_engine" / "_compiled.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "COMPILED_MODULES"
            and node.value is not None
        ):
            return list(ast.literal_eval(node.value))
    raise SystemExit("setup.py: COMPILED_MODULES not found in metrics_engine/_compiled.py")


def compile_requested() -> bool:
    flag = os.environ.get("METRICS_ENGINE_COMPILE", "").strip()
    if flag not in ("", "0", "1"):
        raise SystemExit(f"METRICS_ENGINE_COMPILE: expected 1 or 0, found {flag!r}")
    if flag == "1" and "editable_wheel" in sys.argv:
        print("METRICS_ENGINE_COMPILE ignored: an editable install is pure Python", file=sys.stderr)
        return False
    return flag == "1"


def build_settings() -> dict[str, object]:
    if not compile_requested():
        return {}
    try:
        from mypyc.build import mypycify
    except ImportError:
        if "egg_info" in sys.argv:  # the pass that collects build requirements
            project = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]
            return {"setup_requires": [COMPILER, *TYPE_NEEDS, *project["dependencies"]]}
        raise SystemExit(
            "METRICS_ENGINE_COMPILE=1: the compiled build needs mypy (mypyc) where it builds; "
            f"install {COMPILER!r} there, or build with build isolation"
        ) from None
    paths = [f"metrics_engine/{name.replace('.', '/')}.py" for name in compiled_modules()]
    return {
        "ext_modules": mypycify(paths, opt_level="3", debug_level="0", group_name="metrics_engine")
    }


setup(**build_settings())
