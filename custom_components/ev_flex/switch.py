"""Switches: start and stop charging, at a charger or through a vehicle's EV system."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import time
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .commands import command_errors
from .const import LOGGER, WEEKDAYS
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.account import NoCommandPathError
from .core.controller import ControllerSettings, week_of
from .core.model import CommandKind, CommandResult, Reason, ReasonCode
from .core.pairing import RoutedCommand, command_outcome
from .departures import with_day
from .entity import (
    EvFlexChargerEntity,
    EvFlexVehicleEntity,
    SmartChargingEntity,
    async_setup_device_entities,
    async_setup_smart_charging_entities,
)

PARALLEL_UPDATES = 1

CHARGER_CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")
VEHICLE_CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")

ATTR_LAST_COMMAND_PATH = "last_command_path"
ATTR_FELL_BACK = "fell_back_to_charger"


@dataclass(frozen=True, kw_only=True)
class SettingSwitchDescription(SwitchEntityDescription):
    """A switch that turns a smart-charging setting on and off."""

    is_on_fn: Callable[[ControllerSettings], bool]
    set_fn: Callable[[ControllerSettings, bool], ControllerSettings]


SETTING_SWITCHES: tuple[SettingSwitchDescription, ...] = (
    SettingSwitchDescription(
        key="smart_charging",
        translation_key="smart_charging",
        is_on_fn=lambda settings: settings.smart_charging,
        set_fn=lambda settings, on: replace(settings, smart_charging=on),
    ),
    SettingSwitchDescription(
        key="v2g",
        translation_key="v2g",
        is_on_fn=lambda settings: settings.v2g,
        set_fn=lambda settings, on: replace(settings, v2g=on),
    ),
)

# A day switched back on leaves at the daily departure time, or at 07:00 without one.
DEFAULT_DEPARTURE = time(7, 0)


def _weekday_switch(weekday: int, name: str) -> SettingSwitchDescription:
    """Whether the car leaves on that weekday; its time entity holds when."""

    def set_day(settings: ControllerSettings, on: bool) -> ControllerSettings:
        current = week_of(settings)[weekday]
        departure = current or settings.departure_time or DEFAULT_DEPARTURE
        return with_day(settings, weekday, departure if on else None)

    return SettingSwitchDescription(
        key=f"departs_{name}",
        translation_key=f"departs_{name}",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda settings: week_of(settings)[weekday] is not None,
        set_fn=set_day,
    )


WEEKDAY_SWITCHES = tuple(_weekday_switch(weekday, name) for weekday, name in enumerate(WEEKDAYS))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a charging switch for every vehicle and every charger."""

    def vehicle_entities(coordinator: AccountCoordinator, vehicle_id: str) -> list[Entity]:
        return [VehicleChargingSwitch(coordinator, vehicle_id, VEHICLE_CHARGING)]

    def charger_entities(coordinator: AccountCoordinator, charger_id: str) -> list[Entity]:
        return [ChargerChargingSwitch(coordinator, charger_id, CHARGER_CHARGING)]

    async_setup_device_entities(entry, async_add_entities, vehicle_entities, charger_entities)
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [
            SettingSwitch(charging, d) for d in (*SETTING_SWITCHES, *WEEKDAY_SWITCHES)
        ],
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


class VehicleChargingSwitch(EvFlexVehicleEntity, SwitchEntity):
    """Charging of a vehicle through its EV system (unified control).

    Start and stop go to the car first when it can do them; when the car's command fails or the
    car is unreachable the charger it is plugged into takes over. The attributes tell which path
    carried out the last command.
    """

    _last: RoutedCommand | None = None

    @property
    def available(self) -> bool:
        """Available while the car or the charger it is plugged into can be reached."""
        if not self.coordinator.last_update_success or self._device_or_none() is None:
            return False
        system = self.system
        charger_reachable = bool(
            system and system.active and system.charger and system.charger.online
        )
        return self.vehicle.online or charger_reachable

    @property
    def is_on(self) -> bool | None:
        """Whether the vehicle charges (the charger's reading when the car does not say)."""
        return self.vehicle.is_charging

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which device carried out the last command."""
        last = self._last
        return {
            ATTR_LAST_COMMAND_PATH: last.path.value if last and last.path else None,
            ATTR_FELL_BACK: last.fell_back if last else False,
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self._async_route(CommandKind.START)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self._async_route(CommandKind.STOP)

    @command_errors
    async def _async_route(self, kind: CommandKind) -> CommandResult:
        system = self.system
        if system is None:
            raise NoCommandPathError(
                f"{self.device_name} has no EV system yet",
                Reason(ReasonCode.NO_EV_SYSTEM, {"device": self.device_name}),
            )
        routed = await self.commands.async_route(system, kind)
        result = command_outcome(routed)
        if routed.failure is None:
            self._last = routed
            acted = routed.attempts[-1]
            LOGGER.info(
                "%s %s through the %s%s%s",
                kind.value.capitalize(),
                self.device_name,
                acted.path.value,
                " (the car's own command failed)" if routed.fell_back else "",
                # Enode keeps trying; some vendors take up to half an hour.
                "; waiting for the device to confirm" if routed.pending else "",
            )
        return result


class SettingSwitch(SmartChargingEntity, SwitchEntity):
    """Turns smart charging or vehicle-to-grid on and off for a vehicle."""

    entity_description: SettingSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether the setting is on."""
        return self.entity_description.is_on_fn(self.settings)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        self.change_settings(self.entity_description.set_fn(self.settings, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        self.change_settings(self.entity_description.set_fn(self.settings, False))
