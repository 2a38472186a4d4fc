"""Entities of a vehicle's smart charging: settings, state, plan and insights.

They live on the vehicle's device, read the controller's latest decision and state, and change
its settings; the platform modules only pick the descriptions for their domain.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.calendar import CalendarEntityDescription
from homeassistant.components.number import NumberDeviceClass, NumberEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntityDescription
from homeassistant.components.time import TimeEntityDescription
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EvFlexConfigEntry
from .core.controller import ControllerSettings, Decision, SmartChargingState
from .entity import vehicle_device_info
from .helpers import POWER_DIGITS, power_kw
from .smart_charging import VehicleSmartCharging, finite_or_none, new_vehicle_signal


class SmartChargingEntity(Entity):
    """An entity of one vehicle's smart charging."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, charging: VehicleSmartCharging, description: EntityDescription) -> None:
        """Attach to the vehicle's device."""
        self.charging = charging
        self.entity_description = description
        self._attr_unique_id = f"{charging.vehicle_id}_{description.key}"
        vehicle = charging.coordinator.data.vehicles[charging.vehicle_id]
        self._attr_device_info = vehicle_device_info(vehicle)

    async def async_added_to_hass(self) -> None:
        """Follow the controller's steps."""
        self.async_on_remove(self.charging.async_add_listener(self._handle_step))

    @callback
    def _handle_step(self) -> None:
        self.async_write_ha_state()

    @property
    def decision(self) -> Decision | None:
        """The latest step's answer."""
        return self.charging.controller.decision

    @property
    def settings(self) -> ControllerSettings:
        """The vehicle's smart-charging settings."""
        return self.charging.controller.settings

    @callback
    def change_settings(self, **changes: Any) -> None:
        """Change settings and step at once, so the plan follows."""
        self.charging.controller.update_settings(**changes)
        self.charging.async_run()


def currency(charging: VehicleSmartCharging) -> str:
    """The currency of the prices (or Home Assistant's)."""
    prices = charging.entry.runtime_data.prices
    if prices is not None and prices.data is not None:
        return prices.data.currency
    return charging.hass.config.currency


# Settings


@dataclass(frozen=True, kw_only=True)
class SettingSwitchDescription(SwitchEntityDescription):
    """A switch that turns a setting on and off."""

    setting: str


SETTING_SWITCHES: tuple[SettingSwitchDescription, ...] = (
    SettingSwitchDescription(
        key="smart_charging", translation_key="smart_charging", setting="smart_charging"
    ),
    SettingSwitchDescription(key="v2g", translation_key="v2g", setting="v2g"),
)


@dataclass(frozen=True, kw_only=True)
class SettingNumberDescription(NumberEntityDescription):
    """A number that holds a setting."""

    setting: str
    optional: bool = False


SETTING_NUMBERS: tuple[SettingNumberDescription, ...] = (
    SettingNumberDescription(
        key="target_soc",
        translation_key="target_soc",
        setting="target_soc_pct",
        native_min_value=10,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
    ),
    SettingNumberDescription(
        key="protective_soc",
        translation_key="protective_soc",
        setting="protective_soc_pct",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
    ),
    SettingNumberDescription(
        key="reserve_soc",
        translation_key="reserve_soc",
        setting="reserve_soc_pct",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
    ),
    SettingNumberDescription(
        key="discharge_price_threshold",
        translation_key="discharge_price_threshold",
        setting="discharge_price_threshold",
        native_min_value=-10,
        native_max_value=100,
        native_step=0.01,
        entity_category=EntityCategory.CONFIG,
        optional=True,
    ),
)


DEPARTURE_TIME = TimeEntityDescription(
    key="departure_time", translation_key="departure_time", entity_category=EntityCategory.CONFIG
)


# State, plan and insights


@dataclass(frozen=True, kw_only=True)
class ControllerSensorDescription(SensorEntityDescription):
    """A sensor read from the latest decision or the controller state."""

    value_fn: Callable[[VehicleSmartCharging], Any]
    monetary: bool = False


def _decision_value(read: Callable[[Decision], Any]) -> Callable[[VehicleSmartCharging], Any]:
    def value(charging: VehicleSmartCharging) -> Any:
        decision = charging.controller.decision
        return None if decision is None else read(decision)

    return value


