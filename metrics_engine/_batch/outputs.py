"""What a run writes (batch layer): rows as JSON Lines or CSV, rejects, and the output files.

Outputs are always valid UTF-8: a lone surrogate (from a ``\\udXXX`` escape in the input) has
no UTF-8 form, so it is written as the JSON escape ``\\udXXX`` (in CSV, as that text).

Outputs are written to temporary files and committed as a pair at the very end (see
:class:`OutputPair`): regular files by ``os.replace``, rows and rejects meant for stdout,
stderr, a device or a pipe by copying them there. An interrupted run leaves no file that
looks complete, and never new rows beside old rejects.
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

from metrics_engine._batch.inputs import BatchError, locate, os_reason
from metrics_engine._batch.lines import orjson
from metrics_engine._batch.signals import deferred
from metrics_engine._batch.spill import LINE_REJECT, Record
from metrics_engine._batch.targets import Target, short_name, std_stream
from metrics_engine._columns import CASE_ID
from metrics_engine._events import id_text
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS, USER_FIELDS

__all__ = [
    "COLUMNS",
    "Absent",
    "Output",
    "OutputFormat",
    "OutputPair",
    "RowEncoder",
    "dumps",
    "dumps_std",
    "open_output",
    "reject_json",
    "utf8",
]

Absent = Literal["null", "zero"]
OutputFormat = Literal["jsonl", "csv"]

#: Columns of an output row: "case_id" (``case`` is a reserved word in SQL), then the 41
#: fields in Kayako's order (the ``to_dict()`` keys, without ``resource_type``).
COLUMNS: Final = (CASE_ID, *FIELDS)
_USERS: Final = tuple(name for name in FIELDS if name in USER_FIELDS)


def dumps_std(obj: Any) -> bytes:
    # A lone surrogate (from a ``\udXXX`` escape in the input) cannot be UTF-8: it only ever
    # stands inside a JSON string here, where ``backslashreplace`` writes it as the JSON escape
    # ``\udXXX``. Every other character encodes as itself.
    return utf8(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def utf8(text: str) -> bytes:
    """UTF-8, a lone surrogate written as the six characters ``\\udXXX`` (never invalid)."""
    return text.encode("utf-8", "backslashreplace")


def dumps(obj: Any) -> bytes:
    """Compact JSON, UTF-8; orjson and json give the same bytes for what we write."""
    if orjson is not None:
        try:
            return orjson.dumps(obj)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate
            pass
    return dumps_std(obj)


class RowEncoder:
    """Rows of :data:`COLUMNS`. Every id (the case, the users) is written as its text, so
    that each column holds one type (``17`` and ``"17"`` are one id); ``to_dict()`` in
    Python keeps ids as given."""

    def __init__(self, absent: Absent, as_csv: bool) -> None:
        self.absent: Absent = absent
        self.csv = as_csv
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def encode(self, case: object, metrics: CaseMetrics) -> bytes:
        row: dict[str, Any] = {CASE_ID: id_text(case, "case")}
        row.update(metrics.to_dict(absent=self.absent))
        del row["resource_type"]
        for name in _USERS:
            user = row[name]
            if user is not None:
                row[name] = id_text(user["id"], name)
        if not self.csv:
            return dumps(row) + b"\n"
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([_csv_cell(value) for value in row.values()])
        # CSV has no escapes: a lone surrogate is written as the text ``\udXXX`` (see utf8).
        return utf8(self._buffer.getvalue())


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def reject_json(record: Record, files: Sequence[tuple[int, str]]) -> bytes:
    ordinal, kind, payload = record
    if kind == LINE_REJECT:
        name, number = locate(files, ordinal)
        obj: dict[str, Any] = {
            CASE_ID: None,
            "file": name,
            "line": number,
            "error": payload.decode(),
        }
    else:
        case, where, index, error = json.loads(payload)
        name, number = locate(files, where)
        obj = {
            CASE_ID: id_text(case, "case"),
            "file": name,
            "line": number,
            "index": index,
            "error": error,
        }
    return dumps_std(obj) + b"\n"


# ====================================================================== outputs


class _AtomicFile:
    """A regular file, written under a temporary name beside it and renamed over it."""

    def __init__(self, target: Target) -> None:
        assert target.path is not None
        self.target = target
        self.path = target.path  # symlinks followed: the file that gets replaced
        folder, base = os.path.split(self.path)
        try:
            fd, self.temp = tempfile.mkstemp(
                dir=folder, prefix=f".{short_name(folder, base)}.", suffix=".partial"
            )
        except OSError as error:
            raise BatchError(f"cannot write {target.name}: {os_reason(error)}") from None
        self.handle: IO[bytes] = os.fdopen(fd, "wb", buffering=1 << 20)

    def finish(self) -> None:
        """Everything on disk under the temp name (what can fail, fails here)."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temp, 0o666 & ~umask)

    def commit(self) -> None:
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


