"""Batch I/O for the ``metrics-engine`` command (SPEC section 8): the only module with files.

Theory of operation
-------------------
Input is JSON Lines, many cases, from files or ``-`` (stdin), gzip or not (recognised by its
first two bytes, whatever the name). Every line has a global *ordinal* (1, 2, ... across the
inputs in the order given); a ``(file, line)`` table turns an ordinal back into what a user
can find. Everything that leaves a worker is a *record* ``(ordinal, type, payload)``: a row,
a rejected case or a rejected line. A row's ordinal is that of its case's first valid line,
so sorting records by ordinal gives rows "in the order in which each case first appears",
whatever the number of workers; a reject's is that of the line it points at, so rejects read
in file order.

Interleaved input (default), two passes:

1. The parent reads every line once, finds its case id and ``at`` cheaply (``orjson`` when it
   is installed; else a pinned-down byte search that falls back to ``json`` whenever it could
   be fooled), and appends ``(ordinal, case id text, raw line)`` to one of P partition files
   chosen by ``zlib.crc32`` of the case id text. It also keeps the latest ``at`` (for the
   default ``as_of``) and rejects lines it already knows are not events.
2. Each partition (in a process pool, or in-process for one worker) is read into memory,
   grouped by case, and each case goes through :func:`~metrics_engine.compute_metrics`.
   Its records, sorted, go to a partition output file; the parent then merges those files
   by ordinal (``heapq.merge``) into the final outputs. A partition far larger than planned
   (stdin of unknown size) is split again by a salted hash before it is read.

Grouped input (``--grouped``) streams: consecutive lines of one case form a case, cases go
in batches to the pool (a bounded window of batches in flight), results come back in order.
Without ``--as-of`` a first pass finds the latest ``at``, checks the grouping and notes
where each case starts, so that the second pass cuts cases without parsing a line (stdin is
spooled to a temp file for it). A case that appears again after another case stops the run:
nothing is committed. The byte search may find a case id in a line that is no event; a line
where the case id changes is therefore parsed in full before it counts (one parse per case),
so that such a line is rejected in place, as with orjson, and never cuts or repeats a case.

The default ``as_of`` is kept exact cheaply: per UTC-offset spelling the latest
``YYYY-MM-DDTHH:MM:SS±HH:MM`` string is the latest instant (a string comparison); only the
winners are parsed, and the winning line is re-read in full to be sure it is a real event.
When it is not (a truncated line, say), an exact scan decides (rare, and correct either way).

With ``orjson``, results are identical to the stdlib path by construction: anything orjson
refuses is re-read with ``json``; orjson reads integers beyond 64 bits as floats, which the
library refuses for every id and value, so a case that fails is re-read with ``json`` before
it is rejected.

Outputs are always valid UTF-8: a lone surrogate (from a ``\\udXXX`` escape in the input) has
no UTF-8 form, so it is written as the JSON escape ``\\udXXX`` (in CSV, as that text).

Outputs are written to temporary files and committed with ``os.replace`` at the very end
(rows and rejects meant for stdout/stderr are copied there at the end): an interrupted run
leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import heapq
import io
import json
import marshal
import math
import os
import re
import shutil
import signal
import stat
import struct
import sys
import tempfile
import time
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import IO, Any, Final, Literal

import holidays

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text, parse_event, parse_instant
from metrics_engine._metrics import CaseMetrics
from metrics_engine._output import FIELDS
from metrics_engine._replay import CaseReplay, compute_metrics
from metrics_engine._rules import Rules

try:  # the optional extra ``fast``
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None  # type: ignore[assignment,unused-ignore]

__all__ = [
    "BatchError",
    "ComputeOptions",
    "Summary",
    "ValidateOptions",
    "ValidateSummary",
    "json_backend",
    "load_calendar",
    "run_compute",
    "run_validate",
]

Calendar = BusinessCalendar | TeamCalendars
Absent = Literal["null", "zero"]
OutputFormat = Literal["jsonl", "csv"]

#: Columns of an output row: "case", then the ``to_dict()`` keys in their order.
COLUMNS: Final = ("case", *FIELDS, "resource_type")

# Record types. A record is (ordinal, type, payload bytes).
_ROW: Final = 0  # payload: the encoded row, newline included
_CASE_REJECT: Final = 1  # payload: JSON [case, line ordinal, index, error]
_LINE_REJECT: Final = 2  # payload: the error text
_CASE_REPORT: Final = 3  # payload: JSON of a validate report for one case
Record = tuple[int, int, bytes]
_by_ordinal = itemgetter(0)

#: Raw input bytes planned per partition (a worker holds about 3x this in memory).
PARTITION_BYTES: Final = 16 * 1024 * 1024
#: A partition larger than this many times PARTITION_BYTES is split again before reading.
_RESPLIT_FACTOR: Final = 4
_MAX_PARTITIONS: Final = 256
_MAX_RESPLIT: Final = 256  # pieces of one re-split partition
_UNKNOWN_SIZE_PARTITIONS: Final = 64  # stdin: its size is unknown
_CHUNK_LINES: Final = 512  # lines buffered per partition before a write
_BATCH_LINES: Final = 4000  # grouped mode: lines per batch sent to a worker
_LEN: Final = struct.Struct("<I")
#: Interleaved mode: lines rejected by the parent are spilled to disk beyond this many.
_PARENT_REJECTS_IN_MEMORY = 65536


class BatchError(MetricsEngineError):
    """A run cannot go on: a usage error, an unreadable input or calendar (exit code 2)."""


# ====================================================================== JSON


def json_backend() -> str:
    """``"orjson"`` or ``"json"``: what reads lines. ``METRICS_ENGINE_JSON=json`` forces json."""
    if _orjson is not None and os.environ.get("METRICS_ENGINE_JSON", "").lower() != "json":
        return "orjson"
    return "json"


def _std_loads(line: bytes) -> Any:
    return json.loads(line)


def _not_event(value: object) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value))
    if kind is None:
        kind = "null" if value is None else "number"
    return f"expected a JSON object (one event), found a JSON {kind}"


def _check_event(obj: Any) -> tuple[Any, str | None, str | None]:
    """(event, case id text, None) for an object with a usable case id; else (None, None, why)."""
    if type(obj) is not dict:
        return None, None, _not_event(obj)
    if "case" not in obj:
        return None, None, "field 'case': expected a case id, found nothing"
    case = obj["case"]
    if type(case) is str:
        return obj, case, None
    if type(case) is int:
        return obj, str(case), None
    try:
        return obj, id_text(case, "field 'case'"), None
    except MetricsEngineError as error:
        return None, None, error.detail


def _read_event_std(line: bytes) -> tuple[Any, str | None, str | None]:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        try:  # again without the newline, which json would blame for a cut-off string
            obj = json.loads(line.rstrip(b"\r\n"))
        except (ValueError, RecursionError) as error:
            return None, None, f"not JSON: {error}"
    return _check_event(obj)


def _read_event_fast(line: bytes) -> tuple[Any, str | None, str | None]:
    try:
        obj = _orjson.loads(line)
    except _orjson.JSONDecodeError:
        return _read_event_std(line)  # NaN, lone surrogates, BOM...: json decides
    if type(obj) is dict:
        case = obj.get("case")
        if type(case) is str:
            return obj, case, None
        if type(case) is int:
            return obj, str(case), None
    # Not an event, or a case id orjson may have misread (an integer beyond 64 bits becomes
    # a float): json decides, and words the error.
    return _read_event_std(line)


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


# ====================================================================== extraction
# What the parent needs from a line: the case id text, the raw ``at`` string, or why the line
# is not an event at all. ``extract`` returns (key, at, error, parsed event or None).

Extracted = tuple[str | None, str | None, str | None, Any]

# ``"case"`` then an integer or a string without escapes; ``"at"`` then a string without escapes.
_CASE_VALUE = re.compile(rb'"case"\s*:\s*(?:(-?[0-9]+)(?=\s*[,}])|"([^"\\]*)")')
_AT_VALUE = re.compile(rb'"at"\s*:\s*"([^"\\]*)"')


def _extract_full(
    line: bytes, read: Callable[[bytes], tuple[Any, str | None, str | None]]
) -> Extracted:
    obj, key, error = read(line)
    if error is not None:
        return None, None, error, None
    at = obj.get("at")
    return key, at if type(at) is str else None, None, obj


def _extract_std(line: bytes) -> Extracted:
    return _extract_full(line, _read_event_std)


def _extract_cheap(line: bytes) -> Extracted:
    """Case id and ``at`` without parsing the line; the full parser whenever in doubt.

    Why it cannot be fooled on a valid event: without ``\\u`` escapes a key is spelled
    literally, and inside a JSON string a quote is escaped, so the only ``"case"`` token
    followed by a colon is a key. When it occurs once, it is the top-level key if the line
    has one; when the line has none, the line is rejected later whatever we guessed here.
    A line that is not JSON is found (and rejected) by the worker that parses it.
    """
    if b"\\u" in line:
        return _extract_std(line)
    i = line.find(b'"case"')
    if i < 0 or line.find(b'"case"', i + 6) >= 0:
        return _extract_std(line)
    match = _CASE_VALUE.match(line, i)
    if match is None:
        return _extract_std(line)
    number, text = match.groups()
    try:
        key = str(int(number)) if number is not None else text.decode()
    except UnicodeDecodeError:
        return _extract_std(line)
    at = None
    j = line.find(b'"at"')
    if j >= 0:
        if line.find(b'"at"', j + 4) >= 0:
            return _extract_std(line)
        found = _AT_VALUE.match(line, j)
        if found is not None:
            try:
                at = found.group(1).decode()
            except UnicodeDecodeError:
                return _extract_std(line)
    return key, at, None, None


# ====================================================================== latest ``at``

_PLAIN_AT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_RESCAN: Final = -(2**63)  # "the cheap answer is not sure": scan exactly


class _LatestAt:
    """The latest ``at`` of the input, at the cost of a string comparison per line.

    Within one offset spelling (``Z``, ``-05:00``...), ``YYYY-MM-DDTHH:MM:SS`` strings sort
    as their instants do, so only the latest string of each spelling needs parsing.
    """

    __slots__ = ("_other", "by_offset")

    def __init__(self) -> None:
        # offset spelling -> [latest "YYYY-MM-DDTHH:MM:SS" seen with it, its line]
        self.by_offset: dict[str, list[Any]] = {}
        self._other: list[Any] | None = None  # [epoch second, line] for other spellings

    # Noting an ``at`` is inlined in the hot loop, ``_event_lines``: a plain spelling updates
    # ``by_offset`` by string comparison; any other goes to ``note_other``.

    def note_other(self, at: str, line: bytes) -> None:
        """An ``at`` not spelled ``YYYY-MM-DDTHH:MM:SS±HH:MM``: parsed."""
        try:
            epoch = parse_instant(at, "at")
        except MetricsEngineError:
            return  # not an instant: this event is rejected anyway
        if self._other is None or epoch > self._other[0]:
            self._other = [epoch, line]

    def result(self) -> int | None:
        """Epoch second of the latest ``at`` of a real event; ``None``: no event; or _RESCAN."""
        candidates: list[tuple[int, bytes]] = []
        for offset, (stamp, line) in self.by_offset.items():
            try:
                candidates.append((parse_instant(stamp + offset, "at"), line))
            except MetricsEngineError:
                return _RESCAN  # the latest string is no date (month 13...): look closer
        if self._other is not None:
            candidates.append((self._other[0], self._other[1]))
        if not candidates:
            return None
        latest = max(epoch for epoch, _ in candidates)
        for epoch, line in candidates:
            if epoch == latest and _event_at(line) == latest:
                return latest
        return _RESCAN


def _event_at(line: bytes) -> int | None:
    """The ``at`` of a line that is a real event (JSON object, usable case id), else None."""
    obj, _, error = _read_event_std(line)
    if error is not None:
        return None
    try:
        return parse_instant(obj.get("at"), "at")
    except MetricsEngineError:
        return None


def _exact_latest_at(lines: Iterable[bytes]) -> int | None:
    latest: int | None = None
    for line in lines:
        at = _event_at(line)
        if at is not None and (latest is None or at > latest):
            latest = at
    return latest


# ====================================================================== inputs


#: The first two bytes of every gzip stream (RFC 1952). No JSON text starts with 0x1f.
_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class _Source:
    name: str  # as given on the command line ("-" for stdin)
    path: str | None  # None: a stream that can be read once (stdin, a pipe)
    packed: bool = False  # gzip: the file starts with its magic bytes (streams: sniffed on open)
    pipe: str | None = None  # a named input that is no regular file: read once, like stdin

    def open(self) -> IO[bytes]:
        if self.path is None:
            return _sniffed(self.raw_stream())
        if self.packed:
            # gzip's readline is buffered C code already
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb", buffering=1 << 20)

    def raw_stream(self) -> IO[bytes]:
        """The undecoded bytes of a read-once input: stdin, or a pipe opened now."""
        if self.pipe is not None:
            return open(self.pipe, "rb")  # closed by the reader
        return sys.stdin.buffer

    def estimated_size(self) -> int | None:
        if self.path is None:
            return None
        size = os.stat(self.path).st_size
        if not self.packed:
            return size
        # gzip's trailer holds the uncompressed size modulo 2**32: a good guess below 4 GiB.
        with open(self.path, "rb") as raw:
            if size < 18:
                return size
            raw.seek(-4, os.SEEK_END)
            (trailer,) = _LEN.unpack(raw.read(4))
        return trailer if trailer >= size else size * 8


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff them), put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._head[: len(view)] if self._head else self._rest.read(len(view))
        self._head = self._head[len(data) :]
        view[: len(data)] = data
        return len(data)


def _sniffed(raw: IO[bytes]) -> IO[bytes]:
    """A read-once stream, decompressed when it is a gzip stream (whatever produced it)."""
    head = raw.read(2)
    stream = io.BufferedReader(_Prefixed(head, raw), 1 << 20)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def _probe(name: str, path: str) -> _Source:
    """A file input, checked readable (and, when gzip, its first member readable)."""
    try:
        with open(path, "rb") as probe:
            head = probe.read(2)
        packed = head == _GZIP_MAGIC
        if packed or name.endswith(".gz"):  # a .gz name that is no gzip fails here
            with gzip.open(path, "rb") as unpacked:
                unpacked.read(1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BatchError(f"cannot read input {name}: {_os_reason(error)}") from None
    return _Source(name, path, packed)


def _sources(paths: Sequence[str]) -> list[_Source]:
    """Check that every input can be opened before any work starts."""
    if not paths:
        raise BatchError("expected at least one input file (or - for stdin), found none")
    sources = []
    stdin_seen = False
    for name in paths:
        if name == "-":
            if stdin_seen:
                raise BatchError("expected - (stdin) at most once among the inputs, found it twice")
            stdin_seen = True
            sources.append(_Source(name, None))
            continue
        if _is_pipe(name):
            # A pipe or process substitution can be read only once: probing it would lose
            # the bytes read, so it is treated like stdin (and spooled when read twice).
            sources.append(_Source(name, None, pipe=name))
            continue
        sources.append(_probe(name, name))
    return sources


def _is_pipe(name: str) -> bool:
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False  # _probe reports why it cannot be read
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _os_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class _Lines:
    """(ordinal, raw line) over all inputs, and the table that maps ordinals back."""

    def __init__(self, sources: Sequence[_Source]) -> None:
        self.sources = sources
        self.files: list[tuple[int, str]] = []  # (first ordinal, name), in order
        self.count = 0  # lines read so far (ordinals handed out)

    @contextlib.contextmanager
    def reading(self, source: _Source) -> Iterator[IO[bytes]]:
        """One input, open; the caller numbers its lines from ``count + 1`` and updates
        ``count``. Read errors become :class:`BatchError`."""
        if source is self.sources[0]:
            self.files = []
            self.count = 0
        self.files.append((self.count + 1, source.name))
        try:
            stream = source.open()
            try:
                yield stream
            finally:
                if source.path is not None or source.pipe is not None:
                    stream.close()  # never stdin: it is not ours
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise BatchError(f"cannot read input {source.name}: {_os_reason(error)}") from None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """Every line but blank ones (not events: skipped, not rejected, still numbered)."""
        for source in self.sources:
            with self.reading(source) as stream:
                for ordinal, line in enumerate(stream, self.count + 1):
                    self.count = ordinal
                    if line[0] != 0x7B and line.isspace():
                        continue
                    yield ordinal, line


def _locate(files: Sequence[tuple[int, str]], ordinal: int) -> tuple[str, int]:
    """(file name, line number from 1) of a global ordinal."""
    lo, hi = 0, len(files) - 1
    while lo < hi:  # the last file whose first ordinal is <= ordinal
        mid = (lo + hi + 1) // 2
        if files[mid][0] <= ordinal:
            lo = mid
        else:
            hi = mid - 1
    first, name = files[lo]
    return name, ordinal - first + 1


# ====================================================================== calendars


def _read_json_file(path: str, what: str) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise BatchError(f"cannot read {what} {path}: {_os_reason(error)}") from None
    try:
        return json.loads(data)
    except ValueError as error:
        raise BatchError(f"{what} {path}: expected JSON, found a parse error ({error})") from None


def load_calendar(
    calendar: str | None = None,
    *,
    team_calendars: str | None = None,
    timezone: str | None = None,
) -> Calendar | None:
    """The calendar of a run from its files; :class:`BatchError` for anything wrong."""
    if calendar is not None and team_calendars is not None:
        raise BatchError("expected --calendar or --team-calendars, found both")
    if timezone is not None and calendar is None:
        raise BatchError(
            "--timezone: expected together with --calendar (a Kayako business-hours file), "
            "found without it"
        )
    try:
        if calendar is not None:
            obj = _read_json_file(calendar, "calendar")
            if timezone is not None:
                return BusinessCalendar.from_kayako(obj, timezone=timezone)
            return BusinessCalendar.from_dict(obj)
        if team_calendars is not None:
            return TeamCalendars.from_dict(_read_json_file(team_calendars, "team calendars"))
    except BatchError:
        raise
    except MetricsEngineError as error:
        path = calendar if calendar is not None else team_calendars
        raise BatchError(f"calendar {path}: {error.detail}") from None
    return None


# ====================================================================== per-case work


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker does with a case. Sent once to each worker (the calendar keeps its cache)."""

    mode: Literal["compute", "validate"]
    fast: bool = False  # read lines with orjson (chosen once per run: see json_backend)
    calendar: Calendar | None = None
    rules: Rules = field(default_factory=Rules)
    strict: bool = True
    absent: Absent = "null"
    csv: bool = False


