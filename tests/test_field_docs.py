"""Every field a user can hover over in an IDE has a one-line doc; the package has a quick start.

Field docs are *attribute docstrings*: the string literal right after a field in the class
body, which IDEs (Pylance, PyCharm) and documentation tools show for the attribute. Python
discards them at run time, so this test reads them from the source with ``ast``.
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import inspect
import re
import textwrap
from pathlib import Path

import pytest

import metrics_engine as me

DOCS = Path(__file__).resolve().parent.parent / "docs"


def attribute_docs(cls: type) -> dict[str, str]:
    """Field name -> the docstring that follows it in the class body (absent when none)."""
    module = inspect.getmodule(cls)
    assert module is not None
    return attribute_docs_in(inspect.getsource(module), cls.__name__)


def attribute_docs_in(source: str, class_name: str) -> dict[str, str]:
    tree = ast.parse(source)
    [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = following.value.value
    return docs


@pytest.mark.parametrize("cls", [me.CaseMetrics, me.Rules])
def test_every_field_has_a_one_line_doc(cls: type) -> None:
    docs = attribute_docs(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    missing = [name for name in names if not docs.get(name, "").strip()]
    assert missing == [], f"{cls.__name__} fields without a doc: {missing}"
    multi_line = [name for name in names if "\n" in docs[name]]
    assert multi_line == [], f"{cls.__name__} docs on more than one line: {multi_line}"
    # A doc that only repeats its field's name says nothing.
    echoes = [name for name in names if docs[name].strip(" .").lower() == name.replace("_", " ")]
    assert echoes == []


def test_case_metrics_documents_the_41_fields_and_skipped_events() -> None:
    docs = attribute_docs(me.CaseMetrics)
    assert len(me.FIELDS) == 41
    assert set(me.FIELDS) | {"skipped_events", "sla"} == set(docs)


def test_attribute_docs_reader_sees_a_missing_doc() -> None:
    # The reader must be able to fail: a field with no string after it has no doc, and a
    # string after a method is no field's doc.
    source = textwrap.dedent(
        '''
        class Sample:
            """The class's own doc."""
            documented: int
            """Has one."""
            bare: int
            def method(self) -> None:
                pass
            """Not a field doc."""
        '''
    )
    assert attribute_docs_in(source, "Sample") == {"documented": "Has one."}


def test_package_docstring_has_a_working_quick_start_and_names_the_docs() -> None:
    doc = me.__doc__ or ""
    linked = set(re.findall(r"docs/\w+\.md", doc))
    assert {"docs/events.md", "docs/metrics.md", "docs/calendars.md", "docs/batch.md"} <= linked
    for name in linked:
        assert (DOCS.parent / name).is_file(), name
    assert "compute_metrics" in doc
    # The quick start's figures are checked by hand: created 08:15, agent reply 10:02:10
    # (6430 s), completed 10:05 (6600 s); with Mondays open from 09:00, 3730 business seconds.
    results = doctest.testmod(me, verbose=False, report=False)
    assert results.attempted >= 5
    assert results.failed == 0
