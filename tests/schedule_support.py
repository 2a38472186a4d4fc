"""What the departure, reminder and session-history tests share: the simulated car's entry with
options of its own, its device, and a clock that moves in steps."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_flex.const import DOMAIN

VEHICLE_ID = "simulator-garage-vehicle"
CAR = "ev_flex_simulator_sedan_75_kwh"


async def set_up_simulator(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    options: dict[str, Any],
    **data: Any,
) -> MockConfigEntry:
    """The simulated account with these options (and data changed), set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data={**simulator_entry.data, **data},
        options=options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def vehicle_device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The simulated car's device."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    return device.id


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    until: datetime,
    step: timedelta = timedelta(minutes=5),
) -> None:
    """Move the clock in steps, firing timers and account polls on the way."""
    while (now := dt_util.utcnow()) < until:
        freezer.tick(min(step, until - now))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
