"""An account made of entities the user already has in Home Assistant.

The vehicle and charger are read from the chosen entities' states (push: the coordinator is told
whenever one of them changes) and commands go out as switch and number actions.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_LATITUDE,
    ATTR_LONGITUDE,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import (
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_CURRENT_ENTITY,
    CONF_CHARGER_POWER_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_CHARGING_ENTITY,
    CONF_LOCATION_ENTITY,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
)
from .core.account import AccountUnavailableError, CommandRejectedError
from .core.model import (
    AccountSnapshot,
    ChargerCapabilities,
    ChargerState,
    CommandKind,
    CommandResult,
    CommandState,
    Location,
    Reason,
    ReasonCode,
    VehicleCapabilities,
    VehicleState,
)
from .core.simulator import GRID_VOLTAGE_V
from .texts import async_error_words, cached_texts

POWER_UNITS_TO_KW: dict[str, float] = {
    UnitOfPower.WATT: 0.001,
    UnitOfPower.KILO_WATT: 1.0,
    UnitOfPower.MEGA_WATT: 1000.0,
}
ENERGY_UNITS_TO_KWH: dict[str, float] = {
    UnitOfEnergy.WATT_HOUR: 0.001,
    UnitOfEnergy.KILO_WATT_HOUR: 1.0,
    UnitOfEnergy.MEGA_WATT_HOUR: 1000.0,
}
_MISSING_STATES = (None, STATE_UNAVAILABLE, STATE_UNKNOWN)


def _no_entity(kind: CommandKind) -> Reason:
    return Reason(ReasonCode.NO_ENTITY, {"action": kind.value})


def _number(state: State | None) -> float | None:
    if state is None or state.state in _MISSING_STATES:
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def scaled_reading(state: State | None, factors: Mapping[str, float]) -> float | None:
    """A state's number in the unit of `factors`; None without a number or a known unit."""
    value = _number(state)
    if value is None or state is None:
        return None
    factor = factors.get(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT, ""))
    return None if factor is None else value * factor


def _flag(state: State | None) -> bool | None:
    if state is None or state.state in _MISSING_STATES:
        return None
    return state.state == STATE_ON


def _location(state: State | None) -> Location | None:
    if state is None:
        return None
    latitude = state.attributes.get(ATTR_LATITUDE)
    longitude = state.attributes.get(ATTR_LONGITUDE)
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        return Location(latitude=float(latitude), longitude=float(longitude))
    return None


@dataclass(frozen=True, kw_only=True)
class EntitySelection:
    """Which entities stand for the vehicle and the charger."""

    soc: str
    plugged_in: str | None = None
    charging: str | None = None
    vehicle_power: str | None = None
    location: str | None = None
    battery_capacity_kwh: float | None = None
    charger_switch: str | None = None
    charger_current: str | None = None
    charger_power: str | None = None
    supports_discharge: bool = False
    phases: int = 3

    @classmethod
    def from_entry_data(cls, data: Mapping[str, Any]) -> EntitySelection:
        """Read the selection stored in a config entry."""
        return cls(
            soc=data[CONF_SOC_ENTITY],
            plugged_in=data.get(CONF_PLUGGED_IN_ENTITY),
            charging=data.get(CONF_CHARGING_ENTITY),
            vehicle_power=data.get(CONF_VEHICLE_POWER_ENTITY),
            location=data.get(CONF_LOCATION_ENTITY),
            battery_capacity_kwh=data.get(CONF_BATTERY_CAPACITY),
            charger_switch=data.get(CONF_CHARGER_SWITCH_ENTITY),
            charger_current=data.get(CONF_CHARGER_CURRENT_ENTITY),
            charger_power=data.get(CONF_CHARGER_POWER_ENTITY),
            supports_discharge=data.get(CONF_SUPPORTS_DISCHARGE, False),
        )

    @property
    def has_charger(self) -> bool:
        """Whether any charger entity was chosen."""
        return any((self.charger_switch, self.charger_current, self.charger_power))

    def entity_ids(self) -> list[str]:
        """Every chosen entity, for following their state changes."""
        chosen = (
            self.soc,
            self.plugged_in,
            self.charging,
            self.vehicle_power,
            self.location,
            self.charger_switch,
            self.charger_current,
            self.charger_power,
        )
        return [entity_id for entity_id in chosen if entity_id]


