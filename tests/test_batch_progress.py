"""The progress line: a percentage and the time left when the size of the work is known."""

from __future__ import annotations

import io
from pathlib import Path

from metrics_engine._batch.inputs import InputLines, check_sources
from metrics_engine._batch.options import Hooks
from metrics_engine._batch.run import Progress


class _Terminal(io.StringIO):
    """A stream that says it is a terminal and hands back what was written since last asked."""

    def isatty(self) -> bool:
        return True

    def taken(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def test_progress_shows_a_percentage_and_the_time_left() -> None:
    clock = [100.0]
    terminal = _Terminal()
    progress = Progress(enabled=True, hooks=Hooks(clock=lambda: clock[0], progress_stream=terminal))
    progress.update("reading", 0, 0, 0.0)  # the phase starts at 100 s
    clock[0] = 110.0
    progress.update("reading", 20_000, 0, 0.25)  # a quarter in 10 s: 30 s left
    assert terminal.taken() == (
        "\rreading: 25%, about 30s left, 20,000 lines read, 0 cases done, 2,000 lines/s\x1b[K"
    )
    clock[0] = 120.0
    progress.update("computing", 80_000, 10, 0.0)  # a new phase: its own pace
    assert "%" not in terminal.taken()
    clock[0] = 220.0
    progress.update("computing", 80_000, 500, 0.4)  # 40% in 100 s: 150 s left
    assert "40%, about 2m30s left," in terminal.taken()


def test_inputs_say_how_much_was_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"case": 1}\n' * 10_000)  # 120,000 bytes
    lines = InputLines(check_sources([str(path)]))
    assert lines.total_bytes == 120_000
    seen = [lines.fraction() for ordinal, _ in lines if ordinal % 2500 == 0]
    assert None not in seen
    known = [fraction for fraction in seen if fraction is not None]
    assert all(0 < fraction <= 1 for fraction in known)
    assert known == sorted(known)  # never goes back
    assert lines.fraction() is None or lines.fraction() == 1.0
    assert InputLines(check_sources(["-"])).total_bytes is None  # stdin: size unknown
