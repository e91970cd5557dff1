"""JSON Lines in, metrics out: one case's events read straight from their JSON text.

:func:`compute_metrics_from_lines` gives exactly what :func:`compute_metrics` gives for the
same events decoded with ``json.loads`` — the same metrics, the same error with the same case
and index — and is faster when msgspec (the optional extra ``fast``) is installed.

How. Each line goes through the replay's one loop (:meth:`CaseReplay._feed`); only the step
that turns a stream item into an :class:`Event` differs. With msgspec, a line is decoded into
a typed ``EventLine`` (no dicts for the event, its actor or its keys) and turned into the very
``Event`` that ``parse_event`` builds, with the same checks. Whenever a line is not surely an
ordinary valid event — a shape the fast path does not take, a value the careful parser would
refuse, an unknown kind, text that ``json.loads`` might read otherwise — nothing of the fast
attempt is kept: the line is read with ``json.loads`` and parsed the careful way, which is
then the judge (and words any error). Without msgspec every line takes that way.

What msgspec and ``json.loads`` read differently is kept off the fast path: json refuses
invalid UTF-8 and integers longer than the interpreter's digit limit anywhere in a line, even
under keys that msgspec skips, and nests only as deep as the recursion limit allows; lines
that could hold such things go to json. Everything else they read alike (checked by tests on
random lines).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Literal

from metrics_engine._errors import EventError, MetricsEngineError
from metrics_engine._events import (
    _KIND_BY_NAME,
    _NO_VALUES,
    _ROLES,
    SYSTEM,
    Actor,
    Event,
    Opening,
    _fast_instant,
    _parse_opening,
    _parse_values,
    int_fits,
    parse_instant,
)
from metrics_engine._metrics import CalendarLike, CaseMetrics
from metrics_engine._replay import CaseReplay, _from_epoch, _iso, parse_as_of
from metrics_engine._rules import Rules
from metrics_engine._sla_spec import SlaPolicies, SlaPolicy

try:  # the optional extra ``fast``
    from metrics_engine._fast_structs import (
        UNSET,
        ActorLine,
        DecodeError,
        EventLine,
        decode_line,
    )

    HAVE_STRUCT_DECODER = True
except ImportError:  # pragma: no cover - exercised where msgspec is absent
    HAVE_STRUCT_DECODER = False

__all__ = [
    "HAVE_STRUCT_DECODER",
    "ParsedReplay",
    "compute_metrics_from_lines",
    "events_of_lines",
]

Lines = Iterable[bytes | bytearray | str] | bytes | bytearray | str


def compute_metrics_from_lines(
    lines: Lines,
    calendar: CalendarLike | None = None,
    as_of: str | datetime | None = None,
    strict: bool = True,
    rules: Rules = Rules(),  # noqa: B008 - Rules is frozen, so a shared default is safe
    sla: SlaPolicy | SlaPolicies | None = None,
) -> CaseMetrics:
    """The metrics of one case from its events as JSON text, one event per line.

    ``lines``: an iterable of lines (``bytes`` or ``str``; a file opened in binary mode
    will do), or the whole text. Blank lines are skipped; ``index`` in errors counts the
    events (the other lines). The result, and any error, is what :func:`compute_metrics`
    gives for the lines decoded with ``json.loads``; a line that is not JSON is an
    :class:`EventError` at its index. Faster with msgspec installed (the extra ``fast``).
    """
    replay = _LineReplay(calendar=calendar, strict=strict, rules=rules, sla=sla)
    limit = None if as_of is None else parse_as_of(as_of)
    replay._feed(_event_lines(lines), limit=limit)
    if limit is not None and replay._created_after(limit):
        raise MetricsEngineError(
            f"as_of: expected a time at or after creation, found {_iso(limit)}",
            case=replay._error_case,
        )
    return replay.metrics(as_of=None if limit is None else _from_epoch(limit))


class _LineReplay(CaseReplay):
    """A replay whose stream items are JSON texts rather than decoded events."""

    __slots__ = ()

    def _parse(self, raw: object, index: int) -> Event | None:
        if HAVE_STRUCT_DECODER and isinstance(raw, bytes | str):
            event = _fast_event(raw, self._actors)
            if event is not None:
                if index == 0:
                    self._error_case = event.case_raw  # what the careful way records
                return event
        return super()._parse(self._loaded(raw, index), index)

    def _loaded(self, raw: object, index: int) -> object:
        """``json.loads`` of one line; an :class:`EventError` at ``index`` when not JSON."""
        if not isinstance(raw, bytes | bytearray | str):
            raise EventError(
                f"expected a line of JSON text (bytes or str), found {type(raw).__name__}",
                case=self._error_case,
                index=index,
            )
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            pass
        try:  # again without the line end, which json would blame for a cut-off string
            if isinstance(raw, str):
                return json.loads(raw.rstrip("\r\n"))
            return json.loads(raw.rstrip(b"\r\n"))
        except (ValueError, RecursionError) as error:
            raise EventError(_not_json(error), case=self._error_case, index=index) from None


class ParsedReplay(CaseReplay):
    """A replay whose stream may hold events already parsed by :func:`events_of_lines` beside
    decoded JSON objects (the batch command's workers: each line the fast way when it can)."""

    __slots__ = ()

    def _parse(self, raw: object, index: int) -> Event | None:
        if type(raw) is Event:
            if index == 0:
                self._error_case = raw.case_raw  # what the careful way records
            return raw
        return super()._parse(raw, index)


def events_of_lines(lines: list[tuple[int, bytes]]) -> list[Event | None]:
    """For each ``(ordinal, line)`` of one case, the event of an ordinary valid JSON line as
    the careful parser builds it from the decoded object; ``None`` where the line must be
    decoded and parsed the careful way (every line, without msgspec)."""
    if not HAVE_STRUCT_DECODER:
        return [None] * len(lines)
    actors: dict[tuple[Any, Any], Actor] = {}
    return [_fast_event(line, actors) for _, line in lines]


def _event_lines(lines: Lines) -> Iterator[object]:
    """The non-blank lines of ``lines``; a whole text is split at each newline."""
    if isinstance(lines, bytes | bytearray):
        items: Iterable[object] = bytes(lines).split(b"\n")
    elif isinstance(lines, str):
        items = lines.split("\n")
    elif isinstance(lines, Mapping) or not isinstance(lines, Iterable):
        raise MetricsEngineError(
            "lines: expected JSON text (bytes or str) or an iterable of lines, "
            f"found {type(lines).__name__}"
        )
    else:
        items = lines
    for line in items:
        if isinstance(line, bytes | bytearray):
            if not line or (line[0] != 0x7B and not line.strip(_BLANK_BYTES)):
                continue
        elif isinstance(line, str) and (not line or (line[0] != "{" and not line.strip(_BLANK))):
            continue
        yield line


# Blank means these characters only, as for the batch command (bytes.isspace()).
_BLANK: Final = " \t\n\r\x0b\x0c"
_BLANK_BYTES: Final = b" \t\n\r\x0b\x0c"


def _not_json(error: Exception) -> str:
    """Why json refused a line, in one line (the batch command's words)."""
    if isinstance(error, RecursionError):
        return (
            "not JSON this reader accepts: expected at most about 1,000 nested levels, found more"
        )
    if type(error) is ValueError:  # not a syntax error: an integer beyond Python's limit
        limit = _DIGIT_LIMIT.search(str(error))
        most = f"at most {limit.group(1)} digits" if limit is not None else "fewer digits"
        return f"not JSON this reader accepts: expected numbers of {most}, found a longer one"
    return f"not JSON: {error}"


_DIGIT_LIMIT: Final = re.compile(r"limit \((\d+) digits\)")
_new_tuple: Final = tuple.__new__

# ---------------------------------------------------------------------------- the fast way

# A line that could hold an integer json refuses: more digits in a row than the smallest
# limit an interpreter may set (640). json refuses such integers even under skipped keys.
_FEWEST_LIMIT: Final = 640
_LONG_DIGITS: Final = re.compile(rb"[0-9]{641}")
_LONG_DIGITS_TEXT: Final = re.compile(r"[0-9]{641}")
# A line short enough, or with few enough brackets, nests too shallowly for either reader's
# recursion limit.
_SHORT: Final = 256
_MOST_BRACKETS: Final = 128


def _fast_event(line: bytes | str, actors: dict[tuple[Any, Any], Actor]) -> Event | None:
    """The event of an ordinary valid line, as ``parse_event`` builds it; else ``None``."""
    size = len(line)
    if isinstance(line, str):
        if size > _SHORT and line.count("{") + line.count("[") > _MOST_BRACKETS:
            return None
        if size > _FEWEST_LIMIT and _LONG_DIGITS_TEXT.search(line) is not None:
            return None
    else:
        if size > _SHORT and line.count(b"{") + line.count(b"[") > _MOST_BRACKETS:
            return None
        if size > _FEWEST_LIMIT and _LONG_DIGITS.search(line) is not None:
            return None
        if not line.isascii():
            try:
                line.decode("utf-8", "surrogatepass")  # what json.loads does to bytes
            except UnicodeDecodeError:
                return None
    try:
        decoded = decode_line(line)
    except (DecodeError, ValueError, RecursionError):  # a str with a lone surrogate: ValueError
        return None
    try:
        return _event_of(decoded, actors)
    except EventError:  # a value parse_event refuses: the careful way words it
        return None


def _event_of(line: EventLine, actors: dict[tuple[Any, Any], Actor]) -> Event | None:
    """``parse_event`` on a decoded line: the same Event, or ``None`` to ask the careful way."""
    kind = _KIND_BY_NAME.get(line.event)
    if kind is None:
        return None  # unknown: an error in strict mode, skipped and counted in lenient mode
    case_raw = line.case
    if isinstance(case_raw, str):
        case_key = case_raw
    elif int_fits(case_raw):
        case_key = str(case_raw)
    else:
        return None
    at = _fast_instant(line.at)
    if at is None:  # not the common form: the careful parser's reading (or its refusal)
        at = parse_instant(line.at, "field 'at'")
    actor_line = line.actor
    if actor_line is None:
        actor = SYSTEM
    else:
        memo_key = (actor_line.role, actor_line.id)
        found = actors.get(memo_key)
        if found is None:
            found = _actor_of(actor_line)
            if found is None:
                return None
            actors[memo_key] = found
        actor = found
    event_id = line.id
    if event_id is None or isinstance(event_id, str):
        id_key = event_id
    elif int_fits(event_id):
        id_key = str(event_id)
    else:
        return None
    fields = line.fields
    changes = line.changes
    if (kind != "created" and fields is not UNSET) or (kind != "update" and changes is not UNSET):
        return None  # a key this kind must not carry: the careful way words the error

    values: Mapping[str, Any] = _NO_VALUES
    opening: Opening | Literal[""] = ""
    public = False
    if kind == "message":
        public = line.public is not False  # absent and null mean public
        if not public:
            kind = "note"
    elif kind == "update":
        values = _parse_values(changes if changes is not UNSET else None, "changes", initial=False)
    elif kind == "created":
        initial = _parse_values(fields if fields is not UNSET else None, "fields", initial=True)
        if "requester" not in initial:
            initial["requester"] = actor.key if actor.role == "customer" else None
        values = initial
        opening = _parse_opening(line.opening)
    # The same tuple Event(...) builds, without the Python-level __new__ of a NamedTuple.
    return _new_tuple(Event, (kind, at, actor, id_key, values, opening, public, case_key, case_raw))


def _actor_of(line: ActorLine) -> Actor | None:
    """``_parse_actor`` on a decoded actor object; ``None`` where it would raise."""
    role = _ROLES.get(line.role.lower())
    if role is None:
        return None
    user = line.id
    if role == "system":
        return SYSTEM if user is None or isinstance(user, str) or int_fits(user) else None
    if user is None:
        return None
    if isinstance(user, str):
        return Actor(role, user, user)
    return Actor(role, str(user), user) if int_fits(user) else None
