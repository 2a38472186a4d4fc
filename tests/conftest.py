"""Fixtures shared by the Home Assistant tests."""

from collections.abc import Generator
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_COMMAND_DELAY,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from custom_components.ev_flex.core.simulator import Simulation


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load EV Flex from custom_components."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (ids and timestamps left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable entities that are disabled by default, so they show in snapshots."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def vehicle_preset() -> str:
    """Which simulated car the entry uses."""
    return "sedan"


@pytest.fixture
def command_delay() -> float:
    """Seconds before a simulated command takes effect."""
    return 0.0


@pytest.fixture
def simulator_entry(vehicle_preset: str, command_delay: float) -> MockConfigEntry:
    """A config entry for a simulated vehicle and charger."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id="simulator-garage",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
            CONF_NAME: "Garage",
            CONF_VEHICLE_PRESET: vehicle_preset,
            CONF_INITIAL_SOC: 40.0,
            CONF_PLUGGED_IN: True,
            CONF_COMMAND_DELAY: command_delay,
        },
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> MockConfigEntry:
    """The simulated account, set up."""
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    return simulator_entry


@pytest.fixture
def simulation(loaded_entry: MockConfigEntry) -> Simulation:
    """The simulation behind the loaded entry, to plug, unplug and inject faults."""
    return loaded_entry.runtime_data.account.simulation  # type: ignore[no-any-return]
