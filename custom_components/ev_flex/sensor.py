"""Sensors for vehicles and chargers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .const import DOMAIN, WEEKDAYS
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.account import HomeReadings
from .core.controller import Decision, SmartChargingState, resolve_departure
from .core.model import ChargerState, VehicleState
from .core.pairing import PairingState
from .core.planner import Plan
from .core.prices import PriceStatus
from .core.site import planned_power_now, solar_share_pct
from .core.tariff import ExportKind, PricedSlot, chart_slots
from .departures import next_departure_attributes
from .entity import (
    EvFlexChargerEntity,
    EvFlexPriceEntity,
    EvFlexSiteEntity,
    EvFlexVehicleEntity,
    SmartChargingEntity,
    async_setup_device_entities,
    async_setup_smart_charging_entities,
    charging_currency,
    service_device_id,
    simulated_home_device_id,
)
from .helpers import POWER_DIGITS, power_kw
from .price_source import PriceCoordinator, PriceData
from .site import HomeSite
from .smart_charging import VehicleSmartCharging, finite_or_none
from .texts import cached_texts

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VehicleSensorDescription(SensorEntityDescription):
    """A vehicle sensor and how to read it."""

    value_fn: Callable[[VehicleState], StateType | datetime]


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A charger sensor and how to read it."""

    value_fn: Callable[[ChargerState], StateType]


VEHICLE_SENSORS: tuple[VehicleSensorDescription, ...] = (
    VehicleSensorDescription(
        key="battery_level",
        translation_key="battery_level",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda vehicle: vehicle.battery_level_pct,
    ),
    VehicleSensorDescription(
        key="range",
        translation_key="range",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda vehicle: vehicle.range_km,
    ),
    VehicleSensorDescription(
        key="charge_rate",
        translation_key="charge_rate",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda vehicle: power_kw(vehicle.charge_rate_kw),
    ),
    VehicleSensorDescription(
        key="charge_time_remaining",
        translation_key="charge_time_remaining",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda vehicle: vehicle.charge_time_remaining_min,
    ),
    VehicleSensorDescription(
        key="plugged_in_since",
        translation_key="plugged_in_since",
        device_class=SensorDeviceClass.TIMESTAMP,
        # The earlier of the car's and the charger's plug-in signals.
        value_fn=lambda vehicle: vehicle.plugged_in_at if vehicle.is_plugged_in else None,
    ),
    VehicleSensorDescription(
        key="odometer",
        translation_key="odometer",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.odometer_km,
    ),
    VehicleSensorDescription(
        key="battery_capacity",
        translation_key="battery_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.battery_capacity_kwh,
    ),
    VehicleSensorDescription(
        key="charge_limit",
        translation_key="charge_limit",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda vehicle: vehicle.charge_limit_pct,
    ),
)

CHARGER_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="charge_rate",
        translation_key="charge_rate",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda charger: power_kw(charger.charge_rate_kw),
    ),
)


@dataclass(frozen=True, kw_only=True)
class ControllerSensorDescription(SensorEntityDescription):
    """A sensor read from the latest decision or the controller state."""

    value_fn: Callable[[VehicleSmartCharging], Any]
    attributes_fn: Callable[[VehicleSmartCharging], dict[str, Any] | None] = lambda _: None
    # Money, in the price currency, which only the running entry knows.
    monetary: bool = False


def _decision_value(read: Callable[[Decision], Any]) -> Callable[[VehicleSmartCharging], Any]:
    def value(charging: VehicleSmartCharging) -> Any:
        decision = charging.controller.decision
        return None if decision is None else read(decision)

    return value


def _session(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float | None]:
    def value(charging: VehicleSmartCharging) -> float | None:
        session = charging.controller.state.session
        return None if session is None else round(read(session), 4)

    return value


def _last_session(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float | None]:
    def value(charging: VehicleSmartCharging) -> float | None:
        summary = charging.controller.state.last_session
        return None if summary is None else round(read(summary), 4)

    return value


def _total(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float]:
    def value(charging: VehicleSmartCharging) -> float:
        return round(read(charging.controller.state.totals), 4)

    return value


