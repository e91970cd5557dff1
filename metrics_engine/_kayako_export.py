"""A Kayako export directory on disk (batch layer): the only Kayako code that reads files.

The layout (docs/kayako.md)::

    EXPORT/statuses.json              or statuses-*.json (pages)     required
    EXPORT/users-*.json               user pages, with their roles    optional
    EXPORT/teams.json                 or teams-*.json                 optional
    EXPORT/businesshours.json         or businesshours-*.json         optional (calendars)
    EXPORT/cases/<id>/case.json                                       required per case
    EXPORT/cases/<id>/posts-*.json    every page, filters=all         required per case
    EXPORT/cases/<id>/activities-*.json                               optional
    EXPORT/cases/<id>/metrics.json    Kayako's own case_metric        optional (compare)

Problems with the export as a whole (no such folder, no statuses, an account-wide file that
is not JSON) are :class:`BatchError` (exit 2); a case whose own files cannot be read is a
:class:`~metrics_engine.sources.kayako.KayakoError`, which rejects that case alone.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Final, Protocol

from metrics_engine._batch.inputs import BatchError
from metrics_engine._calendar import TeamCalendars
from metrics_engine.sources import kayako

__all__ = [
    "CaseFiles",
    "Export",
    "Writer",
    "atomic_output",
    "kayako_metrics",
    "load_kayako_calendars",
    "open_export",
    "read_rows",
]

_NUMBER: Final = re.compile(r"([0-9]+)")


def _natural(name: str) -> list[object]:
    """posts-2.json before posts-10.json."""
    return [int(part) if part.isdigit() else part for part in _NUMBER.split(name)]


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _read_json(path: str) -> Any:
    """A JSON file; :class:`OSError` or :class:`ValueError` when it cannot be read."""
    with open(path, "rb") as handle:
        data = handle.read()
    return json.loads(data)


def _pages(folder: str, stem: str) -> list[str]:
    """``stem.json`` and ``stem-*.json`` in a folder, in natural order."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = [
        name
        for name in names
        if name == f"{stem}.json" or (name.startswith(f"{stem}-") and name.endswith(".json"))
    ]
    return [os.path.join(folder, name) for name in sorted(found, key=_natural)]


@dataclass(frozen=True, slots=True)
class CaseFiles:
    """One case's saved responses, decoded."""

    case_id: str
    folder: str
    case: Any
    posts: list[Any]
    activities: list[Any]


@dataclass(frozen=True, slots=True)
class Export:
    """An export directory, checked: its account-wide files read, its case folders listed."""

    root: str
    statuses: list[Any]
    users: list[Any]
    teams: list[Any]
    case_ids: list[str]

    def directory(self, status_types: Mapping[int | str, str] | None = None) -> kayako.Directory:
        try:
            return kayako.Directory(
                statuses=self.statuses,
                users=self.users,
                teams=self.teams,
                status_types=status_types,
            )
        except kayako.KayakoError as error:
            raise BatchError(f"export {self.root}: {error.detail}") from None

    def case_folder(self, case_id: str) -> str:
        return os.path.join(self.root, "cases", case_id)

    def read_case(self, case_id: str) -> CaseFiles:
        """A case's files; :class:`KayakoError` (a reject) when one cannot be read."""
        folder = self.case_folder(case_id)
        posts = _pages(folder, "posts")
        if not posts:
            raise kayako.KayakoError(f"{folder}: expected posts-*.json (filters=all), found none")
        return CaseFiles(
            case_id=case_id,
            folder=folder,
            case=_case_file(os.path.join(folder, "case.json")),
            posts=[_case_file(path) for path in posts],
            activities=[_case_file(path) for path in _pages(folder, "activities")],
        )


def _case_file(path: str) -> Any:
    try:
        return _read_json(path)
    except OSError as error:
        raise kayako.KayakoError(f"cannot read {path}: {_reason(error)}") from None
    except ValueError as error:
        raise kayako.KayakoError(f"{path}: expected JSON, found a parse error ({error})") from None


def _account_files(root: str, stem: str, *, required: bool = False) -> list[Any]:
    paths = _pages(root, stem)
    if required and not paths:
        raise BatchError(f"export {root}: expected {stem}.json (or {stem}-*.json), found none")
    pages = []
    for path in paths:
        try:
            pages.append(_read_json(path))
        except OSError as error:
            raise BatchError(f"cannot read {path}: {_reason(error)}") from None
        except ValueError as error:
            raise BatchError(f"{path}: expected JSON, found a parse error ({error})") from None
    return pages


