"""The house around the chargers, inside Home Assistant.

Reads the site options, learns the base-load profile from the recorder's statistics (on the
recorder's executor, once a day), keeps the solar forecast and this month's peaks, and builds
the planner request's `site` (see core/site.py). It also follows the house sensor for the live
guard. Without site options there is no `HomeSite` and smart charging plans as before.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.loader import IntegrationNotFound, async_get_integration
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .core.base_load import BaseLoadProfile, base_load_hours
from .core.hour_import import HourImport, hour_began
from .core.live_guard import house_without_cars
from .core.model import ChargerState
from .core.planner import Plan, PlanRequest, SiteSpec
from .core.site import (
    HouseSensorKind,
    SiteError,
    SiteSettings,
    SolarMode,
    charger_min_kw,
    house_request,
    month_peak,
    site_for_slots,
)
from .core.solar_forecast import (
    SOLCAST_ATTRIBUTE,
    SolarForecast,
    parse_forecast_solar,
    parse_solcast,
    solcast_lists,
)
from .entities_account import POWER_UNITS_TO_KW, scaled_reading
from .house_plan import HousePlanner

if TYPE_CHECKING:
    from .coordinator import EvFlexConfigEntry
    from .smart_charging import VehicleSmartCharging

CONF_SITE = "site"
CONF_HOUSE_ENTITY = "house_entity"
CONF_HOUSE_KIND = "house_kind"
CONF_SOLAR_ENTITY = "solar_entity"
CONF_FORECAST_ENTITY = "forecast_entity"
CONF_FUSE_A = "fuse_a"
CONF_PHASES = "phases"
CONF_FUSE_KW = "fuse_kw"
CONF_PEAK_PRICE = "peak_price_per_kw"
CONF_PEAK_COUNTING = "peak_counting"

FORECAST_SOLAR_DOMAIN = "forecast_solar"
# The sites of every entry, by house: entries with the same house sensor (or none: the Home
# Assistant home) share one house, its fuse and its peak.
HOUSES: HassKey[dict[str, list[HomeSite]]] = HassKey(f"{DOMAIN}_houses")
HOUSE_PLANNERS: HassKey[dict[str, HousePlanner]] = HassKey(f"{DOMAIN}_house_planners")
STORE_VERSION = 1
# The profile looks back four weeks, so each weekday has four samples of each hour.
PROFILE_HISTORY = timedelta(days=28)
PROFILE_REFRESH = timedelta(days=1)
FORECAST_REFRESH = timedelta(minutes=30)
CAR_POWER_KEY = "charge_rate"
HOUR_IMPORT_SAVE_EVERY = timedelta(minutes=1)


def _time(value: Any) -> datetime:
    moment = dt_util.parse_datetime(str(value))
    if moment is None:
        raise ValueError(f"{value!r} is not a time")
    return moment


def house_key(settings: SiteSettings) -> str:
    """Which house a site belongs to: its house sensor, else the Home Assistant home."""
    return settings.house_entity or "home"


def site_settings(options: Mapping[str, Any]) -> SiteSettings:
    """The entry's site settings; unreadable ones count as none (and are logged)."""
    try:
        return SiteSettings.from_dict(options.get(CONF_SITE) or {})
    except SiteError as err:
        LOGGER.warning("The site options cannot be read (%s); planning without the house", err)
        return SiteSettings()