def _state_attributes(charging: VehicleSmartCharging) -> dict[str, Any] | None:
    """The considerations behind the state, its reason and the override, for dashboards."""
    decision = charging.controller.decision
    if decision is None:
        return None
    return {
        **decision.considerations.as_dict(),
        "reason": decision.reason,
        "override": decision.override,
        "departure": decision.departure,
        "departure_schedule": _schedule(charging.controller.settings.weekly_departures),
        "target_soc": decision.target_soc_pct,
        "shortfall": decision.shortfall_pct,
        "command_path": charging.last_routed_path,
    }


def _schedule(weekly: tuple[time | None, ...] | None) -> dict[str, str | None] | None:
    """A weekly departure schedule by day name, for dashboards; None while daily applies."""
    if weekly is None:
        return None
    return {
        day: None if departure is None else departure.isoformat(timespec="minutes")
        for day, departure in zip(WEEKDAYS, weekly, strict=True)
    }


STATE_OPTIONS = [state.translation_key for state in SmartChargingState]

CONTROLLER_SENSORS: tuple[ControllerSensorDescription, ...] = (
    ControllerSensorDescription(
        key="smart_charging_state",
        translation_key="smart_charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=STATE_OPTIONS,
        value_fn=_decision_value(lambda decision: decision.status.translation_key),
        attributes_fn=_state_attributes,
    ),
    ControllerSensorDescription(
        key="state_changed_at",
        translation_key="state_changed_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(lambda decision: decision.status_changed_at),
    ),
    ControllerSensorDescription(
        key="next_start",
        translation_key="next_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_decision_value(lambda decision: decision.next_start),
    ),
    ControllerSensorDescription(
        key="next_stop",
        translation_key="next_stop",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_decision_value(lambda decision: decision.next_stop),
    ),
    ControllerSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_decision_value(lambda decision: finite_or_none(decision.estimated_cost)),
    ),
    ControllerSensorDescription(
        key="charge_now_cost",
        translation_key="charge_now_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_decision_value(lambda decision: finite_or_none(decision.charge_now_cost)),
    ),
    ControllerSensorDescription(
        key="expected_soc_at_departure",
        translation_key="expected_soc_at_departure",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_decision_value(
            lambda decision: finite_or_none(decision.expected_soc_at_departure_pct)
        ),
    ),
    ControllerSensorDescription(
        key="estimated_soc",
        translation_key="estimated_soc",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(
            lambda decision: None if decision.soc is None else finite_or_none(decision.soc.soc_pct)
        ),
    ),
    # What EV Flex learned about the car, so the plan can be understood (and trusted).
    ControllerSensorDescription(
        key="learned_charge_power",
        translation_key="learned_charge_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=POWER_DIGITS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(lambda decision: power_kw(decision.model.max_kw)),
    ),
    ControllerSensorDescription(
        key="learned_charge_efficiency",
        translation_key="learned_charge_efficiency",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(
            lambda decision: finite_or_none(round(decision.model.efficiency * 100.0, 2))
        ),
    ),
    ControllerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=_session(lambda session: session.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_session(lambda session: session.cost - session.revenue),
    ),
    ControllerSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_last_session(lambda summary: summary.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_last_session(lambda summary: summary.cost - summary.revenue),
    ),
    ControllerSensorDescription(
        key="last_session_savings",
        translation_key="last_session_savings",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_last_session(lambda summary: summary.savings),
    ),
    ControllerSensorDescription(
        key="total_energy",
        translation_key="total_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=_total(lambda totals: totals.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="total_cost",
        translation_key="total_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_total(lambda totals: totals.cost - totals.revenue),
    ),
    ControllerSensorDescription(
        key="total_savings",
        translation_key="total_savings",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_total(lambda totals: totals.savings),
    ),
    # Plugged in or not: a one-off departure, the calendar's or the schedule's. The attributes
    # give its target and source, and name the calendar events that were left out.
    ControllerSensorDescription(
        key="next_departure",
        translation_key="next_departure",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda charging: _next_departure(charging),
        attributes_fn=lambda charging: next_departure_attributes(charging),
    ),
)


def _next_departure(charging: VehicleSmartCharging) -> datetime | None:
    controller = charging.controller
    return resolve_departure(controller.settings, dt_util.utcnow(), controller.tz)[0]


