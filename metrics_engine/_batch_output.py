"""What a run writes (batch layer): rows as JSON Lines or CSV, rejects, and the output files.

Outputs are always valid UTF-8: a lone surrogate (from a ``\\udXXX`` escape in the input) has
no UTF-8 form, so it is written as the JSON escape ``\\udXXX`` (in CSV, as that text).

Outputs are written to temporary files and committed with ``os.replace`` at the very end
(rows and rejects meant for stdout/stderr are copied there at the end): an interrupted run
leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import IO, Any, Final, Literal

from metrics_engine._batch_input import BatchError, _locate, _os_reason
from metrics_engine._batch_lines import _orjson
from metrics_engine._batch_spill import _LINE_REJECT, Record
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS

__all__ = [
    "COLUMNS",
    "Absent",
    "Output",
    "OutputFormat",
    "_RowEncoder",
    "_dumps",
    "_dumps_std",
    "_open_output",
    "_reject_json",
    "_utf8",
]

Absent = Literal["null", "zero"]
OutputFormat = Literal["jsonl", "csv"]

#: Columns of an output row: "case", then the ``to_dict()`` keys in their order.
COLUMNS: Final = ("case", *FIELDS, "resource_type")


def _dumps_std(obj: Any) -> bytes:
    # A lone surrogate (from a ``\udXXX`` escape in the input) cannot be UTF-8: it only ever
    # stands inside a JSON string here, where ``backslashreplace`` writes it as the JSON escape
    # ``\udXXX``. Every other character encodes as itself.
    return _utf8(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def _utf8(text: str) -> bytes:
    """UTF-8, a lone surrogate written as the six characters ``\\udXXX`` (never invalid)."""
    return text.encode("utf-8", "backslashreplace")


def _dumps(obj: Any) -> bytes:
    """Compact JSON, UTF-8; orjson and json give the same bytes for what we write."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate
            pass
    return _dumps_std(obj)


class _RowEncoder:
    def __init__(self, absent: Absent, as_csv: bool) -> None:
        self.absent: Absent = absent
        self.csv = as_csv
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def encode(self, case: object, metrics: CaseMetrics) -> bytes:
        row: dict[str, Any] = {"case": case}
        row.update(metrics.to_dict(absent=self.absent))
        if not self.csv:
            return _dumps(row) + b"\n"
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([_csv_cell(value) for value in row.values()])
        # CSV has no escapes: a lone surrogate is written as the text ``\udXXX`` (see _utf8).
        return _utf8(self._buffer.getvalue())


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):  # a user: its id
        return value["id"]
    return value


def _reject_json(record: Record, files: Sequence[tuple[int, str]]) -> bytes:
    ordinal, kind, payload = record
    if kind == _LINE_REJECT:
        name, number = _locate(files, ordinal)
        obj: dict[str, Any] = {
            "case": None,
            "file": name,
            "line": number,
            "error": payload.decode(),
        }
    else:
        case, where, index, error = json.loads(payload)
        name, number = _locate(files, where)
        obj = {"case": case, "file": name, "line": number, "index": index, "error": error}
    return _dumps_std(obj) + b"\n"


# ====================================================================== outputs


class _AtomicFile:
    """A file written under a temporary name beside its target, renamed on commit."""

    def __init__(self, target: str) -> None:
        self.target = target
        folder = os.path.dirname(os.path.abspath(target))
        try:
            fd, self.temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".partial"
            )
        except OSError as error:
            raise BatchError(f"cannot write {target}: {_os_reason(error)}") from None
        self.handle: IO[bytes] = os.fdopen(fd, "wb", buffering=1 << 20)

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temp, 0o666 & ~umask)
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


class _Spool:
    """Bytes for stdout or stderr, held in a temp file until the run has succeeded."""

    def __init__(self, folder: str, name: str, stream: IO[bytes]) -> None:
        self.path = os.path.join(folder, name)
        self.stream = stream
        self.handle: IO[bytes] = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115

    def commit(self) -> None:
        self.handle.close()
        with open(self.path, "rb") as spooled:
            shutil.copyfileobj(spooled, self.stream, 1 << 20)
        self.stream.flush()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()


Output = _AtomicFile | _Spool


def _open_output(target: str | None, folder: str, name: str, stream: IO[bytes]) -> Output:
    if target is None:
        return _Spool(folder, name, stream)
    return _AtomicFile(target)
