"""The command under attack: it never destroys an input, never replaces a device, never
splits its pair of outputs, leaves nothing behind on a signal, and turns every limit into a
one-line error or a reject.

Each test runs the real command in a subprocess (real FIFOs, signals to real processes, a
file size limit for a full disk, real symlinks), with its temp files in a folder of the test
(``TMPDIR``), which must be empty afterwards. Inputs are small and waits are bounded.
"""

from __future__ import annotations

import fcntl
import glob
import gzip
import json
import os
import resource
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import metrics_engine as me
from metrics_engine._batch import outputs as batch_outputs
from metrics_engine._batch import signals as batch_signals
from metrics_engine._batch.command import run_compute
from metrics_engine._batch.inputs import BatchError
from metrics_engine._batch.options import ComputeOptions, Hooks
from metrics_engine._batch.outputs import OutputPair, _AtomicFile
from metrics_engine._batch.targets import plan_outputs

ROOT = Path(__file__).resolve().parent.parent
# Where the build under test lives (the checkout, or site-packages for an installed build):
# the commands run in subprocesses import that one.
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent
PREVIOUS = b"previous run\n"
AT = "2026-03-02T10:00:00Z"
AS_OF = "2026-03-03T00:00:00Z"


def events(count: int, first: int = 1) -> bytes:
    """``count`` cases of one event each (about 60 bytes a line, a row of about 1.3 KB)."""
    return b"".join(
        json.dumps({"case": case, "event": "created", "at": AT}).encode() + b"\n"
        for case in range(first, first + count)
    )


