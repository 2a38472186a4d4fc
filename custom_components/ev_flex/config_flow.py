"""Config flow: link a vehicle and a home charger."""

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    BooleanSelector,
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
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from .core.simulator import VEHICLE_PRESETS

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


class EvFlexConfigFlow(ConfigFlow, domain=DOMAIN):
    """Link one account: the first step asks which kind."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which kind of account to link."""
        return self.async_show_menu(step_id="user", menu_options=[ACCOUNT_TYPE_SIMULATOR])

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
