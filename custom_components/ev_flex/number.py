"""Numbers: the charger's maximum current."""

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .controller_entity import (
    SETTING_NUMBERS,
    SettingNumberDescription,
    SmartChargingEntity,
    async_setup_smart_charging_entities,
    currency,
)
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.model import CommandKind
from .entity import EvFlexChargerEntity, async_setup_device_entities

PARALLEL_UPDATES = 1

DEFAULT_MIN_CURRENT_A = 6.0
DEFAULT_MAX_CURRENT_A = 32.0

CHARGER_MAX_CURRENT = NumberEntityDescription(
    key="max_current",
    translation_key="max_current",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    native_step=1,
    mode=NumberMode.SLIDER,
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a max-current number for every charger that can set it."""

    def no_vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return []

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        charger = coordinator.data.chargers[charger_id]
        if not charger.capabilities.can_set_max_current:
            return []
        return [ChargerMaxCurrentNumber(coordinator, charger_id, CHARGER_MAX_CURRENT)]

    async_setup_device_entities(entry, async_add_entities, no_vehicle_entities, charger_entities)
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [SettingNumber(charging, d) for d in SETTING_NUMBERS],
    )


class ChargerMaxCurrentNumber(EvFlexChargerEntity, NumberEntity):
    """The most current the charger may deliver."""

    @property
    def native_value(self) -> float | None:
        """The present setting."""
        return self.charger.max_current_a

    @property
    def native_min_value(self) -> float:
        """The lowest setting the charger accepts."""
        return self.charger.min_current_a or DEFAULT_MIN_CURRENT_A

    @property
    def native_max_value(self) -> float:
        """The highest setting the charger accepts."""
        return self.charger.max_current_limit_a or DEFAULT_MAX_CURRENT_A

    async def async_set_native_value(self, value: float) -> None:
        """Send the new maximum current."""
        await self.async_send_command(CommandKind.SET_MAX_CURRENT, value)


class SettingNumber(SmartChargingEntity, NumberEntity):
    """A smart-charging level of a vehicle (target, protective minimum, reserve, threshold)."""

    entity_description: SettingNumberDescription

    @property
    def native_value(self) -> float | None:
        """The setting; None when an optional one is not set."""
        value = getattr(self.settings, self.entity_description.setting)
        return None if value is None else float(value)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The price threshold is in the price currency per kWh."""
        if self.entity_description.optional:
            return f"{currency(self.charging)}/kWh"
        return self.entity_description.native_unit_of_measurement

    async def async_set_native_value(self, value: float) -> None:
        """Store the new level; with vehicle-to-grid on, the target stays above the reserve."""
        setting = self.entity_description.setting
        settings = self.settings
        if setting == "target_soc_pct" and settings.v2g and value < settings.reserve_soc_pct:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="target_below_reserve",
                translation_placeholders={"reserve": f"{settings.reserve_soc_pct:g}"},
            )
        if setting == "reserve_soc_pct" and settings.v2g and value > settings.target_soc_pct:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="reserve_above_target",
                translation_placeholders={"target": f"{settings.target_soc_pct:g}"},
            )
        self.change_settings(**{setting: value})
