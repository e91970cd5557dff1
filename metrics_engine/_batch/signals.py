"""Signals and worker processes of a run (batch layer): clean exits, no orphans.

The command traps HUP, INT, QUIT, PIPE and TERM (each one that was not ignored when it
started, as GNU sort does; PIPE always, since Python itself ignores it at start-up). The
first of them raises :class:`Interrupted` in the main thread, so that the run's ``finally``
blocks remove its temp files and kill its workers, and the command exits with 128 + the
signal number. Later signals are ignored: they cannot cut that cleanup short. A block that
must not be cut in two (renaming the two outputs) runs :func:`deferred`: a signal that comes
meanwhile takes effect when the block is done.

Workers never outlive the command: each one watches a pipe whose only writer is the parent
and leaves as soon as it reads end-of-file, which happens when the parent closes it (end of
the pool) or dies (even by SIGKILL: the kernel closes its descriptors). Workers ignore the
terminal's INT, QUIT and HUP, which reach the whole process group: the parent decides.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from types import FrameType
from typing import Any, Final

__all__ = [
    "CAUGHT",
    "Interrupted",
    "PoolGuard",
    "deferred",
    "start_pool",
    "stop_pool",
    "trapped",
    "watch_parent",
]

#: The signals the command cleans up after (a terminal hang-up, Ctrl-C, Ctrl-\, a closed
#: pipe, kill).
CAUGHT: Final = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A trapped signal stopped the run; ``outcome`` says what had been written by then."""

    def __init__(self, signum: int, outcome: str | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.outcome = outcome

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @classmethod
    def of(cls, caught: KeyboardInterrupt, outcome: str) -> Interrupted:
        """``caught`` as an :class:`Interrupted` (a bare one is Ctrl-C without our handlers),
        with ``outcome`` unless it says already."""
        if not isinstance(caught, Interrupted):
            return cls(signal.SIGINT, outcome)
        caught.outcome = caught.outcome or outcome
        return caught


class _Trap:
    """State of the handlers: set up by :func:`trapped`, in the main thread only."""

    def __init__(self) -> None:
        self.fired: int | None = None  # the first signal received
        self.deferring = 0  # depth of deferred() blocks
        self.raised = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.fired is not None:
            return  # one interruption is enough: never cut the cleanup short
        self.fired = signum
        if signum == signal.SIGPIPE and isinstance(sys.exc_info()[1], BrokenPipeError):
            return  # the write that raised it is being handled already: one is enough
        if self.deferring:
            return  # raised when the deferred block ends
        self.raised = True
        raise Interrupted(signum)


_TRAP: _Trap | None = None


@contextlib.contextmanager
def trapped() -> Iterator[None]:
    """Trap the signals of :data:`CAUGHT` for the duration of the block (main thread only)."""
    global _TRAP
    if threading.current_thread() is not threading.main_thread() or _TRAP is not None:
        yield
        return
    trap = _Trap()
    previous: dict[int, Any] = {}
    for signum in map(int, CAUGHT):
        current = signal.getsignal(signum)
        if current == signal.SIG_IGN and signum != signal.SIGPIPE:
            continue  # ignored by whoever started us (nohup): keep it so
        previous[signum] = signal.signal(signum, trap.handler)
    _TRAP = trap
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _TRAP = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A trapped signal received inside the block raises when the block is done."""
    trap = _TRAP
    if trap is None:
        yield
        return
    trap.deferring += 1
    try:
        yield
    finally:
        trap.deferring -= 1
    if not trap.deferring and trap.fired is not None and not trap.raised:
        trap.raised = True
        raise Interrupted(trap.fired)


# ====================================================================== workers


class PoolGuard:
    """The pipe that ties workers to the parent: closing it (or dying) ends every worker."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()

    def close(self) -> None:
        """End every worker at once (they read end-of-file)."""
        for fd in (self.write_fd, self.read_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.write_fd = self.read_fd = -1


def watch_parent(guard: PoolGuard | None) -> None:
    """In a worker: leave when the parent ends the pool or dies; leave the terminal's
    signals to the parent. ``guard`` is None when the worker was not forked (it then polls
    its parent id, since descriptors are not inherited)."""
    for ignored in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(ignored, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)
    if guard is not None:
        os.close(guard.write_fd)  # the parent must be the only writer, or EOF never comes
    parent = os.getppid()
    thread = threading.Thread(
        target=_wait_for_eof if guard is not None else _poll_parent,
        args=(guard.read_fd,) if guard is not None else (parent,),
        name="metrics-engine parent watch",
        daemon=True,
    )
    thread.start()


def _wait_for_eof(read_fd: int) -> None:  # pragma: no cover - runs in a worker
    with contextlib.suppress(OSError):
        while os.read(read_fd, 1):
            pass
    os._exit(128 + signal.SIGHUP)


def _poll_parent(parent: int) -> None:  # pragma: no cover - runs in a worker
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(128 + signal.SIGHUP)


def _leave(signum: int, frame: object) -> None:  # pragma: no cover - runs in a worker
    os._exit(128 + signum)


def start_pool(
    workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
) -> tuple[ProcessPoolExecutor, PoolGuard | None]:
    """A process pool whose workers end with the parent. ``initializer`` is called with
    ``initargs`` and then the guard, and must call :func:`watch_parent` with it.

    Workers are forked where the system can (the guard's pipe is inherited that way);
    elsewhere they poll their parent's id instead.
    """
    if "fork" in multiprocessing.get_all_start_methods():
        guard: PoolGuard | None = PoolGuard()
        context = multiprocessing.get_context("fork")
    else:  # pragma: no cover - not Linux
        guard, context = None, None
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=initializer,
        initargs=(*initargs, guard),
    )
    return pool, guard


def stop_pool(pool: ProcessPoolExecutor, guard: PoolGuard | None, *, kill: bool) -> None:
    """Shut the pool down; with ``kill`` (the run failed or was interrupted) end its workers
    at once rather than let them finish their tasks."""
    if kill and guard is not None:
        guard.close()  # every worker reads end-of-file and leaves
    pool.shutdown(wait=True, cancel_futures=True)  # joins the worker processes
    if guard is not None:
        guard.close()
