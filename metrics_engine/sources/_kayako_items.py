"""One Kayako post or activity → one mapped step, or one line of the report.

The catalogue of what each Kayako timeline item becomes lives here (docs/kayako.md explains
each choice): public posts are messages, notes and side conversations are notes, case
updates are updates, and everything else (breaches, merges, ratings, integration events, the
requester's own help-centre journey, notes on the user or the organization) is listed in the
report with its reason. Values are not resolved here: an update keeps both sides of each
action as Kayako wrote them (:class:`Side`), for the rewinding step to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

from metrics_engine._errors import EventError
from metrics_engine._events import parse_instant
from metrics_engine.sources._kayako_layouts import Index, KayakoError, Obj, canonical_type, id_key

__all__ = [
    "TRACKED_FIELDS",
    "Actor",
    "ItemReader",
    "Side",
    "Step",
    "Unmapped",
    "instant",
]

#: Kayako's action ``field`` → the case field of an event.
TRACKED_FIELDS: Final = {
    "requesterid": "requester",
    "casestatusid": "status",
    "assigneeagentid": "assignee",
    "assigneeteamid": "team",
    "casepriorityid": "priority",
    "casetypeid": "type",
    "slaversionid": "sla",
}
_EVENT_FIELDS: Final = frozenset(TRACKED_FIELDS.values())

#: Post kinds the customer sees (``post.original.resource_type``).
PUBLIC_KINDS: Final = frozenset(
    {
        "case_message",
        "chat_message",
        "facebook_message",
        "facebook_post",
        "facebook_comment",
        "twitter_tweet",
        "twitter_message",
    }
)
#: ``post_status`` of a message that never reached the customer.
FAILED_SENDS: Final = frozenset({"REJECTED", "NOT_SENT"})
#: Activities that change the case: their actions become an update.
_UPDATES: Final = frozenset({"update_case", "create_tag"})
_ROLES: Final = frozenset({"OWNER", "ADMIN", "AGENT", "COLLABORATOR", "CUSTOMER"})
_USER_TYPES: Final = frozenset({"user"})

_NOT_THIS_CASE = "not an event of this case"
#: Activities that appear in a case timeline without being about the case, and why.
FOREIGN: Final = {
    "create_user_note": "a note on the requester's user record, " + _NOT_THIS_CASE,
    "create_organization_note": "a note on the requester's organization, " + _NOT_THIS_CASE,
    "view_article": "the requester's help-centre activity, " + _NOT_THIS_CASE,
    "search_helpcenter": "the requester's help-centre activity, " + _NOT_THIS_CASE,
    "create_helpcenter_comment": "the requester's help-centre activity, " + _NOT_THIS_CASE,
    "engage_user": "a Messenger engagement shown to the requester, " + _NOT_THIS_CASE,
    "article_suggestion": "an article suggestion shown to the requester, " + _NOT_THIS_CASE,
    "view_suggested_article": "an article suggestion shown to the requester, " + _NOT_THIS_CASE,
    "suggestion_helpful": "an article suggestion shown to the requester, " + _NOT_THIS_CASE,
    "suggestion_not_helpful": "an article suggestion shown to the requester, " + _NOT_THIS_CASE,
    "suggestion_case_completed": "an article suggestion shown to the requester, " + _NOT_THIS_CASE,
}
#: Case activities that change nothing an event can say, and why they are left out.
SET_ASIDE: Final = {
    "breach_case": "an SLA breach changes no case field (SLA clocks follow from the events)",
    "merge_case": "another case was merged in; its own history is not replayed here",
    "create_case_rating": "a satisfaction rating is not a case event",
    "update_case_rating": "a satisfaction rating is not a case event",
}

Actor = dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Unmapped:
    """One item of a case's timeline that became no event, and why."""

    kind: str  # Kayako's name for it: a post kind, an activity name, "event", "activity"
    id: str  # "post:<id>" or "activity:<id>", as its event id would have been
    reason: str
    post: str | None = None  # the post that carried an activity, as text

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "reason": self.reason, "post": self.post}


class Side(NamedTuple):
    """One side (old or new) of a Kayako action, as written: an id, a label, or null."""

    key: str | None  # the id as text, from ``*_object.original`` (or the case's reference)
    raw: str | int | None  # the id as given
    label: str | None  # the display string (``old_value`` / ``new_value``, or a title)

    @property
    def null(self) -> bool:
        return self.key is None and self.label is None