@dataclass(slots=True)
class _Counts:
    events: int = 0
    cases: int = 0
    rows: int = 0
    case_rejects: int = 0
    line_rejects: int = 0
    problems: int = 0  # validate: problems inside cases

    def add(self, other: _Counts) -> None:
        self.events += other.events
        self.cases += other.cases
        self.rows += other.rows
        self.case_rejects += other.case_rejects
        self.line_rejects += other.line_rejects
        self.problems += other.problems


Lines = list[tuple[int, bytes]]


def _read_case(
    job: _Job, lines: Lines, parsed: list[Any] | None, records: list[Record], counts: _Counts
) -> tuple[list[Any], list[int]]:
    """The events of one case and their ordinals; lines that are not events become records."""
    read = _read_event_fast if job.fast else _read_event_std
    events: list[Any] = []
    ordinals: list[int] = []
    for position, (ordinal, line) in enumerate(lines):
        obj = parsed[position] if parsed is not None else None
        if obj is None:
            obj, _, error = read(line)
            if error is not None:
                records.append((ordinal, _LINE_REJECT, _utf8(error)))
                counts.line_rejects += 1
                continue
        events.append(obj)
        ordinals.append(ordinal)
    counts.events += len(events)
    return events, ordinals


def _reread_std(lines: Lines, ordinals: list[int], events: list[Any]) -> list[Any]:
    """The same events read with json (see the module docstring: integers beyond 64 bits)."""
    by_ordinal = dict(lines)
    again = []
    for ordinal, event in zip(ordinals, events, strict=True):
        try:
            again.append(json.loads(by_ordinal[ordinal]))
        except (ValueError, RecursionError):
            again.append(event)
    return again


