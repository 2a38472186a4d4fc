"""Config flow: link a vehicle and a home charger (simulated, entities, or Enode).

Options flow: prices and the tariff, smart charging, and for Enode the charger and the charging
location.
"""

from collections.abc import Mapping
import dataclasses
from dataclasses import replace
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
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
    EntityWithDeviceFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
    TimeSelectorConfig,
    make_selector_config_schema,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util, slugify
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
    CONF_CHARGING_ZONE,
    CONF_CUSTOM,
    CONF_ENODE_OWN_START_STOP,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_INITIAL_SOC,
    CONF_LOCATION_ENTITY,
    CONF_NOTIFY_V2G,
    CONF_OUTAGE_ENTITY,
    CONF_PLUGGED_IN,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    CONF_VEHICLE_PRESET,
    CONF_WEBHOOK_ID,
    DEFAULT_CHARGING_ZONE,
    DOMAIN,
    LOGGER,
)
from .coordinator import EvFlexRuntimeData
from .core.enode import (
    EnodeAuthError,
    EnodeClient,
    EnodeEnvironment,
    EnodeError,
    VendorType,
    credentials_problem,
    vehicle_state_from,
)
from .core.prices import PriceStatus, current_price
from .core.simulator import VEHICLE_PRESETS
from .core.tariff import (
    ALL_WEEKDAYS,
    WEEKDAY_NAMES,
    ExportKind,
    ExportTariff,
    GridFeePeriod,
    GridFeeSchedule,
    ImportTariff,
    Tariff,
    TariffError,
    effective_prices_at,
)
from .enode import (
    EnodeRuntime,
    async_enode_user_id,
    async_forget_links,
    async_link_state_valid,
    async_start_link,
    client_from_data,
    enode_unique_id,
    link_error,
)
from .entities_account import POWER_UNITS_TO_KW
from .helpers import charger_name, vehicle_name
from .location import charging_zone
from .price_source import (
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    PRICE_ENTITY_DOMAINS,
    EntityRead,
    async_read_price_entity,
    tariff_from_options,
)

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

# The reason shown when Link returned without an error but nothing new was linked.
NOTHING_LINKED = "nothing was linked"


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
    link_error: str | None = None

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
            state.link_error = str(err)
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
            state.linking, state.link_error = VendorType.VEHICLE, str(err)
            return await self.async_step_link_failed()
        if not vehicles:
            if state.linking is None:
                # Nothing linked yet (the usual case): open Link for the car.
                return await self.async_step_link_vehicle()
            state.link_error = NOTHING_LINKED
            return await self.async_step_link_failed()
        cars = [vehicle_state_from(vehicle) for vehicle in vehicles]
        state.title = vehicle_name(cars[0])
        if not chargers:
            # No charger yet: what the cars report is their own (Enode's EV-charger pairing
            # would later report the charger's start/stop as theirs).
            state.data[CONF_ENODE_OWN_START_STOP] = {
                car.vehicle_id: car.capabilities.can_start_stop for car in cars
            }
        # Seed 003: a car that cannot start and stop charging itself needs the charger.
        state.charger_required = not any(car.capabilities.can_start_stop for car in cars)
        if chargers:
            return self._async_create_enode_entry()
        if state.charger_required:
            return await self.async_step_charger_required()
        return await self.async_step_charger_recommended()

    async def async_step_charger_required(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Scenario A: smart charging needs the charger to start and stop."""
        return self.async_show_menu(
            step_id="charger_required",
            menu_options=["link_charger"],
            description_placeholders={"vehicle": self._enode.title},
        )

    async def async_step_charger_recommended(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Scenario B: the car manages alone, the charger makes it more reliable."""
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
                chargers, state.link_error = [], str(err)
            else:
                if chargers:
                    return self._async_create_enode_entry()
                state.link_error = NOTHING_LINKED
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
        return self.async_show_menu(
            step_id="link_failed",
            menu_options=options,
            description_placeholders={
                "device": (state.linking or VendorType.VEHICLE).value,
                "reason": state.link_error or NOTHING_LINKED,
            },
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
                    },
                )
        return self.async_show_form(
            step_id=ACCOUNT_TYPE_SIMULATOR,
            data_schema=self.add_suggested_values_to_schema(SIMULATOR_SCHEMA, user_input),
            errors=errors,
        )


