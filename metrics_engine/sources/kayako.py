"""Kayako case histories → metrics_engine events (pure: decoded JSON in, events out).

Give one case's resources as Kayako returned them (decoded JSON): the case, every page of
its posts fetched with ``filters=all``, optionally pages of its activities, and a
:class:`Directory` of the account's statuses, users (for their roles) and teams::

    from metrics_engine.sources import kayako

    directory = kayako.Directory(statuses=statuses_page, users=user_pages)
    result = kayako.convert_case(case_response, post_pages, directory=directory)
    result.events   # the case's events, in replay order, for compute_metrics
    result.report   # every item that became no event, with its kind, id and reason

Any of the three layouts (references only, ``include=`` embedded, flat ``resources``), any
letter case (``_case=camel`` and ``pascal`` too), pages in any order and overlapping. A case
that cannot be converted raises :class:`KayakoError` naming the field or the item; its
``report`` holds what was set aside before that. docs/kayako.md explains every mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from metrics_engine.sources._kayako_calendars import team_calendars
from metrics_engine.sources._kayako_items import ItemReader, Step, Unmapped, instant
from metrics_engine.sources._kayako_layouts import (
    Index,
    KayakoError,
    Obj,
    canonical_type,
    id_key,
    items_of,
    ref_of,
)
from metrics_engine.sources._kayako_values import CASE_FIELDS, Timeline, build_events, final_side

__all__ = [
    "Directory",
    "KayakoConversion",
    "KayakoError",
    "Timeline",
    "Unmapped",
    "convert_case",
    "read_case",
    "team_calendars",
]

_STATUS_TYPES: Final = ("NEW", "OPEN", "PENDING", "COMPLETED", "CLOSED")


class Directory:
    """The account-wide resources every case refers to, read once for a whole export.

    ``statuses``: ``GET /api/v1/cases/statuses`` (deleted and custom statuses included);
    ``users``: user pages, saved with their roles (``include=role`` or flat mode), for every
    user who appears as an author or actor without an embedded role; ``teams``: team pages
    (for team titles). Each is one response, a list of responses (pages) or a list of
    resources. ``status_types`` maps a status id to the status type it behaves like,
    overriding what Kayako says (custom statuses are otherwise OPEN when SLA-active, PENDING
    when not).
    """

    __slots__ = ("index", "status_types")

    def __init__(
        self,
        *,
        statuses: object = (),
        users: object = (),
        teams: object = (),
        status_types: Mapping[int | str, str] | None = None,
    ) -> None:
        self.index = Index()
        for value, kind, what in (
            (statuses, "case_status", "statuses"),
            (users, "user", "users"),
            (teams, "team", "teams"),
        ):
            for item in items_of(value, self.index, what):
                key = id_key(item.get("id"))
                if key is None:
                    raise KayakoError(
                        f"{what}: expected every {kind} to have an id, found {item!r:.60}"
                    )
                self.index.add(canonical_type(item.get("resource_type")) or kind, key, item)
        self.status_types = _status_types(status_types or {})


def _status_types(given: Mapping[int | str, str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for raw, kind in given.items():
        key = id_key(raw)
        if key is None or not isinstance(kind, str) or kind.upper() not in _STATUS_TYPES:
            raise KayakoError(
                f"status types: expected status id → NEW, OPEN, PENDING, COMPLETED or CLOSED, "
                f"found {raw!r:.30} → {kind!r:.30}"
            )
        chosen[key] = kind.upper()
    return chosen


@dataclass(frozen=True, slots=True)
class KayakoConversion:
    """One converted case: its events in replay order and the report of what was set aside."""

    case_id: int | str
    events: list[dict[str, Any]]
    report: tuple[Unmapped, ...]


def convert_case(
    case: object, posts: object, activities: object = (), *, directory: Directory
) -> KayakoConversion:
    """The events of one case; raises :class:`KayakoError` when it cannot be converted."""
    timeline = read_case(case, posts, activities, directory=directory)
    try:
        events = build_events(timeline)
    except KayakoError as error:
        error.report = tuple(timeline.reader.report)
        raise
    return KayakoConversion(timeline.case_id, events, tuple(timeline.reader.report))


def read_case(
    case: object, posts: object, activities: object = (), *, directory: Directory
) -> Timeline:
    """One case read and mapped, item by item, before any value is resolved: every post
    and activity is either a step of ``steps`` or a line of ``reader.report``."""
    index = Index(directory.index)
    cases = items_of(case, index, "case")
    if len(cases) != 1:
        raise KayakoError(f"case: expected one case object, found {len(cases)}")
    case_obj = cases[0]
    case_id = case_obj.get("id")
    case_key = id_key(case_id)
    if case_key is None or not isinstance(case_id, int | str):
        raise KayakoError(f"case: expected an id, found {case_id!r:.40}")
    reader = ItemReader(case_key, index)
    try:
        created_at = instant(case_obj.get("created_at"), "case created_at")
        steps = _steps(reader, posts, activities)
        kept = []
        for step in steps:
            if step.at < created_at:
                reader.report.append(
                    Unmapped(
                        step.origin,
                        step.event_id,
                        "dated before the case was created (merged from an older case?)",
                        step.post if step.event_id.startswith("activity:") else None,
                    )
                )
            else:
                kept.append(step)
        kept.sort(key=lambda step: step.order)
        reader.report.sort(key=_report_order)
        final = {field: final_side(case_obj, field, index) for field in CASE_FIELDS}
    except KayakoError as error:
        error.report = tuple(reader.report)
        raise error.locate(case=case_id) from None
    return Timeline(
        case_id=case_id,
        created_at=created_at,
        creator=case_obj.get("creator"),
        final=final,
        steps=tuple(kept),
        reader=reader,
        status_types=directory.status_types,
    )


def _steps(reader: ItemReader, posts: object, activities: object) -> list[Step]:
    index = reader.index
    listed = _unique(items_of(activities, index, "activities"), "activity")
    for key, listed_activity in listed.items():
        index.add("activity", key, listed_activity)
    steps: list[Step] = []
    carried: set[str] = set()
    for key, post in _unique(items_of(posts, index, "posts"), "post").items():
        original = post.get("original")
        activity: Obj | None = None
        ref = ref_of(original)
        if ref is not None and ref[0] == "activity":
            activity = index.resolve(original, "activity", "verb", "actions")
            if activity is None or not ({"activity", "verb", "actions"} & activity.keys()):
                raise KayakoError(
                    f"post {key}: its activity {ref[1]} is not in the export (save posts with "
                    f"include=* or in flat mode, or save the case's activities)"
                )
            carried.add(ref[1])
        step = reader.post(post, activity)
        if step is not None:
            steps.append(step)
    for key, alone in listed.items():
        if key not in carried:
            at = instant(alone.get("created_at"), f"activity {key} created_at")
            step = reader.activity(alone, at, None)
            if step is not None:
                steps.append(step)
    return steps


def _report_order(item: Unmapped) -> tuple[int, int, str]:
    """Timeline order: by the post that carried the item; activities listed alone last."""
    key = item.post or item.id.partition(":")[2]
    alone = item.post is None and item.id.startswith("activity:")
    return (int(alone), len(key) if key.isdigit() else 99, key)


def _unique(items: list[Obj], what: str) -> dict[str, Obj]:
    """Items by id, each once: of two copies (overlapping pages), the later ``updated_at``,
    else the first seen."""
    by_id: dict[str, Obj] = {}
    for item in items:
        key = id_key(item.get("id"))
        if key is None:
            raise KayakoError(f"{what}s: expected every {what} to have an id, found {item!r:.60}")
        held = by_id.get(key)
        if held is None or _updated(item) > _updated(held):
            by_id[key] = item
    return by_id


def _updated(item: Obj) -> int:
    try:
        return instant(item.get("updated_at"), "updated_at")
    except KayakoError:
        return -(2**63)
