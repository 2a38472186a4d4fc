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
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import DOMAIN, WEEKDAYS
from .controller_entity import (
    CONTROLLER_SENSORS,
    ControllerSensorDescription,
    SmartChargingEntity,
    async_setup_smart_charging_entities,
    currency,
)
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.controller import resolve_departure
from .core.model import ChargerState, VehicleState
from .core.pairing import PairingState
from .core.prices import PriceStatus
from .core.tariff import ExportKind, PricedSlot, chart_slots
from .departures import next_departure_attributes
from .entity import (
    EvFlexChargerEntity,
    EvFlexPriceEntity,
    EvFlexVehicleEntity,
    async_setup_device_entities,
    service_device_id,
)
from .helpers import POWER_DIGITS, power_kw
from .price_source import PriceCoordinator, PriceData

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
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [
            *(ControllerSensor(charging, d) for d in CONTROLLER_SENSORS),
            NextDepartureSensor(charging, NEXT_DEPARTURE),
        ],
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
    """How far the vehicle is paired with a charger of its account (seed 002).

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
            return currency(self.charging)
        return self.entity_description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """For the state sensor: the considerations, the reason and the override."""
        if self.entity_description.key != "smart_charging_state" or self.decision is None:
            return None
        decision = self.decision
        return {
            **decision.considerations.as_dict(),
            "reason": decision.reason,
            "override": decision.override,
            "departure": decision.departure,
            "departure_schedule": _schedule(self.charging.controller.settings.weekly_departures),
            "target_soc": decision.target_soc_pct,
            "shortfall": decision.shortfall_pct,
            "command_path": self.charging.last_routed_path,
        }


def _schedule(weekly: tuple[time | None, ...] | None) -> dict[str, str | None] | None:
    """A weekly departure schedule by day name, for dashboards; None while daily applies."""
    if weekly is None:
        return None
    return {
        day: None if departure is None else departure.isoformat(timespec="minutes")
        for day, departure in zip(WEEKDAYS, weekly, strict=True)
    }


NEXT_DEPARTURE = SensorEntityDescription(
    key="next_departure",
    translation_key="next_departure",
    device_class=SensorDeviceClass.TIMESTAMP,
)


class NextDepartureSensor(SmartChargingEntity, SensorEntity):
    """The next departure, plugged in or not: a one-off, the calendar's, or the schedule's.

    The attributes give its target and source, and name the calendar events that were left out.
    """

    @property
    def native_value(self) -> datetime | None:
        """When the car leaves next."""
        controller = self.charging.controller
        return resolve_departure(controller.settings, dt_util.utcnow(), controller.tz)[0]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Target, source, calendar event and calendar warnings."""
        schedule = self.charging.entry.runtime_data.schedule
        warnings = () if schedule is None else schedule.warnings(self.charging.vehicle_id)
        return next_departure_attributes(self.charging, warnings)