class _RowEncoder:
    def __init__(self, job: _Job) -> None:
        self.absent: Absent = job.absent
        self.csv = job.csv
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


def _compute_case(
    job: _Job, as_of: datetime | None, lines: Lines, parsed: list[Any] | None, encoder: _RowEncoder
) -> tuple[list[Record], _Counts]:
    records: list[Record] = []
    counts = _Counts()
    events, ordinals = _read_case(job, lines, parsed, records, counts)
    if not events:
        return records, counts
    counts.cases = 1
    first = ordinals[0]
    error: Exception | None = None
    for attempt in range(2):
        try:
            metrics = compute_metrics(
                events, job.calendar, as_of=as_of, strict=job.strict, rules=job.rules
            )
        except Exception as caught:  # not only MetricsEngineError: a bug must not lose a case
            error = caught
        else:
            records.append((first, _ROW, encoder.encode(events[0]["case"], metrics)))
            counts.rows = 1
            return records, counts
        if attempt == 0 and job.fast:
            events = _reread_std(lines, ordinals, events)
        else:
            break
    assert error is not None
    index = error.index if isinstance(error, MetricsEngineError) else None
    if isinstance(error, MetricsEngineError):
        detail = error.detail
    else:
        detail = f"internal error ({type(error).__name__}: {error}); please report it"
    where = ordinals[index] if index is not None and 0 <= index < len(ordinals) else first
    payload = _dumps([events[0]["case"], where, index, detail])
    # Keyed by the line it points at: rejects read in file order. (Still inside the case's
    # span of lines, which grouped mode relies on.)
    records.append((where, _CASE_REJECT, payload))
    counts.case_rejects = 1
    return records, counts