@pytest.fixture
def tmp(tmp_path: Path) -> Iterator[Path]:
    """TMPDIR of the command; every test leaves it empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    yield folder
    assert list(folder.iterdir()) == []


def command(
    *args: str | Path,
    cwd: Path,
    tmp: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "metrics_engine", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=environment(tmp, env),
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )


def environment(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    env["TMPDIR"] = str(tmp)
    env.update(extra or {})
    return env


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    """The stderr of a run that stopped: one line, no traceback."""
    lines = [line for line in result.stderr.decode().splitlines() if "warning" not in line]
    assert len(lines) == 1, result.stderr.decode()
    return lines[0]


# ---------------------------------------------------------------------------- data loss


@pytest.mark.parametrize(
    "case",
    ["out", "rejects", "symlink", "hard link", "default rejects", "calendar", "stdout"],
)
def test_an_output_that_names_an_input_is_refused(tmp_path: Path, tmp: Path, case: str) -> None:
    data = events(3)
    (tmp_path / "in.jsonl").write_bytes(data)
    calendar = (ROOT / "examples" / "calendar.json").read_bytes()
    (tmp_path / "cal.json").write_bytes(calendar)
    args: list[str] = ["compute", "in.jsonl", "--calendar", "cal.json"]
    stdout: Any = subprocess.PIPE
    if case == "out":
        args += ["--out", "in.jsonl"]
    elif case == "rejects":
        args += ["--out", "o.jsonl", "--rejects", "in.jsonl"]
    elif case == "symlink":
        (tmp_path / "link.jsonl").symlink_to("in.jsonl")
        args += ["--out", "link.jsonl"]
    elif case == "hard link":
        os.link(tmp_path / "in.jsonl", tmp_path / "twin.jsonl")
        args += ["--out", "twin.jsonl"]
    elif case == "default rejects":  # o.jsonl's rejects would go to o.jsonl.rejects.jsonl
        (tmp_path / "o.jsonl.rejects.jsonl").write_bytes(data)
        args = ["compute", "o.jsonl.rejects.jsonl", "--out", "o.jsonl"]
    elif case == "calendar":
        args += ["--out", "cal.json"]
    else:  # rows to stdout, which is the input opened for appending
        stdout = open(tmp_path / "in.jsonl", "ab")  # noqa: SIM115
    before = {name: (tmp_path / name).read_bytes() for name in names(tmp_path) if name != "tmp"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "metrics_engine", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=environment(tmp),
            timeout=60,
            check=False,
        )
    finally:
        if stdout is not subprocess.PIPE:
            stdout.close()
    assert result.returncode == 2, result.stderr
    assert "destroy the input" in one_line_error(result)
    after = {name: (tmp_path / name).read_bytes() for name in names(tmp_path) if name != "tmp"}
    assert after == before  # nothing touched, nothing created


@pytest.mark.parametrize("how", ["same name", "symlink"])
def test_rejects_naming_the_rows_file_is_refused(tmp_path: Path, tmp: Path, how: str) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(2) + b"not json\n")
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    rejects = "o.jsonl"
    if how == "symlink":
        (tmp_path / "r.jsonl").symlink_to("o.jsonl")
        rejects = "r.jsonl"
    result = command(
        "compute", "in.jsonl", "--out", "o.jsonl", "--rejects", rejects, cwd=tmp_path, tmp=tmp
    )
    assert result.returncode == 2
    assert "the rejects would overwrite the rows" in one_line_error(result)
    assert (tmp_path / "o.jsonl").read_bytes() == PREVIOUS
    assert set(names(tmp_path)) <= {"in.jsonl", "o.jsonl", "r.jsonl", "tmp"}


def test_a_fifo_output_is_written_not_replaced(tmp_path: Path, tmp: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(5))
    expected = command("compute", "in.jsonl", "--quiet", cwd=tmp_path, tmp=tmp).stdout
    os.mkfifo(tmp_path / "rows.pipe")
    reader = subprocess.Popen(["cat", str(tmp_path / "rows.pipe")], stdout=subprocess.PIPE)
    try:
        result = command(
            "compute", "in.jsonl", "--out", "rows.pipe", "--rejects", "-", cwd=tmp_path, tmp=tmp
        )
        rows, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
    assert result.returncode == 0, result.stderr
    assert rows == expected
    assert (tmp_path / "rows.pipe").is_fifo()  # still the pipe, not a file put in its place
    assert names(tmp_path) == ["in.jsonl", "rows.pipe", "tmp"]


def test_dev_null_and_dev_stdout_are_written_directly(tmp_path: Path, tmp: Path) -> None:
    # Through symlinks of the test: a command that replaced its target instead of writing
    # to it would replace the links, never this machine's /dev/null (as root it could).
    (tmp_path / "in.jsonl").write_bytes(events(5) + b"not json\n")
    (tmp_path / "null").symlink_to("/dev/null")
    (tmp_path / "stdout").symlink_to("/dev/stdout")
    expected = command("compute", "in.jsonl", "--quiet", cwd=tmp_path, tmp=tmp)
    result = command(
        "compute", "in.jsonl", "--quiet", "--out", "stdout", "--rejects", "null",
        cwd=tmp_path, tmp=tmp,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == expected.stdout
    assert result.stderr == b""  # the rejects went to /dev/null
    assert (tmp_path / "null").is_symlink()
    assert (tmp_path / "null").is_char_device()
    assert (tmp_path / "stdout").is_symlink()
    assert names(tmp_path) == ["in.jsonl", "null", "stdout", "tmp"]
    # A device as --out: the rejects go to stderr, not to a file beside the device.
    result = command("compute", "in.jsonl", "--out", "null", cwd=tmp_path, tmp=tmp)
    assert result.returncode == 1
    assert result.stdout == b""
    assert [line for line in result.stderr.splitlines() if line[:1] == b"{"] == [
        b'{"case_id":null,"file":"in.jsonl","line":6,'
        b'"error":"not JSON: Expecting value: line 1 column 1 (char 0)"}'
    ]
    assert names(tmp_path) == ["in.jsonl", "null", "stdout", "tmp"]


def test_a_symlinked_out_replaces_the_file_it_points_to(tmp_path: Path, tmp: Path) -> None:
    """The symlink stays; the regular file it points to is replaced atomically (its temp
    file beside it, in its own folder)."""
    (tmp_path / "in.jsonl").write_bytes(events(4))
    real = tmp_path / "store"
    real.mkdir()
    (real / "metrics.jsonl").write_bytes(PREVIOUS)
    (tmp_path / "out.jsonl").symlink_to(real / "metrics.jsonl")
    expected = command("compute", "in.jsonl", "--quiet", cwd=tmp_path, tmp=tmp).stdout
    result = command("compute", "in.jsonl", "--out", "out.jsonl", cwd=tmp_path, tmp=tmp)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.jsonl").is_symlink()
    assert (real / "metrics.jsonl").read_bytes() == expected
    assert (tmp_path / "out.jsonl.rejects.jsonl").read_bytes() == b""
    assert names(real) == ["metrics.jsonl"]  # no temp file left beside it


def test_disk_full_at_commit_leaves_both_outputs_as_they_were(tmp_path: Path, tmp: Path) -> None:
    """A file size limit (``ulimit -f``) that the rows exceed but no temp file does: the
    rejects, small and written first, must not be committed without the rows."""
    limit = 128 * 1024
    data = events(400) + b"not json\n"  # rows ~500 KB; on stdin: 64 partitions of ~8 KB
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    (tmp_path / "o.jsonl.rejects.jsonl").write_bytes(PREVIOUS)

    def file_size_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = command(
        "compute", "-", "--out", "o.jsonl", "--workers", "1",
        cwd=tmp_path, tmp=tmp, stdin=data, preexec_fn=file_size_limit,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert one_line_error(result) == (
        "metrics-engine: error: cannot write o.jsonl: File too large; nothing was written "
        "(o.jsonl and o.jsonl.rejects.jsonl left as they were)"
    )
    assert (tmp_path / "o.jsonl").read_bytes() == PREVIOUS
    assert (tmp_path / "o.jsonl.rejects.jsonl").read_bytes() == PREVIOUS
    assert names(tmp_path) == ["o.jsonl", "o.jsonl.rejects.jsonl", "tmp"]


def test_an_out_folder_is_refused_before_any_input_is_read(tmp_path: Path, tmp: Path) -> None:
    """Refused at once: the input, a pipe that never ends, is never read."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder.rejects.jsonl").write_bytes(PREVIOUS)
    with Feeder(tmp_path / "in.pipe", events(3)):
        result = command("compute", "in.pipe", "--out", "folder", cwd=tmp_path, tmp=tmp, timeout=30)
    assert result.returncode == 2
    assert (
        one_line_error(result) == "metrics-engine: error: cannot write --out folder: it is a folder"
    )
    assert (tmp_path / "folder.rejects.jsonl").read_bytes() == PREVIOUS
    assert names(tmp_path / "folder") == []