EV_SYSTEM = SensorEntityDescription(
    key="ev_system",
    translation_key="ev_system",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in PairingState],
)

ATTR_PLUGGED_IN_CHARGER_ID = "plugged_in_charger_id"
ATTR_PLUGGED_IN_VEHICLE_ID = "plugged_in_vehicle_id"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up sensors for every vehicle and charger."""

    def vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        entities: list[Entity] = [
            VehicleSensor(coordinator, vehicle_id, d) for d in VEHICLE_SENSORS
        ]
        entities.append(EvSystemSensor(coordinator, vehicle_id, EV_SYSTEM))
        return entities

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return [ChargerSensor(coordinator, charger_id, d) for d in CHARGER_SENSORS]

    async_setup_device_entities(entry, async_add_entities, vehicle_entities, charger_entities)
    async_add_entities(_price_sensors(hass, entry))
    if (site := entry.runtime_data.site) is not None:
        async_add_entities(SiteSensor(site, description) for description in SITE_SENSORS)
        async_setup_smart_charging_entities(
            entry,
            async_add_entities,
            lambda charging: [ControllerSensor(charging, d) for d in SITE_VEHICLE_SENSORS],
        )
    if (home_readings := entry.runtime_data.home_readings) is not None:
        async_add_entities(
            SimulatedHomeSensor(entry.runtime_data.coordinator, home_readings, description)
            for description in SIMULATED_HOME_SENSORS
        )
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [ControllerSensor(charging, d) for d in CONTROLLER_SENSORS],
    )


class VehicleSensor(EvFlexVehicleEntity, SensorEntity):
    """A reading of a vehicle."""

    entity_description: VehicleSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The reading, or None when the vehicle did not report it."""
        return self.entity_description.value_fn(self.vehicle)


class ChargerSensor(EvFlexChargerEntity, SensorEntity):
    """A reading of a charger."""

    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType:
        """The reading, or None when the charger did not report it."""
        return self.entity_description.value_fn(self.charger)


