"""Actions: plan charging, set a departure or a weekly schedule, charge now, cancel an override,
discharge."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN, WEEKDAYS
from .core.controller import MAX_DISCHARGE_REQUESTS
from .core.plan_answer import plan_answer
from .core.plan_request import PlanBasis, current_slots, until_departure
from .core.planner import (
    ChargeSettings,
    DischargeSettings,
    Plan,
    PlanRequest,
    PlanValidationError,
    plan,
)
from .core.tariff import Tariff, apply_tariff
from .entity import charging_currency
from .price_source import async_read_price_entity
from .schedule import export_records
from .shown_plan import ShownPlanUnavailableError, async_shown_plan
from .smart_charging import VehicleSmartCharging
from .texts import async_texts, plan_problem_text, price_read_text

ATTR_SOC = "soc"
ATTR_CAPACITY = "capacity_kwh"
ATTR_MAX_POWER = "max_power_kw"
ATTR_TARGET_SOC = "target_soc"
ATTR_DEPARTURE = "departure"
ATTR_PRICE_ENTITY = "price_entity"
ATTR_EFFICIENCY = "charge_efficiency"
ATTR_PROTECTIVE_SOC = "protective_soc"
ATTR_ALLOW_DISCHARGE = "allow_discharge"
ATTR_DISCHARGE_POWER = "discharge_power_kw"
ATTR_RESERVE_SOC = "reserve_soc"
ATTR_POWER = "power_kw"
ATTR_DURATION = "duration"
ATTR_START = "start"
ATTR_END = "end"

EXPLICIT_FIELDS = (ATTR_SOC, ATTR_CAPACITY, ATTR_MAX_POWER, ATTR_TARGET_SOC, ATTR_DEPARTURE)
# The bounds of sensible input; the selectors in services.yaml offer the same.
MAX_CAPACITY_KWH = 250.0
MAX_POWER_KW = 350.0
MAX_DEPARTURE_AHEAD = timedelta(days=31)
MAX_DISCHARGE_DURATION = timedelta(hours=24)
# Sessions are kept two years; a range reaching further back than ten, or a year ahead, is a
# typing error.
MAX_EXPORT_YEARS_BACK = 10
MAX_EXPORT_AHEAD = timedelta(days=366)
PERCENT = probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=100))
POSITIVE = probatio.All(probatio.Coerce(float), probatio.Range(min=0, min_included=False))
CAPACITY = probatio.All(POSITIVE, probatio.Range(max=MAX_CAPACITY_KWH))
# Checked after the schema (`_check_power`), so infinity gets a translated message.
POWER = POSITIVE


def _duration(value: Any) -> timedelta:
    """A positive duration; one too long to represent is as long as can be (refused later)."""
    try:
        return cv.positive_time_period(value)
    except OverflowError:
        return timedelta.max


PLAN_SCHEMA = probatio.Schema(
    {
        probatio.Optional(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_SOC): PERCENT,
        probatio.Optional(ATTR_CAPACITY): CAPACITY,
        probatio.Optional(ATTR_MAX_POWER): POWER,
        probatio.Optional(ATTR_TARGET_SOC): PERCENT,
        probatio.Optional(ATTR_DEPARTURE): cv.datetime,
        probatio.Optional(ATTR_PRICE_ENTITY): cv.entity_id,
        probatio.Optional(ATTR_EFFICIENCY): probatio.All(
            probatio.Coerce(float), probatio.Range(min=0.5, max=1)
        ),
        probatio.Optional(ATTR_PROTECTIVE_SOC): PERCENT,
        probatio.Optional(ATTR_ALLOW_DISCHARGE): cv.boolean,
        probatio.Optional(ATTR_DISCHARGE_POWER): POWER,
        probatio.Optional(ATTR_RESERVE_SOC): PERCENT,
    }
)
DEVICE_SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})
SET_DEPARTURE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        probatio.Required(ATTR_DEPARTURE): cv.datetime,
        probatio.Optional(ATTR_TARGET_SOC): PERCENT,
    }
)
DEPARTURE_SCHEDULE_SCHEMA = DEVICE_SCHEMA.extend(
    {probatio.Optional(day): cv.time for day in WEEKDAYS}
)
EXPORT_SESSIONS_SCHEMA = probatio.Schema(
    {
        probatio.Optional(ATTR_DEVICE_ID): cv.string,
        probatio.Required(ATTR_START): cv.date,
        probatio.Required(ATTR_END): cv.date,
    }
)
DISCHARGE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        probatio.Required(ATTR_POWER): POWER,
        probatio.Required(ATTR_DURATION): _duration,
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _controller(hass: HomeAssistant, device_id: str) -> VehicleSmartCharging:
    """The smart charging of the vehicle a device stands for."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise _invalid("unknown_device", device_id=device_id)
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is not ConfigEntryState.LOADED:
            continue
        controllers: dict[str, VehicleSmartCharging] = entry.runtime_data.smart_charging
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in controllers:
                return controllers[identifier]
    raise _invalid("not_a_vehicle", device_id=device_id)