def test_a_signal_during_the_renames_waits_for_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM between the two renames: the second still happens, then the run stops."""
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    (tmp_path / "r.jsonl").write_bytes(PREVIOUS)
    rows_target, rejects_target = plan_outputs(
        str(tmp_path / "o.jsonl"), str(tmp_path / "r.jsonl"), []
    )
    pair = OutputPair(_AtomicFile(rows_target), _AtomicFile(rejects_target))
    pair.write_row(b"new rows\n")
    pair.write_reject(b"new rejects\n")
    renames: list[str] = []
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        real_replace(source, target)
        renames.append(os.path.basename(target))
        if len(renames) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(batch_outputs.os, "replace", replace)
    with batch_signals.trapped():
        with pytest.raises(batch_signals.Interrupted) as stopped:
            pair.commit()
        pair.discard()
    assert stopped.value.signum == signal.SIGTERM
    assert renames == ["r.jsonl", "o.jsonl"]  # rejects first, rows last, both done
    assert (tmp_path / "o.jsonl").read_bytes() == b"new rows\n"
    assert (tmp_path / "r.jsonl").read_bytes() == b"new rejects\n"
    assert pair.left() == (
        f"rejects written in full to {tmp_path / 'r.jsonl'}; "
        f"rows written in full to {tmp_path / 'o.jsonl'}"
    )


# ---------------------------------------------------------------------------- signals


class Feeder:
    """A named pipe fed by the test and held open, so that the command waits for more."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data
        os.mkfifo(path)
        self.fd = -1

    def __enter__(self) -> Feeder:
        # Read-write: opening never blocks, and the test is never a writer without a reader.
        self.fd = os.open(self.path, os.O_RDWR)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        assert len(self.data) <= 1 << 20
        os.write(self.fd, self.data)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def children(pid: int) -> list[int]:
    found = []
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(path.split("/")[2]))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def started(tmp_path: Path, tmp: Path, feeder: Feeder, *flags: str) -> subprocess.Popen[bytes]:
    """The command, reading ``feeder``, once its temp folder and outputs exist."""
    process = subprocess.Popen(
        [sys.executable, "-m", "metrics_engine", "compute", feeder.path.name, *flags,
         "--out", "o.jsonl"],
        cwd=tmp_path, env=environment(tmp), stderr=subprocess.PIPE,
    )  # fmt: skip
    wait_for(
        lambda: bool(list(tmp.iterdir())) and len(list(tmp_path.glob(".o.jsonl*.partial"))) == 2,
        "the run to start",
    )
    return process


