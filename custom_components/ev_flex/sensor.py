"""Sensors for vehicles and chargers."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.model import ChargerState, VehicleState
from .entity import EvFlexChargerEntity, EvFlexVehicleEntity, async_setup_device_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VehicleSensorDescription(SensorEntityDescription):
    """A vehicle sensor and how to read it."""

    value_fn: Callable[[VehicleState], StateType]


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
        suggested_display_precision=1,
        value_fn=lambda vehicle: vehicle.charge_rate_kw,
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
        suggested_display_precision=1,
        value_fn=lambda charger: charger.charge_rate_kw,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up sensors for every vehicle and charger."""

    def vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return [VehicleSensor(coordinator, vehicle_id, d) for d in VEHICLE_SENSORS]

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return [ChargerSensor(coordinator, charger_id, d) for d in CHARGER_SENSORS]

    async_setup_device_entities(entry, async_add_entities, vehicle_entities, charger_entities)


class VehicleSensor(EvFlexVehicleEntity, SensorEntity):
    """A reading of a vehicle."""

    entity_description: VehicleSensorDescription

    @property
    def native_value(self) -> StateType:
        """The reading, or None when the vehicle did not report it."""
        return self.entity_description.value_fn(self.vehicle)


class ChargerSensor(EvFlexChargerEntity, SensorEntity):
    """A reading of a charger."""

    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType:
        """The reading, or None when the charger did not report it."""
        return self.entity_description.value_fn(self.charger)