class _Spool:
    """Bytes for a stream (stdout, stderr) or a device or pipe, held in a temp file until the
    run has succeeded, then written there directly (never replaced)."""

    def __init__(self, target: Target, folder: str) -> None:
        self.target = target
        self.path = os.path.join(folder, f"spool-{target.what}")
        self.handle: IO[bytes] = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115

    def finish(self) -> None:
        self.handle.close()

    def commit(self) -> None:
        target = self.target
        with open(self.path, "rb") as spooled:
            if target.fd is not None:
                stream = std_stream(target.fd)
                shutil.copyfileobj(spooled, stream, 1 << 20)
                stream.flush()
                return
            assert target.path is not None
            with open(target.path, "wb") as device:  # a device or a pipe: no rename
                shutil.copyfileobj(spooled, device, 1 << 20)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()


Output = _AtomicFile | _Spool


def open_output(target: Target, folder: str) -> Output:
    if target.is_file:
        return _AtomicFile(target)
    return _Spool(target, folder)


class OutputPair:
    """Rows and rejects (and the SLA results, in a run with SLA policies), committed
    together: all old or all new.

    1. ``finish``: every temp file flushed and fsynced (a full disk or a file size limit
       fails here, before anything is committed);
    2. outputs for streams, devices and pipes are copied out (the only step that can leave
       one output written and not another: a reader that goes away);
    3. the renames, rejects, then SLA results, then rows, with signals deferred: new rows
       never stand beside old rejects or old SLA results. Only a crash between the renames
       (microseconds) can leave new rejects beside old rows.

    ``written`` and ``partial`` record how far it went, for the message of a run that stops.
    """

    def __init__(self, rows: Output, rejects: Output, sla: Output | None = None) -> None:
        self.rows = rows
        self.rejects = rejects
        self.sla = sla
        # commit order: rows last
        self.all: tuple[Output, ...] = (rejects, rows) if sla is None else (rejects, sla, rows)
        self.written: list[Output] = []  # committed in full
        self.partial: Output | None = None  # being copied to its stream when it stopped

    def write_row(self, data: bytes) -> None:
        try:
            self.rows.handle.write(data)
        except OSError as error:
            raise self.failed(self.rows, error) from None

    def write_reject(self, data: bytes) -> None:
        try:
            self.rejects.handle.write(data)
        except OSError as error:
            raise self.failed(self.rejects, error) from None

    def write_sla(self, data: bytes) -> None:
        assert self.sla is not None
        try:
            self.sla.handle.write(data)
        except OSError as error:
            raise self.failed(self.sla, error) from None

    def commit(self) -> None:
        both = self.all
        for output in both:
            try:
                output.finish()
            except OSError as error:
                raise self.failed(output, error) from None
        for output in both:
            if isinstance(output, _Spool):
                self.partial = output
                try:
                    output.commit()
                except BrokenPipeError:
                    raise  # the reader went away: a signal's exit, see _cli
                except OSError as error:
                    raise self.failed(output, error) from None
                self.partial = None
                self.written.append(output)
        files = [output for output in both if isinstance(output, _AtomicFile)]
        with deferred():  # the renames are never cut apart by a signal
            for output in files:
                try:
                    output.commit()
                except OSError as error:
                    raise self.failed(output, error) from None
                self.written.append(output)
        for folder in {os.path.dirname(output.path) for output in files}:
            _sync_folder(folder)  # the renames themselves reach the disk

    def discard(self) -> None:
        for output in self.all:
            output.discard()

    def failed(self, output: Output, error: OSError) -> BatchError:
        return BatchError(f"cannot write {output.target.name}: {os_reason(error)}; {self.left()}")

    def left(self) -> str:
        """What a user finds in the outputs, for a message about a run that stopped."""
        pair = (
            (self.rows, self.rejects) if self.sla is None else (self.rows, self.rejects, self.sla)
        )
        if not self.written and self.partial is None:
            files = [o.target.name for o in pair if isinstance(o, _AtomicFile)]
            if files:
                return f"nothing was written ({' and '.join(files)} left as they were)"
            return "nothing was written"
        parts = [f"{o.target.what} written in full to {o.target.name}" for o in self.written]
        if self.partial is not None:
            parts.append(f"{self.partial.target.what} on {self.partial.target.name} incomplete")
        for output in pair:
            if output not in self.written and output is not self.partial:
                if isinstance(output, _AtomicFile):
                    parts.append(f"{output.target.name} left as it was")
                else:
                    parts.append(f"no {output.target.what} written to {output.target.name}")
        return "; ".join(parts)


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the renames are done either way
    finally:
        os.close(fd)
