"""Departures, reminders and the session history of an entry's vehicles.

Each vehicle's departures follow its calendar (departures.py); after every smart-charging step
EV Flex checks whether to remind the user to plug in (reminder.py) and records a session that
ended. The history and the departures already reminded of live in one store per entry, so a
restart loses no session and repeats no reminder.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import CONF_REMINDER_NOTIFY, DOMAIN
from .coordinator import EvFlexConfigEntry
from .core.calendar_departures import CalendarWarning
from .core.controller import Decision, EventKind, resolve_departure
from .core.controller_data import Observation
from .core.live_guard import house_without_cars
from .core.reminder import ChargeOutlook, charge_curve, reminder_due
from .core.session_history import (
    SessionRecord,
    SolarTally,
    between,
    pruned,
    read_records,
    read_tallies,
)
from .departures import CalendarDepartures, vehicle_options
from .reminder import (
    EVENT_PLUG_IN_REMINDER,
    async_send_reminder,
    reminder_event_data,
    reminder_message,
)
from .site import power_kw
from .smart_charging import VehicleSmartCharging, new_vehicle_signal
from .stores import async_load_store, async_report_reset
from .texts import cached_texts

STORE_VERSION = 1
SAVE_DELAY_SECONDS = 10
# Repair issues about the store name it by this.
HISTORY_SUBJECT = "sessions"
HISTORY_PART = "sessions.records"


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.sessions.{entry_id}")


@dataclass(kw_only=True)
class ScheduleRuntime:
    """An entry's session history, the departures reminded of, and its vehicles' calendars."""

    store: Store[dict[str, Any]]
    records: list[SessionRecord] = field(default_factory=list)
    # The departure (ISO 8601) each vehicle was last reminded of.
    reminded: dict[str, str] = field(default_factory=dict)
    calendars: dict[str, CalendarDepartures] = field(default_factory=dict)
    # The solar share of each session in progress, so far.
    tallies: dict[str, SolarTally] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """What the store holds."""
        return {
            "sessions": [record.to_dict() for record in self.records],
            "reminded": dict(self.reminded),
            "solar": {vehicle_id: tally.to_dict() for vehicle_id, tally in self.tallies.items()},
        }

    async def async_flush(self) -> None:
        """Store now (the entry unloads)."""
        await self.store.async_save(self.to_dict())

    @callback
    def async_save(self) -> None:
        """Store soon (and at the latest when Home Assistant stops)."""
        self.store.async_delay_save(self.to_dict, SAVE_DELAY_SECONDS)

    def add(self, record: SessionRecord) -> None:
        """Keep a finished session; sessions older than two years are dropped."""
        self.records = pruned([*self.records, record], record.ended_at)
        self.async_save()

    def warnings(self, vehicle_id: str) -> tuple[CalendarWarning, ...]:
        """What the vehicle's calendar could not be read for."""
        calendar = self.calendars.get(vehicle_id)
        return () if calendar is None else calendar.warnings


async def async_setup_schedule(hass: HomeAssistant, entry: EvFlexConfigEntry) -> ScheduleRuntime:
    """Load the history and follow every vehicle's steps, now and for vehicles added later."""
    store = _store(hass, entry.entry_id)
    saved = await async_load_store(
        hass,
        store,
        entry_id=entry.entry_id,
        subject=HISTORY_SUBJECT,
        name=entry.title,
        expected=False,
    )
    records, dropped = read_records(saved)
    reminded = saved.get("reminded") if isinstance(saved, dict) else None
    runtime = ScheduleRuntime(
        store=store,
        records=pruned(records, dt_util.utcnow()),
        reminded={
            key: value
            for key, value in (reminded if isinstance(reminded, dict) else {}).items()
            if isinstance(key, str) and isinstance(value, str)
        },
        tallies=read_tallies(saved.get("solar") if isinstance(saved, dict) else None),
    )
    if dropped:
        async_report_reset(hass, entry.entry_id, HISTORY_SUBJECT, entry.title, [HISTORY_PART])
        runtime.async_save()
    return runtime


@callback
def async_start_schedule(entry: EvFlexConfigEntry, runtime: ScheduleRuntime) -> None:
    """Start the calendars and step listeners of the entry's vehicles (and of later ones)."""

    @callback
    def follow(charging: VehicleSmartCharging) -> None:
        calendar = CalendarDepartures(charging)
        runtime.calendars[charging.vehicle_id] = calendar
        watcher = VehicleWatcher(runtime, charging)
        entry.async_on_unload(charging.async_add_listener(watcher.async_step))
        entry.async_on_unload(calendar.async_stop)
        calendar.async_start()

    for charging in entry.runtime_data.smart_charging.values():
        follow(charging)
    entry.async_on_unload(runtime.async_flush)
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.coordinator.hass, new_vehicle_signal(entry), follow
        )
    )


