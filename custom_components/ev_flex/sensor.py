"""Sensors for vehicles and chargers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
from .core.pairing import PairingState
from .entity import EvFlexChargerEntity, EvFlexVehicleEntity, async_setup_device_entities

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
        suggested_display_precision=1,
        value_fn=lambda charger: charger.charge_rate_kw,
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
