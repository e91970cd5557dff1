"""The error hierarchy: one base class, a few subclasses, one-line messages.

Every error names what was expected and what was found. Errors about an event carry
``case`` (the case id of the first event of the stream) and ``index`` (the 0-based
position of the offending event in the stream as given); errors with no event carry
``None`` there. ``str(error)`` starts with that context so a log line is enough.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "EventError",
    "MetricsEngineError",
    "SequenceError",
    "StateError",
]


class MetricsEngineError(ValueError):
    """Base class of every error raised by metrics_engine."""

    case: object
    index: int | None
    detail: str

    def __init__(self, detail: str, *, case: object = None, index: int | None = None) -> None:
        # One line, always: a newline in a quoted value must not split a log record.
        self.detail = " ".join(detail.split())
        self.case = case
        self.index = index
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.case is not None:
            where.append(f"case {self.case!r}")
        if self.index is not None:
            where.append(f"event {self.index}")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail

    def locate(self, *, case: object = None, index: int | None = None) -> MetricsEngineError:
        """Fill in the case and index where they are still unknown; return self."""
        if self.case is None:
            self.case = case
        if self.index is None:
            self.index = index
        self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class EventError(MetricsEngineError):
    """One event is malformed: a missing key, a bad type, a bad value."""


class SequenceError(MetricsEngineError):
    """The events are well formed one by one but not as a sequence (order, duplicates...)."""


class CalendarError(MetricsEngineError):
    """A business calendar (or a team-calendar set) is malformed."""


class StateError(MetricsEngineError):
    """A saved replay state cannot be read (wrong version, wrong shape)."""
