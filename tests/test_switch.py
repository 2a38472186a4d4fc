"""The charger's charging switch."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_load_integrations
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

SWITCH = "switch.ev_flex_simulator_wallbox_22_kw_charging"


@pytest.fixture
def platforms() -> list[Platform]:
    """The switch platform only."""
    return [Platform.SWITCH]


async def test_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The switch with its registry entry and state."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: SWITCH}, blocking=True)


async def test_stop_and_start(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """Turning the switch off stops the charger; on starts it again."""
    assert hass.states.get(SWITCH).state == STATE_ON
    await _switch(hass, SERVICE_TURN_OFF)
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert simulation.charger_state().charge_rate_kw == 0.0

    await _switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(SWITCH).state == STATE_ON
    assert simulation.charger_state().charge_rate_kw == pytest.approx(11.0)


@pytest.mark.parametrize("command_delay", [20.0])
async def test_command_takes_effect_after_delay(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A command still pending keeps the old state until the charger carries it out."""
    await _switch(hass, SERVICE_TURN_OFF)
    assert hass.states.get(SWITCH).state == STATE_ON

    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF


@pytest.mark.parametrize(
    ("language", "error"),
    [("en", "{charger} is offline"), ("de", "{charger} ist offline")],
)
async def test_offline_charger_raises_translated_error(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    language: str,
    error: str,
) -> None:
    """A command to an offline charger fails with a translated error that says why in the
    server's language, not a traceback."""
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    simulation.set_faults(FaultSettings(charger_offline=True))
    with pytest.raises(HomeAssistantError) as raised:
        await _switch(hass, SERVICE_TURN_OFF)
    assert raised.value.translation_key == "account_unreachable"
    assert raised.value.translation_placeholders == {
        "error": error.format(charger=simulation.charger_id)
    }


@pytest.mark.parametrize(
    ("language", "error"),
    [("en", "the device rejected the command"), ("de", "das Gerät hat den Befehl abgelehnt")],
)
async def test_rejected_command_raises_translated_error(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    language: str,
    error: str,
) -> None:
    """A command the device fails raises command_failed, saying why in the server's
    language."""
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    simulation.set_faults(FaultSettings(command_failure_rate=1.0))
    with pytest.raises(HomeAssistantError) as raised:
        await _switch(hass, SERVICE_TURN_OFF)
    assert raised.value.translation_key == "command_failed"
    assert raised.value.translation_placeholders == {"error": error}
    assert hass.states.get(SWITCH).state == STATE_ON