class Step(NamedTuple):
    """A mapped item, its values still as Kayako wrote them (a tuple: cheap to build)."""

    kind: Literal["message", "note", "update"]
    origin: str  # Kayako's name for the item (post kind or activity name), for the report
    at: int  # UTC epoch second
    event_id: str
    order: tuple[int, int, int, str]  # at, posts before activities, then the id
    actor: Actor
    post: str | None = None  # the post it came from, as text
    channel: str | None = None
    public: bool = True
    changes: tuple[tuple[str, Side, Side], ...] = ()  # (case field, old, new)
    ignored: tuple[tuple[str, object], ...] = ()  # other Kayako fields: (name, new value)


def instant(value: object, where: str) -> int:
    """A Kayako timestamp as a UTC epoch second (fractions dropped)."""
    try:
        return parse_instant(value, where)
    except EventError as error:
        raise KayakoError(error.detail) from None


def _order_key(key: str) -> tuple[int, str]:
    """Ids sort as numbers when they are numbers."""
    return (0, key.rjust(20, "0")) if key.isdigit() else (1, key)


def _side(value: object, obj: object) -> Side:
    """An action's side from ``*_value`` and ``*_object``."""
    label = value if isinstance(value, str) and value != "" else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        label = str(value)
    original = obj.get("original") if isinstance(obj, dict) else None
    if not isinstance(original, dict):
        original = obj if isinstance(obj, dict) and "id" in obj else None
    raw = original.get("id") if original is not None else None
    key = id_key(raw)
    if label is None and isinstance(obj, dict):
        title = obj.get("title") or obj.get("full_title")
        label = title if isinstance(title, str) and title else None
    return Side(key, raw if key is not None else None, label)


