"""The live guard inside Home Assistant: acts within seconds of the house sensor changing.

It reads the house (and solar) sensor, each car's charger and the plan's power now, and lets
core/live_guard.py decide the currents. Currents go to the chargers at once; a car that must
stop for the fuse is stopped by its own controller, which re-plans with the load the meter
shows (so no command path is bypassed and no stop looks like someone else's).
"""

from dataclasses import dataclass
from datetime import datetime

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import EvFlexConfigEntry
from .core.account import AccountError
from .core.controller import Decision
from .core.executor import DeviceMode
from .core.live_guard import (
    COMMAND_SPACING,
    GuardCar,
    GuardResult,
    expected_solar_kw,
    guard,
    house_without_cars,
)
from .core.model import CommandKind
from .core.pairing import command_outcome
from .core.site import GRID_VOLTAGE_V
from .site import HOUSES, HomeSite, house_key, power_kw
from .smart_charging import VehicleSmartCharging

# The meter must show this much less (kW) before a load seen live stops counting in the plan.
LIVE_LOAD_RELEASE_KW = 0.5
# The controller's reasons to charge that are not the plan's: these charge at full power.
CHARGING_OUTSIDE_PLAN = frozenset({"behind", "protective", "charge_now", "probe", "no_capacity"})


@dataclass(frozen=True, slots=True)
class _PlannedNow:
    kw: float
    solar_kw: float


def _follows_plan(decision: Decision) -> bool:
    """Whether the car charges for the plan now, rather than for its target or the user."""
    session = decision.state.session
    if session is not None and session.catching_up:
        # Behind the target's schedule: flat out, whatever the plan's power or the sun.
        return False
    return decision.reason not in CHARGING_OUTSIDE_PLAN