# --------------------------------------------------------------------------------------------
# Options: the price entity and the tariff

CONF_SPOT_MULTIPLIER = "spot_multiplier"
CONF_FIXED_PER_KWH = "fixed_per_kwh"
CONF_VAT_PERCENT = "vat_percent"
CONF_GRID_FEE_DEFAULT = "grid_fee_default"
CONF_PERIOD_NAME = "name"
CONF_PERIOD_FEE = "per_kwh"
CONF_PERIOD_START = "start"
CONF_PERIOD_END = "end"
CONF_PERIOD_WEEKDAYS = "weekdays"
CONF_PERIOD_MONTHS = "months"
CONF_REMOVE_PERIODS = "periods"
CONF_EXPORT_KIND = "export_kind"
CONF_EXPORT_FACTOR = "export_factor"
CONF_EXPORT_FEE = "export_fee"
CONF_EXPORT_FIXED = "export_fixed"
CONF_EXPORT_ENTITY = "export_entity"

# Translated advice on VAT for the options-flow previews, by whether the prices include it.
VAT_ADVICE_KEY = "price_vat"
VAT_ADVICE = {True: "included", False: "excluded", None: "unknown"}

# The name the single "fixed costs per kWh" field is stored under in the tariff's adders.
FIXED_ADDER_NAME = "fixed"
NO_VALUE = "—"
ALL_MONTH_OPTIONS = [str(month) for month in range(1, 13)]

# Tariff validation reasons with their own translated message; others get a generic one.
TARIFF_REASONS = frozenset(
    {
        "required",
        "not_a_number",
        "out_of_range",
        "empty_name",
        "invalid_time",
        "invalid_weekday",
        "invalid_month",
        "duplicate_name",
        "overlap",
    }
)

# The last part of a TariffError field path (without list indices) -> the form field.
IMPORT_FIELDS = {
    "spot_multiplier": CONF_SPOT_MULTIPLIER,
    "per_kwh": CONF_FIXED_PER_KWH,
    "vat_percent": CONF_VAT_PERCENT,
    "default_per_kwh": CONF_GRID_FEE_DEFAULT,
}
PERIOD_FIELDS = {
    "name": CONF_PERIOD_NAME,
    "per_kwh": CONF_PERIOD_FEE,
    "start": CONF_PERIOD_START,
    "end": CONF_PERIOD_END,
    "weekdays": CONF_PERIOD_WEEKDAYS,
    "months": CONF_PERIOD_MONTHS,
}
EXPORT_FIELDS = {
    "factor": CONF_EXPORT_FACTOR,
    "fee_per_kwh": CONF_EXPORT_FEE,
    "fixed_per_kwh": CONF_EXPORT_FIXED,
    "entity_id": CONF_EXPORT_ENTITY,
}


class _MinuteTimeSelectorConfig(TimeSelectorConfig, total=False):
    no_second: bool


class _MinuteTimeSelector(TimeSelector):
    """A time picker without seconds: grid-fee periods start and end on whole minutes.

    Home Assistant's frontend reads no_second from the time selector's config; the core
    selector's schema does not list it yet, so this one does.
    """

    CONFIG_SCHEMA = make_selector_config_schema({probatio.Optional("no_second"): bool})


def _number_selector(unit: str | None = None) -> NumberSelector:
    # No bounds here: the tariff validation checks them and answers with a translated error.
    if unit is None:
        return NumberSelector(NumberSelectorConfig(step="any", mode=NumberSelectorMode.BOX))
    return NumberSelector(
        NumberSelectorConfig(step="any", mode=NumberSelectorMode.BOX, unit_of_measurement=unit)
    )


