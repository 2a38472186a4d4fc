"""Numbers: the charger's maximum current and a vehicle's smart-charging levels."""

from collections.abc import Callable
from dataclasses import dataclass, replace

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.controller import ControllerSettings
from .core.model import CommandKind
from .entity import (
    EvFlexChargerEntity,
    SmartChargingEntity,
    async_setup_device_entities,
    async_setup_smart_charging_entities,
    charging_currency,
)

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


def _check_target(settings: ControllerSettings, target: float) -> None:
    """With vehicle-to-grid on, the target may not fall below the reserve."""
    if settings.v2g and target < settings.reserve_soc_pct:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="target_below_reserve",
            translation_placeholders={"reserve": f"{settings.reserve_soc_pct:g}"},
        )


def _check_reserve(settings: ControllerSettings, reserve: float) -> None:
    """With vehicle-to-grid on, the reserve may not rise above the target."""
    if settings.v2g and reserve > settings.target_soc_pct:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="reserve_above_target",
            translation_placeholders={"target": f"{settings.target_soc_pct:g}"},
        )


def _accept_any(settings: ControllerSettings, value: float) -> None:
    """Every value in the number's range is fine."""


@dataclass(frozen=True, kw_only=True)
class SettingNumberDescription(NumberEntityDescription):
    """A number that holds a smart-charging level, and how to read, check and change it."""

    value_fn: Callable[[ControllerSettings], float | None]
    set_fn: Callable[[ControllerSettings, float], ControllerSettings]
    check_fn: Callable[[ControllerSettings, float], None] = _accept_any
    # In the price currency per kWh, which only the running entry knows.
    priced: bool = False


def _battery_level(
    key: str,
    *,
    lowest: float,
    value_fn: Callable[[ControllerSettings], float | None],
    set_fn: Callable[[ControllerSettings, float], ControllerSettings],
    check_fn: Callable[[ControllerSettings, float], None] = _accept_any,
) -> SettingNumberDescription:
    """A level of the battery in whole percent, from `lowest` to 100."""
    return SettingNumberDescription(
        key=key,
        translation_key=key,
        native_min_value=lowest,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
        value_fn=value_fn,
        set_fn=set_fn,
        check_fn=check_fn,
    )


SETTING_NUMBERS: tuple[SettingNumberDescription, ...] = (
    _battery_level(
        "target_soc",
        lowest=10,
        value_fn=lambda settings: settings.target_soc_pct,
        set_fn=lambda settings, value: replace(settings, target_soc_pct=value),
        check_fn=_check_target,
    ),
    _battery_level(
        "protective_soc",
        lowest=0,
        value_fn=lambda settings: settings.protective_soc_pct,
        set_fn=lambda settings, value: replace(settings, protective_soc_pct=value),
    ),
    _battery_level(
        "reserve_soc",
        lowest=0,
        value_fn=lambda settings: settings.reserve_soc_pct,
        set_fn=lambda settings, value: replace(settings, reserve_soc_pct=value),
        check_fn=_check_reserve,
    ),
    SettingNumberDescription(
        key="discharge_price_threshold",
        translation_key="discharge_price_threshold",
        native_min_value=-10,
        native_max_value=100,
        native_step=0.01,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda settings: settings.discharge_price_threshold,
        set_fn=lambda settings, value: replace(settings, discharge_price_threshold=value),
        priced=True,
    ),
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
        value = self.entity_description.value_fn(self.settings)
        return None if value is None else float(value)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The price threshold is in the price currency per kWh."""
        if self.entity_description.priced:
            return f"{charging_currency(self.charging)}/kWh"
        return self.entity_description.native_unit_of_measurement

    async def async_set_native_value(self, value: float) -> None:
        """Store the new level; with vehicle-to-grid on, the target stays above the reserve."""
        self.entity_description.check_fn(self.settings, value)
        self.change_settings(self.entity_description.set_fn(self.settings, value))
