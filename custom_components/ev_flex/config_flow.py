"""Config flow: link a vehicle and a home charger."""

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, CONF_NAME, PERCENTAGE
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import slugify
import probatio

from .const import (
    ACCOUNT_TYPE_ENTITIES,
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_CURRENT_ENTITY,
    CONF_CHARGER_POWER_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_CHARGING_ENTITY,
    CONF_INITIAL_SOC,
    CONF_LOCATION_ENTITY,
    CONF_PLUGGED_IN,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from .core.simulator import VEHICLE_PRESETS
from .entities_account import POWER_UNITS_TO_KW

SIMULATOR_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_NAME, default="Simulated EV"): TextSelector(),
        probatio.Required(CONF_VEHICLE_PRESET, default="sedan"): SelectSelector(
            SelectSelectorConfig(
                options=list(VEHICLE_PRESETS),
                translation_key=CONF_VEHICLE_PRESET,
                mode=SelectSelectorMode.LIST,
            )
        ),
        probatio.Required(CONF_INITIAL_SOC, default=45): NumberSelector(
            # No bounds here: the step checks them and answers with a translated error.
            NumberSelectorConfig(step=1, unit_of_measurement="%", mode=NumberSelectorMode.BOX)
        ),
        probatio.Required(CONF_PLUGGED_IN, default=True): BooleanSelector(),
    }
)


def _entity(*domains: str) -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(filter={"domain": list(domains)}))


ENTITIES_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_NAME, default="My EV"): TextSelector(),
        probatio.Required(CONF_SOC_ENTITY): _entity("sensor"),
        probatio.Optional(CONF_PLUGGED_IN_ENTITY): _entity("binary_sensor"),
        probatio.Optional(CONF_CHARGING_ENTITY): _entity("binary_sensor"),
        probatio.Optional(CONF_VEHICLE_POWER_ENTITY): _entity("sensor"),
        probatio.Optional(CONF_LOCATION_ENTITY): _entity("device_tracker"),
        probatio.Required(CONF_BATTERY_CAPACITY, default=60): NumberSelector(
            NumberSelectorConfig(step=0.1, unit_of_measurement="kWh", mode=NumberSelectorMode.BOX)
        ),
        probatio.Optional(CONF_CHARGER_SWITCH_ENTITY): _entity("switch"),
        probatio.Optional(CONF_CHARGER_CURRENT_ENTITY): _entity("number"),
        probatio.Optional(CONF_CHARGER_POWER_ENTITY): _entity("sensor"),
        probatio.Required(CONF_SUPPORTS_DISCHARGE, default=False): BooleanSelector(),
    }
)

# Which domain each chosen entity must have, and which units a sensor may report in.
ENTITY_RULES: dict[str, tuple[str, frozenset[str] | None]] = {
    CONF_SOC_ENTITY: ("sensor", frozenset({PERCENTAGE})),
    CONF_PLUGGED_IN_ENTITY: ("binary_sensor", None),
    CONF_CHARGING_ENTITY: ("binary_sensor", None),
    CONF_VEHICLE_POWER_ENTITY: ("sensor", frozenset(POWER_UNITS_TO_KW)),
    CONF_LOCATION_ENTITY: ("device_tracker", None),
    CONF_CHARGER_SWITCH_ENTITY: ("switch", None),
    CONF_CHARGER_CURRENT_ENTITY: ("number", None),
    CONF_CHARGER_POWER_ENTITY: ("sensor", frozenset(POWER_UNITS_TO_KW)),
}


def _entity_errors(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, str]:
    """Check each chosen entity's domain and unit."""
    errors: dict[str, str] = {}
    for field, (domain, units) in ENTITY_RULES.items():
        if not (entity_id := user_input.get(field)):
            continue
        state = hass.states.get(entity_id)
        if split_entity_id(entity_id)[0] != domain:
            errors[field] = "wrong_domain"
        elif state is None:
            errors[field] = "entity_not_found"
        elif units is not None and state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in units:
            errors[field] = "soc_not_percent" if field == CONF_SOC_ENTITY else "not_power"
    if not 5 <= float(user_input[CONF_BATTERY_CAPACITY]) <= 250:
        errors[CONF_BATTERY_CAPACITY] = "invalid_capacity"
    if user_input[CONF_SUPPORTS_DISCHARGE] and not user_input.get(CONF_CHARGER_CURRENT_ENTITY):
        errors[CONF_SUPPORTS_DISCHARGE] = "discharge_needs_current"
    return errors


class EvFlexConfigFlow(ConfigFlow, domain=DOMAIN):
    """Link one account: the first step asks which kind."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which kind of account to link."""
        return self.async_show_menu(
            step_id="user", menu_options=[ACCOUNT_TYPE_ENTITIES, ACCOUNT_TYPE_SIMULATOR]
        )

    async def async_step_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Build the vehicle and charger from entities already in Home Assistant."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            errors = _entity_errors(self.hass, user_input)
            if not any(character.isalnum() for character in name):
                errors[CONF_NAME] = "name_required"
            if not errors:
                await self.async_set_unique_id(
                    f"{ACCOUNT_TYPE_ENTITIES}-{user_input[CONF_SOC_ENTITY]}"
                )
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name,
                    data={
                        **user_input,
                        CONF_NAME: name,
                        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENTITIES,
                        CONF_BATTERY_CAPACITY: float(user_input[CONF_BATTERY_CAPACITY]),
                    },
                )
        return self.async_show_form(
            step_id=ACCOUNT_TYPE_ENTITIES,
            data_schema=self.add_suggested_values_to_schema(ENTITIES_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_simulator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create a simulated vehicle and home charger."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            soc = float(user_input[CONF_INITIAL_SOC])
            if not any(character.isalnum() for character in name):
                errors[CONF_NAME] = "name_required"
            elif not 0 <= soc <= 100:
                errors[CONF_INITIAL_SOC] = "invalid_soc"
            else:
                await self.async_set_unique_id(f"{ACCOUNT_TYPE_SIMULATOR}-{slugify(name)}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
                        CONF_NAME: name,
                        CONF_VEHICLE_PRESET: user_input[CONF_VEHICLE_PRESET],
                        CONF_INITIAL_SOC: soc,
                        CONF_PLUGGED_IN: user_input[CONF_PLUGGED_IN],
                    },
                )
        return self.async_show_form(
            step_id=ACCOUNT_TYPE_SIMULATOR,
            data_schema=self.add_suggested_values_to_schema(SIMULATOR_SCHEMA, user_input),
            errors=errors,
        )
