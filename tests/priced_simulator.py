"""The simulated account priced by a day-ahead price entity, in Oslo from 18:00 on a Tuesday.

Modules marked `priced_simulator` get it from the `simulator_entry` and `loaded_entry` fixtures
(tests/conftest.py); these are the clock, price and step helpers their tests share.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_flex.const import DOMAIN

TZ_NAME = "Europe/Oslo"
TZ = ZoneInfo(TZ_NAME)
# 18:00 local on a Tuesday; prices are high in the evening and cheapest from 02:00 to 05:00.
START = datetime(2026, 1, 13, 18, 0, tzinfo=TZ)
PRICE_ENTITY = "sensor.day_ahead_prices"
CAR = "ev_flex_simulator_sedan_75_kwh"
WALLBOX = "ev_flex_simulator_wallbox_22_kw"
STATE = f"sensor.{CAR}_smart_charging_state"
VEHICLE_ID = "simulator-garage-vehicle"


def _price(hour: int) -> float:
    if 2 <= hour < 5:
        return 0.05
    if 17 <= hour < 21:
        return 0.60
    return 0.30


def _day(day: datetime) -> list[dict[str, Any]]:
    midnight = day.replace(hour=0, minute=0)
    return [
        {"time": (midnight + timedelta(hours=hour)).isoformat(), "price": _price(hour)}
        for hour in range(24)
    ]


def set_prices(hass: HomeAssistant, *, tomorrow: bool = True, today: datetime = START) -> None:
    """A price sensor with today's and (optionally) tomorrow's hourly prices."""
    today = today.replace(hour=0)
    hass.states.async_set(
        PRICE_ENTITY,
        "0.6",
        {
            "unit_of_measurement": "EUR/kWh",
            "prices_today": _day(today),
            "prices_tomorrow": _day(today + timedelta(days=1)) if tomorrow else [],
        },
    )


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set an entry up in Oslo, with prices for today and tomorrow."""
    await hass.config.async_set_time_zone(TZ_NAME)
    set_prices(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)


async def settle(hass: HomeAssistant) -> None:
    """Let steps and the commands they send finish."""
    for _ in range(3):
        await hass.async_block_till_done(wait_background_tasks=True)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime) -> None:
    """Move the clock in 5-minute steps, firing timers and account polls on the way."""
    while (now := datetime.now(TZ)) < until:
        freezer.tick(min(timedelta(minutes=5), until - now))
        async_fire_time_changed(hass)
        await settle(hass)


async def turn_on_smart_charging(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Turn smart charging on and let a short power probe (at most 5 minutes) pass, if any."""
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=6))


def vehicle_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The device id of the entry's simulated car."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    return device.id


def controller_store_key(entry: MockConfigEntry) -> str:
    """Where the car's controller keeps its state."""
    return f"{DOMAIN}.controller.{entry.entry_id}.{VEHICLE_ID}"


def store_controller(
    hass_storage: dict[str, Any], entry: MockConfigEntry, data: dict[str, Any]
) -> None:
    """What a previous run of the vehicle's controller left in storage."""
    key = controller_store_key(entry)
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": data}
