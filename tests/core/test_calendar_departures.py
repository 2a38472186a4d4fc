"""Departures from calendar events: reading targets, and combining them with the schedule."""

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.calendar_departures import (
    MAX_EVENTS,
    CalendarDeparture,
    CalendarProblem,
    CalendarWarning,
    next_departure,
    read_calendar,
    read_target,
    soc_pct_per_km,
)
from custom_components.ev_flex.core.controller import (
    ControllerSettings,
    calendar_event_at,
    resolve_departure,
)

TZ = ZoneInfo("Europe/Oslo")
# Tuesday 13 January 2026, 18:00 in Oslo.
NOW = datetime(2026, 1, 13, 18, 0, tzinfo=TZ)
WEEKDAYS_AT_7 = (time(7, 0),) * 5 + (None, None)


def event(summary: str, start: str, description: str | None = None) -> dict[str, Any]:
    """An event as calendar.get_events returns it."""
    item = {"summary": summary, "start": start, "end": start}
    if description is not None:
        item["description"] = description
    return item


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("EV 90 %", 90.0),
        ("EV 90%", 90.0),
        ("Dentist (ev 75 %)", 75.0),
        ("EV: 62.5%", 62.5),
        ("EV 80,5 %", 80.5),
        ("Trip to the cabin EV 250 km", 50.0),
        ("Dentist", None),
        ("Devon 90 %", None),
        ("EV charger service", None),
    ],
)
def test_targets_in_text(text: str, target: float | None) -> None:
    """Per cent is taken as it is; km through the charge a km takes (0.2 % per km here)."""
    assert read_target(text, 0.2) == target


@pytest.mark.parametrize(
    ("text", "per_km", "warning"),
    [
        (
            "EV 120 %",
            0.2,
            CalendarWarning(problem=CalendarProblem.TARGET_RANGE, facts={"value": "120"}),
        ),
        (
            "EV 0 %",
            0.2,
            CalendarWarning(problem=CalendarProblem.TARGET_RANGE, facts={"value": "0"}),
        ),
        (
            "EV 250 km",
            None,
            CalendarWarning(problem=CalendarProblem.KM_WITHOUT_RANGE, facts={"value": "250"}),
        ),
        (
            "EV 900 km",
            0.2,
            CalendarWarning(problem=CalendarProblem.KM_ABOVE_FULL, facts={"value": "900"}),
        ),
        ("EV 90", 0.2, CalendarWarning(problem=CalendarProblem.NO_UNIT, facts={"text": "EV 90"})),
    ],
)
def test_unusable_targets_say_why(
    text: str, per_km: float | None, warning: CalendarWarning
) -> None:
    assert read_target(text, per_km) == warning


def test_charge_per_km_needs_a_sensible_range() -> None:
    assert soc_pct_per_km(60.0, 300.0) == pytest.approx(0.2)
    for soc, range_km in ((None, 300.0), (60.0, None), (0.0, 300.0), (60.0, 0.0)):
        assert soc_pct_per_km(soc, range_km) is None
    assert soc_pct_per_km(float("nan"), 300.0) is None
    assert soc_pct_per_km(60.0, float("inf")) is None


def test_events_become_departures_and_bad_ones_warnings() -> None:
    reading = read_calendar(
        [
            event("Airport EV 95 %", "2026-01-15T05:30:00+01:00"),
            event("Dentist", "2026-01-14T09:00:00+01:00"),
            event("Work", "2026-01-14T08:00:00+01:00", description="EV 60%"),
            event("Holiday EV 100 %", "2026-01-16"),
            event("Rally EV 150 %", "2026-01-17T08:00:00+01:00"),
            event("Broken EV 80 %", "yesterday-ish T"),
            "not an event",
        ],
        tz=TZ,
    )
    assert reading.departures == (
        CalendarDeparture(
            at=datetime(2026, 1, 14, 8, 0, tzinfo=TZ), target_soc_pct=60.0, event="Work"
        ),
        CalendarDeparture(
            at=datetime(2026, 1, 15, 5, 30, tzinfo=TZ),
            target_soc_pct=95.0,
            event="Airport EV 95 %",
        ),
        CalendarDeparture(
            at=datetime(2026, 1, 16, 0, 0, tzinfo=TZ),
            target_soc_pct=100.0,
            event="Holiday EV 100 %",
            all_day=True,
        ),
    )
    assert reading.warnings == (
        CalendarWarning(
            problem=CalendarProblem.TARGET_RANGE,
            facts={"value": "150", "event": "Rally EV 150 %", "day": "2026-01-17"},
        ),
        CalendarWarning(
            problem=CalendarProblem.START_UNREADABLE, facts={"event": "Broken EV 80 %"}
        ),
    )


