"""Records and the temp files that hold them (batch layer): chunks, partitions by case.

Everything that leaves a worker is a *record* ``(ordinal, type, payload)``: a row, a rejected
case or a rejected line (see the package docstring). Temp files hold marshal'ed lists of
them, or of ``(ordinal, case id text, raw line)`` lines in a partition file: length-prefixed
chunks, fast to write and read, and only ever read back by the same interpreter that wrote
them. A line goes to partition ``zlib.crc32(case id text, salt) % count``, so each case lies
in one file.
"""

from __future__ import annotations

import marshal
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import IO, Any, Final

from metrics_engine._batch.inputs import BatchError, os_reason

__all__ = [
    "CASE_REJECT",
    "CASE_REPORT",
    "CHUNK_LINES",
    "LINE_REJECT",
    "ROW",
    "SLA",
    "Partitions",
    "Record",
    "RejectedLines",
    "by_ordinal",
    "read_chunks",
    "read_records",
    "temp_error",
    "write_chunk",
    "write_records",
]

# Record types. A record is (ordinal, type, payload bytes).
ROW: Final = 0  # payload: the encoded row, newline included
CASE_REJECT: Final = 1  # payload: JSON [case, line ordinal, index, error]
LINE_REJECT: Final = 2  # payload: the error text
CASE_REPORT: Final = 3  # payload: JSON of a validate report for one case
SLA: Final = 4  # payload: a case's SLA output (a JSON line, or CSV rows), beside its row
Record = tuple[int, int, bytes]
by_ordinal = itemgetter(0)

CHUNK_LINES: Final = 512  # lines buffered per partition before a write
_LEN: Final = struct.Struct("<I")


# ====================================================================== chunked temp files
# Temp files hold marshal'ed lists (length-prefixed): fast to write and read, and only ever
# read back by the same interpreter that wrote them.


def write_chunk(handle: IO[bytes], items: list[Any]) -> None:
    blob = marshal.dumps(items)
    handle.write(_LEN.pack(len(blob)))
    handle.write(blob)


def read_chunks(path: str, buffering: int = 1 << 20) -> Iterator[list[Any]]:
    with open(path, "rb", buffering=buffering) as handle:
        while True:
            head = handle.read(4)
            if not head:
                return
            (size,) = _LEN.unpack(head)
            yield marshal.loads(handle.read(size))


def read_records(path: str) -> Iterator[Record]:
    # Record files are read many at once (merged by line): small buffers, small chunks.
    for chunk in read_chunks(path, buffering=1 << 16):
        yield from chunk


#: A chunk of a record file holds at most this many records or payload bytes.
_CHUNK_RECORDS: Final = 1024
_CHUNK_BYTES: Final = 256 * 1024


def write_records(path: str, records: Iterable[Record]) -> None:
    with open(path, "wb", buffering=1 << 20) as handle:
        chunk: list[Record] = []
        size = 0
        for record in records:
            chunk.append(record)
            size += len(record[2])
            if len(chunk) >= _CHUNK_RECORDS or size >= _CHUNK_BYTES:
                write_chunk(handle, chunk)
                chunk = []
                size = 0
        if chunk:
            write_chunk(handle, chunk)


class Partitions:
    """P partition files, written by the parent, one buffer each, opened on first use."""

    def __init__(self, folder: str, count: int, salt: int = 0, tag: str = "") -> None:
        """``tag``: told apart in file names (the partitions of one byte range of the input)."""
        self.folder = folder
        self.count = count
        self.salt = salt
        self.paths = [os.path.join(folder, f"part{tag}-{salt}-{i:04d}") for i in range(count)]
        self.buffers: list[list[tuple[int, str, bytes]]] = [[] for _ in range(count)]
        self._handles: list[IO[bytes] | None] = [None] * count

    def add(self, ordinal: int, key: str, line: bytes) -> None:
        index = zlib.crc32(key.encode("utf-8", "surrogatepass"), self.salt) % self.count
        buffer = self.buffers[index]
        buffer.append((ordinal, key, line))
        if len(buffer) >= CHUNK_LINES:
            self.flush(index)

    def flush(self, index: int) -> None:
        try:
            handle = self._handles[index]
            if handle is None:
                handle = self._handles[index] = open(self.paths[index], "wb")  # noqa: SIM115
            write_chunk(handle, self.buffers[index])
        except OSError as error:
            raise temp_error(self.folder, error) from None
        self.buffers[index] = []

    def close(self) -> list[tuple[str, int]]:
        """Flush and close; (path, bytes) of each non-empty partition, largest first."""
        return sorted(self.close_by_index().values(), key=itemgetter(1), reverse=True)

    def close_by_index(self) -> dict[int, tuple[str, int]]:
        """Flush and close; partition index -> (path, bytes), of each non-empty partition."""
        for index in range(self.count):
            if self.buffers[index]:
                self.flush(index)
            handle = self._handles[index]
            if handle is not None:
                handle.close()
        return {
            i: (self.paths[i], os.path.getsize(self.paths[i]))
            for i in range(self.count)
            if self._handles[i] is not None
        }


class RejectedLines:
    """Lines rejected as no events, in line order: in memory, spilled to temp files named
    ``NAME-0``, ``NAME-1``... in ``folder`` beyond ``in_memory`` of them (a file of garbage)."""

    def __init__(self, folder: str, name: str, in_memory: int) -> None:
        self.folder = folder
        self.name = name
        self.in_memory = in_memory
        self.records: list[Record] = []  # the latest, not yet spilled
        self.files: list[str] = []
        self.count = 0

    def add(self, ordinal: int, error: bytes) -> None:
        self.records.append((ordinal, LINE_REJECT, error))
        self.count += 1
        if len(self.records) >= self.in_memory:
            path = os.path.join(self.folder, f"{self.name}-{len(self.files)}")
            try:
                write_records(path, self.records)
            except OSError as error:
                raise temp_error(self.folder, error) from None
            self.files.append(path)
            self.records = []

    def read(self, offset: int = 0) -> Iterator[Record]:
        """All of them, in order, ``offset`` added to each ordinal."""
        for path in self.files:
            for ordinal, kind, payload in read_records(path):
                yield ordinal + offset, kind, payload
        for ordinal, kind, payload in self.records:
            yield ordinal + offset, kind, payload


def temp_error(folder: str, error: OSError) -> BatchError:
    return BatchError(
        f"cannot write temporary files in {folder}: {os_reason(error)} "
        "(TMPDIR chooses where they go)"
    )
