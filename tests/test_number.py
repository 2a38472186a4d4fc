"""The charger's maximum current."""

from homeassistant.components.number import ATTR_VALUE, DOMAIN as NUMBER_DOMAIN, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.core.simulator import Simulation

NUMBER = "number.ev_flex_simulator_wallbox_22_kw_maximum_current"


@pytest.fixture
def platforms() -> list[Platform]:
    """The number platform only."""
    return [Platform.NUMBER]


async def test_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The number with its registry entry and state."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


async def test_set_current_changes_power(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """Lowering the current to 10 A on three phases limits charging to 6.9 kW."""
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER, ATTR_VALUE: 10}, blocking=True
    )
    assert float(hass.states.get(NUMBER).state) == 10.0
    assert simulation.charger_state().charge_rate_kw == pytest.approx(6.9)


async def test_out_of_range_is_refused(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """A value outside the charger's range is refused before it reaches the charger."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: NUMBER, ATTR_VALUE: 40},
            blocking=True,
        )
    assert float(hass.states.get(NUMBER).state) == 16.0
