"""The "entities I already have" account kind.

The entities it reads and commands are real: those of a simulated EV Flex account, so every
command goes through Home Assistant actions to a real switch and number.
"""

from dataclasses import replace
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_NAME,
    SERVICE_TURN_OFF,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_load_integrations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_flex.const import (
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_CURRENT_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    DOMAIN,
)
from custom_components.ev_flex.core.account import CommandRejectedError
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import Simulation

from .family_car import FAMILY, SELECTION, SIM, WALLBOX, link_family_car, start_entities_flow


@pytest.fixture
async def entities_entry(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> ConfigEntry:
    """An entities account linked through the config flow, set up."""
    return await link_family_car(hass)


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({CONF_SOC_ENTITY: "binary_sensor.x"}, CONF_SOC_ENTITY, "wrong_domain"),
        ({CONF_SOC_ENTITY: "sensor.nothing_here"}, CONF_SOC_ENTITY, "entity_not_found"),
        ({CONF_SOC_ENTITY: f"sensor.{SIM}_range"}, CONF_SOC_ENTITY, "soc_not_percent"),
        (
            {CONF_VEHICLE_POWER_ENTITY: f"sensor.{SIM}_range"},
            CONF_VEHICLE_POWER_ENTITY,
            "not_power",
        ),
        (
            {CONF_CHARGER_SWITCH_ENTITY: f"number.{WALLBOX}_maximum_current"},
            CONF_CHARGER_SWITCH_ENTITY,
            "wrong_domain",
        ),
        ({CONF_BATTERY_CAPACITY: 2}, CONF_BATTERY_CAPACITY, "invalid_capacity"),
        (
            {CONF_SUPPORTS_DISCHARGE: True, CONF_CHARGER_CURRENT_ENTITY: None},
            CONF_SUPPORTS_DISCHARGE,
            "discharge_needs_current",
        ),
        ({CONF_NAME: "--"}, CONF_NAME, "name_required"),
    ],
)
async def test_flow_errors_recover(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    change: dict[str, object],
    field: str,
    error: str,
) -> None:
    """Each bad choice gets a translated error on its field; fixing it finishes the flow."""
    flow_id = await start_entities_flow(hass)
    bad = {key: value for key, value in (SELECTION | change).items() if value is not None}
    result = await hass.config_entries.flow.async_configure(flow_id, bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}

    result = await hass.config_entries.flow.async_configure(flow_id, SELECTION)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BATTERY_CAPACITY] == 75.0


async def test_same_vehicle_twice_aborts(
    hass: HomeAssistant, entities_entry: MockConfigEntry
) -> None:
    flow_id = await start_entities_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, SELECTION)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_mirrors_the_entities(hass: HomeAssistant, entities_entry: MockConfigEntry) -> None:
    """The new devices show what the chosen entities show."""
    assert float(hass.states.get(f"sensor.{FAMILY}_battery_level").state) == pytest.approx(40.0)
    assert float(hass.states.get(f"sensor.{FAMILY}_charge_rate").state) == pytest.approx(11.0)
    assert hass.states.get(f"binary_sensor.{FAMILY}_plugged_in").state == STATE_ON
    assert float(hass.states.get(f"sensor.{FAMILY}_battery_capacity").state) == 75.0
    assert hass.states.get(f"device_tracker.{FAMILY}_location").state == "home"
    assert hass.states.get(f"switch.{FAMILY}_charger_charging").state == STATE_ON
    assert float(hass.states.get(f"number.{FAMILY}_charger_maximum_current").state) == 16.0


async def test_follows_changes_without_polling(
    hass: HomeAssistant,
    entities_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A change of a chosen entity shows at once; no timer is needed for it."""
    simulation.unplug()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)  # the simulated account polls; the entities account follows
    await hass.async_block_till_done()
    assert hass.states.get(f"binary_sensor.{FAMILY}_plugged_in").state == STATE_OFF
    assert float(hass.states.get(f"sensor.{FAMILY}_charge_rate").state) == 0.0

    hass.states.async_set(f"sensor.{SIM}_battery_level", "unknown", {"unit_of_measurement": "%"})
    await hass.async_block_till_done()
    assert hass.states.get(f"sensor.{FAMILY}_battery_level").state == STATE_UNKNOWN

    hass.states.async_set(f"sensor.{SIM}_battery_level", STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert hass.states.get(f"sensor.{FAMILY}_battery_level").state == STATE_UNAVAILABLE


async def test_commands_go_through_the_chosen_entities(
    hass: HomeAssistant,
    entities_entry: MockConfigEntry,
    simulation: Simulation,
) -> None:
    """Stopping through the new switch turns the chosen switch off, which stops the charger."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: f"switch.{FAMILY}_charger_charging"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get(f"switch.{WALLBOX}_charging").state == STATE_OFF
    assert simulation.charger_state().charge_rate_kw == 0.0

    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{FAMILY}_charger_maximum_current", "value": 8},
        blocking=True,
    )
    assert simulation.charger_state().max_current_a == 8


