"""Departures from the calendar a vehicle's options name, read through `calendar.get_events`.

The events are read when the calendar changes and every 15 minutes; what they say (core/
calendar_departures.py) goes into the vehicle's settings, so the plan follows and a restart
keeps it. When the calendar can't be read the departures read last stay in force.
"""

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import CONF_CALENDAR, CONF_DEPARTURES, DOMAIN, LOGGER
from .core.calendar_departures import (
    HORIZON,
    CalendarProblem,
    CalendarWarning,
    read_calendar,
    soc_pct_per_km,
)
from .core.controller import ControllerSettings, calendar_event_at, resolve_departure, week_of
from .smart_charging import VehicleSmartCharging
from .texts import async_error_words, cached_texts, calendar_warning_text

REFRESH_INTERVAL = timedelta(minutes=15)
# Home Assistant's calendar action and its fields (homeassistant/components/calendar, 2026.10).
CALENDAR_DOMAIN = "calendar"
SERVICE_GET_EVENTS = "get_events"
ATTR_START = "start_date_time"
ATTR_DURATION = "duration"


def with_day(
    settings: ControllerSettings, weekday: int, departure: time | None
) -> ControllerSettings:
    """The settings with one day's departure changed (None: no departure that day); the week
    becomes a weekly schedule."""
    week = list(week_of(settings))
    week[weekday] = departure
    return replace(settings, weekly_departures=tuple(week))


def vehicle_options(charging: VehicleSmartCharging) -> dict[str, Any]:
    """The vehicle's departure options (calendar, reminder target); empty when none."""
    options = charging.entry.options.get(CONF_DEPARTURES)
    if not isinstance(options, dict):
        return {}
    chosen = options.get(charging.vehicle_id)
    return chosen if isinstance(chosen, dict) else {}


class CalendarDepartures:
    """Reads one vehicle's departures from its calendar, if the options name one."""

    def __init__(self, charging: VehicleSmartCharging) -> None:
        """Follow the calendar in the vehicle's options (none: calendar departures end)."""
        self.charging = charging
        calendar = vehicle_options(charging).get(CONF_CALENDAR)
        self.calendar: str | None = calendar if isinstance(calendar, str) else None
        # What the state's attributes show about events that were left out.
        self.warnings: tuple[CalendarWarning, ...] = ()
        self._unsubs: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> None:
        """Read the calendar now, on every change of it, and every 15 minutes."""
        charging = self.charging
        if self.calendar is None:
            if charging.controller.settings.calendar_departures:
                charging.controller.settings = replace(
                    charging.controller.settings, calendar_departures=()
                )
                charging.async_run()
            return

        @callback
        def changed(_event: Event[EventStateChangedData]) -> None:
            self._refresh_soon()

        @callback
        def tick(_now: datetime) -> None:
            self._refresh_soon()

        self._unsubs = [
            async_track_state_change_event(charging.hass, self.calendar, changed),
            async_track_time_interval(
                charging.hass, tick, REFRESH_INTERVAL, name=f"{DOMAIN} calendar departures"
            ),
        ]
        self._refresh_soon()

    @callback
    def async_stop(self) -> None:
        """Stop following the calendar."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    @callback
    def _refresh_soon(self) -> None:
        self.charging.entry.async_create_background_task(
            self.charging.hass,
            self.async_refresh(),
            f"{DOMAIN} read calendar {self.calendar}",
        )

    async def async_refresh(self) -> None:
        """Read the events from the start of today for the next eight days."""
        charging, calendar = self.charging, self.calendar
        if calendar is None:
            return
        start = dt_util.start_of_local_day()
        try:
            response = await charging.hass.services.async_call(
                CALENDAR_DOMAIN,
                SERVICE_GET_EVENTS,
                {ATTR_ENTITY_ID: calendar, ATTR_START: start, ATTR_DURATION: HORIZON},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            LOGGER.debug("Calendar %s can't be read: %s", calendar, err)
            words = await async_error_words(charging.hass, err)
            self.warnings = (
                CalendarWarning(
                    problem=CalendarProblem.UNREADABLE, facts={"calendar": calendar, "error": words}
                ),
            )
            charging.async_run()
            return
        found = response.get(calendar) if response else None
        events = found.get("events") if isinstance(found, dict) else None
        system = charging.system
        vehicle = system.vehicle if system is not None else None
        per_km = None
        if vehicle is not None:
            per_km = soc_pct_per_km(vehicle.battery_level_pct, vehicle.range_km)
        reading = read_calendar(events, tz=charging.controller.tz, soc_pct_per_km=per_km)
        self.warnings = reading.warnings
        if reading.departures != charging.controller.settings.calendar_departures:
            charging.controller.settings = replace(
                charging.controller.settings, calendar_departures=reading.departures
            )
        charging.async_run()


def next_departure_attributes(charging: VehicleSmartCharging) -> dict[str, Any]:
    """Where the next departure comes from, its target, and the calendar's warnings."""
    schedule = charging.entry.runtime_data.schedule
    warnings = () if schedule is None else schedule.warnings(charging.vehicle_id)
    texts = cached_texts(charging.hass)
    settings = charging.controller.settings
    now = dt_util.utcnow()
    departure, target = resolve_departure(settings, now, charging.controller.tz)
    override = settings.departure_override
    tz = charging.controller.tz
    event = None if departure is None else calendar_event_at(settings, departure, tz)
    if override is not None and override.at == departure and override.at > now:
        source = "one_off"
    elif event is not None:
        source = "calendar"
    elif departure is not None:
        source = "schedule" if settings.weekly_departures is not None else "daily"
    else:
        source = None
    return {
        "target_soc": target if departure is not None else None,
        "source": source,
        # An event without a title still says where the departure came from.
        "calendar_event": event or (None if event is None else texts("calendar_no_title")),
        "calendar_warnings": [calendar_warning_text(texts, warning) for warning in warnings],
    }