def _session(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float | None]:
    def value(charging: VehicleSmartCharging) -> float | None:
        session = charging.controller.state.session
        return None if session is None else round(read(session), 4)

    return value


def _last_session(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float | None]:
    def value(charging: VehicleSmartCharging) -> float | None:
        summary = charging.controller.state.last_session
        return None if summary is None else round(read(summary), 4)

    return value


def _total(read: Callable[[Any], float]) -> Callable[[VehicleSmartCharging], float]:
    def value(charging: VehicleSmartCharging) -> float:
        return round(read(charging.controller.state.totals), 4)

    return value


STATE_OPTIONS = [state.translation_key for state in SmartChargingState]

CONTROLLER_SENSORS: tuple[ControllerSensorDescription, ...] = (
    ControllerSensorDescription(
        key="smart_charging_state",
        translation_key="smart_charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=STATE_OPTIONS,
        value_fn=_decision_value(lambda decision: decision.status.translation_key),
    ),
    ControllerSensorDescription(
        key="state_changed_at",
        translation_key="state_changed_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(lambda decision: decision.status_changed_at),
    ),
    ControllerSensorDescription(
        key="next_start",
        translation_key="next_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_decision_value(lambda decision: decision.next_start),
    ),
    ControllerSensorDescription(
        key="next_stop",
        translation_key="next_stop",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_decision_value(lambda decision: decision.next_stop),
    ),
    ControllerSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_decision_value(lambda decision: finite_or_none(decision.estimated_cost)),
    ),
    ControllerSensorDescription(
        key="charge_now_cost",
        translation_key="charge_now_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_decision_value(lambda decision: finite_or_none(decision.charge_now_cost)),
    ),
    ControllerSensorDescription(
        key="expected_soc_at_departure",
        translation_key="expected_soc_at_departure",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_decision_value(
            lambda decision: finite_or_none(decision.expected_soc_at_departure_pct)
        ),
    ),
    ControllerSensorDescription(
        key="estimated_soc",
        translation_key="estimated_soc",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(
            lambda decision: None if decision.soc is None else finite_or_none(decision.soc.soc_pct)
        ),
    ),
    # What EV Flex learned about the car, so the plan can be understood (and trusted).
    ControllerSensorDescription(
        key="learned_charge_power",
        translation_key="learned_charge_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=POWER_DIGITS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(lambda decision: power_kw(decision.model.max_kw)),
    ),
    ControllerSensorDescription(
        key="learned_charge_efficiency",
        translation_key="learned_charge_efficiency",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_decision_value(
            lambda decision: finite_or_none(round(decision.model.efficiency * 100.0, 2))
        ),
    ),
    ControllerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=_session(lambda session: session.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_session(lambda session: session.cost - session.revenue),
    ),
    ControllerSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_last_session(lambda summary: summary.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_last_session(lambda summary: summary.cost - summary.revenue),
    ),
    ControllerSensorDescription(
        key="last_session_savings",
        translation_key="last_session_savings",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_last_session(lambda summary: summary.savings),
    ),
    ControllerSensorDescription(
        key="total_energy",
        translation_key="total_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=_total(lambda totals: totals.energy_in_kwh),
    ),
    ControllerSensorDescription(
        key="total_cost",
        translation_key="total_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_total(lambda totals: totals.cost - totals.revenue),
    ),
    ControllerSensorDescription(
        key="total_savings",
        translation_key="total_savings",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=_total(lambda totals: totals.savings),
    ),
)

CHARGING_PLANNED_NOW = BinarySensorEntityDescription(
    key="charging_planned_now", translation_key="charging_planned_now"
)
PLAN_CALENDAR = CalendarEntityDescription(key="plan", translation_key="plan")


def async_setup_smart_charging_entities(
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make_entities: Callable[[VehicleSmartCharging], Iterable[Entity]],
) -> None:
    """Add a platform's smart-charging entities for every vehicle now, and for later ones."""

    @callback
    def add(charging: VehicleSmartCharging) -> None:
        async_add_entities(make_entities(charging))

    for charging in entry.runtime_data.smart_charging.values():
        add(charging)
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.coordinator.hass, new_vehicle_signal(entry), add
        )
    )