class ItemReader:
    """Maps the posts and activities of one case; collects the report."""

    def __init__(self, case_key: str, index: Index) -> None:
        self.case_key = case_key
        self.index = index
        self.report: list[Unmapped] = []
        self._actors: dict[str, Actor] = {}
        self._channels: dict[object, str | None] = {}

    # ------------------------------------------------------------------ actors

    def actor(self, ref: object, where: str) -> Actor:
        """A user reference → ``{"id", "role"}``; a rule, a bot or nothing → system (None)."""
        if not isinstance(ref, dict):
            return None
        original = ref.get("original") if "original" in ref else ref
        if not isinstance(original, dict):
            return None
        if canonical_type(original.get("resource_type")) not in _USER_TYPES:
            return None  # trigger, monitor, SLA version, engagement: the system
        key = id_key(original.get("id"))
        if key is None:
            raise KayakoError(f"{where}: expected a user id, found {original.get('id')!r:.40}")
        if key not in self._actors:
            self._actors[key] = {"id": original["id"], "role": self._role(original, key, where)}
        return self._actors[key]

    def _role(self, ref: Obj, key: str, where: str) -> str:
        user = self.index.resolve(ref, "role")
        role = user.get("role") if user is not None else None
        if isinstance(role, dict):
            role = (self.index.resolve(role, "type") or {}).get("type")
        if isinstance(role, str) and role.upper() in _ROLES:
            return role.upper()
        found = (
            "no user record"
            if user is None
            else "a user without a role"
            if role is None
            else f"role type {role!r:.40}"
        )
        raise KayakoError(
            f"{where}: user {key}: expected a user record with a role of type OWNER, ADMIN, "
            f"AGENT, COLLABORATOR or CUSTOMER (users-*.json, or saved with include=user,role), "
            f"found {found}"
        )

    # ------------------------------------------------------------------ posts

    def post(self, post: Obj, activity: Obj | None) -> Step | None:
        """A post → a step, or ``None`` with a report line. ``activity``: its original when
        the post carries one (already looked up)."""
        key = id_key(post.get("id")) or "?"
        original = post.get("original")
        kind = canonical_type(original.get("resource_type")) if isinstance(original, dict) else None
        where = f"post {key}"
        at = instant(post.get("created_at"), f"{where} created_at")
        if kind == "activity":
            assert activity is not None
            return self.activity(activity, at, key)
        event_id = f"post:{key}"
        if kind is None:
            self._set_aside("post", event_id, "a post without 'original': its kind is unknown")
            return None
        order = (at, 0, *_order_key(key))
        if kind in PUBLIC_KINDS:
            status = post.get("post_status")
            return Step(
                "message",
                kind,
                at,
                event_id,
                order,
                self.actor(post.get("creator"), where),
                post=key,
                channel=self._channel(post.get("source_channel")),
                public=not (isinstance(status, str) and status.upper() in FAILED_SENDS),
            )
        if kind in ("note", "side_conversation"):
            note = self.index.resolve(original) if kind == "note" else None
            if note is not None and note.get("is_ai_draft") is True:
                self._set_aside(kind, event_id, "an AI draft, not written by the agent")
                return None
            creator = post.get("creator")
            if creator is None and note is not None:
                creator = note.get("user")
            return Step("note", kind, at, event_id, order, self.actor(creator, where), post=key)
        if kind == "case_shadow_post":
            self._set_aside(kind, event_id, "a placeholder post with no content")
            return None
        self._set_aside(kind, event_id, f"unknown post kind {kind!r}")
        return None

    def _channel(self, ref: object) -> str | None:
        """The channel type of a post (MAIL, MESSENGER...), when the export holds it."""
        if not isinstance(ref, dict):
            return None
        key = ref.get("id")
        bare = len(ref) <= 3  # a reference: the same channel every time (memo)
        if bare and key in self._channels:
            return self._channels[key]
        channel = self.index.resolve(ref, "type")
        kind = channel.get("type") if channel is not None else None
        found = kind if isinstance(kind, str) else None
        if bare and isinstance(key, int | str):
            self._channels[key] = found
        return found

    # ------------------------------------------------------------------ activities

    def activity(self, activity: Obj, at: int, post: str | None) -> Step | None:
        """An activity (carried by ``post``, or read from the activities list) → a step."""
        key = id_key(activity.get("id")) or "?"
        event_id = f"activity:{key}"
        name = activity.get("activity")
        verb = activity.get("verb")
        obj = activity.get("object")
        original = obj.get("original") if isinstance(obj, dict) else None
        about = (
            canonical_type(original.get("resource_type")) if isinstance(original, dict) else None
        )
        kind = name if isinstance(name, str) and name else "activity"
        if name in FOREIGN:
            self._set_aside(kind, event_id, FOREIGN[name], post)
            return None
        if about == "case" and isinstance(original, dict):
            other = id_key(original.get("id"))
            if other is not None and other != self.case_key:
                self._set_aside(kind, event_id, f"about case {other}, not this one", post)
                return None
        if name in SET_ASIDE:
            self._set_aside(kind, event_id, SET_ASIDE[name], post)
            return None
        if about == "event" or verb == "TRIGGER":
            reason = "an event sent by an integration through the API, not a case event"
            self._set_aside("event", event_id, reason, post)
            return None
        if verb == "REPLY":
            self._set_aside(
                kind, event_id, "a reply recorded as an activity: its post is used", post
            )
            return None
        if name not in _UPDATES:
            reason = (
                f"unknown activity {name!r}" if kind != "activity" else "an activity without a name"
            )
            self._set_aside(kind, event_id, reason, post)
            return None
        where = f"activity {key}" + (f" (post {post})" if post is not None else "")
        changes, ignored = self._actions(activity, where)
        return Step(
            "update",
            kind,
            at,
            event_id,
            (at, 1, *_order_key(key)),
            self.actor(activity.get("actor"), where),
            post=post,
            changes=changes,
            ignored=ignored,
        )

    def _actions(
        self, activity: Obj, where: str
    ) -> tuple[tuple[tuple[str, Side, Side], ...], tuple[tuple[str, object], ...]]:
        changes: list[tuple[str, Side, Side]] = []
        ignored: list[tuple[str, object]] = []
        actions = activity.get("actions") or []
        if not isinstance(actions, list):
            raise KayakoError(f"{where}: expected 'actions' to be a list, found {actions!r:.40}")
        for position, ref in enumerate(actions):
            action = self.index.resolve(ref, "field")
            if action is None or "field" not in action:
                raise KayakoError(
                    f"{where}: action {position} ({_show_ref(ref)}) is not in the export "
                    f"(save posts with include=* or in flat mode)"
                )
            field = action.get("field")
            if not isinstance(field, str):
                raise KayakoError(
                    f"{where}: action {position}: expected a 'field' name, found {field!r:.40}"
                )
            if field in TRACKED_FIELDS:
                old = _side(action.get("old_value"), action.get("old_object"))
                new = _side(action.get("new_value"), action.get("new_object"))
                changes.append((TRACKED_FIELDS[field], old, new))
            else:
                # Kept as an ignored key (it still makes the event an update); never under
                # the name of a case field, which the replay would read.
                name = f"kayako_{field}" if field in _EVENT_FIELDS else field
                ignored.append((name, action.get("new_value")))
        return tuple(changes), tuple(ignored)

    def _set_aside(self, kind: str, event_id: str, reason: str, post: str | None = None) -> None:
        self.report.append(Unmapped(kind, event_id, reason, post))


def _show_ref(ref: object) -> str:
    if isinstance(ref, dict):
        return f"{ref.get('resource_type')} {ref.get('id')}"
    return repr(ref)[:40]
