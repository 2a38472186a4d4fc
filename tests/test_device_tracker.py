"""The vehicle's location."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
def platforms() -> list[Platform]:
    """The device tracker platform only."""
    return [Platform.DEVICE_TRACKER]


async def test_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The tracker with its registry entry and state."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


async def test_reports_coordinates(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The simulated car is parked at the Home Assistant home, so it is home."""
    state = hass.states.get("device_tracker.ev_flex_simulator_sedan_75_kwh_location")
    assert state.attributes["latitude"] == pytest.approx(hass.config.latitude)
    assert state.attributes["longitude"] == pytest.approx(hass.config.longitude)
    assert state.state == "home"
