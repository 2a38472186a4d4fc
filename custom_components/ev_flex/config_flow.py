"""Config flow: link a vehicle and a home charger (simulated, entities, or Enode).

The options flow lives in `options_flow.py`.
"""

from collections.abc import Mapping
import dataclasses
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_NAME,
    PERCENTAGE,
)
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.data_entry_flow import section
from homeassistant.helpers.network import NoURLAvailableError
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
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import slugify
import probatio

from .const import (
    ACCOUNT_TYPE_ENODE,
    ACCOUNT_TYPE_ENTITIES,
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_BASE_URL,
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_CURRENT_ENTITY,
    CONF_CHARGER_POWER_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_CHARGING_ENTITY,
    CONF_CUSTOM,
    CONF_ENODE_OWN_START_STOP,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_INITIAL_SOC,
    CONF_LOCATION_ENTITY,
    CONF_PLUGGED_IN,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SIMULATED_HOME,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    CONF_VEHICLE_PRESET,
    CONF_WEBHOOK_ID,
    DOMAIN,
    LOGGER,
)
from .core.enode import (
    EnodeAuthError,
    EnodeClient,
    EnodeEnvironment,
    EnodeError,
    LinkFailure,
    VendorType,
    credentials_problem,
    vehicle_state_from,
)
from .core.simulator import VEHICLE_PRESETS
from .enode import (
    async_enode_user_id,
    async_forget_links,
    async_link_state_valid,
    async_start_link,
    client_from_data,
    enode_unique_id,
    link_error,
)
from .entities_account import POWER_UNITS_TO_KW
from .helpers import vehicle_name
from .options_flow import EvFlexOptionsFlow
from .texts import async_texts, link_failure_placeholders

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
        probatio.Required(CONF_SIMULATED_HOME, default=False): BooleanSelector(),
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


ENODE_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_CLIENT_ID): TextSelector(),
        probatio.Required(CONF_CLIENT_SECRET): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        probatio.Required(
            CONF_ENVIRONMENT, default=EnodeEnvironment.PRODUCTION.value
        ): SelectSelector(
            SelectSelectorConfig(
                options=[environment.value for environment in EnodeEnvironment],
                translation_key=CONF_ENVIRONMENT,
                mode=SelectSelectorMode.LIST,
            )
        ),
        # Only for the custom environment (a self-hosted or fake API); most people never open it.
        probatio.Optional(CONF_CUSTOM): section(
            probatio.Schema(
                {
                    probatio.Optional(CONF_BASE_URL): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.URL)
                    )
                }
            ),
            {"collapsed": True},
        ),
    }
)

# Reconfigure never sends the stored secret to the browser: left empty, it stays as it is.
RECONFIGURE_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_CLIENT_SECRET) if key == CONF_CLIENT_SECRET else key: value
        for key, value in ENODE_SCHEMA.schema.items()
    }
)


def _enode_schema(environment: str | None, base: probatio.Schema = ENODE_SCHEMA) -> probatio.Schema:
    """The Enode form; the custom-environment section is open once Custom is chosen.

    Opening it then keeps the base URL in sight when the form comes back with an error.
    """
    if environment != EnodeEnvironment.CUSTOM.value:
        return base
    custom = next(value for key, value in base.schema.items() if key == CONF_CUSTOM)
    return base.extend(
        {probatio.Optional(CONF_CUSTOM): section(custom.schema, {"collapsed": False})}
    )


REAUTH_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_CLIENT_ID): TextSelector(),
        probatio.Required(CONF_CLIENT_SECRET): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)


