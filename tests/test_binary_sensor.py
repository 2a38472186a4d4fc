"""Plug and charging binary sensors."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.core.simulator import Simulation

VEHICLE_PLUG = "binary_sensor.ev_flex_simulator_sedan_75_kwh_plugged_in"
VEHICLE_CHARGING = "binary_sensor.ev_flex_simulator_sedan_75_kwh_charging"
CHARGER_PLUG = "binary_sensor.ev_flex_simulator_wallbox_22_kw_plugged_in"
CHARGER_CHARGING = "binary_sensor.ev_flex_simulator_wallbox_22_kw_charging"


@pytest.fixture
def platforms() -> list[Platform]:
    """The binary sensor platform only."""
    return [Platform.BINARY_SENSOR]


async def test_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every binary sensor with its registry entry and state."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


async def test_plug_follows_the_car(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unplugging turns plug and charging off on both devices; plugging in turns them on."""
    for entity_id in (VEHICLE_PLUG, VEHICLE_CHARGING, CHARGER_PLUG, CHARGER_CHARGING):
        assert hass.states.get(entity_id).state == STATE_ON

    simulation.unplug()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    for entity_id in (VEHICLE_PLUG, VEHICLE_CHARGING, CHARGER_PLUG, CHARGER_CHARGING):
        assert hass.states.get(entity_id).state == STATE_OFF

    simulation.plug_in()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(VEHICLE_PLUG).state == STATE_ON
    assert hass.states.get(CHARGER_CHARGING).state == STATE_ON
