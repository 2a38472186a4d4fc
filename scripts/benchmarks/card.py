"""What one update of the EV Flex card costs Home Assistant, and how much it sends.

A simulated sedan priced with today's and tomorrow's quarter-hour prices in a real (test) Home
Assistant. Every step of the car's controller sends each open card the vehicle's plan over the
websocket (`ev_flex/vehicle_plan/subscribe`); this measures building that message in the event
loop, with smart charging off (the plan is worked out for the card each time) and on (the card
reads the plan the car follows), and the size of the message as JSON.
"""

import asyncio
from datetime import datetime, timedelta
import json
import statistics
import time
from zoneinfo import ZoneInfo

from homeassistant import loader
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from custom_components.ev_flex.smart_charging import VehicleSmartCharging
from custom_components.ev_flex.websocket_api import vehicle_plan

RUNS = 50
TZ = ZoneInfo("Europe/Oslo")
PRICE_ENTITY = "sensor.day_ahead_prices"


def _quarters(day: datetime) -> list[dict[str, object]]:
    """A day of quarter-hour prices in the HACS Nord Pool format: cheap nights, dear evenings."""
    midnight = day.replace(hour=0, minute=0)
    slots = []
    for quarter in range(96):
        start = midnight + timedelta(minutes=15 * quarter)
        hour = start.hour
        price = 0.35 if hour < 5 else 1.8 if 17 <= hour < 21 else 0.9
        end = start + timedelta(minutes=15)
        slots.append({"start": start.isoformat(), "end": end.isoformat(), "value": price})
    return slots


async def _set_up(hass: HomeAssistant) -> VehicleSmartCharging:
    await hass.config.async_set_time_zone("Europe/Oslo")
    today = datetime.now(TZ)
    hass.states.async_set(
        PRICE_ENTITY,
        "0.9",
        {
            "unit_of_measurement": "NOK/kWh",
            "unit": "kWh",
            "currency": "NOK",
            "price_in_cents": False,
            "raw_today": _quarters(today),
            "raw_tomorrow": _quarters(today + timedelta(days=1)),
            "tomorrow_valid": True,
        },
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Bench",
        unique_id="simulator-bench",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
            CONF_NAME: "Bench",
            CONF_VEHICLE_PRESET: "sedan",
            CONF_INITIAL_SOC: 40.0,
            CONF_PLUGGED_IN: True,
        },
        options={"price_entity": PRICE_ENTITY},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    (charging,) = entry.runtime_data.smart_charging.values()
    return charging


def _measure(charging: VehicleSmartCharging, label: str) -> None:
    now = datetime.now(TZ)
    durations = []
    for _ in range(RUNS):
        began = time.perf_counter()
        message = vehicle_plan(charging, now)
        durations.append(time.perf_counter() - began)
    assert message["plan"] is not None, message["problem"]
    size = len(json.dumps(message))
    print(
        f"{label}: median {statistics.median(durations) * 1000:.2f} ms of {RUNS} "
        f"(max {max(durations) * 1000:.2f}), {len(message['prices'])} price slots, "
        f"{len(message['plan']['slots'])} plan slots, {size / 1024:.1f} KiB as JSON"
    )


async def main() -> None:
    async with async_test_home_assistant() as hass:
        # Let the loader find custom_components/ in the repository.
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        charging = await _set_up(hass)
        _measure(charging, "smart charging off (plan made for the card)")
        await hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": "switch.ev_flex_simulator_sedan_75_kwh_smart_charging"},
            blocking=True,
        )
        await hass.async_block_till_done()
        _measure(charging, "smart charging on (the plan the car follows)")
        await hass.async_stop(force=True)


if __name__ == "__main__":
    asyncio.run(main())
