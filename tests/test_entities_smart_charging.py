"""Smart charging of an "entities I already have" account: EV Flex plans and drives the charger
switch of another integration (here: a simulated account's entities) through HA actions."""

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.core.simulator import Simulation

from .family_car import FAMILY, WALLBOX, link_priced_family_car
from .priced_simulator import (
    PRICE_ENTITY,
    START,
    TZ,
    advance,
    settle,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

STATE = f"sensor.{FAMILY}_smart_charging_state"


async def test_the_chosen_charger_switch_follows_the_plan(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    await link_priced_family_car(hass, PRICE_ENTITY)
    await settle(hass)
    assert hass.states.get(STATE).state == "disabled"

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{FAMILY}_smart_charging"}, blocking=True
    )
    await advance(hass, freezer, START + timedelta(minutes=10))
    # The evening is dear: EV Flex switched the other integration's charger switch off.
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert hass.states.get(f"switch.{WALLBOX}_charging").state == STATE_OFF
    assert not simulation.charger_state().is_charging
    next_start = datetime.fromisoformat(
        hass.states.get(f"sensor.{FAMILY}_next_charging_start").state
    )
    assert 2 <= next_start.astimezone(TZ).hour < 5

    await advance(hass, freezer, next_start.astimezone(TZ) + timedelta(minutes=10))
    assert hass.states.get(f"switch.{WALLBOX}_charging").state == STATE_ON
    assert simulation.charger_state().is_charging

    await advance(hass, freezer, START.replace(hour=7) + timedelta(days=1))
    level = simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5