def ended(process: subprocess.Popen[bytes], seconds: float = 20) -> tuple[int, str]:
    """Exit status and stderr of a started command."""
    _, stderr = process.communicate(timeout=seconds)
    return process.returncode, stderr.decode()


def two_cpus() -> bool:
    return len(os.sched_getaffinity(0)) >= 2


# Enough one-event cases for a batch of the grouped mode (4,000 lines) to reach the workers.
GROUPED = ("--grouped", "--as-of", AS_OF, "--workers", "2")


@pytest.mark.skipif(not two_cpus(), reason="workers are capped at the usable CPUs")
def test_workers_end_when_the_parent_is_killed(tmp_path: Path, tmp: Path) -> None:
    with Feeder(tmp_path / "in.pipe", events(4100)) as feeder:
        process = started(tmp_path, tmp, feeder, *GROUPED)
        wait_for(lambda: len(children(process.pid)) == 2, "two workers")
        workers = children(process.pid)
        process.kill()
        assert ended(process)[0] == -signal.SIGKILL
        wait_for(lambda: not any(map(alive, workers)), "the workers to end", seconds=5)
    # A crash cannot clean up: its temp folder and .partial files stay (as documented).
    for leftover in [*tmp.iterdir(), *tmp_path.glob(".o.jsonl*.partial")]:
        if leftover.is_dir():
            for inner in leftover.iterdir():
                inner.unlink()
            leftover.rmdir()
        else:
            leftover.unlink()


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE,
                                    signal.SIGTERM])  # fmt: skip
def test_every_trapped_signal_cleans_up(tmp_path: Path, tmp: Path, signum: int) -> None:
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    with Feeder(tmp_path / "in.pipe", events(300)) as feeder:
        process = started(tmp_path, tmp, feeder, "--workers", "1")
        process.send_signal(signum)
        status, stderr = ended(process)
    assert status == 128 + signum, stderr
    assert names(tmp_path) == ["in.pipe", "o.jsonl", "tmp"]  # no .partial file
    assert (tmp_path / "o.jsonl").read_bytes() == PREVIOUS
    message = [line for line in stderr.splitlines() if "warning" not in line]
    if signum == signal.SIGPIPE:
        assert message == []  # the reader went away: nothing to tell it
    else:
        assert message == [
            f"metrics-engine: interrupted by {signal.Signals(signum).name}; nothing was "
            "written (o.jsonl and o.jsonl.rejects.jsonl left as they were)"
        ]


@pytest.mark.skipif(not two_cpus(), reason="workers are capped at the usable CPUs")
def test_sighup_with_workers_leaves_no_process_and_no_temp_file(tmp_path: Path, tmp: Path) -> None:
    with Feeder(tmp_path / "in.pipe", events(4100)) as feeder:
        process = started(tmp_path, tmp, feeder, *GROUPED)
        wait_for(lambda: len(children(process.pid)) == 2, "two workers")
        workers = children(process.pid)
        process.send_signal(signal.SIGHUP)
        assert ended(process)[0] == 128 + signal.SIGHUP
    assert not any(map(alive, workers))  # ended before the parent left
    assert names(tmp_path) == ["in.pipe", "tmp"]