def is_solar_forecast(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity is a Forecast.Solar sensor or a Solcast forecast day sensor."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is not None and entry.platform == FORECAST_SOLAR_DOMAIN:
        return True
    state = hass.states.get(entity_id)
    return state is not None and SOLCAST_ATTRIBUTE in state.attributes


def power_kw(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """A power sensor's reading in kW; None when it has none that can be trusted."""
    state = hass.states.get(entity_id) if entity_id else None
    value = scaled_reading(state, POWER_UNITS_TO_KW)
    if value is None or not abs(value) < 1e6:
        return None
    return value


type HourlyMeans = dict[str, dict[datetime, float]]


def _hourly_means(
    hass: HomeAssistant, entity_ids: set[str], start: datetime, end: datetime
) -> HourlyMeans:
    """Hourly average power (kW) per sensor from the long-term statistics (recorder thread)."""
    rows = statistics_during_period(hass, start, end, entity_ids, "hour", {"power": "kW"}, {"mean"})
    means: HourlyMeans = {}
    for entity_id, entity_rows in rows.items():
        means[entity_id] = {
            dt_util.utc_from_timestamp(row["start"]): mean
            for row in entity_rows
            if (mean := row.get("mean")) is not None
        }
    return means


class HomeSite:
    """One house: its settings, base-load profile, solar forecast and this month's peaks."""

    def __init__(self, hass: HomeAssistant, entry: EvFlexConfigEntry, settings: SiteSettings):
        """Hold the settings; `async_start` loads what was learned and starts following."""
        self.hass = hass
        self.entry = entry
        self.settings = settings
        self.profile = BaseLoadProfile()
        self.profile_learned_at: datetime | None = None
        self.daily_peaks_kw: dict[str, float] = {}
        self.forecast: SolarForecast | None = None
        self.solar_modes: dict[str, SolarMode] = {}
        # The house's own load as the meter shows it now, when above what was expected (kW).
        self.live_load_kw: float | None = None
        # The grid import of the clock hour so far, for the capacity tariff's replans.
        self.hour_import = HourImport(self.tz)
        self._hour_saved_at: datetime | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.site.{entry.entry_id}"
        )
        self._listeners: list[CALLBACK_TYPE] = []
        self._state_listeners: list[CALLBACK_TYPE] = []
        # The house's own power without the cars, as the live guard last saw it (kW).
        self.house_without_cars_kw: float | None = None
        # The live guard's check, so the other entries of the house can hand theirs to it.
        self.guard_check: Callable[[bool], None] | None = None

    @property
    def tz(self) -> tzinfo:
        """Home Assistant's time zone: profiles and peak days follow the local clock."""
        return dt_util.get_default_time_zone()

    async def async_start(self) -> None:
        """Load what was stored, and learn or refresh what is out of date."""
        self._restore(await self._store.async_load())
        self.entry.async_on_unload(self._async_save_now)

        @callback
        def stopping(_event: Event) -> None:
            # Home Assistant writes pending saves last thing; the hour so far is one.
            self._store.async_delay_save(self._stored)

        self.entry.async_on_unload(self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, stopping))
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_daily, PROFILE_REFRESH, name=f"{DOMAIN} site profile"
            )
        )
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_forecast_tick, FORECAST_REFRESH, name=f"{DOMAIN} forecast"
            )
        )
        self._follow_meter()
        await self.async_refresh_forecast()
        learned = self.profile_learned_at
        if learned is None or dt_util.utcnow() - learned >= PROFILE_REFRESH:
            self.entry.async_create_background_task(
                self.hass, self.async_learn(), f"{DOMAIN} learn base load"
            )

    def _restore(self, saved: object) -> None:
        if not isinstance(saved, Mapping):
            return
        self.profile = BaseLoadProfile.from_dict(saved.get("profile"))
        learned = saved.get("profile_learned_at")
        self.profile_learned_at = (
            dt_util.parse_datetime(learned) if isinstance(learned, str) else None
        )
        modes = saved.get("solar_modes")
        if isinstance(modes, Mapping):
            self.solar_modes = {
                str(vehicle): SolarMode(mode)
                for vehicle, mode in modes.items()
                if mode in SolarMode.__members__.values()
            }
        self.hour_import = HourImport.restored(self.tz, saved.get("hour_import"), dt_util.utcnow())
        peaks = saved.get("daily_peaks_kw")
        if isinstance(peaks, Mapping):
            self.daily_peaks_kw = {
                str(day): float(kw)
                for day, kw in peaks.items()
                if isinstance(kw, int | float) and 0 <= kw < 1e6
            }

    def _stored(self) -> dict[str, Any]:
        if self.settings.house_entity is not None:
            # The held meter reading counts up to the save (without a meter, the next plan
            # tells what the house drew since the last one).
            self.hour_import.advance(dt_util.utcnow())
        return {
            "profile": self.profile.to_dict(),
            "profile_learned_at": self.profile_learned_at.isoformat()
            if self.profile_learned_at
            else None,
            "solar_modes": {vehicle: mode.value for vehicle, mode in self.solar_modes.items()},
            "daily_peaks_kw": self.daily_peaks_kw,
            "hour_import": self.hour_import.to_dict(),
        }

    async def _async_save_now(self) -> None:
        """Store at once (the entry unloads: a reload reads it right after)."""
        await self._store.async_save(self._stored())

    def _save(self) -> None:
        self._store.async_delay_save(self._stored, 5)

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Be told when what the site expects changed (profile, forecast, modes)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
        self.notify_state()

    @callback
    def async_add_state_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Be told when a reading of the house changed (for its entities)."""
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener)

    @callback
    def notify_state(self) -> None:
        """Tell the house's entities to read again."""
        for listener in list(self._state_listeners):
            listener()

    def surplus_kw(self, start: datetime, end: datetime) -> float:
        """Expected solar production beyond the house's own load over a period (kW)."""
        return max(0.0, self.solar_kw(start, end) - self.profile.average_kw(start, end, self.tz))

    def expected_month_peak_kw(self, plans: Sequence[Plan | None]) -> float:
        """This month's peak as the tariff counts it, with what the plans expect today (kW)."""
        today = dt_util.now(self.tz).date().isoformat()
        peaks = dict(self.daily_peaks_kw)
        for plan in plans:
            if plan is not None and plan.peak_kw is not None:
                peaks[today] = max(peaks.get(today, 0.0), plan.peak_kw)
        return month_peak(self.settings, peaks)

    # Solar modes

    def solar_mode(self, vehicle_id: str) -> SolarMode:
        """How this vehicle uses solar (cheapest unless chosen otherwise)."""
        return self.solar_modes.get(vehicle_id, SolarMode.CHEAPEST)

    def set_solar_mode(self, vehicle_id: str, mode: SolarMode) -> None:
        """Choose how this vehicle uses solar; stored at once."""
        self.solar_modes[vehicle_id] = mode
        self._save()
        self._changed()

    # Learning

    async def _async_daily(self, _now: datetime) -> None:
        await self.async_learn()

    async def async_learn(self) -> None:
        """Learn the base-load profile and this month's peaks from the statistics."""
        settings = self.settings
        if settings.house_entity is None or "recorder" not in self.hass.config.components:
            return
        now = dt_util.utcnow()
        ids = {settings.house_entity, *self._car_power_entities()}
        if settings.solar_entity:
            ids.add(settings.solar_entity)
        means = await get_instance(self.hass).async_add_executor_job(
            _hourly_means, self.hass, ids, now - PROFILE_HISTORY, now
        )
        house = means.get(settings.house_entity, {})
        cars: dict[datetime, float] = {}
        for entity_id in self._car_power_entities():
            for hour, kw in means.get(entity_id, {}).items():
                cars[hour] = cars.get(hour, 0.0) + kw
        solar = means.get(settings.solar_entity, {}) if settings.solar_entity else None
        self.profile = BaseLoadProfile.learn(
            base_load_hours(settings.house_kind, house, solar, cars), self.tz
        )
        self.daily_peaks_kw = self._month_peaks(house, now)
        self.profile_learned_at = now
        self._save()
        self._changed()

    def _month_peaks(self, house: Mapping[datetime, float], now: datetime) -> dict[str, float]:
        """The highest hourly import of each day this month (a grid meter only)."""
        if self.settings.house_kind is not HouseSensorKind.GRID:
            return {}
        month = now.astimezone(self.tz).strftime("%Y-%m")
        peaks: dict[str, float] = {}
        for hour, kw in house.items():
            day = hour.astimezone(self.tz).date().isoformat()
            if day.startswith(month):
                peaks[day] = max(peaks.get(day, 0.0), kw)
        return peaks

    def _car_power_entities(self) -> list[str]:
        """The charge-rate sensors of this entry's vehicles, to take them out of the house."""
        registry = er.async_get(self.hass)
        found: list[str] = []
        for vehicle_id in self.entry.runtime_data.coordinator.data.vehicles:
            unique_id = f"{vehicle_id}_{CAR_POWER_KEY}"
            if entity_id := registry.async_get_entity_id("sensor", DOMAIN, unique_id):
                found.append(entity_id)
        return found

    # The hour's import so far

    def _follow_meter(self) -> None:
        settings = self.settings
        watched = [e for e in (settings.house_entity, settings.solar_entity) if e is not None]
        if settings.house_entity is None:
            return

        @callback
        def meter_changed(_event: Event[EventStateChangedData]) -> None:
            self._read_meter()

        self.entry.async_on_unload(
            async_track_state_change_event(self.hass, watched, meter_changed)
        )
        self._read_meter()

    def _read_meter(self) -> None:
        """Hold the meter's grid import from now on (consumption less solar, where it
        measures consumption)."""
        settings = self.settings
        grid = house_without_cars(
            settings.house_kind,
            self.house_power_kw(),
            power_kw(self.hass, settings.solar_entity),
            0.0,
        )
        now = dt_util.utcnow()
        self.hour_import.reading(now, grid)
        self._hour_import_changed(now)

    def _hour_import_changed(self, now: datetime) -> None:
        # Kept over a restart: stored about once a minute (a meter may report every second),
        # and when Home Assistant stops.
        if self._hour_saved_at is None or now - self._hour_saved_at >= HOUR_IMPORT_SAVE_EVERY:
            self._hour_saved_at = now
            self._save()

    def hour_import_kwh(self, now: datetime) -> float:
        """What the house imported since the clock hour began (kWh): the meter's readings, and
        where none covers a stretch (no house sensor, or not followed yet), what the house was
        expected to draw then."""
        began = hour_began(now, self.tz)
        meter = self.hour_import
        if self.settings.house_entity is None:
            # No meter: since the last plan, the house drew what was expected and the cars what
            # the plans made then planned; what comes next, the next plan tells.
            if meter.last_at is not None and meter.last_at < now:
                since = meter.last_at
                meter.revise(self._expected_kw(since, now) + self._cars_planned_kw(since, now))
            meter.reading(now, None)
            self._hour_import_changed(now)
        expected = self._expected_kw(began, now) if now > began else 0.0
        return round(meter.so_far(now, expected), 3)

    def _expected_kw(self, start: datetime, end: datetime) -> float:
        """The house's expected draw from the grid without the cars over a period (kW)."""
        return self.profile.average_kw(start, end, self.tz) - self.solar_kw(start, end)

    def _cars_planned_kw(self, start: datetime, end: datetime) -> float:
        """The house's cars' planned grid power over a period (discharging negative, kW)."""
        total = 0.0
        for charging in self.house_cars():
            decision = charging.controller.decision
            plan = None if decision is None else decision.plan
            for slot in () if plan is None else plan.slots:
                overlap = min(slot.end, end) - max(slot.start, start)
                if overlap > timedelta(0):
                    total += (slot.charge_kw - slot.discharge_kw) * (overlap / (end - start))
        return total

    # The solar forecast

    async def _async_forecast_tick(self, _now: datetime) -> None:
        await self.async_refresh_forecast()

    async def async_refresh_forecast(self) -> None:
        """Read the forecast entity again (Forecast.Solar or Solcast)."""
        entity_id = self.settings.forecast_entity
        forecast: SolarForecast | None = None
        if entity_id is not None:
            entry = er.async_get(self.hass).async_get(entity_id)
            if entry is not None and entry.platform == FORECAST_SOLAR_DOMAIN:
                forecast = await self._async_forecast_solar(entry.config_entry_id)
            else:
                forecast = parse_solcast(self._solcast_lists(entity_id, entry))
        if forecast != self.forecast:
            self.forecast = forecast
            self._changed()

    async def _async_forecast_solar(self, config_entry_id: str | None) -> SolarForecast | None:
        """Through Forecast.Solar's energy platform, its published forecast interface."""
        if config_entry_id is None:
            return None
        try:
            integration = await async_get_integration(self.hass, FORECAST_SOLAR_DOMAIN)
            platform = await integration.async_get_platform("energy")
            data = await platform.async_get_solar_forecast(self.hass, config_entry_id)
        except (IntegrationNotFound, ImportError, AttributeError) as err:
            LOGGER.warning("The Forecast.Solar forecast cannot be read: %s", err)
            return None
        return parse_forecast_solar(data)

    def _solcast_lists(self, entity_id: str, entry: er.RegistryEntry | None) -> list[object]:
        """The chosen Solcast day sensor's forecast and that of its sibling day sensors."""
        ids = [entity_id]
        if entry is not None and entry.device_id is not None:
            registry = er.async_get(self.hass)
            ids += [
                sibling.entity_id
                for sibling in er.async_entries_for_device(registry, entry.device_id)
                if sibling.entity_id != entity_id
            ]
        lists: list[object] = []
        for sibling_id in ids:
            if (state := self.hass.states.get(sibling_id)) is not None:
                lists += solcast_lists(state.attributes)
        return lists

    def solar_kw(self, start: datetime, end: datetime) -> float:
        """Expected solar production over a period; 0 without a usable forecast."""
        forecast = self.forecast
        if forecast is None or not forecast.usable_at(dt_util.utcnow()):
            return 0.0
        return forecast.average_kw(start, end)

    # For the planner

    def site_request(self, slots: list[tuple[datetime, datetime]]) -> SiteSpec | None:
        """The planner request's `site` for these price slots; None when nothing is set."""
        if not self.settings.configured or not slots:
            return None
        tz = self.tz
        return site_for_slots(
            self.settings,
            slots,
            base_load_kw=lambda start, end: self.profile.average_kw(start, end, tz),
            solar_kw=self.solar_kw,
            daily_peaks_kw=self.daily_peaks_kw,
        )

    def planner_request(
        self, vehicle_id: str, request: PlanRequest, charger: ChargerState | None
    ) -> PlanRequest:
        """A vehicle's planner request with the house added: `site`, the charger's minimum
        power where it takes a current, and the vehicle's solar mode."""
        slots = [(slot.start, slot.end) for slot in request.prices]
        site = self.site_request(slots)
        if site is not None:
            base = list(site.base_load_kw)
            if self.live_load_kw is not None and base:
                # The meter shows more than expected right now: plan the slot with what is seen.
                base[0] = max(base[0], self.live_load_kw)
            # The house's other cars are planned with this one (core/site_plan.py).
            site = replace(
                site,
                base_load_kw=tuple(round(kw, 3) for kw in base),
                hour_import_kwh=self.hour_import_kwh(request.now),
            )
        min_kw = 0.0
        if charger is not None and charger.capabilities.can_set_max_current:
            min_kw = charger_min_kw(
                charger.min_current_a, charger.phases, self.settings.import_limit_kw
            )
        return house_request(request, site, min_kw, self.solar_mode(vehicle_id))

    # The cars of the house, across entries

    @property
    def house_planner(self) -> HousePlanner:
        """The joint plan of the house's cars, shared by the entries of the house."""
        planners = self.hass.data.setdefault(HOUSE_PLANNERS, {})
        return planners.setdefault(house_key(self.settings), HousePlanner(self.hass))

    @callback
    def leave_house_plan(self, vehicle_id: str) -> None:
        """The car takes part in the house's joint plan no more."""
        if planner := self.hass.data.get(HOUSE_PLANNERS, {}).get(house_key(self.settings)):
            planner.leave(vehicle_id)

    def takes_part(self, vehicle_id: str) -> bool:
        """Whether the car has asked the house's joint plan (and not left it since)."""
        return vehicle_id in self.house_planner.plans.asks

    def house_cars(self) -> list[VehicleSmartCharging]:
        """Every car of the house: entries as they joined."""
        sites = self.hass.data.get(HOUSES, {}).get(house_key(self.settings)) or [self]
        return [
            charging
            for site in sites
            for charging in site.entry.runtime_data.smart_charging.values()
        ]

    def house_power_kw(self) -> float | None:
        """The house sensor's reading now (kW), None without a trustworthy one."""
        return power_kw(self.hass, self.settings.house_entity)


async def async_setup_site(hass: HomeAssistant, entry: EvFlexConfigEntry) -> HomeSite | None:
    """The entry's house, when its options describe one; smart charging re-plans when what the
    house expects changes."""
    settings = site_settings(entry.options)
    if not settings.configured:
        return None
    site = HomeSite(hass, entry, settings)
    key = house_key(settings)
    house = hass.data.setdefault(HOUSES, {}).setdefault(key, [])
    house.append(site)

    @callback
    def leave_house() -> None:
        house.remove(site)
        if not house:
            hass.data.get(HOUSE_PLANNERS, {}).pop(key, None)

    entry.async_on_unload(leave_house)

    @callback
    def replan() -> None:
        for charging in entry.runtime_data.smart_charging.values():
            charging.async_replan()

    entry.async_on_unload(site.async_add_listener(replan))
    await site.async_start()
    return site
