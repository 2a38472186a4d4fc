"""Time: the vehicle's daily departure."""

from dataclasses import replace
from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EvFlexConfigEntry
from .entity import SmartChargingEntity, async_setup_smart_charging_entities

PARALLEL_UPDATES = 0

DEPARTURE_TIME = TimeEntityDescription(
    key="departure_time", translation_key="departure_time", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a departure time for every vehicle."""
    async_setup_smart_charging_entities(
        entry, async_add_entities, lambda charging: [DepartureTime(charging, DEPARTURE_TIME)]
    )


class DepartureTime(SmartChargingEntity, TimeEntity):
    """When the car must be ready every day (local time)."""

    @property
    def native_value(self) -> time | None:
        """The daily departure."""
        return self.settings.departure_time

    async def async_set_value(self, value: time) -> None:
        """Change the daily departure; the plan follows at once. A daily time is the user's
        latest word, so it ends a weekly schedule."""
        self.change_settings(
            replace(
                self.settings,
                departure_time=value.replace(second=0, microsecond=0),
                weekly_departures=None,
            )
        )