@pytest.mark.parametrize(
    ("closed", "args", "status", "message"),
    [
        (0, ["in.jsonl", "--out", "o.jsonl"], 1, None),  # stdin not needed: ignored
        (1, ["in.jsonl", "--out", "o.jsonl"], 1, None),
        (2, ["in.jsonl", "--out", "o.jsonl"], 1, None),
        (0, ["-", "--out", "o.jsonl"], 2, "cannot read input -: stdin is closed"),
        (1, ["in.jsonl"], 2, "cannot write to stdout: it is closed"),
        (2, ["in.jsonl", "--out", "o.jsonl", "--rejects", "-"], 2, None),  # nowhere to say so
    ],
)
def test_closed_standard_streams(
    tmp_path: Path, tmp: Path, closed: int, args: list[str], status: int, message: str | None
) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(3) + b"not json\n")
    result = command("compute", *args, cwd=tmp_path, tmp=tmp, preexec_fn=lambda: os.close(closed))
    assert result.returncode == status, result.stderr
    if closed != 2:
        assert b"Traceback" not in result.stderr
        if message is not None:
            assert one_line_error(result) == f"metrics-engine: error: {message}"
    if status == 1:
        assert (tmp_path / "o.jsonl").read_bytes().count(b"\n") == 3
        assert (tmp_path / "o.jsonl.rejects.jsonl").read_bytes().count(b"\n") == 1
    else:
        assert names(tmp_path) == ["in.jsonl", "tmp"]


def test_validate_with_stdout_closed(tmp_path: Path, tmp: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(3))
    result = command("validate", "in.jsonl", cwd=tmp_path, tmp=tmp, preexec_fn=lambda: os.close(1))
    assert result.returncode == 2
    assert one_line_error(result) == "metrics-engine: error: cannot write to stdout: it is closed"


