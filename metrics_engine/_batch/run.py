"""The state of one batch run, shared by both modes: its temp folder, its worker pool, the
lines the parent rejects itself, the counts, and the progress line."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from metrics_engine._batch.cases import Counts, Job, init_worker, set_worker_job
from metrics_engine._batch.inputs import DEFAULT_MAX_LINE
from metrics_engine._batch.options import Hooks
from metrics_engine._batch.outputs import utf8
from metrics_engine._batch.signals import PoolGuard, start_pool, stop_pool
from metrics_engine._batch.spill import Record, RejectedLines, temp_error

__all__ = ["Progress", "Run"]


class Progress:
    """One self-rewriting line on stderr: only on a terminal and after two seconds."""

    def __init__(self, enabled: bool, hooks: Hooks) -> None:
        stream = hooks.progress_stream if hooks.progress_stream is not None else sys.stderr
        self.enabled = enabled and stream is not None and stream.isatty()
        self.stream = stream
        self.clock = hooks.clock
        self.started = self.clock()
        self._last = 0.0
        self._shown = False
        self._phase = ""
        self._phase_started = self.started

    def update(
        self, phase: str, lines_read: int, cases: int, fraction: float | None = None
    ) -> None:
        """``fraction``: how much of this phase is done (0 to 1), when it is known; the line
        then shows a percentage and the time left at this phase's pace so far."""
        if not self.enabled:
            return
        now = self.clock()
        if phase != self._phase:
            self._phase, self._phase_started = phase, now
        elapsed = now - self.started
        if elapsed < 2.0 or now - self._last < 0.5:
            return
        self._last = now
        rate = lines_read / elapsed if elapsed else 0.0
        done = ""
        if fraction is not None and fraction > 0:
            left = (now - self._phase_started) * (1 - fraction) / fraction
            done = f" {fraction:.0%}, about {_duration(left)} left,"
        self.stream.write(
            f"\r{phase}:{done} {lines_read:,} lines read, {cases:,} cases done, "
            f"{rate:,.0f} lines/s\x1b[K"
        )
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def _duration(seconds: float) -> str:
    """``45s``, ``3m05s``, ``2h10m``: the time left, to the second under an hour."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Run:
    """State shared by both modes: temp folder, pool, parent-side rejects, counts."""

    def __init__(
        self,
        job: Job,
        workers: int,
        quiet: bool,
        max_line: int = DEFAULT_MAX_LINE,
        hooks: Hooks | None = None,
    ) -> None:
        hooks = hooks if hooks is not None else Hooks()
        self.job = job
        self.workers = workers
        self.max_line = max_line
        self.progress = Progress(not quiet, hooks)
        self.counts = Counts()
        try:
            self.folder = tempfile.mkdtemp(prefix="metrics-engine-", dir=hooks.temp_root)
        except OSError as error:
            where = hooks.temp_root if hooks.temp_root is not None else tempfile.gettempdir()
            raise temp_error(where, error) from None
        self.pool: ProcessPoolExecutor | None = None
        self._guard: PoolGuard | None = None
        # lines the parent already knows are not events: (ordinal, error)
        self.rejected = RejectedLines(
            self.folder, "parent-rejects", job.tuning.parent_rejects_in_memory
        )
        self._other_rejects: list[Callable[[], Iterator[Record]]] = []  # add_reject_stream

    def start_pool(self, workers: int) -> ProcessPoolExecutor | None:
        if workers <= 1:
            set_worker_job(self.job)
            return None
        self.pool, self._guard = start_pool(workers, init_worker, (self.job,))
        return self.pool

    def stop_pool(self, *, kill: bool = False) -> None:
        """Shut the pool down (``kill``: end its workers now, the run has failed)."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            stop_pool(pool, self._guard, kill=kill)

    def reject_line(self, ordinal: int, error: str) -> None:
        self.rejected.add(ordinal, utf8(error))
        self.counts.line_rejects += 1

    def add_reject_stream(self, stream: Callable[[], Iterator[Record]], count: int) -> None:
        """Lines rejected by a worker reading a byte range of the input: ``stream()`` gives
        them in ordinal order (each time it is called)."""
        self._other_rejects.append(stream)
        self.counts.line_rejects += count

    def parent_reject_streams(self) -> list[Iterator[Record]]:
        streams = [self.rejected.read()]
        streams.extend(stream() for stream in self._other_rejects)
        return streams

    def close(self) -> None:
        """Workers ended, temp folder removed. Safe to call again."""
        set_worker_job(None)
        self.stop_pool(kill=True)  # a run that succeeded has stopped it already
        shutil.rmtree(self.folder, ignore_errors=True)
        self.progress.clear()
