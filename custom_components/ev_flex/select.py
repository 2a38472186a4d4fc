"""Select entities: each vehicle's solar mode, where the options describe the house."""

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EvFlexConfigEntry
from .core.site import SolarMode
from .entity import SmartChargingEntity, async_setup_smart_charging_entities

PARALLEL_UPDATES = 0

SOLAR_MODE = SelectEntityDescription(
    key="solar_mode",
    translation_key="solar_mode",
    entity_category=EntityCategory.CONFIG,
    options=[mode.value for mode in SolarMode],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A solar mode for every vehicle of an entry with a house."""
    if entry.runtime_data.site is None:
        return
    async_setup_smart_charging_entities(
        entry, async_add_entities, lambda charging: [SolarModeSelect(charging, SOLAR_MODE)]
    )


class SolarModeSelect(SmartChargingEntity, SelectEntity):
    """How the vehicle uses the house's solar: cheapest, solar first or solar only."""

    @property
    def current_option(self) -> str:
        """The chosen mode (cheapest until chosen otherwise)."""
        site = self.charging.entry.runtime_data.site
        return site.solar_mode(self.charging.vehicle_id) if site else SolarMode.CHEAPEST

    async def async_select_option(self, option: str) -> None:
        """Store the mode; the vehicle plans again with it."""
        site = self.charging.entry.runtime_data.site
        if site is not None:
            site.set_solar_mode(self.charging.vehicle_id, SolarMode(option))
        self.async_write_ha_state()