def test_workers_are_capped_at_the_usable_cpus(
    tmp_path: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(300))
    expected = command("compute", "in.jsonl", "--quiet", "--workers", "1", cwd=tmp_path, tmp=tmp)
    result = command(
        "compute", "in.jsonl", "--quiet", "--grouped", "--workers", "2147483647",
        cwd=tmp_path, tmp=tmp,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, expected.stdout), result.stderr
    # In process, how many workers a pool is asked for.
    asked: list[int] = []
    real = batch_signals.ProcessPoolExecutor

    def spy(max_workers: int, **kwargs: Any) -> Any:
        asked.append(max_workers)
        return real(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(batch_signals, "ProcessPoolExecutor", spy)
    cpus = len(os.sched_getaffinity(0))
    for grouped in (False, True):
        run_compute(
            ComputeOptions(
                inputs=[str(tmp_path / "in.jsonl")], out=str(tmp_path / "o.jsonl"), quiet=True,
                workers=1000, grouped=grouped, hooks=Hooks(temp_root=str(tmp)),
            )
        )  # fmt: skip
    assert asked
    assert max(asked) <= cpus
    assert (tmp_path / "o.jsonl").read_bytes() == expected.stdout


# ---------------------------------------------------------------------------- limits


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("backend", ["json", "orjson"])
def test_a_line_over_the_limit_is_a_typed_reject(
    tmp_path: Path, tmp: Path, grouped: bool, backend: str
) -> None:
    """The limit counts the bytes of a line without its line end; a line of exactly the
    limit is read, one byte more is rejected, and reading goes on at the next line."""
    limit = 100
    padded = {"case": 2, "event": "note", "at": AT, "x": ""}
    base = len(json.dumps(padded))
    at_limit = json.dumps({**padded, "x": "a" * (limit - base)}).encode()
    over = json.dumps({**padded, "case": 3, "x": "a" * (limit - base + 1)}).encode()
    assert (len(at_limit), len(over)) == (limit, limit + 1)
    lines = [
        json.dumps({"case": 2, "event": "created", "at": AT}).encode(),
        at_limit,
        json.dumps({"case": 3, "event": "created", "at": AT}).encode(),
        over + b"b" * 100_000,  # far over: read in chunks, never whole
        json.dumps({"case": 4, "event": "created", "at": AT}).encode(),
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines))  # no newline after the last line
    flags = ["--grouped"] if grouped else []
    result = command(
        "compute", "in.jsonl", *flags, "--max-line-bytes", str(limit), "--out", "o.jsonl",
        cwd=tmp_path, tmp=tmp, env={"METRICS_ENGINE_JSON": backend},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [row["case_id"] for row in rows] == ["2", "3", "4"]
    assert rows[0]["last_activity_by_requester_at"] is None  # the note was read: no crash
    rejects = [
        json.loads(line) for line in (tmp_path / "o.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert rejects == [
        {
            "case_id": None,
            "file": "in.jsonl",
            "line": 4,
            "error": "line too long: expected at most 100 bytes, found more "
            "(--max-line-bytes raises the limit)",
        }
    ]
    # Raised, the limit lets the line through: read whole, it is no JSON (the b's after it).
    result = command("compute", "in.jsonl", *flags, "--max-line-bytes", "1M", cwd=tmp_path, tmp=tmp)
    assert result.returncode == 1, result.stderr
    (reject,) = [json.loads(line) for line in result.stderr.splitlines() if line[:1] == b"{"]
    assert (reject["line"], reject["error"][:10]) == (4, "not JSON: ")
    # A bad --max-line-bytes is a usage error.
    result = command("compute", "in.jsonl", "--max-line-bytes", "0", cwd=tmp_path, tmp=tmp)
    assert result.returncode == 2


def test_a_gzip_bomb_line_is_rejected_within_a_memory_limit(tmp_path: Path, tmp: Path) -> None:
    """One line of 400 MB, gzipped to ~400 KB, read under a 300 MB address-space limit."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    parts = [packer.compress(events(1)), packer.compress(b'{"case": 2, "x": "')]
    block = b"a" * (1 << 20)
    parts += [packer.compress(block) for _ in range(400)]
    parts += [packer.compress(b'"}\n' + events(1, first=3)), packer.flush()]
    (tmp_path / "bomb.jsonl.gz").write_bytes(b"".join(parts))
    assert (tmp_path / "bomb.jsonl.gz").stat().st_size < 1 << 20

    def memory_limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))

    result = command(
        "compute", "bomb.jsonl.gz", "--workers", "1", "--out", "o.jsonl",
        cwd=tmp_path, tmp=tmp, preexec_fn=memory_limit,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = (tmp_path / "o.jsonl").read_text().splitlines()
    assert [json.loads(row)["case_id"] for row in rows] == ["1", "3"]
    (reject,) = (tmp_path / "o.jsonl.rejects.jsonl").read_text().splitlines()
    assert json.loads(reject)["error"].startswith("line too long: expected at most 1048576 bytes")
    with gzip.open(tmp_path / "bomb.jsonl.gz") as bomb:
        assert bomb.read(10) == b'{"case": 1'


@pytest.mark.parametrize("backend", ["json", "orjson"])
def test_an_integer_case_id_of_5000_digits_is_a_reject(
    tmp_path: Path, tmp: Path, backend: str
) -> None:
    huge = b'{"case": ' + b"7" * 5000 + b', "event": "created", "at": "2026-03-02T10:00:00Z"}\n'
    (tmp_path / "in.jsonl").write_bytes(events(1) + huge)
    for flags in ([], ["--grouped"]):
        result = command(
            "compute", "in.jsonl", *flags, "--out", "o.jsonl",
            cwd=tmp_path, tmp=tmp, env={"METRICS_ENGINE_JSON": backend},
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        rejects = (tmp_path / "o.jsonl.rejects.jsonl").read_text().splitlines()
        (reject,) = [json.loads(line) for line in rejects]
        assert reject == {
            "case_id": None,
            "file": "in.jsonl",
            "line": 2,
            "error": "not JSON this reader accepts: expected numbers of at most 4300 digits, "
            "found a longer one",
        }


def test_a_deeply_nested_calendar_is_a_one_line_error(tmp_path: Path, tmp: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(events(1))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    for option in ("--calendar", "--team-calendars"):
        result = command("compute", "in.jsonl", option, "deep.json", cwd=tmp_path, tmp=tmp)
        assert result.returncode == 2
        assert one_line_error(result).endswith(
            "deep.json: expected JSON nested at most about 1,000 levels deep, found more"
        )


def test_a_long_out_name_gets_a_temp_name_that_fits(tmp_path: Path, tmp: Path) -> None:
    """A 241-byte name is legal (its rejects file is 255 bytes, the limit); the temp names
    beside them are cut to fit. A longer one whose rejects name cannot exist: exit 2."""
    (tmp_path / "in.jsonl").write_bytes(events(2))
    name = "m" * 235 + ".jsonl"
    result = command("compute", "in.jsonl", "--out", name, cwd=tmp_path, tmp=tmp)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_bytes().count(b"\n") == 2
    assert names(tmp_path) == sorted(["in.jsonl", name, name + ".rejects.jsonl", "tmp"])
    longer = "n" * 245 + ".jsonl"
    result = command("compute", "in.jsonl", "--out", longer, cwd=tmp_path, tmp=tmp)
    assert result.returncode == 2
    assert one_line_error(result).endswith(
        "expected a file name of at most 255 bytes, found 265 (name the rejects file with "
        "--rejects)"
    )
    result = command(
        "compute", "in.jsonl", "--out", longer, "--rejects", "r.jsonl", cwd=tmp_path, tmp=tmp
    )
    assert result.returncode == 0, result.stderr


def test_the_same_pipe_twice_is_refused(tmp_path: Path, tmp: Path) -> None:
    with Feeder(tmp_path / "in.pipe", events(2)):
        (tmp_path / "again.pipe").symlink_to("in.pipe")
        for second, found in [
            ("in.pipe", "in.pipe twice"),
            ("again.pipe", "in.pipe and again.pipe, one and the same"),
        ]:
            result = command("compute", "in.pipe", second, cwd=tmp_path, tmp=tmp, timeout=30)
            assert result.returncode == 2
            assert one_line_error(result) == (
                "metrics-engine: error: expected each pipe (or stdin) once among the inputs, "
                f"found {found}: it can be read only once"
            )


def test_a_failed_rename_says_exactly_what_was_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the rows' rename fail after the rejects' (it cannot for want of space: both
    files are complete by then), the message names the state left, file by file."""
    (tmp_path / "o.jsonl").write_bytes(PREVIOUS)
    rows_target, rejects_target = plan_outputs(str(tmp_path / "o.jsonl"), None, [])
    pair = OutputPair(_AtomicFile(rows_target), _AtomicFile(rejects_target))
    pair.write_row(b"new rows\n")
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        if target.endswith("o.jsonl"):
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(batch_outputs.os, "replace", replace)
    with pytest.raises(BatchError) as failed:
        pair.commit()
    pair.discard()
    rejects = tmp_path / "o.jsonl.rejects.jsonl"
    assert str(failed.value) == (
        f"cannot write {tmp_path / 'o.jsonl'}: Permission denied; rejects written in full to "
        f"{rejects}; {tmp_path / 'o.jsonl'} left as it was"
    )
    assert (tmp_path / "o.jsonl").read_bytes() == PREVIOUS
    assert rejects.read_bytes() == b""
    assert names(tmp_path) == ["o.jsonl", "o.jsonl.rejects.jsonl"]


def test_validate_with_workers_ends_them_cleanly(tmp_path: Path, tmp: Path) -> None:
    """A clean ``validate --workers 2`` exits 0 with its summary: its workers end of their own
    accord, never killed while the pool still writes to them (that write to a closed pipe
    raised SIGPIPE: exit 141, no summary, in about a third of runs). Eight runs: the race
    then shows nearly always."""
    (tmp_path / "in.jsonl").write_bytes(events(400))
    for _ in range(8):
        result = command("validate", "in.jsonl", "--workers", "2", cwd=tmp_path, tmp=tmp)
        assert result.returncode == 0, result.stderr
        assert result.stdout.endswith(
            b"metrics-engine validate: 1 files, 400 lines, 400 cases, 400 events: clean "
            b"(0 cases with problems, 0 bad lines)\n"
        )


@pytest.mark.parametrize("subcommand", ["validate", "compute"])
def test_a_reader_that_goes_away_is_a_quiet_exit(
    tmp_path: Path, tmp: Path, subcommand: str
) -> None:
    """``metrics-engine validate ... | head -1``: the write that meets the closed pipe and the
    SIGPIPE it raises are one event, never a traceback (the signal may arrive while the
    broken pipe is being handled). Several runs, since the timing varies."""
    source = tmp_path / "events.jsonl"
    source.write_bytes(events(400))
    for _ in range(5):
        process = subprocess.Popen(
            [sys.executable, "-m", "metrics_engine", subcommand, str(source), "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=environment(tmp),
        )
        assert process.stdout is not None
        process.stdout.readline()
        process.stdout.close()
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")
        assert process.returncode in (0, 128 + signal.SIGPIPE), stderr
