"""Options flow: prices and the tariff, smart charging, and for Enode the charger and the charging
location.
"""

from dataclasses import replace
import re
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import split_entity_id
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
    TimeSelector,
    TimeSelectorConfig,
    make_selector_config_schema,
)
from homeassistant.util import dt as dt_util
import probatio

from .const import (
    ACCOUNT_TYPE_ENODE,
    CONF_ACCOUNT_TYPE,
    CONF_CALENDAR,
    CONF_CHARGING_ZONE,
    CONF_DEPARTURES,
    CONF_NOTIFY_V2G,
    CONF_OUTAGE_ENTITY,
    CONF_REMINDER_NOTIFY,
    DEFAULT_CHARGING_ZONE,
)
from .coordinator import EvFlexRuntimeData
from .core.enode import (
    EnodeError,
    LinkFailure,
    VendorType,
)
from .core.prices import PriceStatus, current_price
from .core.site import HouseSensorKind, PeakCounting, SiteError, SiteSettings
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
    async_forget_links,
    async_link_state_valid,
    async_start_link,
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
from .site import (
    CONF_FORECAST_ENTITY,
    CONF_FUSE_A,
    CONF_FUSE_KW,
    CONF_HOUSE_ENTITY,
    CONF_HOUSE_KIND,
    CONF_PEAK_COUNTING,
    CONF_PEAK_PRICE,
    CONF_PHASES,
    CONF_SITE,
    CONF_SOLAR_ENTITY,
    is_solar_forecast,
    site_settings,
)
from .texts import (
    Texts,
    async_texts,
    cached_texts,
    enode_error_text,
    link_failure_placeholders,
    price_read_text,
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


def _tariff_error(
    err: TariffError, fields: dict[str, str], texts: Texts
) -> tuple[dict[str, str], str]:
    """The form error for a tariff validation error, and its detail for the message."""
    last = err.field.rsplit(".", 1)[-1].split("[", 1)[0]
    key = f"tariff_{err.reason}" if err.reason in TARIFF_REASONS else "tariff_invalid"
    facts = err.facts
    if err.reason == "out_of_range":
        key = "tariff_too_low" if "minimum" in facts else "tariff_too_high"
        details = facts.get("minimum") or facts.get("maximum", "")
    elif err.reason == "overlap":
        weekday = texts.option("weekday", facts["weekday"])
        details = f"{facts['other']} ({weekday}, {texts.option('month', facts['month'])})"
    else:
        # Reasons without words of their own only come from stored or hand-made tariffs.
        details = f"{err.field} ({err.reason})"
    return {fields.get(last, "base"): key}, details


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


# Device names come from the vendor: shown plain (no markup), short, and a sensible number.
_MARKUP = re.compile(r"[\\`*_{}\[\]()<>#|!~\r\n]+")
MAX_LISTED_DEVICES = 20
MAX_NAME_LENGTH = 60


def _device_list(names: list[str]) -> str:
    """Names for a form's description, one a line, or NO_VALUE for none."""
    plain = sorted(
        " ".join(_MARKUP.sub(" ", name).split())[:MAX_NAME_LENGTH] or "?" for name in names
    )
    listed = plain[:MAX_LISTED_DEVICES]
    if len(plain) > len(listed):
        listed.append(f"… (+{len(plain) - len(listed)})")
    return "\n".join(f"- {name}" for name in listed) if listed else NO_VALUE


def _describe_period(period: GridFeePeriod, currency: str, texts: Texts) -> str:
    """One line of the periods list, its days and months named in the server's language."""
    days = (
        texts("every_day")
        if period.weekdays == ALL_WEEKDAYS
        else ", ".join(
            texts.option("weekday", WEEKDAY_NAMES[day]) for day in sorted(period.weekdays)
        )
    )
    stored = period.to_dict()
    fee = f"{texts.number(period.per_kwh)} {currency}/kWh"
    text = f"- {period.name}: {days} {stored['start']}-{stored['end']}, {fee}"
    if "months" in stored:
        months = ", ".join(texts.option("month", str(month)) for month in stored["months"])
        text += f" ({months})"
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
CONF_VEHICLE = "vehicle"
# Notify actions that are no target of their own: the entity action, and the two that only
# reach Home Assistant's own notification list.
NOT_NOTIFY_TARGETS = frozenset({"send_message", "persistent_notification"})

# --------------------------------------------------------------------------------------------
# Options: the house (meters, solar forecast, fuse, capacity tariff)

POWER_SENSOR_SELECTOR = EntitySelector(
    EntitySelectorConfig(filter={"domain": "sensor", "device_class": "power"})
)
SITE_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_HOUSE_ENTITY): POWER_SENSOR_SELECTOR,
        probatio.Required(CONF_HOUSE_KIND, default=HouseSensorKind.GRID.value): SelectSelector(
            SelectSelectorConfig(
                options=[kind.value for kind in HouseSensorKind],
                translation_key=CONF_HOUSE_KIND,
                mode=SelectSelectorMode.LIST,
            )
        ),
        probatio.Optional(CONF_SOLAR_ENTITY): POWER_SENSOR_SELECTOR,
        probatio.Optional(CONF_FORECAST_ENTITY): EntitySelector(
            EntitySelectorConfig(filter={"domain": "sensor"})
        ),
        probatio.Optional(CONF_FUSE_A): _number_selector("A"),
        probatio.Required(CONF_PHASES, default="3"): SelectSelector(
            SelectSelectorConfig(options=["1", "3"], mode=SelectSelectorMode.LIST)
        ),
        probatio.Optional(CONF_FUSE_KW): _number_selector("kW"),
        probatio.Optional(CONF_PEAK_PRICE): _number_selector(),
        probatio.Required(
            CONF_PEAK_COUNTING, default=PeakCounting.HIGHEST_HOUR.value
        ): SelectSelector(
            SelectSelectorConfig(
                options=[counting.value for counting in PeakCounting],
                translation_key=CONF_PEAK_COUNTING,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)

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
        self._link_error: LinkFailure | None = None
        self._texts = Texts({})
        # The Enode devices there were before Link opened: the rest are new.
        self._linked_before: set[str] = set()
        self._unlink_charger_id: str | None = None
        self._departures: dict[str, dict[str, str]] = {}
        self._vehicle_id: str | None = None
        self._site = SiteSettings()

    async def _async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._texts = await async_texts(self.hass)
        options = self.config_entry.options
        self._smart_charging = {
            key: options[key] for key in (CONF_NOTIFY_V2G, CONF_OUTAGE_ENTITY) if key in options
        }
        self._charging_zone = options.get(CONF_CHARGING_ZONE)
        departures = options.get(CONF_DEPARTURES)
        self._departures = dict(departures) if isinstance(departures, dict) else {}
        self._site = site_settings(options)
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
            vat_advice = self._texts.option(VAT_ADVICE_KEY, VAT_ADVICE[series.includes_vat])
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
            return (
                NO_VALUE if value is None else f"{self._texts.number(value, '.4f')} {currency}/kWh"
            )

        return {
            "price_entity": self._price_entity or NO_VALUE,
            "price_status": (
                price_read_text(self._texts, read.result)
                if self._price_entity and read
                else NO_VALUE
            ),
            "import_price": show(import_price),
            "export_price": show(export_price),
            "entity_price": show(entity_price),
            "vat_advice": vat_advice,
            "periods": "\n".join(
                _describe_period(period, currency, self._texts)
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
                "site",
                *(["departures"] if self._vehicles() else []),
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
            details = price_read_text(self._texts, read.result) if read is not None else entity_id
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
                errors, details = _tariff_error(err, IMPORT_FIELDS, self._texts)
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
                errors, details = _tariff_error(err, PERIOD_FIELDS, self._texts)
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
                errors, details = _tariff_error(err, EXPORT_FIELDS, self._texts)
            else:
                if exported.entity_id is not None:
                    error, read = await self._async_check_entity(exported.entity_id)
                    if error is not None:
                        errors[CONF_EXPORT_ENTITY] = error
                        details = (
                            price_read_text(self._texts, read.result)
                            if read is not None
                            else exported.entity_id
                        )
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

    def _entity_error(self, entity_id: str | None, domain: str) -> str | None:
        """Why an optional entity of a form can't be used (None: it can, or none is given)."""
        if not entity_id:
            return None
        if split_entity_id(entity_id)[0] != domain:
            return "wrong_domain"
        if self.hass.states.get(entity_id) is None:
            return "entity_not_found"
        return None

    async def async_step_smart_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Announcements of vehicle-to-grid, and the grid-outage sensor for backup power."""
        errors: dict[str, str] = {}
        if user_input is not None:
            outage = user_input.get(CONF_OUTAGE_ENTITY)
            if error := self._entity_error(outage, "binary_sensor"):
                errors[CONF_OUTAGE_ENTITY] = error
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

    async def async_step_site(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The house: its power and solar sensors, the solar forecast, the fuse and the
        capacity tariff. Every field is optional."""
        errors: dict[str, str] = {}
        if user_input is not None:
            candidate = {**user_input, CONF_PHASES: int(user_input[CONF_PHASES])}
            errors = self._site_entity_errors(candidate)
            if not errors:
                try:
                    self._site = SiteSettings.from_dict(candidate)
                except SiteError as err:
                    errors[err.field] = f"site_{err.reason}"
                else:
                    return await self.async_step_init()
        suggested = user_input or {
            **self._site.to_dict(),
            CONF_PHASES: str(self._site.phases),
        }
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, suggested),
            errors=errors,
        )

    def _site_entity_errors(self, candidate: dict[str, Any]) -> dict[str, str]:
        """Form errors for sensors that do not exist or do not measure power."""
        errors: dict[str, str] = {}
        for key in (CONF_HOUSE_ENTITY, CONF_SOLAR_ENTITY, CONF_FORECAST_ENTITY):
            if not (entity_id := candidate.get(key)):
                continue
            state = self.hass.states.get(entity_id)
            if state is None:
                errors[key] = "entity_not_found"
            elif key == CONF_FORECAST_ENTITY:
                if not is_solar_forecast(self.hass, entity_id):
                    errors[key] = "not_a_solar_forecast"
            elif state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in POWER_UNITS_TO_KW:
                errors[key] = "not_power"
        return errors

    # Departures and reminders, per vehicle

    def _vehicles(self) -> dict[str, str]:
        """The loaded entry's vehicles by id, with their names."""
        runtime = self._runtime()
        if runtime is None:
            return {}
        return {
            vehicle_id: charging.display_name
            for vehicle_id, charging in runtime.smart_charging.items()
        }

    async def async_step_departures(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the vehicle (straight on when there is one)."""
        vehicles = self._vehicles()
        if user_input is not None or len(vehicles) == 1:
            chosen = user_input[CONF_VEHICLE] if user_input else next(iter(vehicles))
            self._vehicle_id = chosen
            return await self.async_step_vehicle_departures()
        options = [SelectOptionDict(value=key, label=name) for key, name in vehicles.items()]
        return self.async_show_form(
            step_id="departures",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_VEHICLE): SelectSelector(
                        SelectSelectorConfig(options=options)
                    )
                }
            ),
        )

    async def async_step_vehicle_departures(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The calendar departures are read from, and where plug-in reminders go."""
        vehicle_id = self._vehicle_id or ""
        errors: dict[str, str] = {}
        if user_input is not None:
            if error := self._entity_error(user_input.get(CONF_CALENDAR), "calendar"):
                errors[CONF_CALENDAR] = error
            else:
                chosen = {
                    key: value
                    for key in (CONF_CALENDAR, CONF_REMINDER_NOTIFY)
                    if (value := user_input.get(key))
                }
                self._departures.pop(vehicle_id, None)
                if chosen:
                    self._departures[vehicle_id] = chosen
                return await self.async_step_init()
        suggested = user_input or self._departures.get(vehicle_id, {})
        return self.async_show_form(
            step_id="vehicle_departures",
            data_schema=self.add_suggested_values_to_schema(self._departures_schema(), suggested),
            errors=errors,
            description_placeholders={"vehicle": self._vehicles().get(vehicle_id, vehicle_id)},
        )

    def _departures_schema(self) -> probatio.Schema:
        """A calendar, and a notify entity or legacy notify service to send reminders to."""
        targets = sorted(self.hass.states.async_entity_ids("notify")) + sorted(
            f"notify.{service}"
            for service in self.hass.services.async_services_for_domain("notify")
            if service not in NOT_NOTIFY_TARGETS
        )
        return probatio.Schema(
            {
                probatio.Optional(CONF_CALENDAR): EntitySelector(
                    EntitySelectorConfig(filter={"domain": "calendar"})
                ),
                probatio.Optional(CONF_REMINDER_NOTIFY): SelectSelector(
                    SelectSelectorConfig(
                        options=list(dict.fromkeys(targets)), mode=SelectSelectorMode.DROPDOWN
                    )
                ),
            }
        )

    async def async_step_save(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Store the price entity and the tariff; the entry reloads with them."""
        options: dict[str, Any] = {CONF_TARIFF: self._tariff.to_dict(), **self._smart_charging}
        if self._price_entity:
            options[CONF_PRICE_ENTITY] = self._price_entity
        if self._charging_zone:
            options[CONF_CHARGING_ZONE] = self._charging_zone
        if self._site.configured:
            options[CONF_SITE] = self._site.to_dict()
        if self._departures:
            options[CONF_DEPARTURES] = self._departures
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

    async def async_step_link_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link a (another) charger: what will happen, then Enode Link."""
        return await self._async_before_link(VendorType.CHARGER, user_input)

    async def async_step_link_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link a vehicle account (another car, or sign in again): what will happen, then Link."""
        return await self._async_before_link(VendorType.VEHICLE, user_input)

    async def _async_before_link(
        self, vendor_type: VendorType, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        # Home Assistant's options dialog shows no text with an external step, only "Open
        # website" (the frontend's show-dialog-options-flow renders no header or description
        # for it), so the guidance the config flow gives there comes in a form just before.
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        self._linking = vendor_type
        if user_input is None:
            return self.async_show_form(step_id=f"link_{vendor_type.value}")
        runtime, enode = loaded
        data = runtime.coordinator.data
        self._linked_before = set(data.chargers) | set(data.vehicles)
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
            self._link_error = err
            return await self.async_step_link_failed()
        self._link_url = session.link_url
        return self.async_external_step(step_id="enode_link", url=session.link_url)

    async def async_step_enode_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enode Link, in its own window; Link's redirect comes back as `user_input`."""
        if user_input is not None and async_link_state_valid(self.hass, self.flow_id, user_input):
            self._link_error = link_error(user_input)
            return self.async_external_step_done(next_step_id="linked")
        return self.async_external_step(step_id="enode_link", url=self._link_url)

    async def async_step_linked(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Back from Link: the new devices are there at once, and the form names them."""
        if self._link_error is not None:
            return await self.async_step_link_failed()
        if (loaded := self._enode()) is None:
            return self.async_abort(reason="not_loaded")
        runtime, _ = loaded
        await runtime.coordinator.async_refresh()
        data = runtime.coordinator.data
        texts = cached_texts(self.hass)
        names = (
            {key: charger_name(charger, texts) for key, charger in data.chargers.items()}
            if self._linking is VendorType.CHARGER
            else {key: vehicle_name(vehicle, texts) for key, vehicle in data.vehicles.items()}
        )
        if not runtime.coordinator.last_update_success or not names:
            return await self.async_step_link_failed()
        runtime.interventions.async_vendors_relinked()
        new = [name for key, name in names.items() if key not in self._linked_before]
        known = [name for key, name in names.items() if key in self._linked_before]
        return self.async_show_menu(
            step_id="linked",
            menu_options=[f"link_{(self._linking or VendorType.VEHICLE).value}", "init"],
            description_placeholders={
                "new_devices": _device_list(new),
                "known_devices": _device_list(known),
            },
        )

    async def async_step_link_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link was cancelled, failed or linked nothing: open it again, or back to the menu."""
        vendor_type = self._linking or VendorType.VEHICLE
        failure, self._link_error = self._link_error, None
        texts = await async_texts(self.hass)
        return self.async_show_menu(
            step_id="link_failed",
            menu_options=[f"link_{vendor_type.value}", "init"],
            description_placeholders=link_failure_placeholders(texts, vendor_type, failure),
        )

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
        """Whether smart charging stops without this charger: the car cannot start and stop
        itself, and this is its only charger."""
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
            reason = enode_error_text(await async_texts(self.hass), err)
            return self.async_abort(
                reason="unlink_failed", description_placeholders={"reason": reason}
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
