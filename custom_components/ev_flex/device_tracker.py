"""Device tracker: where the vehicle is."""

from homeassistant.components.device_tracker import TrackerEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .entity import EvFlexVehicleEntity, async_setup_device_entities

PARALLEL_UPDATES = 0

VEHICLE_LOCATION = EntityDescription(key="location", translation_key="location")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a tracker for every vehicle."""

    def vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return [VehicleTracker(coordinator, vehicle_id, VEHICLE_LOCATION)]

    def no_charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return []

    async_setup_device_entities(entry, async_add_entities, vehicle_entities, no_charger_entities)


class VehicleTracker(EvFlexVehicleEntity, TrackerEntity):
    """The vehicle's reported position."""

    @property
    def latitude(self) -> float | None:
        """Latitude, when reported."""
        location = self.vehicle.location
        return location.latitude if location else None

    @property
    def longitude(self) -> float | None:
        """Longitude, when reported."""
        location = self.vehicle.location
        return location.longitude if location else None