# The selector offers sensors and events; the step itself rejects anything else with a message.
PRICE_ENTITY_SELECTOR = EntitySelector(
    EntitySelectorConfig(
        filter=[EntityWithDeviceFilterSelectorConfig(domain=list(PRICE_ENTITY_DOMAINS))]
    )
)

PRICE_SOURCE_SCHEMA = probatio.Schema({probatio.Optional(CONF_PRICE_ENTITY): PRICE_ENTITY_SELECTOR})

IMPORT_TARIFF_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_SPOT_MULTIPLIER): _number_selector(),
        probatio.Required(CONF_FIXED_PER_KWH): _number_selector(),
        probatio.Required(CONF_GRID_FEE_DEFAULT): _number_selector(),
        probatio.Required(CONF_VAT_PERCENT): _number_selector("%"),
    }
)


ADD_PERIOD_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_PERIOD_NAME): TextSelector(),
        probatio.Required(CONF_PERIOD_FEE): _number_selector(),
        probatio.Required(CONF_PERIOD_START): _MinuteTimeSelector(
            _MinuteTimeSelectorConfig(no_second=True)
        ),
        probatio.Required(CONF_PERIOD_END): _MinuteTimeSelector(
            _MinuteTimeSelectorConfig(no_second=True)
        ),
        probatio.Required(CONF_PERIOD_WEEKDAYS): SelectSelector(
            SelectSelectorConfig(
                options=list(WEEKDAY_NAMES),
                multiple=True,
                translation_key="weekday",
                mode=SelectSelectorMode.LIST,
            )
        ),
        probatio.Required(CONF_PERIOD_MONTHS): SelectSelector(
            SelectSelectorConfig(
                options=ALL_MONTH_OPTIONS,
                multiple=True,
                translation_key="month",
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
    }
)


def _add_period_schema(currency: str) -> probatio.Schema:
    """The period form with the fee in the prices' currency."""
    return ADD_PERIOD_SCHEMA.extend(
        {probatio.Required(CONF_PERIOD_FEE): _number_selector(f"{currency}/kWh")}
    )


EXPORT_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_EXPORT_KIND): SelectSelector(
            SelectSelectorConfig(
                options=[kind.value for kind in ExportKind],
                translation_key=CONF_EXPORT_KIND,
                mode=SelectSelectorMode.LIST,
            )
        ),
        probatio.Optional(CONF_EXPORT_FACTOR): _number_selector(),
        probatio.Optional(CONF_EXPORT_FEE): _number_selector(),
        probatio.Optional(CONF_EXPORT_FIXED): _number_selector(),
        probatio.Optional(CONF_EXPORT_ENTITY): PRICE_ENTITY_SELECTOR,
    }
)


def _tariff_error(err: TariffError, fields: dict[str, str]) -> tuple[dict[str, str], str]:
    """The form error for a tariff validation error, and its detail for the message."""
    last = err.field.rsplit(".", 1)[-1].split("[", 1)[0]
    key = f"tariff_{err.reason}" if err.reason in TARIFF_REASONS else "tariff_invalid"
    return {fields.get(last, "base"): key}, str(err).removeprefix(f"{err.field}: ")


def _entity_error(read: EntityRead) -> str | None:
    """Why a price entity can't be used, as a form error key; None when it can."""
    result = read.result
    if not read.exists:
        return "entity_not_found"
    if read.action_error is not None and not read.usable:
        return "price_action_failed"
    if result.no_future_prices:
        return "no_future_prices"
    match result.status:
        case PriceStatus.INVALID if result.source_format is None:
            return "no_price_data"
        case PriceStatus.INVALID:
            return "invalid_price_data"
        case PriceStatus.NO_PRICES:
            return "no_prices_now"
        case PriceStatus.STALE:
            return "stale_prices"
    return None


def _describe_period(period: GridFeePeriod, currency: str) -> str:
    days = (
        "Mon-Sun"
        if period.weekdays == ALL_WEEKDAYS
        else ", ".join(WEEKDAY_NAMES[day].capitalize() for day in sorted(period.weekdays))
    )
    stored = period.to_dict()
    fee = f"{period.per_kwh:g} {currency}/kWh"
    text = f"- {period.name}: {days} {stored['start']}-{stored['end']}, {fee}"
    if "months" in stored:
        text += f" (months {', '.join(str(month) for month in stored['months'])})"
    return text