def _enode_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data from the Enode form (the base URL only for the custom environment)."""
    data: dict[str, Any] = {
        CONF_CLIENT_ID: str(user_input[CONF_CLIENT_ID]).strip(),
        CONF_CLIENT_SECRET: str(user_input[CONF_CLIENT_SECRET]).strip(),
        CONF_ENVIRONMENT: user_input[CONF_ENVIRONMENT],
    }
    if data[CONF_ENVIRONMENT] == EnodeEnvironment.CUSTOM.value:
        data[CONF_BASE_URL] = str(
            (user_input.get(CONF_CUSTOM) or {}).get(CONF_BASE_URL) or ""
        ).strip()
    return data


async def _async_check_credentials(hass: HomeAssistant, data: Mapping[str, Any]) -> str | None:
    """A real call with the credentials; the form error key, or None when they work."""
    if credentials_problem(data[CONF_CLIENT_ID], data[CONF_CLIENT_SECRET]) is not None:
        return "invalid_credentials"
    try:
        client = client_from_data(hass, data)
    except ValueError:
        return "invalid_url"
    try:
        await client.verify_credentials()
    except EnodeAuthError:
        return "invalid_auth"
    except EnodeError as err:
        LOGGER.debug("Enode check failed: %s", err)
        return "cannot_connect"
    except Exception:  # noqa: BLE001 (the form must answer, whatever went wrong)
        LOGGER.exception("Unexpected error while checking the Enode credentials")
        return "unknown"
    return None


@dataclasses.dataclass(kw_only=True)
class _EnodeLinkState:
    """What an Enode flow collected so far."""

    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    client: EnodeClient | None = None
    title: str = "Enode"
    charger_required: bool = False
    # What Link is (or was last) opened for, its URL, and why it failed.
    linking: VendorType | None = None
    link_url: str = ""
    link_error: LinkFailure | None = None

    @property
    def user_id(self) -> str:
        """The Enode user of this Home Assistant."""
        return str(self.data[CONF_ENODE_USER_ID])

    def require_client(self) -> EnodeClient:
        """The client checked in the first step."""
        assert self.client is not None
        return self.client


class EvFlexConfigFlow(ConfigFlow, domain=DOMAIN):
    """Link one account: the first step asks which kind."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Nothing is linked yet."""
        self._enode = _EnodeLinkState()

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EvFlexOptionsFlow:
        """Prices, tariff and smart charging; for Enode also the charger and the location."""
        return EvFlexOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which kind of account to link."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[ACCOUNT_TYPE_ENODE, ACCOUNT_TYPE_ENTITIES, ACCOUNT_TYPE_SIMULATOR],
        )

    # Enode: credentials, then the vehicle, then the charger (mandatory or recommended).

    async def async_step_enode(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Client credentials and environment, checked with a real call before going on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _enode_data(user_input)
            if (error := await _async_check_credentials(self.hass, data)) is not None:
                errors["base"] = error
            else:
                user_id = await async_enode_user_id(self.hass)
                await self.async_set_unique_id(enode_unique_id(data[CONF_CLIENT_ID], user_id))
                self._abort_if_unique_id_configured()
                self._enode.data = {**data, CONF_ENODE_USER_ID: user_id}
                self._enode.client = client_from_data(self.hass, data)
                # A user linked before (the entry was removed) keeps their vehicles.
                return await self._async_vehicle_linked()
        environment = user_input[CONF_ENVIRONMENT] if user_input else None
        return self.async_show_form(
            step_id=ACCOUNT_TYPE_ENODE,
            data_schema=self.add_suggested_values_to_schema(_enode_schema(environment), user_input),
            errors=errors,
        )

    async def _async_link(
        self, vendor_type: VendorType, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Open Enode Link in an external step; the redirect comes back as user_input."""
        state = self._enode
        if user_input is not None:
            if not async_link_state_valid(self.hass, self.flow_id, user_input):
                # Not the redirect this flow waits for: keep waiting.
                return self.async_external_step(step_id=step_id, url=state.link_url)
            state.link_error = link_error(user_input)
            return self.async_external_step_done(next_step_id=f"{vendor_type.value}_linked")
        try:
            redirect_uri = async_start_link(self.hass, self.flow_id, options_flow=False)
        except NoURLAvailableError:
            return self.async_abort(reason="no_url_available")
        state.linking = vendor_type
        try:
            session = await state.require_client().create_link_session(
                state.user_id,
                vendor_type=vendor_type,
                redirect_uri=redirect_uri,
                language="browser",
            )
        except EnodeError as err:
            state.link_error = err
            return await self.async_step_link_failed()
        state.link_url = session.link_url
        return self.async_external_step(step_id=step_id, url=session.link_url)

    async def async_step_link_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in to the car's account in Enode Link."""
        return await self._async_link(VendorType.VEHICLE, "link_vehicle", user_input)

    async def async_step_vehicle_linked(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Back from Link: read the vehicle and decide how much the charger matters."""
        if self._enode.link_error is not None:
            return await self.async_step_link_failed()
        return await self._async_vehicle_linked()

    async def _async_vehicle_linked(self) -> ConfigFlowResult:
        state = self._enode
        client = state.require_client()
        try:
            vehicles = await client.list_vehicles(state.user_id)
            chargers = await client.list_chargers(state.user_id) if vehicles else []
        except EnodeError as err:
            state.linking, state.link_error = VendorType.VEHICLE, err
            return await self.async_step_link_failed()
        if not vehicles:
            if state.linking is None:
                # Nothing linked yet (the usual case): open Link for the car.
                return await self.async_step_link_vehicle()
            return await self.async_step_link_failed()
        cars = [vehicle_state_from(vehicle) for vehicle in vehicles]
        state.title = vehicle_name(cars[0])
        if not chargers:
            # No charger yet: what the cars report is their own (Enode's EV-charger pairing
            # would later report the charger's start/stop as theirs).
            state.data[CONF_ENODE_OWN_START_STOP] = {
                car.vehicle_id: car.capabilities.can_start_stop for car in cars
            }
        # A car that cannot start and stop charging itself needs the charger to do it.
        state.charger_required = not any(car.capabilities.can_start_stop for car in cars)
        if chargers:
            return self._async_create_enode_entry()
        if state.charger_required:
            return await self.async_step_charger_required()
        return await self.async_step_charger_recommended()

    async def async_step_charger_required(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The car cannot start and stop itself: smart charging needs the charger to."""
        return self.async_show_menu(
            step_id="charger_required",
            menu_options=["link_charger"],
            description_placeholders={"vehicle": self._enode.title},
        )

    async def async_step_charger_recommended(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The car starts and stops itself; the charger, a fallback, makes it more reliable."""
        return self.async_show_menu(
            step_id="charger_recommended",
            menu_options=["link_charger", "skip_charger"],
            description_placeholders={"vehicle": self._enode.title},
        )

    async def async_step_link_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in to the charger's account in Enode Link."""
        return await self._async_link(VendorType.CHARGER, "link_charger", user_input)

    async def async_step_charger_linked(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Back from Link: the entry is ready once a charger is there."""
        state = self._enode
        if state.link_error is None:
            try:
                chargers = await state.require_client().list_chargers(state.user_id)
            except EnodeError as err:
                chargers, state.link_error = [], err
            else:
                if chargers:
                    return self._async_create_enode_entry()
        return await self.async_step_link_failed()

    async def async_step_skip_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go on with the car alone (it can start and stop charging itself)."""
        return self._async_create_enode_entry()

    async def async_step_link_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link was cancelled or linked nothing: try again (or skip an optional charger)."""
        state = self._enode
        options = ["link_again"]
        if state.linking is VendorType.CHARGER and not state.charger_required:
            options.append("skip_charger")
        texts = await async_texts(self.hass)
        return self.async_show_menu(
            step_id="link_failed",
            menu_options=options,
            description_placeholders=link_failure_placeholders(
                texts, state.linking or VendorType.VEHICLE, state.link_error
            ),
        )

    async def async_step_link_again(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Open Link once more for what failed."""
        self._enode.link_error = None
        if self._enode.linking is VendorType.CHARGER:
            return await self.async_step_link_charger()
        return await self.async_step_link_vehicle()

    def _async_create_enode_entry(self) -> ConfigFlowResult:
        return self.async_create_entry(
            title=self._enode.title,
            data={
                **self._enode.data,
                CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENODE,
                CONF_WEBHOOK_ID: webhook.async_generate_id(),
            },
        )

    def async_remove(self) -> None:
        """The flow ended: its link state values are no longer valid."""
        async_forget_links(self.hass, self.flow_id)

    # Enode: new credentials, or another environment

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Enode refused the client credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the client credentials again (same Enode client)."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                **entry.data,
                CONF_CLIENT_ID: user_input[CONF_CLIENT_ID].strip(),
                CONF_CLIENT_SECRET: user_input[CONF_CLIENT_SECRET].strip(),
            }
            if (error := await _async_check_credentials(self.hass, data)) is not None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(
                    enode_unique_id(data[CONF_CLIENT_ID], data[CONF_ENODE_USER_ID])
                )
                self._abort_if_unique_id_mismatch(reason="wrong_client")
                return self.async_update_reload_and_abort(entry, data=data)
        suggested = user_input or {CONF_CLIENT_ID: entry.data[CONF_CLIENT_ID]}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(REAUTH_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the Enode credentials or environment of an entry."""
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_ACCOUNT_TYPE) != ACCOUNT_TYPE_ENODE:
            return self.async_abort(reason="reconfigure_not_supported")
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _enode_data(
                {CONF_CLIENT_SECRET: entry.data[CONF_CLIENT_SECRET]}
                | {key: value for key, value in user_input.items() if value}
            )
            if (error := await _async_check_credentials(self.hass, data)) is not None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(
                    enode_unique_id(data[CONF_CLIENT_ID], entry.data[CONF_ENODE_USER_ID])
                )
                self._abort_if_unique_id_mismatch(reason="wrong_client")
                kept = {k: v for k, v in entry.data.items() if k != CONF_BASE_URL}
                return self.async_update_reload_and_abort(entry, data={**kept, **data})
        suggested = user_input or {
            CONF_CLIENT_ID: entry.data[CONF_CLIENT_ID],
            CONF_ENVIRONMENT: entry.data[CONF_ENVIRONMENT],
            CONF_CUSTOM: {CONF_BASE_URL: entry.data.get(CONF_BASE_URL, "")},
        }
        # Never the stored secret, not even after an error.
        suggested = {k: v for k, v in suggested.items() if k != CONF_CLIENT_SECRET}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _enode_schema(suggested[CONF_ENVIRONMENT], RECONFIGURE_SCHEMA), suggested
            ),
            errors=errors,
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
            elif self.hass.config_entries.async_entry_for_domain_unique_id(
                DOMAIN, unique_id := f"{ACCOUNT_TYPE_SIMULATOR}-{slugify(name)}"
            ):
                # Another name is one keystroke away: ask for it instead of ending the flow.
                errors[CONF_NAME] = "name_in_use"
            else:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
                        CONF_NAME: name,
                        CONF_VEHICLE_PRESET: user_input[CONF_VEHICLE_PRESET],
                        CONF_INITIAL_SOC: soc,
                        CONF_PLUGGED_IN: user_input[CONF_PLUGGED_IN],
                        CONF_SIMULATED_HOME: user_input[CONF_SIMULATED_HOME],
                    },
                )
        return self.async_show_form(
            step_id=ACCOUNT_TYPE_SIMULATOR,
            data_schema=self.add_suggested_values_to_schema(SIMULATOR_SCHEMA, user_input),
            errors=errors,
        )
