"""Where a run's outputs go (batch layer), checked before any input is read.

Every output is checked first, from its path alone (nothing is created or opened):

- a path that names an input file (the events, the calendar), through a symlink, a hard link
  or stdin, is refused: writing it would destroy the input; so is ``--rejects`` naming the
  same file as ``--out``;
- a folder, a missing folder, a name too long for the file system: refused;
- a regular file (or a path to create) is replaced atomically at the end: the temp file is
  written beside the file a symlink points to, so the symlink stays and its target is
  replaced;
- anything else (a device such as ``/dev/null``, a named pipe) is written directly, at the
  end, never replaced;
- stdout and stderr must be open when an output goes there.

Anything refused here is a :class:`BatchError` (exit code 2), raised before any work starts.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Final, Literal

from metrics_engine._batch.inputs import BatchError, os_reason

__all__ = [
    "Target",
    "plan_all_outputs",
    "plan_outputs",
    "short_name",
    "std_stream",
    "sync_folder",
]

_STREAMS: Final = {1: "stdout", 2: "stderr"}
#: What mkstemp adds to a temp name's prefix: 8 random characters, then the suffix.
_TEMP_EXTRA: Final = len("..XXXXXXXX.partial")


@dataclass(frozen=True, slots=True)
class Target:
    """One output: rows, rejects or SLA results."""

    what: Literal["rows", "rejects", "SLA results"]
    name: str  # for messages: the path as given, "stdout" or "stderr"
    kind: Literal["file", "stream", "device"]
    path: str | None = None  # file: the regular file to replace; device: the path to open
    fd: int | None = None  # stream: 1 or 2

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def std_stream(fd: int) -> IO[bytes]:
    """The binary stdout (1) or stderr (2); :class:`BatchError` when it was closed."""
    stream = sys.stdout if fd == 1 else sys.stderr
    if stream is None:  # Python's sign that the descriptor was closed at start-up
        raise BatchError(f"cannot write to {_STREAMS[fd]}: it is closed")
    return stream.buffer


def _identity(st: os.stat_result) -> tuple[int, int] | None:
    """What makes two paths one file that writing would clobber (terminals do not count)."""
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return None
    return (st.st_dev, st.st_ino)


def _input_identities(inputs: Sequence[str]) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    for name in inputs:
        try:
            st = os.fstat(0) if name == "-" else os.stat(name)
        except OSError:
            continue  # an unreadable input is reported where it is read
        identity = _identity(st)
        if identity is not None:
            found.setdefault(identity, "stdin" if name == "-" else name)
    return found


def plan_outputs(
    rows: str | None,
    rejects: str | None,
    inputs: Sequence[str],
) -> tuple[Target, Target]:
    """Check both outputs against each other and against every input (paths as given).

    ``rows`` None is stdout; ``rejects`` None is the default (``ROWS.rejects.jsonl`` beside a
    rows file; stderr when the rows go to stdout, a device or a pipe) and ``"-"`` stderr.
    """
    rows_target, rejects_target, _ = plan_all_outputs(rows, rejects, inputs)
    return rows_target, rejects_target


def plan_all_outputs(
    rows: str | None,
    rejects: str | None,
    inputs: Sequence[str],
    *,
    sla: str | None = None,
    sla_suffix: str | None = None,
) -> tuple[Target, Target, Target | None]:
    """:func:`plan_outputs`, and the SLA output when ``sla_suffix`` is given (a run with
    SLA policies): ``sla`` None is the default ``ROWS<sla_suffix>`` beside a rows file (and
    required otherwise), ``"-"`` stdout. It is checked against the inputs and both others."""
    known = _input_identities(inputs)
    rows_target, rows_id = _plan("rows", rows, 1, "--out", known, False)
    default_rejects = rejects is None and rows_target.is_file
    if default_rejects:
        rejects = f"{rows}.rejects.jsonl"
    elif rejects == "-":
        rejects = None
    rejects_target, rejects_id = _plan("rejects", rejects, 2, "--rejects", known, default_rejects)
    same = rows_id is not None and rows_id == rejects_id
    if not same and rows_target.is_file and rejects_target.is_file:
        same = rows_target.path == rejects_target.path
    if same:
        how = "the default rejects file" if default_rejects else "--rejects"
        raise BatchError(
            f"{how} {rejects_target.name}: expected a file other than the rows' "
            f"({rows_target.name}), found the same file: the rejects would overwrite the rows"
        )
    if sla_suffix is None:
        if sla is not None:
            raise BatchError("--sla-out: expected --sla as well, found --sla-out alone")
        return rows_target, rejects_target, None
    default_sla = sla is None
    if default_sla:
        if not rows_target.is_file:
            raise BatchError(
                f"--sla: expected --sla-out FILE when the rows go to {rows_target.name}, found none"
            )
        sla = f"{rows}{sla_suffix}"
    elif sla == "-":
        sla = None
    sla_target, sla_id = _plan("SLA results", sla, 1, "--sla-out", known, default_sla)
    for other, other_id in ((rows_target, rows_id), (rejects_target, rejects_id)):
        clash = sla_id is not None and sla_id == other_id
        if other.is_file and sla_target.is_file:
            clash = clash or other.path == sla_target.path
        if other.kind == "stream" and sla_target.kind == "stream":
            clash = clash or other.fd == sla_target.fd
        if clash:
            how = "the default SLA file" if default_sla else "--sla-out"
            raise BatchError(
                f"{how} {sla_target.name}: expected a file other than the {other.what}' "
                f"({other.name}), found the same file: one would overwrite the other"
            )
    return rows_target, rejects_target, sla_target


def _plan(
    what: Literal["rows", "rejects", "SLA results"],
    path: str | None,
    fd: int,
    option: str,
    inputs: dict[tuple[int, int], str],
    default: bool,
) -> tuple[Target, tuple[int, int] | None]:
    label = f"the default {what} file {path}" if default else f"{option} {path}"
    hint = f" (name the {what} file with {option})" if default else ""
    if path is None:
        target = Target(what, _STREAMS[fd], "stream", fd=fd)
        std_stream(fd)
        try:
            stream_st = os.fstat(fd)
        except OSError:
            return target, None
        identity = _identity(stream_st) if stat.S_ISREG(stream_st.st_mode) else None
        if identity is not None and identity in inputs:
            raise BatchError(
                f"{_STREAMS[fd]} (the {what}) is the input {inputs[identity]}: writing it would "
                "destroy the input"
            )
        return target, identity
    _check_name(path, label, hint)
    st: os.stat_result | None
    try:
        st = os.stat(path)  # follows symlinks: what would be written
    except FileNotFoundError:
        st = None
    except OSError as error:
        raise BatchError(f"cannot write {label}: {os_reason(error)}") from None
    if st is not None:
        identity = _identity(st)
        if identity is not None and identity in inputs:
            raise BatchError(
                f"{label}: expected an output file, found the input {inputs[identity]}: "
                "writing it would destroy the input"
            )
        if stat.S_ISDIR(st.st_mode):
            raise BatchError(f"cannot write {label}: it is a folder")
        if not stat.S_ISREG(st.st_mode):
            return Target(what, path, "device", path=path), identity
    real = os.path.realpath(path)
    if not os.path.isdir(os.path.dirname(real)):
        raise BatchError(f"cannot write {label}: No such file or directory")
    _check_name(real, label, hint)  # a symlink may point to a name that cannot exist
    identity = None if st is None else _identity(st)
    return Target(what, path, "file", path=real), identity


def _check_name(path: str, label: str, hint: str) -> None:
    folder, base = os.path.split(os.path.abspath(path))
    limit = _name_max(folder)
    if len(os.fsencode(base)) > limit:
        raise BatchError(
            f"cannot write {label}: expected a file name of at most {limit} bytes, found "
            f"{len(os.fsencode(base))}{hint}"
        )


def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def short_name(folder: str, base: str) -> str:
    """``base``, cut so that a temp name built from it fits the file system's name limit."""
    room = _name_max(folder) - _TEMP_EXTRA
    while base and len(os.fsencode(base)) > room:
        base = base[:-1]
    return base


def sync_folder(folder: str) -> None:
    """A rename in ``folder`` made durable, where the file system can sync a folder (a new
    file under an output's name must survive a power cut as the whole new file or none)."""
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