def _validate_case(
    job: _Job, lines: Lines, parsed: list[Any] | None
) -> tuple[list[Record], _Counts]:
    """A case's summary and every problem in it, by line (``metrics-engine validate``)."""
    records: list[Record] = []
    counts = _Counts()
    events, ordinals = _read_case(job, lines, parsed, records, counts)
    if not events:
        return records, counts
    counts.cases = 1
    problems: list[tuple[int, int, str]] = []  # (line ordinal, index, detail)
    kinds: Counter[str] = Counter()
    admitted: list[tuple[int, bool, int, Any]] = []
    lenient = not job.strict
    for index, event in enumerate(events):
        kind = event.get("event")
        kinds[kind if isinstance(kind, str) else json.dumps(kind)] += 1
        try:
            parsed_event = parse_event(event, lenient=lenient)
        except MetricsEngineError as error:
            problems.append((ordinals[index], index, error.detail))
            continue
        if parsed_event is not None:
            admitted.append((parsed_event.at, parsed_event.kind != "created", index, event))
    instants = [at for at, _, _, _ in admitted]
    if lenient:  # the order compute_metrics replays in lenient mode
        admitted.sort(key=itemgetter(0, 1))
    replay = CaseReplay(strict=job.strict)
    for _, _, index, event in admitted:
        try:
            replay.apply(event)
        except MetricsEngineError as error:
            problems.append((ordinals[index], index, error.detail))
    problems.sort()
    counts.problems = len(problems)
    report = {
        "case": events[0]["case"],
        "events": len(events),
        "kinds": dict(sorted(kinds.items())),
        "first": _iso(min(instants)) if instants else None,
        "last": _iso(max(instants)) if instants else None,
        "problems": problems,
    }
    records.append((ordinals[0], _CASE_REPORT, _dumps_std(report)))
    return records, counts


def _iso(epoch_second: int) -> str:
    return datetime.fromtimestamp(epoch_second, UTC).isoformat(timespec="seconds")


class _CaseRunner:
    """Runs cases for one job at one ``as_of`` (one per task; it holds a row encoder)."""

    def __init__(self, job: _Job, as_of: int | None) -> None:
        self.job = job
        self.as_of = None if as_of is None else datetime.fromtimestamp(as_of, UTC)
        self.encoder = _RowEncoder(job)

    def run(self, lines: Lines, parsed: list[Any] | None = None) -> tuple[list[Record], _Counts]:
        if self.job.mode == "validate":
            return _validate_case(self.job, lines, parsed)
        return _compute_case(self.job, self.as_of, lines, parsed, self.encoder)


# The job of this worker process, set once by the pool initializer (or by the parent when
# it works alone).
_WORKER_JOB: _Job | None = None


