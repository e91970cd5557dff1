"""A small renderer for the tests: a metrics_engine event stream → Kayako API responses.

It writes what Kayako would return for the case the stream describes: the final case state,
its posts (``filters=all``, newest first, in pages) with each update as an activity post,
the statuses, users (with roles) and teams. Flat mode first; :func:`embedded`,
:func:`references_only` and :func:`camel` turn a rendering into the other layouts. It is
written from the Kayako documentation (docs/kayako.md), independently of the converter, so
that converting a rendering back and replaying it is a real check.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from metrics_engine._events import parse_instant

BASE = ("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED")
FIELD_NAMES = {
    "requester": "requesterid",
    "status": "casestatusid",
    "assignee": "assigneeagentid",
    "team": "assigneeteamid",
    "priority": "casepriorityid",
    "type": "casetypeid",
    "sla": "slaversionid",
}
AGENT_ROLE = {"id": 2, "title": "Agent", "type": "AGENT", "resource_type": "role"}
CUSTOMER_ROLE = {"id": 4, "title": "Customer", "type": "CUSTOMER", "resource_type": "role"}
TRIGGER = {"id": 9, "title": "Reopen on reply", "resource_type": "trigger"}
MAIL = {"id": 1, "uuid": 1, "type": "MAIL", "account": None, "resource_type": "channel"}


def ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": obj["id"], "resource_type": obj["resource_type"]}


def stamp(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Rendered:
    """One case as Kayako responses, flat mode unless transformed."""

    case: dict[str, Any]
    posts: list[dict[str, Any]]  # pages
    activities: list[dict[str, Any]]  # pages (empty unless asked)
    statuses: dict[str, Any]
    users: list[dict[str, Any]]
    teams: dict[str, Any]
    status_types: dict[int, str]
    user_ids: dict[str, int]  # the stream's user id text → Kayako user id
    team_ids: dict[str, int]  # the stream's team id text → Kayako team id
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


class _Registry:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.users: dict[str, int] = {}
        self.others: dict[tuple[str, object], dict[str, Any]] = {}
        self.status_types: dict[int, str] = {}
        for number, kind in enumerate(BASE, 1):
            self.put(
                "case_status",
                {
                    "id": number,
                    "label": kind.title(),
                    "type": kind,
                    "is_sla_active": kind in ("NEW", "OPEN"),
                    "is_deleted": False,
                },
            )
        for obj in (AGENT_ROLE, CUSTOMER_ROLE, TRIGGER, MAIL):
            self.put(obj["resource_type"], dict(obj))

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj["resource_type"] = kind
        self.objects.setdefault(kind, {})[str(obj["id"])] = obj
        return obj

    def user(self, raw: object, role: str) -> dict[str, Any]:
        text = str(raw)
        if text not in self.users:
            self.users[text] = 100 + len(self.users)
            agent = role == "agent"
            self.put(
                "user",
                {
                    "id": self.users[text],
                    "full_name": f"User {text}",
                    "role": ref(AGENT_ROLE if agent else CUSTOMER_ROLE),
                    "is_enabled": True,
                },
            )
        return self.objects["user"][str(self.users[text])]

    def status(self, value: object) -> dict[str, Any]:
        if isinstance(value, str):
            return self.objects["case_status"][str(BASE.index(value.upper()) + 1)]
        assert isinstance(value, dict)
        key = ("status", value["name"])
        if key not in self.others:
            kind = value["type"].upper()
            number = 10 + len([k for k in self.others if k[0] == "status"])
            self.others[key] = self.put(
                "case_status",
                {
                    "id": number,
                    "label": value["name"],
                    "type": "CUSTOM",
                    "is_sla_active": kind != "PENDING",
                    "is_deleted": False,
                },
            )
            if kind not in ("OPEN", "PENDING"):
                self.status_types[number] = kind
        return self.others[key]

    def other(self, field_name: str, value: object) -> dict[str, Any]:
        kind, label_key = {
            "team": ("team", "title"),
            "priority": ("case_priority", "label"),
            "type": ("case_type", "label"),
            "sla": ("sla_version", "title"),
        }[field_name]
        # Teams compare by their text; the other values by value (1 and "1" differ).
        key = (kind, str(value) if kind == "team" else (type(value).__name__, value))
        if key not in self.others:
            number = 300 + len(self.others)
            name = f"{kind} {value!s}" if kind == "team" else f"{kind} {value!r}"
            self.others[key] = self.put(kind, {"id": number, label_key: name})
        return self.others[key]


def _role(actor: object) -> str:
    if not isinstance(actor, dict):
        return "system"
    role = str(actor.get("role", "")).lower()
    if role in ("agent", "admin", "owner", "collaborator"):
        return "agent"
    return "customer" if role == "customer" else "system"


def render(
    events: list[dict[str, Any]],
    *,
    rng: random.Random | None = None,
    labels_only: frozenset[str] = frozenset(),
    private_as_failed_send: bool = False,
    page_size: int = 3,
    activities_too: bool = False,
    case_id: int = 1,
) -> Rendered:
    """Kayako responses for a valid, duplicate-free stream in which, within each second,
    posts come before updates (the only order Kayako's whole seconds can tell)."""
    rng = rng or random.Random(0)
    reg = _Registry()
    created = events[0]
    creator_role = _role(created.get("actor"))
    state: dict[str, Any] = dict.fromkeys(FIELD_NAMES)
    state["status"] = "NEW"
    fields = created.get("fields") or {}
    if "requester" not in fields and creator_role == "customer":
        state["requester"] = created["actor"]["id"]
    state.update(fields)
    for event in events:  # users first, with the role they act with
        if _role(event.get("actor")) != "system":
            reg.user(event["actor"]["id"], _role(event.get("actor")))

    def value_ref(name: str, value: object) -> dict[str, Any] | None:
        if value is None:
            return None
        if name in ("requester", "assignee"):
            return ref(reg.user(value, "agent" if name == "assignee" else "customer"))
        if name == "status":
            return ref(reg.status(value))
        return ref(reg.other(name, value))

    def author(actor: object) -> dict[str, Any] | None:
        if _role(actor) == "system":
            return ref(TRIGGER)
        assert isinstance(actor, dict)
        return ref(reg.user(actor["id"], _role(actor)))

    posts: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    at0 = parse_instant(created["at"], "at")

    def post(at: int, original: dict[str, Any], creator: object, **extra: Any) -> None:
        number = 1000 + len(posts)
        posts.append(
            {
                "id": number,
                "uuid": f"post-{number}",
                "creator": creator,
                "original": original,
                "source_channel": ref(MAIL)
                if original["resource_type"] == "case_message"
                else None,
                "post_status": extra.pop("post_status", "DELIVERED"),
                "created_at": stamp(at),
                "updated_at": stamp(at),
                "resource_type": "post",
                **extra,
            }
        )

    def message(at: int, actor: object, public: bool) -> None:
        number = len(posts) + 1
        if public or private_as_failed_send:
            original = reg.put("case_message", {"id": number, "body_text": "..."})
            status = "DELIVERED" if public else "REJECTED"
            post(at, ref(original), author(actor), post_status=status)
        else:
            note = reg.put("note", {"id": number, "body_text": "...", "user": author(actor)})
            post(at, ref(note), author(actor), post_status="SENT")

    opening = created.get("opening", "message")
    if opening != "none":
        message(at0, created.get("actor"), opening == "message")
    for event in events[1:]:
        at = parse_instant(event["at"], "at")
        kind = event["event"]
        if kind == "message":
            message(at, event.get("actor"), event.get("public", True) is not False)
        elif kind == "note":
            message(at, event.get("actor"), False)
        elif kind == "update":
            actions = []
            for name, new in (event.get("changes") or {}).items():
                number = 7000 + len(reg.objects.get("action", {}))
                if name not in FIELD_NAMES:
                    action = {"id": number, "field": name, "old_value": "", "new_value": str(new)}
                else:
                    old = state[name]
                    old_ref, new_ref = value_ref(name, old), value_ref(name, new)
                    action = {
                        "id": number,
                        "action": "UPDATED",
                        "field": FIELD_NAMES[name],
                        "old_value": _label(reg, old_ref),
                        "new_value": _label(reg, new_ref),
                    }
                    if name not in labels_only:
                        action["old_object"] = {"original": old_ref} if old_ref else None
                        action["new_object"] = {"original": new_ref} if new_ref else None
                    state[name] = new
                actions.append(ref(reg.put("action", action)))
            actor = event.get("actor")
            activity_actor = None
            if _role(actor) != "system":
                user = reg.user(actor["id"], _role(actor))
                activity_actor = {
                    "name": "user",
                    "title": user["full_name"],
                    "original": ref(user),
                    "resource_type": "activity_actor",
                }
            elif rng.random() < 0.5:
                activity_actor = {
                    "name": "trigger",
                    "title": TRIGGER["title"],
                    "original": ref(TRIGGER),
                    "resource_type": "activity_actor",
                }
            activity = reg.put(
                "activity",
                {
                    "id": 5000 + len(activities),
                    "activity": "update_case",
                    "verb": "UPDATE",
                    "actor": activity_actor,
                    "actions": actions,
                    "object": {"original": {"id": case_id, "resource_type": "case"}},
                    "created_at": stamp(at),
                },
            )
            activities.append(activity)
            post(at, ref(activity), None, post_status="")
    case = {
        "id": case_id,
        "subject": "Rendered case",
        "requester": value_ref("requester", state["requester"]),
        "creator": None if creator_role == "system" else author(created.get("actor")),
        "assigned_agent": value_ref("assignee", state["assignee"]),
        "assigned_team": value_ref("team", state["team"]),
        "status": value_ref("status", state["status"]),
        "priority": value_ref("priority", state["priority"]),
        "type": value_ref("type", state["type"]),
        "sla_version": value_ref("sla", state["sla"]),
        "created_at": stamp(at0),
        "resource_type": "case",
    }
    objects = reg.objects
    newest_first = list(reversed(posts))
    pages = [
        newest_first[start : start + page_size] for start in range(0, len(newest_first), page_size)
    ]
    if len(pages) > 1:  # overlapping pages, in any order
        pages[0] = pages[0] + pages[1][:1]
        rng.shuffle(pages)
    return Rendered(
        case=_flat(case, objects),
        posts=[_flat(page, objects, total=len(posts)) for page in pages],
        activities=[_flat(list(reversed(activities)), objects)] if activities_too else [],
        statuses=_flat(list(objects["case_status"].values()), objects),
        users=[_flat(list(objects.get("user", {}).values()), objects)],
        teams=_flat(list(objects.get("team", {}).values()), objects),
        status_types=dict(reg.status_types),
        user_ids=dict(reg.users),
        team_ids={key[1]: obj["id"] for key, obj in reg.others.items() if key[0] == "team"},
        resources=objects,
    )


def _label(reg: _Registry, value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    obj = reg.objects[value["resource_type"]][str(value["id"])]
    return next(obj[key] for key in ("label", "title", "full_name") if key in obj)


def _refs_in(value: object) -> list[tuple[str, str]]:
    found = []
    if isinstance(value, dict):
        if set(value) <= {"id", "resource_type"} and len(value) == 2:
            found.append((value["resource_type"], str(value["id"])))
        for child in value.values():
            found += _refs_in(child)
    elif isinstance(value, list):
        for child in value:
            found += _refs_in(child)
    return found


def _flat(
    data: Any, objects: dict[str, dict[str, dict[str, Any]]], total: int | None = None
) -> dict[str, Any]:
    """A flat-mode response: ``data`` with references, every resource they reach listed
    once under ``resources``."""
    resources: dict[str, dict[str, Any]] = {}
    todo = _refs_in(data)
    while todo:
        kind, key = todo.pop()
        if kind in objects and key in objects[kind] and key not in resources.get(kind, {}):
            obj = objects[kind][key]
            resources.setdefault(kind, {})[key] = obj
            todo += _refs_in(obj)
    page: dict[str, Any] = {"status": 200, "data": copy.deepcopy(data), "resource": "post"}
    page["resources"] = copy.deepcopy(resources)
    if total is not None:
        page["total_count"] = total
    return page


def embedded(page: dict[str, Any]) -> dict[str, Any]:
    """The same response with ``include=*`` in the default mode: every reference replaced
    by its resource, in place."""
    resources = page.get("resources", {})

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"id", "resource_type"}:
                found = resources.get(value["resource_type"], {}).get(str(value["id"]))
                if found is not None:
                    return inline(found)
            return {key: inline(child) for key, child in value.items()}
        if isinstance(value, list):
            return [inline(child) for child in value]
        return value

    return {key: inline(value) for key, value in page.items() if key != "resources"}


def references_only(page: dict[str, Any], *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The same response without ``include``: references only; the resource types in
    ``keep`` stay embedded (the activities list saved with its actions)."""
    resources = {kind: v for kind, v in page.get("resources", {}).items() if kind in keep}
    return embedded({**page, "resources": resources})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel(value: Any, *, key: str | None = None) -> Any:
    """``_case=camel``: every key, and every ``resource_type`` value, in camelCase."""
    if isinstance(value, dict):
        return {
            _camel(k) if not re.fullmatch(r"[0-9]+", k) else k: camel(v, key=k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel(child) for child in value]
    if key in ("resource_type", "resource") and isinstance(value, str):
        return _camel(value)
    return value


def canonical_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stream without duplicate deliveries, each second's posts before its updates:
    what a Kayako timeline can express (created stays first)."""
    seen: set[str] = set()
    unique = []
    for event in events:
        if "id" in event:
            if str(event["id"]) in seen:
                continue
            seen.add(str(event["id"]))
        unique.append(event)
    head, rest = unique[0], unique[1:]
    rest.sort(key=lambda e: (parse_instant(e["at"], "at"), e["event"] == "update"))
    return [head, *rest]