def test_a_start_without_offset_is_local_time() -> None:
    reading = read_calendar([event("EV 80 %", "2026-01-14T07:15:00")], tz=TZ)
    assert reading.departures[0].at == datetime(2026, 1, 14, 7, 15, tzinfo=TZ)
    assert reading.departures[0].event == "EV 80 %"


@pytest.mark.parametrize("events", [None, "EV 80 %", 42, {"events": []}])
def test_anything_but_a_list_of_events_reads_as_none(events: object) -> None:
    assert read_calendar(events, tz=TZ).departures == ()


def test_a_huge_calendar_is_read_only_in_part() -> None:
    many = [event(f"EV {10 + n % 90} %", "2026-01-14T07:00:00+01:00") for n in range(5000)]
    assert len(read_calendar(many, tz=TZ).departures) == MAX_EVENTS
    long_title = "x" * 1_000_000 + " EV 80 %"
    assert read_calendar([event(long_title, "2026-01-14T07:00:00+01:00")], tz=TZ).departures == ()


def test_an_event_replaces_that_days_scheduled_departure() -> None:
    """Wednesday's event at 09:30 replaces Wednesday 07:00; Thursday keeps its 07:00."""
    wednesday = CalendarDeparture(
        at=datetime(2026, 1, 14, 9, 30, tzinfo=TZ), target_soc_pct=90.0, event="EV 90 %"
    )
    assert next_departure(WEEKDAYS_AT_7, [wednesday], NOW, TZ, 80.0) == (wednesday.at, 90.0)
    thursday = datetime(2026, 1, 15, 7, 0, tzinfo=TZ)
    assert next_departure(WEEKDAYS_AT_7, [wednesday], wednesday.at, TZ, 80.0) == (thursday, 80.0)


def test_a_later_event_leaves_earlier_days_to_the_schedule() -> None:
    friday = CalendarDeparture(
        at=datetime(2026, 1, 16, 6, 0, tzinfo=TZ), target_soc_pct=95.0, event="EV 95 %"
    )
    wednesday = datetime(2026, 1, 14, 7, 0, tzinfo=TZ)
    assert next_departure(WEEKDAYS_AT_7, [friday], NOW, TZ, 80.0) == (wednesday, 80.0)


def test_an_event_on_a_day_without_departure_adds_one() -> None:
    saturday = CalendarDeparture(
        at=datetime(2026, 1, 17, 10, 0, tzinfo=TZ), target_soc_pct=70.0, event="EV 70 %"
    )
    friday_evening = datetime(2026, 1, 16, 18, 0, tzinfo=TZ)
    assert next_departure(WEEKDAYS_AT_7, [saturday], friday_evening, TZ, 80.0) == (
        saturday.at,
        70.0,
    )
    assert next_departure((None,) * 7, [saturday], NOW, TZ, 80.0) == (saturday.at, 70.0)
    assert next_departure((None,) * 7, [], NOW, TZ, 80.0) == (None, 80.0)


def test_the_controller_resolves_calendar_departures_and_stores_them() -> None:
    """The daily time is a week of equal days; a one-off departure still wins."""
    wednesday = CalendarDeparture(
        at=datetime(2026, 1, 14, 9, 30, tzinfo=TZ), target_soc_pct=90.0, event="EV 90 %"
    )
    settings = ControllerSettings(departure_time=time(7, 0), calendar_departures=(wednesday,))
    assert resolve_departure(settings, NOW, TZ) == (wednesday.at, 90.0)
    restored = ControllerSettings.from_dict(settings.to_dict())
    assert restored.calendar_departures == (wednesday,)
    from_before = ControllerSettings.from_dict(
        {key: value for key, value in settings.to_dict().items() if key != "calendar_departures"}
    )
    assert from_before.calendar_departures == ()
    assert replace(settings, calendar_departures=()) == from_before