def _aware(moment: datetime) -> datetime:
    """A datetime without an offset is local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt_util.get_default_time_zone())
    return moment


def _check_departure(departure: datetime, now: datetime) -> datetime:
    departure = _aware(departure)
    ahead = departure - now
    if ahead <= timedelta(0):
        raise _invalid("departure_in_past", departure=departure.isoformat())
    if ahead > MAX_DEPARTURE_AHEAD:
        raise _invalid(
            "departure_too_far",
            departure=departure.isoformat(),
            days=str(MAX_DEPARTURE_AHEAD.days),
        )
    return departure


def _check_power(data: Mapping[str, Any], name: str) -> None:
    """Power within what any home charger and car can do (NaN and infinity are not)."""
    if name in data and not 0 < data[name] <= MAX_POWER_KW:
        raise _invalid("power_out_of_range", field=name, max=f"{MAX_POWER_KW:g}")


async def _explicit_request(
    hass: HomeAssistant, data: dict[str, Any], now: datetime
) -> tuple[PlanRequest, str]:
    """The planner request from the action's values, and the currency of its prices."""
    missing = [name for name in (*EXPLICIT_FIELDS, ATTR_PRICE_ENTITY) if name not in data]
    if missing:
        raise _invalid("missing_fields", fields=", ".join(missing))
    departure = _check_departure(data[ATTR_DEPARTURE], now)
    _check_power(data, ATTR_MAX_POWER)
    _check_power(data, ATTR_DISCHARGE_POWER)
    reserve = data.get(ATTR_RESERVE_SOC, 0.0)
    allow_discharge = data.get(ATTR_ALLOW_DISCHARGE, False)
    if allow_discharge and data[ATTR_TARGET_SOC] < reserve:
        raise _invalid("target_below_reserve", reserve=f"{reserve:g}")
    read = await async_read_price_entity(hass, data[ATTR_PRICE_ENTITY])
    if not read.usable or read.result.series is None:
        reason = price_read_text(await async_texts(hass), read.result)
        raise _invalid("no_prices", entity_id=data[ATTR_PRICE_ENTITY], reason=reason)
    priced = apply_tariff(read.result.series, Tariff(), dt_util.get_default_time_zone())
    if allow_discharge:
        # Without an export tariff, exported energy earns the spot price.
        priced = tuple(replace(slot, export_price=slot.import_price) for slot in priced)
    efficiency = data.get(ATTR_EFFICIENCY, 0.9)
    basis = PlanBasis(
        capacity_kwh=data[ATTR_CAPACITY],
        charge=ChargeSettings(max_kw=data[ATTR_MAX_POWER], efficiency=efficiency),
        discharge=DischargeSettings(
            max_kw=data.get(ATTR_DISCHARGE_POWER, data[ATTR_MAX_POWER]),
            efficiency=efficiency,
            min_soc_pct=reserve,
        )
        if allow_discharge
        else None,
        departure=departure,
        target_soc_pct=data[ATTR_TARGET_SOC],
        protective_soc_pct=data.get(ATTR_PROTECTIVE_SOC, 0.0),
    )
    # The car is away after the departure: nothing is planned then.
    prices = until_departure(current_slots(priced, now), departure)
    currency = read.result.series.currency or hass.config.currency
    return basis.request(now, data[ATTR_SOC], prices), currency


async def _async_device_plan(
    charging: VehicleSmartCharging, now: datetime
) -> tuple[PlanRequest, Plan]:
    """The request and plan the car follows (or would follow now), as the controller makes it;
    one the car does not follow is made in the executor."""
    observation = charging.observation()
    if observation.soc_pct is None or not observation.capacity_kwh:
        raise _invalid("vehicle_data_missing", vehicle=charging.entry.title)
    if not current_slots(charging.price_slots(), now):
        reason = (await async_texts(charging.hass))("price_none_now")
        raise _invalid("no_prices", entity_id=charging.entry.title, reason=reason)
    try:
        planned = await async_shown_plan(charging, now)
    except ShownPlanUnavailableError as err:
        # Not the user's input: a planner fault, or the entry unloading meanwhile.
        texts = await async_texts(charging.hass)
        error = texts("plan_unloaded") if err.unloaded else texts("plan_failed", error=err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_plan_request",
            translation_placeholders={"error": error},
        ) from err
    if planned is None:
        raise _invalid("vehicle_data_missing", vehicle=charging.entry.title)
    return planned


async def _plan_charging(call: ServiceCall) -> ServiceResponse:
    data = dict(call.data)
    now = dt_util.utcnow()
    explicit = [name for name in (*EXPLICIT_FIELDS, ATTR_PRICE_ENTITY) if name in data]
    if (ATTR_DEVICE_ID in data) == bool(explicit):
        raise _invalid("device_or_values")
    try:
        if ATTR_DEVICE_ID in data:
            charging = _controller(call.hass, data[ATTR_DEVICE_ID])
            request, result = await _async_device_plan(charging, now)
            currency = charging_currency(charging)
        else:
            request, currency = await _explicit_request(call.hass, data, now)
            # Up to a few milliseconds over long horizons: off the event loop.
            result = await call.hass.async_add_executor_job(plan, request)
    except PlanValidationError as err:
        error = plan_problem_text(await async_texts(call.hass), err)
        raise _invalid("invalid_plan_request", error=error) from err
    return plan_answer(
        result, replace(request, prices=()), tz=dt_util.get_default_time_zone(), currency=currency
    )


