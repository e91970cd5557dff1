"""The typed shape a JSON event line is decoded into on the fast path (see ``_fast``).

msgspec reads these annotations when the module runs, so this module stays Python in the
compiled build (``_fast``, which uses it, is compiled). Importing it needs msgspec, from the
optional extra ``fast``.

The shape is loose where the careful parser is loose and strict where it is strict: a line
that does not fit it (a missing ``event``, an ``at`` that is not a string, an id that is a
float...) is not decoded here at all, and goes to ``json.loads`` and the careful parser.
Unknown keys are skipped, as the careful parser ignores them; keys that a given event kind
must not carry (``fields`` on an update...) are kept as "present" (not ``UNSET``) so that
the fast path can hand that line to the careful parser, which words the error.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["UNSET", "ActorLine", "DecodeError", "EventLine", "KeyLine", "decode_key", "decode_line"]

UNSET = msgspec.UNSET
DecodeError = msgspec.DecodeError  # ValidationError (a value of another type) is a subclass


class ActorLine(msgspec.Struct, gc=False):
    """``actor``: a role name and, but for the system, a user id."""

    role: str
    id: str | int | None = None


class EventLine(msgspec.Struct, gc=False):
    """One event as its line spells it; every value still to be checked as parse_event does."""

    event: str
    case: str | int
    at: str
    actor: ActorLine | None = None
    id: str | int | None = None
    public: bool | None = None
    opening: str | None = None
    fields: dict[str, Any] | msgspec.UnsetType | None = UNSET
    changes: dict[str, Any] | msgspec.UnsetType | None = UNSET


decode_line = msgspec.json.Decoder(EventLine).decode


class KeyLine(msgspec.Struct, gc=False):
    """What the batch command's first pass reads of a line: its case id and ``at``."""

    case: str | int
    at: str | None = None


decode_key = msgspec.json.Decoder(KeyLine).decode