ALL_DAY_FRIDAY = CalendarDeparture(
    at=datetime(2026, 1, 16, 0, 0, tzinfo=TZ),
    target_soc_pct=95.0,
    event="Ski EV 95 %",
    all_day=True,
)


def test_an_all_day_event_is_ready_by_that_days_scheduled_departure() -> None:
    """Friday's all-day event keeps Friday's 06:15 and raises its target; other days keep theirs."""
    week = (time(7, 0),) * 4 + (time(6, 15), None, None)
    thursday_evening = datetime(2026, 1, 15, 18, 0, tzinfo=TZ)
    friday = datetime(2026, 1, 16, 6, 15, tzinfo=TZ)
    assert next_departure(week, [ALL_DAY_FRIDAY], thursday_evening, TZ, 80.0) == (friday, 95.0)
    assert next_departure(week, [ALL_DAY_FRIDAY], NOW, TZ, 80.0) == (
        datetime(2026, 1, 14, 7, 0, tzinfo=TZ),
        80.0,
    )
    # Past Friday's departure the event is spent: the next is Monday's, at its own target.
    assert next_departure(week, [ALL_DAY_FRIDAY], friday, TZ, 80.0) == (
        datetime(2026, 1, 19, 7, 0, tzinfo=TZ),
        80.0,
    )


def test_an_all_day_event_on_a_day_without_departure_uses_the_daily_time() -> None:
    """Saturday has no departure: ready by the time asked for (the daily time), else 07:00."""
    saturday = replace(ALL_DAY_FRIDAY, at=datetime(2026, 1, 17, 0, 0, tzinfo=TZ))
    friday_evening = datetime(2026, 1, 16, 18, 0, tzinfo=TZ)
    at_nine = next_departure(
        WEEKDAYS_AT_7, [saturday], friday_evening, TZ, 80.0, all_day_time=time(9, 0)
    )
    assert at_nine == (datetime(2026, 1, 17, 9, 0, tzinfo=TZ), 95.0)
    assert next_departure((None,) * 7, [saturday], NOW, TZ, 80.0) == (
        datetime(2026, 1, 17, 7, 0, tzinfo=TZ),
        95.0,
    )


def test_the_controller_reads_an_all_day_event_with_its_schedule_and_keeps_it() -> None:
    """Weekly schedule first, the daily departure time on days without one; stored as all-day."""
    weekly = ControllerSettings(
        departure_time=time(8, 30),
        weekly_departures=(time(7, 0),) * 4 + (time(6, 15), None, None),
        calendar_departures=(ALL_DAY_FRIDAY,),
    )
    thursday_evening = datetime(2026, 1, 15, 18, 0, tzinfo=TZ)
    friday = datetime(2026, 1, 16, 6, 15, tzinfo=TZ)
    assert resolve_departure(weekly, thursday_evening, TZ) == (friday, 95.0)
    assert calendar_event_at(weekly, friday, TZ) == "Ski EV 95 %"
    assert calendar_event_at(weekly, datetime(2026, 1, 16, 0, 0, tzinfo=TZ), TZ) is None
    off_on_friday = replace(weekly, weekly_departures=(time(7, 0),) * 4 + (None, None, None))
    at_daily_time = datetime(2026, 1, 16, 8, 30, tzinfo=TZ)
    assert resolve_departure(off_on_friday, thursday_evening, TZ) == (at_daily_time, 95.0)
    no_time = replace(off_on_friday, departure_time=None)
    assert resolve_departure(no_time, thursday_evening, TZ)[0] == datetime(
        2026, 1, 16, 7, 0, tzinfo=TZ
    )
    assert ControllerSettings.from_dict(weekly.to_dict()).calendar_departures == (ALL_DAY_FRIDAY,)
