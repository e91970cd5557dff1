"""The rules a helpdesk may choose differently (docs/metrics.md, "Rules a helpdesk may change")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from metrics_engine._errors import MetricsEngineError

__all__ = ["RESOLUTION_TIME_RULES", "Rules"]

RESOLUTION_TIME_RULES: Final = ("cumulative", "elapsed")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """Rules that differ between helpdesks; ``Rules()`` gives the defaults (docs/metrics.md).

    - ``resolution_time``: ``"cumulative"`` sums the unresolved periods up to the last
      resolution; ``"elapsed"`` is ``resolution_at - created_at``.
    - ``reopen_on_customer_message``: a customer's public post on a COMPLETED case reopens
      it to OPEN right after the post, by the system (Kayako's own behaviour).
    - ``team_only_assignment``: setting a team while no agent is assigned counts as an
      assignment for ``first_assignment_at`` and ``last_assignment_at``.
    """

    resolution_time: Literal["cumulative", "elapsed"] = "cumulative"
    """'cumulative' (default): unresolved periods summed; 'elapsed': resolution_at - created_at."""
    reopen_on_customer_message: bool = False
    """True: a customer's public post on a COMPLETED case reopens it to OPEN (as Kayako does)."""
    team_only_assignment: bool = False
    """True: a team set while no agent is assigned counts for first/last_assignment_at."""

    def __post_init__(self) -> None:
        if self.resolution_time not in RESOLUTION_TIME_RULES:
            raise MetricsEngineError(
                "Rules.resolution_time: expected 'cumulative' or 'elapsed', "
                f"found {self.resolution_time!r}"
            )
        for name in ("reopen_on_customer_message", "team_only_assignment"):
            if type(getattr(self, name)) is not bool:
                raise MetricsEngineError(
                    f"Rules.{name}: expected true or false, found {getattr(self, name)!r}"
                )

    def to_dict(self) -> dict[str, object]:
        return {
            "resolution_time": self.resolution_time,
            "reopen_on_customer_message": self.reopen_on_customer_message,
            "team_only_assignment": self.team_only_assignment,
        }