class EntitiesAccount:
    """Reads a vehicle and a charger from entities; commands them through actions."""

    def __init__(
        self,
        hass: HomeAssistant,
        selection: EntitySelection,
        *,
        name: str,
        vehicle_id: str,
        charger_id: str,
    ) -> None:
        """Bind the account to its entities."""
        self.hass = hass
        self.name = name
        self.selection = selection
        self.vehicle_id = vehicle_id
        self.charger_id = charger_id
        self._command_counter = 0

    def _state(self, entity_id: str | None) -> State | None:
        return self.hass.states.get(entity_id) if entity_id else None

    async def async_snapshot(self) -> AccountSnapshot:
        """The vehicle and charger as their entities show them now."""
        return self.snapshot()

    def snapshot(self) -> AccountSnapshot:
        """Read the entities; no I/O, so it can run in a state-change callback."""
        selection = self.selection
        soc_state = self._state(selection.soc)
        vehicle_power = scaled_reading(self._state(selection.vehicle_power), POWER_UNITS_TO_KW)
        charger_power = scaled_reading(self._state(selection.charger_power), POWER_UNITS_TO_KW)
        plugged_in = _flag(self._state(selection.plugged_in))
        charging = _flag(self._state(selection.charging))
        if charging is None and (vehicle_power is not None or charger_power is not None):
            charging = (vehicle_power if vehicle_power is not None else charger_power or 0) > 0.05
        switch_state = self._state(selection.charger_switch)
        vehicle = VehicleState(
            vehicle_id=self.vehicle_id,
            model=self.name,
            online=soc_state is not None and soc_state.state != STATE_UNAVAILABLE,
            battery_level_pct=_number(soc_state),
            battery_capacity_kwh=selection.battery_capacity_kwh,
            is_plugged_in=plugged_in,
            is_charging=charging,
            charge_rate_kw=vehicle_power if vehicle_power is not None else charger_power,
            location=_location(self._state(selection.location)),
            plugged_in_charger_id=self.charger_id if plugged_in and selection.has_charger else None,
            capabilities=VehicleCapabilities(
                can_start_stop=False,
                reports_location=selection.location is not None,
                can_discharge=selection.supports_discharge,
            ),
        )
        snapshot_chargers: dict[str, ChargerState] = {}
        if selection.has_charger:
            current_state = self._state(selection.charger_current)
            snapshot_chargers[self.charger_id] = ChargerState(
                charger_id=self.charger_id,
                model=cached_texts(self.hass)("device_charger_of", vehicle=self.name),
                online=switch_state is None or switch_state.state != STATE_UNAVAILABLE,
                is_plugged_in=plugged_in,
                is_charging=charging if charger_power is None else charger_power > 0.05,
                charge_rate_kw=charger_power,
                max_current_a=_number(current_state),
                min_current_a=current_state.attributes.get("min") if current_state else None,
                max_current_limit_a=current_state.attributes.get("max") if current_state else None,
                plugged_in_vehicle_id=self.vehicle_id if plugged_in else None,
                capabilities=ChargerCapabilities(
                    can_start_stop=selection.charger_switch is not None,
                    can_set_max_current=selection.charger_current is not None,
                    can_discharge=selection.supports_discharge
                    and selection.charger_current is not None,
                ),
            )
        return AccountSnapshot(vehicles={self.vehicle_id: vehicle}, chargers=snapshot_chargers)

    async def async_send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Carry out a command with the chosen switch or number."""
        selection = self.selection
        if target_id != self.charger_id:
            raise CommandRejectedError(
                "this vehicle is controlled through its charger entities",
                Reason(ReasonCode.THROUGH_CHARGER),
            )
        if kind in (CommandKind.START, CommandKind.STOP) and selection.charger_switch:
            domain, service = (
                SWITCH_DOMAIN,
                (SERVICE_TURN_ON if kind is CommandKind.START else SERVICE_TURN_OFF),
            )
            data: dict[str, Any] = {ATTR_ENTITY_ID: selection.charger_switch}
        elif kind is CommandKind.SET_MAX_CURRENT and selection.charger_current:
            domain, service = NUMBER_DOMAIN, SERVICE_SET_VALUE
            data = {ATTR_ENTITY_ID: selection.charger_current, ATTR_VALUE: value}
        elif kind is CommandKind.DISCHARGE and selection.supports_discharge:
            # Bidirectional chargers driven by a current number take negative values to discharge.
            if not selection.charger_current or value is None:
                raise CommandRejectedError(
                    "no current entity to discharge with", _no_entity(CommandKind.DISCHARGE)
                )
            domain, service = NUMBER_DOMAIN, SERVICE_SET_VALUE
            amps = abs(value) * 1000.0 / (GRID_VOLTAGE_V * selection.phases)
            data = {ATTR_ENTITY_ID: selection.charger_current, ATTR_VALUE: -round(amps, 1)}
        else:
            raise CommandRejectedError(f"no entity chosen that can {kind.value}", _no_entity(kind))
        try:
            await self.hass.services.async_call(domain, service, data, blocking=True)
        except ServiceValidationError as err:
            reason = Reason(
                ReasonCode.ENTITY_ACTION_FAILED, {"words": await async_error_words(self.hass, err)}
            )
            raise CommandRejectedError(str(err), reason) from err
        except HomeAssistantError as err:
            reason = Reason(
                ReasonCode.ENTITY_ACTION_FAILED, {"words": await async_error_words(self.hass, err)}
            )
            raise AccountUnavailableError(str(err), reason) from err
        self._command_counter += 1
        return CommandResult(
            command_id=f"entities-{self._command_counter}",
            kind=kind,
            target_id=target_id,
            state=CommandState.CONFIRMED,
        )

    async def async_send_and_wait(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """The action is called blocking: the command has settled when it returns."""
        return await self.async_send_command(target_id, kind, value)

    async def async_command_status(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """Actions on entities settle when the call returns, so nothing stays pending."""
        raise CommandRejectedError(
            f"no pending command {command_id}", Reason(ReasonCode.NO_COMMAND, {"id": command_id})
        )

    async def async_cancel_command(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """Nothing stays pending, so there is nothing to cancel."""
        raise CommandRejectedError(
            f"no pending command {command_id}", Reason(ReasonCode.NO_COMMAND, {"id": command_id})
        )
