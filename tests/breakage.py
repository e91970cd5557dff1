"""Ways to break a valid event stream, shared by the tests that feed broken streams."""

from __future__ import annotations

import random
from typing import Any


def break_stream(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """A copy of ``events`` with one to three defects: events swapped (order), an unknown
    kind, a naive ``at``, an event dropped, an event repeated elsewhere."""
    events = [dict(event) for event in events]
    for _ in range(rng.randint(1, 3)):
        if not events:
            break
        i = rng.randrange(len(events))
        how = rng.choice(["swap", "kind", "naive", "drop", "dup"])
        if how == "swap":
            j = rng.randrange(len(events))
            events[i], events[j] = events[j], events[i]
        elif how == "kind":
            events[i]["event"] = "tag_added"
        elif how == "naive":
            events[i]["at"] = str(events[i]["at"])[:19]
        elif how == "drop":
            del events[i]
        else:
            events.insert(i, dict(events[rng.randrange(len(events))]))
    return events
