"""Config flow: link a vehicle and a home charger. Options flow: prices and the tariff."""

from dataclasses import replace
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, CONF_NAME, PERCENTAGE
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    EntityWithDeviceFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TimeSelector,
)
from homeassistant.util import dt as dt_util, slugify
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
    CONF_NOTIFY_V2G,
    CONF_OUTAGE_ENTITY,
    CONF_PLUGGED_IN,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from .core.prices import PriceStatus
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
from .entities_account import POWER_UNITS_TO_KW
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


class EvFlexConfigFlow(ConfigFlow, domain=DOMAIN):
    """Link one account: the first step asks which kind."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EvFlexOptionsFlow:
        """Prices and the tariff are options: they change without relinking the account."""
        return EvFlexOptionsFlow()

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
        probatio.Required(CONF_PERIOD_START): TimeSelector(),
        probatio.Required(CONF_PERIOD_END): TimeSelector(),
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


def _describe_period(period: GridFeePeriod) -> str:
    days = (
        "mon-sun"
        if period.weekdays == ALL_WEEKDAYS
        else ", ".join(WEEKDAY_NAMES[day] for day in sorted(period.weekdays))
    )
    stored = period.to_dict()
    text = f"- {period.name}: {days} {stored['start']}-{stored['end']}, {period.per_kwh:g}/kWh"
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


class EvFlexOptionsFlow(OptionsFlowWithReload):
    """Choose the price entity and describe the tariff; every change is checked before saving.

    The main menu leads to one form per part (price entity, import tariff, grid-fee periods,
    export price) and to "save". Each part is validated when its form is sent, so only a
    consistent tariff is ever stored. Step descriptions preview the resulting current prices.
    """

    def __init__(self) -> None:
        """Start from the stored options (loaded when the flow opens)."""
        self._loaded = False
        self._price_entity: str | None = None
        self._tariff = Tariff()
        self._import_read: EntityRead | None = None
        self._export_read: EntityRead | None = None
        self._smart_charging: dict[str, Any] = {}

    async def _async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        options = self.config_entry.options
        self._smart_charging = {
            key: options[key] for key in (CONF_NOTIFY_V2G, CONF_OUTAGE_ENTITY) if key in options
        }
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

    def _placeholders(self, details: str = "") -> dict[str, str]:
        """The preview of the current prices with the tariff as edited so far."""
        import_price = export_price = None
        currency = self.hass.config.currency
        read = self._import_read
        if self._price_entity and read is not None and read.result.series is not None:
            series = read.result.series
            currency = series.currency or currency
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
            "periods": "\n".join(
                _describe_period(period) for period in self._tariff.import_tariff.grid_fees.periods
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
                "save",
            ],
            description_placeholders=self._placeholders(),
        )

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
            CONF_PERIOD_START: "17:00:00",
            CONF_PERIOD_END: "20:00:00",
            CONF_PERIOD_WEEKDAYS: list(WEEKDAY_NAMES),
            CONF_PERIOD_MONTHS: ALL_MONTH_OPTIONS,
        }
        return self.async_show_form(
            step_id="add_period",
            data_schema=self.add_suggested_values_to_schema(ADD_PERIOD_SCHEMA, suggested),
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
        return self.async_create_entry(data=options)