class SiteGuard:
    """Follows the house sensor and keeps every car at the house under the fuse."""

    def __init__(self, hass: HomeAssistant, entry: EvFlexConfigEntry, site: HomeSite) -> None:
        """Guard this entry's cars at this house."""
        self.hass = hass
        self.entry = entry
        self.site = site
        self.last_command_at: dict[str, datetime] = {}
        self.last_current: dict[str, float] = {}
        self.last_result: GuardResult | None = None
        self._meter_missing = False

    @callback
    def async_start(self) -> None:
        """Check whenever the house or solar sensor changes, and after every controller step."""
        self.site.guard_check = self._check_for_house
        settings = self.site.settings
        watched = [e for e in (settings.house_entity, settings.solar_entity) if e is not None]
        if watched:

            @callback
            def meter_changed(_event: Event[EventStateChangedData]) -> None:
                self.async_check(meter_read=True)

            self.entry.async_on_unload(
                async_track_state_change_event(self.hass, watched, meter_changed)
            )

    @callback
    def async_follow(self, charging: VehicleSmartCharging) -> None:
        """Check after each step of this car's controller (its plan may have moved)."""
        self.entry.async_on_unload(charging.async_add_listener(self.async_check))

    def _just_sent(self, vehicle_id: str, current_a: float, now: datetime) -> bool:
        """The same current went to this car moments ago (the account may not show it yet)."""
        sent_at = self.last_command_at.get(vehicle_id)
        return (
            self.last_current.get(vehicle_id) == current_a
            and sent_at is not None
            and now - sent_at < COMMAND_SPACING
        )

    def _check_for_house(self, meter_read: bool) -> None:
        self.async_check(meter_read=meter_read)

    def _house_kw(self, cars: list[GuardCar], meter_read: bool) -> float | None:
        """The house's own power. Only a new meter reading measures it again: between two
        readings a car's power may already have changed while the meter still shows the old
        one, so the last measurement stands."""
        if not meter_read and self.site.house_without_cars_kw is not None:
            return self.site.house_without_cars_kw
        settings = self.site.settings
        meter = power_kw(self.hass, settings.house_entity)
        self._warn_if_meter_missing(meter)
        return house_without_cars(
            settings.house_kind,
            meter,
            power_kw(self.hass, settings.solar_entity),
            sum(car.charging_kw for car in cars),
        )

    def _planned_now(self, charging: VehicleSmartCharging, now: datetime) -> _PlannedNow:
        """The plan's power now, and the part of it expected from solar (kW)."""
        decision = charging.controller.decision
        system = charging.system
        if decision is None or decision.action is None or system is None:
            return _PlannedNow(0.0, 0.0)
        if decision.action.mode is not DeviceMode.CHARGE:
            return _PlannedNow(0.0, 0.0)
        plan = decision.plan if _follows_plan(decision) else None
        windows = () if plan is None else plan.switch_times
        kw = next((window.kw for window in windows if window.start <= now < window.end), None)
        charger = system.charger
        if kw is None and charger is not None and charger.max_current_limit_a:
            # Charging outside the plan (charge now, behind, protective): full power.
            kw = charger.max_current_limit_a * (charger.phases or 3) * GRID_VOLTAGE_V / 1000.0
        kw = kw or 0.0
        solar = 0.0
        for slot in () if plan is None else plan.slots:
            if slot.start <= now < slot.end:
                solar = expected_solar_kw(
                    kw, slot.charge_kw, self.site.surplus_kw(slot.start, slot.end)
                )
        return _PlannedNow(kw, solar)

    def _house_sites(self) -> list[HomeSite]:
        return self.hass.data.get(HOUSES, {}).get(house_key(self.site.settings)) or [self.site]

    def _house_cars(self) -> dict[str, VehicleSmartCharging]:
        return {charging.vehicle_id: charging for charging in self.site.house_cars()}

    def _cars(self, now: datetime) -> list[GuardCar]:
        cars: list[GuardCar] = []
        for vehicle_id, charging in self._house_cars().items():
            system = charging.system
            if system is None or system.charger is None or not system.vehicle.is_plugged_in:
                continue
            charger = system.charger
            planned = self._planned_now(charging, now)
            cars.append(
                GuardCar(
                    vehicle_id=vehicle_id,
                    can_set_current=charger.capabilities.can_set_max_current,
                    phases=charger.phases or 3,
                    min_current_a=charger.min_current_a or 6.0,
                    max_current_a=charger.max_current_limit_a or 32.0,
                    charging_kw=max(0.0, charger.charge_rate_kw or 0.0),
                    current_a=charger.max_current_a,
                    planned_kw=planned.kw,
                    planned_solar_kw=planned.solar_kw,
                    mode=self.site.solar_mode(vehicle_id),
                    last_command_at=self.last_command_at.get(vehicle_id),
                )
            )
        return cars

    @callback
    def async_check(self, *, meter_read: bool = False) -> None:
        """Decide the currents now and act on them (`meter_read`: the meter just changed).

        One guard decides for the whole house (the first entry's), so two entries' cars never
        both take the same headroom; the others hand their checks to it.
        """
        lead = self._house_sites()[0]
        if lead is not self.site and lead.guard_check is not None:
            # The house's meter is the lead's to follow (the same sensor).
            if not meter_read:
                lead.guard_check(False)
            return
        now = dt_util.utcnow()
        settings = self.site.settings
        cars = self._cars(now)
        house = self._house_kw(cars, meter_read)
        result = guard(now, house_kw=house, import_limit_kw=settings.import_limit_kw, cars=cars)
        self.last_result = result
        for site in self._house_sites():
            site.house_without_cars_kw = house
        charging = self._house_cars()
        for command in result.commands:
            if self._just_sent(command.vehicle_id, command.current_a, now):
                continue
            self.last_command_at[command.vehicle_id] = now
            self.last_current[command.vehicle_id] = command.current_a
            self.entry.async_create_background_task(
                self.hass,
                self._async_set_current(charging[command.vehicle_id], command.current_a),
                f"{DOMAIN} guard {command.vehicle_id}",
            )
        self._follow_live_load(house, result)
        for site in self._house_sites():
            site.notify_state()

    def _follow_live_load(self, house: float | None, result: GuardResult) -> None:
        """A car that must stop for the fuse: re-plan with the load the meter shows."""
        sites = self._house_sites()
        if result.stop_for_fuse and house is not None:
            if self.site.live_load_kw is not None and abs(self.site.live_load_kw - house) < 0.05:
                # Already re-planned with this load; the stop is on its way.
                return
            for site in sites:
                site.live_load_kw = house
            cars = self._house_cars()
            for vehicle_id in result.stop_for_fuse:
                # After this check: the re-plan's step runs the guard again.
                self.hass.loop.call_soon(cars[vehicle_id].async_replan)
        elif (
            (seen := self.site.live_load_kw) is not None
            and house is not None
            and house < seen - LIVE_LOAD_RELEASE_KW
        ):
            for site in sites:
                site.live_load_kw = None

    def _warn_if_meter_missing(self, meter: float | None) -> None:
        missing = meter is None and self.site.settings.house_entity is not None
        if missing and not self._meter_missing:
            LOGGER.warning(
                "%s has no reading: charging follows the plan and is never raised on a guess",
                self.site.settings.house_entity,
            )
        self._meter_missing = missing

    async def _async_set_current(self, charging: VehicleSmartCharging, current_a: float) -> None:
        system = charging.system
        if system is None or system.charger is None:
            return
        # The car's own entry: in a shared house it may be another entry's.
        runtime = charging.entry.runtime_data
        try:
            routed = await runtime.commands.async_route(
                system, CommandKind.SET_MAX_CURRENT, current_a
            )
            command_outcome(routed)
        except AccountError as err:
            LOGGER.warning(
                "Could not set the charging current of %s: %s", charging.display_name, err
            )
            return
        await runtime.coordinator.async_request_refresh()
