"""Every Python snippet in the README and docs/ runs as written.

The ```python blocks of one file run in order in one namespace, as a reader pasting them into
a notebook would, from the repository root (so ``examples/...`` paths work); a function named
``test_*`` that a block defines is then called, as pytest would. A block preceded by the line
``<!-- snippet: not run (REASON) -->`` is skipped, and says why in the page source.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.DOTALL)
_NOT_RUN = re.compile(r"<!-- snippet: not run \((?P<reason>[^)]+)\) -->")


def blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(line number, code, reason it is not run) for each python block."""
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        skip = _NOT_RUN.search(match.group("before"))
        found.append((line, match.group("code"), skip.group("reason") if skip else None))
    return found


def test_the_block_reader_finds_blocks_and_exemptions() -> None:
    text = (
        "intro\n```python\nx = 1\n```\n"
        "<!-- snippet: not run (needs a cluster) -->\n```python\ny\n```\n"
    )
    assert blocks(text) == [(3, "x = 1", None), (7, "y", "needs a cluster")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_snippets_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks(page.read_text())
    if not found:
        return
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"__name__": f"snippets_{page.stem}"}
    ran = 0
    for line, code, reason in found:
        if reason is not None:
            continue
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{page.name} line {line}: {type(error).__name__}: {error}")
        for name in [name for name in namespace if name.startswith("test_")]:
            test = namespace.pop(name)
            if callable(test):
                test()
        ran += 1
    assert ran or all(reason for _, _, reason in found)


REPOSITORY = "https://github.com/metrics-engine/metrics-engine/blob/main/"
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_to_the_repository_name_files_that_exist(page: Path) -> None:
    """The README's links are absolute (so that they work on the package index's page);
    docs/ link to each other relatively. Either way the file must exist."""
    for target in _LINK.findall(page.read_text()):
        if target.startswith(REPOSITORY):
            path = ROOT / target.removeprefix(REPOSITORY)
        elif "://" in target:
            continue  # another site
        else:
            assert page.name != "README.md", f"relative link in the README: {target}"
            path = page.parent / target
        assert path.exists(), f"{page.name}: {target}"
