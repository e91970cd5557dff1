"""Kayako teams and business hours → :class:`~metrics_engine.TeamCalendars` (pure).

Each team names one business hour (``team.businesshour``); the business hour marked
``is_default`` serves cases with no team and teams without hours of their own. Kayako stores
no time zone with its hours, so one zone is given for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from metrics_engine._calendar import BusinessCalendar, TeamCalendars
from metrics_engine._errors import MetricsEngineError
from metrics_engine.sources._kayako_layouts import Index, KayakoError, Obj, id_key, items_of

__all__ = ["team_calendars"]


def team_calendars(
    *, teams: object = (), business_hours: object = (), timezone: str
) -> TeamCalendars:
    """Per-team calendars from team pages and business-hour pages (each one response, a list
    of responses or a list of resources; hours embedded in the teams count too)."""
    index = Index()
    hours: dict[str, Obj] = {}
    for obj in items_of(business_hours, index, "business hours"):
        key = id_key(obj.get("id"))
        if key is None:
            raise KayakoError(
                f"business hours: expected every business hour to have an id, found {obj!r:.60}"
            )
        hours[key] = obj
    team_hours: dict[str, str] = {}
    for team in items_of(teams, index, "teams"):
        team_key = id_key(team.get("id"))
        if team_key is None:
            raise KayakoError(f"teams: expected every team to have an id, found {team!r:.60}")
        ref = team.get("businesshour", team.get("business_hour"))
        if ref is None:
            continue  # no hours of its own: the default applies
        hour_key = id_key(ref.get("id")) if isinstance(ref, dict) else None
        found = index.resolve(ref, "zones") if hour_key is not None else None
        if (
            hour_key is not None
            and hour_key not in hours
            and found is not None
            and "zones" in found
        ):
            hours[hour_key] = found
        if hour_key is None or hour_key not in hours:
            named = hour_key if hour_key is not None else f"{ref!r:.40}"
            raise KayakoError(
                f"team {team_key}: its business hour {named} is in neither "
                f"businesshours.json nor the team pages"
            )
        team_hours[team_key] = hour_key
    calendars = {key: _calendar(key, obj, timezone) for key, obj in hours.items()}
    default = _default(hours)
    return TeamCalendars(
        default=calendars[default],
        teams={team: calendars[hour] for team, hour in team_hours.items()},
    )


def _default(hours: Mapping[str, Obj]) -> str:
    marked = [key for key, obj in hours.items() if obj.get("is_default") is True]
    if len(marked) == 1:
        return marked[0]
    if not marked and len(hours) == 1:
        return next(iter(hours))
    raise KayakoError(
        f"business hours: expected one default business hour (is_default: true) for cases "
        f"without a team, found {len(marked) if marked else 'none'} among {len(hours)}"
    )


def _calendar(key: str, obj: Obj, timezone: str) -> BusinessCalendar:
    try:
        return BusinessCalendar.from_kayako(obj, timezone=timezone)
    except MetricsEngineError as error:
        title = obj.get("title")
        named = f" ({title!r})" if isinstance(title, str) else ""
        raise KayakoError(f"business hour {key}{named}: {error.detail}") from None