SMART_CHARGING_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_NOTIFY_V2G, default=False): BooleanSelector(),
        probatio.Optional(CONF_OUTAGE_ENTITY): EntitySelector(
            EntitySelectorConfig(filter={"domain": "binary_sensor"})
        ),
    }
)


CONF_CHARGER = "charger"

CHARGING_LOCATION_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_CHARGING_ZONE): EntitySelector(
            EntitySelectorConfig(filter={"domain": ["zone"]})
        )
    }
)


class EvFlexOptionsFlow(OptionsFlowWithReload):
    """Choose the price entity and describe the tariff; every change is checked before saving.

    The main menu leads to one form per part (price entity, import tariff, grid-fee periods,
    export price) and to "save". Each part is validated when its form is sent, so only a
    consistent tariff is ever stored. Step descriptions preview the resulting current prices.

    Enode accounts get four more entries: the charging location (saved with the rest), and
    linking a charger or vehicle and unlinking a charger, which act at Enode right away and then
    return to the menu.
    """

    def __init__(self) -> None:
        """Start from the stored options (loaded when the flow opens)."""
        self._loaded = False
        self._price_entity: str | None = None
        self._tariff = Tariff()
        self._import_read: EntityRead | None = None
        self._export_read: EntityRead | None = None
        self._smart_charging: dict[str, Any] = {}
        self._charging_zone: str | None = None
        self._linking: VendorType | None = None
        self._link_url = ""
        self._link_error: str | None = None
        self._unlink_charger_id: str | None = None
        self._vat_advice: dict[str, str] = {}

    async def _async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        translations = await async_get_translations(
            self.hass, self.hass.config.language, "selector", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.selector.{VAT_ADVICE_KEY}.options."
        self._vat_advice = {
            key.removeprefix(prefix): text
            for key, text in translations.items()
            if key.startswith(prefix)
        }
        options = self.config_entry.options
        self._smart_charging = {
            key: options[key] for key in (CONF_NOTIFY_V2G, CONF_OUTAGE_ENTITY) if key in options
        }
        self._charging_zone = options.get(CONF_CHARGING_ZONE)
        self._price_entity = options.get(CONF_PRICE_ENTITY)
        self._tariff = tariff_from_options(options)
        if self._price_entity:
            self._import_read = await async_read_price_entity(self.hass, self._price_entity)
        export_entity = self._tariff.export_tariff.entity_id
        if export_entity is not None:
            self._export_read = await async_read_price_entity(self.hass, export_entity)

    async def _async_check_entity(self, entity_id: str) -> tuple[str | None, EntityRead | None]:
        """(error key, read): is this a price entity EV Flex can use right now?"""
        if split_entity_id(entity_id)[0] not in PRICE_ENTITY_DOMAINS:
            return "wrong_entity_type", None
        read = await async_read_price_entity(self.hass, entity_id)
        return _entity_error(read), read

    def _currency(self) -> str:
        """The price entity's currency, else Home Assistant's."""
        read = self._import_read
        if self._price_entity and read is not None and read.result.series is not None:
            return read.result.series.currency or self.hass.config.currency
        return self.hass.config.currency

    def _placeholders(self, details: str = "") -> dict[str, str]:
        """The preview of the current prices with the tariff as edited so far."""
        import_price = export_price = entity_price = None
        vat_advice = ""
        currency = self._currency()
        read = self._import_read
        if self._price_entity and read is not None and read.result.series is not None:
            series = read.result.series
            vat_advice = self._vat_advice.get(VAT_ADVICE[series.includes_vat], "")
            entity_price = current_price(series, dt_util.utcnow())
            export_series = self._export_read.result.series if self._export_read else None
            import_price, export_price = effective_prices_at(
                series,
                self._tariff,
                dt_util.get_default_time_zone(),
                dt_util.utcnow(),
                export_series,
            )

        def show(value: float | None) -> str:
            return NO_VALUE if value is None else f"{value:.4f} {currency}/kWh"

        return {
            "price_entity": self._price_entity or NO_VALUE,
            "price_status": read.result.message if self._price_entity and read else NO_VALUE,
            "import_price": show(import_price),
            "export_price": show(export_price),
            "entity_price": show(entity_price),
            "vat_advice": vat_advice,
            "periods": "\n".join(
                _describe_period(period, currency)
                for period in self._tariff.import_tariff.grid_fees.periods
            )
            or NO_VALUE,
            "details": details,
        }

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The main menu, with a preview of the current import and export price."""
        await self._async_load()
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "price_source",
                "import_tariff",
                "grid_fees",
                "export",
                "smart_charging",
                *self._enode_menu(),
                "save",
            ],
            description_placeholders=self._placeholders(),
        )

    def _enode_menu(self) -> list[str]:
        if self.config_entry.data.get(CONF_ACCOUNT_TYPE) != ACCOUNT_TYPE_ENODE:
            return []
        return ["charging_location", "link_charger", "unlink_charger", "link_vehicle"]

    async def async_step_price_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the entity with the spot prices, or clear it to run without prices."""
        errors: dict[str, str] = {}
        details = ""
        if user_input is not None:
            entity_id = user_input.get(CONF_PRICE_ENTITY)
            if not entity_id:
                self._price_entity = None
                self._import_read = None
                return await self.async_step_init()
            error, read = await self._async_check_entity(entity_id)
            if error is None:
                assert read is not None
                series = read.result.series
                if entity_id != self._price_entity and series is not None and series.includes_vat:
                    # The entity's prices already include VAT: don't count it a second time.
                    self._tariff = replace(
                        self._tariff,
                        import_tariff=replace(self._tariff.import_tariff, vat_percent=0.0),
                    )
                self._price_entity, self._import_read = entity_id, read
                return await self.async_step_init()
            errors[CONF_PRICE_ENTITY] = error
            details = read.result.message if read is not None else entity_id
        suggested = user_input or {CONF_PRICE_ENTITY: self._price_entity}
        return self.async_show_form(
            step_id="price_source",
            data_schema=self.add_suggested_values_to_schema(PRICE_SOURCE_SCHEMA, suggested),
            errors=errors,
            description_placeholders=self._placeholders(details),
        )

    async def async_step_import_tariff(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Multiplier, fixed costs per kWh, the default grid fee and VAT."""
        errors: dict[str, str] = {}
        details = ""
        current = self._tariff.import_tariff
        if user_input is not None:
            fixed = float(user_input[CONF_FIXED_PER_KWH])
            candidate = {
                "spot_multiplier": user_input[CONF_SPOT_MULTIPLIER],
                "adders": [{"name": FIXED_ADDER_NAME, "per_kwh": fixed}] if fixed else [],
                "grid_fees": replace(
                    current.grid_fees, default_per_kwh=user_input[CONF_GRID_FEE_DEFAULT]
                ).to_dict(),
                "vat_percent": user_input[CONF_VAT_PERCENT],
            }
            try:
                imported = ImportTariff.from_dict(candidate, "import")
            except TariffError as err:
                errors, details = _tariff_error(err, IMPORT_FIELDS)
            else:
                self._tariff = replace(self._tariff, import_tariff=imported)
                return await self.async_step_init()
        suggested = user_input or {
            CONF_SPOT_MULTIPLIER: current.spot_multiplier,
            CONF_FIXED_PER_KWH: current.adders_per_kwh,
            CONF_GRID_FEE_DEFAULT: current.grid_fees.default_per_kwh,
            CONF_VAT_PERCENT: current.vat_percent,
        }
        return self.async_show_form(
            step_id="import_tariff",
            data_schema=self.add_suggested_values_to_schema(IMPORT_TARIFF_SCHEMA, suggested),
            errors=errors,
            description_placeholders=self._placeholders(details),
        )

    async def async_step_grid_fees(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The named time-of-use grid-fee periods: add, remove, or go back."""
        options = ["add_period"]
        if self._tariff.import_tariff.grid_fees.periods:
            options.append("remove_period")
        options.append("init")
        return self.async_show_menu(
            step_id="grid_fees",
            menu_options=options,
            description_placeholders=self._placeholders(),
        )

    async def async_step_add_period(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A named period by weekdays, months and local time, with its fee per kWh."""
        errors: dict[str, str] = {}
        details = ""
        schedule = self._tariff.import_tariff.grid_fees
        if user_input is not None:
            period = {
                "name": user_input[CONF_PERIOD_NAME],
                "per_kwh": user_input[CONF_PERIOD_FEE],
                "start": user_input[CONF_PERIOD_START],
                "end": user_input[CONF_PERIOD_END],
                "weekdays": user_input[CONF_PERIOD_WEEKDAYS],
                "months": [int(month) for month in user_input[CONF_PERIOD_MONTHS]],
            }
            candidate = schedule.to_dict()
            candidate["periods"].append(period)
            try:
                grid_fees = GridFeeSchedule.from_dict(candidate, "import.grid_fees")
            except TariffError as err:
                errors, details = _tariff_error(err, PERIOD_FIELDS)
            else:
                imported = replace(self._tariff.import_tariff, grid_fees=grid_fees)
                self._tariff = replace(self._tariff, import_tariff=imported)
                return await self.async_step_grid_fees()
        suggested = user_input or {
            CONF_PERIOD_START: "17:00",
            CONF_PERIOD_END: "20:00",
            CONF_PERIOD_WEEKDAYS: list(WEEKDAY_NAMES),
            CONF_PERIOD_MONTHS: ALL_MONTH_OPTIONS,
        }
        return self.async_show_form(
            step_id="add_period",
            data_schema=self.add_suggested_values_to_schema(
                _add_period_schema(self._currency()), suggested
            ),
            errors=errors,
            description_placeholders=self._placeholders(details),
        )

    async def async_step_remove_period(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the periods to remove."""
        schedule = self._tariff.import_tariff.grid_fees
        if user_input is not None:
            removed = set(user_input[CONF_REMOVE_PERIODS])
            kept = tuple(period for period in schedule.periods if period.name not in removed)
            imported = replace(
                self._tariff.import_tariff, grid_fees=replace(schedule, periods=kept)
            )
            self._tariff = replace(self._tariff, import_tariff=imported)
            return await self.async_step_grid_fees()
        schema = probatio.Schema(
            {
                probatio.Required(CONF_REMOVE_PERIODS, default=[]): SelectSelector(
                    SelectSelectorConfig(
                        options=[period.name for period in schedule.periods],
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="remove_period",
            data_schema=schema,
            description_placeholders=self._placeholders(),
        )

    async def async_step_export(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What exported energy (vehicle-to-grid) earns."""
        errors: dict[str, str] = {}
        details = ""
        current = self._tariff.export_tariff
        if user_input is not None:
            candidate = {
                "kind": user_input[CONF_EXPORT_KIND],
                "factor": user_input.get(CONF_EXPORT_FACTOR),
                "fee_per_kwh": user_input.get(CONF_EXPORT_FEE),
                "fixed_per_kwh": user_input.get(CONF_EXPORT_FIXED),
                "entity_id": user_input.get(CONF_EXPORT_ENTITY),
            }
            read: EntityRead | None = None
            try:
                exported = ExportTariff.from_dict(candidate, "export")
            except TariffError as err:
                errors, details = _tariff_error(err, EXPORT_FIELDS)
            else:
                if exported.entity_id is not None:
                    error, read = await self._async_check_entity(exported.entity_id)
                    if error is not None:
                        errors[CONF_EXPORT_ENTITY] = error
                        details = read.result.message if read is not None else exported.entity_id
            if not errors:
                self._tariff = replace(self._tariff, export_tariff=exported)
                self._export_read = read
                return await self.async_step_init()
        suggested = user_input or {
            CONF_EXPORT_KIND: current.kind.value,
            CONF_EXPORT_FACTOR: current.factor,
            CONF_EXPORT_FEE: current.fee_per_kwh,
            CONF_EXPORT_FIXED: current.fixed_per_kwh,
            CONF_EXPORT_ENTITY: current.entity_id,
        }
        return self.async_show_form(
            step_id="export",
            data_schema=self.add_suggested_values_to_schema(EXPORT_SCHEMA, suggested),
            errors=errors,
            description_placeholders=self._placeholders(details),
        )

    async def async_step_smart_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Announcements of vehicle-to-grid, and the grid-outage sensor for backup power."""
        errors: dict[str, str] = {}
        if user_input is not None:
            outage = user_input.get(CONF_OUTAGE_ENTITY)
            if outage and split_entity_id(outage)[0] != "binary_sensor":
                errors[CONF_OUTAGE_ENTITY] = "wrong_domain"
            elif outage and self.hass.states.get(outage) is None:
                errors[CONF_OUTAGE_ENTITY] = "entity_not_found"
            else:
                self._smart_charging = {CONF_NOTIFY_V2G: user_input[CONF_NOTIFY_V2G]}
                if outage:
                    self._smart_charging[CONF_OUTAGE_ENTITY] = outage
                return await self.async_step_init()
        suggested = user_input or {CONF_NOTIFY_V2G: False, **self._smart_charging}
        return self.async_show_form(
            step_id="smart_charging",
            data_schema=self.add_suggested_values_to_schema(SMART_CHARGING_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_save(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Store the price entity and the tariff; the entry reloads with them."""
        options: dict[str, Any] = {CONF_TARIFF: self._tariff.to_dict(), **self._smart_charging}
        if self._price_entity:
            options[CONF_PRICE_ENTITY] = self._price_entity
        if self._charging_zone:
            options[CONF_CHARGING_ZONE] = self._charging_zone
        return self.async_create_entry(data=options)

    # Enode: charger, vehicle and charging location

    def _runtime(self) -> EvFlexRuntimeData | None:
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        runtime: EvFlexRuntimeData = entry.runtime_data
        return runtime

    def _enode(self) -> tuple[EvFlexRuntimeData, EnodeRuntime] | None:
        runtime = self._runtime()
        if runtime is None or runtime.enode is None:
            return None
        return runtime, runtime.enode

    async def _async_link(
        self, vendor_type: VendorType, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        if user_input is not None:
            if not async_link_state_valid(self.hass, self.flow_id, user_input):
                return self.async_external_step(step_id=step_id, url=self._link_url)
            self._link_error = link_error(user_input)
            return self.async_external_step_done(next_step_id="linked")
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        _, enode = loaded
        try:
            redirect_uri = async_start_link(self.hass, self.flow_id, options_flow=True)
        except NoURLAvailableError:
            return self.async_abort(reason="no_url_available")
        try:
            session = await enode.client.create_link_session(
                enode.user_id,
                vendor_type=vendor_type,
                redirect_uri=redirect_uri,
                language="browser",
            )
        except EnodeError as err:
            return self.async_abort(
                reason="link_failed", description_placeholders={"reason": str(err)}
            )
        self._linking, self._link_url = vendor_type, session.link_url
        return self.async_external_step(step_id=step_id, url=session.link_url)

    async def async_step_link_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link a (another) charger in Enode Link."""
        return await self._async_link(VendorType.CHARGER, "link_charger", user_input)

    async def async_step_link_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link a vehicle account in Enode Link (another car, or sign in again)."""
        return await self._async_link(VendorType.VEHICLE, "link_vehicle", user_input)

    async def async_step_linked(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Back from Link: show the new devices at once."""
        if self._link_error is not None:
            return self.async_abort(
                reason="link_failed", description_placeholders={"reason": self._link_error}
            )
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        runtime, _ = loaded
        await runtime.coordinator.async_refresh()
        devices = (
            runtime.coordinator.data.chargers
            if self._linking is VendorType.CHARGER
            else runtime.coordinator.data.vehicles
        )
        if not runtime.coordinator.last_update_success or not devices:
            return self.async_abort(
                reason="link_failed", description_placeholders={"reason": NOTHING_LINKED}
            )
        runtime.interventions.async_vendors_relinked()
        return await self.async_step_init()

    async def async_step_unlink_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the charger to unlink (asked only when there are several)."""
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        runtime, _ = loaded
        chargers = runtime.coordinator.data.chargers
        if not chargers:
            return self.async_abort(reason="no_charger")
        if user_input is not None or len(chargers) == 1:
            self._unlink_charger_id = (
                user_input[CONF_CHARGER] if user_input is not None else next(iter(chargers))
            )
            if self._charger_mandatory(runtime):
                return await self.async_step_unlink_confirm_required()
            return await self.async_step_unlink_confirm()
        schema = probatio.Schema(
            {
                probatio.Required(CONF_CHARGER): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=charger_id, label=charger_name(charger))
                            for charger_id, charger in chargers.items()
                        ],
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(step_id="unlink_charger", data_schema=schema)

    @staticmethod
    def _charger_mandatory(runtime: EvFlexRuntimeData) -> bool:
        """Whether smart charging stops without this charger (seed 003, scenario A)."""
        coordinator = runtime.coordinator
        return len(coordinator.data.chargers) == 1 and any(
            not system.own_capabilities.can_start_stop for system in coordinator.systems.values()
        )

    def _unlink_placeholders(self, runtime: EvFlexRuntimeData) -> dict[str, str]:
        coordinator = runtime.coordinator
        charger = coordinator.data.chargers.get(self._unlink_charger_id or "")
        return {
            "charger": charger_name(charger) if charger else "-",
            "vehicles": ", ".join(
                vehicle_name(vehicle) for vehicle in coordinator.data.vehicles.values()
            )
            or "-",
        }

    async def async_step_unlink_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm: the car keeps smart charging, less reliably."""
        return await self._async_unlink("unlink_confirm", user_input)

    async def async_step_unlink_confirm_required(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm: smart charging turns off, the car cannot start or stop by itself."""
        return await self._async_unlink("unlink_confirm_required", user_input)

    async def _async_unlink(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        runtime, enode = loaded
        if user_input is None:
            return self.async_show_form(
                step_id=step_id,
                data_schema=probatio.Schema({}),
                description_placeholders=self._unlink_placeholders(runtime),
            )
        charger_id = self._unlink_charger_id or ""
        client = enode.client
        try:
            charger = await client.get_charger(charger_id)
            # Only the charger side: a vendor account that also holds the car keeps the car.
            await client.disconnect_vendor_type(
                enode.user_id, charger.vendor or "", VendorType.CHARGER
            )
        except EnodeError as err:
            return self.async_abort(
                reason="unlink_failed", description_placeholders={"reason": str(err)}
            )
        runtime.coordinator.async_device_deleted(charger_id)
        await runtime.coordinator.async_refresh()
        return await self.async_step_init()

    async def async_step_charging_location(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The zone the home charger is in; Enode gets it as the charger's Location."""
        errors: dict[str, str] = {}
        if user_input is not None:
            zone_id = user_input[CONF_CHARGING_ZONE]
            if charging_zone(self.hass, zone_id) is None:
                errors[CONF_CHARGING_ZONE] = "zone_not_found"
            else:
                # Saved with the other options; the entry then moves the charger at Enode.
                self._charging_zone = zone_id
                return await self.async_step_init()
        suggested = user_input or {CONF_CHARGING_ZONE: self._charging_zone or DEFAULT_CHARGING_ZONE}
        return self.async_show_form(
            step_id="charging_location",
            data_schema=self.add_suggested_values_to_schema(CHARGING_LOCATION_SCHEMA, suggested),
            errors=errors,
        )

    def async_remove(self) -> None:
        """The flow ended: its link state values are no longer valid."""
        async_forget_links(self.hass, self.flow_id)
