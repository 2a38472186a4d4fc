"""Departures read from a calendar, and how they combine with the weekly schedule.

An event whose title or description holds a target ("EV 90 %", "EV 90%", "ev 250 km") sets a
departure at the event's start with that target. An all-day event has no start time: the car is
to be ready by that day's departure in the weekly schedule, or on a day without one by the daily
departure time (07:00 when that is off too). On a day with such an event the weekly schedule's
departure gives way to it; other days keep the schedule. An event that names a target EV Flex
cannot use is left out with a warning that names it.

The events come in the shape of Home Assistant's `calendar.get_events` response (2026.10):
each a mapping with "start", "end", "summary" and optionally "description", the times ISO 8601
text (a date alone for all-day events).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import math
import re
from typing import Any

# More events than a calendar holds for a week of driving are not read.
MAX_EVENTS = 200
# Only this much of a title or description is searched (a pasted novel is not a target).
MAX_TEXT = 2000
# How far ahead the calendar is read: a week and a day covers every weekday once.
HORIZON = timedelta(days=8)
# "EV" as a word, then a number and its unit: % (state of charge) or km (range).
TARGET = re.compile(
    r"(?<![\w])EV\s*:?\s*(?P<value>\d{1,5}(?:[.,]\d{1,3})?)\s*(?P<unit>%|km\b)?", re.IGNORECASE
)
# Targets below this are not a reason to charge.
MIN_TARGET_PCT = 1.0
# When an all-day event's car is to be ready on a day with no departure time at all.
ALL_DAY_READY_BY = time(7, 0)


@dataclass(frozen=True, kw_only=True)
class CalendarDeparture:
    """A departure an event sets: when, to what charge, and the event's title. An all-day
    event's `at` is the start of its day; the departure's time comes from the schedule."""

    at: datetime
    target_soc_pct: float
    event: str
    all_day: bool = False

    def ready_by(self, schedule: Sequence[time | None], tz: tzinfo, all_day_time: time) -> datetime:
        """When the car must be ready: the event's start, or for an all-day event that day's
        scheduled departure (else `all_day_time`)."""
        if not self.all_day:
            return self.at
        day = self.at.astimezone(tz).date()
        return datetime.combine(day, schedule[day.weekday()] or all_day_time, tzinfo=tz)


class CalendarProblem(StrEnum):
    """Why an event sets no departure; the Home Assistant layer words each in the user's
    language with the warning's facts."""

    # The target in per cent is outside 1-100: `value`.
    TARGET_RANGE = "target_range"
    # A target in km, and the car reports no range to turn it into a charge: `value`.
    KM_WITHOUT_RANGE = "km_without_range"
    # A target in km beyond a full battery: `value`.
    KM_ABOVE_FULL = "km_above_full"
    # "EV" and a number without a unit: `text`.
    NO_UNIT = "no_unit"
    # The event's start can't be read.
    START_UNREADABLE = "start_unreadable"
    # Found by the Home Assistant layer: the calendar can't be read now (`calendar`, `error`).
    UNREADABLE = "unreadable"


@dataclass(frozen=True, kw_only=True)
class CalendarWarning:
    """An event left out: why, and the facts its words name. `event` is the event's title ("" for
    none) and `day` its date, once they are known."""

    problem: CalendarProblem
    facts: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.problem.value}: {dict(self.facts)}"


@dataclass(frozen=True, kw_only=True)
class CalendarReading:
    """The departures found, and a warning for each event that was left out."""

    departures: tuple[CalendarDeparture, ...] = ()
    warnings: tuple[CalendarWarning, ...] = ()


def _text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def read_target(text: str, soc_pct_per_km: float | None) -> float | CalendarWarning | None:
    """The target (% state of charge) a text holds, the reason it can't be used, or None when
    it names no target at all."""
    match = TARGET.search(text)
    if match is None:
        return None
    value = float(match["value"].replace(",", "."))
    unit = (match["unit"] or "").lower()
    if unit == "%":
        if not MIN_TARGET_PCT <= value <= 100.0:
            return _warning(CalendarProblem.TARGET_RANGE, value=f"{value:g}")
        return value
    if unit == "km":
        if soc_pct_per_km is None:
            return _warning(CalendarProblem.KM_WITHOUT_RANGE, value=f"{value:g}")
        # Rounded first, so float noise (50.000000001) does not cost a whole per cent.
        target = math.ceil(round(value * soc_pct_per_km, 6))
        if target > 100:
            return _warning(CalendarProblem.KM_ABOVE_FULL, value=f"{value:g}")
        return float(max(target, MIN_TARGET_PCT))
    return _warning(CalendarProblem.NO_UNIT, text=match[0].strip())