class VehicleWatcher:
    """After each step of one vehicle: record a session that ended, remind when it is time."""

    def __init__(self, runtime: ScheduleRuntime, charging: VehicleSmartCharging) -> None:
        """Watch one vehicle."""
        self.runtime = runtime
        self.charging = charging
        self._seen: Decision | None = None
        # The departure, target and charge of the session in progress, as last seen.
        self._session: tuple[datetime | None, float | None, float | None] | None = None

    @callback
    def async_step(self) -> None:
        """Look at the latest decision once."""
        decision = self.charging.controller.decision
        if decision is None or decision is self._seen:
            return
        self._seen = decision
        observation = self.charging.observation()
        self._record(decision, observation)
        self._remind(decision, observation)

    def _solar_surplus_kw(self) -> float | None:
        """What the house's solar panels give beyond the house's own load now (kW), read from
        the house's meters as the live guard reads them; None without a solar sensor or a
        reading."""
        entry = self.charging.entry
        site = entry.runtime_data.site
        if site is None or site.settings.solar_entity is None:
            return None
        settings = site.settings
        cars_kw = sum(
            max(0.0, charging.observation().power_kw or 0.0)
            for charging in entry.runtime_data.smart_charging.values()
        )
        house = house_without_cars(
            settings.house_kind,
            power_kw(self.charging.hass, settings.house_entity),
            power_kw(self.charging.hass, settings.solar_entity),
            cars_kw,
        )
        return None if house is None or not math.isfinite(house) else max(0.0, -house)

    def _record(self, decision: Decision, observation: Observation) -> None:
        soc = decision.soc.soc_pct if decision.soc is not None else None
        ended = any(event.kind is EventKind.SESSION_ENDED for event in decision.events)
        summary = decision.state.last_session
        vehicle_id, now = self.charging.vehicle_id, dt_util.utcnow()
        tally = self.runtime.tallies.pop(vehicle_id, None) if ended else None
        if tally is not None:
            tally.add(now, 0.0, self._solar_surplus_kw())
        if ended and summary is not None:
            departure, target, last_soc = self._session or (None, None, None)
            self.runtime.add(
                SessionRecord(
                    vehicle_id=self.charging.vehicle_id,
                    started_at=summary.started_at,
                    ended_at=summary.ended_at,
                    energy_kwh=summary.energy_in_kwh,
                    energy_out_kwh=summary.energy_out_kwh,
                    cost=summary.cost - summary.revenue,
                    savings=summary.savings,
                    solar_share=None if tally is None else tally.share,
                    departure=departure,
                    target_soc_pct=target,
                    soc_at_end_pct=soc if soc is not None else last_soc,
                )
            )
        session = decision.state.session
        self._session = (
            None if session is None else (session.departure, session.target_soc_pct, soc)
        )
        if session is not None:
            tally = self.runtime.tallies.setdefault(vehicle_id, SolarTally())
            tally.add(now, observation.power_kw, self._solar_surplus_kw())
            self.runtime.async_save()

    def _remind(self, decision: Decision, observation: Observation) -> None:
        charging = self.charging
        settings = charging.controller.settings
        if not settings.smart_charging:
            return
        now = dt_util.utcnow()
        departure, target = decision.departure, decision.target_soc_pct
        if departure is None:
            departure, target = resolve_departure(settings, now, charging.controller.tz)
        model = decision.model
        reminder = reminder_due(
            ChargeOutlook(
                now=now,
                at_home=observation.at_charging_location,
                plugged_in=observation.plugged_in,
                departure=departure,
                target_soc_pct=target,
                soc_pct=decision.soc.soc_pct if decision.soc is not None else None,
                capacity_kwh=observation.capacity_kwh,
                charge_kw=model.max_kw * model.efficiency,
                curve=charge_curve(model, observation.capacity_kwh),
                shortfall_pct=decision.shortfall_pct,
            )
        )
        vehicle_id = charging.vehicle_id
        if (
            reminder is None
            or self.runtime.reminded.get(vehicle_id) == reminder.departure.isoformat()
        ):
            return
        self.runtime.reminded[vehicle_id] = reminder.departure.isoformat()
        self.runtime.async_save()
        name = charging.display_name
        hass = charging.hass
        hass.bus.async_fire(
            EVENT_PLUG_IN_REMINDER,
            reminder_event_data(hass, charging.entry.entry_id, vehicle_id, name, reminder),
        )
        target_id = vehicle_options(charging).get(CONF_REMINDER_NOTIFY)
        if isinstance(target_id, str) and target_id:
            title, message = reminder_message(name, reminder, cached_texts(hass))
            charging.entry.async_create_background_task(
                hass,
                async_send_reminder(hass, target_id, title, message),
                f"{DOMAIN} plug-in reminder {vehicle_id}",
            )


def record_export(record: SessionRecord, vehicle: str, currency: str) -> dict[str, Any]:
    """A record as `export_sessions` and the diagnostics show it (local times)."""

    def local(moment: datetime | None) -> str | None:
        return None if moment is None else dt_util.as_local(moment).isoformat()

    return {
        "vehicle": vehicle,
        "vehicle_id": record.vehicle_id,
        "started_at": local(record.started_at),
        "ended_at": local(record.ended_at),
        "energy_kwh": round(record.energy_kwh, 3),
        "energy_out_kwh": round(record.energy_out_kwh, 3),
        "cost": round(record.cost, 4),
        "savings": round(record.savings, 4),
        "currency": currency,
        "solar_share": record.solar_share,
        "departure": local(record.departure),
        "target_soc": record.target_soc_pct,
        "soc_at_end": record.soc_at_end_pct,
        "departure_met": record.departure_met,
    }


def export_records(
    entry: EvFlexConfigEntry,
    vehicle_ids: Iterable[str] | None,
    start: datetime,
    end: datetime,
    currency: str,
) -> list[dict[str, Any]]:
    """The entry's sessions that started in [start, end), of the given vehicles (None: all)."""
    runtime = entry.runtime_data.schedule
    if runtime is None:
        return []
    wanted = None if vehicle_ids is None else set(vehicle_ids)
    names = {
        vehicle_id: charging.display_name
        for vehicle_id, charging in entry.runtime_data.smart_charging.items()
    }
    return [
        record_export(record, names.get(record.vehicle_id, entry.title), currency)
        for record in between(runtime.records, start, end)
        if wanted is None or record.vehicle_id in wanted
    ]


async def async_remove_schedule(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed entry's history."""
    await _store(hass, entry_id).async_remove()
