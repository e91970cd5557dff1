"""The inputs of a run (batch layer): event files, stdin and pipes, and calendar files.

Input is JSON Lines, many cases, from files or ``-`` (stdin), gzip or not (recognised by its
first two bytes, whatever the name). Every input is checked readable before any work starts,
and a read-once input (stdin, a pipe) may be given once only. A line longer than the limit
(``--max-line-bytes``) is never held whole: it is read in chunks of the limit, skipped, and
rejected by the pass that finds case ids.
Every line has a global *ordinal* (1, 2, ... across the inputs in the order given); a
``(file, line)`` table turns an ordinal back into what a user can find. A read-once input
(stdin, a pipe) that must be read twice is spooled to a temp file first.

Anything that stops a run here is a :class:`BatchError` (exit code 2).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import shutil
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError

__all__ = [
    "DEFAULT_MAX_LINE",
    "BatchError",
    "Calendar",
    "InputLines",
    "Source",
    "check_sources",
    "line_reader",
    "load_calendar",
    "locate",
    "os_reason",
    "over_limit",
    "read_json_file",
    "skip_rest",
    "spool_stdin",
    "too_long",
]

Calendar = BusinessCalendar | TeamCalendars

#: Longest line read, in bytes, line end excluded (``--max-line-bytes``): about 6,000 times
#: a typical event, yet small enough that no line can exhaust memory.
DEFAULT_MAX_LINE: Final = 1024 * 1024

#: gzip's trailer ends with the uncompressed size modulo 2**32, little-endian (RFC 1952).
_GZIP_SIZE: Final = struct.Struct("<I")


class BatchError(MetricsEngineError):
    """A run cannot go on: a usage error, an unreadable input or calendar (exit code 2)."""


# ====================================================================== inputs


#: The first two bytes of every gzip stream (RFC 1952). No JSON text starts with 0x1f.
_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Source:
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
        if sys.stdin is None:  # checked by check_sources; a caller may have closed it since
            raise BatchError("cannot read input -: stdin is closed")
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
            (trailer,) = _GZIP_SIZE.unpack(raw.read(4))
        return trailer if trailer >= size else size * 8


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff them), put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        # read1: what the pipe holds now (read would wait for a full buffer, or the end)
        self._read: Callable[[int], bytes] = getattr(rest, "read1", rest.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._head[: len(view)] if self._head else self._read(len(view))
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


def _probe(name: str, path: str) -> Source:
    """A file input, checked readable (and, when gzip, its first member readable)."""
    try:
        with open(path, "rb") as probe:
            head = probe.read(2)
        packed = head == _GZIP_MAGIC
        if packed or name.endswith(".gz"):  # a .gz name that is no gzip fails here
            with gzip.open(path, "rb") as unpacked:
                unpacked.read(1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BatchError(f"cannot read input {name}: {os_reason(error)}") from None
    return Source(name, path, packed)


def check_sources(paths: Sequence[str]) -> list[Source]:
    """Check that every input can be opened before any work starts."""
    if not paths:
        raise BatchError("expected at least one input file (or - for stdin), found none")
    sources = []
    read_once: dict[tuple[int, int] | str, str] = {}  # a read-once input -> its name
    for name in paths:
        if name == "-":
            if sys.stdin is None:
                raise BatchError("cannot read input -: stdin is closed")
            _once(read_once, _stream_identity(None) or "-", name)
            sources.append(Source(name, None))
            continue
        identity = _stream_identity(name)
        if identity is not None:
            # A pipe or process substitution can be read only once: probing it would lose
            # the bytes read, so it is treated like stdin (and spooled when read twice).
            _once(read_once, identity, name)
            sources.append(Source(name, None, pipe=name))
            continue
        sources.append(_probe(name, name))
    return sources


def _once(
    seen: dict[tuple[int, int] | str, str], identity: tuple[int, int] | str, name: str
) -> None:
    """A read-once input (stdin, a pipe) named twice would hang or lose lines: refused."""
    first = seen.get(identity)
    if first is None:
        seen[identity] = name
        return
    found = f"{name} twice" if first == name else f"{first} and {name}, one and the same"
    raise BatchError(
        f"expected each pipe (or stdin) once among the inputs, found {found}: "
        "it can be read only once"
    )


def _stream_identity(name: str | None) -> tuple[int, int] | None:
    """(device, inode) of an input that can be read only once (not a regular file nor a
    folder); None for anything else. ``name`` None is stdin."""
    try:
        st = os.fstat(0) if name is None else os.stat(name)
    except OSError:
        return None  # _probe reports why it cannot be read
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return (st.st_dev, st.st_ino)


def os_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class InputLines:
    """(ordinal, raw line) over all inputs, and the table that maps ordinals back."""

    def __init__(self, sources: Sequence[Source], max_line: int = DEFAULT_MAX_LINE) -> None:
        self.sources = sources
        self.max_line = max_line
        self.files: list[tuple[int, str]] = []  # (first ordinal, name), in order
        self.count = 0  # lines read so far (ordinals handed out)
        self._stream: IO[bytes] | None = None  # the input being read, for fraction()
        self._bytes_done = 0  # on-disk bytes of the inputs read whole
        sizes = [_disk_size(source) for source in sources]
        #: On-disk bytes of all inputs; None when one is stdin or a pipe (unknown size).
        self.total_bytes: int | None = None
        if all(size is not None for size in sizes):
            self.total_bytes = sum(size for size in sizes if size is not None)

    @contextlib.contextmanager
    def reading(self, source: Source) -> Iterator[IO[bytes]]:
        """One input, open; the caller numbers its lines from ``count + 1`` and updates
        ``count``. Read errors become :class:`BatchError`."""
        if source is self.sources[0]:
            self.files = []
            self.count = 0
        self.files.append((self.count + 1, source.name))
        try:
            stream = source.open()
            self._stream = stream
            try:
                yield stream
            finally:
                self._stream = None
                self._bytes_done += _disk_size(source) or 0
                if source.path is not None or source.pipe is not None:
                    stream.close()  # never stdin: it is not ours
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise BatchError(f"cannot read input {source.name}: {os_reason(error)}") from None

    def fraction(self) -> float | None:
        """How much of the inputs has been read (0 to 1), by on-disk bytes (compressed bytes
        for gzip); None when a size is unknown. Cheap: one ``lseek`` per call."""
        if not self.total_bytes:
            return None
        position = 0
        if self._stream is not None:
            try:
                position = os.lseek(self._stream.fileno(), 0, os.SEEK_CUR)
            except (OSError, ValueError, AttributeError):
                return None
        return min(1.0, (self._bytes_done + position) / self.total_bytes)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """Every line but blank ones (not events: skipped, not rejected, still numbered) and
        those over the length limit (rejected by the pass that finds case ids)."""
        limit = self.max_line
        for source in self.sources:
            with self.reading(source) as stream:
                read = line_reader(stream, limit)
                for ordinal, line in enumerate(iter(read, b""), self.count + 1):
                    self.count = ordinal
                    if len(line) > limit and over_limit(line, limit):
                        skip_rest(read, line)
                        continue
                    if line[0] != 0x7B and line.isspace():
                        continue
                    yield ordinal, line


def line_reader(stream: IO[bytes], limit: int) -> Callable[[], bytes]:
    """``readline`` of at most the limit plus a line end (CR LF): never more in memory."""
    return functools.partial(stream.readline, limit + 2)


def over_limit(line: bytes, limit: int) -> bool:
    """Whether a line from :func:`line_reader` is longer than ``limit``, its end excluded."""
    size = len(line)
    if line.endswith(b"\n"):
        size -= 2 if line.endswith(b"\r\n") else 1
    return size > limit


def skip_rest(read: Callable[[], bytes], chunk: bytes) -> None:
    """Read on to the end of an over-long line, one bounded chunk at a time."""
    while not chunk.endswith(b"\n"):
        chunk = read()
        if not chunk:
            return


def too_long(limit: int) -> str:
    """The reject of a line longer than ``limit`` bytes."""
    return (
        f"line too long: expected at most {limit} bytes, found more "
        "(--max-line-bytes raises the limit)"
    )


def locate(files: Sequence[tuple[int, str]], ordinal: int) -> tuple[str, int]:
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


def spool_stdin(folder: str, source: Source, number: int = 0) -> Source:
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
        raise BatchError(f"cannot read input {source.name}: {os_reason(error)}") from None
    return _probe(source.name, path)  # still compressed when it came gzipped


# ====================================================================== calendars


def read_json_file(path: str, what: str) -> Any:
    """A JSON input file (calendar, policies); :class:`BatchError` naming it when it cannot
    be read or is not JSON."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise BatchError(f"cannot read {what} {path}: {os_reason(error)}") from None
    try:
        return json.loads(data)
    except ValueError as error:
        raise BatchError(f"{what} {path}: expected JSON, found a parse error ({error})") from None
    except RecursionError:
        raise BatchError(
            f"{what} {path}: expected JSON nested at most about 1,000 levels deep, found more"
        ) from None


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
            obj = read_json_file(calendar, "calendar")
            if timezone is not None:
                return BusinessCalendar.from_kayako(obj, timezone=timezone)
            if _looks_like_kayako_hours(obj):
                raise BatchError(
                    f"calendar {calendar}: expected a canonical calendar, found Kayako business "
                    "hours, which carry no time zone: give it with --timezone ZONE "
                    "(e.g. --timezone America/New_York)"
                )
            return BusinessCalendar.from_dict(obj)
        if team_calendars is not None:
            return TeamCalendars.from_dict(read_json_file(team_calendars, "team calendars"))
    except BatchError:
        raise
    except MetricsEngineError as error:
        path = calendar if calendar is not None else team_calendars
        raise BatchError(f"calendar {path}: {error.detail}") from None
    return None


def _looks_like_kayako_hours(obj: object) -> bool:
    """Kayako's business-hours resource (or its response envelope), not our format."""
    if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
        obj = obj["data"]
    return (
        isinstance(obj, dict)
        and "timezone" not in obj
        and ("zones" in obj or obj.get("resource_type") == "business_hour")
    )


def _disk_size(source: Source) -> int | None:
    """The size of a regular input file on disk; None for stdin, a pipe, or an error."""
    if source.path is None or source.pipe is not None:
        return None
    try:
        return os.stat(source.path).st_size
    except OSError:
        return None
