"""Departures from a calendar and the weekly-schedule entities, through Home Assistant."""

from collections.abc import AsyncGenerator
from datetime import datetime, time, timedelta
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEvent
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.helpers.translation import async_load_integrations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    setup_test_component_platform,
)

from custom_components.ev_flex.const import CONF_CALENDAR, CONF_DEPARTURES, DOMAIN
from custom_components.ev_flex.core.simulator import Simulation

from .fakes.calendar_notify import MemoryCalendar
from .prices_common import START, TZ, TZ_NAME
from .schedule_support import CAR, VEHICLE_ID, advance, set_up_simulator

NEXT_DEPARTURE = f"sensor.{CAR}_next_departure"
CALENDAR = "calendar.family"
# START is Tuesday 7 October 2025, 00:20 in Stockholm.
WEDNESDAY = datetime(2025, 10, 8, tzinfo=TZ)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def calendar_event(summary: str, start: datetime, description: str | None = None) -> CalendarEvent:
    return CalendarEvent(
        start=start, end=start + timedelta(hours=1), summary=summary, description=description
    )


@pytest.fixture
async def family_calendar(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> AsyncGenerator[MemoryCalendar]:
    """A calendar entity, set up through Home Assistant's calendar component, in Stockholm;
    removed at the end, so no timer of its events outlives the test."""
    await hass.config.async_set_time_zone(TZ_NAME)
    freezer.move_to(START)
    calendar = MemoryCalendar("Family")
    setup_test_component_platform(hass, "calendar", [calendar])
    assert await async_setup_component(hass, "calendar", {"calendar": {"platform": "test"}})
    await hass.async_block_till_done()
    yield calendar
    await calendar.async_remove()


async def set_up(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, departures: dict[str, Any]
) -> MockConfigEntry:
    return await set_up_simulator(hass, simulator_entry, {CONF_DEPARTURES: departures})


def departure_state(hass: HomeAssistant) -> tuple[datetime | None, dict[str, Any]]:
    state = hass.states.get(NEXT_DEPARTURE)
    assert state is not None
    value = None if state.state == STATE_UNKNOWN else datetime.fromisoformat(state.state)
    return value, dict(state.attributes)


@pytest.mark.parametrize(
    ("language", "warning"),
    [
        (
            "en",
            "'Rally EV 150 %' on 2025-10-08 is ignored: 150 % is not a charge between 1 and 100 %",
        ),
        (
            "de",
            "„Rally EV 150 %“ am 2025-10-08 wird ignoriert: "
            "150 % ist kein Ladestand zwischen 1 und 100 %",
        ),
    ],
)
async def test_calendar_events_set_departures_and_bad_ones_are_named(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    language: str,
    warning: str,
) -> None:
    """Wednesday's event sets 09:30 at 90 %; an unreadable target is named in a warning, in
    the server's language."""
    family_calendar.events = [
        calendar_event("Dentist EV 90 %", at(WEDNESDAY, 9, 30)),
        calendar_event("Rally EV 150 %", at(WEDNESDAY, 12)),
    ]
    await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    # The server's language changes, and Home Assistant loads its texts.
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    await async_update_entity(hass, NEXT_DEPARTURE)

    # Tuesday keeps the daily 07:00.
    departure, attributes = departure_state(hass)
    assert departure == at(START, 7)
    assert attributes["source"] == "daily"
    assert attributes["target_soc"] == 80.0
    assert attributes["calendar_warnings"] == [warning]

    # After Tuesday's departure Wednesday's event takes the place of Wednesday 07:00.
    await advance(hass, freezer, at(START, 7, 5), timedelta(minutes=30))
    departure, attributes = departure_state(hass)
    assert departure == at(WEDNESDAY, 9, 30)
    assert attributes["source"] == "calendar"
    assert attributes["calendar_event"] == "Dentist EV 90 %"
    assert attributes["target_soc"] == 90.0


async def test_an_event_without_a_title_is_named_as_such(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Targets in the descriptions of events without a title: the departure and the warning
    say "(no title)" in the server's language, not an empty name."""
    family_calendar.events = [
        calendar_event("", at(START, 6, 30), description="EV 90 %"),
        calendar_event("", at(WEDNESDAY, 12), description="EV 150 %"),
    ]
    await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    departure, attributes = departure_state(hass)
    assert departure == at(START, 6, 30)
    assert attributes["calendar_event"] == "(no title)"
    assert attributes["calendar_warnings"] == [
        "'(no title)' on 2025-10-08 is ignored: 150 % is not a charge between 1 and 100 %"
    ]


async def test_an_all_day_event_sets_its_days_scheduled_departure_and_target(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An all-day "EV 95 %" on Wednesday: ready by Wednesday's departure, charged to 95 %."""
    family_calendar.events = [
        CalendarEvent(
            start=WEDNESDAY.date(),
            end=(WEDNESDAY + timedelta(days=1)).date(),
            summary="Ski trip EV 95 %",
        )
    ]
    await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    await advance(hass, freezer, at(START, 7, 5), timedelta(minutes=30))
    departure, attributes = departure_state(hass)
    assert departure == at(WEDNESDAY, 7)
    assert attributes["source"] == "calendar"
    assert attributes["calendar_event"] == "Ski trip EV 95 %"
    assert attributes["target_soc"] == 95.0
    assert attributes["calendar_warnings"] == []

    # Wednesday's departure moves to 06:15 in the weekly schedule: the event's moves with it.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "set_departure_schedule",
        {"device_id": device.id, "wednesday": "06:15", "thursday": "07:00"},
        blocking=True,
    )
    await hass.async_block_till_done()
    departure, attributes = departure_state(hass)
    assert departure == at(WEDNESDAY, 6, 15)
    assert attributes["target_soc"] == 95.0

    # After it, Thursday is back to the schedule's own target.
    await advance(hass, freezer, at(WEDNESDAY, 6, 20), timedelta(minutes=30))
    departure, attributes = departure_state(hass)
    assert departure == at(WEDNESDAY + timedelta(days=1), 7)
    assert attributes["source"] == "schedule"
    assert attributes["target_soc"] == 80.0


async def test_calendar_changes_are_followed_at_once_and_every_quarter_hour(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    assert departure_state(hass)[0] == at(START, 7)

    # A new event with a target in its description: the calendar's state changes, EV Flex reads.
    family_calendar.events = [calendar_event("Airport", at(START, 5), "EV 95%")]
    family_calendar.async_write_ha_state()
    await hass.async_block_till_done(wait_background_tasks=True)
    departure, attributes = departure_state(hass)
    assert (departure, attributes["target_soc"]) == (at(START, 5), 95.0)

    # A change the calendar's state does not show is read within 15 minutes.
    family_calendar.events = [calendar_event("Airport EV 85 %", at(START, 6))]
    reads = family_calendar.reads
    freezer.tick(timedelta(minutes=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert family_calendar.reads > reads
    assert departure_state(hass)[0] == at(START, 6)

    # The departure holds over a restart, even before the calendar is read again.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert departure_state(hass)[0] == at(START, 6)


async def test_an_event_in_km_uses_the_cars_range(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
) -> None:
    """250 km at the charge a km takes now (state of charge over range, rounded up)."""
    family_calendar.events = [calendar_event("Cabin EV 250 km", at(START, 8))]
    await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    soc = float(hass.states.get(f"sensor.{CAR}_battery_level").state)
    range_km = float(hass.states.get(f"sensor.{CAR}_range").state)
    departure, attributes = departure_state(hass)
    assert departure == at(START, 8)
    assert attributes["target_soc"] == math.ceil(round(250 * soc / range_km, 6))


async def test_a_missing_calendar_is_a_warning_not_a_failure(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone(TZ_NAME)
    freezer.move_to(START)
    entry = await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: "calendar.gone"}})
    departure, attributes = departure_state(hass)
    assert departure == at(START, 7)
    assert len(attributes["calendar_warnings"]) == 1
    assert "calendar.gone can't be read" in attributes["calendar_warnings"][0]
    assert entry.runtime_data.smart_charging[VEHICLE_ID].controller.decision is not None


async def test_removing_the_calendar_ends_its_departures(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
) -> None:
    family_calendar.events = [calendar_event("EV 70 %", at(START, 5))]
    entry = await set_up(hass, simulator_entry, {VEHICLE_ID: {CONF_CALENDAR: CALENDAR}})
    assert departure_state(hass)[0] == at(START, 5)
    hass.config_entries.async_update_entry(entry, options={})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    departure, attributes = departure_state(hass)
    assert departure == at(START, 7)
    assert attributes["calendar_warnings"] == []


# The weekly schedule's entities


def weekday(name: str) -> tuple[str, str]:
    return f"time.{CAR}_{name}_departure", f"switch.{CAR}_departs_on_{name}"


async def test_weekday_entities_set_and_clear_the_schedule(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    simulation: Simulation,
) -> None:
    """Every day starts at the daily time; a day switched off has no departure (its time is
    unknown), switched on again it leaves at the daily time; a new time gives a day one."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    tuesday_time, tuesday_switch = weekday("tuesday")
    assert hass.states.get(tuesday_time).state == "07:00:00"
    assert hass.states.get(tuesday_switch).state == STATE_ON

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: tuesday_switch}, blocking=True
    )
    assert hass.states.get(tuesday_switch).state == STATE_OFF
    assert hass.states.get(tuesday_time).state == STATE_UNKNOWN
    departure, attributes = departure_state(hass)
    assert departure == at(WEDNESDAY, 7)
    assert attributes["source"] == "schedule"

    wednesday_time, _ = weekday("wednesday")
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: wednesday_time, "time": time(6, 15)},
        blocking=True,
    )
    assert departure_state(hass)[0] == at(WEDNESDAY, 6, 15)

    await hass.services.async_call(
        "time", "set_value", {ATTR_ENTITY_ID: tuesday_time, "time": time(8, 45)}, blocking=True
    )
    assert hass.states.get(tuesday_switch).state == STATE_ON
    assert departure_state(hass)[0] == at(START, 8, 45)
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: tuesday_switch}, blocking=True
    )
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: tuesday_switch}, blocking=True
    )
    assert hass.states.get(tuesday_time).state == "07:00:00"

    # Kept over a restart.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(wednesday_time).state == "06:15:00"
    settings = entry.runtime_data.smart_charging[VEHICLE_ID].controller.settings
    assert settings.weekly_departures is not None
    assert settings.weekly_departures[:3] == (time(7, 0), time(7, 0), time(6, 15))


async def test_weekday_entities_follow_the_schedule_action(
    hass: HomeAssistant,
    family_calendar: MemoryCalendar,
    simulator_entry: MockConfigEntry,
    simulation: Simulation,
) -> None:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    device_id = device.id
    await hass.services.async_call(
        DOMAIN,
        "set_departure_schedule",
        {"device_id": device_id, "monday": "06:30", "friday": "09:00"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get(weekday("monday")[0]).state == "06:30:00"
    assert hass.states.get(weekday("friday")[1]).state == STATE_ON
    assert hass.states.get(weekday("tuesday")[1]).state == STATE_OFF
    assert hass.states.get(weekday("tuesday")[0]).state == STATE_UNKNOWN
    departure, attributes = departure_state(hass)
    assert departure == datetime(2025, 10, 10, 9, 0, tzinfo=TZ)
    assert attributes["source"] == "schedule"