def _init_worker(job: _Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    # Ctrl-C reaches the whole process group: the parent cleans up, a worker just leaves.
    signal.signal(signal.SIGINT, _leave)
    signal.signal(signal.SIGTERM, _leave)


def _leave(signum: int, frame: object) -> None:  # pragma: no cover - runs in a worker
    os._exit(128 + signum)


def _job() -> _Job:
    assert _WORKER_JOB is not None, "worker used before _init_worker"
    return _WORKER_JOB


# ====================================================================== chunked temp files
# Temp files hold marshal'ed lists (length-prefixed): fast to write and read, and only ever
# read back by the same interpreter that wrote them.


def _write_chunk(handle: IO[bytes], items: list[Any]) -> None:
    blob = marshal.dumps(items)
    handle.write(_LEN.pack(len(blob)))
    handle.write(blob)


def _read_chunks(path: str) -> Iterator[list[Any]]:
    with open(path, "rb", buffering=1 << 20) as handle:
        while True:
            head = handle.read(4)
            if not head:
                return
            (size,) = _LEN.unpack(head)
            yield marshal.loads(handle.read(size))


def _read_records(path: str) -> Iterator[Record]:
    for chunk in _read_chunks(path):
        yield from chunk


def _write_records(path: str, records: Iterable[Record]) -> None:
    with open(path, "wb", buffering=1 << 20) as handle:
        chunk: list[Record] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= 1024:
                _write_chunk(handle, chunk)
                chunk = []
        if chunk:
            _write_chunk(handle, chunk)


class _Partitions:
    """P partition files, written by the parent, one buffer each, opened on first use."""

    def __init__(self, folder: str, count: int, salt: int = 0) -> None:
        self.folder = folder
        self.count = count
        self.salt = salt
        self.paths = [os.path.join(folder, f"part-{salt}-{i:04d}") for i in range(count)]
        self.buffers: list[list[tuple[int, str, bytes]]] = [[] for _ in range(count)]
        self._handles: list[IO[bytes] | None] = [None] * count

    def add(self, ordinal: int, key: str, line: bytes) -> None:
        index = zlib.crc32(key.encode("utf-8", "surrogatepass"), self.salt) % self.count
        buffer = self.buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= _CHUNK_LINES:
            self.flush(index)

    def flush(self, index: int) -> None:
        try:
            handle = self._handles[index]
            if handle is None:
                handle = self._handles[index] = open(self.paths[index], "wb")  # noqa: SIM115
            _write_chunk(handle, self.buffers[index])
        except OSError as error:
            raise _temp_error(self.folder, error) from None
        self.buffers[index] = []

    def close(self) -> list[tuple[str, int]]:
        """Flush and close; (path, bytes) of each non-empty partition, largest first."""
        for index in range(self.count):
            if self.buffers[index]:
                self.flush(index)
            handle = self._handles[index]
            if handle is not None:
                handle.close()
        used = [
            (self.paths[i], os.path.getsize(self.paths[i]))
            for i in range(self.count)
            if self._handles[i] is not None
        ]
        return sorted(used, key=itemgetter(1), reverse=True)


def _temp_error(folder: str, error: OSError) -> BatchError:
    return BatchError(
        f"cannot write temporary files in {folder}: {_os_reason(error)} "
        "(TMPDIR chooses where they go)"
    )


def _partition_task(path: str, out_path: str, as_of: int | None, resplit_at: int) -> _Counts:
    """Worker: one partition file in (deleted after), one sorted record file out."""
    runner = _CaseRunner(_job(), as_of)
    counts = _Counts()
    if os.path.getsize(path) > resplit_at:
        _resplit(path, out_path, runner, counts, resplit_at)
    else:
        _write_records(out_path, _run_partition(path, runner, counts))
    os.unlink(path)
    return counts


def _run_partition(path: str, runner: _CaseRunner, counts: _Counts) -> list[Record]:
    groups: dict[str, Lines] = {}
    for chunk in _read_chunks(path):
        for ordinal, key, line in chunk:
            group = groups.get(key)
            if group is None:
                groups[key] = [(ordinal, line)]
            else:
                group.append((ordinal, line))
    records: list[Record] = []
    for key in list(groups):
        case_records, case_counts = runner.run(groups.pop(key))
        records.extend(case_records)
        counts.add(case_counts)
    records.sort(key=_by_ordinal)
    return records


def _resplit(
    path: str, out_path: str, runner: _CaseRunner, counts: _Counts, resplit_at: int
) -> None:
    """A partition too large to hold: split it by another hash, run each piece, merge."""
    folder = os.path.dirname(path)
    size = os.path.getsize(path)
    salt = zlib.crc32(os.path.basename(path).encode()) | 1
    pieces = _Partitions(
        folder, min(_MAX_RESPLIT, math.ceil(size * _RESPLIT_FACTOR / resplit_at)), salt
    )
    for chunk in _read_chunks(path):
        for ordinal, key, line in chunk:
            pieces.add(ordinal, key, line)
    outputs = []
    for piece, _ in pieces.close():
        piece_out = piece + ".out"
        records = _run_partition(piece, runner, counts)
        _write_records(piece_out, records)
        os.unlink(piece)
        outputs.append(piece_out)
    _write_records(out_path, heapq.merge(*(_read_records(p) for p in outputs), key=_by_ordinal))
    for piece_out in outputs:
        os.unlink(piece_out)


def _batch_task(
    as_of: int | None, batch: list[tuple[Lines, list[Any] | None]]
) -> tuple[list[Record], _Counts]:
    """Worker (grouped mode): a batch of whole cases; records sorted by ordinal."""
    runner = _CaseRunner(_job(), as_of)
    records: list[Record] = []
    counts = _Counts()
    for lines, parsed in batch:
        case_records, case_counts = runner.run(lines, parsed)
        records.extend(case_records)
        counts.add(case_counts)
    records.sort(key=_by_ordinal)
    return records, counts


# ====================================================================== progress


class _Progress:
    """One self-rewriting line on stderr: only on a terminal and after two seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, phase: str, lines_read: int, cases: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.started
        if elapsed < 2.0 or now - self._last < 0.5:
            return
        self._last = now
        rate = lines_read / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r{phase}: {lines_read:,} lines read, {cases:,} cases done, {rate:,.0f} lines/s\x1b[K"
        )
        sys.stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False


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


# ====================================================================== the run


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeOptions:
    """Everything ``metrics-engine compute`` was asked (paths are as given)."""

    inputs: Sequence[str]
    calendar: Calendar | None = None
    out: str | None = None  # None: stdout
    rejects: str | None = None  # None: OUT.rejects.jsonl, or stderr without out; "-": stderr
    format: OutputFormat = "jsonl"
    as_of: str | None = None
    absent: Absent = "null"
    lenient: bool = False
    grouped: bool = False
    workers: int = 1
    quiet: bool = False
    rules: Rules = field(default_factory=Rules)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidateOptions:
    inputs: Sequence[str]
    lenient: bool = False
    workers: int = 1
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """What a compute run did; ``line()`` is the summary printed on stderr."""

    cases: int
    events: int
    rows: int
    case_rejects: int
    line_rejects: int
    as_of: str | None
    holidays_version: str

    @property
    def rejects(self) -> int:
        return self.case_rejects + self.line_rejects

    @property
    def exit_code(self) -> int:
        return 1 if self.rejects else 0

    def line(self) -> str:
        return (
            f"metrics-engine compute: {self.cases} cases, {self.events} events, "
            f"{self.rows} rows written, {self.rejects} rejects "
            f"({self.case_rejects} cases, {self.line_rejects} lines), "
            f"as_of {self.as_of or 'none'}, holidays {self.holidays_version}"
        )


@dataclass(frozen=True, slots=True)
class ValidateSummary:
    files: int
    lines: int
    cases: int
    events: int
    bad_lines: int
    problems: int
    cases_with_problems: int

    @property
    def exit_code(self) -> int:
        return 1 if self.bad_lines or self.problems else 0

    def line(self) -> str:
        total = self.bad_lines + self.problems
        verdict = "clean" if not total else _plural(total, "problem")
        return (
            f"metrics-engine validate: {self.files} files, {self.lines} lines, "
            f"{self.cases} cases, {self.events} events: {verdict} "
            f"({self.cases_with_problems} cases with problems, {self.bad_lines} bad lines)"
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def holidays_version() -> str:
    """The release of the ``holidays`` package (business results depend on it)."""
    return str(getattr(holidays, "__version__", "unknown"))


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int) -> int:
    """``0`` means every usable CPU."""
    if workers < 0:
        raise BatchError(f"--workers: expected 0 (every CPU) or more, found {workers}")
    return workers or _usable_cpus()


def _parse_as_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_instant(value, "--as-of")
    except MetricsEngineError as error:
        raise BatchError(error.detail) from None


class _Run:
    """State shared by both modes: temp folder, pool, parent-side rejects, counts."""

    def __init__(self, job: _Job, workers: int, quiet: bool) -> None:
        self.job = job
        self.workers = workers
        self.progress = _Progress(not quiet)
        self.counts = _Counts()
        try:
            self.folder = tempfile.mkdtemp(prefix="metrics-engine-")
        except OSError as error:
            raise _temp_error(tempfile.gettempdir(), error) from None
        self.pool: ProcessPoolExecutor | None = None
        # lines the parent already knows are not events: (ordinal, error)
        self.parent_rejects: list[Record] = []
        self._parent_reject_files: list[str] = []

    def start_pool(self, workers: int) -> ProcessPoolExecutor | None:
        global _WORKER_JOB
        if workers <= 1:
            _WORKER_JOB = self.job
            return None
        self.pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(self.job,)
        )
        return self.pool

    def reject_line(self, ordinal: int, error: str) -> None:
        self.parent_rejects.append((ordinal, _LINE_REJECT, _utf8(error)))
        self.counts.line_rejects += 1
        if len(self.parent_rejects) >= _PARENT_REJECTS_IN_MEMORY:  # a file of garbage
            path = os.path.join(self.folder, f"parent-rejects-{len(self._parent_reject_files)}")
            try:
                _write_records(path, self.parent_rejects)
            except OSError as error:
                raise _temp_error(self.folder, error) from None
            self._parent_reject_files.append(path)
            self.parent_rejects = []

    def parent_reject_streams(self) -> list[Iterator[Record]]:
        streams: list[Iterator[Record]] = [_read_records(p) for p in self._parent_reject_files]
        streams.append(iter(self.parent_rejects))
        return streams

    def close(self) -> None:
        global _WORKER_JOB
        _WORKER_JOB = None
        self.progress.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        shutil.rmtree(self.folder, ignore_errors=True)


def _partition_count(sources: Sequence[_Source], workers: int) -> int:
    sizes = [source.estimated_size() for source in sources]
    if any(size is None for size in sizes):
        wanted = _UNKNOWN_SIZE_PARTITIONS
    else:
        wanted = math.ceil(sum(s for s in sizes if s is not None) / PARTITION_BYTES)
    if workers > 1:
        wanted = max(wanted, 2 * workers)
    return max(1, min(wanted, _MAX_PARTITIONS))


def _event_lines(
    run: _Run, lines: _Lines, latest: _LatestAt | None, *, parse_all: bool = False
) -> Iterator[tuple[int, str, bytes, Any]]:
    """(ordinal, case id text, raw line, parsed event or None) for each line that is an event.

    The parent's hot loop, written flat because it runs once per input line: with orjson a
    full parse is the cheapest way to the case id and ``at``; without it, the byte search of
    :func:`_extract_cheap`. Lines that are certainly not events are rejected on the way, and
    ``latest`` (when given) sees every ``at``.
    ``parse_all`` asks for the parsed event on the stdlib path too (grouped mode in one
    process uses it at once, so each line is parsed once).
    """
    fast = run.job.fast
    loads = _orjson.loads if fast else _std_loads
    decode_error = _orjson.JSONDecodeError if fast else ValueError
    extract = _extract_std if parse_all else _extract_cheap
    reject = run.reject_line
    progress = run.progress
    plain_at = _PLAIN_AT.fullmatch
    by_offset = latest.by_offset if latest is not None else {}
    note_other = latest.note_other if latest is not None else None
    for source in lines.sources:
        with lines.reading(source) as stream:
            ordinal = lines.count
            for ordinal, line in enumerate(stream, lines.count + 1):
                if line[0] != 0x7B and line.isspace():
                    continue  # blank lines are not events: skipped, not rejected
                key: str | None = None
                at: Any = None
                obj: Any = None
                if fast:
                    try:
                        obj = loads(line)
                    except decode_error:
                        obj = None
                    if type(obj) is dict:
                        case = obj.get("case")
                        if type(case) is str:
                            key = case
                        elif type(case) is int:
                            key = str(case)
                        at = obj.get("at")
                    if key is None:  # not JSON for orjson, no usable case id, a huge integer
                        key, at, error, obj = _extract_std(line)
                else:
                    key, at, error, obj = extract(line)
                if key is None:
                    reject(ordinal, error or "")
                    continue
                if note_other is not None and type(at) is str:
                    if plain_at(at) is not None:
                        stamp = at[:19]
                        latest_here = by_offset.get(at[19:])
                        if latest_here is None:
                            by_offset[at[19:]] = [stamp, line]
                        elif stamp > latest_here[0]:
                            latest_here[0] = stamp
                            latest_here[1] = line
                    else:
                        note_other(at, line)
                if not ordinal & 0x3FFF:
                    progress.update("reading", ordinal, run.counts.cases)
                yield ordinal, key, line, obj
            lines.count = ordinal


def _run_interleaved(
    run: _Run, sources: Sequence[_Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], _Lines, int | None]:
    """Partition, then run every partition; an iterator over all records in ordinal order."""
    lines = _Lines(sources)
    partitions = _Partitions(run.folder, _partition_count(sources, run.workers))
    latest = _LatestAt() if track_at else None
    crc32 = zlib.crc32
    count = partitions.count
    buffers = partitions.buffers
    flush = partitions.flush
    for ordinal, key, line, _ in _event_lines(run, lines, latest):
        index = crc32(key.encode("utf-8", "surrogatepass")) % count
        buffer = buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= _CHUNK_LINES:
            flush(index)
    planned = partitions.close()
    if latest is not None:
        as_of = latest.result()
        if as_of == _RESCAN:
            as_of = _exact_latest_at(
                line for path, _ in planned for chunk in _read_chunks(path) for _, _, line in chunk
            )
    outputs = _run_partitions(run, planned, as_of, lines.count)
    streams = [_read_records(path) for path in outputs]
    streams.extend(run.parent_reject_streams())
    return heapq.merge(*streams, key=_by_ordinal), lines, as_of


def _run_partitions(
    run: _Run, planned: list[tuple[str, int]], as_of: int | None, lines_read: int
) -> list[str]:
    outputs = [path + ".out" for path, _ in planned]
    resplit_at = PARTITION_BYTES * _RESPLIT_FACTOR
    pool = run.start_pool(min(run.workers, len(planned)))
    if pool is None:
        for (path, _), out in zip(planned, outputs, strict=True):
            run.counts.add(_partition_task(path, out, as_of, resplit_at))
            run.progress.update("computing", lines_read, run.counts.cases)
        return outputs
    futures = [
        pool.submit(_partition_task, path, out, as_of, resplit_at)
        for (path, _), out in zip(planned, outputs, strict=True)
    ]
    for future in futures:
        run.counts.add(future.result())
        run.progress.update("computing", lines_read, run.counts.cases)
    return outputs


class NotGroupedError(BatchError):
    """--grouped input in which a case appears again after another case."""


def _not_grouped(lines: _Lines, key: str, ordinal: int, first: int) -> NotGroupedError:
    name, number = _locate(lines.files, ordinal)
    first_name, first_number = _locate(lines.files, first)
    return NotGroupedError(
        f"--grouped: expected each case's events together, found case {key!r} again at "
        f"{name}:{number} after other cases (first at {first_name}:{first_number}); "
        "run without --grouped"
    )


def _confirmed_key(run: _Run, ordinal: int, line: bytes) -> str | None:
    """The case id of a line whose byte-search guess starts a case, after a full parse.

    The guess is exact on every event, but a line that is no event (cut off, or naming a
    case only inside a nested object) may still yield one. Inside a case that does no harm
    (the worker rejects the line); at a case boundary it would start a case, or "repeat"
    one, that is not there. So a boundary is confirmed: a line that is no event is
    rejected here, in place, as the orjson path does. One parse per case.
    """
    key, _, error, _ = _extract_std(line)
    if key is None:
        run.reject_line(ordinal, error or "")
    return key


def _scan_grouped(run: _Run, lines: _Lines) -> tuple[array[int], int | None]:
    """First pass of grouped input (no --as-of): where each case starts, the latest ``at``.

    It also checks the grouping (before any work is done) and rejects the lines that are not
    events (all of them with orjson; with the byte search, at least every line that would
    start a case), so that the second pass cuts cases without parsing a line.
    """
    latest = _LatestAt()
    starts: array[int] = array("q")
    seen: dict[str, int] = {}
    key_now: str | None = None
    for ordinal, key, line, obj in _event_lines(run, lines, latest):
        if key != key_now:
            if obj is None:  # a guess of the byte search: confirm it
                confirmed = _confirmed_key(run, ordinal, line)
                if confirmed is None or confirmed == key_now:
                    continue
                key = confirmed
            first = seen.get(key)
            if first is not None:
                raise _not_grouped(lines, key, ordinal, first)
            seen[key] = ordinal
            key_now = key
            starts.append(ordinal)
    as_of = latest.result()
    if as_of == _RESCAN:
        as_of = _exact_latest_at(line for _, line in lines)
    return starts, as_of


def _planned_cases(
    run: _Run, lines: _Lines, starts: array[int]
) -> Iterator[tuple[Lines, list[Any] | None]]:
    """Second pass: whole cases cut at the starts found by the first, nothing parsed."""
    rejected = (r[0] for r in heapq.merge(*run.parent_reject_streams(), key=_by_ordinal))
    next_rejected = next(rejected, None)
    boundaries = iter(starts)
    next_start = next(boundaries, None)
    case: Lines = []
    for ordinal, line in lines:
        if ordinal == next_rejected:
            next_rejected = next(rejected, None)
            continue
        if ordinal == next_start:
            if case:
                yield case, None
            case = []
            next_start = next(boundaries, None)
        case.append((ordinal, line))
        if not ordinal & 0x3FFF:
            run.progress.update("computing", ordinal, run.counts.cases)
    if case:
        yield case, None


def _streamed_cases(
    run: _Run, lines: _Lines, keep_parsed: bool
) -> Iterator[tuple[Lines, list[Any] | None]]:
    """One pass (--as-of given): whole cases as they come, the grouping checked on the way."""
    seen: dict[str, int] = {}
    key_now: str | None = None
    case: Lines = []
    parsed: list[Any] = []
    for ordinal, key, line, obj in _event_lines(run, lines, None, parse_all=keep_parsed):
        if key != key_now and obj is None:  # a guess of the byte search: confirm it
            confirmed = _confirmed_key(run, ordinal, line)
            if confirmed is None:
                continue
            key = confirmed
        if key != key_now:
            if case:
                yield case, parsed if keep_parsed else None
            first = seen.get(key)
            if first is not None:
                raise _not_grouped(lines, key, ordinal, first)
            seen[key] = ordinal
            key_now = key
            case = []
            parsed = []
        case.append((ordinal, line))
        parsed.append(obj)
    if case:
        yield case, parsed if keep_parsed else None


def _run_grouped(
    run: _Run, sources: Sequence[_Source], as_of: int | None, track_at: bool
) -> tuple[Iterator[Record], _Lines, int | None]:
    """Stream whole cases, in batches to the workers; records come back in input order.

    Each batch's records are sorted and batches cover consecutive stretches of lines, so the
    file written here is sorted; the lines the parent rejected are merged in at the end.
    """
    if track_at and any(source.path is None for source in sources):
        sources = [_spool_stdin(run.folder, source, i) for i, source in enumerate(sources)]
    lines = _Lines(sources)
    if track_at:
        starts, as_of = _scan_grouped(run, lines)
    pool = run.start_pool(run.workers)
    runner = _CaseRunner(run.job, as_of) if pool is None else None
    if track_at:
        cases = _planned_cases(run, lines, starts)
    else:
        cases = _streamed_cases(run, lines, keep_parsed=runner is not None)
    out_path = os.path.join(run.folder, "grouped.out")
    with open(out_path, "wb", buffering=1 << 20) as out:
        window: deque[Future[tuple[list[Record], _Counts]]] = deque()

        def drain(keep: int) -> None:
            while len(window) > keep:
                records, counts = window.popleft().result()
                run.counts.add(counts)
                _write_chunk(out, records)

        batch: list[tuple[Lines, list[Any] | None]] = []
        done: list[Record] = []
        size = 0
        for case, parsed in cases:
            size += len(case)
            if runner is not None:
                records, counts = runner.run(case, parsed)
                run.counts.add(counts)
                done.extend(sorted(records, key=_by_ordinal))
                if size >= _BATCH_LINES:
                    _write_chunk(out, done)
                    done, size = [], 0
                continue
            assert pool is not None
            batch.append((case, parsed))
            if size >= _BATCH_LINES:
                window.append(pool.submit(_batch_task, as_of, batch))
                batch, size = [], 0
                drain(2 * run.workers)
        if batch:
            assert pool is not None
            window.append(pool.submit(_batch_task, as_of, batch))
        drain(0)
        if done:
            _write_chunk(out, done)
    streams = [_read_records(out_path), *run.parent_reject_streams()]
    return heapq.merge(*streams, key=_by_ordinal), lines, as_of


def _spool_stdin(folder: str, source: _Source, number: int = 0) -> _Source:
    """A read-once input (stdin or a pipe) copied to a temp file, to be read twice."""
    if source.path is not None:
        return source
    path = os.path.join(folder, f"stream-{number}")
    try:
        raw = source.raw_stream()
        try:
            with open(path, "wb") as spool:
                shutil.copyfileobj(raw, spool, 1 << 20)
        finally:
            if source.pipe is not None:
                raw.close()
    except OSError as error:
        raise BatchError(f"cannot read input {source.name}: {_os_reason(error)}") from None
    return _probe(source.name, path)  # still compressed when it came gzipped


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


def _open_output(target: str | None, folder: str, name: str, stream: IO[bytes]) -> Output:
    if target is None:
        return _Spool(folder, name, stream)
    return _AtomicFile(target)


def run_compute(options: ComputeOptions) -> Summary:
    """``metrics-engine compute``: rows and rejects; raises :class:`BatchError` (exit 2)."""
    workers = resolve_workers(options.workers)
    as_of = _parse_as_of(options.as_of)
    sources = _sources(options.inputs)
    job = _Job(
        mode="compute",
        fast=json_backend() == "orjson",
        calendar=options.calendar,
        rules=options.rules,
        strict=not options.lenient,
        absent=options.absent,
        csv=options.format == "csv",
    )
    rejects_target = options.rejects
    if rejects_target is None and options.out is not None:
        rejects_target = options.out + ".rejects.jsonl"
    elif rejects_target == "-":
        rejects_target = None  # stderr
    run = _Run(job, workers, options.quiet)
    outputs: list[Output] = []
    try:
        out = _open_output(options.out, run.folder, "rows", sys.stdout.buffer)
        outputs.append(out)
        rejects = _open_output(rejects_target, run.folder, "rejects", sys.stderr.buffer)
        outputs.append(rejects)
        mode = _run_grouped if options.grouped else _run_interleaved
        records, lines, as_of = mode(run, sources, as_of, options.as_of is None)
        if job.csv:
            out.handle.write((",".join(COLUMNS) + "\n").encode())
        write_row = out.handle.write
        write_reject = rejects.handle.write
        rows = 0
        for record in records:
            if record[1] == _ROW:
                write_row(record[2])
                rows += 1
            else:
                write_reject(_reject_json(record, lines.files))
        assert rows == run.counts.rows
        run.progress.clear()
        for output in reversed(outputs):  # rejects first: rows never appear without them
            output.commit()
        outputs.clear()
    finally:
        for output in outputs:
            output.discard()
        run.close()
    counts = run.counts
    return Summary(
        cases=counts.cases,
        events=counts.events,
        rows=counts.rows,
        case_rejects=counts.case_rejects,
        line_rejects=counts.line_rejects,
        as_of=None if as_of is None else _iso(as_of),
        holidays_version=holidays_version(),
    )


def run_validate(options: ValidateOptions, stdout: IO[str]) -> ValidateSummary:
    """``metrics-engine validate``: a report per case and every problem, by file and line."""
    workers = resolve_workers(options.workers)
    sources = _sources(options.inputs)
    job = _Job(mode="validate", fast=json_backend() == "orjson", strict=not options.lenient)
    run = _Run(job, workers, options.quiet)
    cases_with_problems = 0

    def write(text: str) -> None:  # a lone surrogate (a case id, a name) as \udXXX text
        stdout.write(_utf8(text).decode())

    try:
        records, lines, _ = _run_interleaved(run, sources, None, track_at=False)
        for ordinal, kind, payload in records:
            if kind == _LINE_REJECT:
                name, number = _locate(lines.files, ordinal)
                write(f"{name}:{number}: {payload.decode()}\n")
                continue
            report = json.loads(payload)
            problems = report["problems"]
            cases_with_problems += bool(problems)
            if options.quiet and not problems:
                continue
            kinds = ", ".join(f"{kind} {count}" for kind, count in report["kinds"].items())
            verdict = "ok" if not problems else _plural(len(problems), "problem")
            write(
                f"case {json.dumps(report['case'], ensure_ascii=False)}: {report['events']} "
                f"events ({kinds}), first {report['first'] or '-'}, last "
                f"{report['last'] or '-'}: {verdict}\n"
            )
            for where, index, detail in problems:
                name, number = _locate(lines.files, where)
                write(f"  {name}:{number}: event {index}: {detail}\n")
    finally:
        run.close()
    counts = run.counts
    return ValidateSummary(
        files=len(sources),
        lines=lines.count,
        cases=counts.cases,
        events=counts.events,
        bad_lines=counts.line_rejects,
        problems=counts.problems,
        cases_with_problems=cases_with_problems,
    )
