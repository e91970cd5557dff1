"""Hand-written Kayako payloads for the mapping tests, in the embedded layout (``include=*``:
every related resource inline), so that each test reads as the JSON Kayako would send."""

from __future__ import annotations

from typing import Any

from metrics_engine.sources import kayako

ROLES = {
    "AGENT": {"id": 2, "title": "Agent", "type": "AGENT", "resource_type": "role"},
    "CUSTOMER": {"id": 4, "title": "Customer", "type": "CUSTOMER", "resource_type": "role"},
    "ADMIN": {"id": 1, "title": "Admin", "type": "ADMIN", "resource_type": "role"},
}
STATUSES = {
    name: {
        "id": number,
        "label": name.title(),
        "type": name,
        "is_sla_active": name in ("NEW", "OPEN"),
        "resource_type": "case_status",
    }
    for number, name in enumerate(("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED"), 1)
}
T0 = "2026-03-02T09:00:00+00:00"


def user(number: int, role: str = "CUSTOMER", name: str | None = None) -> dict[str, Any]:
    return {
        "id": number,
        "full_name": name or f"User {number}",
        "role": ROLES[role],
        "resource_type": "user",
    }


AGENT = user(5, "AGENT", "Ann Agent")
CUSTOMER = user(17, "CUSTOMER", "Carl Customer")
TRIGGER = {"id": 9, "title": "Reopen on reply", "resource_type": "trigger"}
MONITOR = {"id": 3, "title": "Close after 4 days", "resource_type": "monitor"}


def case(number: int = 1042, created_at: str = T0, **state: Any) -> dict[str, Any]:
    """A case response; ``state`` sets the final values (status NEW, requester 17 by default)."""
    data: dict[str, Any] = {
        "id": number,
        "subject": "Printer on fire",
        "requester": CUSTOMER,
        "creator": CUSTOMER,
        "assigned_agent": None,
        "assigned_team": None,
        "status": STATUSES["NEW"],
        "priority": None,
        "type": None,
        "sla_version": None,
        "created_at": created_at,
        "resource_type": "case",
    }
    data.update(state)
    return {"status": 200, "data": data, "resource": "case"}


def post(
    number: int,
    at: str,
    original: dict[str, Any],
    creator: dict[str, Any] | None = CUSTOMER,
    **extra: Any,
) -> dict[str, Any]:
    channel = {"MAIL": 1, "MESSENGER": 2}[extra.pop("channel", "MAIL")]
    return {
        "id": number,
        "creator": creator,
        "original": original,
        "source_channel": {
            "id": channel,
            "type": "MAIL" if channel == 1 else "MESSENGER",
            "resource_type": "channel",
        },
        "post_status": extra.pop("post_status", "DELIVERED"),
        "created_at": at,
        "updated_at": extra.pop("updated_at", at),
        "resource_type": "post",
        **extra,
    }


def message(
    number: int,
    at: str,
    creator: dict[str, Any] | None = CUSTOMER,
    kind: str = "case_message",
    **extra: Any,
) -> dict[str, Any]:
    return post(
        number, at, {"id": number, "resource_type": kind, "body_text": "hi"}, creator, **extra
    )


def note(
    number: int, at: str, creator: dict[str, Any] | None = AGENT, **extra: Any
) -> dict[str, Any]:
    original = {"id": number, "body_text": "internal", "user": creator, "resource_type": "note"}
    original.update(extra.pop("note", {}))
    return post(number, at, original, creator, post_status="SENT", **extra)


def actor(who: dict[str, Any] | None, name: str | None = None) -> dict[str, Any] | None:
    if who is None:
        return None
    kind = name or ("user" if who["resource_type"] == "user" else who["resource_type"])
    return {
        "name": kind,
        "title": who.get("full_name", who.get("title")),
        "original": who,
        "resource_type": "activity_actor",
    }


def action(field: str, old: Any, new: Any, number: int = 1) -> dict[str, Any]:
    """An action; ``old`` and ``new`` are resources (ids and labels both shown), labels
    (strings: no object, as in many of Kayako's own examples) or None."""

    def value(side: Any) -> Any:
        if isinstance(side, dict):
            return side.get("label") or side.get("title") or side.get("full_name")
        return side

    def obj(side: Any) -> Any:
        return {"original": side, "title": value(side)} if isinstance(side, dict) else None

    return {
        "id": number,
        "action": "UPDATED",
        "field": field,
        "old_value": value(old),
        "new_value": value(new),
        "old_object": obj(old),
        "new_object": obj(new),
        "resource_type": "action",
    }


def activity(
    number: int,
    at: str,
    who: dict[str, Any] | None,
    actions: list[dict[str, Any]] | None = None,
    name: str | None = "update_case",
    verb: str = "UPDATE",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": number,
        "activity": name,
        "verb": verb,
        "actor": extra.pop("actor", actor(who)),
        "actions": actions or [],
        "object": extra.pop(
            "object",
            {"title": "Printer on fire", "original": {"id": 1042, "resource_type": "case"}},
        ),
        "created_at": at,
        "resource_type": "activity",
        **extra,
    }


def activity_post(number: int, act: dict[str, Any]) -> dict[str, Any]:
    """The post that carries an activity in a ``filters=all`` timeline."""
    return post(number, act["created_at"], act, None, post_status="")


def page(*items: dict[str, Any]) -> dict[str, Any]:
    """A posts page, newest first as Kayako returns them."""
    ordered = sorted(items, key=lambda item: (item["created_at"], item["id"]), reverse=True)
    return {"status": 200, "data": ordered, "resource": "post", "total_count": len(items)}


def convert(
    the_case: dict[str, Any],
    *items: dict[str, Any],
    activities: Any = (),
    **directory: Any,
) -> kayako.KayakoConversion:
    directory.setdefault("statuses", list(STATUSES.values()))
    return kayako.convert_case(
        the_case, page(*items), activities, directory=kayako.Directory(**directory)
    )


def at(minutes: int) -> str:
    """T0 plus some minutes."""
    hours, minutes = divmod(minutes, 60)
    return f"2026-03-02T{9 + hours:02d}:{minutes:02d}:00+00:00"
