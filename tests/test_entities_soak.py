"""A simulated day of an "entities I already have" account whose entities come and go: the
entities behind it turn unavailable, commands fail, prices vanish, the user does anything.
Nothing logs an error, states stay valid, and calm brings the car to its target."""

from datetime import datetime, timedelta
import logging
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

from .family_car import FAMILY, link_priced_family_car
from .priced_simulator import (
    PRICE_ENTITY,
    START,
    TZ,
    advance,
    set_prices,
    settle,
)
from .scenario_support import assert_still_sound, call_as_user, maybe_steer, problems

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

STATE = f"sensor.{FAMILY}_smart_charging_state"


async def test_a_day_of_entities_that_come_and_go(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = random.Random(21)
    entry = await link_priced_family_car(hass, PRICE_ENTITY)
    await settle(hass)
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.name == "Family car"
    )
    await call_as_user(
        hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{FAMILY}_smart_charging"}
    )

    end = START + timedelta(days=1)
    with caplog.at_level(logging.WARNING):
        while datetime.now(TZ) < end:
            event = rng.randrange(8)
            if event == 0:
                simulation.set_faults(
                    FaultSettings(
                        command_failure_rate=rng.choice([0.0, 0.5, 1.0]),
                        vehicle_offline=rng.random() < 0.3,
                        charger_offline=rng.random() < 0.2,
                        account_unreachable=rng.random() < 0.2,
                    )
                )
            elif event == 1:
                if rng.random() < 0.5:
                    simulation.unplug()
                else:
                    simulation.plug_in()
            elif event == 2:
                if rng.random() < 0.3:
                    hass.states.async_remove(PRICE_ENTITY)
                else:
                    set_prices(hass, today=datetime.now(TZ))
            await maybe_steer(hass, rng, FAMILY, device.id)
            await settle(hass)
            await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=rng.randrange(5, 30)))
            assert_still_sound(hass, entry, FAMILY)

    # An account that cannot be reached is said once per outage; anything else is a problem.
    found = problems(caplog.records, outages_expected=True)
    assert not found, found
    # Entities that come and go are normal: they are not worth a warning each time.
    warnings = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.ev_flex") and r.levelno == logging.WARNING
    ]
    assert len(warnings) <= 3, [r.getMessage() for r in warnings]

    simulation.set_faults(FaultSettings())
    simulation.plug_in()
    simulation.set_soc(30.0)
    set_prices(hass, today=datetime.now(TZ))
    await call_as_user(
        hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{FAMILY}_smart_charging"}
    )
    await call_as_user(hass, DOMAIN, "cancel_override", {"device_id": device.id})
    departure = datetime.now(TZ) + timedelta(hours=12)
    await call_as_user(
        hass,
        DOMAIN,
        "set_departure",
        {"device_id": device.id, "departure": departure, "target_soc": 80},
    )
    await advance(hass, freezer, departure)
    level = simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5
