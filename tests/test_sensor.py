"""Vehicle and charger sensors."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

BATTERY = "sensor.ev_flex_simulator_sedan_75_kwh_battery_level"
CHARGE_RATE = "sensor.ev_flex_simulator_sedan_75_kwh_charge_rate"
REMAINING = "sensor.ev_flex_simulator_sedan_75_kwh_charge_time_remaining"
CHARGER_RATE = "sensor.ev_flex_simulator_wallbox_22_kw_charge_rate"


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensor platform only."""
    return [Platform.SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.freeze_time("2026-11-22T06:00:00+00:00")
async def test_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor with its registry entry and state."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


async def _refresh(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float) -> None:
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_battery_rises_while_charging(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An hour at 11 kW and 90 % efficiency adds 9.9 kWh: 13.2 points of a 75 kWh battery."""
    assert float(hass.states.get(BATTERY).state) == pytest.approx(40.0)
    assert float(hass.states.get(CHARGE_RATE).state) == pytest.approx(11.0)
    assert float(hass.states.get(CHARGER_RATE).state) == pytest.approx(11.0)

    for _ in range(120):
        await _refresh(hass, freezer, 0.5)
    assert float(hass.states.get(BATTERY).state) == pytest.approx(53.2, abs=0.05)


async def test_unplugged_values(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unplugged: no charge rate, and the time remaining is unknown rather than zero."""
    simulation.unplug()
    await _refresh(hass, freezer, 1)
    assert float(hass.states.get(CHARGE_RATE).state) == 0.0
    assert hass.states.get(REMAINING).state == STATE_UNKNOWN


async def test_unavailable_and_recovery(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Sensors go unavailable while the account is unreachable and come back after."""
    simulation.set_faults(FaultSettings(account_unreachable=True))
    await _refresh(hass, freezer, 1)
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE
    assert hass.states.get(CHARGER_RATE).state == STATE_UNAVAILABLE

    simulation.set_faults(FaultSettings())
    await _refresh(hass, freezer, 1)
    assert hass.states.get(BATTERY).state != STATE_UNAVAILABLE


async def test_offline_vehicle_only_affects_vehicle(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An offline car makes its own entities unavailable; the charger's stay."""
    simulation.set_faults(FaultSettings(vehicle_offline=True))
    await _refresh(hass, freezer, 1)
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE
    assert hass.states.get(CHARGER_RATE).state != STATE_UNAVAILABLE