def _warning(problem: CalendarProblem, **facts: str) -> CalendarWarning:
    return CalendarWarning(problem=problem, facts=facts)


def soc_pct_per_km(soc_pct: float | None, range_km: float | None) -> float | None:
    """How much charge a km takes, from the car's reported charge and range."""
    if soc_pct is None or range_km is None:
        return None
    if not (math.isfinite(soc_pct) and math.isfinite(range_km)) or soc_pct <= 0 or range_km <= 0:
        return None
    return soc_pct / range_km


def _start(value: object, tz: tzinfo) -> datetime | date | None:
    """An event's start: an aware moment, a date (all day), or None when unreadable."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        if "T" not in value and " " not in value:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _read_event(
    event: Mapping[str, Any], tz: tzinfo, per_km: float | None
) -> CalendarDeparture | CalendarWarning | None:
    """The departure an event sets, a warning naming it, or None when it names no target."""
    title = _text(event.get("summary")).strip()
    found = read_target(_text(event.get("summary")), per_km)
    if found is None:
        found = read_target(_text(event.get("description")), per_km)
    if found is None:
        return None
    start = _start(event.get("start"), tz)
    if start is None:
        return _warning(CalendarProblem.START_UNREADABLE, event=title)
    if isinstance(found, CalendarWarning):
        return replace(found, facts={**found.facts, "event": title, "day": start.isoformat()[:10]})
    if not isinstance(start, datetime):
        day = datetime.combine(start, time(0), tzinfo=tz)
        return CalendarDeparture(at=day, target_soc_pct=found, event=title, all_day=True)
    return CalendarDeparture(at=start, target_soc_pct=found, event=title)


def read_calendar(
    events: object, *, tz: tzinfo, soc_pct_per_km: float | None = None
) -> CalendarReading:
    """The departures the events set, earliest first, and warnings for those left out."""
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        return CalendarReading()
    departures: list[CalendarDeparture] = []
    warnings: list[CalendarWarning] = []
    for event in events[:MAX_EVENTS]:
        if not isinstance(event, Mapping):
            continue
        read = _read_event(event, tz, soc_pct_per_km)
        if isinstance(read, CalendarWarning):
            warnings.append(read)
        elif read is not None:
            departures.append(read)
    departures.sort(key=_at)
    return CalendarReading(departures=tuple(departures), warnings=tuple(warnings))


def next_departure(
    schedule: Sequence[time | None],
    calendar: Iterable[CalendarDeparture],
    after: datetime,
    tz: tzinfo,
    target_soc_pct: float,
    all_day_time: time = ALL_DAY_READY_BY,
) -> tuple[datetime | None, float]:
    """The first departure after `after`, and its target: the calendar's events, and the weekly
    schedule (Monday first) on days without one."""
    events = [
        replace(event, at=event.ready_by(schedule, tz, all_day_time), all_day=False)
        for event in calendar
    ]
    event_days = {event.at.astimezone(tz).date() for event in events}
    scheduled: datetime | None = None
    day = after.astimezone(tz).date()
    for offset in range(15):
        date_ = day + timedelta(days=offset)
        departure = schedule[date_.weekday()]
        if departure is None or date_ in event_days:
            continue
        candidate = datetime.combine(date_, departure, tzinfo=tz)
        if candidate > after:
            scheduled = candidate
            break
    upcoming = min((event for event in events if event.at > after), key=_at, default=None)
    if upcoming is not None and (scheduled is None or upcoming.at <= scheduled):
        return upcoming.at, upcoming.target_soc_pct
    return scheduled, target_soc_pct


def _at(event: CalendarDeparture) -> datetime:
    return event.at


def departures_to_list(departures: Iterable[CalendarDeparture]) -> list[dict[str, Any]]:
    """JSON-safe form, as stored with the settings."""
    return [
        {
            "at": item.at.isoformat(),
            "target_soc_pct": item.target_soc_pct,
            "event": item.event,
            "all_day": item.all_day,
        }
        for item in departures
    ]


def departures_from_list(data: Iterable[Mapping[str, Any]]) -> tuple[CalendarDeparture, ...]:
    """Read what `departures_to_list` wrote."""
    return tuple(
        CalendarDeparture(
            at=datetime.fromisoformat(str(item["at"])),
            target_soc_pct=float(item["target_soc_pct"]),
            event=str(item["event"]),
            all_day=item.get("all_day") is True,
        )
        for item in data
    )
