"""The simulated account's home: grid and solar meters as sensors, moving with the car."""

from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ev_flex import async_remove_config_entry_device
from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_COMMAND_DELAY,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_SIMULATED_HOME,
    CONF_VEHICLE_PRESET,
    DOMAIN,
    SIMULATOR_UPDATE_INTERVAL,
)
from custom_components.ev_flex.core.account import SimulatedAccount

GRID = "sensor.house_simulated_home_grid_power"
SOLAR = "sensor.house_simulated_home_solar_power"


@pytest.fixture
def server_language() -> str:
    """The server's language when the home is set up."""
    return "en"


@pytest.fixture
async def home_entry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, server_language: str
) -> MockConfigEntry:
    hass.config.language = server_language
    # A sunny June noon in Oslo (Home Assistant's test home is elsewhere: move it).
    hass.config.latitude, hass.config.longitude = 59.91, 10.75
    await hass.config.async_set_time_zone("Europe/Oslo")
    freezer.move_to(datetime(2026, 6, 21, 11, 0, tzinfo=UTC))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="House",
        unique_id="simulator-house",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
            CONF_NAME: "House",
            CONF_VEHICLE_PRESET: "sedan",
            CONF_INITIAL_SOC: 40.0,
            CONF_PLUGGED_IN: False,
            CONF_COMMAND_DELAY: 0.0,
            CONF_SIMULATED_HOME: True,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_home_meters_show_load_solar_and_the_car(
    hass: HomeAssistant, home_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    account = home_entry.runtime_data.account
    assert isinstance(account, SimulatedAccount)
    assert account.home is not None
    now = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    solar = float(hass.states.get(SOLAR).state)
    assert solar == account.home.solar_kw(now)
    assert solar > 1.0
    # Unplugged: the meter shows the house alone.
    grid = float(hass.states.get(GRID).state)
    assert grid == round(account.home.house_load_kw(now) - solar, 3)

    # Plugged in, the car charges at full power and the meter follows at the next update.
    account.simulation.plug_in()
    freezer.tick(SIMULATOR_UPDATE_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    later = now + SIMULATOR_UPDATE_INTERVAL
    car_kw = account.simulation.grid_power_kw()
    assert car_kw > 5
    assert float(hass.states.get(GRID).state) == account.home.grid_kw(later, car_kw)


@pytest.mark.parametrize(
    ("server_language", "name", "model"),
    [
        ("en", "House simulated home", "Simulated home"),
        ("de", "House simuliertes Zuhause", "Simuliertes Zuhause"),
    ],
)
async def test_home_is_a_device_that_cannot_be_removed_while_simulated(
    hass: HomeAssistant, home_entry: MockConfigEntry, name: str, model: str
) -> None:
    """The home is named and described in the server's language."""
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        (DOMAIN, "simulator-house_home"), home_entry.entry_id
    )
    assert device is not None
    assert (device.name, device.model) == (name, model)
    assert not await async_remove_config_entry_device(hass, home_entry, device)


async def test_without_a_home_there_are_no_home_meters(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    assert not [s for s in hass.states.async_entity_ids("sensor") if s.endswith("_grid_power")]
    assert loaded_entry.runtime_data.account.home is None
    assert loaded_entry.runtime_data.account.home_readings(datetime.now(UTC)) is None
