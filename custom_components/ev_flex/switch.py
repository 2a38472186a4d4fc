"""Switches: start and stop charging at a charger."""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller_entity import (
    SETTING_SWITCHES,
    SettingSwitchDescription,
    SmartChargingEntity,
    controllers,
)
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.model import CommandKind
from .entity import EvFlexChargerEntity, async_setup_device_entities

PARALLEL_UPDATES = 1

CHARGER_CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a charging switch for every charger."""

    def no_vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return []

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return [ChargerChargingSwitch(coordinator, charger_id, CHARGER_CHARGING)]

    async_setup_device_entities(entry, async_add_entities, no_vehicle_entities, charger_entities)
    async_add_entities(
        SettingSwitch(charging, description)
        for charging in controllers(entry)
        for description in SETTING_SWITCHES
    )


class ChargerChargingSwitch(EvFlexChargerEntity, SwitchEntity):
    """On while the charger charges; switching sends start or stop through the account."""

    @property
    def is_on(self) -> bool | None:
        """Whether the charger is charging."""
        return self.charger.is_charging

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self.async_send_command(CommandKind.START)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.async_send_command(CommandKind.STOP)


class SettingSwitch(SmartChargingEntity, SwitchEntity):
    """Turns smart charging or vehicle-to-grid on and off for a vehicle."""

    entity_description: SettingSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether the setting is on."""
        return bool(getattr(self.settings, self.entity_description.setting))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        self.change_settings(**{self.entity_description.setting: True})

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        self.change_settings(**{self.entity_description.setting: False})