class EvSystemSensor(EvFlexVehicleEntity, SensorEntity):
    """How far the vehicle is paired with a charger of its account (Enode's EV-charger pairing).

    Established: a charger of the same account is linked, which unlocks start/stop (and the
    location) for the car. Active: the two are plugged into each other, so commands may go
    through the charger.
    """

    @property
    def native_value(self) -> str | None:
        """unpaired, established or active."""
        system = self.system
        return system.state.value if system else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The ids of the devices plugged into each other, and what the pairing unlocked."""
        system = self.system
        if system is None:
            return {}
        unlocked = system.unlocked
        return {
            ATTR_PLUGGED_IN_CHARGER_ID: system.plugged_in_charger_id,
            ATTR_PLUGGED_IN_VEHICLE_ID: system.plugged_in_vehicle_id,
            "activation": system.activation.value if system.activation else None,
            "charger_ids": list(system.charger_ids),
            "start_stop_unlocked": bool(
                unlocked and unlocked.start_stop and not system.own_capabilities.can_start_stop
            ),
            "location_unlocked": bool(
                unlocked and unlocked.location and not system.own_capabilities.reports_location
            ),
            "charge_rate_source": system.charge_rate_source.value
            if system.charge_rate_source
            else None,
        }


# --------------------------------------------------------------------------------------------
# Prices, on the entry's "EV Flex" service device

PRICE_DIGITS = 5


@dataclass(frozen=True, kw_only=True)
class PriceSensorDescription(SensorEntityDescription):
    """A price sensor: which price of a priced slot it shows."""

    price_fn: Callable[[PricedSlot], float | None]


IMPORT_PRICE = PriceSensorDescription(
    key="import_price",
    translation_key="import_price",
    device_class=SensorDeviceClass.MONETARY,
    # Home Assistant allows only "total" for monetary sensors, and a price is not a total.
    state_class=None,
    suggested_display_precision=4,
    price_fn=lambda slot: slot.import_price,
)
EXPORT_PRICE = PriceSensorDescription(
    key="export_price",
    translation_key="export_price",
    device_class=SensorDeviceClass.MONETARY,
    state_class=None,
    suggested_display_precision=4,
    price_fn=lambda slot: slot.export_price,
)


def _price_sensors(hass: HomeAssistant, entry: EvFlexConfigEntry) -> list[Entity]:
    """The price sensors the options ask for; registry entries of dropped ones are removed."""
    prices = entry.runtime_data.prices
    wanted: list[PriceSensorDescription] = []
    if prices is not None:
        wanted.append(IMPORT_PRICE)
        if prices.tariff.export_tariff.kind is not ExportKind.NONE:
            wanted.append(EXPORT_PRICE)
    registry = er.async_get(hass)
    for description in (IMPORT_PRICE, EXPORT_PRICE):
        unique_id = f"{service_device_id(entry)}_{description.key}"
        entity_id = registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id)
        if entity_id is not None and description not in wanted:
            registry.async_remove(entity_id)
    if prices is None:
        return []
    return [PriceSensor(prices, description) for description in wanted]


class PriceSensor(EvFlexPriceEntity, SensorEntity):
    """The effective import or export price now, with the whole series as an attribute."""

    entity_description: PriceSensorDescription
    # The series can be hundreds of slots: dashboards read it live, the recorder never stores it.
    _unrecorded_attributes = frozenset({"prices"})

    def __init__(self, coordinator: PriceCoordinator, description: PriceSensorDescription) -> None:
        """Show one kind of price."""
        super().__init__(coordinator, description)

    @property
    def _prices(self) -> PriceData:
        return self.coordinator.data

    @property
    def _is_export(self) -> bool:
        return self.entity_description.key == EXPORT_PRICE.key

    @property
    def available(self) -> bool:
        """Unavailable without usable prices (and, for export, without the export source)."""
        data = self._prices
        if not super().available or not data.usable:
            return False
        if self._is_export and data.export_status is not None:
            return data.export_status in (PriceStatus.OK, PriceStatus.AWAITING)
        return True

    @property
    def native_unit_of_measurement(self) -> str:
        """Currency per kWh, e.g. "SEK/kWh"."""
        return f"{self._prices.currency}/kWh"

    @property
    def native_value(self) -> float | None:
        """The price of the slot containing now; unknown in a gap."""
        slot = self._prices.slot_at(dt_util.utcnow())
        if slot is None:
            return None
        return self.entity_description.price_fn(slot)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the prices come from, how complete they are, and the whole priced series."""
        data = self._prices
        tz = dt_util.get_default_time_zone()
        attributes: dict[str, Any] = {
            "status": (data.export_status or data.status).value
            if self._is_export
            else data.status.value,
            "source_format": data.source_format.value if data.source_format else None,
            "price_entity": data.price_entity,
            "awaiting_tomorrow": data.awaiting_tomorrow,
        }
        if self._is_export:
            attributes["export_kind"] = data.export_kind.value
        else:
            slot = data.slot_at(dt_util.utcnow())
            attributes["spot_price"] = round(slot.spot, PRICE_DIGITS) if slot else None
            attributes["grid_fee"] = round(slot.grid_fee, PRICE_DIGITS) if slot else None
        series: list[dict[str, Any]] = []
        # Only what a price chart shows (local today and tomorrow) is published on every state.
        shown = chart_slots(data.priced, dt_util.utcnow(), tz) if data.usable else ()
        for slot in shown:
            price = self.entity_description.price_fn(slot)
            if price is None:
                continue
            item: dict[str, Any] = {
                "start": slot.start.astimezone(tz).isoformat(),
                "end": slot.end.astimezone(tz).isoformat(),
                "price": round(price, PRICE_DIGITS),
            }
            if not self._is_export:
                item["spot"] = round(slot.spot, PRICE_DIGITS)
            series.append(item)
        attributes["prices"] = series
        return attributes


class ControllerSensor(SmartChargingEntity, SensorEntity):
    """Smart-charging state, plan figures and insights of a vehicle."""

    entity_description: ControllerSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The figure, or None before the first step."""
        value: StateType | datetime = self.entity_description.value_fn(self.charging)
        return value

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Money in the price currency; other units from the description."""
        if self.entity_description.monetary:
            return charging_currency(self.charging)
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """For the state sensor: the considerations, the reason and the override."""
        return self.entity_description.attributes_fn(self.charging)