async def _set_departure(call: ServiceCall) -> None:
    charging = _controller(call.hass, call.data[ATTR_DEVICE_ID])
    departure = _check_departure(call.data[ATTR_DEPARTURE], dt_util.utcnow())
    target = call.data.get(ATTR_TARGET_SOC)
    settings = charging.controller.settings
    if target is not None and settings.v2g and target < settings.reserve_soc_pct:
        raise _invalid("target_below_reserve", reserve=f"{settings.reserve_soc_pct:g}")
    charging.controller.set_departure(dt_util.as_utc(departure), target)
    charging.async_run()


async def _set_departure_schedule(call: ServiceCall) -> None:
    """Days given get their own departure, days left out none; no days: back to daily."""
    charging = _controller(call.hass, call.data[ATTR_DEVICE_ID])
    if not any(day in call.data for day in WEEKDAYS):
        charging.controller.set_weekly_departures(None)
    else:
        charging.controller.set_weekly_departures([call.data.get(day) for day in WEEKDAYS])
    charging.async_run()


async def _charge_now(call: ServiceCall) -> None:
    charging = _controller(call.hass, call.data[ATTR_DEVICE_ID])
    charging.controller.charge_now(dt_util.utcnow())
    charging.async_run()


async def _cancel_override(call: ServiceCall) -> None:
    charging = _controller(call.hass, call.data[ATTR_DEVICE_ID])
    charging.controller.cancel_override(dt_util.utcnow())
    charging.async_run()


async def _discharge(call: ServiceCall) -> None:
    charging = _controller(call.hass, call.data[ATTR_DEVICE_ID])
    if charging.observation().max_discharge_kw <= 0:
        raise _invalid("cannot_discharge", vehicle=charging.entry.title)
    _check_power(call.data, ATTR_POWER)
    duration: timedelta = call.data[ATTR_DURATION]
    if duration > MAX_DISCHARGE_DURATION:
        raise _invalid(
            "discharge_too_long", hours=f"{MAX_DISCHARGE_DURATION.total_seconds() / 3600:g}"
        )
    now = dt_util.utcnow()
    if charging.controller.pending_discharge_requests(now) >= MAX_DISCHARGE_REQUESTS:
        raise _invalid("too_many_discharge_requests", max=str(MAX_DISCHARGE_REQUESTS))
    charging.controller.request_discharge(now, call.data[ATTR_POWER], duration)
    charging.async_run()


def _check_export_range(start: date, end: date, today: date) -> None:
    if end < start:
        raise _invalid("export_range_reversed", start=start.isoformat(), end=end.isoformat())
    earliest = today.replace(year=today.year - MAX_EXPORT_YEARS_BACK)
    if start < earliest or end > today + MAX_EXPORT_AHEAD:
        raise _invalid(
            "export_range_absurd",
            start=start.isoformat(),
            end=end.isoformat(),
            years=str(MAX_EXPORT_YEARS_BACK),
        )


async def _export_sessions(call: ServiceCall) -> ServiceResponse:
    """The finished sessions that started between two local dates (both included)."""
    start, end = call.data[ATTR_START], call.data[ATTR_END]
    _check_export_range(start, end, dt_util.now().date())
    tz = dt_util.get_default_time_zone()
    since = datetime.combine(start, time(0), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    chosen = (
        [_controller(call.hass, call.data[ATTR_DEVICE_ID])] if ATTR_DEVICE_ID in call.data else None
    )
    sessions: list[dict[str, Any]] = []
    for entry in call.hass.config_entries.async_loaded_entries(DOMAIN):
        vehicle_ids = None
        if chosen is not None:
            if chosen[0].entry is not entry:
                continue
            vehicle_ids = [chosen[0].vehicle_id]
        currency = call.hass.config.currency
        if (prices := entry.runtime_data.prices) is not None and prices.data is not None:
            currency = prices.data.currency
        sessions.extend(export_records(entry, vehicle_ids, since, until, currency))
    sessions.sort(key=lambda record: str(record["started_at"]))
    return {"start": start.isoformat(), "end": end.isoformat(), "sessions": sessions}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, from async_setup)."""
    hass.services.async_register(
        DOMAIN,
        "plan_charging",
        _plan_charging,
        schema=PLAN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, "set_departure", _set_departure, schema=SET_DEPARTURE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        "set_departure_schedule",
        _set_departure_schedule,
        schema=DEPARTURE_SCHEDULE_SCHEMA,
    )
    hass.services.async_register(DOMAIN, "charge_now", _charge_now, schema=DEVICE_SCHEMA)
    hass.services.async_register(DOMAIN, "cancel_override", _cancel_override, schema=DEVICE_SCHEMA)
    hass.services.async_register(DOMAIN, "discharge", _discharge, schema=DISCHARGE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        "export_sessions",
        _export_sessions,
        schema=EXPORT_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