async def test_commands_it_cannot_carry_out(
    hass: HomeAssistant, entities_entry: MockConfigEntry
) -> None:
    """The account says clearly what it cannot do."""
    account = entities_entry.runtime_data.account
    with pytest.raises(Exception, match="controlled through its charger"):
        await account.async_send_command(account.vehicle_id, CommandKind.START)
    with pytest.raises(Exception, match="can discharge"):
        await account.async_send_command(account.charger_id, CommandKind.DISCHARGE, 5)
    with pytest.raises(Exception, match="no pending command"):
        await account.async_command_status("entities-1")


@pytest.mark.parametrize(
    ("language", "error"),
    [
        (
            "en",
            "the entity's action failed: The vehicle or charger account could not be reached: "
            "simulator-garage-charger is offline",
        ),
        (
            "de",
            "die Aktion der Entität ist fehlgeschlagen: Das Konto des Fahrzeugs oder der Wallbox "
            "war nicht erreichbar: simulator-garage-charger ist offline",
        ),
    ],
)
async def test_failing_switch_gives_translated_error(
    hass: HomeAssistant,
    entities_entry: MockConfigEntry,
    simulation: Simulation,
    language: str,
    error: str,
) -> None:
    """When the chosen switch's own action fails, the user sees a translated error, with the
    switch's own words in the server's language."""
    from custom_components.ev_flex.core.simulator import FaultSettings

    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    simulation.set_faults(FaultSettings(charger_offline=True))
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: f"switch.{FAMILY}_charger_charging"},
            blocking=True,
        )
    assert raised.value.translation_key == "account_unreachable"
    assert raised.value.translation_placeholders == {"error": error}


async def test_odd_states_read_as_unknown(
    hass: HomeAssistant, entities_entry: MockConfigEntry
) -> None:
    """A non-numeric reading or a tracker without coordinates leaves values unknown."""
    hass.states.async_set(f"sensor.{SIM}_battery_level", "eleven", {"unit_of_measurement": "%"})
    hass.states.async_set(f"device_tracker.{SIM}_location", "home", {})
    await hass.async_block_till_done()
    assert hass.states.get(f"sensor.{FAMILY}_battery_level").state == STATE_UNKNOWN
    assert hass.states.get(f"device_tracker.{FAMILY}_location").state == STATE_UNKNOWN


async def test_discharge_uses_negative_current(
    hass: HomeAssistant, entities_entry: MockConfigEntry
) -> None:
    """Discharging asks the current entity for a negative current; a refusal is reported."""
    account = entities_entry.runtime_data.account
    account.selection = replace(account.selection, supports_discharge=True)
    with pytest.raises(CommandRejectedError, match=r"-14\.5"):
        await account.async_send_command(account.charger_id, CommandKind.DISCHARGE, 10.0)
    account.selection = replace(account.selection, charger_current=None)
    with pytest.raises(CommandRejectedError, match="no current entity"):
        await account.async_send_command(account.charger_id, CommandKind.DISCHARGE, 10.0)


async def test_charger_without_current_entity_has_no_current_number(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Without a current entity the charger can only be switched: no maximum-current number."""
    flow_id = await start_entities_flow(hass)
    selection = {k: v for k, v in SELECTION.items() if k != CONF_CHARGER_CURRENT_ENTITY}
    result = await hass.config_entries.flow.async_configure(flow_id, selection)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get(f"switch.{FAMILY}_charger_charging").state == STATE_ON
    assert hass.states.get(f"number.{FAMILY}_charger_maximum_current") is None
    # The simulated wallbox behind it keeps its own number.
    assert hass.states.get(f"number.{WALLBOX}_maximum_current") is not None
