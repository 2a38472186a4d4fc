"""Binary sensors for vehicles and chargers."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.executor import DeviceMode
from .core.model import ChargerState, VehicleState
from .entity import (
    EvFlexChargerEntity,
    EvFlexVehicleEntity,
    SmartChargingEntity,
    async_setup_device_entities,
    async_setup_smart_charging_entities,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VehicleBinarySensorDescription(BinarySensorEntityDescription):
    """A vehicle binary sensor and how to read it."""

    is_on_fn: Callable[[VehicleState], bool | None]


@dataclass(frozen=True, kw_only=True)
class ChargerBinarySensorDescription(BinarySensorEntityDescription):
    """A charger binary sensor and how to read it."""

    is_on_fn: Callable[[ChargerState], bool | None]


VEHICLE_BINARY_SENSORS: tuple[VehicleBinarySensorDescription, ...] = (
    VehicleBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda vehicle: vehicle.is_plugged_in,
    ),
    VehicleBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda vehicle: vehicle.is_charging,
    ),
)

CHARGER_BINARY_SENSORS: tuple[ChargerBinarySensorDescription, ...] = (
    ChargerBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda charger: charger.is_plugged_in,
    ),
    ChargerBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda charger: charger.is_charging,
    ),
)

CHARGING_PLANNED_NOW = BinarySensorEntityDescription(
    key="charging_planned_now", translation_key="charging_planned_now"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up binary sensors for every vehicle and charger."""

    def vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return [VehicleBinarySensor(coordinator, vehicle_id, d) for d in VEHICLE_BINARY_SENSORS]

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return [ChargerBinarySensor(coordinator, charger_id, d) for d in CHARGER_BINARY_SENSORS]

    async_setup_device_entities(entry, async_add_entities, vehicle_entities, charger_entities)
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [ChargingPlannedNow(charging, CHARGING_PLANNED_NOW)],
    )


class VehicleBinarySensor(EvFlexVehicleEntity, BinarySensorEntity):
    """A yes/no reading of a vehicle."""

    entity_description: VehicleBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The reading, or None when the vehicle did not report it."""
        return self.entity_description.is_on_fn(self.vehicle)


class ChargerBinarySensor(EvFlexChargerEntity, BinarySensorEntity):
    """A yes/no reading of a charger."""

    entity_description: ChargerBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The reading, or None when the charger did not report it."""
        return self.entity_description.is_on_fn(self.charger)


class ChargingPlannedNow(SmartChargingEntity, BinarySensorEntity):
    """On while the plan says to charge: for people who drive their charger themselves."""

    @property
    def is_on(self) -> bool | None:
        """Whether charging is planned for this moment."""
        decision = self.decision
        if decision is None:
            return None
        return decision.action is not None and decision.action.mode is DeviceMode.CHARGE
