"""The event model and the parsing of one event (docs/events.md).

An event arrives as a JSON object (a ``dict``) and leaves as an immutable :class:`Event`
whose values are already normalised: instants are UTC epoch seconds truncated toward the
past, ids are compared by their text, role names are folded to ``agent`` / ``customer`` /
``system``, statuses are ``(name, type, sla_active)`` triples. Rules about a *sequence* of
events (order, duplicates, ``created`` first) belong to the replay, not here.

Events are ``NamedTuple``s rather than frozen dataclasses: they are just as immutable and
typed, and about three times cheaper to build, which matters when a batch parses millions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

from dateutil.parser import isoparse

from metrics_engine._errors import EventError

__all__ = [
    "FIELD_NAMES",
    "KINDS",
    "MAX_INT_DIGITS",
    "SYSTEM",
    "Actor",
    "Event",
    "EventKind",
    "Opening",
    "Role",
    "Status",
    "StatusType",
    "Value",
    "id_text",
    "int_fits",
    "parse_event",
    "parse_instant",
]

EventKind = Literal["created", "message", "note", "update"]
Role = Literal["agent", "customer", "system"]
StatusType = Literal["NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED"]
Opening = Literal["message", "note", "none"]

#: Each event kind by its name: a lookup that also types the name.
_KIND_BY_NAME: Final[dict[str, EventKind]] = {
    "created": "created",
    "message": "message",
    "note": "note",
    "update": "update",
}
KINDS: Final = frozenset(_KIND_BY_NAME)

#: The case fields an event can set, in the order they are reported.
FIELD_NAMES: Final = ("requester", "status", "assignee", "team", "priority", "type", "sla")
_FIELD_SET: Final = frozenset(FIELD_NAMES)
_ID_FIELDS: Final = frozenset({"requester", "assignee", "team"})
_STATUS_TYPES: Final[dict[str, StatusType]] = {
    "NEW": "NEW",
    "OPEN": "OPEN",
    "PENDING": "PENDING",
    "COMPLETED": "COMPLETED",
    "CLOSED": "CLOSED",
}
_ROLES: Final[dict[str, Role]] = {
    "agent": "agent",
    "customer": "customer",
    "system": "system",
    "owner": "agent",
    "admin": "agent",
    "collaborator": "agent",
}
_OPENINGS: Final[dict[str, Opening]] = {"message": "message", "note": "note", "none": "none"}

#: A value of priority, type or sla: compared by value, so ``11`` and ``"11"`` differ.
Value = str | int | None


class Status(NamedTuple):
    """A status: its name (what makes two statuses equal), its status type, and the
    ``sla_active`` its object carried (``None`` when it said nothing: docs/sla.md)."""

    name: str
    type: StatusType
    sla_active: bool | None = None


class Actor(NamedTuple):
    """Who did it. ``key`` is the id as text (for comparisons), ``raw`` the id as given."""

    role: Role
    key: str | None
    raw: str | int | None


SYSTEM: Final = Actor("system", None, None)


class Event(NamedTuple):
    """One parsed event.

    ``values`` holds the case fields the event sets: every field for ``created`` (defaults
    filled in), only the known fields present in ``changes`` for ``update``, nothing for
    posts. Ids in it are text; priority, type and sla keep their value; status is a
    :class:`Status`. A private message is parsed as a ``note``.
    """

    kind: EventKind
    at: int
    actor: Actor
    event_id: str | None
    values: Mapping[str, Any]
    opening: Opening | Literal[""]  # "" on every kind but created
    public: bool
    case_key: str
    case_raw: str | int

    def content(self) -> tuple[object, ...]:
        """What two events with one id must share to be the same event (ids by text)."""
        return (
            self.kind,
            self.at,
            self.actor.role,
            self.actor.key,
            tuple(sorted(self.values.items())),  # names are unique: values never compared
            self.opening,
            self.public,
            self.case_key,
        )


#: Integers in events (ids, and priority, type or sla values) have at most this many digits.
#: An id compares by its text, and Python writes an integer as text only up to a limit that
#: each interpreter may set (4300 digits by default, never below 640); a bound under every
#: such limit gives each id the same text everywhere. Longer integers are an error.
MAX_INT_DIGITS: Final = 600
_INT_BOUND: Final = 10**MAX_INT_DIGITS
_TOO_LONG: Final = f"an integer of more than {MAX_INT_DIGITS} digits"


def int_fits(value: int) -> bool:
    """Whether an integer has at most :data:`MAX_INT_DIGITS` digits (and so has a text)."""
    return -_INT_BOUND < value < _INT_BOUND


def id_text(value: object, what: str) -> str:
    """The comparison key of an id: its text. Strings and integers only."""
    if type(value) is str:
        return value
    if type(value) is int and -_INT_BOUND < value < _INT_BOUND:
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)  # an int subclass counts as its plain value
        if -_INT_BOUND < number < _INT_BOUND:
            return str(number)
        raise EventError(
            f"{what}: expected an integer id of at most {MAX_INT_DIGITS} digits, found {_TOO_LONG}"
        )
    raise EventError(f"{what}: expected a string or integer id, found {_show(value)}")


def parse_instant(value: object, what: str) -> int:
    """An ISO-8601 string with an offset, or an aware datetime, as UTC epoch seconds.

    Sub-second parts are dropped toward the past (docs/events.md). ``datetime.fromisoformat``
    reads the usual forms; the ISO forms it refuses (a lower-case ``z``, ``24:00``, the basic
    format without separators) are read with dateutil's ``isoparse``.
    """
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            try:
                moment = isoparse(value)
            except (ValueError, OverflowError):
                raise EventError(
                    f"{what}: expected an ISO-8601 time with an offset, found {_show(value)}"
                ) from None
    elif isinstance(value, datetime):
        moment = value
    else:
        raise EventError(f"{what}: expected an ISO-8601 time string, found {_show(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EventError(f"{what}: expected a time with an offset or Z, found naive {value!s}")
    if moment.microsecond:
        moment = moment.replace(microsecond=0)
    return _in_range(int(moment.timestamp()), what, value)


# Instants whose UTC date is a whole day inside datetime's range, so that every instant can
# be shown in any time zone.
_MIN_EPOCH_SECOND: Final = int(datetime(1, 1, 2, tzinfo=UTC).timestamp())
_MAX_EPOCH_SECOND: Final = int(datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC).timestamp())


def _in_range(epoch_second: int, what: str, value: object) -> int:
    if _MIN_EPOCH_SECOND <= epoch_second <= _MAX_EPOCH_SECOND:
        return epoch_second
    raise EventError(
        f"{what}: expected a time between 0001-01-02 and 9999-12-30 UTC, found {_show(value)}"
    )


_MISSING: Final = object()
_MEMO_ID_TYPES: Final = (str, int, type(None))
_fromisoformat = datetime.fromisoformat
_EPOCH_ORDINAL: Final = datetime(1970, 1, 1).toordinal()


def _fast_instant(stamp: str) -> int | None:
    """The common case of :func:`parse_instant`: a well-formed aware string, whole seconds."""
    try:
        moment = _fromisoformat(stamp)
    except ValueError:
        return None
    offset = moment.utcoffset()
    if offset is None or moment.microsecond:
        return None
    # In integers: what int(moment.timestamp()) gives for whole seconds, and cheaper.
    epoch_second = (
        (moment.toordinal() - _EPOCH_ORDINAL) * 86400
        + moment.hour * 3600
        + moment.minute * 60
        + moment.second
        - offset.days * 86400
        - offset.seconds
    )
    if _MIN_EPOCH_SECOND <= epoch_second <= _MAX_EPOCH_SECOND:
        return epoch_second
    return None


def parse_event(
    raw: object, *, lenient: bool = False, actors: dict[tuple[Any, Any], Actor] | None = None
) -> Event | None:
    """Parse and check one event. Returns ``None`` for an unknown kind when ``lenient``.

    ``actors`` is an optional memo of parsed actors owned by the caller (a case has few
    actors and many events). Raises :class:`EventError` (without case or index: the replay
    adds them).
    """
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise EventError(f"expected an event object, found {_show(raw)}")
    kind_raw = raw.get("event")
    kind = _KIND_BY_NAME.get(kind_raw) if type(kind_raw) is str else None
    if kind is None:
        if lenient and isinstance(kind_raw, str):
            return None
        raise EventError(
            "field 'event': expected one of created, message, note, update, "
            f"found {_show(kind_raw)}"
        )
    if "case" not in raw:
        raise EventError("field 'case': expected a case id, found nothing")
    case_raw = raw["case"]
    case_key = case_raw if type(case_raw) is str else id_text(case_raw, "field 'case'")
    stamp = raw.get("at", _MISSING)
    if stamp is _MISSING:
        raise EventError("field 'at': expected an ISO-8601 time, found nothing")
    at = _fast_instant(stamp) if type(stamp) is str else None
    if at is None:  # not the common case: let the careful parser say what is wrong
        at = parse_instant(stamp, "field 'at'")
    actor_raw = raw.get("actor")
    if actors is None or type(actor_raw) is not dict:
        actor = _parse_actor(actor_raw)
    else:
        memo_key: tuple[Any, Any] = (actor_raw.get("role"), actor_raw.get("id"))
        if type(memo_key[0]) is str and type(memo_key[1]) in _MEMO_ID_TYPES:
            found = actors.get(memo_key)
            if found is None:
                found = actors[memo_key] = _parse_actor(actor_raw)
            actor = found
        else:
            actor = _parse_actor(actor_raw)
    event_id = raw.get("id")
    if event_id is None:
        id_key = None
    else:
        id_key = event_id if type(event_id) is str else id_text(event_id, "field 'id'")

    if kind != "created" and "fields" in raw:
        raise EventError(f"field 'fields': expected only on a created event, found on {kind}")
    if kind != "update" and "changes" in raw:
        raise EventError(f"field 'changes': expected only on an update event, found on {kind}")

    values: Mapping[str, Any] = _NO_VALUES
    opening: Opening | Literal[""] = ""
    public = False
    if kind == "message":
        flag = raw.get("public", True)
        if flag is None:
            flag = True
        if type(flag) is not bool:
            raise EventError(f"field 'public': expected true or false, found {_show(flag)}")
        public = flag
        if not public:
            kind = "note"
    elif kind == "update":
        values = _parse_values(raw.get("changes"), "changes", initial=False)
    elif kind == "created":
        fields = _parse_values(raw.get("fields"), "fields", initial=True)
        if "requester" not in fields:
            # An absent requester defaults to a customer creator.
            fields["requester"] = actor.key if actor.role == "customer" else None
        values = fields
        opening = _parse_opening(raw.get("opening"))
    return Event(kind, at, actor, id_key, values, opening, public, case_key, case_raw)


_NO_VALUES: Final[Mapping[str, Any]] = {}


def _parse_actor(raw: object) -> Actor:
    if raw is None:
        return SYSTEM
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise EventError(f"field 'actor': expected an object with role and id, found {_show(raw)}")
    role_raw = raw.get("role")
    role = _ROLES.get(role_raw.lower()) if isinstance(role_raw, str) else None
    if role is None:
        raise EventError(
            "field 'actor.role': expected agent, customer, system or a Kayako role "
            f"(OWNER, ADMIN, AGENT, COLLABORATOR, CUSTOMER), found {_show(role_raw)}"
        )
    user = raw.get("id")
    if role == "system":
        if user is not None:
            id_text(user, "field 'actor.id'")  # checked, then ignored: the system is nobody
        return SYSTEM
    if user is None:
        raise EventError(f"field 'actor.id': expected the id of the {role}, found nothing")
    key = user if type(user) is str else id_text(user, "field 'actor.id'")
    return Actor(role, key, user if type(user) is str else int(user))


def _parse_opening(raw: object) -> Opening:
    if raw is None:
        return "message"
    opening = _OPENINGS.get(raw.lower()) if isinstance(raw, str) else None
    if opening is not None:
        return opening
    raise EventError(f"field 'opening': expected message, note or none, found {_show(raw)}")


def _parse_values(raw: object, key: str, *, initial: bool) -> dict[str, Any]:
    if raw is None:
        raw = _NO_VALUES
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise EventError(f"field '{key}': expected an object of field values, found {_show(raw)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _FIELD_SET:
            continue  # tags, subject, custom fields: allowed and ignored
        if name == "status":
            values[name] = parse_status(value, f"field '{key}.{name}'")
        elif value is None:
            values[name] = None
        elif name in _ID_FIELDS:
            if type(value) is str:
                values[name] = value
            elif type(value) is int and -_INT_BOUND < value < _INT_BOUND:
                values[name] = str(value)
            else:  # the careful way, which words any error
                values[name] = id_text(value, f"field '{key}.{name}'")
        elif type(value) is str or (type(value) is int and -_INT_BOUND < value < _INT_BOUND):
            values[name] = value
        elif type(value) is int:
            raise EventError(
                f"field '{key}.{name}': expected a string, an integer of at most "
                f"{MAX_INT_DIGITS} digits or null, found {_TOO_LONG}"
            )
        else:
            raise EventError(
                f"field '{key}.{name}': expected a string, an integer or null, found {_show(value)}"
            )
    if initial and "status" not in values:
        values["status"] = _NEW
    return values


_NEW: Final = Status("NEW", "NEW")
# One Status object per status type named by a string (they are values: sharing is safe).
_STATUS_OF_TYPE: Final[dict[str, Status]] = {
    name: Status(status_type, status_type) for name, status_type in _STATUS_TYPES.items()
}


def parse_status(raw: object, where: str) -> Status:
    """A status type name (any case) or ``{"name": ..., "type": ...}`` for a custom one."""
    if isinstance(raw, str):
        shared = _STATUS_OF_TYPE.get(raw.upper())
        if shared is not None:
            return shared
        raise EventError(
            f"{where}: expected NEW, OPEN, PENDING, COMPLETED, CLOSED or a custom status "
            f"object, found {_show(raw)}"
        )
    if isinstance(raw, Mapping):
        name = raw.get("name")
        status_type = raw.get("type")
        if not isinstance(name, str) or not name:
            raise EventError(f"{where}.name: expected a non-empty string, found {_show(name)}")
        known = _STATUS_TYPES.get(status_type.upper()) if isinstance(status_type, str) else None
        if known is None:
            raise EventError(
                f"{where}.type: expected NEW, OPEN, PENDING, COMPLETED or CLOSED, "
                f"found {_show(status_type)}"
            )
        sla_active = raw.get("sla_active", _MISSING)
        if sla_active is _MISSING:
            return Status(name, known)
        if type(sla_active) is not bool:
            raise EventError(
                f"status {_json(name)}: sla_active expected true or false, "
                f"found {_json(sla_active)}"
            )
        return Status(name, known, sla_active)
    if raw is None:
        raise EventError(f"{where}: expected a status, found null")
    raise EventError(f"{where}: expected a status name or object, found {_show(raw)}")


def _json(value: object) -> str:
    """A value as JSON writes it, for the messages worded that way (long ones cut)."""
    if value is None or isinstance(value, bool | int | str):
        try:
            text = json.dumps(value, ensure_ascii=False)
        except ValueError:  # an integer too long for text
            return "an integer too long to write"
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _show(value: object) -> str:
    """A short, one-line rendering of a found value for an error message."""
    if value is None:
        return "null"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long for text, a deep nesting
        return f"{type(value).__name__} (too large to show)"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