def open_export(root: str, *, cases: bool = True) -> Export:
    """Read an export directory's account-wide files and list its cases (BatchError)."""
    if not os.path.isdir(root):
        raise BatchError(f"export {root}: expected a directory, found {_what(root)}")
    statuses = _account_files(root, "statuses", required=cases)
    case_ids: list[str] = []
    if cases:
        folder = os.path.join(root, "cases")
        if not os.path.isdir(folder):
            raise BatchError(
                f"export {root}: expected a cases/ folder (cases/<id>/case.json), found none"
            )
        try:
            case_ids = sorted(
                (
                    entry.name
                    for entry in os.scandir(folder)
                    if entry.is_dir() and not entry.name.startswith(".")
                ),
                key=lambda name: (0, int(name), name) if name.isdigit() else (1, 0, name),
            )
        except OSError as error:
            raise BatchError(f"export {root}: cannot list cases/: {_reason(error)}") from None
    return Export(
        root=root,
        statuses=statuses,
        users=_account_files(root, "users"),
        teams=_account_files(root, "teams"),
        case_ids=case_ids,
    )


def _what(path: str) -> str:
    return "a file" if os.path.exists(path) else "nothing there"


def load_kayako_calendars(root: str, timezone: str | None) -> TeamCalendars:
    """Per-team calendars from an export's teams and business hours (BatchError)."""
    if timezone is None:
        raise BatchError(
            "--kayako-calendars: expected --timezone too (Kayako's business hours carry no "
            "time zone), found none"
        )
    if not os.path.isdir(root):
        raise BatchError(f"export {root}: expected a directory, found {_what(root)}")
    hours = _account_files(root, "businesshours", required=True)
    try:
        return kayako.team_calendars(
            teams=_account_files(root, "teams"), business_hours=hours, timezone=timezone
        )
    except kayako.KayakoError as error:
        raise BatchError(f"calendars of export {root}: {error.detail}") from None


def kayako_metrics(export: Export) -> dict[str, Any]:
    """Kayako's own metrics.json of every case that has one (BatchError when unreadable)."""
    found: dict[str, Any] = {}
    cases = os.path.join(export.root, "cases")
    try:
        names = sorted(os.listdir(cases))
    except OSError as error:
        raise BatchError(f"export {export.root}: cannot list cases/: {_reason(error)}") from None
    for name in names:
        path = os.path.join(cases, name, "metrics.json")
        if not os.path.isfile(path):
            continue
        try:
            found[name] = _read_json(path)
        except OSError as error:
            raise BatchError(f"cannot read {path}: {_reason(error)}") from None
        except ValueError as error:
            raise BatchError(f"{path}: expected JSON, found a parse error ({error})") from None
    return found


def read_rows(path: str) -> list[Any]:
    """Our metrics rows: JSON Lines, plain or gzip (BatchError naming the line)."""
    try:
        with open(path, "rb") as probe:
            packed = probe.read(2) == b"\x1f\x8b"
        opener = gzip.open if packed else open
        with opener(path, "rb") as handle:
            rows = []
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError as error:
                    raise BatchError(f"{path}:{number}: expected JSON, found ({error})") from None
            return rows
    except (OSError, EOFError) as error:
        reason = _reason(error) if isinstance(error, OSError) else str(error)
        raise BatchError(f"cannot read {path}: {reason}") from None


class Writer(Protocol):
    """Where text goes."""

    def write(self, text: str, /) -> int: ...


class _Discard:
    def write(self, text: str, /) -> int:
        return len(text)


@contextlib.contextmanager
def atomic_output(target: str | None, stream: IO[str] | None) -> Iterator[Writer]:
    """Text written to ``target`` all at once at the end (a temp file renamed over it), or to
    ``stream`` when there is no target (nowhere when there is neither). Nothing is left under
    the target name on failure."""
    if target is None:
        yield stream if stream is not None else _Discard()
        return
    folder = os.path.dirname(os.path.abspath(target))
    try:
        descriptor, temp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".partial", dir=folder
        )
    except OSError as error:
        raise BatchError(f"cannot write {target}: {_reason(error)}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
