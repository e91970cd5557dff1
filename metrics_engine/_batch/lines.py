"""One input line: the JSON backend, whether the line is an event, its case id and ``at``.

Reading: ``orjson`` when it is installed (the optional extra ``fast``), else ``json``;
``METRICS_ENGINE_JSON=json`` forces json. With ``orjson``, results are identical to the stdlib
path by construction: anything orjson refuses is re-read with ``json``; orjson reads integers
beyond 64 bits as floats, which the library refuses for every id and value, so a case that
fails is re-read with ``json`` before it is rejected (see ``cases``).

The parent needs only a line's case id and ``at``: with orjson a full parse is the cheapest
way to them; without it, a pinned-down byte search that falls back to ``json`` whenever it
could be fooled. The default ``as_of`` is kept exact cheaply: per UTC-offset spelling the
latest ``YYYY-MM-DDTHH:MM:SS±HH:MM`` string is the latest instant (a string comparison); only
the winners are parsed, and the winning line is re-read in full to be sure it is a real event.
When it is not (a truncated line, say), an exact scan decides (rare, and correct either way).

No file is opened here: lines come in as bytes.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, Final

from metrics_engine._errors import MetricsEngineError
from metrics_engine._events import id_text, int_fits, parse_instant
from metrics_engine._fast import HAVE_STRUCT_DECODER

if HAVE_STRUCT_DECODER:
    from metrics_engine._fast_structs import DecodeError, decode_key

try:  # the optional extra ``fast``
    import orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    orjson = None  # type: ignore[assignment,unused-ignore]

__all__ = [
    "PLAIN_AT",
    "RESCAN",
    "Extracted",
    "LatestAt",
    "exact_latest_at",
    "extract_cheap",
    "extract_std",
    "json_backend",
    "key_struct",
    "orjson",
    "read_event_fast",
    "read_event_std",
    "std_loads",
    "struct_decoding",
]


# ====================================================================== JSON


def json_backend() -> str:
    """``"orjson"`` or ``"json"``: what reads lines. ``METRICS_ENGINE_JSON=json`` forces json."""
    if orjson is not None and os.environ.get("METRICS_ENGINE_JSON", "").lower() != "json":
        return "orjson"
    return "json"


def struct_decoding() -> bool:
    """Whether workers parse lines straight into events with msgspec (the extra ``fast``);
    ``METRICS_ENGINE_JSON=json`` turns it off with orjson."""
    forced = os.environ.get("METRICS_ENGINE_JSON", "").lower() == "json"
    return HAVE_STRUCT_DECODER and not forced


def key_struct(line: bytes) -> tuple[str | None, str | None]:
    """(case id text, ``at`` when a string) of a line msgspec reads as an object with a
    usable case id, else (None, None). Only a guess where json would refuse the line (bytes
    that are not UTF-8 under a key msgspec skips, say): the worker that parses it decides."""
    try:
        found = decode_key(line)
    except (DecodeError, ValueError, RecursionError):
        return None, None
    case = found.case
    if isinstance(case, str):
        return case, found.at
    if int_fits(case):
        return str(case), found.at
    return None, None


def std_loads(line: bytes) -> Any:
    return json.loads(line)


def _not_event(value: object) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value))
    if kind is None:
        kind = "null" if value is None else "number"
    return f"expected a JSON object (one event), found a JSON {kind}"


def _check_event(obj: Any) -> tuple[Any, str | None, str | None]:
    """(event, case id text, None) for an object with a usable case id; else (None, None, why)."""
    if type(obj) is not dict:
        return None, None, _not_event(obj)
    if "case" not in obj:
        return None, None, "field 'case': expected a case id, found nothing"
    case = obj["case"]
    if type(case) is str:
        return obj, case, None
    if type(case) is int and int_fits(case):
        return obj, str(case), None
    try:  # the careful way: any other id, or why it is none
        return obj, id_text(case, "field 'case'"), None
    except MetricsEngineError as error:
        return None, None, error.detail


def read_event_std(line: bytes) -> tuple[Any, str | None, str | None]:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        try:  # again without the newline, which json would blame for a cut-off string
            obj = json.loads(line.rstrip(b"\r\n"))
        except (ValueError, RecursionError) as error:
            return None, None, _not_json(error)
    return _check_event(obj)


def _not_json(error: Exception) -> str:
    """Why json refused a line, in one line (never Python's advice on its own settings)."""
    if isinstance(error, RecursionError):
        return (
            "not JSON this reader accepts: expected at most about 1,000 nested levels, found more"
        )
    if type(error) is ValueError:  # not a syntax error: an integer beyond Python's limit
        limit = sys.get_int_max_str_digits()
        return (
            f"not JSON this reader accepts: expected numbers of at most {limit} digits, "
            "found a longer one"
        )
    return f"not JSON: {error}"


def read_event_fast(line: bytes) -> tuple[Any, str | None, str | None]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return read_event_std(line)  # NaN, lone surrogates, BOM...: json decides
    if type(obj) is dict:
        case = obj.get("case")
        if type(case) is str:
            return obj, case, None
        if type(case) is int:
            return obj, str(case), None
    # Not an event, or a case id orjson may have misread (an integer beyond 64 bits becomes
    # a float): json decides, and words the error.
    return read_event_std(line)


# ====================================================================== extraction
# What the parent needs from a line: the case id text, the raw ``at`` string, or why the line
# is not an event at all. ``extract`` returns (key, at, error, parsed event or None).

Extracted = tuple[str | None, str | None, str | None, Any]

# ``"case"`` then an integer or a string without escapes; ``"at"`` then a string without escapes.
# An integer of more digits than ``int()`` reads by default goes to json, which decides.
_CASE_VALUE = re.compile(rb'"case"\s*:\s*(?:(-?[0-9]{1,4300})(?=\s*[,}])|"([^"\\]*)")')
_AT_VALUE = re.compile(rb'"at"\s*:\s*"([^"\\]*)"')


def _extract_full(
    line: bytes, read: Callable[[bytes], tuple[Any, str | None, str | None]]
) -> Extracted:
    obj, key, error = read(line)
    if error is not None:
        return None, None, error, None
    at = obj.get("at")
    return key, at if type(at) is str else None, None, obj


def extract_std(line: bytes) -> Extracted:
    return _extract_full(line, read_event_std)


def extract_cheap(line: bytes) -> Extracted:
    """Case id and ``at`` without parsing the line; the full parser whenever in doubt.

    Why it cannot be fooled on a valid event: without ``\\u`` escapes a key is spelled
    literally, and inside a JSON string a quote is escaped, so the only ``"case"`` token
    followed by a colon is a key. When it occurs once, it is the top-level key if the line
    has one; when the line has none, the line is rejected later whatever we guessed here.
    A line that is not JSON is found (and rejected) by the worker that parses it.
    """
    if b"\\u" in line:
        return extract_std(line)
    i = line.find(b'"case"')
    if i < 0 or line.find(b'"case"', i + 6) >= 0:
        return extract_std(line)
    match = _CASE_VALUE.match(line, i)
    if match is None:
        return extract_std(line)
    number, text = match.groups()
    try:
        key = str(int(number)) if number is not None else text.decode()
    except UnicodeDecodeError:
        return extract_std(line)
    at = None
    j = line.find(b'"at"')
    if j >= 0:
        if line.find(b'"at"', j + 4) >= 0:
            return extract_std(line)
        found = _AT_VALUE.match(line, j)
        if found is not None:
            try:
                at = found.group(1).decode()
            except UnicodeDecodeError:
                return extract_std(line)
    return key, at, None, None


# ====================================================================== latest ``at``

PLAIN_AT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
RESCAN: Final = -(2**63)  # "the cheap answer is not sure": scan exactly


class LatestAt:
    """The latest ``at`` of the input, at the cost of a string comparison per line.

    Within one offset spelling (``Z``, ``-05:00``...), ``YYYY-MM-DDTHH:MM:SS`` strings sort
    as their instants do, so only the latest string of each spelling needs parsing.
    """

    __slots__ = ("_other", "by_offset")

    def __init__(self) -> None:
        # offset spelling -> [latest "YYYY-MM-DDTHH:MM:SS" seen with it, its line]
        self.by_offset: dict[str, list[Any]] = {}
        self._other: list[Any] | None = None  # [epoch second, line] for other spellings

    # Noting an ``at`` is inlined in the hot loop, ``scan.event_lines``: a plain spelling
    # updates ``by_offset`` by string comparison; any other goes to ``note_other``.

    def note_other(self, at: str, line: bytes) -> None:
        """An ``at`` not spelled ``YYYY-MM-DDTHH:MM:SS±HH:MM``: parsed."""
        try:
            epoch = parse_instant(at, "at")
        except MetricsEngineError:
            return  # not an instant: this event is rejected anyway
        if self._other is None or epoch > self._other[0]:
            self._other = [epoch, line]

    def result(self) -> int | None:
        """Epoch second of the latest ``at`` of a real event; ``None``: no event; or RESCAN."""
        candidates: list[tuple[int, bytes]] = []
        for offset, (stamp, line) in self.by_offset.items():
            try:
                candidates.append((parse_instant(stamp + offset, "at"), line))
            except MetricsEngineError:
                return RESCAN  # the latest string is no date (month 13...): look closer
        if self._other is not None:
            candidates.append((self._other[0], self._other[1]))
        if not candidates:
            return None
        latest = max(epoch for epoch, _ in candidates)
        for epoch, line in candidates:
            if epoch == latest and _event_at(line) == latest:
                return latest
        return RESCAN


def _event_at(line: bytes) -> int | None:
    """The ``at`` of a line that is a real event (JSON object, usable case id), else None."""
    obj, _, error = read_event_std(line)
    if error is not None:
        return None
    try:
        return parse_instant(obj.get("at"), "at")
    except MetricsEngineError:
        return None


def exact_latest_at(lines: Iterable[bytes]) -> int | None:
    latest: int | None = None
    for line in lines:
        at = _event_at(line)
        if at is not None and (latest is None or at > latest):
            latest = at
    return latest