# --------------------------------------------------------------------------------------------
# The simulated home's meters, so site features can be tried without hardware


@dataclass(frozen=True, kw_only=True)
class SimulatedHomeSensorDescription(SensorEntityDescription):
    """A meter of the simulated home and how to read it."""

    value_fn: Callable[[HomeReadings], float]


SIMULATED_HOME_SENSORS: tuple[SimulatedHomeSensorDescription, ...] = (
    SimulatedHomeSensorDescription(
        key="grid_power",
        translation_key="grid_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda home: home.grid_kw,
    ),
    SimulatedHomeSensorDescription(
        key="solar_power",
        translation_key="solar_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda home: home.solar_kw,
    ),
)


class SimulatedHomeSensor(CoordinatorEntity[AccountCoordinator], SensorEntity):
    """A meter of the simulated home: read on every update of the simulated account."""

    _attr_has_entity_name = True
    entity_description: SimulatedHomeSensorDescription

    def __init__(
        self,
        coordinator: AccountCoordinator,
        home_readings: Callable[[datetime], HomeReadings | None],
        description: SimulatedHomeSensorDescription,
    ) -> None:
        """Attach the meter to the entry's simulated home device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._home_readings = home_readings
        device_id = simulated_home_device_id(coordinator.config_entry)
        self._attr_unique_id = f"{device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_id)},
            manufacturer="EV Flex Simulator",
            model=cached_texts(coordinator.hass)("device_simulated_home_model"),
            translation_key="simulated_home",
            translation_placeholders={"entry": coordinator.config_entry.title},
        )

    @property
    def native_value(self) -> float | None:
        """The meter's reading now."""
        readings = self._home_readings(dt_util.utcnow())
        return None if readings is None else self.entity_description.value_fn(readings)


# --------------------------------------------------------------------------------------------
# The house (where the options describe one)


def _site_value(
    read: Callable[[HomeSite, Plan | None], float | None],
) -> Callable[[VehicleSmartCharging], float | None]:
    def value(charging: VehicleSmartCharging) -> float | None:
        site = charging.entry.runtime_data.site
        decision = charging.controller.decision
        if site is None or decision is None:
            return None
        return read(site, decision.plan)

    return value


SITE_VEHICLE_SENSORS: tuple[ControllerSensorDescription, ...] = (
    ControllerSensorDescription(
        key="planned_charging_power",
        translation_key="planned_charging_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=_site_value(lambda _site, plan: planned_power_now(plan, dt_util.utcnow())),
    ),
    ControllerSensorDescription(
        key="solar_share",
        translation_key="solar_share",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_site_value(lambda site, plan: solar_share_pct(plan, site.surplus_kw)),
    ),
)


@dataclass(frozen=True, kw_only=True)
class SiteSensorDescription(SensorEntityDescription):
    """A reading of the house and how to get it."""

    value_fn: Callable[[HomeSite], float | None]


def _plans(site: HomeSite) -> list[Plan | None]:
    """The plans of every car of the house, in any entry: they share its peak."""
    return [
        charging.controller.decision.plan if charging.controller.decision else None
        for charging in site.house_cars()
    ]


SITE_SENSORS: tuple[SiteSensorDescription, ...] = (
    SiteSensorDescription(
        key="expected_month_peak",
        translation_key="expected_month_peak",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda site: round(site.expected_month_peak_kw(_plans(site)), 3),
    ),
    SiteSensorDescription(
        key="house_power",
        translation_key="house_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda site: site.house_power_kw(),
    ),
    SiteSensorDescription(
        key="house_power_without_cars",
        translation_key="house_power_without_cars",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=POWER_DIGITS,
        value_fn=lambda site: site.house_without_cars_kw,
    ),
)


class SiteSensor(EvFlexSiteEntity, SensorEntity):
    """A reading of the house."""

    entity_description: SiteSensorDescription

    @property
    def native_value(self) -> float | None:
        """The reading, or None while there is none."""
        return self.entity_description.value_fn(self.site)
