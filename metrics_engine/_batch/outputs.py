"""What a run writes (batch layer): rows as JSON Lines, CSV or Parquet, rejects, and the output
files.

Outputs are always valid UTF-8: a lone surrogate (from a ``\\udXXX`` escape in the input) has
no UTF-8 form, so it is written as the JSON escape ``\\udXXX`` (in CSV, as that text).

Outputs are written to temporary files and committed as a pair at the very end (see
:class:`OutputPair`): regular files by ``os.replace``, rows and rejects meant for stdout,
stderr, a device or a pipe by copying them there. An interrupted run leaves no file that
looks complete, and never new rows beside old rejects. Parquet rows go to a regular file
only (see :class:`ParquetOutput`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC
from typing import IO, TYPE_CHECKING, Any, Final, Literal

from metrics_engine._batch.inputs import BatchError, locate, os_reason
from metrics_engine._batch.lines import orjson
from metrics_engine._batch.signals import deferred
from metrics_engine._batch.spill import LINE_REJECT, Record
from metrics_engine._batch.targets import Target, short_name, std_stream, sync_folder
from metrics_engine._columns import CASE_ID, row_cells
from metrics_engine._columns import COLUMNS as TYPED_COLUMNS
from metrics_engine._events import id_text
from metrics_engine._metrics import CaseMetrics

if TYPE_CHECKING:
    from metrics_engine.arrow import ParquetRowWriter

__all__ = [
    "COLUMNS",
    "Absent",
    "Output",
    "OutputFormat",
    "OutputPair",
    "ParquetOutput",
    "RowEncoder",
    "RowsOutput",
    "check_parquet",
    "csv_cell",
    "dumps",
    "dumps_std",
    "open_output",
    "open_rows",
    "reject_json",
    "utf8",
]

Absent = Literal["null", "zero"]
OutputFormat = Literal["jsonl", "csv", "parquet"]

#: Columns of an output row: "case_id" (``case`` is a reserved word in SQL), then the 41
#: fields in Kayako's order (the ``to_dict()`` keys, without ``resource_type``).
#: The column names of a row, from the one typed column list.
COLUMNS: Final = tuple(column.name for column in TYPED_COLUMNS)
_KINDS: Final = tuple(column.kind for column in TYPED_COLUMNS)


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


_TIMESTAMPS: Final = tuple(i for i, kind in enumerate(_KINDS) if kind == "timestamp")
_INTEGERS: Final = tuple(i for i, kind in enumerate(_KINDS) if kind == "integer")
_FLAGS: Final = tuple(i for i, kind in enumerate(_KINDS) if kind == "flag")
_IDS: Final = tuple(i for i, kind in enumerate(_KINDS) if kind in ("id", "user"))
#: Pieces of a UTC ISO text after its date: "T09:00:" by minute of the day, "00+00:00" by
#: second; and how many dates' texts an encoder holds (cleared when full).
_HOURS_MINUTES: Final = tuple(
    f"T{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60)
)
_SECONDS_UTC: Final = tuple(f"{second:02d}+00:00" for second in range(60))
_DAYS_HELD: Final = 4096


class RowEncoder:
    """Rows of :data:`COLUMNS`. Every id (the case, the users) is written as its text, so
    that each column holds one type (``17`` and ``"17"`` are one id); ``to_dict()`` in
    Python keeps ids as given."""

    def __init__(self, absent: Absent, as_csv: bool) -> None:
        self.absent: Absent = absent
        self.csv = as_csv
        self._zero = absent == "zero"
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        self._days: dict[int, str] = {}

    def encode(self, case: object, metrics: CaseMetrics) -> bytes:
        """One row: the typed values of :func:`row_values`, written by their column's kind."""
        cells: list[Any] = row_cells(case, metrics)
        if self._zero:
            for position in _INTEGERS:
                if cells[position] is None:
                    cells[position] = 0
        if not self.csv:
            if orjson is not None:
                # orjson writes an aware UTC datetime of whole seconds (all the engine makes)
                # as isoformat() does: 2025-01-31T09:00:00+00:00.
                try:
                    return orjson.dumps(dict(zip(COLUMNS, cells, strict=True))) + b"\n"
                except TypeError:  # an integer beyond 64 bits, a lone surrogate
                    pass
            self._iso(cells)
            return dumps_std(dict(zip(COLUMNS, cells, strict=True))) + b"\n"
        self._iso(cells)
        for position in _FLAGS:
            cells[position] = csv_cell(cells[position])
        for position in _IDS:
            text = cells[position]
            if isinstance(text, str) and not _csv_plain(text):
                return self._csv_row(cells)
        # No cell needs quoting: the csv module would write each cell's str(), empty for None.
        # A text that is not printable cannot hold a lone surrogate, so it is plain UTF-8.
        return utf8(",".join(["" if cell is None else str(cell) for cell in cells]) + "\n")

    def _iso(self, cells: list[Any]) -> None:
        """Timestamps as ISO texts: ``isoformat()``, built from held pieces for UTC datetimes
        of whole seconds (all the engine makes): 2025-01-31T09:00:00+00:00."""
        days = self._days
        for position in _TIMESTAMPS:
            moment = cells[position]
            if moment is None:
                continue
            if moment.tzinfo is not UTC or moment.microsecond:
                cells[position] = moment.isoformat()
                continue
            ordinal = moment.toordinal()
            day = days.get(ordinal)
            if day is None:
                if len(days) >= _DAYS_HELD:
                    days.clear()
                day = days[ordinal] = moment.date().isoformat()
            cells[position] = (
                day + _HOURS_MINUTES[moment.hour * 60 + moment.minute] + _SECONDS_UTC[moment.second]
            )

    def _csv_row(self, cells: list[Any]) -> bytes:
        """A row with a cell to quote, written by the csv module."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([csv_cell(value) for value in cells])
        # CSV has no escapes: a lone surrogate is written as the text ``\udXXX`` (see utf8).
        return utf8(self._buffer.getvalue())


def _csv_plain(text: str) -> bool:
    """Whether the csv module writes this text as it is (no delimiter, quote, line break or
    other unprintable character in it)."""
    return text.isprintable() and "," not in text and '"' not in text


def csv_cell(value: object) -> object:
    """A CSV cell: null empty, booleans true/false, everything else as it is."""
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

#: How ``--format parquet`` fails when pyarrow is missing.
PARQUET_NEEDS: Final = "--format parquet needs pyarrow: pip install 'metrics-engine[arrow]'"


def check_parquet(absent: Absent, rows: Target) -> None:
    """What ``--format parquet`` refuses, before any input is read (exit 2)."""
    if absent != "null":
        raise BatchError(
            "--absent zero: expected the default (null) with --format parquet, found zero: "
            "Parquet has real nulls"
        )
    if not rows.is_file:
        found = "stdout" if rows.kind == "stream" else f"the device or pipe {rows.name}"
        raise BatchError(
            f"--format parquet: expected --out FILE (a regular file), found {found}: a "
            "Parquet file is written whole and renamed into place"
        )
    _writer_class()


def _writer_class() -> type[ParquetRowWriter]:
    """The Parquet writer, imported on first use: a JSON Lines or CSV run never loads pyarrow."""
    try:
        from metrics_engine.arrow import ParquetRowWriter
    except ImportError:
        raise BatchError(PARQUET_NEEDS) from None
    return ParquetRowWriter


class ParquetOutput:
    """Rows to a Parquet file, written under a temporary name beside it and renamed over it,
    as a regular file is: ``finish``, ``commit`` and ``discard`` are the steps of
    :class:`OutputPair`. A row arrives as the pickled values of one row in column order (the
    payload of a row record: see ``cases``)."""

    def __init__(self, target: Target) -> None:
        assert target.path is not None
        self.target = target
        self.path = target.path
        try:
            self.writer = _writer_class()(self.path)
        except OSError as error:
            raise BatchError(f"cannot write {target.name}: {os_reason(error)}") from None

    def write(self, data: bytes) -> None:
        self.writer.write((pickle.loads(data),))

    def finish(self) -> None:
        self.writer.finish()

    def commit(self) -> None:
        self.writer.commit()

    def discard(self) -> None:
        self.writer.abort()


RowsOutput = Output | ParquetOutput


def open_output(target: Target, folder: str) -> Output:
    if target.is_file:
        return _AtomicFile(target)
    return _Spool(target, folder)


def open_rows(target: Target, folder: str, output_format: OutputFormat) -> RowsOutput:
    """The rows' output: Parquet (a regular file, checked by :func:`check_parquet`) or text."""
    if output_format == "parquet":
        return ParquetOutput(target)
    return open_output(target, folder)


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

    def __init__(self, rows: RowsOutput, rejects: Output, sla: Output | None = None) -> None:
        self.rows = rows
        self.rejects = rejects
        self.sla = sla
        # commit order: rows last
        self.all: tuple[RowsOutput, ...] = (rejects, rows) if sla is None else (rejects, sla, rows)
        self.written: list[RowsOutput] = []  # committed in full
        self.partial: Output | None = None  # being copied to its stream when it stopped

    def write_row(self, data: bytes) -> None:
        rows = self.rows
        try:
            if isinstance(rows, ParquetOutput):
                rows.write(data)
            else:
                rows.handle.write(data)
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
        files = [output for output in both if isinstance(output, _AtomicFile | ParquetOutput)]
        with deferred():  # the renames are never cut apart by a signal
            for output in files:
                try:
                    output.commit()
                except OSError as error:
                    raise self.failed(output, error) from None
                self.written.append(output)
        for folder in {os.path.dirname(output.path) for output in files}:
            sync_folder(folder)  # the renames themselves reach the disk

    def discard(self) -> None:
        for output in self.all:
            output.discard()

    def failed(self, output: RowsOutput, error: OSError) -> BatchError:
        return BatchError(f"cannot write {output.target.name}: {os_reason(error)}; {self.left()}")

    def left(self) -> str:
        """What a user finds in the outputs, for a message about a run that stopped."""
        pair = (
            (self.rows, self.rejects) if self.sla is None else (self.rows, self.rejects, self.sla)
        )
        if not self.written and self.partial is None:
            files = [o.target.name for o in pair if isinstance(o, _AtomicFile | ParquetOutput)]
            if files:
                return f"nothing was written ({' and '.join(files)} left as they were)"
            return "nothing was written"
        parts = [f"{o.target.what} written in full to {o.target.name}" for o in self.written]
        if self.partial is not None:
            parts.append(f"{self.partial.target.what} on {self.partial.target.name} incomplete")
        for output in pair:
            if output not in self.written and output is not self.partial:
                if isinstance(output, _AtomicFile | ParquetOutput):
                    parts.append(f"{output.target.name} left as it was")
                else:
                    parts.append(f"no {output.target.what} written to {output.target.name}")
        return "; ".join(parts)
