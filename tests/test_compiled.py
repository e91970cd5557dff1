"""The compiled build and the pure one: which is running, and that setup.py compiles the
modules the package says it does. The whole suite runs on both builds in CI (.ci/run); there
``METRICS_ENGINE_EXPECT_COMPILED`` says which build the run must be testing."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me
from metrics_engine import _compiled

SETUP = Path(__file__).resolve().parent.parent / "setup.py"


def test_compiled_is_all_or_nothing() -> None:
    compiled = _compiled.compiled_modules()
    assert compiled in ((), _compiled.COMPILED_MODULES), f"half-compiled install: {compiled}"
    assert me.COMPILED is (compiled == _compiled.COMPILED_MODULES)
    assert "COMPILED" in me.__all__


@pytest.mark.skipif(
    "METRICS_ENGINE_EXPECT_COMPILED" not in os.environ,
    reason="METRICS_ENGINE_EXPECT_COMPILED not set (.ci/run sets it for each build)",
)
def test_the_build_under_test_is_the_expected_one() -> None:
    expected = os.environ["METRICS_ENGINE_EXPECT_COMPILED"] == "1"
    assert me.COMPILED is expected, f"testing {me.__file__}"


def test_the_compiled_modules_exist_and_run_per_event_or_per_line() -> None:
    package = Path(me.__file__).parent
    for name in _compiled.COMPILED_MODULES:
        assert (package / f"{name.replace('.', '/')}.py").is_file(), name
        assert not name.startswith(("_cli", "_spark", "_kayako")), name
        # Of the batch package, only the first pass's per-line loop and line reading.
        assert not name.startswith("_batch") or name in ("_batch.lines", "_batch.scan"), name


def _setup(monkeypatch: pytest.MonkeyPatch, flag: str | None, *argv: str) -> dict[str, Any]:
    """Run setup.py with setuptools.setup replaced; return what it would be given."""
    setuptools = pytest.importorskip("setuptools")
    given: dict[str, Any] = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: given.update(kwargs))
    monkeypatch.setattr(sys, "argv", ["setup.py", *argv])
    if flag is None:
        monkeypatch.delenv("METRICS_ENGINE_COMPILE", raising=False)
    else:
        monkeypatch.setenv("METRICS_ENGINE_COMPILE", flag)
    namespace = runpy.run_path(str(SETUP))
    given["compiled_modules"] = namespace["compiled_modules"]()
    return given


@pytest.mark.skipif(not SETUP.is_file(), reason="no setup.py beside the tests")
def test_setup_compiles_the_modules_the_package_names(monkeypatch: pytest.MonkeyPatch) -> None:
    given = _setup(monkeypatch, None, "bdist_wheel")
    assert given["compiled_modules"] == list(_compiled.COMPILED_MODULES)
    assert "ext_modules" not in given  # pure Python unless asked


@pytest.mark.skipif(not SETUP.is_file(), reason="no setup.py beside the tests")
def test_setup_stays_pure_when_editable_or_told_0(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ext_modules" not in _setup(monkeypatch, "1", "editable_wheel")
    assert "ext_modules" not in _setup(monkeypatch, "0", "bdist_wheel")


@pytest.mark.skipif(not SETUP.is_file(), reason="no setup.py beside the tests")
def test_setup_refuses_an_unknown_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="METRICS_ENGINE_COMPILE: expected 1 or 0, found 'yes'"):
        _setup(monkeypatch, "yes", "bdist_wheel")


def test_strict_takes_a_bool_in_the_compiled_build() -> None:
    """The one documented difference (docs/performance.md): compiled code checks the type of
    a flag on entry, where the pure build takes any true or false value."""
    events = [
        {"case": 1, "event": "created", "at": "2026-03-02T09:00:00Z"},
        {"case": 1, "event": "message", "at": "2026-03-02T09:30:00Z",
         "actor": {"id": 2, "role": "agent"}},
    ]  # fmt: skip
    if me.COMPILED:
        with pytest.raises(TypeError, match="bool object expected; got int"):
            me.compute_metrics(events, strict=1)  # type: ignore[arg-type]
    else:
        assert me.compute_metrics(events, strict=1) == me.compute_metrics(events)  # type: ignore[arg-type]
